package kodo_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
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

// captured is a signed request as it would cross the wire, to be sent
// again byte for byte (a replay).
type captured struct {
	method, path string
	header       http.Header
	body         []byte
}

type captureOnly struct{ got *captured }

func (c captureOnly) RoundTrip(r *http.Request) (*http.Response, error) {
	var body []byte
	if r.Body != nil {
		body, _ = io.ReadAll(r.Body)
		r.Body.Close()
	}
	*c.got = captured{method: r.Method, path: r.URL.RequestURI(), header: r.Header.Clone(), body: body}
	return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader("{}")), Header: http.Header{}, Request: r}, nil
}

// capture signs req with the transport mk builds and returns what it sent.
func capture(t *testing.T, mk func(http.RoundTripper) http.RoundTripper, method, path, body string) captured {
	t.Helper()
	var got captured
	req, err := http.NewRequest(method, "http://kodo.test"+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "text/plain")
	resp, err := mk(captureOnly{&got}).RoundTrip(req)
	require.NoError(t, err)
	resp.Body.Close()
	return got
}

func send(t *testing.T, base string, c captured) (int, string) {
	t.Helper()
	req, err := http.NewRequest(c.method, base+c.path, bytes.NewReader(c.body))
	require.NoError(t, err)
	req.Header = c.header.Clone()
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestReplayCacheRefusesSecondUse: with -replay-cache every scheme's
// signature works once; sent again it is refused, and a newly signed
// request still works.
func TestReplayCacheRefusesSecondUse(t *testing.T) {
	h := newHarness(t, func(o *kodo.Options) {
		o.ReplayWindow = 30 * time.Minute
		o.TSDBAccessKey, o.TSDBSecretKey = "AK_REPLAY", "SK_REPLAY"
	})
	ws, kp := everyScheme(t, h, "AK_REPLAY", "SK_REPLAY", "r_replay")

	cases := map[string]func(n int) captured{
		"DATAFLUX": func(n int) captured {
			return capture(t, func(b http.RoundTripper) http.RoundTripper {
				return signer.NewDatafluxTransport(b, ws.Token, ws.Secret, signer.AlgoSHA256)
			}, http.MethodPost, "/v1/write/metrics", "replay,n=d v="+strconv.Itoa(n)+"\n")
		},
		"DWAY": func(n int) captured {
			return capture(t, func(b http.RoundTripper) http.RoundTripper {
				return signer.NewDwayTransport(b, kp.AccessKey, kp.SecretKey)
			}, http.MethodPost, "/v1/write/metrics", "replay,n=w v="+strconv.Itoa(n)+"\n")
		},
		"Pandora": func(n int) captured {
			return capture(t, func(b http.RoundTripper) http.RoundTripper {
				return signer.NewPandoraTransport(b, "AK_REPLAY", "SK_REPLAY")
			}, http.MethodGet, "/v4/repos/r_replay", "")
		},
	}
	for name, mk := range cases {
		t.Run(name, func(t *testing.T) {
			first := mk(1)
			code, body := send(t, h.ts.URL, first)
			require.Equal(t, 200, code, body)
			code, body = send(t, h.ts.URL, first)
			assert.Equal(t, 401, code, "the same signature again is a replay: %s", body)
			if name != "Pandora" {
				assert.Contains(t, body, "already used")
				assert.Contains(t, body, "-replay-cache")
			}
			// A request signed anew differs at least in its body or Date;
			// wait for the Date second to change rather than assume it.
			deadline := time.Now().Add(3 * time.Second)
			for {
				again := mk(2)
				if again.header.Get("Authorization") != first.header.Get("Authorization") {
					code, body = send(t, h.ts.URL, again)
					assert.Equal(t, 200, code, body)
					break
				}
				require.True(t, time.Now().Before(deadline), "the signature never changed")
				time.Sleep(50 * time.Millisecond) // polling for the next Date second
			}
		})
	}
}

// TestReplayCacheSharedByReplicas: two gateways on one metadata store
// (PostgreSQL when the tests have one, else one SQLite file) refuse each
// other's replays.
func TestReplayCacheSharedByReplicas(t *testing.T) {
	dsn := os.Getenv("KODO_TEST_POSTGRES_DSN")
	if dsn == "" {
		dsn = "sqlite:" + filepath.Join(t.TempDir(), "shared-meta.db")
	}
	replica := func() *harness {
		return newHarness(t, func(o *kodo.Options) { o.MetaDSN = dsn; o.ReplayWindow = time.Hour })
	}
	a, b := replica(), replica()
	ws := a.createWorkspace()
	c := capture(t, func(rt http.RoundTripper) http.RoundTripper {
		return signer.NewDatafluxTransport(rt, ws.Token, ws.Secret, signer.AlgoSHA1)
	}, http.MethodPost, "/v1/write/metrics", "shared v=1\n")
	code, body := send(t, a.ts.URL, c)
	require.Equal(t, 200, code, body)
	code, body = send(t, b.ts.URL, c)
	assert.Equal(t, 401, code, "replica b saw it through the shared store: %s", body)
	assert.Contains(t, body, "already used")
}

// TestReplayCacheForgetsRefusedRequests: a signed write answered 503 (the
// engine was down) had no effect, so the client's identical retry is not
// taken for a replay; once it succeeded, it is.
func TestReplayCacheForgetsRefusedRequests(t *testing.T) {
	var down atomic.Bool
	influx := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Influxdb-Version", "1.8.10")
		switch r.URL.Path {
		case "/ping":
			w.WriteHeader(http.StatusNoContent)
		case "/write":
			if down.Load() {
				http.Error(w, `{"error":"engine down"}`, http.StatusServiceUnavailable)
				return
			}
			w.WriteHeader(http.StatusNoContent)
		default:
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"results":[]}`)
		}
	}))
	defer influx.Close()
	h := newHarness(t, func(o *kodo.Options) {
		o.ReplayWindow = time.Hour
		o.InfluxURLs = []string{influx.URL}
	})
	ws := h.createWorkspace()
	c := capture(t, func(rt http.RoundTripper) http.RoundTripper {
		return signer.NewDatafluxTransport(rt, ws.Token, ws.Secret, signer.AlgoSHA256)
	}, http.MethodPost, "/v1/write/metrics", "retry v=1\n")

	down.Store(true)
	code, body := send(t, h.ts.URL, c)
	require.Equal(t, 503, code, body)
	code, body = send(t, h.ts.URL, c)
	require.Equal(t, 503, code, "a retry of a request that had no effect is no replay: %s", body)
	down.Store(false)
	code, body = send(t, h.ts.URL, c)
	require.Equal(t, 200, code, body)
	code, body = send(t, h.ts.URL, c)
	assert.Equal(t, 401, code, body)
}

// TestContentMD5CheckedForEveryScheme: a Content-MD5 that names another
// body is refused under DATAFLUX, DWAY and Pandora, even where the
// signature itself does not cover the header (DWAY) or the body (Pandora).
func TestContentMD5CheckedForEveryScheme(t *testing.T) {
	h := newHarness(t, func(o *kodo.Options) { o.TSDBAccessKey, o.TSDBSecretKey = "AK_MD5", "SK_MD5" })
	ws, kp := everyScheme(t, h, "AK_MD5", "SK_MD5", "r_md5")

	other := signer.DatafluxBodyKey([]byte("another body"))
	body := "md5,scheme=x v=1\n"
	cases := map[string]captured{
		// The header is signed, then replaced: the body check answers first.
		"DATAFLUX": capture(t, func(b http.RoundTripper) http.RoundTripper {
			return signer.NewDatafluxTransport(overrideHeader{b, "Content-MD5", other}, ws.Token, ws.Secret, signer.AlgoSHA256)
		}, http.MethodPost, "/v1/write/metrics", body),
		// DWAY signs the body's own MD5, not the header: only the check
		// of the header refuses it.
		"DWAY": capture(t, func(b http.RoundTripper) http.RoundTripper {
			return signer.NewDwayTransport(overrideHeader{b, "Content-MD5", other}, kp.AccessKey, kp.SecretKey)
		}, http.MethodPost, "/v1/write/metrics", body),
		// Pandora signs the header, not the body: signed with the wrong
		// value, only the check against the body refuses it.
		"Pandora": func() captured {
			var got captured
			req, err := http.NewRequest(http.MethodPost, "http://kodo.test/v4/repos/r_md5/points", strings.NewReader(body))
			require.NoError(t, err)
			req.Header.Set("Content-Type", "text/plain")
			req.Header.Set("Content-MD5", other)
			resp, err := signer.NewPandoraTransport(captureOnly{&got}, "AK_MD5", "SK_MD5").RoundTrip(req)
			require.NoError(t, err)
			resp.Body.Close()
			return got
		}(),
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			require.Equal(t, other, c.header.Get("Content-MD5"))
			code, got := send(t, h.ts.URL, c)
			assert.Equal(t, 401, code, got)
			// The same request with the right header passes: the refusal
			// is the digest check, not a broken signature.
			if name == "DWAY" {
				c.header.Set("Content-MD5", signer.DatafluxBodyKey(c.body))
				code, got = send(t, h.ts.URL, c)
				assert.Equal(t, 200, code, got)
			}
		})
	}
}

// schemeKeyPair is a DWAY key pair as /v1/workspace/keypair/create answers it.
type schemeKeyPair struct {
	AccessKey string `json:"access_key"`
	SecretKey string `json:"secret_key"`
}

// everyScheme sets up each signature scheme for a test: a workspace
// (DATAFLUX), a DWAY key pair of it, and repo under the gateway's Pandora
// key pair ak/sk.
func everyScheme(t *testing.T, h *harness, ak, sk, repo string) (workspace, schemeKeyPair) {
	t.Helper()
	ws := h.createWorkspace()
	code, env := h.post("/v1/workspace/keypair/create", map[string]string{"workspace_uuid": ws.WorkspaceUUID})
	require.Equal(t, 200, code, env.Message)
	var kp schemeKeyPair
	require.NoError(t, json.Unmarshal(env.Content, &kp))
	pc, err := tsdbclient.NewClient(h.ts.URL, ak, sk, nil)
	require.NoError(t, err)
	require.NoError(t, pc.CreateRepo(t.Context(), repo, tsdbapi.CreateRepoInput{Region: "nb"}))
	return ws, kp
}
