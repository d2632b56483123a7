// Package embedded is the default docs.Store: one SQLite file (pure Go
// modernc.org/sqlite, no cgo) under the data directory, with an FTS5
// full-text index. It was chosen over bleve by measurement; see
// storage/docs/README-choice.md.
//
// Layout: table docs holds one row per document (time, name, class,
// source, tags and fields as JSON, content) indexed by (workspace, kind,
// time); docs_fts is a contentless FTS5 table with two columns: content
// (words, case-folded) and kv, where every tag, scalar field and builtin
// equality term "key=value" is one 64-bit hashed token, so equality
// filters use the same inverted index as full text and work on values of
// any bytes.
//
// Durability: WAL with synchronous=FULL, one transaction per Write, so a
// Write that returned survives a crash. A single writer connection;
// searches run on a separate read-only pool. Objects replace the stored
// object of the same class and name; a log line or key event already
// stored (same docs.DocID) is skipped, so retries do not duplicate.
//
// Pipelines (OpenPipelines) keep log pipelines in a small separate SQLite
// file, usable with either document store.
package embedded
