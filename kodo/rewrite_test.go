package kodo_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	iql "github.com/influxdata/influxql"
	"github.com/kodo-project/kodo/kodo/kodoapi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type goldenFile struct {
	Cases []struct {
		Name   string         `json:"name"`
		Item   map[string]any `json:"item"`
		Expect []struct {
			SQL            string         `json:"sql"`
			RewriteResults map[string]any `json:"rewrite_results"`
		} `json:"expect"`
		ExpectError string `json:"expect_error"`
	} `json:"cases"`
}

func normalize(t *testing.T, sql string) string {
	q, err := iql.ParseQuery(sql)
	require.NoError(t, err, sql)
	return q.String()
}

// TestRewriteEndpointGolden sends every golden case of spec/rewrite-golden.json
// in one /v1/rewrite request: failing items answer their error in place and
// the others are still rewritten.
func TestRewriteEndpointGolden(t *testing.T) {
	// The project's copy of shared/spec/rewrite-golden.json (see influxql).
	raw, err := os.ReadFile(filepath.Join("..", "influxql", "testdata", "rewrite-golden.json"))
	require.NoError(t, err)
	var g goldenFile
	require.NoError(t, json.Unmarshal(raw, &g))

	h := newHarness(t)
	ws := h.createWorkspace()
	items := make([]map[string]any, len(g.Cases))
	for i, c := range g.Cases {
		items[i] = c.Item
	}
	code, env := h.post("/v1/rewrite", map[string]any{"db_uuid": ws.DBUUID, "sqls": items})
	require.Equal(t, 200, code, env.Message)
	var got [][]struct {
		SQL            string         `json:"sql"`
		Error          string         `json:"error"`
		RewriteResults map[string]any `json:"rewrite_results"`
	}
	require.NoError(t, json.Unmarshal(env.Content, &got))
	require.Len(t, got, len(g.Cases))
	for i, c := range g.Cases {
		t.Run(c.Name, func(t *testing.T) {
			if c.ExpectError != "" {
				require.Len(t, got[i], 1)
				assert.Contains(t, got[i][0].Error, c.ExpectError)
				assert.Empty(t, got[i][0].RewriteResults)
				return
			}
			require.Len(t, got[i], len(c.Expect))
			for j, e := range c.Expect {
				assert.Empty(t, got[i][j].Error)
				assert.Equal(t, normalize(t, e.SQL), normalize(t, got[i][j].SQL))
				assert.Equal(t, e.RewriteResults, got[i][j].RewriteResults)
			}
		})
	}

	code, env = h.post("/v1/rewrite", map[string]any{"db_uuid": "ifdb_missing", "sqls": items})
	assert.Equal(t, 400, code)
	assert.Equal(t, "kodo.dbNotFound", env.ErrorCode)
}

// TestReadMetricsWithRewrite rewrites and runs in one call: conditions
// filter, max_point downsamples.
func TestReadMetricsWithRewrite(t *testing.T) {
	h := newHarness(t)
	ws := h.createWorkspace()
	base := time.Now().Add(-2 * time.Hour).Truncate(time.Hour)
	lines := ""
	for i := 0; i < 60; i++ {
		lines += fmt.Sprintf("cpu,host=h%d usage=%d %d\n", i%2, i, base.Add(time.Duration(i)*time.Minute).UnixNano())
	}
	code, env := h.write(ws.Token, lines, nil)
	require.Equal(t, 200, code, env.Message)

	code, env = h.post("/v1/read/metrics", map[string]any{
		"db":      ws.DBUUID,
		"command": "SELECT max(usage) FROM cpu GROUP BY time(1m)",
		"rewrite": map[string]any{
			"conditions": "host = 'h1'",
			"time_range": []int64{base.UnixMilli(), base.Add(time.Hour).UnixMilli()},
			"max_point":  6, "fill_opt": "none",
		},
	})
	require.Equal(t, 200, code, env.Message)
	var qc struct {
		kodoapi.QueryResult
		Rewritten []struct {
			SQL            string         `json:"sql"`
			RewriteResults map[string]any `json:"rewrite_results"`
		} `json:"rewritten"`
	}
	require.NoError(t, json.Unmarshal(env.Content, &qc))
	require.Len(t, qc.Rewritten, 1)
	assert.EqualValues(t, (10 * time.Minute).Nanoseconds(), qc.Rewritten[0].RewriteResults["downsampled_to"])
	require.Len(t, qc.Results[0].Series, 1)
	vals := qc.Results[0].Series[0].Values
	require.Len(t, vals, 6, "an hour in 10m buckets")
	assert.EqualValues(t, 9, vals[0][1], "max of host h1 (odd minutes) in the first bucket")

	code, env = h.post("/v1/read/metrics", map[string]any{"db": ws.DBUUID, "command": "SELECT max(usage) FROM cpu",
		"rewrite": map[string]any{"conditions": "host = "}})
	assert.Equal(t, 400, code)
	assert.Equal(t, "kodo.invalidSQL", env.ErrorCode)
}
