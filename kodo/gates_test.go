package kodo_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kodo-project/kodo/kodo"
	"github.com/kodo-project/kodo/signer"
	"github.com/kodo-project/kodo/tsdb/tsdbapi"
	"github.com/kodo-project/kodo/tsdb/tsdbclient"
)

// countingBody counts the bytes a handler takes from a request body.
type countingBody struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingBody) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func (c *countingBody) Close() error { return nil }

// signedHeaders returns the headers rt puts on a request for target with
// body, so a test can send them with a body of its own.
func signedHeaders(t *testing.T, rt func(http.RoundTripper) http.RoundTripper, method, target string, body []byte, hdr http.Header) http.Header {
	t.Helper()
	var got http.Header
	capture := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		got = r.Header.Clone()
		return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader("{}")), Request: r}, nil
	})
	req, err := http.NewRequest(method, "http://kodo.test"+target, bytes.NewReader(body))
	require.NoError(t, err)
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := rt(capture).RoundTrip(req)
	require.NoError(t, err)
	resp.Body.Close()
	return got
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestUnauthenticatedBodiesAreNeverRead: a request whose headers do not
// authenticate it is refused before a byte of its body is read, so a gzip
// bomb is never decompressed, and the connection is closed rather than
// drained. Every signed API is covered.
func TestUnauthenticatedBodiesAreNeverRead(t *testing.T) {
	h := newHarness(t, func(o *kodo.Options) {
		o.TSDBAccessKey, o.TSDBSecretKey = "AK_GATES", "SK_GATES"
	})
	ws := h.createWorkspace()
	bomb := gzipBomb(t) // 1 GiB decompressed
	date := time.Now().UTC().Format(http.TimeFormat)
	stale := time.Now().Add(-time.Hour).UTC().Format(http.TimeFormat)
	sig28 := strings.Repeat("A", 27) + "="

	dataflux := func(token string) http.Header {
		return signedHeaders(t, func(b http.RoundTripper) http.RoundTripper {
			return signer.NewDatafluxTransport(b, token, "", signer.AlgoSHA256)
		}, "POST", "/v1/write/metrics", bomb, http.Header{"Content-Encoding": {"gzip"}})
	}
	pandora := func(ak, sk, path string) http.Header {
		return signedHeaders(t, func(b http.RoundTripper) http.RoundTripper {
			return signer.NewPandoraTransport(b, ak, sk)
		}, "POST", path, bomb, http.Header{"Content-Encoding": {"gzip"}, "Content-Type": {"text/plain"}})
	}
	basic := func(user, pass string) http.Header {
		r, _ := http.NewRequest("GET", "/", nil)
		r.SetBasicAuth(user, pass)
		return http.Header{"Authorization": r.Header["Authorization"], "Content-Encoding": {"gzip"}}
	}
	cases := []struct {
		name   string
		path   string
		header http.Header
		status int
	}{
		{"v1 write without Authorization", "/v1/write/metrics", http.Header{"Content-Encoding": {"gzip"}}, 401},
		{"v1 write with an unknown token", "/v1/write/metrics", dataflux("tkn_" + strings.Repeat("0", 32)), 403},
		{"v1 write with a malformed DATAFLUX header", "/v1/write/metrics", http.Header{"Authorization": {"DATAFLUX " + ws.Token}, "Date": {date}}, 401},
		{"v1 write with a stale Date", "/v1/write/metrics", http.Header{"Authorization": {"DATAFLUX " + ws.Token + ":" + sig28}, "Date": {stale}}, 401},
		{"v1 write with an unknown DWAY key", "/v1/write/metrics", http.Header{"Authorization": {"DWAY nobody:" + sig28}, "Date": {date}}, 401},
		{"v1 object write without Authorization", "/v1/write/object", nil, 401},
		{"v1 logging write with a Pandora header", "/v1/write/logging", pandora("AK_GATES", "SK_GATES", "/v1/write/logging"), 401},
		{"influx write without credentials", "/write?db=" + ws.DB, nil, 401},
		{"influx write with a wrong token", "/write?db=" + ws.DB, basic("u", "tkn_nope"), 401},
		{"influx write to another database", "/write?db=other", basic("u", ws.Token), 403},
		{"influx query form too big to carry its credential", "/query", http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, 401},
		{"pandora points unsigned", "/v4/repos/r/points", http.Header{"Content-Encoding": {"gzip"}}, 401},
		{"pandora points with a wrong secret", "/v4/repos/r/points", pandora("AK_GATES", "wrong", "/v4/repos/r/points"), 401},
		{"pandora points with an unknown key", "/v4/repos/r/points", pandora("AK_NONE", "SK_GATES", "/v4/repos/r/points"), 401},
		{"pandora signature for another path", "/v4/repos/r/points", pandora("AK_GATES", "SK_GATES", "/v4/repos/x/points"), 401},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body := &countingBody{r: bytes.NewReader(bomb)}
			req := httptest.NewRequest(http.MethodPost, c.path, body)
			req.ContentLength = int64(len(bomb))
			for k, v := range c.header {
				req.Header[k] = v
			}
			rec := httptest.NewRecorder()
			h.srv.Handler().ServeHTTP(rec, req)
			assert.Equal(t, c.status, rec.Code, rec.Body.String())
			assert.Zero(t, body.n.Load(), "no body byte is read before authentication")
			assert.Equal(t, "close", rec.Header().Get("Connection"))
			var msg map[string]any
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &msg), rec.Body.String())
			assert.NotEmpty(t, msg, "the answer says what is wrong")
		})
	}
}

// slowRequest serves a request whose body arrives only as the test writes
// it; it returns once the handler is reading the body (so it has passed
// authentication and holds its gate slot), with the pipe to finish it and
// the recorder filled when the handler returns.
func slowRequest(t *testing.T, hd http.Handler, path string, header http.Header) (*io.PipeWriter, <-chan *httptest.ResponseRecorder) {
	t.Helper()
	pr, pw := io.Pipe()
	req := httptest.NewRequest(http.MethodPost, path, pr)
	req.ContentLength = -1
	for k, v := range header {
		req.Header[k] = v
	}
	done := make(chan *httptest.ResponseRecorder, 1)
	go func() {
		rec := httptest.NewRecorder()
		hd.ServeHTTP(rec, req)
		pr.Close()
		done <- rec
	}()
	_, err := pw.Write([]byte("\n")) // returns once the handler reads; a blank line is valid in any body here
	require.NoError(t, err)
	return pw, done
}

// TestGatesAdmitOnlyAuthenticated: with one write slot, anonymous slow
// requests never take it (a signed write still goes through), while an
// authenticated slow body holds it, for /v1 and /v4 alike: the Pandora API
// shares the gate and answers 503 E9003 with Retry-After when it is full.
func TestGatesAdmitOnlyAuthenticated(t *testing.T) {
	h := newHarness(t, func(o *kodo.Options) {
		o.Limits.MaxConcurrentWrites = 1
		o.Limits.MaxConcurrentQueries = 1
		o.Limits.QueueWait = 50 * time.Millisecond
		o.TSDBAccessKey, o.TSDBSecretKey = "AK_GATES", "SK_GATES"
	})
	ws := h.createWorkspace()
	pc, err := tsdbclient.NewClient(h.ts.URL, "AK_GATES", "SK_GATES", nil)
	require.NoError(t, err)
	require.NoError(t, pc.CreateRepo(t.Context(), "r_gates", tsdbapi.CreateRepoInput{Region: "nb"}))
	require.NoError(t, pc.CreateSeries(t.Context(), "r_gates", "cpu", tsdbapi.CreateSeriesInput{Retention: "7d"}))
	hd := h.srv.Handler()
	line := func(v int) string { return fmt.Sprintf("cpu,host=a v=%d %d", v, time.Now().UnixNano()) }

	// Anonymous requests with bodies that never arrive are answered at
	// once, without a read, and leave the slot free.
	for _, path := range []string{"/v1/write/metrics", "/write?db=" + ws.DB, "/v4/repos/r_gates/points"} {
		pr, pw := io.Pipe()
		req := httptest.NewRequest(http.MethodPost, path, pr)
		req.ContentLength = -1
		rec := httptest.NewRecorder()
		hd.ServeHTTP(rec, req) // a read would block here forever
		pw.Close()
		assert.Equal(t, http.StatusUnauthorized, rec.Code, "%s: %s", path, rec.Body)
	}
	code, env := h.write(ws.Token, line(1), nil)
	require.Equal(t, 200, code, env.Message)

	// An authenticated slow Pandora write holds the one write slot.
	ph := signedHeaders(t, func(b http.RoundTripper) http.RoundTripper {
		return signer.NewPandoraTransport(b, "AK_GATES", "SK_GATES")
	}, "POST", "/v4/repos/r_gates/points", nil, http.Header{"Content-Type": {"text/plain"}})
	pw, done := slowRequest(t, hd, "/v4/repos/r_gates/points", ph)

	code, env = h.write(ws.Token, line(2), nil)
	assert.Equal(t, 429, code, "the /v1 write waits for the same gate: %s", env.Message)
	_, err = pc.WritePoints(t.Context(), "r_gates", []byte(line(3)))
	var te *tsdbapi.Error
	require.ErrorAs(t, err, &te)
	assert.Equal(t, http.StatusServiceUnavailable, te.Status)
	assert.Equal(t, string(tsdbapi.CodeBusy), te.Code)
	assert.Contains(t, te.Message, "concurrent writes")
	busy := h.rawPandora(t, "POST", "/v4/repos/r_gates/points", line(4))
	assert.Equal(t, "1", busy.Header.Get("Retry-After"))
	assert.Equal(t, "application/json", busy.Header.Get("Content-Type"))

	// The query gate is separate: a query still runs.
	_, err = pc.Query(t.Context(), "r_gates", "SELECT count(v) FROM cpu", tsdbclient.QueryOptions{})
	require.NoError(t, err)

	// The slow body completes; the slot is free again.
	_, err = pw.Write([]byte(line(5)))
	require.NoError(t, err)
	require.NoError(t, pw.Close())
	rec := <-done
	assert.Equal(t, 200, rec.Code, rec.Body.String())
	code, env = h.write(ws.Token, line(6), nil)
	assert.Equal(t, 200, code, env.Message)

	// A slow Pandora query holds the query slot, not the write slot.
	qh := signedHeaders(t, func(b http.RoundTripper) http.RoundTripper {
		return signer.NewPandoraTransport(b, "AK_GATES", "SK_GATES")
	}, "POST", "/v4/repos/r_gates/query", nil, http.Header{"Content-Type": {"application/json"}})
	qw, qdone := slowRequest(t, hd, "/v4/repos/r_gates/query", qh)
	_, err = pc.Query(t.Context(), "r_gates", "SELECT count(v) FROM cpu", tsdbclient.QueryOptions{})
	require.ErrorAs(t, err, &te)
	assert.Equal(t, string(tsdbapi.CodeBusy), te.Code)
	assert.Contains(t, te.Message, "concurrent queries")
	code, env = h.write(ws.Token, line(7), nil)
	assert.Equal(t, 200, code, env.Message)
	require.NoError(t, qw.CloseWithError(io.ErrUnexpectedEOF))
	<-qdone
}

// rawPandora sends a Pandora-signed request and returns the raw response.
func (h *harness) rawPandora(t *testing.T, method, path, body string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, h.ts.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "text/plain")
	resp, err := (&http.Client{Transport: signer.NewPandoraTransport(h.ts.Client().Transport, "AK_GATES", "SK_GATES")}).Do(req)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}
