package kodo_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kodo-project/kodo/internal/testkit"
	"github.com/kodo-project/kodo/kodo"
	"github.com/kodo-project/kodo/kodo/kodoapi"
	"github.com/kodo-project/kodo/signer"
)

// harness is a gateway on the embedded engine behind an httptest server.
type harness struct {
	t   testing.TB
	srv *kodo.Server
	ts  *httptest.Server
	// loopbackTrust: no admin key, so management answers carry no CORS.
	loopbackTrust bool
	// secrets of the workspaces createWorkspace made, by token: the write
	// helpers sign with them (new workspaces refuse the MD5 body key).
	mu      sync.Mutex
	secrets map[string]string
}

// secret is the secret of a token made by createWorkspace; "" (sign with
// the body key) for any other token.
func (h *harness) secret(token string) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.secrets[token]
}

func newHarness(t testing.TB, mod ...func(*kodo.Options)) *harness {
	t.Helper()
	o := kodo.Options{DataDir: t.TempDir()}
	for _, m := range mod {
		m(&o)
	}
	srv, err := kodo.New(o)
	require.NoError(t, err)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		ts.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		require.NoError(t, srv.Shutdown(ctx))
	})
	return &harness{t: t, srv: srv, ts: ts, loopbackTrust: o.AdminKey == "", secrets: map[string]string{}}
}

// envelope is the Kodo answer shape.
type envelope struct {
	Code      int             `json:"code"`
	Content   json.RawMessage `json:"content"`
	ErrorCode string          `json:"errorCode"`
	Message   string          `json:"message"`
}

func (h *harness) do(client *http.Client, req *http.Request) (int, envelope) {
	h.t.Helper()
	if client == nil {
		client = h.ts.Client()
	}
	resp, err := client.Do(req)
	require.NoError(h.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(h.t, err)
	require.NotEmpty(h.t, resp.Header.Get("X-Trace-Id"), "every answer carries X-Trace-Id")
	if h.loopbackTrust && isManagement(req.URL.Path) {
		require.Empty(h.t, resp.Header.Get("Access-Control-Allow-Origin"), "management under loopback trust: no CORS")
	} else {
		require.Equal(h.t, "*", resp.Header.Get("Access-Control-Allow-Origin"))
	}
	var env envelope
	require.NoError(h.t, json.Unmarshal(raw, &env), "body: %s", raw)
	require.Equal(h.t, resp.StatusCode, env.Code, "envelope code equals HTTP status; body %s", raw)
	return resp.StatusCode, env
}

func (h *harness) post(path string, body any) (int, envelope) {
	h.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		require.NoError(h.t, err)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(http.MethodPost, h.ts.URL+path, rd)
	require.NoError(h.t, err)
	req.Header.Set("Content-Type", "application/json")
	return h.do(nil, req)
}

type workspace struct {
	WorkspaceUUID string `json:"workspace_uuid"`
	Token         string `json:"token"`
	Secret        string `json:"secret"`
	DBUUID        string `json:"db_uuid"`
	DB            string `json:"db"`
	RP            string `json:"rp"`
	UUID          string `json:"uuid"`
}

func (h *harness) createWorkspace() workspace {
	h.t.Helper()
	code, env := h.post("/v1/workspace/create", map[string]any{"name": "test"})
	require.Equal(h.t, 200, code, env.Message)
	var ws workspace
	require.NoError(h.t, json.Unmarshal(env.Content, &ws))
	require.Regexp(h.t, `^wksp_[0-9a-f]{32}$`, ws.WorkspaceUUID)
	require.Regexp(h.t, `^tkn_[0-9a-f]{32}$`, ws.Token)
	require.Regexp(h.t, `^ifdb_[0-9a-f]{32}$`, ws.DBUUID)
	require.Regexp(h.t, `^iflx_[0-9a-f]{32}$`, ws.UUID)
	require.Regexp(h.t, `^wsec_[0-9a-f]{64}$`, ws.Secret)
	h.mu.Lock()
	h.secrets[ws.Token] = ws.Secret
	h.mu.Unlock()
	return ws
}

// write sends a DATAFLUX-signed, gzipped line-protocol body.
func (h *harness) write(token string, lines string, hdr map[string]string) (int, envelope) {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.ts.URL+"/v1/write/metrics", bytes.NewReader(testkit.Gzip(h.t, []byte(lines))))
	require.NoError(h.t, err)
	req.Header.Set("Content-Encoding", "gzip")
	req.Header.Set("Content-Type", "text/plain")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	client := &http.Client{Transport: signer.NewDatafluxTransport(h.ts.Client().Transport, token, h.secret(token), signer.AlgoSHA256)}
	return h.do(client, req)
}

func (h *harness) query(dbUUID, command string) (int, envelope, kodoapi.QueryResult) {
	h.t.Helper()
	code, env := h.post("/v1/read/metrics", map[string]any{"db": dbUUID, "command": command})
	var qc kodoapi.QueryResult
	if code == 200 {
		require.NoError(h.t, json.Unmarshal(env.Content, &qc))
	}
	return code, env, qc
}

func TestWriteThenReadGroupByTime(t *testing.T) {
	walk(t, newHarness(t))
}

// TestWalkOnRemoteInflux runs the same walk with databases placed on a real
// influxd (started by .ci/run).
func TestWalkOnRemoteInflux(t *testing.T) {
	url := os.Getenv("KODO_TEST_INFLUX_URL")
	if url == "" {
		t.Skip("KODO_TEST_INFLUX_URL not set; .ci/run starts Debian's influxd and sets it")
	}
	h := newHarness(t, func(o *kodo.Options) { o.InfluxURLs = []string{url} })
	ws := walk(t, h)
	req, _ := http.NewRequest(http.MethodGet, h.ts.URL+"/v1/ping", nil)
	_, env := h.do(nil, req)
	var ping struct{ Engines map[string]string }
	require.NoError(t, json.Unmarshal(env.Content, &ping))
	assert.Len(t, ping.Engines, 2, "embedded + remote")
	assert.Equal(t, "ok", ping.Engines[ws.UUID], "the database is placed on the remote instance")
}

// TestWalkOnPostgresMeta runs the walk with metadata in PostgreSQL.
func TestWalkOnPostgresMeta(t *testing.T) {
	dsn := os.Getenv("KODO_TEST_POSTGRES_DSN")
	if dsn == "" {
		t.Skip("KODO_TEST_POSTGRES_DSN not set; .ci/run starts PostgreSQL and sets it")
	}
	walk(t, newHarness(t, func(o *kodo.Options) { o.MetaDSN = dsn }))
}

// walk is a new user's first session: create a workspace, write signed
// gzipped line protocol, read it back with GROUP BY time.
func walk(t *testing.T, h *harness) workspace {
	ws := h.createWorkspace()

	base := time.Now().Add(-10 * time.Minute).Truncate(time.Minute)
	var lines strings.Builder
	for i := 0; i < 120; i++ { // two points a second... one per 5s for 10 minutes
		ts := base.Add(time.Duration(i) * 5 * time.Second)
		fmt.Fprintf(&lines, "cpu,host=web01,region=cn usage=%d,idle=%di %d\n", i, 100-i, ts.UnixNano())
	}
	code, env := h.write(ws.Token, lines.String(), nil)
	require.Equal(t, 200, code, env.Message)

	code, env, qc := h.query(ws.DBUUID, fmt.Sprintf(
		"SELECT count(usage), max(usage) FROM cpu WHERE time >= %d AND time < %d GROUP BY time(1m) fill(none)",
		base.UnixNano(), base.Add(10*time.Minute).UnixNano()))
	require.Equal(t, 200, code, env.Message)
	require.Len(t, qc.Results, 1)
	require.Len(t, qc.Results[0].Series, 1)
	s := qc.Results[0].Series[0]
	assert.Equal(t, "cpu", s.Name)
	assert.Equal(t, []string{"time", "count", "max"}, s.Columns)
	require.Len(t, s.Values, 10)
	for i, row := range s.Values {
		assert.EqualValues(t, base.Add(time.Duration(i)*time.Minute).UnixMilli(), row[0], "ms epoch times")
		assert.EqualValues(t, 12, row[1])
		assert.EqualValues(t, i*12+11, row[2])
	}

	// SHOW works on the read endpoint; another database does not.
	code, _, qc = h.query(ws.DBUUID, "SHOW MEASUREMENTS")
	require.Equal(t, 200, code)
	require.Equal(t, "cpu", qc.Results[0].Series[0].Values[0][0])
	code, env, _ = h.query(ws.DBUUID, "SELECT * FROM _internal..cpu")
	assert.Equal(t, 400, code)
	assert.Equal(t, "kodo.invalidSQL", env.ErrorCode)
	code, env, _ = h.query(ws.DBUUID, "DROP MEASUREMENT cpu")
	assert.Equal(t, 400, code, "read endpoint refuses DROP")
	assert.Equal(t, "kodo.invalidSQL", env.ErrorCode)
	return ws
}

func TestWriteErrors(t *testing.T) {
	h := newHarness(t)
	ws := h.createWorkspace()

	t.Run("unknown token", func(t *testing.T) {
		code, env := h.write("tkn_00000000000000000000000000000000", "m f=1\n", nil)
		assert.Equal(t, 403, code)
		assert.Equal(t, "kodo.tokenNotFound", env.ErrorCode)
	})
	t.Run("missing signature", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, h.ts.URL+"/v1/write/metrics", strings.NewReader("m f=1\n"))
		req.Header.Set("X-Token", ws.Token)
		code, env := h.do(nil, req)
		assert.Equal(t, 401, code)
		assert.Equal(t, "kodo.invalidSignature", env.ErrorCode)
		assert.Contains(t, env.Message, "Authorization")
	})
	t.Run("bad signature", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, h.ts.URL+"/v1/write/metrics", strings.NewReader("m f=1\n"))
		req.Header.Set("X-Token", ws.Token)
		req.Header.Set("Date", time.Now().UTC().Format(http.TimeFormat))
		req.Header.Set("Authorization", "DATAFLUX "+ws.Token+":AAAAAAAAAAAAAAAAAAAAAAAAAAA=")
		code, env := h.do(nil, req)
		assert.Equal(t, 401, code)
		assert.Equal(t, "kodo.invalidSignature", env.ErrorCode)
	})
	t.Run("partial write keeps good lines", func(t *testing.T) {
		code, env := h.write(ws.Token, "good f=1 1600000000000000000\nbad f=\ngood f=2 1600000001000000000\n", map[string]string{"X-RP": "autogen"})
		require.Equal(t, 400, code)
		assert.Equal(t, "kodo.partialWrite", env.ErrorCode)
		assert.Contains(t, env.Message, "line 2")
		_, _, qc := h.query(ws.DBUUID, `SELECT count(f) FROM autogen.good`)
		require.Len(t, qc.Results[0].Series, 1)
		assert.EqualValues(t, 2, qc.Results[0].Series[0].Values[0][1])
	})
	t.Run("points older than the RP", func(t *testing.T) {
		code, env := h.write(ws.Token, "old f=1 1000000000000000000\n", nil)
		assert.Equal(t, 400, code)
		assert.Equal(t, "kodo.partialWrite", env.ErrorCode)
		assert.Contains(t, env.Message, "no point was stored")
	})
	t.Run("unknown rp", func(t *testing.T) {
		code, env := h.write(ws.Token, "m f=1\n", map[string]string{"X-RP": "nope"})
		assert.Equal(t, 400, code)
		assert.Equal(t, "kodo.rpNotFound", env.ErrorCode)
	})
	t.Run("bad precision", func(t *testing.T) {
		code, env := h.write(ws.Token, "m f=1\n", map[string]string{"X-Precision": "weeks"})
		assert.Equal(t, 400, code)
		assert.Equal(t, "kodo.badRequest", env.ErrorCode)
	})
	t.Run("precision s", func(t *testing.T) {
		sec := time.Now().Add(-time.Hour).Unix()
		code, env := h.write(ws.Token, fmt.Sprintf("prec f=1 %d\n", sec), map[string]string{"X-Precision": "s"})
		require.Equal(t, 200, code, env.Message)
		_, _, qc := h.query(ws.DBUUID, `SELECT f FROM prec`)
		require.Len(t, qc.Results[0].Series, 1)
		assert.EqualValues(t, sec*1000, qc.Results[0].Series[0].Values[0][0])
	})
}

// rawWrite posts a signed body exactly as given (already gzipped or not).
func (h *harness) rawWrite(token string, body []byte, gzipped bool) (int, envelope) {
	req, err := http.NewRequest(http.MethodPost, h.ts.URL+"/v1/write", bytes.NewReader(body))
	require.NoError(h.t, err)
	if gzipped {
		req.Header.Set("Content-Encoding", "gzip")
	}
	client := &http.Client{Transport: signer.NewDatafluxTransport(h.ts.Client().Transport, token, h.secret(token), signer.AlgoSHA1)}
	return h.do(client, req)
}

func TestHostileBodies(t *testing.T) {
	h := newHarness(t, func(o *kodo.Options) {
		o.Limits.MaxBodyBytes = 8 << 20
		o.Limits.MaxDecompressedBytes = 16 << 20
	})
	ws := h.createWorkspace()

	full := testkit.Gzip(t, []byte("m f=1 1600000000000000000\n"))
	bomb := gzipBomb(t)
	longLine := append([]byte("m f=\""), bytes.Repeat([]byte("x"), 10<<20)...)
	longLine = append(longLine, "\"\n"...)

	cases := []struct {
		name    string
		body    []byte
		gzipped bool
		status  int
		code    string
		msg     string
	}{
		{"truncated gzip", full[:len(full)-6], true, 400, "kodo.badRequest", "gzip"},
		{"not gzip", []byte("m f=1\n"), true, 400, "kodo.badRequest", "gzip"},
		{"gzip bomb", bomb, true, 413, "kodo.bodyTooLarge", "decompressed"},
		{"invalid utf-8", []byte("m\xff f=1\n"), false, 400, "kodo.invalidLineProtocol", "line 1"},
		{"10 MB line", testkit.Gzip(t, longLine), true, 400, "kodo.invalidLineProtocol", "line 1"},
		{"body over limit", bytes.Repeat([]byte("m f=1\n"), 2<<20), false, 413, "kodo.bodyTooLarge", "limit"},
		{"only garbage", []byte("this is not line protocol\n"), false, 400, "kodo.invalidLineProtocol", "line 1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, env := h.rawWrite(ws.Token, c.body, c.gzipped)
			assert.Equal(t, c.status, code, env.Message)
			assert.Equal(t, c.code, env.ErrorCode)
			assert.Contains(t, env.Message, c.msg)
		})
	}
}

func TestManagementEndpoints(t *testing.T) {
	h := newHarness(t)
	ws := h.createWorkspace()
	code, env := h.write(ws.Token, "mem,host=a free=1i\ncpu,host=a usage=2\n", map[string]string{"X-RP": "rp6"})
	require.Equal(t, 200, code, env.Message)

	t.Run("get_rp", func(t *testing.T) {
		code, env := h.post("/v1/measurement/get_rp", map[string]any{"db": ws.DBUUID, "measurements": []string{"mem", "nope"}})
		require.Equal(t, 200, code, env.Message)
		var got map[string]map[string]string
		require.NoError(t, json.Unmarshal(env.Content, &got))
		assert.Equal(t, map[string]string{"db": ws.DB, "rp": "rp6", "duration": "25920h"}, got["mem"])
		assert.Equal(t, map[string]string{"db": ws.DB, "rp": "", "duration": "2160h"}, got["nope"])

		code, env = h.post("/v1/measurement/get_rp", map[string]any{"db": "ifdb_nope", "measurements": []string{"mem"}})
		assert.Equal(t, 400, code)
		assert.Equal(t, "kodo.dbNotFound", env.ErrorCode)
		assert.Equal(t, "db not found", env.Message)
	})
	t.Run("tscnt", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, h.ts.URL+"/v1/tscnt", strings.NewReader(`["ifdb_unknown","`+ws.DBUUID+`"]`))
		code, env := h.do(nil, req)
		require.Equal(t, 200, code, env.Message)
		assert.JSONEq(t, `[0,2]`, string(env.Content))
	})
	t.Run("check token", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, h.ts.URL+"/v1/check/token/"+ws.Token, nil)
		code, _ := h.do(nil, req)
		assert.Equal(t, 200, code)
		req, _ = http.NewRequest(http.MethodGet, h.ts.URL+"/v1/check/token/tkn_nope", nil)
		code, env := h.do(nil, req)
		assert.Equal(t, 403, code)
		assert.Equal(t, "kodo.tokenNotFound", env.ErrorCode)
	})
	t.Run("drop metrics", func(t *testing.T) {
		code, env := h.post("/v1/drop/metrics", map[string]any{"db_uuid": ws.DBUUID, "measurement": "mem"})
		require.Equal(t, 200, code, env.Message)
		require.Eventually(t, func() bool {
			req, _ := http.NewRequest(http.MethodGet, h.ts.URL+"/v1/droppingmetrics/"+ws.DBUUID, nil)
			_, env := h.do(nil, req)
			return string(env.Content) == "[]"
		}, 20*time.Second, 50*time.Millisecond)
		_, _, qc := h.query(ws.DBUUID, "SHOW MEASUREMENTS")
		require.Len(t, qc.Results[0].Series, 1)
		assert.Equal(t, [][]any{{"cpu"}}, qc.Results[0].Series[0].Values)
	})
	t.Run("modify dbrp", func(t *testing.T) {
		code, env := h.post("/v1/modify/dbrp", map[string]any{"db_uuid": ws.DBUUID, "default_rp": "rp1", "rp_list": []string{"rp1"}})
		require.Equal(t, 200, code, env.Message)
		code, env = h.post("/v1/modify/dbrp", map[string]any{"db_uuid": ws.DBUUID, "default_rp": "rp99"})
		assert.Equal(t, 400, code)
		assert.Equal(t, "kodo.rpNotFound", env.ErrorCode)
	})
	t.Run("add_db", func(t *testing.T) {
		code, env := h.post("/v1/influx/add_db?default_rp=rp3&cqrp=autogen&rp_list=rp0,rp1,rp2,rp3", nil)
		require.Equal(t, 200, code, env.Message)
		var got map[string]string
		require.NoError(t, json.Unmarshal(env.Content, &got))
		assert.Equal(t, "rp3", got["rp"])
		assert.Regexp(t, `^ifdb_[0-9a-f]{32}$`, got["dbUUID"])
	})
	t.Run("manage may drop inside its db", func(t *testing.T) {
		code, env := h.post("/v1/manage/metrics", map[string]any{"db_uuid": ws.DBUUID, "command": "DROP MEASUREMENT cpu"})
		require.Equal(t, 200, code, env.Message)
	})
	t.Run("datakit online", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, h.ts.URL+"/v1/datakit/online?token="+ws.Token, strings.NewReader(`["dk1","dk2"]`))
		code, env := h.do(nil, req)
		assert.Equal(t, 200, code, env.Message)
	})
	t.Run("bad json", func(t *testing.T) {
		code, env := h.post("/v1/measurement/get_rp", `{"db": `)
		assert.Equal(t, 400, code)
		assert.Equal(t, "kodo.invalidJson", env.ErrorCode)
	})
	t.Run("unknown endpoint and method", func(t *testing.T) {
		code, env := h.post("/v1/nope", nil)
		assert.Equal(t, 404, code)
		assert.Equal(t, "kodo.notFound", env.ErrorCode)
		req, _ := http.NewRequest(http.MethodGet, h.ts.URL+"/v1/write", nil)
		code, env = h.do(nil, req)
		assert.Equal(t, 405, code)
		assert.Equal(t, "kodo.methodNotAllowed", env.ErrorCode)
	})
	t.Run("options preflight", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodOptions, h.ts.URL+"/v1/write", nil)
		resp, err := h.ts.Client().Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, 200, resp.StatusCode)
		assert.Contains(t, resp.Header.Get("Access-Control-Allow-Headers"), "X-Token")
		assert.NotEmpty(t, resp.Header.Get("X-Trace-Id"))
	})
}

func TestAdminKey(t *testing.T) {
	h := newHarness(t, func(o *kodo.Options) { o.AdminKey = "s3cret" })
	code, env := h.post("/v1/workspace/create", nil)
	assert.Equal(t, 401, code)
	assert.Equal(t, "kodo.unauthorized", env.ErrorCode)

	req, _ := http.NewRequest(http.MethodPost, h.ts.URL+"/v1/workspace/create", nil)
	req.Header.Set("Authorization", "Bearer wrong")
	code, _ = h.do(nil, req)
	assert.Equal(t, 401, code)

	req, _ = http.NewRequest(http.MethodPost, h.ts.URL+"/v1/workspace/create", nil)
	req.Header.Set("Authorization", "Bearer s3cret")
	code, env = h.do(nil, req)
	assert.Equal(t, 200, code, env.Message)
}

func TestPing(t *testing.T) {
	h := newHarness(t)
	req, _ := http.NewRequest(http.MethodGet, h.ts.URL+"/v1/ping", nil)
	code, env := h.do(nil, req)
	require.Equal(t, 200, code)
	assert.Contains(t, string(env.Content), `"ok"`)
}

func TestDwayKeyPairWrite(t *testing.T) {
	h := newHarness(t)
	ws := h.createWorkspace()
	code, env := h.post("/v1/workspace/keypair/create", map[string]any{"workspace_uuid": ws.WorkspaceUUID})
	require.Equal(t, 200, code, env.Message)
	var kp struct {
		AccessKey string `json:"access_key"`
		SecretKey string `json:"secret_key"`
	}
	require.NoError(t, json.Unmarshal(env.Content, &kp))

	ts := time.Now().Add(-time.Minute).UnixNano()
	for _, goSDK := range []bool{false, true} {
		tr := signer.NewDwayTransport(h.ts.Client().Transport, kp.AccessKey, kp.SecretKey)
		tr.GoSDKOrientation = goSDK
		req, _ := http.NewRequest(http.MethodPost, h.ts.URL+"/v1/write/metrics", bytes.NewReader(testkit.Gzip(t, []byte(fmt.Sprintf("dway,sdk=%v f=1 %d\n", goSDK, ts)))))
		req.Header.Set("Content-Encoding", "gzip")
		req.Header.Set("Content-Type", "text/plain")
		code, env := h.do(&http.Client{Transport: tr}, req)
		require.Equal(t, 200, code, env.Message)
	}
	_, _, qc := h.query(ws.DBUUID, "SELECT count(f) FROM dway")
	require.Len(t, qc.Results[0].Series, 1)
	assert.EqualValues(t, 2, qc.Results[0].Series[0].Values[0][1])

	// Another workspace's token with this key is refused.
	other := h.createWorkspace()
	req, _ := http.NewRequest(http.MethodPost, h.ts.URL+"/v1/write/metrics?token="+other.Token, strings.NewReader("dway f=2\n"))
	code, env = h.do(&http.Client{Transport: signer.NewDwayTransport(h.ts.Client().Transport, kp.AccessKey, kp.SecretKey)}, req)
	assert.Equal(t, 403, code)
	assert.Equal(t, "kodo.forbidden", env.ErrorCode)

	// Strict mode refuses the Go SDK orientation.
	strict := newHarness(t, func(o *kodo.Options) { o.StrictDway = true })
	sws := strict.createWorkspace()
	_, env = strict.post("/v1/workspace/keypair/create", map[string]any{"workspace_uuid": sws.WorkspaceUUID})
	require.NoError(t, json.Unmarshal(env.Content, &kp))
	tr := signer.NewDwayTransport(strict.ts.Client().Transport, kp.AccessKey, kp.SecretKey)
	tr.GoSDKOrientation = true
	req, _ = http.NewRequest(http.MethodPost, strict.ts.URL+"/v1/write/metrics", strings.NewReader("dway f=2\n"))
	code, env = strict.do(&http.Client{Transport: tr}, req)
	assert.Equal(t, 401, code)
	assert.Equal(t, "kodo.invalidSignature", env.ErrorCode)
}

// gzipBomb is 1 GiB of zeros as 1,024 gzip members of 1 MiB each (a gzip
// stream may hold several members; readers decode them all), built in
// milliseconds rather than by compressing a gigabyte.
func gzipBomb(t *testing.T) []byte {
	var member bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&member, gzip.BestCompression)
	_, err := zw.Write(make([]byte, 1<<20))
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return bytes.Repeat(member.Bytes(), 1024)
}

// TestBackpressure429 overloads a gateway that admits one write at a time
// and waits 1ms: excess writes get 429 with Retry-After, and every
// acknowledged batch is stored.
func TestBackpressure429(t *testing.T) {
	h := newHarness(t, func(o *kodo.Options) {
		o.Limits.MaxConcurrentWrites = 1
		o.Limits.QueueWait = time.Millisecond
	})
	ws := h.createWorkspace()
	base := time.Now().Add(-time.Hour).UnixNano()
	type result struct {
		code       int
		retryAfter string
		errorCode  string
	}
	results := make(chan result, 16)
	var wg sync.WaitGroup
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var lines strings.Builder
			for i := 0; i < 2000; i++ {
				fmt.Fprintf(&lines, "bp,w=w%d f=%di %d\n", w, i, base+int64(i))
			}
			req, _ := http.NewRequest(http.MethodPost, h.ts.URL+"/v1/write/metrics", bytes.NewReader(testkit.Gzip(t, []byte(lines.String()))))
			req.Header.Set("Content-Encoding", "gzip")
			client := &http.Client{Transport: signer.NewDatafluxTransport(h.ts.Client().Transport, ws.Token, ws.Secret, signer.AlgoSHA256)}
			resp, err := client.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			var env envelope
			_ = json.NewDecoder(resp.Body).Decode(&env)
			resp.Body.Close()
			results <- result{resp.StatusCode, resp.Header.Get("Retry-After"), env.ErrorCode}
		}()
	}
	wg.Wait()
	close(results)
	ok, refused := 0, 0
	for r := range results {
		switch r.code {
		case 200:
			ok++
		case 429:
			refused++
			assert.Equal(t, "1", r.retryAfter)
			assert.Equal(t, "kodo.tooManyRequests", r.errorCode)
		default:
			t.Errorf("unexpected status %d", r.code)
		}
	}
	assert.Positive(t, ok)
	assert.Positive(t, refused, "16 writers against one slot and a 1ms wait")
	_, _, qc := h.query(ws.DBUUID, "SELECT count(f) FROM bp GROUP BY w")
	assert.Len(t, qc.Results[0].Series, ok, "one series per acknowledged writer")
	for _, s := range qc.Results[0].Series {
		assert.EqualValues(t, 2000, s.Values[0][1])
	}
}
