package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kodo-project/kodo/internal/testkit"
	"github.com/kodo-project/kodo/signer"
)

// Trust attacks against the built binary (issue 13): what a web page in a
// browser on the gateway's machine can do, DNS rebinding, a public listen
// address without an admin key, guessing credentials and replaying a
// captured request.

// TestHostileTrustBrowserPage: a page posts text/plain (a "simple"
// request: the browser sends it without a preflight) to create a
// workspace or a Pandora key pair. It must get no readable answer (no
// Access-Control-Allow-Origin) and nothing must be created.
func TestHostileTrustBrowserPage(t *testing.T) {
	p := startProc(t, t.TempDir())
	for _, path := range []string{"/v1/workspace/create", "/v1/tsdb/keypair/create", "/v1/workspace/keypair/create"} {
		a, err := do(testkit.NewRequest(t, http.MethodPost, p.Base+path, `{"name":"drive-by"}`,
			"Origin", "http://evil.example", "Content-Type", "text/plain;charset=UTF-8",
			"Sec-Fetch-Mode", "no-cors", "Sec-Fetch-Site", "cross-site"), 10*time.Second)
		require.NoError(t, err)
		assert.Equal(t, http.StatusForbidden, a.Status, "%s: %s", path, a)
		assert.Empty(t, a.Header.Get("Access-Control-Allow-Origin"), path)
		assert.NotContains(t, a.Body, "tkn_", path)
		assert.NotContains(t, a.Body, "secret", path)

		a, err = do(testkit.NewRequest(t, http.MethodOptions, p.Base+path, "",
			"Origin", "http://evil.example", "Access-Control-Request-Method", "POST",
			"Access-Control-Request-Headers", "content-type"), 10*time.Second)
		require.NoError(t, err)
		assert.Equal(t, http.StatusForbidden, a.Status, "preflight %s: %s", path, a)
		assert.Empty(t, a.Header.Get("Access-Control-Allow-Origin"))
	}

	// DNS rebinding: the page's own name resolved to 127.0.0.1.
	for _, host := range []string{"evil.example:" + p.Addr[strings.LastIndexByte(p.Addr, ':')+1:], "rebind.evil.example"} {
		a, err := do(testkit.NewRequest(t, http.MethodPost, p.Base+"/v1/workspace/create", `{}`,
			"Host", host, "Content-Type", "text/plain"), 10*time.Second)
		require.NoError(t, err)
		assert.Equal(t, http.StatusForbidden, a.Status, "Host %s: %s", host, a)
		assert.Contains(t, a.Body, "-allowed-hosts")
		assert.NotContains(t, a.Body, "tkn_")
	}

	// The operator, from loopback without an Origin, still manages.
	ws := p.CreateWorkspace()
	require.NotEmpty(t, ws.Secret, "the create answer shows the secret once")

	// The agent paths keep the API document's CORS, preflight included,
	// and signed writes from a page's origin still work.
	a, err := do(testkit.NewRequest(t, http.MethodOptions, p.Base+"/v1/write/metrics", "",
		"Origin", "http://dashboard.example", "Access-Control-Request-Method", "POST",
		"Access-Control-Request-Headers", "x-token,x-rp"), 10*time.Second)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, a.Status)
	assert.Equal(t, "*", a.Header.Get("Access-Control-Allow-Origin"))
	assert.Equal(t, "POST, OPTIONS, GET, PUT", a.Header.Get("Access-Control-Allow-Methods"))
	assert.Contains(t, a.Header.Get("Access-Control-Allow-Headers"), "X-Token")
	w := p.WriteLines(ws, "trust v=1\n", true)
	assert.Equal(t, http.StatusOK, w.Status, w.String())
	assert.Equal(t, "*", w.Header.Get("Access-Control-Allow-Origin"))
	assert.EqualValues(t, 1, p.Count(ws, "trust", "v"))
}

// TestHostileTrustPublicListenNeedsAdminKey: started on every interface
// without an admin key, the binary refuses to run and says why. (The
// accepted forms, -admin-key or -insecure-no-admin-key, would bind
// 0.0.0.0, which tests do not do; kodo.New's test covers them.)
func TestHostileTrustPublicListenNeedsAdminKey(t *testing.T) {
	bin, err := buildKodo()
	require.NoError(t, err)
	for _, listen := range []string{"0.0.0.0:0", ":0", "[::]:0"} {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		cmd := exec.CommandContext(ctx, bin, "-listen", listen, "-data", t.TempDir())
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		cancel()
		var exit *exec.ExitError
		require.ErrorAs(t, err, &exit, "%s: kodo must exit non-zero, not serve", listen)
		assert.NotEqual(t, 0, exit.ExitCode())
		assert.Contains(t, stderr.String(), "-admin-key", listen)
		assert.Contains(t, stderr.String(), "-insecure-no-admin-key", listen)
	}
}

// TestHostileTrustGuessingIsRateLimited: bad signatures and token checks
// from one address run into 429 with Retry-After.
func TestHostileTrustGuessingIsRateLimited(t *testing.T) {
	p := startProc(t, t.TempDir(), "-auth-fail-burst", "5", "-auth-fail-rate", "0.01")
	ws := p.CreateWorkspace()
	var last answer
	for i := 0; i < 6; i++ {
		var err error
		last, err = do(testkit.NewRequest(t, http.MethodGet, p.Base+"/v1/check/token/tkn_"+strings.Repeat(strconv.Itoa(i), 32), ""), 10*time.Second)
		require.NoError(t, err)
	}
	assert.Equal(t, http.StatusTooManyRequests, last.Status, last.String())
	secs, err := strconv.Atoi(last.Header.Get("Retry-After"))
	require.NoError(t, err)
	assert.GreaterOrEqual(t, secs, 1)
	// The same address cannot write either until the bucket refills, even
	// with a right signature: the answer must not confirm a guess.
	w := p.WriteLines(ws, "trust v=1\n", false)
	assert.Equal(t, http.StatusTooManyRequests, w.Status, w.String())
}

// TestHostileTrustReplay: with -replay-cache a captured signed write sent
// again is refused; without it, it would be stored twice within 15 minutes.
func TestHostileTrustReplay(t *testing.T) {
	p := startProc(t, t.TempDir(), "-replay-cache", "30m")
	ws := p.CreateWorkspace()
	body := []byte("replayed v=1\n")
	var sent *http.Request
	var sentBody []byte
	capture := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		sent = r
		sentBody, _ = io.ReadAll(r.Body)
		return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader("")), Request: r}, nil
	})
	req, err := http.NewRequest(http.MethodPost, p.Base+"/v1/write/metrics", bytes.NewReader(body))
	require.NoError(t, err)
	_, err = (&http.Client{Transport: signer.NewDatafluxTransport(capture, ws.Token, ws.Secret, signer.AlgoSHA256)}).Do(req)
	require.NoError(t, err)

	replay := func() answer {
		r, err := http.NewRequest(http.MethodPost, p.Base+"/v1/write/metrics", bytes.NewReader(sentBody))
		require.NoError(t, err)
		r.Header = sent.Header.Clone()
		a, err := do(r, 10*time.Second)
		require.NoError(t, err)
		return a
	}
	first := replay()
	require.Equal(t, http.StatusOK, first.Status, first.String())
	second := replay()
	assert.Equal(t, http.StatusUnauthorized, second.Status, second.String())
	assert.Contains(t, second.Body, "already used")

	// Remembered in the metadata store: still refused after a restart.
	p.Restart()
	third := replay()
	assert.Equal(t, http.StatusUnauthorized, third.Status, third.String())
}
