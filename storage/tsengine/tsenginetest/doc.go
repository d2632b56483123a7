// Package tsenginetest is the conformance suite of tsengine.Engine: one
// set of tests that the embedded and the remote engine must both pass, so
// that switching engines changes nothing a caller can observe.
//
// Use it from an engine's tests:
//
//	func TestConformance(t *testing.T) {
//		tsenginetest.Run(t, func(t *testing.T) tsengine.Engine { return open(t) })
//	}
package tsenginetest
