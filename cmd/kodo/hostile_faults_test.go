package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kodo-project/kodo/internal/tmpfs"
)

// Faults: a full disk, SIGTERM during a large drop, restarts, and many
// workspaces created and deleted, against the built binary.

// noisyLines is n distinct points (one a millisecond, seed minutes back)
// whose values do not compress, so their WAL entry needs fresh pages.
func noisyLines(n, seed int) string {
	var sb strings.Builder
	x := uint64(seed)*0x9e3779b97f4a7c15 + 1
	t0 := time.Now().Add(-time.Duration(seed) * time.Minute).UnixMilli()
	for i := range n {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		fmt.Fprintf(&sb, "disk,host=h%d a=%d,b=%d %d\n", i%20, x>>1, x>>3, (t0-int64(i))*1e6)
	}
	return sb.String()
}

// TestHostileDiskFull: on a full disk, writes answer 507 with Retry-After
// naming the cause, both when the free-space reserve refuses them and
// when the engine itself runs out of space (reserve off); nothing that got
// an error is readable, before or after a restart; writes recover without
// a restart once space is freed.
func TestHostileDiskFull(t *testing.T) {
	for _, tc := range []struct{ name, reserve string }{
		{"reserve", "8388608"},
		{"engine ENOSPC", "-1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := tmpfs.Mount(t, 96<<20)
			p := startProc(t, filepath.Join(dir, "data"), "-min-free-disk-bytes", tc.reserve)
			ws := p.CreateWorkspace()
			acked := int64(0)
			a := p.WriteLines(ws, noisyLines(1000, 1), true)
			require.Equal(t, 200, a.Status, "%s", a)
			acked += 1000

			filler := tmpfs.Fill(t, dir)
			for i := range 3 {
				a = p.WriteLines(ws, noisyLines(20000, 2+i), true)
				require.Equal(t, http.StatusInsufficientStorage, a.Status, "%s", a)
				requireClientError(t, a)
				assert.Contains(t, a.Body, "kodo.insufficientStorage")
				assert.Contains(t, a.Body, "full")
			}
			assert.Equal(t, acked, p.Count(ws, "disk", "a"), "a write that got an error is not readable")

			require.NoError(t, os.Remove(filler))
			a = p.WriteLines(ws, noisyLines(1000, 9), true)
			require.Equal(t, 200, a.Status, "writes recover without a restart: %s", a)
			acked += 1000
			assert.Equal(t, acked, p.Count(ws, "disk", "a"))

			p.Restart()
			assert.Equal(t, acked, p.Count(ws, "disk", "a"), "after a restart: every acknowledged point, none that got an error")
			p.Stop(30 * time.Second)
		})
	}
}

// TestHostileSigtermDuringDrop: SIGTERM while a measurement with many
// series is being dropped ends the process within -shutdown-timeout; the
// drop resumes at the next start and finishes.
func TestHostileSigtermDuringDrop(t *testing.T) {
	const bound = 8 * time.Second
	p := startProc(t, t.TempDir(), "-shutdown-timeout", bound.String())
	ws := p.CreateWorkspace()
	const series, batch = 300_000, 20_000
	for off := 0; off < series; off += batch {
		var sb strings.Builder
		for i := off; i < off+batch; i++ {
			fmt.Fprintf(&sb, "big,a=%d,b=%d v=1\n", i/1000, i%1000)
		}
		a := p.WriteLines(ws, sb.String(), true)
		require.Equal(t, 200, a.Status, "%s", a)
	}
	require.Equal(t, 200, postJSON(t, p.Base+"/v1/drop/metrics", map[string]any{"db_uuid": ws.DBUUID, "measurement": "big"}, nil))
	start := time.Now()
	p.Stop(bound + 5*time.Second) // the watchdog in main fires at bound+2s at the latest
	t.Logf("exited %s after SIGTERM (bound %s)", time.Since(start).Round(time.Millisecond), bound)

	p.start()
	require.Eventually(t, func() bool {
		var left []string
		require.Equal(t, 200, getJSON(t, p.Base+"/v1/droppingmetrics/"+ws.DBUUID, &left))
		return len(left) == 0
	}, 5*time.Minute, 200*time.Millisecond, "the drop resumes and finishes")
	assert.Zero(t, p.Count(ws, "big", "v"))
	p.Stop(30 * time.Second)
}

func getJSON(t *testing.T, url string, out any) int {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	var env struct {
		Content json.RawMessage `json:"content"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&env))
	if resp.StatusCode == 200 && out != nil {
		require.NoError(t, json.Unmarshal(env.Content, out))
	}
	return resp.StatusCode
}

// TestHostileSeriesCountSurvivesRestart: /v1/tscnt answers the same count
// after a restart.
func TestHostileSeriesCountSurvivesRestart(t *testing.T) {
	p := startProc(t, t.TempDir())
	ws := p.CreateWorkspace()
	var sb strings.Builder
	for i := range 500 {
		fmt.Fprintf(&sb, "cpu,host=h%d v=1\n", i)
	}
	require.Equal(t, 200, p.WriteLines(ws, sb.String(), true).Status)
	count := func() []int64 {
		var out []int64
		require.Equal(t, 200, postJSON(t, p.Base+"/v1/tscnt", []string{ws.DBUUID}, &out))
		return out
	}
	before := count()
	require.InDelta(t, 500, before[0], 50)
	p.Restart()
	assert.Equal(t, before, count())
	p.Stop(30 * time.Second)
}

// TestHostileWorkspaceChurnFDs: workspaces created, written and deleted in
// rounds leave the open file descriptors where they started; the cost of
// a live workspace is logged (the ceiling is the fd limit over it).
func TestHostileWorkspaceChurnFDs(t *testing.T) {
	p := startProc(t, t.TempDir())
	keep := p.CreateWorkspace()
	require.Equal(t, 200, p.WriteLines(keep, "cpu v=1\n", false).Status)
	_, base, err := p.Stats()
	require.NoError(t, err)
	const n = 40
	for round := range 3 {
		var wss []testWorkspace
		for range n {
			ws := p.CreateWorkspace()
			a := p.WriteLines(ws, "cpu,host=a v=1\n", false)
			require.Equal(t, 200, a.Status, "%s", a)
			wss = append(wss, ws)
		}
		_, live, err := p.Stats()
		require.NoError(t, err)
		for _, ws := range wss {
			require.Equal(t, 200, postJSON(t, p.Base+"/v1/workspace/delete", map[string]any{"workspace_uuid": ws.WorkspaceUUID}, nil))
		}
		_, after, err := p.Stats()
		require.NoError(t, err)
		t.Logf("round %d: %d fds before, %d with %d more workspaces (%.1f each), %d after deleting them", round, base, live, n, float64(live-base)/n, after)
		assert.LessOrEqual(t, after, base+10, "deleting workspaces gives their descriptors back")
		a := p.WriteLines(wss[0], "cpu v=2\n", false)
		assert.Equal(t, 403, a.Status, "a deleted workspace's token is gone: %s", a)
	}
	assert.EqualValues(t, 1, p.Count(keep, "cpu", "v"))
	p.Stop(30 * time.Second)
}

// startLimited runs the binary under prlimit with an open-file limit of
// nofile (soft and hard), or skips when prlimit is missing.
func startLimited(t *testing.T, data string, nofile int, args ...string) *proc {
	t.Helper()
	prl, err := exec.LookPath("prlimit")
	if err != nil {
		t.Skip("prlimit (util-linux) is needed to lower the open-file limit")
	}
	bin, err := buildKodo()
	require.NoError(t, err)
	p := &proc{t: t, Addr: freeAddr(t), Data: data, args: args}
	p.Base = "http://" + p.Addr
	cmd := exec.Command(prl, fmt.Sprintf("--nofile=%d:%d", nofile, nofile), "--", bin,
		"-listen", p.Addr, "-data", data, "-log-level", "warn")
	cmd.Args = append(cmd.Args, args...)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	p.cmd, p.exited = cmd, make(chan struct{})
	exited := p.exited
	go func() { p.err = cmd.Wait(); close(exited) }()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-exited })
	require.Eventually(t, func() bool {
		resp, err := http.Get(p.Base + "/v1/ping")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	}, 90*time.Second, 50*time.Millisecond, "kodo answers /v1/ping")
	return p
}

// TestHostileOpenFileLimit: workspaces up to the open-file limit; past
// it, creation and writes answer 503 with Retry-After naming the cause
// (never a 500, never a crash), and deleting workspaces makes room again.
func TestHostileOpenFileLimit(t *testing.T) {
	p := startLimited(t, t.TempDir(), 400)
	var wss []testWorkspace
	var refused answer
	for i := 0; i < 60 && refused.Status == 0; i++ {
		var ws testWorkspace
		req, _ := http.NewRequest(http.MethodPost, p.Base+"/v1/workspace/create", strings.NewReader(`{"name":"fd"}`))
		a, err := do(req, 30*time.Second)
		require.NoError(t, err)
		if a.Status != 200 {
			refused = a
			break
		}
		var env struct{ Content testWorkspace }
		require.NoError(t, json.Unmarshal([]byte(a.Body), &env))
		ws = env.Content
		wss = append(wss, ws)
		if a := p.WriteLines(ws, "cpu,host=a v=1\n", false); a.Status != 200 {
			refused = a
		}
	}
	_, fds, err := p.Stats()
	require.NoError(t, err)
	t.Logf("%d workspaces under a 400-descriptor limit (%d open), then: %s", len(wss), fds, refused)
	require.NotZero(t, refused.Status, "the limit was reached")
	require.Equal(t, http.StatusServiceUnavailable, refused.Status, "%s", refused)
	requireClientError(t, refused)
	assert.Contains(t, refused.Body, "open-file limit")
	require.True(t, p.Alive())

	for _, ws := range wss[:len(wss)/2] {
		require.Equal(t, 200, postJSON(t, p.Base+"/v1/workspace/delete", map[string]any{"workspace_uuid": ws.WorkspaceUUID}, nil))
	}
	ws := p.CreateWorkspace()
	a := p.WriteLines(ws, "cpu,host=a v=1\n", false)
	require.Equal(t, 200, a.Status, "room again after deleting workspaces: %s", a)
	// The workspace whose write was refused works too: the refused shard
	// creation left nothing behind that stays broken.
	last := wss[len(wss)-1]
	a = p.WriteLines(last, "cpu,host=a v=2\n", false)
	require.Equal(t, 200, a.Status, "%s", a)
	assert.EqualValues(t, 1, p.Count(last, "cpu", "v"), "the refused write is not readable, the later one is")
	p.Stop(30 * time.Second)
	p.start() // and it starts again on its data
	p.Stop(30 * time.Second)
}

// TestHostileIdleShardsClose: a workspace with a month of daily shards
// holds ~10 descriptors a shard while they are in use; unused for
// -idle-shard-timeout they close, and a query opens them again and finds
// every point.
func TestHostileIdleShardsClose(t *testing.T) {
	p := startProc(t, t.TempDir(), "-idle-shard-timeout", "2s")
	ws := p.CreateWorkspace()
	_, base, err := p.Stats()
	require.NoError(t, err)
	var sb strings.Builder
	now := time.Now()
	for d := 1; d <= 30; d++ {
		fmt.Fprintf(&sb, "spread v=%d %d\n", d, now.Add(-time.Duration(d)*24*time.Hour).UnixNano())
	}
	a := p.WriteLines(ws, sb.String(), true)
	require.Equal(t, 200, a.Status, "%s", a)
	_, open, err := p.Stats()
	require.NoError(t, err)
	var closed int
	require.Eventually(t, func() bool {
		_, closed, err = p.Stats()
		require.NoError(t, err)
		return closed < base+30
	}, 2*time.Minute, 200*time.Millisecond, "idle shards close")
	t.Logf("fds: %d before, %d with 30 daily shards open, %d once they are idle", base, open, closed)
	assert.EqualValues(t, 30, p.Count(ws, "spread", "v"), "a query opens them again")
	p.Restart()
	assert.EqualValues(t, 30, p.Count(ws, "spread", "v"))
	p.Stop(30 * time.Second)
}
