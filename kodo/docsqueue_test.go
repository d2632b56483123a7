package kodo_test

import (
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
)

// TestDocumentsThroughQueue runs the documents consumer (what -elastic-url
// uses) against the embedded store: writes are checked at the gateway
// (bad lines 400), applied by the consumer with the log pipeline, become
// searchable, and a retried write stores nothing twice.
func TestDocumentsThroughQueue(t *testing.T) {
	var calls atomic.Int32
	fn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		b, _ := io.ReadAll(r.Body)
		io.WriteString(w, strings.ReplaceAll(string(b), "failed", "FAILED"))
	}))
	defer fn.Close()
	h := newHarness(t, func(o *kodo.Options) { o.DocumentsViaQueue = true; o.FunctionURL = fn.URL })
	ws := h.createWorkspace()
	code, env := h.post("/v1/cache/logging/set", map[string]string{"workspace_uuid": ws.WorkspaceUUID, "source": "sshd", "url": "/parse"})
	require.Equal(t, 200, code, env.Message)
	signed := func(path, body string) (int, envelope) {
		req, _ := http.NewRequest(http.MethodPost, h.ts.URL+path, strings.NewReader(body))
		return h.do(&http.Client{Transport: signer.NewDatafluxTransport(h.ts.Client().Transport, ws.Token, ws.Secret, signer.AlgoSHA256)}, req)
	}
	now := time.Now()
	body := fmt.Sprintf("sshd,host=bastion message=\"login failed for root\" %d\nsshd,host=bastion message=\"session opened\" %d\n", now.UnixNano(), now.Add(time.Second).UnixNano())
	for range 2 { // the second is an agent's retry
		code, env = signed("/v1/write/logging?source=sshd", body)
		require.Equal(t, 200, code, env.Message)
	}
	code, env = signed("/v1/write/logging?source=sshd", "not line protocol\n")
	assert.Equal(t, 400, code, "checked at the gateway: %s", env.Message)

	search := func(query string) int64 {
		code, env := h.post("/v1/read/docs", map[string]any{"workspace_uuid": ws.WorkspaceUUID, "kind": "logging", "query": query})
		require.Equal(t, 200, code, env.Message)
		var res struct {
			Total int64 `json:"total"`
		}
		require.NoError(t, json.Unmarshal(env.Content, &res))
		return res.Total
	}
	eventually(t, "the consumer stores the logs", func() bool { return search("") == 2 })
	assert.EqualValues(t, 1, search("FAILED"), "the pipeline ran on the consumer")
	assert.GreaterOrEqual(t, calls.Load(), int32(2))
}
