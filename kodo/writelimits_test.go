package kodo_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kodo-project/kodo/kodo"
	"github.com/kodo-project/kodo/kodo/kodoapi"
	"github.com/kodo-project/kodo/kodo/kodoclient"
)

// influxWrite posts line protocol to the InfluxDB-compatible /write.
func (h *harness) influxWrite(ws workspace, rp, body string) (int, string) {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.ts.URL+"/write?db="+ws.DB+"&rp="+rp, strings.NewReader(body))
	require.NoError(h.t, err)
	req.Header.Set("Authorization", "Token "+ws.Token)
	resp, err := h.ts.Client().Do(req)
	require.NoError(h.t, err)
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw)
}

func (h *harness) count(ws workspace, q string) int {
	h.t.Helper()
	code, env, qc := h.query(ws.DBUUID, q)
	require.Equal(h.t, 200, code, env.Message)
	if len(qc.Results) == 0 || len(qc.Results[0].Series) == 0 {
		return 0
	}
	n, ok := qc.Results[0].Series[0].Values[0][1].(float64)
	require.True(h.t, ok, "count is a number: %v", qc.Results[0].Series[0].Values[0][1])
	return int(n)
}

func TestWriteRefusesFuturePoints(t *testing.T) {
	h := newHarness(t, func(o *kodo.Options) { o.Limits.MaxFuture = time.Hour })
	ws := h.createWorkspace()
	now := time.Now()
	body := fmt.Sprintf("fut v=1 %d\nfut v=2 %d\nfut v=3 %d\n",
		now.Add(-time.Minute).UnixNano(), now.Add(3*time.Hour).UnixNano(), now.Add(30*time.Minute).UnixNano())
	t.Run("v1", func(t *testing.T) {
		code, env := h.write(ws.Token, body, map[string]string{"X-RP": "rp1"})
		require.Equal(t, 400, code)
		assert.Equal(t, "kodo.partialWrite", env.ErrorCode)
		assert.Contains(t, env.Message, "line 2")
		assert.Contains(t, env.Message, "ahead of the server clock (limit MaxFuture)")
		var le struct{ Accepted, Rejected int }
		require.NoError(t, json.Unmarshal(env.Content, &le))
		assert.Equal(t, 2, le.Accepted)
		assert.Equal(t, 1, le.Rejected)
		assert.Equal(t, 2, h.count(ws, "SELECT count(v) FROM rp1.fut"))
	})
	t.Run("influx", func(t *testing.T) {
		code, raw := h.influxWrite(ws, "rp2", body)
		require.Equal(t, 400, code)
		assert.Contains(t, raw, "partial write")
		assert.Contains(t, raw, "line 2")
		assert.Equal(t, 2, h.count(ws, "SELECT count(v) FROM rp2.fut"))
	})
}

func TestWriteShardLimit(t *testing.T) {
	h := newHarness(t, func(o *kodo.Options) { o.Limits.MaxShardsPerDatabase = 4 })
	ws := h.createWorkspace()
	// autogen keeps weekly groups forever: one point per week opens one each.
	var sb strings.Builder
	base := time.Now().Add(-100 * 7 * 24 * time.Hour)
	for i := 0; i < 10; i++ {
		fmt.Fprintf(&sb, "old v=%d %d\n", i, base.Add(time.Duration(i)*7*24*time.Hour).UnixNano())
	}
	code, env := h.write(ws.Token, sb.String(), map[string]string{"X-RP": "autogen"})
	require.Equal(t, 400, code)
	assert.Equal(t, "kodo.partialWrite", env.ErrorCode)
	assert.Contains(t, env.Message, "max-shards-per-database limit exceeded: (4/4)")
	assert.Equal(t, 4, h.count(ws, "SELECT count(v) FROM autogen.old"))
	// Writes into open groups still work.
	code, env = h.write(ws.Token, fmt.Sprintf("old v=1 %d\n", base.UnixNano()+1), map[string]string{"X-RP": "autogen"})
	require.Equal(t, 200, code, env.Message)
}

func TestWriteCardinalityLimits(t *testing.T) {
	h := newHarness(t, func(o *kodo.Options) {
		o.Limits.MaxSeriesPerDatabase = 20
		o.Limits.MaxValuesPerTag = 8
	})
	ws := h.createWorkspace()
	lines := func(prefix string, n int) string {
		var sb strings.Builder
		for i := 0; i < n; i++ {
			fmt.Fprintf(&sb, "card,%s=%d v=1\n", prefix, i)
		}
		return sb.String()
	}
	t.Run("values per tag", func(t *testing.T) {
		code, env := h.write(ws.Token, lines("host", 10), nil)
		require.Equal(t, 400, code)
		assert.Equal(t, "kodo.partialWrite", env.ErrorCode)
		assert.Contains(t, env.Message, `max-values-per-tag limit exceeded (8/8): measurement="card" tag="host"`)
		assert.Contains(t, env.Message, "refused 2 point(s)")
	})
	t.Run("series per database", func(t *testing.T) {
		// 8 series so far; three tags of 8 values make 24 more, 12 fit.
		body := lines("a", 8) + lines("b", 8) + lines("c", 8)
		code, env := h.write(ws.Token, body, nil)
		require.Equal(t, 400, code)
		assert.Contains(t, env.Message, "max-series-per-database limit exceeded: (20)")
		code, raw := h.influxWrite(ws, "", lines("d", 1))
		assert.Equal(t, 400, code)
		assert.Contains(t, raw, "max-series-per-database limit exceeded")
		// Known series are still written.
		code, env = h.write(ws.Token, lines("host", 3), nil)
		assert.Equal(t, 200, code, env.Message)
	})
	t.Run("workspace override", func(t *testing.T) {
		code, env := h.post("/v1/workspace/limits", map[string]any{"workspace_uuid": ws.WorkspaceUUID, "max_series_per_db": 100, "max_values_per_tag": -1})
		require.Equal(t, 200, code, env.Message)
		var ans struct {
			Databases []map[string]any `json:"databases"`
		}
		require.NoError(t, json.Unmarshal(env.Content, &ans))
		require.Len(t, ans.Databases, 1)
		assert.EqualValues(t, 100, ans.Databases[0]["effective_max_series_per_db"])
		assert.EqualValues(t, -1, ans.Databases[0]["effective_max_values_per_tag"])
		code, env = h.write(ws.Token, lines("host", 30), nil)
		assert.Equal(t, 200, code, env.Message)

		code, env = h.post("/v1/workspace/limits", map[string]any{"workspace_uuid": ws.WorkspaceUUID, "max_series_per_db": -7})
		assert.Equal(t, 400, code)
		assert.Contains(t, env.Message, "max_series_per_db is -7")
	})
	t.Run("set at creation", func(t *testing.T) {
		code, env := h.post("/v1/workspace/create", map[string]any{"name": "small", "max_series_per_db": 2})
		require.Equal(t, 200, code, env.Message)
		var small workspace
		require.NoError(t, json.Unmarshal(env.Content, &small))
		h.mu.Lock()
		h.secrets[small.Token] = small.Secret // the write helper signs with it
		h.mu.Unlock()
		code, env = h.write(small.Token, lines("x", 3), nil)
		require.Equal(t, 400, code)
		assert.Contains(t, env.Message, "max-series-per-database limit exceeded: (2)")
	})
}

func TestWriteFieldTypeAcrossShards(t *testing.T) {
	h := newHarness(t)
	ws := h.createWorkspace()
	day := 24 * time.Hour
	now := time.Now()
	hdr := map[string]string{"X-RP": "rp2"} // 30 days in daily shards
	code, env := h.write(ws.Token, fmt.Sprintf("cpu v=1.5 %d\n", now.Add(-day).UnixNano()), hdr)
	require.Equal(t, 200, code, env.Message)
	code, env = h.write(ws.Token, fmt.Sprintf("cpu v=2i %d\ncpu w=1i %d\n", now.UnixNano(), now.UnixNano()), hdr)
	require.Equal(t, 400, code)
	assert.Equal(t, "kodo.fieldTypeConflict", env.ErrorCode)
	assert.Contains(t, env.Message, `field type conflict: input field "v" on measurement "cpu" is type integer, already exists as type float`)
	code, raw := h.influxWrite(ws, "rp2", fmt.Sprintf("cpu v=\"s\" %d\n", now.Add(-3*day).UnixNano()))
	assert.Equal(t, 400, code)
	assert.Contains(t, raw, "is type string, already exists as type float")
	// The field stays readable.
	assert.Equal(t, 1, h.count(ws, "SELECT count(v) FROM rp2.cpu"))
	assert.Equal(t, 1, h.count(ws, "SELECT count(w) FROM rp2.cpu"))
}

func TestClientWorkspaceLimits(t *testing.T) {
	url := clServer(t, func(o *kodo.Options) { o.Limits.MaxValuesPerTag = 1000 })
	c := clNew(t, url, kodoclient.Options{})
	ctx := clCtx(t)
	two := 2
	ws, err := c.CreateWorkspace(ctx, kodoapi.CreateWorkspaceRequest{Name: "limited", CardinalityLimits: kodoapi.CardinalityLimits{MaxSeriesPerDB: &two}})
	require.NoError(t, err)
	assert.Equal(t, 2, ws.Limits.EffectiveMaxSeriesPerDB)
	assert.Equal(t, 1000, ws.Limits.EffectiveMaxValuesPerTag, "the gateway's default")

	none, zero := -1, 0
	info, err := c.SetWorkspaceLimits(ctx, ws.WorkspaceUUID, kodoapi.CardinalityLimits{MaxSeriesPerDB: &zero, MaxValuesPerTag: &none})
	require.NoError(t, err)
	require.Len(t, info.Databases, 1)
	assert.Equal(t, kodoapi.DatabaseLimits{DBUUID: ws.DBUUID, MaxSeriesPerDB: 0, MaxValuesPerTag: -1,
		EffectiveMaxSeriesPerDB: kodo.DefaultMaxSeriesPerDatabase, EffectiveMaxValuesPerTag: -1}, info.Databases[0])

	// Both nil: the limits are only read.
	again, err := c.SetWorkspaceLimits(ctx, ws.WorkspaceUUID, kodoapi.CardinalityLimits{})
	require.NoError(t, err)
	assert.Equal(t, info, again)
	_, err = c.SetWorkspaceLimits(ctx, "wksp_00000000000000000000000000000000", kodoapi.CardinalityLimits{})
	assert.True(t, kodoclient.IsErrorCode(err, kodoapi.ErrWorkspaceNotFound), "%v", err)
}
