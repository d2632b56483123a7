package embedded

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/influxdata/influxql"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kodo-project/kodo/lineproto"
	"github.com/kodo-project/kodo/storage/tsengine"
)

func mustQuery(t *testing.T, e *Engine, db, q string) []tsengine.Result {
	t.Helper()
	pq, err := influxql.ParseQuery(q)
	require.NoError(t, err)
	res, err := e.Query(context.Background(), db, pq, tsengine.QueryOptions{Epoch: "ns"})
	require.NoError(t, err)
	for _, r := range res {
		require.Empty(t, r.Err)
	}
	return res
}

// count returns count(field) over m, or 0 when there is no data.
func count(t *testing.T, e *Engine, db, q string) int64 {
	t.Helper()
	res := mustQuery(t, e, db, q)
	require.Len(t, res, 1)
	if len(res[0].Series) == 0 {
		return 0
	}
	n, err := res[0].Series[0].Values[0][1].(json.Number).Int64()
	require.NoError(t, err)
	return n
}

func TestReopenKeepsData(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	for _, index := range []string{"tsi1", "inmem"} {
		t.Run(index, func(t *testing.T) {
			dir := dir + "/" + index
			e, err := Open(dir, Options{Index: index})
			require.NoError(t, err)
			require.NoError(t, e.CreateDatabase(ctx, "keep", []tsengine.RetentionPolicy{{Name: "week", Duration: 7 * 24 * time.Hour, Default: true}}))
			require.NoError(t, e.WritePoints(ctx, "keep", "", benchBatch(t, 1000, time.Now().Add(-time.Hour))))
			mustQuery(t, e, "keep", `CREATE CONTINUOUS QUERY cq ON keep BEGIN SELECT mean(usr) INTO m2 FROM cpu GROUP BY time(1h) END`)
			require.NoError(t, e.Close())

			e, err = Open(dir, Options{Index: index})
			require.NoError(t, err)
			defer e.Close()
			assert.EqualValues(t, 1000, count(t, e, "keep", "SELECT count(usr) FROM cpu"))
			res := mustQuery(t, e, "keep", "SHOW RETENTION POLICIES; SHOW CONTINUOUS QUERIES; SHOW TAG VALUES FROM cpu WITH KEY = host")
			assert.Equal(t, "week", res[0].Series[0].Values[1][0])
			assert.Equal(t, true, res[0].Series[0].Values[1][4])
			assert.Contains(t, fmt.Sprint(res[1].Series), "cq")
			assert.Len(t, res[2].Series[0].Values, 10)
		})
	}
}

func TestDirectoryLocked(t *testing.T) {
	dir := t.TempDir()
	e := openTest(t, dir, Options{})
	_, err := Open(dir, Options{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "in use")
	_ = e
}

func TestClosedEngineIsUnavailable(t *testing.T) {
	e, err := Open(t.TempDir(), Options{})
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, e.CreateDatabase(ctx, "db", nil))
	require.NoError(t, e.Close())
	require.NoError(t, e.Close(), "closing twice is harmless")

	q, _ := influxql.ParseQuery("SELECT * FROM m")
	_, qerr := e.Query(ctx, "db", q, tsengine.QueryOptions{})
	for name, err := range map[string]error{
		"ping":   e.Ping(ctx),
		"write":  e.WritePoints(ctx, "db", "", benchBatch(t, 1, time.Now())),
		"query":  qerr,
		"create": e.CreateDatabase(ctx, "db2", nil),
		"drop":   e.DropDatabase(ctx, "db"),
		"dropm":  e.DropMeasurement(ctx, "db", "m"),
	} {
		assert.ErrorIs(t, err, tsengine.ErrUnavailable, name)
	}
}

func TestOpenErrors(t *testing.T) {
	_, err := Open("", Options{})
	assert.Error(t, err)
	_, err = Open(t.TempDir(), Options{Index: "btree"})
	assert.ErrorContains(t, err, `unknown index "btree"`)
	_, err = Open(t.TempDir(), Options{WALFsyncDelay: -time.Second})
	assert.ErrorContains(t, err, "negative")
	f := t.TempDir() + "/file"
	require.NoError(t, os.WriteFile(f, nil, 0o644))
	_, err = Open(f, Options{})
	assert.Error(t, err, "a file is not a data directory")
}

func TestUnrepresentablePointsAreDropped(t *testing.T) {
	e := openTest(t, t.TempDir(), Options{})
	ctx := context.Background()
	require.NoError(t, e.CreateDatabase(ctx, "db", nil))
	var b lineproto.Batch
	now := time.Now()
	require.NoError(t, b.AddPoint("m", nil, map[string]any{"big": uint64(1) << 63}, now))
	require.NoError(t, b.AddPoint("m", nil, map[string]any{"ok": uint64(5)}, now))
	err := e.WritePoints(ctx, "db", "", &b)
	var pwe *tsengine.PartialWriteError
	require.ErrorAs(t, err, &pwe)
	assert.Equal(t, 1, pwe.Dropped)
	assert.Contains(t, pwe.Reason, "exceeds the int64 range")
	assert.EqualValues(t, 1, count(t, e, "db", "SELECT count(ok) FROM m"))
}

func TestRetentionServiceDropsExpiredShards(t *testing.T) {
	e := openTest(t, t.TempDir(), Options{RetentionCheckInterval: 50 * time.Millisecond})
	ctx := context.Background()
	require.NoError(t, e.CreateDatabase(ctx, "db", []tsengine.RetentionPolicy{{Name: "r", Duration: 0, Default: true}}))
	old := time.Now().Add(-30 * 24 * time.Hour)
	require.NoError(t, e.WritePoints(ctx, "db", "", benchBatch(t, 10, old)))
	require.NoError(t, e.WritePoints(ctx, "db", "", benchBatch(t, 10, time.Now().Add(-time.Minute))))
	require.EqualValues(t, 20, count(t, e, "db", "SELECT count(usr) FROM cpu"))

	// Shortening the policy makes the month-old shard group expire.
	require.NoError(t, e.CreateDatabase(ctx, "db", []tsengine.RetentionPolicy{{Name: "r", Duration: time.Hour, Default: true}}))
	require.Eventually(t, func() bool {
		return count(t, e, "db", "SELECT count(usr) FROM cpu") == 10
	}, 10*time.Second, 50*time.Millisecond, "the retention service did not drop the expired shard")
}

func TestLoggerBridge(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e := openTest(t, t.TempDir(), Options{Logger: log})
	ctx := context.Background()
	require.NoError(t, e.CreateDatabase(ctx, "db", nil))
	require.NoError(t, e.WritePoints(ctx, "db", "", benchBatch(t, 10, time.Now())))
	mustQuery(t, e, "db", "SELECT count(usr) FROM cpu")

	levels := map[string]int{}
	var sawQuery bool
	sc := bufio.NewScanner(&buf)
	for sc.Scan() {
		var rec map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &rec), sc.Text())
		levels[rec["level"].(string)]++
		if rec["msg"] == "Executing query" {
			sawQuery = true
			assert.Equal(t, "DEBUG", rec["level"], "InfluxDB's info lines arrive at debug")
			assert.Contains(t, rec["query"], "count(usr)", "zap fields become attributes")
		}
	}
	assert.True(t, sawQuery, "InfluxDB's query log reached the slog logger")
	assert.Equal(t, 1, levels["INFO"], "only the engine's own open line is at info: %v", levels)
	assert.Zero(t, levels["ERROR"])
}

func TestQueryCancelledMidFlight(t *testing.T) {
	e := openTest(t, t.TempDir(), Options{})
	ctx := context.Background()
	require.NoError(t, e.CreateDatabase(ctx, "db", nil))
	start := time.Now().Add(-2 * time.Hour)
	for i := 0; i < 20; i++ {
		require.NoError(t, e.WritePoints(ctx, "db", "", benchBatch(t, 5000, start.Add(time.Duration(i)*5*time.Second))))
	}
	q, err := influxql.ParseQuery(fmt.Sprintf("SELECT mean(usr), max(idle) FROM cpu WHERE time >= %d AND time < %d GROUP BY time(1ms), host fill(none)", start.UnixNano(), start.Add(200*time.Second).UnixNano()))
	require.NoError(t, err)
	t0 := time.Now()
	_, err = e.Query(ctx, "db", q, tsengine.QueryOptions{})
	require.NoError(t, err)
	full := time.Since(t0)
	if full < 100*time.Millisecond {
		t.Skipf("the query took only %s here; too fast to interrupt reliably", full)
	}
	t.Logf("uninterrupted query: %s", full)
	qctx, cancel := context.WithTimeout(ctx, full/20)
	defer cancel()
	t0 = time.Now()
	_, err = e.Query(qctx, "db", q, tsengine.QueryOptions{})
	took := time.Since(t0)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	t.Logf("interrupted after %s (full run %s)", took, full)
	// The engine still answers afterwards.
	assert.EqualValues(t, 100000, count(t, e, "db", "SELECT count(usr) FROM cpu"))
}

// crashChildEnv makes the test binary act as the writer that gets killed.
const crashChildEnv = "KODO_TSENGINE_CRASH_CHILD_DIR"

// TestCrashKeepsAcknowledgedPoints re-runs this test binary as a child that
// writes batches and prints "ack N" after each acknowledged WritePoints,
// SIGKILLs it mid-stream, and checks that every acknowledged point is there
// after reopening.
func TestCrashKeepsAcknowledgedPoints(t *testing.T) {
	if dir := os.Getenv(crashChildEnv); dir != "" {
		crashChild(t, dir)
		return
	}
	if testing.Short() {
		t.Skip("spawns a child process")
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashKeepsAcknowledgedPoints$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())

	acked := int64(-1)
	sc := bufio.NewScanner(out)
	deadline := time.Now().Add(30 * time.Second)
	for sc.Scan() {
		if n, ok := strings.CutPrefix(sc.Text(), "ack "); ok {
			acked, err = strconv.ParseInt(n, 10, 64)
			require.NoError(t, err)
			if acked >= 30*200-1 || time.Now().After(deadline) {
				break // the child is still writing: kill it mid-batch
			}
		}
	}
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	werr := cmd.Wait()
	var ee *exec.ExitError
	require.True(t, errors.As(werr, &ee), "child should die by SIGKILL: %v\n%s", werr, stderr.String())
	require.GreaterOrEqual(t, acked, int64(0), "child acknowledged nothing:\n%s", stderr.String())

	e := openTest(t, dir, Options{})
	got := count(t, e, "crash", fmt.Sprintf("SELECT count(seq) FROM m WHERE seq <= %d", acked))
	assert.Equal(t, acked+1, got, "every acknowledged point survives the crash")
	t.Logf("acknowledged %d points before SIGKILL; %d found after reopen", acked+1, count(t, e, "crash", "SELECT count(seq) FROM m"))
}

func crashChild(t *testing.T, dir string) {
	e, err := Open(dir, Options{})
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, e.CreateDatabase(ctx, "crash", nil))
	start := time.Now().Add(-time.Hour)
	for seq := int64(0); ; {
		var b lineproto.Batch
		for i := 0; i < 200; i++ {
			require.NoError(t, b.AddPoint("m", map[string]string{"s": strconv.FormatInt(seq%7, 10)},
				map[string]any{"seq": seq}, start.Add(time.Duration(seq)*time.Millisecond)))
			seq++
		}
		require.NoError(t, e.WritePoints(ctx, "crash", "", &b))
		fmt.Fprintf(os.Stdout, "ack %d\n", seq-1) // os.Stdout is unbuffered
	}
}

func TestMonitorStatements(t *testing.T) {
	e := openTest(t, t.TempDir(), Options{})
	require.NoError(t, e.CreateDatabase(context.Background(), "db", nil))
	require.NoError(t, e.WritePoints(context.Background(), "db", "", benchBatch(t, 10, time.Now())))
	// SHOW STATS and SHOW DIAGNOSTICS need the monitor the engine wires in.
	res := mustQuery(t, e, "", "SHOW STATS; SHOW DIAGNOSTICS; SHOW DATABASES; SHOW SHARDS")
	require.Len(t, res, 4)
	assert.NotEmpty(t, res[0].Series)
	assert.NotEmpty(t, res[1].Series)
	assert.Equal(t, [][]any{{"db"}}, res[2].Series[0].Values)
}
