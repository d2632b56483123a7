package signer

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/kodo-project/kodo/internal/testkit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// verifyingServer answers 204 when verify accepts the request and 401 with
// the error otherwise; /redirect answers 307 to /v1/write/metrics so the
// client must resend the body (GetBody) and the transport re-sign it.
func verifyingServer(t *testing.T, verify func(Request) error) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/redirect" {
			http.Redirect(w, r, "/v1/write/metrics", http.StatusTemporaryRedirect)
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if err := verify(FromHTTP(r, body)); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func do(t *testing.T, rt http.RoundTripper, method, url string, body []byte, hdr http.Header) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	require.NoError(t, err)
	for k, v := range hdr {
		req.Header[k] = v
	}
	before := req.Header.Clone()
	resp, err := (&http.Client{Transport: rt}).Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	msg, _ := io.ReadAll(resp.Body)
	// The caller's request is never modified.
	assert.Equal(t, before, req.Header)
	return resp, string(msg)
}

func TestDatafluxTransportRoundTrip(t *testing.T) {
	serverNow := t0
	secrets := map[string]string{"tkn_plain": "", "tkn_secret": "s3cret"}
	srv := verifyingServer(t, func(r Request) error {
		_, err := (&DatafluxVerifier{Now: func() time.Time { return serverNow }}).Verify(r, func(tok string) (string, error) {
			s, ok := secrets[tok]
			if !ok {
				return "", errNoKey
			}
			return s, nil
		})
		return err
	})
	body := lineBody(50)
	tests := []struct {
		name   string
		token  string
		secret string
		algo   Algo
		path   string
		body   []byte
		hdr    http.Header
		skew   time.Duration
		status int
	}{
		{name: "md5 key sha256", token: "tkn_plain", path: "/v1/write/metrics", body: body, status: 204},
		{name: "md5 key sha1", token: "tkn_plain", algo: AlgoSHA1, path: "/v1/write/logging?source=nginx", body: body, status: 204},
		{name: "secret", token: "tkn_secret", secret: "s3cret", path: "/v1/write/metrics", body: body, status: 204},
		{name: "gzip body", token: "tkn_plain", path: "/v1/write/metrics", body: testkit.Gzip(t, body), hdr: http.Header{"Content-Encoding": {"gzip"}, "Content-Type": {"text/plain"}}, status: 204},
		{name: "empty body", token: "tkn_plain", path: "/v1/write/metrics", status: 204},
		{name: "redirect resends and re-signs", token: "tkn_plain", path: "/redirect", body: body, status: 204},
		{name: "wrong secret", token: "tkn_secret", secret: "nope", path: "/v1/write/metrics", body: body, status: 401},
		{name: "unknown token", token: "tkn_x", path: "/v1/write/metrics", body: body, status: 401},
		{name: "client clock 10m off", token: "tkn_plain", path: "/v1/write/metrics", body: body, skew: 10 * time.Minute, status: 204},
		{name: "client clock 20m off", token: "tkn_plain", path: "/v1/write/metrics", body: body, skew: 20 * time.Minute, status: 401},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := NewDatafluxTransport(nil, tc.token, tc.secret, tc.algo)
			tr.Now = fixed(t0.Add(-tc.skew))
			resp, msg := do(t, tr, "POST", srv.URL+tc.path, tc.body, tc.hdr)
			assert.Equal(t, tc.status, resp.StatusCode, msg)
		})
	}
}

func TestDwayTransportRoundTrip(t *testing.T) {
	for _, deny := range []bool{false, true} {
		srv := verifyingServer(t, func(r Request) error {
			_, err := (&DwayVerifier{Now: fixed(t0), DenySecretAsID: deny}).Verify(r, func(id string) (KeyPair, error) {
				if id == "ak1" || id == "sk1" {
					return KeyPair{"ak1", "sk1"}, nil
				}
				return KeyPair{}, errNoKey
			})
			return err
		})
		for _, goSDK := range []bool{false, true} {
			t.Run(fmt.Sprintf("deny=%v/goSDK=%v", deny, goSDK), func(t *testing.T) {
				tr := NewDwayTransport(nil, "ak1", "sk1")
				tr.GoSDKOrientation = goSDK
				tr.Now = fixed(t0)
				body := testkit.Gzip(t, lineBody(20))
				resp, msg := do(t, tr, "POST", srv.URL+"/v1/write/metrics?token=tkn", body,
					http.Header{"Content-Type": {"text/plain"}, "Content-Encoding": {"gzip"}})
				want := 204
				if deny && goSDK {
					want = 401
					assert.Contains(t, msg, "unknown key")
				}
				assert.Equal(t, want, resp.StatusCode, msg)
			})
		}
	}
}

func TestPandoraTransportRoundTrip(t *testing.T) {
	srv := verifyingServer(t, func(r Request) error {
		_, err := (&PandoraVerifier{Now: fixed(t0)}).Verify(r, func(ak string) (string, error) {
			if ak == "AK1" {
				return "SK1", nil
			}
			return "", errNoKey
		})
		return err
	})
	tr := NewPandoraTransport(nil, "AK1", "SK1")
	tr.Now = fixed(t0)
	body := []byte(`{"sql":"select * from cpu"}`)
	resp, msg := do(t, tr, "POST", srv.URL+"/v4/repos/r1/query?x=1", body, http.Header{
		"Content-Type": {"application/json"}, "X-Qiniu-Request-Tag": {"t1"}, "X-Qiniu-A-_z": {"2"},
	})
	assert.Equal(t, 204, resp.StatusCode, msg)

	resp, msg = do(t, tr, "GET", srv.URL+"/v4/repos", nil, nil)
	assert.Equal(t, 204, resp.StatusCode, msg)

	bad := NewPandoraTransport(nil, "AK1", "wrong")
	bad.Now = fixed(t0)
	resp, msg = do(t, bad, "GET", srv.URL+"/v4/repos", nil, nil)
	assert.Equal(t, 401, resp.StatusCode, msg)
	assert.Contains(t, msg, "signature mismatch")

	// A token made by MakePandoraToken, sent as is.
	tok, err := MakePandoraToken("AK1", "SK1", PandoraToken{Resource: "/v4/repos/r1/points", Method: "POST", Expires: t0.Add(time.Hour).Unix()})
	require.NoError(t, err)
	resp, msg = do(t, http.DefaultTransport, "POST", srv.URL+"/v4/repos/r1/points", []byte("cpu v=1 1"),
		http.Header{"Authorization": {tok}, "Content-Type": {"text/plain"}})
	assert.Equal(t, 204, resp.StatusCode, msg)
	resp, msg = do(t, http.DefaultTransport, "POST", srv.URL+"/v4/repos/r2/points", []byte("cpu v=1 1"),
		http.Header{"Authorization": {tok}})
	assert.Equal(t, 401, resp.StatusCode, msg)
	assert.Contains(t, msg, "token scope")
}

type closeTracker struct {
	io.Reader
	closed bool
	err    error
}

func (c *closeTracker) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	return c.Reader.Read(p)
}
func (c *closeTracker) Close() error { c.closed = true; return nil }

func TestTransportErrorsCloseBody(t *testing.T) {
	readErr := errors.New("disk gone")
	cases := map[string]struct {
		rt  http.RoundTripper
		err error
	}{
		"dataflux no token":     {rt: NewDatafluxTransport(&captureRT{}, "", "", AlgoSHA256)},
		"dataflux bad algo":     {rt: NewDatafluxTransport(&captureRT{}, "t", "", Algo(9))},
		"dway no keys":          {rt: NewDwayTransport(&captureRT{}, "ak", "")},
		"pandora no keys":       {rt: NewPandoraTransport(&captureRT{}, "", "sk")},
		"dataflux read failure": {rt: NewDatafluxTransport(&captureRT{}, "t", "", AlgoSHA256), err: readErr},
		"dway read failure":     {rt: NewDwayTransport(&captureRT{}, "a", "s"), err: readErr},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			body := &closeTracker{Reader: strings.NewReader("x"), err: tc.err}
			req, err := http.NewRequest("POST", "http://kodo.test/v1/write/metrics", body)
			require.NoError(t, err)
			_, err = tc.rt.RoundTrip(req)
			require.Error(t, err)
			if tc.err != nil {
				assert.ErrorIs(t, err, tc.err)
			}
			assert.True(t, body.closed, "body must be closed on error")
			assert.Empty(t, req.Header, "caller's request untouched")
		})
	}
}

func TestTransportSetsHeadersOnClone(t *testing.T) {
	c := &captureRT{}
	tr := NewDatafluxTransport(c, "tkn", "", AlgoSHA256)
	tr.Now = fixed(t0)
	body := []byte("cpu v=1 1\n")
	req, err := http.NewRequest("POST", "http://kodo.test/v1/write/metrics", bytes.NewReader(body))
	require.NoError(t, err)
	_, err = tr.RoundTrip(req)
	require.NoError(t, err)
	h := c.req.Header
	assert.Equal(t, "Mon, 23 Nov 2026 00:11:36 GMT", h.Get("Date"))
	assert.Equal(t, DatafluxBodyKey(body), h.Get("Content-MD5"))
	assert.Equal(t, "tkn", h.Get("X-Token"))
	assert.True(t, strings.HasPrefix(h.Get("Authorization"), "DATAFLUX tkn:"))
	assert.Equal(t, body, c.body)
	assert.Equal(t, int64(len(body)), c.req.ContentLength)
	rc, err := c.req.GetBody()
	require.NoError(t, err)
	again, _ := io.ReadAll(rc)
	assert.Equal(t, body, again, "GetBody replays the signed bytes")
	assert.Empty(t, req.Header.Get("Authorization"))
}

func TestReadBody(t *testing.T) {
	for _, tc := range []struct {
		name string
		data string
		n    int64
	}{
		{"exact", "hello", 5},
		{"unknown length", "hello", -1},
		{"shorter than announced", "hel", 5},
		{"longer than announced", "hello world", 5},
		{"empty", "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := readBody(strings.NewReader(tc.data), tc.n)
			require.NoError(t, err)
			assert.Equal(t, tc.data, string(got))
		})
	}
	_, err := readBody(&closeTracker{Reader: strings.NewReader("x"), err: errors.New("boom")}, 3)
	assert.Error(t, err)
}
