package kodo_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	iql "github.com/influxdata/influxql"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kodo-project/kodo/internal/testkit"
	"github.com/kodo-project/kodo/internal/tmpfs"
	"github.com/kodo-project/kodo/kodo"
	"github.com/kodo-project/kodo/signer"
)

// fakeInflux is a remote InfluxDB 1.x that answers every statement with an
// empty result, except DROP MEASUREMENT, which waits for release while
// block is set: a drop of millions of series, on demand.
type fakeInflux struct {
	srv     *httptest.Server
	mu      sync.Mutex
	block   bool
	release chan struct{}
	dead    bool
}

func newFakeInflux(t *testing.T) *fakeInflux {
	f := &fakeInflux{release: make(chan struct{})}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeInflux) setDead(dead bool) {
	f.mu.Lock()
	f.dead = dead
	f.mu.Unlock()
}

func (f *fakeInflux) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	dead, block := f.dead, f.block
	f.mu.Unlock()
	if dead {
		http.Error(w, `{"error":"down"}`, http.StatusServiceUnavailable)
		return
	}
	switch r.URL.Path {
	case "/ping", "/write":
		w.WriteHeader(http.StatusNoContent)
		return
	}
	_ = r.ParseForm()
	q, err := iql.ParseQuery(r.Form.Get("q"))
	if err != nil {
		http.Error(w, `{"error":"parse"}`, http.StatusBadRequest)
		return
	}
	res := make([]map[string]any, len(q.Statements))
	for i, st := range q.Statements {
		if _, ok := st.(*iql.DropMeasurementStatement); ok && block {
			select {
			case <-f.release:
			case <-r.Context().Done():
				return
			}
		}
		res[i] = map[string]any{"statement_id": i}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"results": res})
}

func (h *harness) dropping(dbUUID string) []string {
	h.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, h.ts.URL+"/v1/droppingmetrics/"+dbUUID, nil)
	code, env := h.do(nil, req)
	require.Equal(h.t, 200, code, env.Message)
	var out []string
	require.NoError(h.t, json.Unmarshal(env.Content, &out))
	return out
}

// TestLongDropAnswersAccepted: a DROP MEASUREMENT that outlives the query
// limit is answered "accepted and running" (202 on /v1/manage/metrics, a
// warning message on /query), is listed by /v1/droppingmetrics while it
// runs, and leaves the list once the engine is done.
func TestLongDropAnswersAccepted(t *testing.T) {
	f := newFakeInflux(t)
	f.block = true
	h := newHarness(t, func(o *kodo.Options) {
		o.InfluxURLs = []string{f.srv.URL}
		o.Limits.QueryTimeout = 300 * time.Millisecond
	})
	ws := h.createWorkspace()

	code, env := h.post("/v1/manage/metrics", map[string]any{"db": ws.DBUUID, "command": "DROP MEASUREMENT big"})
	require.Equal(t, http.StatusAccepted, code, env.Message)
	assert.Contains(t, env.Message, "still running")
	assert.Contains(t, env.Message, "/v1/droppingmetrics/"+ws.DBUUID)
	assert.Equal(t, []string{"big"}, h.dropping(ws.DBUUID))

	form := url.Values{"q": {"DROP MEASUREMENT big2"}, "db": {ws.DB}, "p": {ws.Token}}
	resp, err := h.ts.Client().PostForm(h.ts.URL+"/query", form)
	require.NoError(t, err)
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode, "%s", raw)
	assert.Contains(t, string(raw), "still running")
	assert.ElementsMatch(t, []string{"big", "big2"}, h.dropping(ws.DBUUID))

	close(f.release) // the engine finishes
	require.Eventually(t, func() bool { return len(h.dropping(ws.DBUUID)) == 0 }, 20*time.Second, 20*time.Millisecond)

	// A quick drop is answered as done.
	code, env = h.post("/v1/manage/metrics", map[string]any{"db": ws.DBUUID, "command": "DROP MEASUREMENT small"})
	require.Equal(t, 200, code, env.Message)
	assert.Empty(t, h.dropping(ws.DBUUID))
}

// TestDropConfiguredRPRefused: a tenant cannot drop the retention policies
// its database is configured with (every later write would fail), but may
// drop one it created itself.
func TestDropConfiguredRPRefused(t *testing.T) {
	h := newHarness(t)
	ws := h.createWorkspace()
	influxQuery := func(q string) (int, string) {
		resp, err := h.ts.Client().PostForm(h.ts.URL+"/query", url.Values{"q": {q}, "db": {ws.DB}, "p": {ws.Token}})
		require.NoError(t, err)
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(raw)
	}
	// The default RP and the CQ RP are what writes and CQs land in: the
	// tenant must pick others first (influxd would drop them and leave
	// every later write failing).
	for _, rp := range []string{ws.RP, "autogen"} {
		code, body := influxQuery("DROP RETENTION POLICY " + rp + " ON " + ws.DB)
		assert.Equal(t, http.StatusBadRequest, code, body)
		assert.Contains(t, body, "retention policy "+rp)
	}
	code, env := h.post("/v1/manage/metrics", map[string]any{"db": ws.DBUUID, "command": "DROP RETENTION POLICY " + ws.RP + " ON " + ws.DB})
	assert.Equal(t, http.StatusBadRequest, code, env.Message)

	code, body := influxQuery("CREATE RETENTION POLICY mine ON " + ws.DB + " DURATION 2h REPLICATION 1")
	require.Equal(t, 200, code, body)
	code, body = influxQuery("DROP RETENTION POLICY mine ON " + ws.DB)
	require.Equal(t, 200, code, body)
	assert.NotContains(t, body, "error")

	code, env = h.write(ws.Token, "cpu v=1", nil)
	assert.Equal(t, 200, code, env.Message)
}

// TestPlacementSkipsDeadInstance: with two remote instances and one of them
// down, new databases go to the live one; with both down, creation answers
// 503 with Retry-After naming the cause.
func TestPlacementSkipsDeadInstance(t *testing.T) {
	a, b := newFakeInflux(t), newFakeInflux(t)
	a.setDead(true)
	h := newHarness(t, func(o *kodo.Options) { o.InfluxURLs = []string{a.srv.URL, b.srv.URL} })
	first := h.createWorkspace()
	for range 3 {
		assert.Equal(t, first.UUID, h.createWorkspace().UUID, "every database goes to the live instance")
	}
	b.setDead(true)
	req, _ := http.NewRequest(http.MethodPost, h.ts.URL+"/v1/workspace/create", strings.NewReader(`{"name":"x"}`))
	req.Header.Set("Content-Type", "application/json")
	var retryAfter string
	require.Eventually(t, func() bool { // b's cached "healthy" expires
		resp, err := h.ts.Client().Do(req.Clone(t.Context()))
		require.NoError(t, err)
		resp.Body.Close()
		retryAfter = resp.Header.Get("Retry-After")
		return resp.StatusCode == http.StatusServiceUnavailable
	}, 20*time.Second, 100*time.Millisecond)
	assert.NotEmpty(t, retryAfter)
	code, env := h.post("/v1/workspace/create", map[string]any{"name": "y"})
	require.Equal(t, 503, code)
	assert.Contains(t, env.Message, "no time-series instance is healthy")

	a.setDead(false)
	require.Eventually(t, func() bool {
		code, _ := h.post("/v1/workspace/create", map[string]any{"name": "z"})
		return code == 200
	}, 20*time.Second, 100*time.Millisecond)
}

// TestSeriesCountSurvivesRestart: /v1/tscnt answers the same count after
// the gateway restarts on its data.
func TestSeriesCountSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	h := newHarness(t, func(o *kodo.Options) { o.DataDir = dir })
	ws := h.createWorkspace()
	var lines strings.Builder
	for i := range 300 {
		fmt.Fprintf(&lines, "cpu,host=h%d v=1\n", i)
	}
	code, env := h.write(ws.Token, lines.String(), nil)
	require.Equal(t, 200, code, env.Message)
	count := func(h *harness) []int64 {
		code, env := h.post("/v1/tscnt", []string{ws.DBUUID})
		require.Equal(t, 200, code, env.Message)
		var out []int64
		require.NoError(t, json.Unmarshal(env.Content, &out))
		return out
	}
	before := count(h)
	require.InDelta(t, 300, before[0], 30)
	h.close()

	h2 := newHarness(t, func(o *kodo.Options) { o.DataDir = dir })
	assert.Equal(t, before, count(h2))
}

// close shuts the gateway down now (the cleanup's second Shutdown is a no-op).
func (h *harness) close() {
	h.t.Helper()
	h.ts.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(h.t, h.srv.Shutdown(ctx))
}

// TestShutdownWithinBound: a request that never ends (a body that stops
// arriving) does not hold Shutdown past its context.
func TestShutdownWithinBound(t *testing.T) {
	srv, err := kodo.New(kodo.Options{DataDir: t.TempDir(), Listen: "127.0.0.1:0"})
	require.NoError(t, err)
	require.NoError(t, srv.Start())
	ws := func() workspace {
		resp, err := http.Post("http://"+srv.Addr().String()+"/v1/workspace/create", "application/json", strings.NewReader(`{"name":"x"}`))
		require.NoError(t, err)
		defer resp.Body.Close()
		var env struct{ Content workspace }
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&env))
		return env.Content
	}()
	conn, err := net.Dial("tcp", srv.Addr().String())
	require.NoError(t, err)
	defer conn.Close()
	_, err = fmt.Fprintf(conn, "POST /write?db=%s&p=%s HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 1000000\r\n\r\n", ws.DB, ws.Token)
	require.NoError(t, err)
	// The server answers 100 Continue once the handler reads the body.
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(10*time.Second)))
	line, err := bufio.NewReader(conn).ReadString('\n')
	require.NoError(t, err)
	require.Contains(t, line, "100 Continue")
	_, err = conn.Write([]byte("cpu v=1\n")) // then the body stops coming

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- srv.Shutdown(ctx) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Shutdown did not return within 10s of a 2s bound")
	}
}

// TestDiskFull507: on a full disk (a real tmpfs), writes answer 507 with
// Retry-After naming the cause, nothing of them is readable, and writes
// work again once space is freed, without a restart.
func TestDiskFull507(t *testing.T) {
	dir := tmpfs.Mount(t, 64<<20)
	h := newHarness(t, func(o *kodo.Options) {
		o.DataDir = dir
		o.Limits.MinFreeDiskBytes = 4 << 20
	})
	ws := h.createWorkspace()
	code, env := h.write(ws.Token, "cpu,host=a v=1", nil)
	require.Equal(t, 200, code, env.Message)

	filler := filepath.Join(dir, "filler")
	f, err := os.Create(filler)
	require.NoError(t, err)
	chunk := make([]byte, 1<<20)
	for {
		if _, err := f.Write(chunk); err != nil {
			require.ErrorIs(t, err, syscall.ENOSPC)
			break
		}
	}
	require.NoError(t, f.Close())

	req, _ := http.NewRequest(http.MethodPost, h.ts.URL+"/v1/write/metrics", bytes.NewReader(testkit.Gzip(t, []byte("cpu,host=a v=2"))))
	req.Header.Set("Content-Encoding", "gzip")
	req.Header.Set("Content-Type", "text/plain")
	resp, err := (&http.Client{Transport: signer.NewDatafluxTransport(h.ts.Client().Transport, ws.Token, ws.Secret, signer.AlgoSHA256)}).Do(req)
	require.NoError(t, err)
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusInsufficientStorage, resp.StatusCode, "%s", raw)
	assert.NotEmpty(t, resp.Header.Get("Retry-After"))
	assert.Contains(t, string(raw), "kodo.insufficientStorage")
	assert.Contains(t, string(raw), "full")

	_, _, qc := h.query(ws.DBUUID, "SELECT count(v) FROM cpu")
	require.Len(t, qc.Results, 1)
	require.Len(t, qc.Results[0].Series, 1)
	assert.EqualValues(t, 1, qc.Results[0].Series[0].Values[0][1])

	require.NoError(t, os.Remove(filler))
	code, env = h.write(ws.Token, "cpu,host=a v=3", nil)
	require.Equal(t, 200, code, env.Message)
	_, _, qc = h.query(ws.DBUUID, "SELECT count(v) FROM cpu")
	assert.EqualValues(t, 2, qc.Results[0].Series[0].Values[0][1])
}

func openFDs(t *testing.T) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd: %v", err)
	}
	return len(ents)
}

// TestWorkspaceDelete: deleting a workspace removes its token, database
// and records, and gives back the file descriptors its engine database
// held; another workspace is untouched.
func TestWorkspaceDelete(t *testing.T) {
	h := newHarness(t)
	keep := h.createWorkspace()
	code, env := h.write(keep.Token, "cpu,host=a v=1", nil)
	require.Equal(t, 200, code, env.Message)
	base := openFDs(t)

	const n = 20
	var wss []workspace
	for range n {
		ws := h.createWorkspace()
		code, env := h.write(ws.Token, "cpu,host=a v=1", nil)
		require.Equal(t, 200, code, env.Message)
		wss = append(wss, ws)
	}
	code, env = h.post("/v1/cq/create", map[string]any{"db_uuid": wss[0].DBUUID, "workspace_uuid": wss[0].WorkspaceUUID,
		"measurements": []map[string]string{{"measurement": "cpu", "aggr_func": "max", "aggr_period": "1m", "aggr_every": "1m"}}})
	require.Equal(t, 200, code, env.Message)
	code, env = h.post("/v1/workspace/keypair/create", map[string]any{"workspace_uuid": wss[0].WorkspaceUUID})
	require.Equal(t, 200, code, env.Message)
	logs := func(ws workspace) float64 {
		code, env := h.post("/v1/read/docs", map[string]any{"workspace_uuid": ws.WorkspaceUUID, "kind": "logging"})
		require.Equal(t, 200, code, env.Message)
		var res struct {
			Total float64 `json:"total"`
		}
		require.NoError(t, json.Unmarshal(env.Content, &res))
		return res.Total
	}
	for _, ws := range []workspace{wss[0], keep} {
		req, _ := http.NewRequest(http.MethodPost, h.ts.URL+"/v1/write/logging?source=app", strings.NewReader("app message=\"kept or gone\"\n"))
		code, env := h.do(&http.Client{Transport: signer.NewDatafluxTransport(h.ts.Client().Transport, ws.Token, ws.Secret, signer.AlgoSHA256)}, req)
		require.Equal(t, 200, code, env.Message)
		require.EqualValues(t, 1, logs(ws))
	}
	grown := openFDs(t)
	t.Logf("open fds: %d with one workspace, %d with %d more (%.1f each)", base, grown, n, float64(grown-base)/n)

	for _, ws := range wss {
		code, env := h.post("/v1/workspace/delete", map[string]any{"workspace_uuid": ws.WorkspaceUUID})
		require.Equal(t, 200, code, env.Message)
	}
	after := openFDs(t)
	t.Logf("open fds after deleting them: %d", after)
	assert.LessOrEqual(t, after, base+5, "the deleted workspaces' descriptors are closed")

	gone := wss[0]
	assert.EqualValues(t, 0, logs(gone), "its documents are deleted too")
	assert.EqualValues(t, 1, logs(keep), "another workspace keeps its own")
	code, env = h.write(gone.Token, "cpu,host=a v=2", nil)
	assert.Equal(t, 403, code, env.Message)
	code, env = h.post("/v1/read/metrics", map[string]any{"db": gone.DBUUID, "command": "SELECT * FROM cpu"})
	assert.Equal(t, "kodo.dbNotFound", env.ErrorCode, "%d %s", code, env.Message)
	code, env = h.post("/v1/workspace/delete", map[string]any{"workspace_uuid": gone.WorkspaceUUID})
	assert.Equal(t, "kodo.workspaceNotFound", env.ErrorCode, "%d %s", code, env.Message)
	code, env = h.post("/v1/workspace/delete", map[string]any{})
	assert.Equal(t, 400, code, env.Message)

	code, env = h.write(keep.Token, "cpu,host=a v=2", nil)
	require.Equal(t, 200, code, env.Message)
	_, _, qc := h.query(keep.DBUUID, "SELECT count(v) FROM cpu")
	assert.EqualValues(t, 2, qc.Results[0].Series[0].Values[0][1])
}
