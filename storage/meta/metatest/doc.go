// Package metatest is the conformance suite of meta.Store: every backend
// (storage/meta/sqlite, storage/meta/postgres) runs the same checks from its
// own tests, so both keep the same semantics — the errors returned
// (ErrNotFound, ErrConflict, ErrInvalid, wrapped in *meta.Error), list
// orders, cascades on database deletion, behaviour under concurrent writers
// and persistence across a reopen.
//
// Usage, from a backend's _test.go:
//
//	func TestConformance(t *testing.T) {
//		metatest.Run(t, openFresh, metatest.WithReopen(reopenSame))
//	}
package metatest
