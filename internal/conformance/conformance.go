// Package conformance runs the conformance suites that every
// implementation of a backend interface passes (storage/docs/docstest,
// storage/meta/metatest, storage/tsengine/tsenginetest): one subtest per
// case, each on a backend of its own.
package conformance

import "testing"

// Case is one test of a suite over backends of type B.
type Case[B any] struct {
	Name string
	Test func(t *testing.T, b B)
}

// Run runs each case as a subtest on a backend open makes for it (with
// the subtest's t, so cleanups registered there end with it).
func Run[B any](t *testing.T, open func(t *testing.T) B, cases []Case[B]) {
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) { c.Test(t, open(t)) })
	}
}
