package kodo_test

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kodo-project/kodo/internal/testkit"
	"github.com/kodo-project/kodo/kodo"
)

// isManagement mirrors the server's split: everything under /v1 except the
// agent endpoints.
func isManagement(path string) bool {
	if !strings.HasPrefix(path, "/v1/") || strings.HasPrefix(path, "/v1/check/token/") {
		return false
	}
	switch path {
	case "/v1/ping", "/v1/write", "/v1/write/metrics", "/v1/write/object",
		"/v1/write/keyevent", "/v1/write/logging", "/v1/datakit/online":
		return false
	}
	return true
}

// rawDo sends req and returns the status, headers and body, for answers
// the envelope checks of harness.do do not fit (preflights, refusals).
func rawDo(t *testing.T, h *harness, req *http.Request) (int, http.Header, string) {
	t.Helper()
	resp, err := h.ts.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header, string(body)
}

// TestBrowserCannotReadManagementUnderLoopbackTrust is the attack of
// issue 13: a page in a browser on the gateway's machine posts text/plain
// (no preflight) to create a workspace and reads the token, or does it
// through a DNS-rebinding name.
func TestBrowserCannotReadManagementUnderLoopbackTrust(t *testing.T) {
	h := newHarness(t, func(o *kodo.Options) {
		o.AllowedOrigins = []string{"https://Admin.Example:8443/"}
		o.AllowedHosts = []string{"kodo.internal", "[fd00::1]"}
		o.TSDBAccessKey, o.TSDBSecretKey = "AK_TRUST", "SK_TRUST"
	})
	evil := "http://evil.example"
	for _, path := range []string{"/v1/workspace/create", "/v1/tsdb/keypair/create", "/v1/workspace/keypair/create"} {
		t.Run("simple POST from a foreign origin "+path, func(t *testing.T) {
			code, hdr, body := rawDo(t, h, testkit.NewRequest(t, http.MethodPost, h.ts.URL+path, `{"name":"x"}`,
				"Origin", evil, "Content-Type", "text/plain"))
			assert.Equal(t, http.StatusForbidden, code)
			assert.Empty(t, hdr.Get("Access-Control-Allow-Origin"), "nothing a page may read")
			assert.NotContains(t, body, "tkn_")
			assert.NotContains(t, body, "secret")
			assert.Contains(t, body, "-allowed-origins")
		})
		t.Run("preflight from a foreign origin "+path, func(t *testing.T) {
			code, hdr, _ := rawDo(t, h, testkit.NewRequest(t, http.MethodOptions, h.ts.URL+path, "",
				"Origin", evil, "Access-Control-Request-Method", "POST"))
			assert.Equal(t, http.StatusForbidden, code)
			assert.Empty(t, hdr.Get("Access-Control-Allow-Origin"))
			assert.Empty(t, hdr.Get("Access-Control-Allow-Methods"))
		})
	}
	t.Run("DNS rebinding: a foreign Host is refused", func(t *testing.T) {
		for _, host := range []string{"evil.example:" + portOf(h.ts.URL), "evil.example", "127.0.0.1.evil.example"} {
			code, hdr, body := rawDo(t, h, testkit.NewRequest(t, http.MethodPost, h.ts.URL+"/v1/workspace/create", `{}`,
				"Host", host, "Content-Type", "text/plain"))
			assert.Equal(t, http.StatusForbidden, code, host)
			assert.Empty(t, hdr.Get("Access-Control-Allow-Origin"))
			assert.Contains(t, body, "-allowed-hosts", host)
			assert.NotContains(t, body, "tkn_")
		}
	})
	t.Run("a request relayed by a local proxy is not trusted as loopback", func(t *testing.T) {
		for _, hd := range []string{"X-Forwarded-For", "Forwarded", "X-Real-IP"} {
			code, _, body := rawDo(t, h, testkit.NewRequest(t, http.MethodPost, h.ts.URL+"/v1/workspace/create", `{}`,
				hd, "203.0.113.9", "Content-Type", "application/json"))
			assert.Equal(t, http.StatusForbidden, code, hd)
			assert.Contains(t, body, "-admin-key", hd)
			assert.NotContains(t, body, "tkn_")
		}
	})
	t.Run("loopback names, the listen host and allowed names pass", func(t *testing.T) {
		for _, host := range []string{"127.0.0.1:" + portOf(h.ts.URL), "localhost", "[::1]:9527", "kodo.internal:80", "KODO.INTERNAL", "[fd00::1]:9527"} {
			code, hdr, body := rawDo(t, h, testkit.NewRequest(t, http.MethodPost, h.ts.URL+"/v1/workspace/create", `{}`,
				"Host", host, "Content-Type", "application/json"))
			assert.Equal(t, http.StatusOK, code, "%s: %s", host, body)
			assert.Empty(t, hdr.Get("Access-Control-Allow-Origin"), "no CORS without an allowed Origin")
		}
	})
	t.Run("an allowed origin may call and read", func(t *testing.T) {
		origin := "https://admin.example:8443"
		code, hdr, _ := rawDo(t, h, testkit.NewRequest(t, http.MethodOptions, h.ts.URL+"/v1/workspace/create", "",
			"Origin", origin, "Access-Control-Request-Method", "POST"))
		assert.Equal(t, http.StatusOK, code)
		assert.Equal(t, origin, hdr.Get("Access-Control-Allow-Origin"), "the origin, never *")
		assert.Contains(t, hdr.Values("Vary"), "Origin")
		code, hdr, body := rawDo(t, h, testkit.NewRequest(t, http.MethodPost, h.ts.URL+"/v1/workspace/create", `{}`,
			"Origin", origin, "Content-Type", "application/json"))
		assert.Equal(t, http.StatusOK, code, body)
		assert.Equal(t, origin, hdr.Get("Access-Control-Allow-Origin"))
	})
	t.Run("agent endpoints keep the API document's CORS", func(t *testing.T) {
		code, hdr, _ := rawDo(t, h, testkit.NewRequest(t, http.MethodOptions, h.ts.URL+"/v1/write/metrics", "",
			"Origin", evil, "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "x-token"))
		assert.Equal(t, http.StatusOK, code)
		assert.Equal(t, "*", hdr.Get("Access-Control-Allow-Origin"))
		assert.Equal(t, "true", hdr.Get("Access-Control-Allow-Credentials"))
		assert.Equal(t, "POST, OPTIONS, GET, PUT", hdr.Get("Access-Control-Allow-Methods"))
		assert.Contains(t, hdr.Get("Access-Control-Allow-Headers"), "X-Token")
		assert.Contains(t, hdr.Get("Access-Control-Allow-Headers"), "X-Precision")

		ws := h.createWorkspace()
		code, env := h.write(ws.Token, "cpu v=1\n", map[string]string{"Origin": evil})
		assert.Equal(t, http.StatusOK, code, env.Message)
		code, hdr, _ = rawDo(t, h, testkit.NewRequest(t, http.MethodGet, h.ts.URL+"/v1/check/token/"+ws.Token, "", "Origin", evil))
		assert.Equal(t, http.StatusOK, code)
		assert.Equal(t, "*", hdr.Get("Access-Control-Allow-Origin"))
	})
}

func portOf(url string) string {
	return url[strings.LastIndexByte(url, ':')+1:]
}

// TestManagementCORSWithAdminKey: the key protects management, so its
// answers keep the document's headers and a page without the key gets a
// 401 it can read but learns nothing from.
func TestManagementCORSWithAdminKey(t *testing.T) {
	h := newHarness(t, func(o *kodo.Options) { o.AdminKey = "k3y" })
	code, hdr, body := rawDo(t, h, testkit.NewRequest(t, http.MethodPost, h.ts.URL+"/v1/workspace/create", `{}`,
		"Origin", "http://evil.example", "Content-Type", "text/plain", "Host", "evil.example"))
	assert.Equal(t, http.StatusUnauthorized, code)
	assert.Equal(t, "*", hdr.Get("Access-Control-Allow-Origin"))
	assert.NotContains(t, body, "tkn_")
	code, hdr, _ = rawDo(t, h, testkit.NewRequest(t, http.MethodOptions, h.ts.URL+"/v1/workspace/create", "", "Origin", "http://evil.example"))
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "*", hdr.Get("Access-Control-Allow-Origin"))
	code, _, body = rawDo(t, h, testkit.NewRequest(t, http.MethodPost, h.ts.URL+"/v1/workspace/create", `{}`,
		"Authorization", "Bearer k3y", "Content-Type", "application/json"))
	assert.Equal(t, http.StatusOK, code, body)
}

func TestNewRefusesPublicListenWithoutAdminKey(t *testing.T) {
	for _, c := range []struct {
		listen, key string
		insecure    bool
		ok          bool
	}{
		{"0.0.0.0:0", "", false, false},
		{":0", "", false, false},
		{"[::]:0", "", false, false},
		{"192.0.2.10:0", "", false, false},
		{"0.0.0.0:0", "", true, true},
		{"0.0.0.0:0", "k", false, true},
		{"127.0.0.1:0", "", false, true},
		{"localhost:0", "", false, true},
		{"[::1]:0", "", false, true},
	} {
		srv, err := kodo.New(kodo.Options{DataDir: t.TempDir(), Listen: c.listen, AdminKey: c.key, InsecureNoAdminKey: c.insecure})
		if !c.ok {
			require.Error(t, err, c.listen)
			assert.Contains(t, err.Error(), "-insecure-no-admin-key")
			assert.Contains(t, err.Error(), "-admin-key")
			continue
		}
		require.NoError(t, err, "%s key=%q insecure=%v", c.listen, c.key, c.insecure)
		require.NoError(t, srv.Shutdown(t.Context()))
	}
	_, err := kodo.New(kodo.Options{DataDir: t.TempDir(), AllowedOrigins: []string{"evil.example"}})
	require.Error(t, err, "an origin without a scheme is a configuration mistake")
	_, err = kodo.New(kodo.Options{DataDir: t.TempDir(), AllowedHosts: []string{"http://kodo.internal"}})
	require.Error(t, err, "a host with a scheme is a configuration mistake")
}

// TestAuthFailuresAreRateLimited: failed authentications from one address
// run out of their burst and then get 429 with Retry-After on every
// authenticating endpoint, before credentials are checked.
func TestAuthFailuresAreRateLimited(t *testing.T) {
	h := newHarness(t, func(o *kodo.Options) {
		o.Limits.AuthFailRate = 0.001 // no refill during the test
		o.Limits.AuthFailBurst = 3
		o.TSDBAccessKey, o.TSDBSecretKey = "AK_RL", "SK_RL"
	})
	ws := h.createWorkspace()
	bad := func() (int, http.Header, string) {
		return rawDo(t, h, testkit.NewRequest(t, http.MethodPost, h.ts.URL+"/v1/write", "cpu v=1\n",
			"X-Token", ws.Token, "Date", "Mon, 02 Jan 2006 15:04:05 GMT",
			"Authorization", "DATAFLUX "+ws.Token+":AAAAAAAAAAAAAAAAAAAAAAAAAAA="))
	}
	for i := 0; i < 2; i++ {
		code, _, body := bad()
		require.Equal(t, http.StatusUnauthorized, code, body)
	}
	// An unknown token is a failed guess too (403 tokenNotFound).
	code, _, body := rawDo(t, h, testkit.NewRequest(t, http.MethodPost, h.ts.URL+"/v1/datakit/online?token=tkn_nope", "[]"))
	require.Equal(t, http.StatusForbidden, code, body)

	code, hdr, body := bad()
	assert.Equal(t, http.StatusTooManyRequests, code, body)
	secs, err := strconv.Atoi(hdr.Get("Retry-After"))
	require.NoError(t, err, "Retry-After is whole seconds")
	assert.GreaterOrEqual(t, secs, 1)
	assert.Contains(t, body, "kodo.tooManyRequests")
	assert.Contains(t, body, "-auth-fail-rate")

	// A good signature from the same address waits as well: the answer
	// must not tell a right guess from a wrong one.
	code, _ = h.write(ws.Token, "cpu v=1\n", nil)
	assert.Equal(t, http.StatusTooManyRequests, code)
	code, hdr, body = rawDo(t, h, testkit.NewRequest(t, http.MethodGet, h.ts.URL+"/v4/repos", "", "Authorization", "Pandora AK_RL:x", "Date", "Mon, 02 Jan 2006 15:04:05 GMT"))
	assert.Equal(t, http.StatusTooManyRequests, code)
	assert.Equal(t, "application/json", hdr.Get("Content-Type"))
	assert.Contains(t, body, `"error"`)
	code, _, _ = rawDo(t, h, testkit.NewRequest(t, http.MethodPost, h.ts.URL+"/write?db=x&p="+ws.Token, "cpu v=1\n"))
	assert.Equal(t, http.StatusTooManyRequests, code)
	// Endpoints that check nothing still answer.
	code, _, _ = rawDo(t, h, testkit.NewRequest(t, http.MethodGet, h.ts.URL+"/v1/ping", ""))
	assert.Equal(t, http.StatusOK, code)
}

func TestCheckTokenIsRateLimited(t *testing.T) {
	h := newHarness(t, func(o *kodo.Options) {
		o.Limits.AuthFailRate = 0.001
		o.Limits.AuthFailBurst = 2
	})
	ws := h.createWorkspace()
	for _, tok := range []string{ws.Token, "tkn_guess"} {
		code, _, _ := rawDo(t, h, testkit.NewRequest(t, http.MethodGet, h.ts.URL+"/v1/check/token/"+tok, ""))
		assert.NotEqual(t, http.StatusTooManyRequests, code)
	}
	code, hdr, _ := rawDo(t, h, testkit.NewRequest(t, http.MethodGet, h.ts.URL+"/v1/check/token/"+ws.Token, ""))
	assert.Equal(t, http.StatusTooManyRequests, code, "even a valid token: each call is a guess checked")
	assert.NotEmpty(t, hdr.Get("Retry-After"))
}
