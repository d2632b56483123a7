package loadgen

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kodo-project/kodo/internal/gatewaytest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// startKodo runs the real gateway in-process on a loopback test server.
func startKodo(t *testing.T) string { return gatewaytest.Start(t) }

func tinyConfig(requests int64) Config {
	m, _ := ParseMix("write=1,query=1")
	return Config{
		Shape:       Shape{LinesPerBody: 500},
		Workspaces:  2,
		Concurrency: 2,
		Requests:    requests,
		Mix:         m,
		Verify:      true,
	}
}

func TestEndToEndKodo(t *testing.T) {
	url := startKodo(t)
	tgt, err := NewKodoTarget(url, TargetOptions{Conns: 2, NamePrefix: "e2e"})
	require.NoError(t, err)
	cfg := tinyConfig(6) // w q w q w q: 3 writes over 2 workspaces
	cfg.ServerPID = os.Getpid()
	rep, err := Run(context.Background(), cfg, tgt)
	require.NoError(t, err)

	assert.Empty(t, rep.Errors, "no request failed")
	assert.False(t, rep.Failed())
	assert.Equal(t, StopRequests, rep.StopReason)
	assert.Equal(t, int64(3), rep.Op(OpWrite).OK)
	assert.Equal(t, int64(3), rep.Op(OpQuery).OK)
	assert.Equal(t, int64(1500), rep.PointsAcked)
	assert.Positive(t, rep.PointsPerSec)
	assert.Greater(t, rep.RawBytes, rep.WireBytes)
	require.NotNil(t, rep.Verify)
	assert.Equal(t, int64(1500), rep.Verify.Acked)
	assert.Equal(t, int64(1500), rep.Verify.Found)
	assert.Zero(t, rep.Verify.Lost)
	require.Len(t, rep.Verify.Workspaces, 2)
	assert.Equal(t, int64(1000), rep.Verify.Workspaces[0].Acked, "writes 0 and 2 go to workspace 0")
	assert.Equal(t, int64(500), rep.Verify.Workspaces[1].Acked)
	require.NotNil(t, rep.Server)
	assert.Positive(t, rep.Server.MaxRSS)
	assert.Equal(t, 2, rep.Generation.Bodies)

	// A second run on the same gateway creates new workspaces and
	// verifies on its own.
	rep2, err := Run(context.Background(), tinyConfig(2), tgt)
	require.NoError(t, err)
	assert.False(t, rep2.Failed())
	assert.Equal(t, int64(500), rep2.Verify.Found)
}

func TestEndToEndKodoDurationBound(t *testing.T) {
	url := startKodo(t)
	tgt, err := NewKodoTarget(url, TargetOptions{Conns: 2})
	require.NoError(t, err)
	cfg := tinyConfig(0)
	cfg.Duration = 300 * time.Millisecond
	cfg.RateHint = 20_000 // 20k pts/s * 0.3s / 500 lines = 12 bodies over 2 workspaces
	start := time.Now()
	rep, err := Run(context.Background(), cfg, tgt)
	require.NoError(t, err)
	assert.Less(t, time.Since(start), 60*time.Second)
	assert.Contains(t, []string{StopDuration, StopExhausted}, rep.StopReason)
	assert.False(t, rep.Failed(), "errors: %+v", rep.Errors)
	assert.Equal(t, rep.Verify.Acked, rep.Verify.Found)
	assert.Positive(t, rep.PointsAcked)
}

// fakeInflux is an InfluxDB-shaped server whose count(*) answers what the
// test says, so the verification's failure path is exercised.
type fakeInflux struct {
	written atomic.Int64
	lose    int64 // points count(*) pretends are missing
}

func (f *fakeInflux) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/write":
		if r.Header.Get("Content-Encoding") != "gzip" || r.URL.Query().Get("precision") != "ns" {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error":"bad request: want gzip and precision=ns"}`))
			return
		}
		f.written.Add(500)
		w.WriteHeader(http.StatusNoContent)
	case "/query":
		q := r.URL.Query().Get("q")
		w.Header().Set("Content-Type", "application/json")
		switch {
		case strings.HasPrefix(q, "CREATE DATABASE"):
			_, _ = w.Write([]byte(`{"results":[{"statement_id":0}]}`))
		case strings.HasPrefix(q, "SELECT count(*)"):
			n := f.written.Load() - f.lose
			_ = json.NewEncoder(w).Encode(map[string]any{"results": []any{map[string]any{"statement_id": 0,
				"series": []any{map[string]any{"name": "kodo_bench", "columns": []string{"time", "count_a", "count_b"},
					"values": [][]any{{0, n, n + 1}}}}}}})
		case strings.Contains(q, "GROUP BY time"):
			_, _ = w.Write([]byte(`{"results":[{"statement_id":0,"error":"shard is busy"}]}`))
		default:
			http.Error(w, `{"error":"unexpected query"}`, http.StatusBadRequest)
		}
	default:
		http.NotFound(w, r)
	}
}

func TestVerificationDetectsLossAndErrors(t *testing.T) {
	f := &fakeInflux{lose: 7}
	hs := httptest.NewServer(f)
	defer hs.Close()
	tgt, err := NewInfluxTarget(hs.URL, TargetOptions{})
	require.NoError(t, err)
	cfg := tinyConfig(4)
	cfg.Workspaces = 1
	rep, err := Run(context.Background(), cfg, tgt)
	require.NoError(t, err)
	assert.True(t, rep.Failed())
	assert.Equal(t, int64(1000), rep.Verify.Acked)
	assert.Equal(t, int64(993), rep.Verify.Found, "the smallest count_ column counts")
	assert.Equal(t, int64(7), rep.Verify.Lost)
	require.Len(t, rep.Errors, 1)
	assert.Equal(t, ErrorCount{Op: OpQuery, Status: 200, Code: "query-error", Count: 2, Sample: "shard is busy"}, rep.Errors[0])
}

func TestRunRefusesRewriteWithoutHook(t *testing.T) {
	tgt, err := NewInfluxTarget("http://127.0.0.1:1", TargetOptions{})
	require.NoError(t, err)
	m, err := ParseMix("write=1,rewrite=1")
	require.NoError(t, err)
	_, err = Run(context.Background(), Config{Requests: 1, Mix: m}, tgt)
	var ce *ConfigError
	require.ErrorAs(t, err, &ce)
	assert.Contains(t, err.Error(), "rewrite")
}

// rewriteTarget adds the Rewriter hook to an InfluxTarget by running the
// query, to show a target gains the operation by implementing one method.
type rewriteTarget struct {
	*InfluxTarget
	calls atomic.Int64
}

func (r *rewriteTarget) Rewrite(ctx context.Context, ws Workspace, q string) Outcome {
	r.calls.Add(1)
	return Outcome{Status: 200}
}

func TestRunUsesRewriterHook(t *testing.T) {
	hs := httptest.NewServer(&fakeInflux{})
	defer hs.Close()
	it, err := NewInfluxTarget(hs.URL, TargetOptions{})
	require.NoError(t, err)
	tgt := &rewriteTarget{InfluxTarget: it}
	m, err := ParseMix("write=1,rewrite=1")
	require.NoError(t, err)
	rep, err := Run(context.Background(), Config{Requests: 4, Mix: m, Workspaces: 1, Shape: Shape{LinesPerBody: 500}, Verify: true}, tgt)
	require.NoError(t, err)
	assert.Equal(t, int64(2), tgt.calls.Load())
	assert.Equal(t, int64(2), rep.Op(OpRewrite).OK)
	assert.False(t, rep.Failed())
}

func TestRunInterrupted(t *testing.T) {
	url := startKodo(t)
	tgt, err := NewKodoTarget(url, TargetOptions{})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = Run(ctx, tinyConfig(4), tgt)
	assert.ErrorIs(t, err, context.Canceled)
}

// TestEndToEndInfluxDB runs against a real influxd when .ci/influxd.sh
// has started one.
func TestEndToEndInfluxDB(t *testing.T) {
	url := os.Getenv("KODO_TEST_INFLUX_URL")
	if url == "" {
		t.Skip("KODO_TEST_INFLUX_URL not set; start one with: eval \"$(.ci/influxd.sh start)\" && export KODO_TEST_INFLUX_URL")
	}
	tgt, err := NewInfluxTarget(url, TargetOptions{})
	require.NoError(t, err)
	rep, err := Run(context.Background(), tinyConfig(6), tgt)
	require.NoError(t, err)
	assert.False(t, rep.Failed(), "errors: %+v", rep.Errors)
	assert.Equal(t, int64(1500), rep.Verify.Found)
}

// TestEndToEndKodoRewrite runs the full mix (writes, GROUP BY time queries
// and /v1/rewrite calls) against the real gateway.
func TestEndToEndKodoRewrite(t *testing.T) {
	url := startKodo(t)
	tgt, err := NewKodoTarget(url, TargetOptions{NamePrefix: "rw"})
	require.NoError(t, err)
	cfg := tinyConfig(6)
	cfg.Mix, err = ParseMix("write=1,query=1,rewrite=1")
	require.NoError(t, err)
	rep, err := Run(context.Background(), cfg, tgt)
	require.NoError(t, err)
	assert.Empty(t, rep.Errors)
	assert.Equal(t, int64(2), rep.Op(OpRewrite).OK)
	assert.Equal(t, int64(2), rep.Op(OpQuery).OK)
	assert.Zero(t, rep.Verify.Lost)
}

// TestEndToEndKodoInfluxWrite: the kodo-influx target writes the same
// bodies through Kodo's /write with the workspace token, and every
// acknowledged point is found through /v1/read/metrics.
func TestEndToEndKodoInfluxWrite(t *testing.T) {
	url := startKodo(t)
	tgt, err := NewKodoInfluxTarget(url, TargetOptions{Conns: 2, NamePrefix: "e2e_influx"})
	require.NoError(t, err)
	assert.Equal(t, "kodo-influx", tgt.Name())
	cfg := tinyConfig(4) // w q w q
	rep, err := Run(context.Background(), cfg, tgt)
	require.NoError(t, err)
	assert.Empty(t, rep.Errors)
	assert.Equal(t, int64(2), rep.Op(OpWrite).OK)
	require.NotNil(t, rep.Verify)
	assert.Equal(t, int64(1000), rep.Verify.Found)
	assert.Zero(t, rep.Verify.Lost)

	// A wrong token is refused, not counted.
	ws := Workspace{Name: "nope", Token: "tkn_nope"}
	o := tgt.Write(context.Background(), ws, gzipBody(t, "m v=1 1\n"))
	assert.False(t, o.OK())
	assert.Equal(t, http.StatusUnauthorized, o.Status)
}

func gzipBody(t *testing.T, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	_, err := zw.Write([]byte(s))
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return b.Bytes()
}

// TestEndToEndVictoriaMetrics runs writes against a real single-node
// VictoriaMetrics (Debian's victoria-metrics, started by hand:
// victoria-metrics -storageDataPath /tmp/vm -httpListenAddr 127.0.0.1:8428)
// and counts them back with MetricsQL.
func TestEndToEndVictoriaMetrics(t *testing.T) {
	url := os.Getenv("KODO_TEST_VM_URL")
	if url == "" {
		t.Skip("KODO_TEST_VM_URL not set (e.g. http://127.0.0.1:8428)")
	}
	cfg := tinyConfig(4)
	cfg.Mix, _ = ParseMix("write=1")
	tgt, err := NewVictoriaTarget(url, TargetOptions{}, []string{"usage_user", "usage_system", "usage_idle", "load1", "mem_used"}, 2*time.Hour)
	require.NoError(t, err)
	rep, err := Run(context.Background(), cfg, tgt)
	require.NoError(t, err)
	assert.False(t, rep.Failed(), "errors: %+v", rep.Errors)
	assert.Equal(t, int64(2000), rep.Verify.Found)
	assert.False(t, tgt.Query(context.Background(), Workspace{}, "SELECT 1").OK(), "no InfluxQL")
}
