package embedded

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/influxdata/influxdb/query"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	kql "github.com/kodo-project/kodo/influxql"
	"github.com/kodo-project/kodo/lineproto"
	"github.com/kodo-project/kodo/storage/tsengine"
)

// fakeRun registers q as a running query in db, as the continuous querier
// does for each run, and returns its context: Done closes when the task
// manager kills it.
func fakeRun(t *testing.T, e *Engine, db, q string) *query.ExecutionContext {
	t.Helper()
	pq, err := kql.Parse(q)
	require.NoError(t, err)
	ctx, detach, err := e.executor.TaskManager.AttachQuery(pq, query.ExecutionOptions{Database: db}, nil)
	require.NoError(t, err)
	t.Cleanup(detach)
	return ctx
}

// eventuallyKilled waits for the kill to reach ctx: the execution context
// learns of it from a goroutine of its own.
func eventuallyKilled(t *testing.T, ctx *query.ExecutionContext, msg string) {
	t.Helper()
	require.Eventually(t, func() bool { return killed(ctx) }, 30*time.Second, 5*time.Millisecond, msg)
}

func killed(ctx *query.ExecutionContext) bool {
	select {
	case <-ctx.Done():
		return true
	default:
		return false
	}
}

// TestDropCQStopsItsRun: DROP CONTINUOUS QUERY kills a run of that CQ in
// progress (and nothing else), rather than letting it go on to its end.
func TestDropCQStopsItsRun(t *testing.T) {
	e, err := Open(t.TempDir(), Options{DisableContinuousQueries: true})
	require.NoError(t, err)
	defer e.Close()
	require.NoError(t, e.CreateDatabase(context.Background(), "d", []tsengine.RetentionPolicy{{Name: "autogen", Default: true}}))
	mustQuery(t, e, "d", `CREATE CONTINUOUS QUERY c ON d BEGIN SELECT count(v) INTO d.autogen.m_1m FROM d.autogen.m GROUP BY time(1m) END`)
	mustQuery(t, e, "d", `CREATE CONTINUOUS QUERY keep ON d BEGIN SELECT max(v) INTO d.autogen.m_max FROM d.autogen.m GROUP BY time(1m) END`)

	window := ` WHERE time >= '2026-01-01T00:00:00Z' AND time < '2026-01-01T00:10:00Z' GROUP BY time(1m)`
	run := fakeRun(t, e, "d", `SELECT count(v) INTO d.autogen.m_1m FROM d.autogen.m`+window)
	other := fakeRun(t, e, "d", `SELECT max(v) INTO d.autogen.m_max FROM d.autogen.m`+window)
	plain := fakeRun(t, e, "d", `SELECT count(v) FROM d.autogen.m`+window)

	mustQuery(t, e, "d", `DROP CONTINUOUS QUERY c ON d`)
	eventuallyKilled(t, run, "the dropped CQ's run is killed")
	assert.False(t, killed(other), "another CQ's run goes on")
	assert.False(t, killed(plain), "a query without INTO goes on")

	// A drop that fails (no such CQ) kills nothing.
	pq, err := kql.Parse(`DROP CONTINUOUS QUERY nope ON d`)
	require.NoError(t, err)
	_, _ = e.Query(context.Background(), "d", pq, tsengine.QueryOptions{})
	assert.False(t, killed(other))
}

// TestCloseKillsRunningQueries: Close kills the queries in flight first
// (a CQ run would otherwise hold up the continuous querier's Close, and
// with it the process's shutdown, until the run ends).
func TestCloseKillsRunningQueries(t *testing.T) {
	e, err := Open(t.TempDir(), Options{CQRunInterval: 10 * time.Millisecond})
	require.NoError(t, err)
	require.NoError(t, e.CreateDatabase(context.Background(), "d", []tsengine.RetentionPolicy{{Name: "autogen", Default: true}}))
	run := fakeRun(t, e, "d", `SELECT count(v) INTO d.autogen.m_1m FROM d.autogen.m WHERE time >= '2026-01-01T00:00:00Z' AND time < '2026-01-01T00:10:00Z' GROUP BY time(1m)`)
	require.NoError(t, e.Close())
	eventuallyKilled(t, run, "Close kills the run")
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestCQRunsObeySelectLimits checks, with InfluxDB's own continuous
// querier, that a CQ run goes through the executor's select limits: a CQ
// of 1ns buckets over 10m (stored before any rule refused it) fails each
// run at max-select-buckets instead of building 6e11 buckets in memory.
func TestCQRunsObeySelectLimits(t *testing.T) {
	logs := &syncBuffer{}
	e, err := Open(t.TempDir(), Options{
		CQRunInterval: 10 * time.Millisecond, MaxSelectBucketsN: 1000, QueryTimeout: time.Minute,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	require.NoError(t, err)
	defer e.Close()
	ctx := context.Background()
	require.NoError(t, e.CreateDatabase(ctx, "d", []tsengine.RetentionPolicy{{Name: "autogen", Default: true}}))
	var b lineproto.Batch
	require.NoError(t, b.AddPoint("m", nil, map[string]any{"v": 1.0}, time.Now().Add(-time.Minute)))
	require.NoError(t, e.WritePoints(ctx, "d", "", &b))
	mustQuery(t, e, "d", `CREATE CONTINUOUS QUERY bad ON d RESAMPLE EVERY 1s FOR 10m BEGIN SELECT count(v) INTO d.autogen.m_ns FROM d.autogen.m GROUP BY time(1ns) END`)

	require.Eventually(t, func() bool { return strings.Contains(logs.String(), "max-select-buckets limit exceeded") },
		30*time.Second, 20*time.Millisecond, "the CQ run fails at the bucket limit")
	assert.Zero(t, count(t, e, "d", `SELECT count(count) FROM d.autogen.m_ns`), "nothing written")
}

// TestSelectTimeoutCoversEveryRun: Options.SelectTimeout kills any SELECT
// the executor runs past it, the continuous querier's runs included (they
// bypass Query and its context), and leaves DROP and DELETE to finish.
func TestSelectTimeoutCoversEveryRun(t *testing.T) {
	e, err := Open(t.TempDir(), Options{DisableContinuousQueries: true})
	require.NoError(t, err)
	defer e.Close()
	run := fakeRun(t, e, "d", `SELECT count(v) INTO d.autogen.m_1m FROM d.autogen.m WHERE time >= '2026-01-01T00:00:00Z' AND time < '2026-01-01T00:10:00Z' GROUP BY time(1m)`)
	del := fakeRun(t, e, "d", `DELETE FROM m WHERE time < '2026-01-01T00:00:00Z'`)
	stop, done := make(chan struct{}), make(chan struct{})
	go func() { defer close(done); e.selectWatchdog(20*time.Millisecond, 5*time.Millisecond, stop) }()
	defer func() { close(stop); <-done }()
	eventuallyKilled(t, run, "the watchdog kills the SELECT")
	assert.False(t, killed(del), "a DELETE is not killed: it would go on and report a failure")
}
