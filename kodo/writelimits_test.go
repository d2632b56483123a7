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
