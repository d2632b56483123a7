package kodo_test

import (
	"context"
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

// TestPandoraThroughServer drives the /v4 API mounted on the gateway with
// the tsdbclient.Client, using the key pair given in Options.
func TestPandoraThroughServer(t *testing.T) {
	h := newHarness(t, func(o *kodo.Options) { o.TSDBAccessKey, o.TSDBSecretKey = "AK_TEST", "SK_TEST_secret" })
	ctx := context.Background()
	c, err := tsdbclient.NewClient(h.ts.URL, "AK_TEST", "SK_TEST_secret", nil)
	require.NoError(t, err)
	require.NoError(t, c.CreateRepo(ctx, "app", tsdbapi.CreateRepoInput{Region: "nb", Metadata: map[string]string{"team": "ops"}}))
	require.NoError(t, c.CreateSeries(ctx, "app", "cpu", tsdbapi.CreateSeriesInput{Retention: "7d"}))
	ts := time.Now().Add(-time.Hour).Truncate(time.Second)
	_, err = c.WritePoints(ctx, "app", []byte(fmt.Sprintf("cpu,host=a value=1 %d\ncpu,host=b value=3 %d\n", ts.UnixNano(), ts.UnixNano())))
	require.NoError(t, err)
	ret, err := c.Query(ctx, "app", "SELECT sum(value) FROM cpu", tsdbclient.QueryOptions{})
	require.NoError(t, err)
	require.Len(t, ret.Results, 1)
	require.Len(t, ret.Results[0].Series, 1)
	assert.EqualValues(t, 4, ret.Results[0].Series[0].Values[0][1])

	// Time zone: a local time literal in +08 is 8h earlier in UTC.
	local := ts.Add(8 * time.Hour).UTC().Format("2006-01-02T15:04:05Z")
	ret, err = c.Query(ctx, "app", "SELECT value FROM cpu WHERE time = '"+local+"'", tsdbclient.QueryOptions{Timezone: "+08"})
	require.NoError(t, err)
	require.Len(t, ret.Results[0].Series, 1)
	assert.Len(t, ret.Results[0].Series[0].Values, 2)

	// A series that does not exist is refused, with the E-code.
	_, err = c.WritePoints(ctx, "app", []byte("mem v=1\n"))
	require.Error(t, err)
	assert.Equal(t, "E6303", tsdbapi.CodeOf(err))

	// Another key pair sees nothing; the management endpoint makes one.
	code, env := h.post("/v1/tsdb/keypair/create", nil)
	require.Equal(t, 200, code, env.Message)
	var kp struct{ AccessKey, SecretKey string }
	require.NoError(t, json.Unmarshal(env.Content, &struct {
		A *string `json:"access_key"`
		S *string `json:"secret_key"`
	}{&kp.AccessKey, &kp.SecretKey}))
	other, err := tsdbclient.NewClient(h.ts.URL, kp.AccessKey, kp.SecretKey, nil)
	require.NoError(t, err)
	repos, err := other.ListRepos(ctx)
	require.NoError(t, err)
	assert.Empty(t, repos)
	_, err = other.GetRepo(ctx, "app")
	require.Error(t, err)

	// A bad signature: 401 bad token, Content-Type exactly application/json.
	bad, _ := tsdbclient.NewClient(h.ts.URL, "AK_TEST", "wrong", nil)
	_, err = bad.ListRepos(ctx)
	require.Error(t, err)
	req, _ := http.NewRequest(http.MethodGet, h.ts.URL+"/v4/repos", nil)
	req.Header.Set("Authorization", "Pandora AK_TEST:bad")
	resp, err := h.ts.Client().Do(req)
	require.NoError(t, err)
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, 401, resp.StatusCode)
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	assert.JSONEq(t, `{"error":"bad token"}`, string(raw))
	assert.NotEmpty(t, resp.Header.Get("X-Trace-Id"))
}

// TestDocumentsThroughServer writes objects, key events and logs signed
// like metrics, and finds them again by text, tag and time.
func TestDocumentsThroughServer(t *testing.T) {
	// A log pipeline that upper-cases the message field.
	pipeline := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprint(w, strings.ReplaceAll(string(body), "login failed", "LOGIN FAILED"))
	}))
	defer pipeline.Close()

	h := newHarness(t)
	ws := h.createWorkspace()
	signed := func(path, body string) (int, envelope) {
		req, _ := http.NewRequest(http.MethodPost, h.ts.URL+path, strings.NewReader(body))
		return h.do(&http.Client{Transport: signer.NewDatafluxTransport(h.ts.Client().Transport, ws.Token, ws.Secret, signer.AlgoSHA256)}, req)
	}
	now := time.Now()
	code, env := signed("/v1/write/object", `[{"__name":"web-01","__tags":{"__class":"host","os":"linux"},"__content":"nginx frontend"}]`)
	require.Equal(t, 200, code, env.Message)
	code, env = signed("/v1/write/keyevent", fmt.Sprintf("deploy,service=api title=\"release v2\",__content=\"rolled out v2 to prod\" %d\n", now.UnixNano()))
	require.Equal(t, 200, code, env.Message)

	code, env = h.post("/v1/cache/logging/set", map[string]string{"workspace_uuid": ws.WorkspaceUUID, "source": "sshd", "url": pipeline.URL})
	require.Equal(t, 200, code, env.Message)
	code, env = signed("/v1/write/logging?source=sshd", fmt.Sprintf("sshd,host=bastion message=\"login failed for root\" %d\nsshd,host=bastion message=\"session opened\" %d\n", now.UnixNano(), now.Add(time.Second).UnixNano()))
	require.Equal(t, 200, code, env.Message)

	search := func(req map[string]any) (int64, []map[string]any) {
		code, env := h.post("/v1/read/docs", req)
		require.Equal(t, 200, code, env.Message)
		var res struct {
			Total int64            `json:"total"`
			Docs  []map[string]any `json:"docs"`
		}
		require.NoError(t, json.Unmarshal(env.Content, &res))
		return res.Total, res.Docs
	}
	total, got := search(map[string]any{"workspace_uuid": ws.WorkspaceUUID, "kind": "object", "filters": map[string]string{"os": "linux"}})
	require.EqualValues(t, 1, total)
	assert.Equal(t, "web-01", got[0]["__name"])
	total, _ = search(map[string]any{"db_uuid": ws.DBUUID, "kind": "keyevent", "query": "rolled prod"})
	assert.EqualValues(t, 1, total)
	total, got = search(map[string]any{"workspace_uuid": ws.WorkspaceUUID, "kind": "logging", "query": "LOGIN",
		"time_range": []int64{now.Add(-time.Minute).UnixMilli(), now.Add(time.Minute).UnixMilli()}})
	require.EqualValues(t, 1, total, "the pipeline's answer was stored")
	assert.Contains(t, fmt.Sprint(got[0]), "LOGIN FAILED")
	total, _ = search(map[string]any{"workspace_uuid": ws.WorkspaceUUID, "kind": "logging",
		"time_range": []int64{now.Add(time.Hour).UnixMilli(), now.Add(2 * time.Hour).UnixMilli()}})
	assert.EqualValues(t, 0, total)

	// Bad items are 400s naming the item; unsigned writes are refused.
	code, env = signed("/v1/write/object", `[{"__name":"x","__tags":{}}]`)
	assert.Equal(t, 400, code)
	assert.Contains(t, env.Message, "__class")
	req, _ := http.NewRequest(http.MethodPost, h.ts.URL+"/v1/write/object", strings.NewReader(`[]`))
	code, _ = h.do(nil, req)
	assert.Equal(t, 401, code)
}

// TestPipelineEndpointsFollowTheText: the API text's example sends a
// path as url (resolved on the function service), url is required, and
// deleting a pipeline is its own request.
func TestPipelineEndpointsFollowTheText(t *testing.T) {
	var calls atomic.Int32
	fn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		assert.Equal(t, "/functions/xxx", r.URL.Path)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer fn.Close()
	h := newHarness(t, func(o *kodo.Options) { o.FunctionURL = fn.URL + "/functions/" })
	ws := h.createWorkspace()
	code, env := h.post("/v1/cache/logging/set", map[string]string{"workspace_uuid": ws.WorkspaceUUID, "source": "xxx", "url": "xxx"})
	require.Equal(t, 200, code, env.Message)
	code, env = h.post("/v1/cache/logging/set", map[string]string{"workspace_uuid": ws.WorkspaceUUID, "source": "xxx"})
	assert.Equal(t, 400, code)
	assert.Contains(t, env.Message, "url is required")
	write := func() {
		req, _ := http.NewRequest(http.MethodPost, h.ts.URL+"/v1/write/logging?source=xxx", strings.NewReader("xxx message=\"m\"\n"))
		code, env := h.do(&http.Client{Transport: signer.NewDatafluxTransport(h.ts.Client().Transport, ws.Token, ws.Secret, signer.AlgoSHA256)}, req)
		require.Equal(t, 200, code, env.Message)
	}
	write()
	assert.EqualValues(t, 1, calls.Load(), "the pipeline survived the request without url")
	code, env = h.post("/v1/cache/logging/delete", map[string]string{"workspace_uuid": ws.WorkspaceUUID, "source": "xxx"})
	require.Equal(t, 200, code, env.Message)
	write()
	assert.EqualValues(t, 1, calls.Load(), "a deleted pipeline is not called")
}
