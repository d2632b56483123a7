// Package clickhouse is Kodo's ClickHouse backend: the storage behind the
// /v1/ck/* endpoints and the mirror of every metric write into SQL
// tables, over the official driver (github.com/ClickHouse/clickhouse-go/v2)
// and its native protocol, which also works with Debian's ClickHouse 18.16
// (the driver's HTTP mode does not).
//
// A Store is opened from a DSN (clickhouse://host:9000/default). It
// probes the server once (Features): whether LowCardinality(String) can
// be used for tags (on 18.16 only with allow_experimental_low_cardinality_type=1,
// which the Store sends with its DDL; where the type is refused tags fall
// back to String and the logger says so), and which columns DESCRIBE
// TABLE answers (18.16 has no codec_expression or ttl_expression, and
// names the comment comment_expression; TableInfo answers "" for what
// the server lacks).
//
// Metric tables: one per measurement, in the workspace's database.
// Columns are `time` Int64 (nanoseconds), one LowCardinality(String)
// column per tag (empty where a point lacks the tag) and one Nullable column
// per field, typed from the line protocol: Float64, Int64, UInt64, UInt8
// (booleans: 18.16 has no Bool) or String, plus `__series` UInt64, a
// hash of the point's series key. Tables are created on first sight with
// ReplacingMergeTree, ORDER BY (tags at creation..., __series, time) and
// PARTITION BY intDiv(time, 86400000000000) (days since the epoch), and
// extended with ALTER TABLE ... ADD COLUMN. With Options.Cluster every
// DDL runs ON CLUSTER and tables are ReplicatedReplacingMergeTree.
//
// A point written twice (a client's retry, a redelivered message) is one
// row: ReplacingMergeTree collapses rows of one series and time when it
// merges parts, and every read adds FINAL (ReadCommandFinal) so it sees
// one row before that. Tables made by earlier versions (plain MergeTree,
// no __series) are still written and read, without deduplication.
//
// Reads (Read) accept one SELECT, checked by CheckReadCommand before it
// is sent: no other statement, no INTO, no table functions, no table of
// another database. The query then runs with readonly=1 on a connection
// whose default database is the workspace's, under a row limit and a
// time limit (server max_execution_time and a client deadline). Results
// leave out the __series column.
//
// Errors are *Error values whose Kind is ErrNotFound, ErrInvalid,
// ErrUnavailable or ErrTimeout (match with errors.Is); see Error.
//
// The integration tests and the benchmark need a server: start one with
// .ci/clickhouse.sh start and export the KODO_TEST_CLICKHOUSE_DSN it
// prints.
package clickhouse
