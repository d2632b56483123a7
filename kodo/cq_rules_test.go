package kodo_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	kql "github.com/kodo-project/kodo/influxql"
	"github.com/kodo-project/kodo/kodo"
	"github.com/kodo-project/kodo/storage/tsengine"
	"github.com/kodo-project/kodo/storage/tsengine/embedded"
)

// TestCQRulesOnEveryPath: a CQ made with InfluxQL (/query, or
// /v1/manage/metrics) obeys the rules of /v1/cq/create.
func TestCQRulesOnEveryPath(t *testing.T) {
	h := newHarness(t)
	ws := h.createWorkspace()
	cq := func(name, resample, interval string) string {
		return fmt.Sprintf(`CREATE CONTINUOUS QUERY %s ON %s %s BEGIN SELECT count(v) INTO %s.autogen.%s FROM m GROUP BY time(%s) END`,
			name, ws.DB, resample, ws.DB, name, interval)
	}
	bad := map[string]string{
		cq("ns", "RESAMPLE EVERY 1s FOR 10m", "1ns"): "shorter than the 1s minimum",
		cq("often", "RESAMPLE EVERY 1s", "1m"):       "-min-cq-every",
		cq("often2", "", "10s"):                      "-min-cq-every",
		cq("long", "RESAMPLE FOR 60d", "1h"):         "-max-cq-resample-for",
		cq("many", "RESAMPLE EVERY 1m FOR 2d", "1s"): "-max-select-buckets",
	}
	for stmt, want := range bad {
		code, body := h.influxQuery(ws.Token, http.MethodPost, stmt)
		assert.Equal(t, 400, code, stmt)
		assert.Contains(t, body["error"], want, stmt)

		code, env := h.post("/v1/manage/metrics", map[string]any{"db_uuid": ws.DBUUID, "command": stmt})
		assert.Equal(t, 400, code, stmt)
		assert.Contains(t, env.Message, want, stmt)
	}

	code, body := h.influxQuery(ws.Token, http.MethodPost, cq("fine", "RESAMPLE EVERY 5m FOR 1h", "1m"))
	require.Equal(t, 200, code, "%v", body)
	assert.NotContains(t, fmt.Sprint(body), "error")
}

// TestCQCreateRefusesDuplicate: a second CQ of the same measurement and
// function in a database would write the same target: 409 kodo.cqExists,
// naming the CQ that exists; another function is fine.
func TestCQCreateRefusesDuplicate(t *testing.T) {
	h := newHarness(t)
	ws := h.createWorkspace()
	create := func(specs ...map[string]string) (int, envelope) {
		return h.post("/v1/cq/create", map[string]any{"db_uuid": ws.DBUUID, "workspace_uuid": ws.WorkspaceUUID, "measurements": specs})
	}
	spec := func(fn string) map[string]string {
		return map[string]string{"measurement": "cpu", "aggr_func": fn, "aggr_period": "1m", "aggr_every": "5m"}
	}
	code, env := create(spec("mean"))
	require.Equal(t, 200, code, env.Message)
	var recs []cqRec
	require.NoError(t, json.Unmarshal(env.Content, &recs))

	code, env = create(spec("MEAN"))
	assert.Equal(t, 409, code)
	assert.Equal(t, "kodo.cqExists", env.ErrorCode)
	assert.Contains(t, env.Message, recs[0].CQUUID)

	code, env = create(spec("max"), spec("max"))
	assert.Equal(t, 409, code, "twice in one request")
	assert.Contains(t, env.Message, "measurements[1]")

	code, env = create(spec("max"))
	require.Equal(t, 200, code, env.Message, "the refused request created nothing")
	var maxRec []cqRec
	require.NoError(t, json.Unmarshal(env.Content, &maxRec))

	code, env = h.post("/v1/cq/modify", map[string]any{"cq_uuid": maxRec[0].CQUUID, "workspace_uuid": ws.WorkspaceUUID, "aggr_func": "mean"})
	assert.Equal(t, 409, code, "modify cannot make a duplicate either")
	assert.Equal(t, "kodo.cqExists", env.ErrorCode)
}

// TestDropCQViaQueryStopsIt: DROP CONTINUOUS QUERY through /query stops
// the CQ: a point written after the drop reaches the target of a CQ that
// was kept, and never that of the dropped one.
func TestDropCQViaQueryStopsIt(t *testing.T) {
	h := newHarness(t, fastCQ)
	ws := h.createWorkspace()
	for _, m := range []string{"a", "b"} {
		stmt := fmt.Sprintf(`CREATE CONTINUOUS QUERY c_%s ON %s BEGIN SELECT max(v) INTO %s.autogen.%s_max FROM m_%s GROUP BY time(1s) END`, m, ws.DB, ws.DB, m, m)
		code, body := h.influxQuery(ws.Token, http.MethodPost, stmt)
		require.Equal(t, 200, code, "%v", body)
		require.NotContains(t, fmt.Sprint(body), "error", "%v", body)
	}
	maxOf := func(target string) float64 {
		code, _, qc := h.query(ws.DBUUID, `SELECT max(max) FROM autogen.`+target)
		require.Equal(t, 200, code)
		if len(qc.Results) == 0 || len(qc.Results[0].Series) == 0 {
			return 0
		}
		v, _ := qc.Results[0].Series[0].Values[0][1].(float64)
		return v
	}
	writeBoth := func(v int) {
		ts := time.Now().UnixNano()
		code, env := h.write(ws.Token, fmt.Sprintf("m_a v=%d %d\nm_b v=%d %d\n", v, ts, v, ts), nil)
		require.Equal(t, 200, code, env.Message)
	}
	// A CQ without RESAMPLE may skip the interval it was made in, so keep
	// writing until both targets show the value.
	require.Eventually(t, func() bool { writeBoth(1); return maxOf("a_max") == 1 && maxOf("b_max") == 1 }, 20*time.Second, 200*time.Millisecond)

	code, body := h.influxQuery(ws.Token, http.MethodPost, fmt.Sprintf("DROP CONTINUOUS QUERY c_a ON %s", ws.DB))
	require.Equal(t, 200, code, "%v", body)
	require.Eventually(t, func() bool { writeBoth(1000); return maxOf("b_max") == 1000 }, 20*time.Second, 200*time.Millisecond,
		"the kept CQ processed the point written after the drop")
	assert.Equal(t, 1.0, maxOf("a_max"), "the dropped CQ did not run on it")
}

// TestRestartDisablesBadCQ: a CQ stored before today's rules (here put
// straight into the engine) is dropped with a warning when the gateway
// starts, so it cannot crash-loop the process; a CQ within the rules stays.
func TestRestartDisablesBadCQ(t *testing.T) {
	dir := t.TempDir()
	engDir := filepath.Join(dir, "influxdb")
	ctx := context.Background()
	exec := func(e *embedded.Engine, q string) []tsengine.Result {
		pq, err := kql.Parse(q)
		require.NoError(t, err)
		res, err := e.Query(ctx, "d", pq, tsengine.QueryOptions{})
		require.NoError(t, err)
		for _, r := range res {
			require.Empty(t, r.Err, q)
		}
		return res
	}
	e, err := embedded.Open(engDir, embedded.Options{DisableContinuousQueries: true})
	require.NoError(t, err)
	require.NoError(t, e.CreateDatabase(ctx, "d", []tsengine.RetentionPolicy{{Name: "autogen", Default: true}}))
	exec(e, `CREATE CONTINUOUS QUERY bad ON d RESAMPLE EVERY 1s FOR 10m BEGIN SELECT count(v) INTO d.autogen.x FROM m GROUP BY time(1ns) END`)
	exec(e, `CREATE CONTINUOUS QUERY good ON d BEGIN SELECT count(v) INTO d.autogen.y FROM m GROUP BY time(5m) END`)
	require.NoError(t, e.Close())

	logs := &lockedBuffer{}
	srv, err := kodo.New(kodo.Options{DataDir: dir, Logger: slogTo(logs)})
	require.NoError(t, err)
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	require.NoError(t, srv.Shutdown(cctx))
	assert.Contains(t, logs.String(), "disabled a continuous query")

	e, err = embedded.Open(engDir, embedded.Options{DisableContinuousQueries: true})
	require.NoError(t, err)
	defer e.Close()
	var names []string
	for _, r := range exec(e, `SHOW CONTINUOUS QUERIES`) {
		for _, row := range r.Series {
			if row.Name == "d" {
				for _, v := range row.Values {
					names = append(names, fmt.Sprint(v[0]))
				}
			}
		}
	}
	assert.Equal(t, []string{"good"}, names)
}

// lockedBuffer collects log lines written from many goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func slogTo(w *lockedBuffer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }
