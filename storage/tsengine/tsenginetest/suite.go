package tsenginetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/influxdata/influxql"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	kql "github.com/kodo-project/kodo/influxql"
	"github.com/kodo-project/kodo/internal/conformance"
	"github.com/kodo-project/kodo/lineproto"
	"github.com/kodo-project/kodo/storage/tsengine"
)

// Run checks that the engines returned by newEngine behave as
// tsengine.Engine promises. newEngine is called once per subtest with that
// subtest's t (register cleanups on it); engines may share a backend, since
// every subtest works in databases of its own.
func Run(t *testing.T, newEngine func(t *testing.T) tsengine.Engine) {
	conformance.Run(t, newEngine, []conformance.Case[tsengine.Engine]{
		{Name: "CreateDatabase", Test: testCreateDatabase},
		{Name: "CreateDatabaseInvalid", Test: testCreateDatabaseInvalid},
		{Name: "WriteReadPrecisions", Test: testWriteReadPrecisions},
		{Name: "ValueTypes", Test: testValueTypes},
		{Name: "WriteNamedRP", Test: testWriteNamedRP},
		{Name: "GroupByTimeFill", Test: testGroupByTimeFill},
		{Name: "ShowStatements", Test: testShowStatements},
		{Name: "DropMeasurement", Test: testDropMeasurement},
		{Name: "DropDatabase", Test: testDropDatabase},
		{Name: "UnknownDatabase", Test: testUnknownDatabase},
		{Name: "PartialWriteRetention", Test: testPartialWriteRetention},
		{Name: "FieldTypeConflict", Test: testFieldTypeConflict},
		{Name: "FieldTypeAcrossShards", Test: testFieldTypeAcrossShards},
		{Name: "QueryContext", Test: testQueryContext},
		{Name: "ConcurrentWriters", Test: testConcurrentWriters},
		{Name: "ContinuousQuery", Test: testContinuousQuery},
		{Name: "Ping", Test: testPing},
	})
}

// DBName returns a database name no other run uses, so suites against a
// shared InfluxDB do not collide.
func DBName(t testing.TB) string {
	var b [6]byte
	_, err := rand.Read(b[:])
	require.NoError(t, err)
	return "kodo_test_" + hex.EncodeToString(b[:])
}

// newDB creates a unique database and drops it when the test ends.
func newDB(t *testing.T, e tsengine.Engine, rps ...tsengine.RetentionPolicy) string {
	t.Helper()
	db := DBName(t)
	require.NoError(t, e.CreateDatabase(context.Background(), db, rps))
	t.Cleanup(func() { _ = e.DropDatabase(context.Background(), db) })
	return db
}

// pt is a point for AddPoint.
type pt struct {
	m      string
	tags   map[string]string
	fields map[string]any
	t      time.Time
}

func batch(t *testing.T, pts ...pt) *lineproto.Batch {
	t.Helper()
	var b lineproto.Batch
	for _, p := range pts {
		require.NoError(t, b.AddPoint(p.m, p.tags, p.fields, p.t))
	}
	return &b
}

func write(t *testing.T, e tsengine.Engine, db, rp string, pts ...pt) {
	t.Helper()
	require.NoError(t, e.WritePoints(context.Background(), db, rp, batch(t, pts...)))
}

func parse(t testing.TB, q string) *influxql.Query {
	t.Helper()
	pq, err := kql.Parse(q)
	require.NoError(t, err, q)
	return pq
}

// query runs q and requires every statement to succeed.
func query(t *testing.T, e tsengine.Engine, db, q, epoch string) []tsengine.Result {
	t.Helper()
	res, err := e.Query(context.Background(), db, parse(t, q), tsengine.QueryOptions{Epoch: epoch})
	require.NoError(t, err, q)
	for _, r := range res {
		require.Empty(t, r.Err, q)
	}
	return res
}

// one runs a single statement and returns its series.
func one(t *testing.T, e tsengine.Engine, db, q, epoch string) []tsengine.Row {
	t.Helper()
	res := query(t, e, db, q, epoch)
	require.Len(t, res, 1, q)
	return res[0].Series
}

func num(s string) json.Number { return json.Number(s) }

// column returns the values of column name in row, in order.
func column(t *testing.T, row tsengine.Row, name string) []any {
	t.Helper()
	idx := -1
	for i, c := range row.Columns {
		if c == name {
			idx = i
		}
	}
	require.GreaterOrEqual(t, idx, 0, "column %q not in %v", name, row.Columns)
	out := make([]any, len(row.Values))
	for i, v := range row.Values {
		out[i] = v[idx]
	}
	return out
}

func testCreateDatabase(t *testing.T, e tsengine.Engine) {
	ctx := context.Background()
	rps := []tsengine.RetentionPolicy{
		{Name: "short", Duration: 2 * time.Hour},
		{Name: "week", Duration: 7 * 24 * time.Hour, Default: true},
		{Name: "forever", Duration: 0},
	}
	db := newDB(t, e, rps...)
	// Idempotent: the same call again changes nothing and does not fail.
	require.NoError(t, e.CreateDatabase(ctx, db, rps))

	show := func() map[string][]any {
		rows := one(t, e, db, fmt.Sprintf("SHOW RETENTION POLICIES ON %q", db), "")
		require.Len(t, rows, 1)
		out := map[string][]any{}
		for _, v := range rows[0].Values {
			out[v[0].(string)] = v[1:]
		}
		return out
	}
	got := show()
	// columns: name, duration, shardGroupDuration, replicaN, default
	assert.Equal(t, []any{"2h0m0s", "1h0m0s", num("1"), false}, got["short"])
	assert.Equal(t, []any{"168h0m0s", "24h0m0s", num("1"), true}, got["week"])
	assert.Equal(t, []any{"0s", "168h0m0s", num("1"), false}, got["forever"])
	assert.Equal(t, []any{"0s", "168h0m0s", num("1"), false}, got["autogen"], "CREATE DATABASE also makes autogen")
	assert.Len(t, got, 4)

	// Changing a duration and the default alters the existing policy.
	require.NoError(t, e.CreateDatabase(ctx, db, []tsengine.RetentionPolicy{
		{Name: "week", Duration: 3 * time.Hour},
		{Name: "short", Duration: 2 * time.Hour, Default: true},
	}))
	got = show()
	assert.Equal(t, []any{"3h0m0s", "1h0m0s", num("1"), false}, got["week"])
	assert.Equal(t, []any{"2h0m0s", "1h0m0s", num("1"), true}, got["short"])

	// No policies: just the database, idempotently.
	require.NoError(t, e.CreateDatabase(ctx, db, nil))
	assert.Len(t, show(), 4)
}

func testCreateDatabaseInvalid(t *testing.T, e tsengine.Engine) {
	ctx := context.Background()
	db := DBName(t)
	t.Cleanup(func() { _ = e.DropDatabase(ctx, db) })
	cases := []struct {
		name string
		db   string
		rps  []tsengine.RetentionPolicy
		want string
	}{
		{"below minimum", db, []tsengine.RetentionPolicy{{Name: "r", Duration: 30 * time.Minute}}, "minimum of 1h0m0s"},
		{"negative", db, []tsengine.RetentionPolicy{{Name: "r", Duration: -time.Hour}}, "negative"},
		{"empty name", db, []tsengine.RetentionPolicy{{Duration: time.Hour}}, "name is empty"},
		{"duplicate", db, []tsengine.RetentionPolicy{{Name: "r", Duration: time.Hour}, {Name: "r", Duration: 2 * time.Hour}}, "listed twice"},
		{"two defaults", db, []tsengine.RetentionPolicy{{Name: "a", Duration: time.Hour, Default: true}, {Name: "b", Duration: 2 * time.Hour, Default: true}}, "at most one"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := e.CreateDatabase(ctx, tc.db, tc.rps)
			require.Error(t, err)
			assert.ErrorIs(t, err, tsengine.ErrInvalidRetentionPolicy)
			var rpe *tsengine.RetentionPolicyError
			require.ErrorAs(t, err, &rpe)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	assert.Error(t, e.CreateDatabase(ctx, "", nil), "empty database name")
	// Nothing was created by the refused calls.
	_, err := e.Query(ctx, db, parse(t, "SHOW MEASUREMENTS"), tsengine.QueryOptions{})
	assert.ErrorIs(t, err, tsengine.ErrDatabaseNotFound)
}

func testWriteReadPrecisions(t *testing.T, e tsengine.Engine) {
	db := newDB(t, e)
	base := time.Now().Add(-time.Hour).Truncate(time.Hour).UnixNano() // whole hours are exact at every precision
	cases := []struct {
		prec  lineproto.Precision
		epoch string
		unit  int64
	}{
		{lineproto.Nanosecond, "ns", 1},
		{lineproto.Microsecond, "u", int64(time.Microsecond)},
		{lineproto.Millisecond, "ms", int64(time.Millisecond)},
		{lineproto.Second, "s", int64(time.Second)},
		{lineproto.Minute, "m", int64(time.Minute)},
		{lineproto.Hour, "h", int64(time.Hour)},
	}
	for i, tc := range cases {
		t.Run(tc.epoch, func(t *testing.T) {
			m := "prec_" + tc.epoch
			// Three points one unit apart; each precision gets its own
			// offset so the measurements cannot be confused.
			t0 := base/tc.unit + int64(i)
			body := fmt.Sprintf("%s,host=a v=1i %d\n%s,host=a v=2i %d\n%s,host=a v=3i %d\n", m, t0, m, t0+1, m, t0+2)
			var b lineproto.Batch
			require.NoError(t, lineproto.Parse([]byte(body), lineproto.ParseOptions{Precision: tc.prec}, &b))
			require.Equal(t, 3, b.Len())
			require.NoError(t, e.WritePoints(context.Background(), db, "", &b))

			rows := one(t, e, db, "SELECT v FROM "+m, tc.epoch)
			require.Len(t, rows, 1)
			assert.Equal(t, m, rows[0].Name)
			assert.Equal(t, []string{"time", "v"}, rows[0].Columns)
			assert.Equal(t, [][]any{
				{num(strconv.FormatInt(t0, 10)), num("1")},
				{num(strconv.FormatInt(t0+1, 10)), num("2")},
				{num(strconv.FormatInt(t0+2, 10)), num("3")},
			}, rows[0].Values)

			// No epoch: RFC3339 strings in UTC.
			rows = one(t, e, db, "SELECT v FROM "+m+" LIMIT 1", "")
			require.Len(t, rows, 1)
			want := time.Unix(0, t0*tc.unit).UTC().Format(time.RFC3339Nano)
			assert.Equal(t, want, rows[0].Values[0][0])
		})
	}
}

func testValueTypes(t *testing.T, e tsengine.Engine) {
	db := newDB(t, e)
	ts := time.Now().Add(-time.Minute).Truncate(time.Second)
	write(t, e, db, "", pt{"types", map[string]string{"k": "a b,c=d"}, map[string]any{
		"i": int64(-42), "u": uint64(7), "f": 1.5, "whole": 2.0, "big": 1e21, "tiny": 1e-7,
		"s": "say \"hi\"\\ \nnext", "b": true,
	}, ts})
	rows := one(t, e, db, `SELECT * FROM "types"`, "s")
	require.Len(t, rows, 1)
	row := rows[0]
	got := map[string]any{}
	for i, c := range row.Columns {
		got[c] = row.Values[0][i]
	}
	assert.Equal(t, map[string]any{
		"time":  num(strconv.FormatInt(ts.Unix(), 10)),
		"i":     num("-42"),
		"u":     num("7"), // unsigned values are stored as integers
		"f":     num("1.5"),
		"whole": num("2"), // InfluxDB's JSON cannot tell 2.0 from 2
		"big":   num("1e+21"),
		"tiny":  num("1e-7"),
		"s":     "say \"hi\"\\ \nnext",
		"b":     true,
		"k":     "a b,c=d",
	}, got)

	// A missing value in a row is nil.
	write(t, e, db, "", pt{"types", nil, map[string]any{"i": int64(1)}, ts.Add(time.Second)})
	rows = one(t, e, db, `SELECT i, f FROM "types"`, "s")
	require.Len(t, rows, 1)
	require.Len(t, rows[0].Values, 2)
	assert.Nil(t, rows[0].Values[1][2])
}

func testWriteNamedRP(t *testing.T, e tsengine.Engine) {
	db := newDB(t, e,
		tsengine.RetentionPolicy{Name: "main", Duration: 24 * time.Hour, Default: true},
		tsengine.RetentionPolicy{Name: "long", Duration: 30 * 24 * time.Hour})
	now := time.Now().Add(-time.Minute)
	write(t, e, db, "long", pt{"cpu", map[string]string{"host": "a"}, map[string]any{"v": 1.0}, now})
	write(t, e, db, "", pt{"cpu", map[string]string{"host": "b"}, map[string]any{"v": 2.0}, now})

	rows := one(t, e, db, `SELECT v, host FROM "long"."cpu"`, "")
	require.Len(t, rows, 1)
	assert.Equal(t, []any{num("1")}, column(t, rows[0], "v"))
	assert.Equal(t, []any{"a"}, column(t, rows[0], "host"))

	rows = one(t, e, db, `SELECT v, host FROM "cpu"`, "") // default policy "main"
	require.Len(t, rows, 1)
	assert.Equal(t, []any{"b"}, column(t, rows[0], "host"))

	err := e.WritePoints(context.Background(), db, "nope", batch(t, pt{"cpu", nil, map[string]any{"v": 1.0}, now}))
	assert.ErrorIs(t, err, tsengine.ErrRetentionPolicyNotFound)
}

func testGroupByTimeFill(t *testing.T, e tsengine.Engine) {
	db := newDB(t, e)
	start := time.Now().Add(-2 * time.Hour).Truncate(time.Hour)
	var pts []pt
	// Minutes 0, 1 and 3 have data for host a (two points each), minute 2 none.
	for _, min := range []int{0, 1, 3} {
		for j, v := range []float64{float64(min), float64(min) + 1} {
			pts = append(pts, pt{"load", map[string]string{"host": "a"}, map[string]any{"v": v}, start.Add(time.Duration(min)*time.Minute + time.Duration(j)*10*time.Second)})
		}
	}
	pts = append(pts, pt{"load", map[string]string{"host": "b"}, map[string]any{"v": 10.0}, start.Add(30 * time.Second)})
	write(t, e, db, "", pts...)

	where := fmt.Sprintf("time >= %d AND time < %d", start.UnixNano(), start.Add(4*time.Minute).UnixNano())
	s0 := start.Unix()
	times := []any{num(strconv.FormatInt(s0, 10)), num(strconv.FormatInt(s0+60, 10)), num(strconv.FormatInt(s0+120, 10)), num(strconv.FormatInt(s0+180, 10))}
	cases := []struct {
		fill string
		want []any
	}{
		{"fill(null)", []any{num("0.5"), num("1.5"), nil, num("3.5")}},
		{"fill(0)", []any{num("0.5"), num("1.5"), num("0"), num("3.5")}},
		{"fill(-1)", []any{num("0.5"), num("1.5"), num("-1"), num("3.5")}},
		{"fill(previous)", []any{num("0.5"), num("1.5"), num("1.5"), num("3.5")}},
		{"fill(linear)", []any{num("0.5"), num("1.5"), num("2.5"), num("3.5")}},
		{"fill(none)", []any{num("0.5"), num("1.5"), num("3.5")}},
	}
	for _, tc := range cases {
		t.Run(tc.fill, func(t *testing.T) {
			rows := one(t, e, db, `SELECT mean(v) FROM load WHERE host = 'a' AND `+where+` GROUP BY time(1m) `+tc.fill, "s")
			require.Len(t, rows, 1)
			assert.Equal(t, []string{"time", "mean"}, rows[0].Columns)
			assert.Equal(t, tc.want, column(t, rows[0], "mean"))
			if tc.fill != "fill(none)" {
				assert.Equal(t, times, column(t, rows[0], "time"))
			}
		})
	}

	// GROUP BY a tag: one series per host, sorted by tag, in one Result.
	rows := one(t, e, db, `SELECT count(v), max(v) FROM load WHERE `+where+` GROUP BY time(2m), host fill(0)`, "s")
	require.Len(t, rows, 2)
	assert.Equal(t, map[string]string{"host": "a"}, rows[0].Tags)
	assert.Equal(t, []any{num("4"), num("2")}, column(t, rows[0], "count"))
	assert.Equal(t, []any{num("2"), num("4")}, column(t, rows[0], "max"))
	assert.Equal(t, map[string]string{"host": "b"}, rows[1].Tags)
	assert.Equal(t, []any{num("1"), num("0")}, column(t, rows[1], "count"))

	// Several statements: one Result each, in order.
	res := query(t, e, db, `SELECT count(v) FROM load WHERE `+where+`; SELECT sum(v) FROM load WHERE host = 'b' AND `+where, "s")
	require.Len(t, res, 2)
	assert.Equal(t, 0, res[0].StatementID)
	assert.Equal(t, 1, res[1].StatementID)
	assert.Equal(t, []any{num("7")}, column(t, res[0].Series[0], "count"))
	assert.Equal(t, []any{num("10")}, column(t, res[1].Series[0], "sum"))
}

func testShowStatements(t *testing.T, e tsengine.Engine) {
	db := newDB(t, e)
	now := time.Now().Add(-time.Minute)
	write(t, e, db, "",
		pt{"cpu", map[string]string{"host": "a", "region": "eu"}, map[string]any{"v": 1.0}, now},
		pt{"mem", map[string]string{"host": "a"}, map[string]any{"used": int64(3)}, now},
		pt{"disk", nil, map[string]any{"free": int64(3)}, now},
	)
	rows := one(t, e, db, "SHOW MEASUREMENTS", "")
	require.Len(t, rows, 1)
	assert.Equal(t, "measurements", rows[0].Name)
	assert.Equal(t, [][]any{{"cpu"}, {"disk"}, {"mem"}}, rows[0].Values)

	rows = one(t, e, db, "SHOW TAG KEYS", "")
	require.Len(t, rows, 2) // disk has no tags, so no series for it
	assert.Equal(t, "cpu", rows[0].Name)
	assert.Equal(t, [][]any{{"host"}, {"region"}}, rows[0].Values)
	assert.Equal(t, "mem", rows[1].Name)
	assert.Equal(t, [][]any{{"host"}}, rows[1].Values)

	rows = one(t, e, db, "SHOW TAG VALUES FROM cpu WITH KEY = region", "")
	require.Len(t, rows, 1)
	assert.Equal(t, [][]any{{"region", "eu"}}, rows[0].Values)

	rows = one(t, e, db, "SHOW FIELD KEYS FROM mem", "")
	require.Len(t, rows, 1)
	assert.Equal(t, [][]any{{"used", "integer"}}, rows[0].Values)

	rows = one(t, e, db, "SHOW RETENTION POLICIES", "")
	require.Len(t, rows, 1)
	assert.Equal(t, []string{"name", "duration", "shardGroupDuration", "replicaN", "default"}, rows[0].Columns)
	assert.Equal(t, [][]any{{"autogen", "0s", "168h0m0s", num("1"), true}}, rows[0].Values)
}

func testDropMeasurement(t *testing.T, e tsengine.Engine) {
	ctx := context.Background()
	db := newDB(t, e)
	now := time.Now().Add(-time.Minute)
	write(t, e, db, "",
		pt{"gone", map[string]string{"host": "a"}, map[string]any{"v": 1.0}, now},
		pt{"kept", map[string]string{"host": "a"}, map[string]any{"v": 1.0}, now})
	require.NoError(t, e.DropMeasurement(ctx, db, "gone"))
	rows := one(t, e, db, "SHOW MEASUREMENTS", "")
	require.Len(t, rows, 1)
	assert.Equal(t, [][]any{{"kept"}}, rows[0].Values)
	assert.Empty(t, one(t, e, db, "SELECT * FROM gone", ""))
	// Again, and a measurement that never existed: not errors.
	assert.NoError(t, e.DropMeasurement(ctx, db, "gone"))
	assert.NoError(t, e.DropMeasurement(ctx, db, "never"))
	assert.ErrorIs(t, e.DropMeasurement(ctx, DBName(t), "gone"), tsengine.ErrDatabaseNotFound)
	// The measurement can be written again afterwards.
	write(t, e, db, "", pt{"gone", nil, map[string]any{"v": "now a string"}, now})
	rows = one(t, e, db, "SELECT v FROM gone", "")
	require.Len(t, rows, 1)
	assert.Equal(t, []any{"now a string"}, column(t, rows[0], "v"))
}

func testDropDatabase(t *testing.T, e tsengine.Engine) {
	ctx := context.Background()
	db := newDB(t, e)
	write(t, e, db, "", pt{"m", nil, map[string]any{"v": 1.0}, time.Now()})
	require.NoError(t, e.DropDatabase(ctx, db))
	_, err := e.Query(ctx, db, parse(t, "SELECT * FROM m"), tsengine.QueryOptions{})
	assert.ErrorIs(t, err, tsengine.ErrDatabaseNotFound)
	err = e.WritePoints(ctx, db, "", batch(t, pt{"m", nil, map[string]any{"v": 1.0}, time.Now()}))
	assert.ErrorIs(t, err, tsengine.ErrDatabaseNotFound)
	assert.NoError(t, e.DropDatabase(ctx, db), "dropping a missing database is not an error")

	// Re-created, it starts empty.
	require.NoError(t, e.CreateDatabase(ctx, db, nil))
	assert.Empty(t, one(t, e, db, "SELECT * FROM m", ""))
}

func testUnknownDatabase(t *testing.T, e tsengine.Engine) {
	ctx := context.Background()
	db := DBName(t)
	for _, q := range []string{"SELECT * FROM m", "SHOW MEASUREMENTS", "SHOW TAG KEYS"} {
		_, err := e.Query(ctx, db, parse(t, q), tsengine.QueryOptions{})
		require.Error(t, err, q)
		assert.ErrorIs(t, err, tsengine.ErrDatabaseNotFound, q)
		assert.Contains(t, err.Error(), db)
	}
	err := e.WritePoints(ctx, db, "", batch(t, pt{"m", nil, map[string]any{"v": 1.0}, time.Now()}))
	assert.ErrorIs(t, err, tsengine.ErrDatabaseNotFound)

	_, err = e.Query(ctx, db, parse(t, "SELECT * FROM m"), tsengine.QueryOptions{Epoch: "weeks"})
	var ee *tsengine.EpochError
	assert.ErrorAs(t, err, &ee)
}

// partialWrite writes b into db and requires a *PartialWriteError that
// counts dropped points.
func partialWrite(t *testing.T, e tsengine.Engine, db string, b *lineproto.Batch, dropped int) *tsengine.PartialWriteError {
	t.Helper()
	err := e.WritePoints(context.Background(), db, "", b)
	var pwe *tsengine.PartialWriteError
	require.ErrorAs(t, err, &pwe)
	assert.Equal(t, dropped, pwe.Dropped)
	return pwe
}

func testPartialWriteRetention(t *testing.T, e tsengine.Engine) {
	db := newDB(t, e, tsengine.RetentionPolicy{Name: "hour", Duration: time.Hour, Default: true})
	now := time.Now()
	b := batch(t,
		pt{"m", nil, map[string]any{"v": 1.0}, now.Add(-3 * time.Hour)}, // beyond the 1h policy
		pt{"m", nil, map[string]any{"v": 2.0}, now.Add(-time.Minute)},
		pt{"m", nil, map[string]any{"v": 3.0}, now.Add(-2 * time.Hour)}, // beyond too
	)
	pwe := partialWrite(t, e, db, b, 2)
	assert.Contains(t, pwe.Reason, "retention policy")

	rows := one(t, e, db, "SELECT v FROM m", "")
	require.Len(t, rows, 1)
	assert.Equal(t, []any{num("2")}, column(t, rows[0], "v"), "the point inside the policy is stored")
}

func testFieldTypeConflict(t *testing.T, e tsengine.Engine) {
	db := newDB(t, e)
	now := time.Now().Add(-time.Minute)
	write(t, e, db, "", pt{"m", map[string]string{"host": "a"}, map[string]any{"v": 1.0}, now})
	b := batch(t,
		pt{"m", map[string]string{"host": "a"}, map[string]any{"v": "text"}, now.Add(time.Second)},
		pt{"m", map[string]string{"host": "a"}, map[string]any{"v": 2.0}, now.Add(2 * time.Second)},
	)
	pwe := partialWrite(t, e, db, b, 1)
	assert.Contains(t, pwe.Reason, "field type conflict")

	rows := one(t, e, db, "SELECT v FROM m", "")
	require.Len(t, rows, 1)
	assert.Equal(t, []any{num("1"), num("2")}, column(t, rows[0], "v"))
}

// testFieldTypeAcrossShards: float yesterday, integer now, string three
// days ago land in three daily shards; InfluxDB alone accepts all three
// (it checks only the point's shard) and the field becomes unreadable.
// Both engines refuse the later types, also after a measurement drop has
// been seen (the check forgets what was dropped).
func testFieldTypeAcrossShards(t *testing.T, e tsengine.Engine) {
	ctx := context.Background()
	db := newDB(t, e, tsengine.RetentionPolicy{Name: "month", Duration: 30 * 24 * time.Hour, Default: true})
	now := time.Now()
	day := 24 * time.Hour
	write(t, e, db, "", pt{"m", nil, map[string]any{"v": 1.5}, now.Add(-day)})
	for _, c := range []struct {
		v   any
		at  time.Time
		typ string
	}{{int64(2), now, "integer"}, {"s", now.Add(-3 * day), "string"}} {
		pwe := partialWrite(t, e, db, batch(t, pt{"m", nil, map[string]any{"v": c.v}, c.at}), 1)
		assert.Equal(t, `field type conflict: input field "v" on measurement "m" is type `+c.typ+`, already exists as type float`, pwe.Reason)
	}
	rows := one(t, e, db, "SELECT v FROM m", "")
	require.Len(t, rows, 1)
	assert.Equal(t, []any{num("1.5")}, column(t, rows[0], "v"))

	require.NoError(t, e.DropMeasurement(ctx, db, "m"))
	write(t, e, db, "", pt{"m", nil, map[string]any{"v": "free again"}, now.Add(-2 * day)})
}

func testQueryContext(t *testing.T, e tsengine.Engine) {
	db := newDB(t, e)
	write(t, e, db, "", pt{"m", nil, map[string]any{"v": 1.0}, time.Now()})
	q := parse(t, "SELECT * FROM m")

	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	_, err := e.Query(ctx, db, q, tsengine.QueryOptions{})
	require.Error(t, err)
	assert.ErrorIs(t, err, context.DeadlineExceeded)

	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	_, err = e.Query(ctx, db, q, tsengine.QueryOptions{})
	assert.ErrorIs(t, err, context.Canceled)

	// A deadline that is not reached changes nothing.
	ctx, cancel = context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := e.Query(ctx, db, q, tsengine.QueryOptions{})
	require.NoError(t, err)
	require.Len(t, res, 1)
	assert.Len(t, res[0].Series, 1)
}

func testConcurrentWriters(t *testing.T, e tsengine.Engine) {
	db := newDB(t, e)
	const writers, batches, perBatch = 4, 5, 200
	start := time.Now().Add(-time.Hour).Truncate(time.Second)
	var wg sync.WaitGroup
	errs := make(chan error, writers*batches)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < batches; i++ {
				var b lineproto.Batch
				for j := 0; j < perBatch; j++ {
					n := (i*perBatch + j)
					if err := b.AddPoint("conc", map[string]string{"writer": strconv.Itoa(w)},
						map[string]any{"v": int64(n)}, start.Add(time.Duration(n)*time.Millisecond)); err != nil {
						errs <- err
						return
					}
				}
				if err := e.WritePoints(context.Background(), db, "", &b); err != nil {
					errs <- err
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	rows := one(t, e, db, "SELECT count(v) FROM conc GROUP BY writer", "")
	require.Len(t, rows, writers)
	for _, r := range rows {
		assert.Equal(t, []any{num(strconv.Itoa(batches * perBatch))}, column(t, r, "count"), r.Tags)
	}
}

func testContinuousQuery(t *testing.T, e tsengine.Engine) {
	db := newDB(t, e)
	cq := fmt.Sprintf(`CREATE CONTINUOUS QUERY "cq_sum" ON %q RESAMPLE EVERY 1s FOR 30s BEGIN SELECT sum(v) AS total INTO "rollup" FROM "raw" GROUP BY time(1s), host END`, db)
	query(t, e, db, cq, "")
	// Creating the same query again is accepted (InfluxDB ignores an identical CQ).
	query(t, e, db, cq, "")

	rows := one(t, e, db, "SHOW CONTINUOUS QUERIES", "")
	var found bool
	for _, r := range rows {
		if r.Name != db {
			continue
		}
		require.Len(t, r.Values, 1)
		assert.Equal(t, "cq_sum", r.Values[0][0])
		assert.Contains(t, r.Values[0][1], `INTO `+db+`.autogen.rollup`)
		found = true
	}
	require.True(t, found, "cq not listed: %+v", rows)

	// The service runs it: points written now are summed into "rollup".
	now := time.Now().Add(-2 * time.Second).Truncate(time.Second)
	write(t, e, db, "",
		pt{"raw", map[string]string{"host": "a"}, map[string]any{"v": 2.0}, now},
		pt{"raw", map[string]string{"host": "a"}, map[string]any{"v": 3.0}, now.Add(100 * time.Millisecond)},
	)
	deadline := time.Now().Add(20 * time.Second)
	for {
		rows := one(t, e, db, fmt.Sprintf(`SELECT total, host FROM rollup WHERE time = %d`, now.UnixNano()), "")
		if len(rows) == 1 {
			assert.Equal(t, []any{num("5")}, column(t, rows[0], "total"))
			assert.Equal(t, []any{"a"}, column(t, rows[0], "host"))
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the continuous query did not write rollup within 20s")
		}
		time.Sleep(250 * time.Millisecond) // polling interval
	}

	query(t, e, db, fmt.Sprintf(`DROP CONTINUOUS QUERY "cq_sum" ON %q`, db), "")
	for _, r := range one(t, e, db, "SHOW CONTINUOUS QUERIES", "") {
		if r.Name == db {
			assert.Empty(t, r.Values)
		}
	}
}

func testPing(t *testing.T, e tsengine.Engine) {
	require.NoError(t, e.Ping(context.Background()))
}
