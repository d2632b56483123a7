package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kodo-project/kodo/signer"
)

// buildKodo compiles this command once per test binary.
var buildKodo = sync.OnceValues(func() (string, error) { return goBuild(".", "kodo") })

// goBuild compiles the command in dir into a temporary file.
func goBuild(dir, name string) (string, error) {
	tmp, err := os.MkdirTemp("", name+"-bin")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(tmp, name)
	out, err := exec.Command("go", "build", "-o", bin, dir).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build %s: %v\n%s", dir, err, out)
	}
	return bin, nil
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().String()
}

// startKodo runs the server binary on a loopback port and waits for /v1/ping.
func startKodo(t *testing.T, addr, data string) *exec.Cmd {
	t.Helper()
	bin, err := buildKodo()
	require.NoError(t, err)
	cmd := exec.Command(bin, "-listen", addr, "-data", data, "-log-level", "warn")
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_, _ = cmd.Process.Wait()
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/v1/ping")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return cmd
			}
		}
		require.True(t, time.Now().Before(deadline), "kodo did not answer /v1/ping within 60s: %v", err)
		time.Sleep(50 * time.Millisecond) // polling interval
	}
}

func postJSON(t *testing.T, url string, body any, out any) int {
	t.Helper()
	raw, _ := json.Marshal(body)
	resp, err := http.Post(url, "application/json", bytes.NewReader(raw))
	require.NoError(t, err)
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var env struct {
		Content json.RawMessage `json:"content"`
		Message string          `json:"message"`
	}
	require.NoError(t, json.Unmarshal(data, &env), "%s", data)
	if out != nil && resp.StatusCode == 200 {
		require.NoError(t, json.Unmarshal(env.Content, out))
	}
	return resp.StatusCode
}

func TestServerStartsAndAnswersHealth(t *testing.T) {
	addr := freeAddr(t)
	cmd := startKodo(t, addr, t.TempDir())
	resp, err := http.Get("http://" + addr + "/v1/ping")
	require.NoError(t, err)
	resp.Body.Close()
	assert.NotEmpty(t, resp.Header.Get("X-Trace-Id"))
	// SIGTERM is a clean shutdown: exit status 0.
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, cmd.Wait())
}

// TestSIGKILLKeepsAcknowledgedPoints writes under load, SIGKILLs the
// server at random moments, restarts it on the same data dir and checks
// that every batch answered 200 is there in full.
func TestSIGKILLKeepsAcknowledgedPoints(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills the server binary several times")
	}
	// The check of every acknowledged token below would otherwise run
	// into the per-address limit of /v1/check/token (-auth-fail-burst).
	t.Setenv("KODO_AUTH_FAIL_RATE", "-1")
	data := t.TempDir()
	addr := freeAddr(t)
	cmd := startKodo(t, addr, data)
	base := "http://" + addr
	ws := createWorkspace(t, base)

	const perBatch = 200
	const logsPerBatch = 50
	acked := map[string]bool{}     // metric batch tag -> answered 200
	ackedLogs := map[string]bool{} // log batch tag -> answered 200
	var ackedTokens []string       // workspaces created (metadata store)
	var mu sync.Mutex
	start := time.Now().Add(-time.Hour).UnixNano()
	var seq int64
	for round := 0; round < 3; round++ {
		stop := make(chan struct{})
		var wg sync.WaitGroup
		client := signedClient(ws.Token, ws.Secret)
		for w := 0; w < 3; w++ {
			load(&wg, stop, func(b int) bool {
				mu.Lock()
				seq++
				batch := fmt.Sprintf("r%dw%db%d", round, w, b)
				t0 := start + seq*perBatch*1000
				mu.Unlock()
				var lp bytes.Buffer
				zw := gzip.NewWriter(&lp)
				for i := 0; i < perBatch; i++ {
					fmt.Fprintf(zw, "crash,batch=%s,host=h%d f=%di %d\n", batch, i%10, i, t0+int64(i)*1000)
				}
				zw.Close()
				req, _ := http.NewRequest(http.MethodPost, base+"/v1/write/metrics", &lp)
				req.Header.Set("Content-Encoding", "gzip")
				code := status(client.Do(req))
				if code == 200 {
					mu.Lock()
					acked[batch] = true
					mu.Unlock()
				}
				return code != 0 // 0: the server is gone
			})
		}
		load(&wg, stop, func(int) bool { // workspaces go to the metadata store
			resp, err := http.Post(base+"/v1/workspace/create", "application/json", strings.NewReader(`{"name":"crash"}`))
			if err != nil {
				return false
			}
			var env struct {
				Content struct {
					Token string `json:"token"`
				} `json:"content"`
			}
			_ = json.NewDecoder(resp.Body).Decode(&env)
			resp.Body.Close()
			if resp.StatusCode == 200 {
				mu.Lock()
				ackedTokens = append(ackedTokens, env.Content.Token)
				mu.Unlock()
			}
			return true
		})
		load(&wg, stop, func(b int) bool { // logs go to the document store
			batch := fmt.Sprintf("r%dl%d", round, b)
			var lp bytes.Buffer
			for i := 0; i < logsPerBatch; i++ {
				fmt.Fprintf(&lp, "app,batch=%s message=\"request %d served\" %d\n", batch, i, start+int64(b*logsPerBatch+i))
			}
			code := status(client.Post(base+"/v1/write/logging?source=app", "text/plain", &lp))
			if code == 200 {
				mu.Lock()
				ackedLogs[batch] = true
				mu.Unlock()
			}
			return code != 0
		})
		// Not synchronisation: the crash must land at a random moment
		// of the load, which is what this test is about.
		time.Sleep(time.Duration(300+rand.IntN(700)) * time.Millisecond)
		require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
		_, _ = cmd.Process.Wait()
		close(stop)
		wg.Wait()
		cmd = startKodo(t, addr, data)
	}
	require.NotEmpty(t, acked, "some batches were acknowledged before the kills")

	var qc struct {
		Results []struct {
			Series []struct {
				Tags   map[string]string `json:"tags"`
				Values [][]any           `json:"values"`
			} `json:"Series"`
		} `json:"results"`
	}
	require.Equal(t, 200, postJSON(t, base+"/v1/read/metrics", map[string]any{
		"db": ws.DBUUID, "command": "SELECT count(f) FROM crash GROUP BY batch"}, &qc))
	found := map[string]float64{}
	for _, s := range qc.Results[0].Series {
		n, _ := s.Values[0][1].(float64)
		found[s.Tags["batch"]] = n
	}
	for batch := range acked {
		assert.EqualValues(t, perBatch, found[batch], "acknowledged batch %s", batch)
	}
	t.Logf("%d acknowledged batches of %d points survived 3 SIGKILLs", len(acked), perBatch)

	require.NotEmpty(t, ackedLogs)
	for batch := range ackedLogs {
		var res struct {
			Total int64 `json:"total"`
		}
		require.Equal(t, 200, postJSON(t, base+"/v1/read/docs", map[string]any{
			"db_uuid": ws.DBUUID, "kind": "logging", "filters": map[string]string{"batch": batch}, "limit": 1}, &res))
		assert.EqualValues(t, logsPerBatch, res.Total, "acknowledged log batch %s", batch)
	}
	t.Logf("%d acknowledged log batches of %d lines survived too", len(ackedLogs), logsPerBatch)

	require.NotEmpty(t, ackedTokens)
	for _, tok := range ackedTokens {
		resp, err := http.Get(base + "/v1/check/token/" + tok)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, 200, resp.StatusCode, "workspace with token %s was acknowledged", tok)
	}
	t.Logf("%d acknowledged workspaces survived too", len(ackedTokens))
}

// TestSIGTERMFinishesInFlightWrites sends SIGTERM while a write's body is
// still arriving: the write completes with 200, the process exits 0, and
// the points are there after a restart.
func TestSIGTERMFinishesInFlightWrites(t *testing.T) {
	data := t.TempDir()
	addr := freeAddr(t)
	cmd := startKodo(t, addr, data)
	base := "http://" + addr
	ws := createWorkspace(t, base)

	var body bytes.Buffer
	ts := time.Now().Add(-time.Hour).UnixNano()
	for i := 0; i < 1000; i++ {
		fmt.Fprintf(&body, "inflight,host=h%d v=%di %d\n", i%5, i, ts+int64(i))
	}
	pr, pw := io.Pipe()
	req, _ := http.NewRequest(http.MethodPost, base+"/v1/write/metrics", pr)
	req.ContentLength = int64(body.Len())
	// The signer hashes the body, so it reads it whole before sending:
	// sign a copy and stream the original slowly.
	signed, _ := http.NewRequest(http.MethodPost, base+"/v1/write/metrics", bytes.NewReader(body.Bytes()))
	var captured http.Header
	capture := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		captured = r.Header.Clone()
		return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader("")), Request: r}, nil
	})
	_, err := (&http.Client{Transport: signer.NewDatafluxTransport(capture, ws.Token, ws.Secret, signer.AlgoSHA256)}).Do(signed)
	require.NoError(t, err)
	req.Header = captured
	// With "Expect: 100-continue" the server answers 100 when the handler
	// first reads the body, and the client sends none before: the trace
	// tells the test the write is in the handler's hands.
	req.Header.Set("Expect", "100-continue")
	reading := make(chan struct{})
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
		Got100Continue: func() { close(reading) },
	}))
	client := &http.Client{Transport: &http.Transport{ExpectContinueTimeout: time.Minute}}

	done := make(chan *http.Response, 1)
	go func() {
		resp, err := client.Do(req)
		if err != nil {
			t.Error(err)
			done <- nil
			return
		}
		done <- resp
	}()
	select {
	case <-reading:
	case <-time.After(30 * time.Second):
		t.Fatal("the handler did not start reading the body within 30s")
	}
	half := body.Len() / 2
	_, err = pw.Write(body.Bytes()[:half])
	require.NoError(t, err)
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	// Send the rest only once the server is shutting down: it has closed
	// its listener, so a new connection is refused.
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			break
		}
		c.Close()
		require.True(t, time.Now().Before(deadline), "kodo still accepts connections 30s after SIGTERM")
		time.Sleep(10 * time.Millisecond) // polling interval
	}
	_, err = pw.Write(body.Bytes()[half:])
	require.NoError(t, err)
	require.NoError(t, pw.Close())
	resp := <-done
	require.NotNil(t, resp)
	resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode, "the in-flight write finished")
	require.NoError(t, cmd.Wait(), "clean exit")

	startKodo(t, addr, data)
	var qc struct {
		Results []struct {
			Series []struct {
				Values [][]any `json:"values"`
			} `json:"Series"`
		} `json:"results"`
	}
	require.Equal(t, 200, postJSON(t, base+"/v1/read/metrics", map[string]any{"db": ws.DBUUID, "command": "SELECT count(v) FROM inflight"}, &qc))
	require.Len(t, qc.Results[0].Series, 1)
	assert.EqualValues(t, 1000, qc.Results[0].Series[0].Values[0][1])
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// load runs step(0), step(1), ... in a goroutine counted by wg until stop
// is closed or step returns false (the server is gone).
func load(wg *sync.WaitGroup, stop <-chan struct{}, step func(n int) bool) {
	wg.Go(func() {
		for n := 0; ; n++ {
			select {
			case <-stop:
				return
			default:
			}
			if !step(n) {
				return
			}
		}
	})
}

// status drains and closes the answer and returns its status, or 0 when
// the request failed.
func status(resp *http.Response, err error) int {
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// signedClient writes with DATAFLUX signatures of the workspace's secret.
func signedClient(token, secret string) *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: signer.NewDatafluxTransport(nil, token, secret, signer.AlgoSHA256)}
}
