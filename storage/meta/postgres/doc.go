// Package postgres is the meta.Store for deployments with several gateway
// replicas: they share one PostgreSQL database as the single truth about
// workspaces, tokens, databases, key pairs and continuous queries.
//
// It uses a pgx/v5 connection pool; pgx prepares and caches each statement
// per connection, so the request-path lookups (WorkspaceByToken, ...) run
// as prepared statements. Unique violations become meta.ErrConflict and
// foreign-key violations meta.ErrNotFound (the parent record is missing).
// Batch upserts write rows in sorted key order so concurrent replicas
// cannot deadlock on them.
//
// The schema is migrated at Open from the embedded migrations/*.sql inside
// one transaction holding a transaction-level advisory lock, so replicas
// that start together apply each migration exactly once. Tables go into
// the first schema of the connection's search_path.
//
// The tests run the metatest conformance suite when KODO_TEST_POSTGRES_DSN
// names a server (see .ci/postgres.sh); each test gets its own schema,
// dropped afterwards.
package postgres
