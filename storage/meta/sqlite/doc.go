// Package sqlite is the embedded meta.Store: one SQLite file (pure Go
// driver modernc.org/sqlite, no cgo) holding workspaces, tokens, databases,
// key pairs, continuous queries and the other gateway metadata.
//
// Durability and concurrency choices:
//   - WAL journal with synchronous=FULL: once a method returns, the record
//     survives a SIGKILL or power loss.
//   - One write connection: SQLite has a single writer, so goroutines queue
//     in database/sql instead of failing with SQLITE_BUSY; write
//     transactions begin IMMEDIATE. busy_timeout covers another process
//     holding the file.
//   - A pool of query-only connections serves reads in parallel with the
//     writer; the lookups on the request path (WorkspaceByToken, ...) are
//     prepared once at Open.
//   - The schema is migrated at Open from the embedded migrations/*.sql in
//     one transaction, recorded in schema_migrations.
package sqlite
