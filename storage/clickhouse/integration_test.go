package clickhouse

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kodo-project/kodo/lineproto"
)

const dsnEnv = "KODO_TEST_CLICKHOUSE_DSN"

// testServer returns the DSN of the test server, skipping without one.
func testServer(t testing.TB) string {
	dsn := os.Getenv(dsnEnv)
	if dsn == "" {
		t.Skipf("%s is not set; start a server with `.ci/clickhouse.sh start` and export what it prints", dsnEnv)
	}
	return dsn
}

// rawConn is a plain driver connection for test setup and inspection.
func rawConn(t testing.TB, dsn string) driver.Conn {
	opt, err := ch.ParseDSN(dsn)
	require.NoError(t, err)
	conn, err := ch.Open(opt)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	return conn
}

var nonWord = regexp.MustCompile(`[^a-z0-9]+`)

// uniqueDB returns a fresh database name and drops it after the test.
func uniqueDB(t testing.TB, conn driver.Conn) string {
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	name := strings.ToLower(t.Name())
	name = nonWord.ReplaceAllString(name, "_")
	if len(name) > 40 {
		name = name[:40]
	}
	db := "kodo_test_" + name + "_" + hex.EncodeToString(rnd[:])
	t.Cleanup(func() {
		_ = conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+QuoteIdent(db))
	})
	return db
}

type fixture struct {
	s    *Store
	db   string
	conn driver.Conn
}

func newFixture(t testing.TB, opts Options) fixture {
	dsn := testServer(t)
	conn := rawConn(t, dsn)
	db := uniqueDB(t, conn)
	ctx := context.Background()
	s, err := Open(ctx, dsn, opts)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	require.NoError(t, s.CreateDatabase(ctx, db))
	return fixture{s: s, db: db, conn: conn}
}

func batchOf(t testing.TB, body string) *lineproto.Batch {
	var b lineproto.Batch
	require.NoError(t, lineproto.Parse([]byte(body), lineproto.ParseOptions{AllowUnsigned: true}, &b))
	return &b
}

func (f fixture) write(t testing.TB, body string) {
	require.NoError(t, f.s.WritePoints(context.Background(), f.db, batchOf(t, body)))
}

func (f fixture) types(t testing.TB, table string) map[string]string {
	cols, err := f.s.TableInfo(context.Background(), f.db, table)
	require.NoError(t, err)
	out := map[string]string{}
	for _, c := range cols {
		out[c.Name] = c.Type
	}
	return out
}

func (f fixture) tagType() string {
	if f.s.Features().LowCardinality {
		return "LowCardinality(String)"
	}
	return "String"
}

func TestOpenFeatures(t *testing.T) {
	f := newFixture(t, Options{})
	feat := f.s.Features()
	t.Logf("server features: %+v", feat)
	assert.NotEmpty(t, feat.Version)
	assert.Contains(t, feat.DescribeColumns, "name")
	assert.Contains(t, feat.DescribeColumns, "type")
	if strings.HasPrefix(feat.Version, "18.") {
		// What Debian's 18.16 was found to do.
		assert.True(t, feat.LowCardinality)
		assert.True(t, feat.LowCardinalitySetting)
		assert.False(t, feat.CodecExpression)
		assert.False(t, feat.TTLExpression)
		assert.False(t, feat.PartitionLimitSetting)
	}
	require.NoError(t, f.s.Status(context.Background()))
	require.NoError(t, f.s.CreateDatabase(context.Background(), f.db), "idempotent")
}

func TestOpenUnavailable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := Open(ctx, "clickhouse://127.0.0.1:1/default?dial_timeout=1s", Options{})
	require.Error(t, err)
	assert.True(t, errors.Is(err, ErrUnavailable), "%v", err)

	_, err = Open(ctx, "http://[::1", Options{})
	assert.True(t, errors.Is(err, ErrInvalid), "%v", err)
}

func TestWriteColumnTypes(t *testing.T) {
	f := newFixture(t, Options{})
	f.write(t, `cpu,host=a,region=eu f=1.5,i=-3i,u=7u,b=true,s="x y" 1000
cpu,host=b f=2,b=false 2000
`)
	assert.Equal(t, map[string]string{
		"time": "Int64", "__series": "UInt64", "host": f.tagType(), "region": f.tagType(),
		"f": "Nullable(Float64)", "i": "Nullable(Int64)", "u": "Nullable(UInt64)",
		"b": "Nullable(UInt8)", "s": "Nullable(String)",
	}, f.types(t, "cpu"))

	res, err := f.s.Read(context.Background(), f.db, ReadRequest{Command: "SELECT time, host, region, f, i, u, b, s FROM cpu ORDER BY time"})
	require.NoError(t, err)
	require.Len(t, res.Series, 1)
	assert.Equal(t, [][]any{
		{int64(1000), "a", "eu", 1.5, int64(-3), uint64(7), uint8(1), "x y"},
		{int64(2000), "b", "", 2.0, nil, nil, uint8(0), nil},
	}, res.Series[0].Values)
}

func TestWriteAddsColumns(t *testing.T) {
	f := newFixture(t, Options{})
	f.write(t, "mem,host=a used=1i 1\n")
	f.write(t, "mem,host=a,dc=x used=2i,free=3.5 2\nother v=1 3\n")
	assert.Equal(t, map[string]string{"time": "Int64", "__series": "UInt64", "host": f.tagType(), "dc": f.tagType(),
		"used": "Nullable(Int64)", "free": "Nullable(Float64)"}, f.types(t, "mem"))

	// A second Store (another gateway process) learns the schema from
	// the server and extends it further.
	s2, err := Open(context.Background(), testServer(t), Options{})
	require.NoError(t, err)
	defer s2.Close()
	require.NoError(t, s2.WritePoints(context.Background(), f.db, batchOf(t, "mem,rack=r1 used=4i,up=true 4\n")))
	// And the first one copes with the column it did not add itself.
	f.write(t, "mem,rack=r2 used=5i,up=false 5\n")

	res, err := f.s.Read(context.Background(), f.db, ReadRequest{Command: "SELECT time, host, dc, rack, used, free, up FROM mem ORDER BY time"})
	require.NoError(t, err)
	assert.Equal(t, [][]any{
		{int64(1), "a", "", "", int64(1), nil, nil},
		{int64(2), "a", "x", "", int64(2), 3.5, nil},
		{int64(4), "", "", "r1", int64(4), nil, uint8(1)},
		{int64(5), "", "", "r2", int64(5), nil, uint8(0)},
	}, res.Series[0].Values)
}

func TestWriteTypeConflict(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := context.Background()
	f.write(t, "cpu,host=a usage=1.5 1\n")
	tests := []struct {
		name, body, column string
	}{
		{"int into float column", "cpu usage=2i 2\n", "usage"},
		{"string into float column", `cpu usage="x" 2` + "\n", "usage"},
		{"field named like a tag", "cpu host=1 2\n", "host"},
		{"conflict inside the batch", "cpu,host=a v=1i 2\ncpu,host=a v=1 3\n", "v"},
		{"tag named like a field", "cpu,usage=x v=1 2\n", "usage"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A good measurement before the bad one must not be written.
			err := f.s.WritePoints(ctx, f.db, batchOf(t, "good v=1 9\n"+tt.body))
			require.Error(t, err)
			assert.True(t, errors.Is(err, ErrInvalid), "%v", err)
			var e *Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, tt.column, e.Column)
			assert.Equal(t, "cpu", e.Table)
			assert.Contains(t, err.Error(), tt.column)
		})
	}
	var n uint64
	require.NoError(t, f.conn.QueryRow(ctx, "SELECT count() FROM "+qualified(f.db, "cpu")).Scan(&n))
	assert.Equal(t, uint64(1), n)
	_, err := f.s.Read(ctx, f.db, ReadRequest{Table: "good"})
	if err == nil {
		var cnt uint64
		require.NoError(t, f.conn.QueryRow(ctx, "SELECT count() FROM "+qualified(f.db, "good")).Scan(&cnt))
		assert.Zero(t, cnt, "nothing written from a refused batch")
	}
}

func TestWriteOddNames(t *testing.T) {
	f := newFixture(t, Options{})
	f.write(t, "we\\ ird`m,t\\=ag=v\\,1 \"fi`eld\"=1 1\n")
	res, err := f.s.Read(context.Background(), f.db, ReadRequest{Table: "we ird`m"})
	require.NoError(t, err)
	assert.Equal(t, []string{"time", "t=ag", "\"fi`eld\""}, res.Series[0].Columns)
	assert.Equal(t, [][]any{{int64(1), "v,1", 1.0}}, res.Series[0].Values)
}

func TestWriteParenthesesRefused(t *testing.T) {
	f := newFixture(t, Options{})
	err := f.s.WritePoints(context.Background(), f.db, batchOf(t, "cpu usage(%)=1 1\n"))
	assert.True(t, errors.Is(err, ErrInvalid), "%v", err)
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, "usage(%)", e.Column)
}

func TestWriteCreatesDatabase(t *testing.T) {
	f := newFixture(t, Options{})
	db := uniqueDB(t, f.conn)
	require.NoError(t, f.s.WritePoints(context.Background(), db, batchOf(t, "cpu v=1 1\n")))
	tables, err := f.s.Tables(context.Background(), db, "all")
	require.NoError(t, err)
	assert.Equal(t, []Table{{"cpu", "ReplacingMergeTree"}}, tables)
}

func TestWriteAfterExternalDrop(t *testing.T) {
	f := newFixture(t, Options{})
	f.write(t, "cpu v=1 1\n")
	require.NoError(t, f.conn.Exec(context.Background(), "DROP TABLE "+qualified(f.db, "cpu")))
	f.write(t, "cpu v=2 2\n")
	res, err := f.s.Read(context.Background(), f.db, ReadRequest{Table: "cpu"})
	require.NoError(t, err)
	assert.Equal(t, [][]any{{int64(2), 2.0}}, res.Series[0].Values)
}

func TestTablesAndViews(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := context.Background()
	f.write(t, "test,host=a v=1 1\n")
	// On 18.16 a view over LowCardinality columns needs the setting too.
	ddl := f.s.ddlContext(ctx)
	require.NoError(t, f.conn.Exec(ddl, "CREATE VIEW "+qualified(f.db, "test_view")+" AS SELECT host, v FROM "+qualified(f.db, "test")))
	require.NoError(t, f.conn.Exec(ddl, "CREATE MATERIALIZED VIEW "+qualified(f.db, "view_m")+
		" ENGINE = MergeTree ORDER BY time AS SELECT time, v FROM "+qualified(f.db, "test")))
	require.NoError(t, f.conn.Exec(ctx, "CREATE TABLE "+qualified(f.db, "mem")+" (x UInt8) ENGINE = Memory"))

	tests := []struct {
		typ  string
		want []Table
	}{
		{"all", []Table{{"mem", "Memory"}, {"test", "ReplacingMergeTree"}, {"test_view", "View"}, {"view_m", "MaterializedView"}}},
		{"", []Table{{"mem", "Memory"}, {"test", "ReplacingMergeTree"}, {"test_view", "View"}, {"view_m", "MaterializedView"}}},
		{"table", []Table{{"test", "ReplacingMergeTree"}}},
		{"view", []Table{{"test_view", "View"}, {"view_m", "MaterializedView"}}},
	}
	for _, tt := range tests {
		got, err := f.s.Tables(ctx, f.db, tt.typ)
		require.NoError(t, err)
		assert.Equal(t, tt.want, got, "type %q", tt.typ)
	}
	_, err := f.s.Tables(ctx, f.db, "bogus")
	assert.True(t, errors.Is(err, ErrInvalid), "%v", err)
	_, err = f.s.Tables(ctx, f.db+"_missing", "all")
	assert.True(t, errors.Is(err, ErrNotFound), "%v", err)

	got, _ := f.s.Tables(ctx, f.db, "view")
	assert.Equal(t, Result{Series: []Series{{Tags: map[string]string{}, Columns: []string{"tableName", "type"},
		Values: [][]any{{"test_view", "View"}, {"view_m", "MaterializedView"}}}}}, TablesResult(got))
}

func TestTableInfo(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := context.Background()
	f.write(t, "cpu,tag=a v=1 1\n")
	cols, err := f.s.TableInfo(ctx, f.db, "cpu")
	require.NoError(t, err)
	assert.Equal(t, []Column{
		{Name: "time", Type: "Int64"},
		{Name: "__series", Type: "UInt64"},
		{Name: "tag", Type: f.tagType()},
		{Name: "v", Type: "Nullable(Float64)"},
	}, cols)

	// Defaults and comments come through whatever the server calls them.
	require.NoError(t, f.conn.Exec(ctx, "CREATE TABLE "+qualified(f.db, "d")+
		" (a Int64, b Int64 DEFAULT a + 1 COMMENT 'the b') ENGINE = MergeTree ORDER BY a"))
	cols, err = f.s.TableInfo(ctx, f.db, "d")
	require.NoError(t, err)
	require.Len(t, cols, 2)
	assert.Equal(t, Column{Name: "b", Type: "Int64", DefaultType: "DEFAULT", DefaultExpression: "a + 1", Comment: "the b"}, cols[1])
	if f.s.Features().CodecExpression {
		t.Log("server has codec_expression")
	}

	_, err = f.s.TableInfo(ctx, f.db, "nope")
	assert.True(t, errors.Is(err, ErrNotFound), "%v", err)
	_, err = f.s.TableInfo(ctx, f.db+"_nope", "cpu")
	assert.True(t, errors.Is(err, ErrNotFound), "%v", err)
	_, err = f.s.TableInfo(ctx, f.db, "")
	assert.True(t, errors.Is(err, ErrInvalid), "%v", err)
}

func TestReadGroupBy(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := context.Background()
	f.write(t, "cpu,host=a,dc=x usage=1 1\ncpu,host=b,dc=x usage=2 2\ncpu,host=a,dc=y usage=3 3\n")

	res, err := f.s.Read(ctx, f.db, ReadRequest{Table: "cpu", Command: "SELECT time, host, usage FROM cpu ORDER BY time", GroupBy: []string{"host"}})
	require.NoError(t, err)
	assert.Equal(t, []Series{
		{Name: "cpu", Tags: map[string]string{"host": "a"}, Columns: []string{"time", "usage"}, Values: [][]any{{int64(1), 1.0}, {int64(3), 3.0}}},
		{Name: "cpu", Tags: map[string]string{"host": "b"}, Columns: []string{"time", "usage"}, Values: [][]any{{int64(2), 2.0}}},
	}, res.Series)

	res, err = f.s.Read(ctx, f.db, ReadRequest{Command: "SELECT host, dc, sum(usage) AS s FROM cpu GROUP BY host, dc ORDER BY host, dc", GroupBy: []string{"dc", "host"}})
	require.NoError(t, err)
	require.Len(t, res.Series, 3)
	assert.Equal(t, map[string]string{"dc": "x", "host": "a"}, res.Series[0].Tags)
	assert.Equal(t, []string{"s"}, res.Series[0].Columns)

	// The whole table when there is no command; empty result keeps columns.
	res, err = f.s.Read(ctx, f.db, ReadRequest{Table: "cpu"})
	require.NoError(t, err)
	assert.Len(t, res.Series[0].Values, 3)
	res, err = f.s.Read(ctx, f.db, ReadRequest{Command: "SELECT host FROM cpu WHERE usage > 100"})
	require.NoError(t, err)
	assert.Equal(t, []Series{{Tags: map[string]string{}, Columns: []string{"host"}, Values: [][]any{}}}, res.Series)

	_, err = f.s.Read(ctx, f.db, ReadRequest{Command: "SELECT host FROM cpu", GroupBy: []string{"dc"}})
	assert.True(t, errors.Is(err, ErrInvalid), "%v", err)
	_, err = f.s.Read(ctx, f.db, ReadRequest{})
	assert.True(t, errors.Is(err, ErrInvalid), "%v", err)
	_, err = f.s.Read(ctx, f.db, ReadRequest{Command: "SELECT nosuchcolumn FROM cpu"})
	assert.True(t, errors.Is(err, ErrInvalid), "%v", err)
	_, err = f.s.Read(ctx, f.db, ReadRequest{Table: "nosuch"})
	assert.True(t, errors.Is(err, ErrNotFound), "%v", err)
}

func TestReadNonFinite(t *testing.T) {
	f := newFixture(t, Options{})
	res, err := f.s.Read(context.Background(), f.db, ReadRequest{Command: "SELECT nan, inf, -inf, 1/0, NULL, [1, 2], toDate('2020-01-02')"})
	require.NoError(t, err)
	row := res.Series[0].Values[0]
	assert.Equal(t, []any{"NaN", "+Inf", "-Inf", "+Inf", nil, []uint8{1, 2}}, row[:6])
	assert.Equal(t, time.Date(2020, 1, 2, 0, 0, 0, 0, time.UTC), row[6].(time.Time).UTC())
}

func TestReadOnly(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := context.Background()
	f.write(t, "cpu v=1 1\n")
	for _, cmd := range []string{"INSERT INTO cpu (time, v) VALUES (2, 2)", "DROP TABLE cpu", "ALTER TABLE cpu DELETE WHERE 1", "SELECT 1; DROP TABLE cpu"} {
		_, err := f.s.Read(ctx, f.db, ReadRequest{Command: cmd})
		var ce *CommandError
		assert.ErrorAs(t, err, &ce, cmd)
		assert.True(t, errors.Is(err, ErrInvalid), "%v", err)
	}
	// The backstop: the same statements reaching the server are refused
	// by readonly=1 (the check is bypassed here on purpose).
	pool, err := f.s.acquire(f.db)
	require.NoError(t, err)
	defer f.s.release(f.db, pool, false)
	for _, cmd := range []string{"INSERT INTO cpu (time, v) VALUES (2, 2)", "DROP TABLE cpu", "CREATE TABLE x (a UInt8) ENGINE = Memory", "SELECT * FROM numbers(3)", "SET readonly = 0"} {
		_, err := f.s.read(ctx, pool.conn, cmd, ReadRequest{})
		require.Error(t, err, cmd)
		assert.Equal(t, int32(codeReadonly), ServerCode(err), "%s: %v", cmd, err)
		assert.True(t, errors.Is(classify(err, "read", f.db, "", true), ErrInvalid))
	}
	res, err := f.s.Read(ctx, f.db, ReadRequest{Table: "cpu"})
	require.NoError(t, err)
	assert.Len(t, res.Series[0].Values, 1)
}

func TestReadRowLimit(t *testing.T) {
	f := newFixture(t, Options{RowLimit: 5})
	var body strings.Builder
	for i := range 20 {
		fmt.Fprintf(&body, "cpu v=%d %d\n", i, i)
	}
	f.write(t, body.String())
	res, err := f.s.Read(context.Background(), f.db, ReadRequest{Command: "SELECT v FROM cpu ORDER BY time"})
	require.NoError(t, err)
	assert.True(t, res.Truncated)
	assert.Contains(t, res.Message, "row limit of 5")
	assert.Equal(t, [][]any{{0.0}, {1.0}, {2.0}, {3.0}, {4.0}}, res.Series[0].Values)

	res, err = f.s.Read(context.Background(), f.db, ReadRequest{Command: "SELECT v FROM cpu ORDER BY time LIMIT 5"})
	require.NoError(t, err)
	assert.False(t, res.Truncated)
	assert.Empty(t, res.Message)
}

func TestReadTimeout(t *testing.T) {
	f := newFixture(t, Options{QueryTimeout: time.Second})
	ctx := context.Background()
	require.NoError(t, f.conn.Exec(ctx, "CREATE TABLE "+qualified(f.db, "big")+" (t Int64) ENGINE = MergeTree ORDER BY t"))
	require.NoError(t, f.conn.Exec(ctx, "INSERT INTO "+qualified(f.db, "big")+" SELECT number FROM numbers(30000)"))
	start := time.Now()
	// sleep(3) per block of 8192 rows: 12 s unless the limit stops it.
	_, err := f.s.Read(ctx, f.db, ReadRequest{Command: "SELECT sleep(3) FROM big"})
	elapsed := time.Since(start)
	require.Error(t, err)
	// Without the limit the query would succeed after ~12 s: the error
	// itself shows the limit stopped it (no timing assertion: CI is shared).
	assert.True(t, errors.Is(err, ErrTimeout), "%v", err)
	t.Logf("stopped after %v: %v", elapsed, err)

	// The store still works afterwards.
	_, err = f.s.Read(ctx, f.db, ReadRequest{Command: "SELECT count() FROM big"})
	require.NoError(t, err)
}

func TestReadOtherDatabase(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := context.Background()
	other := uniqueDB(t, f.conn)
	require.NoError(t, f.s.WritePoints(ctx, other, batchOf(t, "secret v=42 1\n")))
	f.write(t, "cpu v=1 1\n")

	for _, cmd := range []string{
		"SELECT * FROM " + other + ".secret",
		"SELECT * FROM `" + other + "`.`secret`",
		"SELECT * FROM cpu WHERE v IN " + other + ".secret",
		"SELECT * FROM cpu AS c JOIN " + other + ".secret AS s USING time",
		"SELECT * FROM system.tables",
	} {
		_, err := f.s.Read(ctx, f.db, ReadRequest{Command: cmd})
		var ce *CommandError
		assert.ErrorAs(t, err, &ce, cmd)
	}
	// Unqualified names resolve in the workspace's database, never in
	// the DSN's default one.
	_, err := f.s.Read(ctx, other, ReadRequest{Command: "SELECT * FROM cpu"})
	assert.True(t, errors.Is(err, ErrNotFound), "%v", err)
	res, err := f.s.Read(ctx, other, ReadRequest{Command: "SELECT v, currentDatabase() FROM secret"})
	require.NoError(t, err)
	assert.Equal(t, [][]any{{42.0, other}}, res.Series[0].Values)
	// A database that does not exist.
	_, err = f.s.Read(ctx, f.db+"_missing", ReadRequest{Command: "SELECT 1"})
	assert.True(t, errors.Is(err, ErrNotFound), "%v", err)
}

func TestDropTable(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := context.Background()
	f.write(t, "a v=1 1\nb v=1 1\nc v=1 1\n")
	require.NoError(t, f.conn.Exec(ctx, "CREATE MATERIALIZED VIEW "+qualified(f.db, "mv")+" ENGINE = MergeTree ORDER BY time AS SELECT time FROM "+qualified(f.db, "a")))

	require.NoError(t, f.s.DropTable(ctx, f.db, "b"))
	tables, err := f.s.Tables(ctx, f.db, "all")
	require.NoError(t, err)
	assert.Equal(t, []Table{{"a", "ReplacingMergeTree"}, {"c", "ReplacingMergeTree"}, {"mv", "MaterializedView"}}, tables)

	err = f.s.DropTable(ctx, f.db, "b")
	assert.True(t, errors.Is(err, ErrNotFound), "%v", err)
	err = f.s.DropTable(ctx, f.db+"_missing", "a")
	assert.True(t, errors.Is(err, ErrNotFound), "%v", err)

	// Writing to a dropped table recreates it with the new batch's columns.
	f.write(t, "b w=1i 2\n")
	assert.Equal(t, map[string]string{"time": "Int64", "__series": "UInt64", "w": "Nullable(Int64)"}, f.types(t, "b"))

	require.NoError(t, f.s.DropTable(ctx, f.db, ""))
	tables, err = f.s.Tables(ctx, f.db, "all")
	require.NoError(t, err)
	assert.Empty(t, tables)
	var n uint64
	require.NoError(t, f.conn.QueryRow(ctx, "SELECT count() FROM system.tables WHERE database = "+QuoteString(f.db)).Scan(&n))
	assert.Zero(t, n, "no .inner table left behind")
	f.write(t, "a v=2 2\n")
}

func TestConcurrentWriters(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := context.Background()
	stores := []*Store{f.s}
	for range 3 {
		s, err := Open(ctx, testServer(t), Options{})
		require.NoError(t, err)
		defer s.Close()
		stores = append(stores, s)
	}
	errs := make(chan error, len(stores)*5)
	for i, s := range stores {
		go func() {
			for j := range 5 {
				b := batchOf(t, fmt.Sprintf("cpu,t%d=x f%d=1,common=1 %d\n", j, i, i*10+j))
				errs <- s.WritePoints(ctx, f.db, b)
			}
		}()
	}
	for range len(stores) * 5 {
		require.NoError(t, <-errs)
	}
	var n uint64
	require.NoError(t, f.conn.QueryRow(ctx, "SELECT count() FROM "+qualified(f.db, "cpu")).Scan(&n))
	assert.Equal(t, uint64(20), n)
}

// TestRewritesCountOnce: agents retry, and a redelivered message is
// written again; every read through Read counts each point (series and
// time) once, before and after ClickHouse merges the parts. Series that
// differ only by a tag added after the table was made stay apart.
func TestRewritesCountOnce(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := context.Background()
	body := "cpu,host=a v=1 1000\ncpu,host=b v=2 1000\n"
	for range 4 {
		f.write(t, body)
	}
	f.write(t, "cpu,host=a,dc=x v=3 1000\n") // a new tag: another series
	count := func(cmd string) any {
		t.Helper()
		res, err := f.s.Read(ctx, f.db, ReadRequest{Command: cmd})
		require.NoError(t, err, cmd)
		return res.Series[0].Values[0][0]
	}
	for _, cmd := range []string{
		"SELECT count() FROM cpu",
		"SELECT count() FROM " + QuoteIdent(f.db) + ".cpu AS c WHERE c.v > 0",
		"SELECT count() FROM (SELECT * FROM cpu)",
		"SELECT count() FROM cpu AS a ALL INNER JOIN cpu AS b USING (host, dc, time)",
	} {
		assert.EqualValues(t, 3, count(cmd), cmd)
	}
	res, err := f.s.Read(ctx, f.db, ReadRequest{Table: "cpu"})
	require.NoError(t, err)
	assert.Len(t, res.Series[0].Values, 3)
	assert.NotContains(t, res.Series[0].Columns, seriesColumn, "the series hash is not data")
	require.NoError(t, f.conn.Exec(ctx, "OPTIMIZE TABLE "+qualified(f.db, "cpu")+" FINAL"))
	var raw uint64
	require.NoError(t, f.conn.QueryRow(ctx, "SELECT count() FROM "+qualified(f.db, "cpu")).Scan(&raw))
	assert.EqualValues(t, 3, raw, "merged parts hold one row per series and time")

	// A table made by an earlier Kodo (plain MergeTree, no series hash)
	// is still written and read, without FINAL, which it refuses.
	require.NoError(t, f.conn.Exec(ctx, "CREATE TABLE "+qualified(f.db, "legacy")+
		" (time Int64, host String, v Nullable(Float64)) ENGINE = MergeTree ORDER BY (host, time)"))
	f.write(t, "legacy,host=a v=1 1\n")
	assert.EqualValues(t, 1, count("SELECT count() FROM legacy"))
}
