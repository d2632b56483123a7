package kodo_test

import (
	"context"
	"database/sql"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"

	"github.com/kodo-project/kodo/internal/testkit"
	"github.com/kodo-project/kodo/kodo"
	"github.com/kodo-project/kodo/kodo/kodoapi"
	"github.com/kodo-project/kodo/kodo/kodoclient"
	"github.com/kodo-project/kodo/signer"
)

// signedWrite posts one line signed with DATAFLUX under key secret ("":
// the MD5 body key) and returns the status and error message.
func signedWrite(t *testing.T, h *harness, token, secret string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.ts.URL+"/v1/write/metrics", strings.NewReader("sec v=1\n"))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "text/plain")
	code, env := h.do(&http.Client{Transport: signer.NewDatafluxTransport(h.ts.Client().Transport, token, secret, signer.AlgoSHA256)}, req)
	return code, env.Message
}

// TestWorkspaceSecretLifecycle: a new workspace signs with its secret and
// refuses the MD5 body key; rotation keeps the old secret for the overlap
// only; the compatibility setting switches the body key.
func TestWorkspaceSecretLifecycle(t *testing.T) {
	h := newHarness(t)
	ctx := t.Context()
	ws := h.createWorkspace()
	admin, err := kodoclient.New(h.ts.URL, kodoclient.Options{})
	require.NoError(t, err)

	code, msg := signedWrite(t, h, ws.Token, ws.Secret)
	require.Equal(t, 200, code, msg)
	code, msg = signedWrite(t, h, ws.Token, "")
	assert.Equal(t, 401, code)
	assert.Contains(t, msg, "refuses", "says the body key is refused")
	assert.Contains(t, msg, "secret")

	// Secret-keyed requests must carry Content-MD5 (the signature covers
	// the body only through it); a stripped header is refused.
	strip := &http.Client{Transport: signer.NewDatafluxTransport(
		overrideHeader{h.ts.Client().Transport, "Content-MD5", ""}, ws.Token, ws.Secret, signer.AlgoSHA256)}
	req, _ := http.NewRequest(http.MethodPost, h.ts.URL+"/v1/write/metrics", strings.NewReader("sec v=1\n"))
	code, env := h.do(strip, req)
	assert.Equal(t, 401, code)
	assert.Contains(t, env.Message, "Content-MD5")

	// The secret is shown only by create and rotate.
	code, _, body := rawDo(t, h, testkit.NewRequest(t, http.MethodGet, h.ts.URL+"/v1/check/token/"+ws.Token, ""))
	require.Equal(t, 200, code)
	assert.NotContains(t, body, ws.Secret)

	rot, err := admin.RotateSecret(ctx, ws.WorkspaceUUID, time.Hour)
	require.NoError(t, err)
	require.Regexp(t, `^wsec_[0-9a-f]{64}$`, rot.Secret)
	assert.NotEqual(t, ws.Secret, rot.Secret)
	assert.NotEmpty(t, rot.PreviousValidUntil)
	for _, s := range []string{ws.Secret, rot.Secret} {
		code, msg = signedWrite(t, h, ws.Token, s)
		assert.Equal(t, 200, code, "both secrets verify during the overlap: %s", msg)
	}

	rot2, err := admin.RotateSecret(ctx, ws.WorkspaceUUID, time.Nanosecond)
	require.NoError(t, err)
	code, _ = signedWrite(t, h, ws.Token, rot2.Secret)
	assert.Equal(t, 200, code)
	for _, old := range []string{ws.Secret, rot.Secret} {
		code, _ = signedWrite(t, h, ws.Token, old)
		assert.Equal(t, 401, code, "a replaced secret past its overlap no longer verifies")
	}

	// The Go client signs with the secret it is given.
	c, err := kodoclient.New(h.ts.URL, kodoclient.Options{Token: ws.Token, Secret: rot2.Secret})
	require.NoError(t, err)
	require.NoError(t, c.Write(ctx, kodoclient.Point{Measurement: "sec", Fields: map[string]any{"v": 2.0}}))
	noSecret, err := kodoclient.New(h.ts.URL, kodoclient.Options{Token: ws.Token, MaxRetries: -1})
	require.NoError(t, err)
	err = noSecret.Write(ctx, kodoclient.Point{Measurement: "sec", Fields: map[string]any{"v": 3.0}})
	assert.True(t, kodoclient.IsErrorCode(err, kodoapi.ErrInvalidSignature), "%v", err)

	// Compatibility switched on: the body key works again, and off again.
	require.NoError(t, admin.SetAllowMD5Key(ctx, ws.WorkspaceUUID, true))
	code, msg = signedWrite(t, h, ws.Token, "")
	assert.Equal(t, 200, code, msg)
	require.NoError(t, admin.SetAllowMD5Key(ctx, ws.WorkspaceUUID, false))
	code, _ = signedWrite(t, h, ws.Token, "")
	assert.Equal(t, 401, code)

	code, env = h.post("/v1/workspace/secret/rotate", map[string]string{"workspace_uuid": "wksp_nope"})
	assert.Equal(t, 400, code)
	assert.Equal(t, "kodo.workspaceNotFound", env.ErrorCode)
	code, env = h.post("/v1/workspace/secret/rotate", map[string]string{"workspace_uuid": ws.WorkspaceUUID, "overlap": "soon"})
	assert.Equal(t, 400, code)
	assert.Contains(t, env.Message, "overlap")
	code, env = h.post("/v1/workspace/signing", map[string]string{"workspace_uuid": ws.WorkspaceUUID})
	assert.Equal(t, 400, code)
	assert.Contains(t, env.Message, "allow_md5_key")
}

// TestWorkspaceFromBeforeSecrets: a workspace as the migration leaves it
// (no secret, MD5 body key allowed) keeps its agents working until an
// operator gives it a secret and switches the body key off.
func TestWorkspaceFromBeforeSecrets(t *testing.T) {
	dir := t.TempDir()
	first, err := kodo.New(kodo.Options{DataDir: dir})
	require.NoError(t, err)
	ts := httptest.NewServer(first.Handler())
	ws := (&harness{t: t, srv: first, ts: ts, loopbackTrust: true, secrets: map[string]string{}}).createWorkspace()
	ts.Close()
	require.NoError(t, first.Shutdown(context.Background()))

	// What migration 0004 does to a workspace created before it.
	db, err := sql.Open("sqlite", filepath.Join(dir, "meta.db"))
	require.NoError(t, err)
	_, err = db.Exec(`UPDATE workspaces SET secret = '', allow_body_key = 1 WHERE uuid = ?`, ws.WorkspaceUUID)
	require.NoError(t, err)
	require.NoError(t, db.Close())

	h := newHarness(t, func(o *kodo.Options) { o.DataDir = dir })
	code, msg := signedWrite(t, h, ws.Token, "")
	require.Equal(t, 200, code, "an old agent without a secret still writes: %s", msg)

	code, env := h.post("/v1/workspace/signing", map[string]any{"workspace_uuid": ws.WorkspaceUUID, "allow_md5_key": false})
	assert.Equal(t, 400, code, "switching off the only key would lock the agents out")
	assert.Contains(t, env.Message, "rotate a secret first")

	c, err := kodoclient.New(h.ts.URL, kodoclient.Options{})
	require.NoError(t, err)
	rot, err := c.RotateSecret(t.Context(), ws.WorkspaceUUID, 0)
	require.NoError(t, err)
	assert.True(t, rot.AllowMD5Key, "rotation alone leaves the compatibility setting")
	code, _ = signedWrite(t, h, ws.Token, "")
	assert.Equal(t, 200, code, "agents not yet switched keep working")
	code, _ = signedWrite(t, h, ws.Token, rot.Secret)
	assert.Equal(t, 200, code)

	require.NoError(t, c.SetAllowMD5Key(t.Context(), ws.WorkspaceUUID, false))
	code, _ = signedWrite(t, h, ws.Token, "")
	assert.Equal(t, 401, code)
	code, _ = signedWrite(t, h, ws.Token, rot.Secret)
	assert.Equal(t, 200, code)
}
