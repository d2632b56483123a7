// Package meta defines the gateway's metadata model (workspaces and their
// tokens, databases placed on engine instances, key pairs, continuous
// queries, measurement retention, datakit liveness, drops in progress, and
// the Pandora TSDB v4 key pairs, repos, series and views of package tsdb)
// and the Store interface that keeps it.
//
// Implementations: storage/meta/sqlite (embedded, one file) and
// storage/meta/postgres (shared by several gateway replicas). Both pass the
// conformance suite in storage/meta/metatest. Failures are *Error values
// wrapping ErrNotFound, ErrConflict or ErrInvalid, so handlers map them to
// HTTP statuses with errors.Is.
package meta
