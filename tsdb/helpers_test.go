package tsdb

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/kodo-project/kodo/signer"
	"github.com/kodo-project/kodo/storage/tsengine"
	"github.com/kodo-project/kodo/storage/tsengine/embedded"
	"github.com/kodo-project/kodo/tsdb/tsdbapi"
)

const (
	testAK = "AK_TEST_1"
	testSK = "SK_TEST_1_secret"
)

// clock is a settable time source for the service under test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.t.IsZero() {
		return time.Now()
	}
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// openEngine opens the real embedded engine in a temp dir.
func openEngine(t testing.TB) *embedded.Engine {
	t.Helper()
	eng, err := embedded.Open(t.TempDir(), embedded.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = eng.Close() })
	return eng
}

type fixture struct {
	svc   *Service
	store *memStore
	eng   tsengine.Engine
	clock *clock
	h     http.Handler
}

// newFixture runs a Service over eng with the test key pair stored.
func newFixture(t testing.TB, eng tsengine.Engine, mod func(*Config)) *fixture {
	t.Helper()
	f := &fixture{store: newMemStore(), eng: eng, clock: &clock{}}
	cfg := Config{Store: f.store, Engine: eng, Now: f.clock.Now, Regions: []string{"gz"}, Logger: testLogger(t)}
	if mod != nil {
		mod(&cfg)
	}
	svc, err := NewService(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = svc.Close() })
	require.NoError(t, svc.EnsureKeyPair(context.Background(), testAK, testSK))
	f.svc, f.h = svc, svc.Handler()
	return f
}

// answer is a recorded response.
type answer struct {
	Status int
	CType  string
	Body   []byte
}

func (a answer) errText(t testing.TB) string {
	t.Helper()
	var b struct {
		Error string `json:"error"`
	}
	require.NoError(t, json.Unmarshal(a.Body, &b), "body %s", a.Body)
	return b.Error
}

func serve(h http.Handler, r *http.Request) answer {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	res := w.Result()
	body, _ := io.ReadAll(res.Body)
	return answer{Status: res.StatusCode, CType: res.Header.Get("Content-Type"), Body: body}
}

// signed builds a request signed like the official SDK with ak/sk at the
// fixture's clock.
func (f *fixture) signed(method, target, ctype string, body []byte, ak, sk string) *http.Request {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	r := httptest.NewRequest(method, target, rd)
	if ctype != "" {
		r.Header.Set("Content-Type", ctype)
	}
	r.Header.Set("Date", f.clock.Now().UTC().Format(http.TimeFormat))
	sts := signer.PandoraStringToSign(method, r.Header, r.URL.Path)
	r.Header.Set("Authorization", "Pandora "+ak+":"+signer.SignPandora(sk, sts))
	return r
}

// call sends a signed request with the test key pair; a non-[]byte body
// is JSON-encoded.
func (f *fixture) call(method, target string, body any) answer {
	var data []byte
	ctype := ""
	switch b := body.(type) {
	case nil:
	case []byte:
		data, ctype = b, "text/plain"
	case string:
		data, ctype = []byte(b), "application/json"
	default:
		data, _ = json.Marshal(b)
		ctype = "application/json"
	}
	return serve(f.h, f.signed(method, target, ctype, data, testAK, testSK))
}

// mustOK fails unless the answer is 200 application/json.
func mustOK(t testing.TB, a answer) {
	t.Helper()
	require.Equal(t, http.StatusOK, a.Status, "body: %s", a.Body)
	require.Equal(t, "application/json", a.CType)
	require.True(t, json.Valid(a.Body), "body %q", a.Body)
}

// mustErr checks status, exact Content-Type and that the error text
// starts with the code and its documented text.
func mustErr(t testing.TB, a answer, code tsdbapi.Code) {
	t.Helper()
	require.Equal(t, code.Status(), a.Status, "body: %s", a.Body)
	require.Equal(t, "application/json", a.CType)
	require.Regexp(t, `^`+string(code)+`: `, a.errText(t))
	require.Contains(t, a.errText(t), string(code)+": "+code.Text())
}

// liftRetention makes the RPs of a repo keep data forever, so the tests can
// write the fixed historical timestamps of the spec and the SDK vectors
// (the engine drops points older than an RP against the real clock).
func liftRetention(t testing.TB, eng tsengine.Engine, ak, repo string, retentions ...string) {
	t.Helper()
	rps := make([]tsengine.RetentionPolicy, 0, len(retentions))
	for _, r := range retentions {
		rps = append(rps, tsengine.RetentionPolicy{Name: RPName(r)})
	}
	require.NoError(t, eng.CreateDatabase(context.Background(), DatabaseName(ak, repo), rps))
}

// waitIdle waits for the background deletions.
func (f *fixture) waitIdle() { f.svc.Wait() }

func urlQuery(s string) string { return url.QueryEscape(s) }

// testLogger sends the service's warnings and errors to the test log.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func httptestRecorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }

func httptestRequest(method, target string) *http.Request {
	return httptest.NewRequest(method, target, nil)
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
