package kodo_test

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kodo-project/kodo/kodo"
)

func fastCQ(o *kodo.Options) { o.Limits.MinCQEvery = time.Second }

func TestContinuousQueryEmbedded(t *testing.T) {
	cqWalk(t, newHarness(t, fastCQ))
}

func TestContinuousQueryRemote(t *testing.T) {
	url := os.Getenv("KODO_TEST_INFLUX_URL")
	if url == "" {
		t.Skip("KODO_TEST_INFLUX_URL not set; .ci/run starts Debian's influxd and sets it")
	}
	cqWalk(t, newHarness(t, fastCQ, func(o *kodo.Options) { o.InfluxURLs = []string{url} }))
}

type cqRec struct {
	CQUUID      string `json:"cq_uuid"`
	DB          string `json:"db"`
	RP          string `json:"rp"`
	CQRP        string `json:"cqrp"`
	Measurement string `json:"measurement"`
	AggrFunc    string `json:"aggr_func"`
	AggrPeriod  string `json:"aggr_period"`
	AggrEvery   string `json:"aggr_every"`
}

// cqWalk creates a CQ through the API while points keep arriving and waits
// for downsampled rows in the CQ RP.
func cqWalk(t *testing.T, h *harness) {
	ws := h.createWorkspace()
	stop := make(chan struct{})
	firstWrite := make(chan struct{}) // closed once a point is stored
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // an agent writing every 200ms
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(200 * time.Millisecond):
			}
			code, env := h.write(ws.Token, fmt.Sprintf("cpu,host=a usage=%d %d\n", i, time.Now().UnixNano()), nil)
			if code != 200 {
				t.Errorf("write: %d %s", code, env.Message)
				return
			}
			if i == 0 {
				close(firstWrite)
			}
		}
	}()
	defer func() { close(stop); wg.Wait() }()
	select { // the first point records cpu's RP
	case <-firstWrite:
	case <-time.After(30 * time.Second):
		t.Fatal("the first write did not complete within 30s")
	}

	code, env := h.post("/v1/cq/create", map[string]any{
		"db_uuid": ws.DBUUID, "workspace_uuid": ws.WorkspaceUUID,
		"measurements": []map[string]string{{"measurement": "cpu", "aggr_func": "max", "aggr_period": "1s", "aggr_every": "1s"}},
	})
	require.Equal(t, 200, code, env.Message)
	var recs []cqRec
	require.NoError(t, json.Unmarshal(env.Content, &recs))
	require.Len(t, recs, 1)
	c := recs[0]
	assert.Regexp(t, `^cq_[0-9a-f]{32}$`, c.CQUUID)
	assert.Equal(t, cqRec{CQUUID: c.CQUUID, DB: ws.DB, RP: "rp3", CQRP: "autogen", Measurement: "cpu", AggrFunc: "max", AggrPeriod: "1s", AggrEvery: "1s"}, c)

	require.Eventually(t, func() bool {
		code, _, qc := h.query(ws.DBUUID, `SELECT max_usage FROM autogen.cpu`)
		return code == 200 && len(qc.Results) == 1 && len(qc.Results[0].Series) == 1 && len(qc.Results[0].Series[0].Values) > 0
	}, 15*time.Second, 250*time.Millisecond, "the CQ writes downsampled rows into the CQ RP")

	// The engine holds exactly it: syncupdate finds nothing to change.
	code, env = h.post("/v1/cq/syncupdate?workspace_uuid="+ws.WorkspaceUUID, nil)
	require.Equal(t, 200, code, env.Message)
	assert.JSONEq(t, fmt.Sprintf(`{"created":[],"updated":[],"deleted":[],"unchanged":[%q]}`, c.CQUUID), string(env.Content))

	// Dropped behind our back: syncupdate re-creates it.
	code, env = h.post("/v1/manage/metrics", map[string]any{"db_uuid": ws.DBUUID, "command": fmt.Sprintf("DROP CONTINUOUS QUERY %s ON %s", c.CQUUID, ws.DB)})
	require.Equal(t, 200, code, env.Message)
	code, env = h.post("/v1/cq/syncupdate?workspace_uuid="+ws.WorkspaceUUID, nil)
	require.Equal(t, 200, code, env.Message)
	assert.JSONEq(t, fmt.Sprintf(`{"created":[%q],"updated":[],"deleted":[],"unchanged":[]}`, c.CQUUID), string(env.Content))

	// Modify changes the aggregate; delete removes it from the engine.
	code, env = h.post("/v1/cq/modify", map[string]any{"cq_uuid": c.CQUUID, "workspace_uuid": ws.WorkspaceUUID, "aggr_func": "mean", "aggr_every": "2s"})
	require.Equal(t, 200, code, env.Message)
	var mod cqRec
	require.NoError(t, json.Unmarshal(env.Content, &mod))
	assert.Equal(t, "mean", mod.AggrFunc)
	assert.Equal(t, "2s", mod.AggrEvery)
	assert.Equal(t, "1s", mod.AggrPeriod)
	sync := func() string {
		code, env := h.post("/v1/cq/syncupdate?workspace_uuid="+ws.WorkspaceUUID, nil)
		require.Equal(t, 200, code, env.Message)
		return string(env.Content)
	}
	assert.JSONEq(t, fmt.Sprintf(`{"created":[],"updated":[],"deleted":[],"unchanged":[%q]}`, c.CQUUID), sync(),
		"the engine runs the modified statement")

	code, env = h.post("/v1/cq/delete", map[string]any{"cq_uuid": c.CQUUID, "workspace_uuid": ws.WorkspaceUUID})
	require.Equal(t, 200, code, env.Message)
	assert.JSONEq(t, `{"created":[],"updated":[],"deleted":[],"unchanged":[]}`, sync())
	code, env = h.post("/v1/cq/delete", map[string]any{"cq_uuid": c.CQUUID, "workspace_uuid": ws.WorkspaceUUID})
	assert.Equal(t, 400, code)
	assert.Equal(t, "kodo.cqNotFound", env.ErrorCode)
}

func TestContinuousQueryValidation(t *testing.T) {
	h := newHarness(t)
	ws := h.createWorkspace()
	cases := []struct {
		name string
		spec map[string]string
		msg  string
	}{
		{"unknown aggregate", map[string]string{"aggr_func": "avg"}, `aggr_func "avg" is not supported`},
		{"week-day mix", map[string]string{"aggr_period": "1w1d"}, `aggr_period "1w1d" is not a duration`},
		{"unit u", map[string]string{"aggr_every": "5u"}, `aggr_every "5u" is not a duration`},
		{"negative", map[string]string{"aggr_every": "-1m"}, `is not a duration`},
		{"every too short", map[string]string{"aggr_every": "10s"}, "shorter than the 1m0s minimum"},
		{"period too short", map[string]string{"aggr_period": "100ms"}, "shorter than the 1s minimum"},
		{"no measurement", map[string]string{"measurement": ""}, "measurement is required"},
		{"newline in name", map[string]string{"measurement": "a\nb"}, "control character"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			spec := map[string]string{"measurement": "cpu", "aggr_func": "mean", "aggr_period": "1m", "aggr_every": "5m"}
			for k, v := range c.spec {
				spec[k] = v
			}
			code, env := h.post("/v1/cq/create", map[string]any{"db_uuid": ws.DBUUID, "workspace_uuid": ws.WorkspaceUUID, "measurements": []any{spec}})
			assert.Equal(t, 400, code)
			assert.Equal(t, "kodo.badRequest", env.ErrorCode)
			assert.Contains(t, env.Message, c.msg)
			assert.True(t, strings.HasPrefix(env.Message, "measurements[0]: "), env.Message)
		})
	}
	t.Run("quoted measurement names work", func(t *testing.T) {
		code, env := h.post("/v1/cq/create", map[string]any{"db_uuid": ws.DBUUID, "workspace_uuid": ws.WorkspaceUUID,
			"measurements": []any{map[string]string{"measurement": `disk-io "sda"`, "aggr_func": "sum", "aggr_period": "1m", "aggr_every": "5m"}}})
		require.Equal(t, 200, code, env.Message)
	})
	t.Run("another workspace's db", func(t *testing.T) {
		other := h.createWorkspace()
		code, env := h.post("/v1/cq/create", map[string]any{"db_uuid": ws.DBUUID, "workspace_uuid": other.WorkspaceUUID,
			"measurements": []any{map[string]string{"measurement": "cpu", "aggr_func": "sum", "aggr_period": "1m", "aggr_every": "5m"}}})
		assert.Equal(t, 400, code)
		assert.Equal(t, "kodo.dbNotFound", env.ErrorCode)
	})
}
