// Package docs defines Kodo's document storage: objects, key events and
// log lines, stored per workspace and kind and searched by time range,
// tag/field equality and full text.
//
// Store is the interface; storage/docs/embedded (SQLite FTS5 under the
// data directory, the default) and storage/docs/elastic (Elasticsearch 7)
// implement it and both pass storage/docs/docstest. Errors wrap
// ErrUnavailable (retry later: HTTP 503) or ErrInvalid (the caller's
// input: HTTP 400).
//
// Both stores give a document the same identity (DocID): an object is
// identified by workspace, class and name, so a newer write replaces it;
// a key event or log line by its time and a hash of its content, so a
// retried batch is stored once. Equality filters compare "key=value"
// terms (Terms, FormatValue); full text matches every word of the query
// (Words) in Content.
package docs
