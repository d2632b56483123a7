// Package embedded is the default docs.Store: one SQLite file (pure Go
// modernc.org/sqlite, no cgo) under the data directory, with an FTS5
// full-text index. It was chosen over bleve by measurement; see
// storage/docs/README-choice.md (also for the write-path tuning figures).
//
// Layout: table docs holds one row per document (time, name, class,
// source, tags and fields as JSON, content) indexed by (workspace, kind,
// time) and by its docs.DocID (unique). docs_fts is a contentless FTS5
// table (detail=none: rowids only) with one column whose text the store
// builds: the words of the content as docs.Words splits them, and one
// 64-bit hashed token per tag, scalar field and builtin equality term
// "key=value", so equality filters use the same inverted index as full
// text and work on values of any bytes. Open migrates an older layout by
// rebuilding the index (PRAGMA user_version tells the layout).
//
// Durability: WAL with synchronous=FULL, so every commit fsyncs the WAL
// and a Write that returned survives a crash or power loss. One
// committer goroutine owns the single writer connection: Write encodes
// its documents on the caller's goroutine(s), queues them, and the
// committer writes all queued batches in one transaction (group commit),
// answering each caller only after that transaction's commit. Searches
// run on a separate read-only pool. Objects replace the stored object of
// the same class and name; a log line or key event already stored (same
// docs.DocID) is skipped, so retries do not duplicate.
//
// Pipelines (OpenPipelines) keep log pipelines in a small separate SQLite
// file, usable with either document store.
package embedded
