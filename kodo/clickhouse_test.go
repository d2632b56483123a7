package kodo_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kodo-project/kodo/kodo"
	"github.com/kodo-project/kodo/storage/clickhouse"
	"github.com/kodo-project/kodo/tsdb"
	"github.com/kodo-project/kodo/tsdb/tsdbapi"
	"github.com/kodo-project/kodo/tsdb/tsdbclient"
)

func TestClickHouseNotConfigured(t *testing.T) {
	h := newHarness(t)
	req, _ := http.NewRequest(http.MethodGet, h.ts.URL+"/v1/ck/status", nil)
	code, env := h.do(nil, req)
	assert.Equal(t, 503, code)
	assert.Contains(t, env.Message, "-clickhouse-dsn")
}

type ckSeries struct {
	Series []struct {
		Columns []string `json:"columns"`
		Values  [][]any  `json:"values"`
	} `json:"Series"`
	Message string `json:"Message"`
}

// TestClickHouseThroughServer writes metrics through Kodo and finds them in
// a real ClickHouse (started by .ci/run) with the right types; a new field
// adds a column; the /v1/ck endpoints answer in the spec's shapes. Writes
// reach ClickHouse through the in-process nsqd, so the test waits for them.
func TestClickHouseThroughServer(t *testing.T) {
	h, _ := clickHouseHarness(t)
	ws := h.createWorkspace()
	get := func(path string) (int, envelope) {
		req, _ := http.NewRequest(http.MethodGet, h.ts.URL+path, nil)
		return h.do(nil, req)
	}
	code, env := get("/v1/ck/status")
	require.Equal(t, 200, code, env.Message)
	code, env = h.post("/v1/ck/create_db?db_uuid="+ws.DBUUID, nil)
	require.Equal(t, 200, code, env.Message)

	ts := time.Now().Add(-time.Minute).UnixNano()
	code, env = h.write(ws.Token, fmt.Sprintf("cpu,host=a usage=1.5,count=3i,ok=true,msg=\"hi\" %d\ncpu,host=b usage=2.5,count=4i,ok=false,msg=\"yo\" %d\n", ts, ts+1), nil)
	require.Equal(t, 200, code, env.Message)
	ckCount := func(cmd string) float64 {
		code, env := h.post("/v1/ck/read/metrics", []map[string]any{{"db_uuid": ws.DBUUID, "command": cmd}})
		if code != 200 {
			return -1 // the table is not there yet
		}
		var rd ckSeries
		require.NoError(t, json.Unmarshal(env.Content, &rd))
		n, _ := rd.Series[0].Values[0][0].(float64)
		return n
	}
	eventually(t, "the points reach ClickHouse", func() bool { return ckCount("SELECT count() FROM cpu") == 2 })

	var tl ckSeries
	code, env = get("/v1/ck/tablelist?db_uuid=" + ws.DBUUID + "&type=table")
	require.Equal(t, 200, code, env.Message)
	require.NoError(t, json.Unmarshal(env.Content, &tl))
	assert.Equal(t, []string{"tableName", "type"}, tl.Series[0].Columns)
	assert.Equal(t, [][]any{{"cpu", "ReplacingMergeTree"}}, tl.Series[0].Values)

	types := func() map[string]string {
		code, env := get("/v1/ck/tableinfo?db_uuid=" + ws.DBUUID + "&table_name=cpu")
		require.Equal(t, 200, code, env.Message)
		var ti ckSeries
		require.NoError(t, json.Unmarshal(env.Content, &ti))
		require.Equal(t, []string{"name", "type", "default_type", "default_expression", "comment", "codec_expression", "ttl_expression"}, ti.Series[0].Columns)
		out := map[string]string{}
		for _, v := range ti.Series[0].Values {
			out[v[0].(string)] = v[1].(string)
		}
		return out
	}
	got := types()
	assert.Equal(t, "Int64", got["time"])
	assert.Contains(t, got["host"], "String")
	assert.Contains(t, got["usage"], "Float64")
	assert.Contains(t, got["count"], "Int64")
	assert.Contains(t, got["ok"], "UInt8")
	assert.Contains(t, got["msg"], "String")

	// A new field and a new tag add columns.
	code, env = h.write(ws.Token, fmt.Sprintf("cpu,host=c,zone=z1 usage=3,temp=40.5 %d\n", ts+2), nil)
	require.Equal(t, 200, code, env.Message)
	eventually(t, "the new point reaches ClickHouse", func() bool { return ckCount("SELECT count() FROM cpu") == 3 })
	got = types()
	assert.Contains(t, got["temp"], "Float64")
	assert.Contains(t, got["zone"], "String")

	code, env = h.post("/v1/ck/read/metrics", []map[string]any{{"db_uuid": ws.DBUUID, "command": "SELECT host, sum(usage) AS s FROM cpu GROUP BY host ORDER BY host"}})
	require.Equal(t, 200, code, env.Message)
	var rd ckSeries
	require.NoError(t, json.Unmarshal(env.Content, &rd))
	require.NotEmpty(t, rd.Series)
	assert.Len(t, rd.Series[0].Values, 3)

	// Reads are read-only and confined to the workspace's database.
	code, env = h.post("/v1/ck/read/metrics", []map[string]any{{"db_uuid": ws.DBUUID, "command": "DROP TABLE cpu"}})
	assert.Equal(t, 400, code, env.Message)
	code, env = h.post("/v1/ck/read/metrics", []map[string]any{{"db_uuid": ws.DBUUID, "command": "SELECT * FROM system.users"}})
	assert.Equal(t, 400, code, env.Message)

	code, env = h.post("/v1/ck/drop/metrics", map[string]string{"db_uuid": ws.DBUUID, "table_name": "cpu"})
	require.Equal(t, 200, code, env.Message)
	code, env = get("/v1/ck/tablelist?db_uuid=" + ws.DBUUID)
	require.Equal(t, 200, code, env.Message)
	require.NoError(t, json.Unmarshal(env.Content, &tl))
	assert.Empty(t, tl.Series[0].Values)
}

// TestClickHouseMatchesEngine: the ClickHouse copy holds what the engine
// holds. Retried writes add no row, a point the engine refuses (older
// than its RP) is not copied, the good points of a partial write are, and
// /v1/drop/metrics drops the table too.
func TestClickHouseMatchesEngine(t *testing.T) {
	h, _ := clickHouseHarness(t)
	ws := h.createWorkspace()
	ckCount := func(table string) float64 {
		code, env := h.post("/v1/ck/read/metrics", []map[string]any{{"db_uuid": ws.DBUUID, "command": "SELECT count() FROM " + table}})
		if code != 200 {
			return -1
		}
		var rd ckSeries
		require.NoError(t, json.Unmarshal(env.Content, &rd))
		n, _ := rd.Series[0].Values[0][0].(float64)
		return n
	}
	now := time.Now()
	ts := now.Add(-time.Minute).UnixNano()
	body := fmt.Sprintf("dup,host=a v=1 %d\ndup,host=b v=2 %d\n", ts, ts)
	for range 4 {
		code, env := h.write(ws.Token, body, nil)
		require.Equal(t, 200, code, env.Message)
	}
	eventually(t, "the duplicates are one row each", func() bool { return ckCount("dup") == 2 })

	old := now.Add(-48 * time.Hour).UnixNano() // rp0 keeps one day
	code, env := h.write(ws.Token, fmt.Sprintf("aged v=1 %d\naged v=2 %d\n", old, ts), map[string]string{"X-RP": "rp0"})
	assert.Equal(t, 400, code, env.Message)
	eventually(t, "only the accepted point is copied", func() bool { return ckCount("aged") == 1 })

	// A point refused for its field type (its own shard would take it) is
	// named by the engine, so the partial write's good point is copied.
	code, env = h.write(ws.Token, fmt.Sprintf("typed v=1.5 %d\n", ts), nil)
	require.Equal(t, 200, code, env.Message)
	code, env = h.write(ws.Token, fmt.Sprintf("typed v=2i %d\ntyped w=1 %d\n", now.Add(-49*time.Hour).UnixNano(), ts+1), nil)
	assert.Equal(t, 400, code, env.Message)
	eventually(t, "the good point of the partial write is copied", func() bool { return ckCount("typed") == 2 })

	code, env = h.post("/v1/drop/metrics", map[string]string{"db_uuid": ws.DBUUID, "measurement": "dup"})
	require.Equal(t, 200, code, env.Message)
	eventually(t, "the table is dropped in ClickHouse too", func() bool { return ckCount("dup") == -1 })
}

// eventually polls cond until it holds, failing after 30s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	require.Eventually(t, cond, 30*time.Second, 25*time.Millisecond, "timed out waiting until %s", what)
}

// TestClickHouseGetsPandoraWrites: /v4 writes take the same path to the
// sinks as /v1 writes, and a series delete drops its table there too.
func TestClickHouseGetsPandoraWrites(t *testing.T) {
	h, dsn := clickHouseHarness(t, func(o *kodo.Options) { o.TSDBAccessKey, o.TSDBSecretKey = "AK_CK", "SK_CK" })
	ctx := t.Context()
	pc, err := tsdbclient.NewClient(h.ts.URL, "AK_CK", "SK_CK", nil)
	require.NoError(t, err)
	repo := fmt.Sprintf("ck_%d", time.Now().UnixNano())
	require.NoError(t, pc.CreateRepo(ctx, repo, tsdbapi.CreateRepoInput{Region: "nb"}))
	require.NoError(t, pc.CreateSeries(ctx, repo, "cpu", tsdbapi.CreateSeriesInput{Retention: "7d"}))
	ts := time.Now().Add(-time.Minute).UnixNano()
	for range 2 { // a retry adds no row
		_, err = pc.WritePoints(ctx, repo, fmt.Appendf(nil, "cpu,host=a v=1 %d\ncpu,host=b v=2 %d\n", ts, ts))
		require.NoError(t, err)
	}
	ck, err := clickhouse.Open(ctx, dsn, clickhouse.Options{})
	require.NoError(t, err)
	defer ck.Close()
	db := tsdb.DatabaseName("AK_CK", repo)
	count := func() float64 {
		res, err := ck.Read(ctx, db, clickhouse.ReadRequest{Command: "SELECT count() FROM cpu"})
		if err != nil {
			return -1
		}
		n, _ := res.Series[0].Values[0][0].(uint64)
		return float64(n)
	}
	eventually(t, "the /v4 points reach ClickHouse once", func() bool { return count() == 2 })
	require.NoError(t, pc.DeleteSeries(ctx, repo, "cpu"))
	eventually(t, "the series' table is dropped in ClickHouse", func() bool { return count() == -1 })
}

// BenchmarkClickHouseVisibility measures the delay from a write's
// acknowledgement to its points being counted through
// /v1/ck/read/metrics (the queue, the consumer and ClickHouse): each
// iteration writes a 1,000-point batch and polls until it is visible.
// Reports p50 and p99 of that delay.
//
//	KODO_TEST_CLICKHOUSE_DSN=… go test ./kodo -run '^$' -bench ClickHouseVisibility -benchtime 100x
func BenchmarkClickHouseVisibility(b *testing.B) {
	h, _ := clickHouseHarness(b)
	ws := h.createWorkspace()
	start := time.Now().Add(-time.Hour)
	delays := make([]time.Duration, 0, b.N)
	const perBatch = 1000
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var body strings.Builder
		for j := 0; j < perBatch; j++ {
			fmt.Fprintf(&body, "vis,host=h%d v=%d %d\n", j%10, i, start.Add(time.Duration(i*perBatch+j)*time.Millisecond).UnixNano())
		}
		code, env := h.write(ws.Token, body.String(), nil)
		if code != 200 {
			b.Fatalf("write: %d %s", code, env.Message)
		}
		acked := time.Now()
		want := float64((i + 1) * perBatch)
		for {
			code, env := h.post("/v1/ck/read/metrics", []map[string]any{{"db_uuid": ws.DBUUID, "command": "SELECT count() FROM vis"}})
			if code == 200 {
				var rd ckSeries
				if err := json.Unmarshal(env.Content, &rd); err == nil && rd.Series[0].Values[0][0] == want {
					break
				}
			}
			if time.Since(acked) > time.Minute {
				b.Fatalf("batch %d not visible after a minute", i)
			}
			time.Sleep(time.Millisecond) // polling interval: the delay's resolution
		}
		delays = append(delays, time.Since(acked))
	}
	b.StopTimer()
	slices.Sort(delays)
	b.ReportMetric(float64(delays[len(delays)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(delays[len(delays)*99/100].Microseconds())/1000, "p99-ms")
}

// clickHouseHarness is a gateway writing to the ClickHouse that .ci/run
// starts (KODO_TEST_CLICKHOUSE_DSN); it skips without one.
func clickHouseHarness(t testing.TB, mod ...func(*kodo.Options)) (*harness, string) {
	t.Helper()
	dsn := os.Getenv("KODO_TEST_CLICKHOUSE_DSN")
	if dsn == "" {
		t.Skip("KODO_TEST_CLICKHOUSE_DSN not set; .ci/run starts Debian's clickhouse-server and sets it")
	}
	return newHarness(t, append(mod, func(o *kodo.Options) { o.ClickHouseDSN = dsn })...), dsn
}
