package kodo_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kodo-project/kodo/kodo"
)

// influxQuery sends q to /query as a form POST with the workspace token and
// returns the status and the decoded body.
func (h *harness) influxQuery(token, method, q string) (int, map[string]any) {
	h.t.Helper()
	form := url.Values{"q": {q}}
	var req *http.Request
	var err error
	if method == http.MethodGet {
		req, err = http.NewRequest(method, h.ts.URL+"/query?"+form.Encode(), nil)
	} else {
		req, err = http.NewRequest(method, h.ts.URL+"/query", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	require.NoError(h.t, err)
	req.Header.Set("Authorization", "Token "+token)
	resp, err := h.ts.Client().Do(req)
	require.NoError(h.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(h.t, err)
	var body map[string]any
	require.NoError(h.t, json.Unmarshal(raw, &body), "body: %s", raw)
	return resp.StatusCode, body
}

// TestQueryDeepNestingEveryPath sends 3,000,000 '(' (a stack overflow for
// influxql's recursive parser, which recover cannot catch) to each path
// that takes InfluxQL: each answers 400 and the process lives on.
func TestQueryDeepNestingEveryPath(t *testing.T) {
	h := newHarness(t)
	ws := h.createWorkspace()
	// 3M '(' is over the text limit; 100k fits it but not the nesting one.
	for _, n := range []int{3_000_000, 100_000} {
		deep := "SELECT " + strings.Repeat("(", n) + "v FROM m"
		refused := func(msg string) bool { return strings.Contains(msg, "at most") && len(msg) < 1000 }

		code, body := h.influxQuery(ws.Token, http.MethodPost, deep)
		assert.Equal(t, 400, code)
		assert.True(t, refused(body["error"].(string)), "%.300s", body["error"])

		code, body = h.influxQuery(ws.Token, http.MethodPost, "SHOW DATABASES; "+deep)
		assert.Equal(t, 400, code, "SHOW DATABASES is answered locally, after the bounded parse")
		assert.True(t, refused(body["error"].(string)), "%.300s", body["error"])

		for _, path := range []string{"/v1/read/metrics", "/v1/manage/metrics"} {
			code, env := h.post(path, map[string]any{"db_uuid": ws.DBUUID, "command": deep})
			assert.Equal(t, 400, code, path)
			assert.Equal(t, "kodo.invalidSQL", env.ErrorCode, path)
			assert.True(t, refused(env.Message), "%.300s", env.Message)
		}
		code, env := h.post("/v1/rewrite", map[string]any{"db_uuid": ws.DBUUID, "sqls": []any{map[string]any{"sql": deep}}})
		require.Equal(t, 200, code, env.Message)
		var items [][]struct {
			Error string `json:"error"`
		}
		require.NoError(t, json.Unmarshal(env.Content, &items))
		require.Len(t, items, 1)
		require.Len(t, items[0], 1)
		assert.True(t, refused(items[0][0].Error), "the item answers its own error: %.300s", items[0][0].Error)
	}
	// Still serving.
	code, _ := h.influxQuery(ws.Token, http.MethodGet, "SHOW MEASUREMENTS")
	assert.Equal(t, 200, code)
}

// TestQueryLimits: a query over the bucket limit is refused before it
// runs, on every InfluxQL path; the engine's limits and the answer bound
// answer 400 kodo.queryLimit naming the limit and its flag, never 500.
func TestQueryLimits(t *testing.T) {
	h := newHarness(t, func(o *kodo.Options) {
		o.Limits.MaxSelectSeries = 2
		o.Limits.MaxQueryAnswerBytes = 4096
	})
	ws := h.createWorkspace()
	now := time.Now().Add(-30 * time.Minute).Truncate(time.Second)
	var lines strings.Builder
	for i := 0; i < 200; i++ {
		fmt.Fprintf(&lines, "m,host=h%d v=%d %d\n", i%3, i, now.Add(time.Duration(i)*time.Second).UnixNano())
	}
	code, env := h.write(ws.Token, lines.String(), nil)
	require.Equal(t, 200, code, env.Message)

	attack := `SELECT count(v) FROM m WHERE time > now() - 1h GROUP BY time(1ns)`
	code, body := h.influxQuery(ws.Token, http.MethodGet, attack)
	assert.Equal(t, 400, code)
	assert.Contains(t, body["error"], "max-select-buckets")
	for _, path := range []string{"/v1/read/metrics", "/v1/manage/metrics"} {
		code, env := h.post(path, map[string]any{"db_uuid": ws.DBUUID, "command": attack})
		assert.Equal(t, 400, code, path)
		assert.Equal(t, "kodo.queryLimit", env.ErrorCode, path)
		assert.Contains(t, env.Message, "-max-select-buckets", path)
	}

	cases := map[string]string{
		`SELECT count(v) FROM m WHERE time > now() - 1h`: "-max-select-series",
		`SELECT v FROM m WHERE host = 'h1'`:              "-max-query-answer-bytes",
	}
	for q, flag := range cases {
		code, env := h.post("/v1/read/metrics", map[string]any{"db_uuid": ws.DBUUID, "command": q})
		assert.Equal(t, 400, code, q)
		assert.Equal(t, "kodo.queryLimit", env.ErrorCode, q)
		assert.Contains(t, env.Message, flag, q)
		code, body := h.influxQuery(ws.Token, http.MethodGet, q)
		assert.Equal(t, 400, code, q)
		assert.Contains(t, body["error"], flag, q)
	}

	// Within the limits all is as before.
	code, _, qc := h.query(ws.DBUUID, `SELECT count(v) FROM m WHERE host = 'h1' AND time > now() - 1h GROUP BY time(10m)`)
	require.Equal(t, 200, code)
	require.Len(t, qc.Results, 1)
	require.Len(t, qc.Results[0].Series, 1)
	total := 0.0
	for _, v := range qc.Results[0].Series[0].Values {
		if n, ok := v[1].(float64); ok {
			total += n
		}
	}
	assert.Equal(t, 67.0, total, "h1 holds every third of the 200 points")
}

// TestQueryAnswerChunksMerge: the engine hands a long series over in
// chunks; the answer still has one row per series with every value.
func TestQueryAnswerChunksMerge(t *testing.T) {
	h := newHarness(t)
	ws := h.createWorkspace()
	start := time.Now().Add(-10 * time.Hour).Truncate(time.Second)
	var lines strings.Builder
	for i := 0; i < 25_000; i++ {
		fmt.Fprintf(&lines, "m,host=a v=%d %d\n", i, start.Add(time.Duration(i)*time.Second).UnixNano())
	}
	code, env := h.write(ws.Token, lines.String(), nil)
	require.Equal(t, 200, code, env.Message)
	code, _, qc := h.query(ws.DBUUID, `SELECT v FROM m`)
	require.Equal(t, 200, code)
	require.Len(t, qc.Results[0].Series, 1)
	assert.Len(t, qc.Results[0].Series[0].Values, 25_000)
}
