package kodo_test

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kodo-project/kodo/kodo"
	"github.com/kodo-project/kodo/storage/meta"
	"github.com/kodo-project/kodo/storage/meta/sqlite"
)

type wireVector struct {
	ID    string    `json:"id"`
	Raw   string    `json:"raw_request_base64"`
	Now   time.Time `json:"now"`
	Valid bool      `json:"valid"`
	Token string    `json:"token"`
	AK    string    `json:"ak"`
	SK    string    `json:"sk"`
	Note  string    `json:"note"`
}

func loadWireVectors(t *testing.T, name string) []wireVector {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "signer", "testdata", "vectors", name))
	require.NoError(t, err)
	var f struct{ Vectors []wireVector }
	require.NoError(t, json.Unmarshal(raw, &f))
	require.NotEmpty(t, f.Vectors)
	return f.Vectors
}

// TestCapturedAgentVectorsThroughServer sends the captured DATAFLUX and
// DWAY requests, byte for byte, to the whole server (trust middleware,
// rate limiter, replay hook, workspace key sets): agents without a secret
// keep writing to a workspace that allows the MD5 body key, as a
// workspace from before secrets does, and the negative vectors are 401.
func TestCapturedAgentVectorsThroughServer(t *testing.T) {
	dataflux := loadWireVectors(t, "dataflux.json")
	dway := loadWireVectors(t, "dataway-go-sdk.json")
	dir := t.TempDir()

	// Two workspaces made through the API (so their engine databases
	// exist), then given the vectors' tokens and keys as an operator's
	// existing data would have them.
	// The DataWay vectors name shortrp=rp7: an RP of the workspace's
	// database, kept forever as the vectors' points are old.
	rps := kodo.DefaultRetentionPolicies()
	rps["rp7"] = 0
	first, err := kodo.New(kodo.Options{DataDir: dir, RetentionPolicies: rps})
	require.NoError(t, err)
	ts := httptest.NewServer(first.Handler())
	h0 := &harness{t: t, srv: first, ts: ts, loopbackTrust: true, secrets: map[string]string{}}
	create := func() workspace { // autogen: the vectors' points are older than rp3 keeps
		code, env := h0.post("/v1/workspace/create", map[string]any{"name": "vectors", "default_rp": "autogen", "rp_list": []string{"autogen", "rp7"}})
		require.Equal(t, 200, code, env.Message)
		var ws workspace
		require.NoError(t, json.Unmarshal(env.Content, &ws))
		return ws
	}
	wsDF, wsDW := create(), create()
	ts.Close()
	require.NoError(t, first.Shutdown(context.Background()))
	db, err := sql.Open("sqlite", filepath.Join(dir, "meta.db"))
	require.NoError(t, err)
	for uuid, token := range map[string]string{wsDF.WorkspaceUUID: dataflux[0].Token, wsDW.WorkspaceUUID: dway[0].Token} {
		_, err = db.Exec(`UPDATE workspaces SET token = ?, secret = '', allow_body_key = 1 WHERE uuid = ?`, token, uuid)
		require.NoError(t, err)
	}
	require.NoError(t, db.Close())
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "meta.db"), nil)
	require.NoError(t, err)
	require.NoError(t, st.AddKeyPair(context.Background(), meta.KeyPair{AccessKey: dway[0].AK, SecretKey: dway[0].SK, WorkspaceUUID: wsDW.WorkspaceUUID}))
	require.NoError(t, st.Close())

	now := dataflux[0].Now
	h := newHarness(t, func(o *kodo.Options) {
		o.DataDir = dir
		o.RetentionPolicies = rps
		o.Now = func() time.Time { return now }
	})
	for _, v := range append(dataflux, dway...) {
		t.Run(v.ID, func(t *testing.T) {
			require.True(t, v.Now.Equal(now), "one clock for all vectors")
			raw, err := base64.StdEncoding.DecodeString(v.Raw)
			require.NoError(t, err)
			wire, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
			require.NoError(t, err)
			body, err := io.ReadAll(wire.Body)
			require.NoError(t, err)
			req, err := http.NewRequest(wire.Method, h.ts.URL+wire.RequestURI, bytes.NewReader(body))
			require.NoError(t, err)
			req.Header = wire.Header.Clone()
			req.Header.Set("Origin", "http://dashboard.example") // as from a browser: agents keep their CORS
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			assert.Equal(t, "*", resp.Header.Get("Access-Control-Allow-Origin"))
			if v.Valid {
				assert.Equal(t, 200, resp.StatusCode, "%s: %s", v.Note, got)
			} else {
				assert.Equal(t, 401, resp.StatusCode, "%s: %s", v.Note, got)
			}
		})
	}
	// shortrp=rp7 put the DataWay SDK's points into rp7.
	code, env, qc := h.query(wsDW.DBUUID, "SELECT count(free) FROM rp7.mem")
	require.Equal(t, 200, code, env.Message)
	require.Len(t, qc.Results, 1)
	require.NotEmpty(t, qc.Results[0].Series, "rp7 holds the shortrp=rp7 upload")
}
