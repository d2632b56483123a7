package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kodo-project/kodo/internal/testkit"
	"github.com/kodo-project/kodo/signer"
)

// The hostile suite runs attacks against the built binary, not the handler
// in-process: only the real process shows what the http.Server, the
// engine and the process limits do (stack depth, file descriptors, slow
// sockets, memory under concurrency). These helpers start the binary,
// watch its RSS and open files from /proc, and restart it on its data.

// proc is one running kodo binary.
type proc struct {
	t      *testing.T
	cmd    *exec.Cmd
	Addr   string // host:port on loopback
	Base   string // http://Addr
	Data   string
	args   []string
	exited chan struct{}
	err    error // Wait's result, valid once exited is closed
}

// startProc runs the binary on a free loopback port with data as its data
// directory and extra flags, and waits until /v1/ping answers 200.
func startProc(t *testing.T, data string, args ...string) *proc {
	t.Helper()
	p := &proc{t: t, Addr: freeAddr(t), Data: data, args: args}
	p.Base = "http://" + p.Addr
	p.start()
	return p
}

func (p *proc) start() {
	t := p.t
	t.Helper()
	bin, err := buildKodo()
	require.NoError(t, err)
	args := append([]string{"-listen", p.Addr, "-data", p.Data, "-log-level", "warn"}, p.args...)
	cmd := exec.Command(bin, args...)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	p.cmd, p.exited = cmd, make(chan struct{})
	exited := p.exited
	go func() { p.err = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	deadline := time.Now().Add(90 * time.Second)
	for {
		resp, err := http.Get(p.Base + "/v1/ping")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		select {
		case <-exited:
			require.FailNow(t, "kodo exited before answering /v1/ping", "%v", p.err)
		default:
		}
		require.True(t, time.Now().Before(deadline), "kodo did not answer /v1/ping within 90s: %v", err)
		time.Sleep(50 * time.Millisecond) // polling interval
	}
}

// PID of the running process.
func (p *proc) PID() int { return p.cmd.Process.Pid }

// Alive reports whether the process is still running.
func (p *proc) Alive() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// Stop sends SIGTERM and waits at most bound for the exit, which must be
// clean (status 0). It fails the test otherwise.
func (p *proc) Stop(bound time.Duration) {
	t := p.t
	t.Helper()
	require.True(t, p.Alive(), "kodo died before Stop: %v", p.err)
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-p.exited:
		require.NoError(t, p.err, "kodo's exit after SIGTERM")
	case <-time.After(bound):
		_ = p.cmd.Process.Signal(syscall.SIGQUIT) // goroutine dump on stderr
		<-p.exited
		require.FailNow(t, "kodo did not exit within its shutdown bound", "bound %s", bound)
	}
}

// Kill sends SIGKILL and waits for the process to go.
func (p *proc) Kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
}

// Restart stops the process (SIGTERM, 60s bound) and starts it again on the
// same data directory, address and flags.
func (p *proc) Restart() {
	p.t.Helper()
	if p.Alive() {
		p.Stop(60 * time.Second)
	}
	p.start()
}

// Stats reads the process's resident memory and open file descriptors.
func (p *proc) Stats() (rss int64, fds int, err error) {
	return procStats(p.PID())
}

func procStats(pid int) (rss int64, fds int, err error) {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return 0, 0, fmt.Errorf("VmRSS %q: %w", v, err)
			}
			rss = kb << 10
		}
	}
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return 0, 0, err
	}
	return rss, len(ents), nil
}

// watcher samples a process's RSS and fds until stopped and keeps the peaks.
type watcher struct {
	stop    chan struct{}
	done    chan struct{}
	mu      sync.Mutex
	maxRSS  int64
	maxFDs  int
	samples int
}

// Watch samples the process every 50ms from now until the watcher's Peak.
func (p *proc) Watch() *watcher {
	w := &watcher{stop: make(chan struct{}), done: make(chan struct{})}
	pid := p.PID()
	go func() {
		defer close(w.done)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			if rss, fds, err := procStats(pid); err == nil {
				w.mu.Lock()
				w.maxRSS, w.maxFDs = max(w.maxRSS, rss), max(w.maxFDs, fds)
				w.samples++
				w.mu.Unlock()
			}
			select {
			case <-w.stop:
				return
			case <-tick.C:
			}
		}
	}()
	return w
}

// Peak stops sampling and returns the highest RSS and fd count seen.
func (w *watcher) Peak() (rss int64, fds int) {
	select {
	case <-w.stop:
	default:
		close(w.stop)
	}
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.maxRSS, w.maxFDs
}

// assertBounded checks a watcher's peaks against bounds and logs them, so
// every attack's cost is in the test output.
func assertBounded(t *testing.T, w *watcher, rssBound int64, fdBound int) {
	t.Helper()
	rss, fds := w.Peak()
	t.Logf("peak RSS %d MiB (bound %d MiB), peak open fds %d (bound %d)", rss>>20, rssBound>>20, fds, fdBound)
	assert.LessOrEqual(t, rss, rssBound, "RSS bound")
	assert.LessOrEqual(t, fds, fdBound, "open file descriptor bound")
}

// testWorkspace is what /v1/workspace/create answers.
type testWorkspace struct {
	WorkspaceUUID string `json:"workspace_uuid"`
	Token         string `json:"token"`
	DBUUID        string `json:"db_uuid"`
	DB            string `json:"db"`
	Secret        string `json:"secret"`
}

// CreateWorkspace makes a workspace through the management API (loopback
// trust) and returns it.
func (p *proc) CreateWorkspace() testWorkspace {
	p.t.Helper()
	return createWorkspace(p.t, p.Base)
}

// createWorkspace makes a workspace on the gateway at base.
func createWorkspace(t *testing.T, base string) testWorkspace {
	t.Helper()
	var ws testWorkspace
	require.Equal(t, 200, postJSON(t, base+"/v1/workspace/create", map[string]any{"name": "test"}, &ws))
	require.NotEmpty(t, ws.Token)
	return ws
}

// answer is a response read whole.
type answer struct {
	Status int
	Header http.Header
	Body   string
}

func (a answer) String() string { return fmt.Sprintf("%d %s", a.Status, a.Body) }

// do sends req with a bounded client and reads the answer whole. A
// transport error is returned, not fatal: attacks expect some.
func do(req *http.Request, timeout time.Duration) (answer, error) {
	resp, err := (&http.Client{Timeout: timeout}).Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return answer{Status: resp.StatusCode, Header: resp.Header, Body: string(b)}, err
}

// WriteLines posts line protocol to /v1/write/metrics signed with the
// workspace's token (DATAFLUX, keyed by its secret when it has one),
// gzipped when zip is set.
func (p *proc) WriteLines(ws testWorkspace, lines string, zip bool) answer {
	p.t.Helper()
	body := []byte(lines)
	req, err := http.NewRequest(http.MethodPost, p.Base+"/v1/write/metrics", nil)
	require.NoError(p.t, err)
	if zip {
		body = testkit.Gzip(p.t, body)
		req.Header.Set("Content-Encoding", "gzip")
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.ContentLength = int64(len(body))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	rt := signer.NewDatafluxTransport(nil, ws.Token, ws.Secret, signer.AlgoSHA256)
	resp, err := (&http.Client{Timeout: 60 * time.Second, Transport: rt}).Do(req)
	require.NoError(p.t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{Status: resp.StatusCode, Header: resp.Header, Body: string(b)}
}

// Count answers SELECT count(field) FROM measurement in the workspace's
// database through /v1/read/metrics (0 when there is no point).
func (p *proc) Count(ws testWorkspace, measurement, field string) int64 {
	p.t.Helper()
	return p.CountQuery(ws, fmt.Sprintf("SELECT count(%q) FROM %q", field, measurement))
}

// CountQuery answers a SELECT count(...) command in the workspace's
// database through /v1/read/metrics (0 when there is no point).
func (p *proc) CountQuery(ws testWorkspace, command string) int64 {
	p.t.Helper()
	var qc struct {
		Results []struct {
			Series []struct {
				Values [][]any `json:"values"`
			} `json:"Series"`
			Error string `json:"error"`
		} `json:"results"`
	}
	require.Equal(p.t, 200, postJSON(p.t, p.Base+"/v1/read/metrics", map[string]any{
		"db": ws.DBUUID, "command": command}, &qc))
	require.Len(p.t, qc.Results, 1)
	require.Empty(p.t, qc.Results[0].Error)
	if len(qc.Results[0].Series) == 0 {
		return 0
	}
	n, ok := qc.Results[0].Series[0].Values[0][1].(float64)
	require.True(p.t, ok, "count is a number: %v", qc.Results[0].Series[0].Values[0])
	return int64(n)
}

// Influx sends an InfluxDB 1.x API request (/query or /write) with the
// workspace token as the password.
func (p *proc) Influx(ws testWorkspace, method, path string, form map[string]string, body io.Reader, contentType string) answer {
	p.t.Helper()
	req, err := http.NewRequest(method, p.Base+path, body)
	require.NoError(p.t, err)
	req.SetBasicAuth("kodo", ws.Token)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if len(form) > 0 {
		q := req.URL.Query()
		for k, v := range form {
			q.Set(k, v)
		}
		req.URL.RawQuery = q.Encode()
	}
	a, err := do(req, 60*time.Second)
	require.NoError(p.t, err)
	return a
}

// requireClientError asserts a 4xx answer that carries a message, or a
// capacity answer (503/507) with Retry-After.
func requireClientError(t *testing.T, a answer, msgAndArgs ...any) {
	t.Helper()
	switch {
	case a.Status >= 400 && a.Status < 500:
		var body map[string]any
		require.NoError(t, json.Unmarshal([]byte(a.Body), &body), "a JSON answer: %s", a.Body)
		msg := fmt.Sprint(body["message"], body["error"])
		assert.NotEqual(t, "<nil> <nil>", msg, "the answer says what is wrong: %s", a.Body)
	case a.Status == 503 || a.Status == 507:
		assert.NotEmpty(t, a.Header.Get("Retry-After"), "capacity answers carry Retry-After: %s", a)
	default:
		require.Failf(t, "want a 4xx with a message, or 503/507 with Retry-After", "got %s %v", a, msgAndArgs)
	}
}
