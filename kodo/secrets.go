package kodo

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"time"

	"github.com/kodo-project/kodo/signer"
	"github.com/kodo-project/kodo/storage/meta"
)

// newSecret is a workspace secret: 256 random bits, hex, behind a prefix
// that makes a leaked one easy to recognise in logs and code.
func newSecret() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand never fails on supported platforms
	return "wsec_" + hex.EncodeToString(b[:])
}

// datafluxKeys is what may sign a workspace's DATAFLUX requests now: its
// secret, the one a rotation replaced until the overlap ends, and the MD5
// body key where the workspace still allows it. Workspaces that refuse
// the body key also require Content-MD5, so the signature covers the body.
func (s *service) datafluxKeys(ws meta.Workspace) signer.DatafluxKeys {
	k := signer.DatafluxKeys{AllowBodyKey: ws.AllowBodyKey, RequireContentMD5: !ws.AllowBodyKey}
	if ws.Secret != "" {
		k.Secrets = append(k.Secrets, ws.Secret)
	}
	if ws.PrevSecret != "" && s.now().Before(ws.PrevSecretUntil) {
		k.Secrets = append(k.Secrets, ws.PrevSecret)
	}
	return k
}

type rotateSecretRequest struct {
	WorkspaceUUID string `json:"workspace_uuid"`
	// Overlap is how long the replaced secret still verifies ("24h",
	// "0s"); empty: -secret-overlap.
	Overlap string `json:"overlap"`
}

// handleRotateSecret gives a workspace a new secret and answers it; this
// and the create answer are the only places a secret is ever shown.
func (s *service) handleRotateSecret(w http.ResponseWriter, r *http.Request) {
	var req rotateSecretRequest
	if err := s.decodeJSON(r, &req, false); err != nil {
		s.fail(w, r, err)
		return
	}
	if req.WorkspaceUUID == "" {
		s.fail(w, r, Errorf(ErrBadRequest, "workspace_uuid is required"))
		return
	}
	overlap := s.opts.SecretOverlap
	if req.Overlap != "" {
		d, err := time.ParseDuration(req.Overlap)
		if err != nil || d < 0 {
			s.fail(w, r, Errorf(ErrBadRequest, "overlap %q: want a duration such as \"24h\" or \"0s\"", req.Overlap))
			return
		}
		overlap = d
	}
	var until time.Time
	if overlap > 0 {
		until = s.now().Add(overlap).UTC()
	}
	ws, err := s.meta.RotateWorkspaceSecret(r.Context(), req.WorkspaceUUID, newSecret(), until)
	if err != nil {
		s.fail(w, r, notFoundAs(err, ErrWorkspaceNotFound, "workspace %s not found", req.WorkspaceUUID))
		return
	}
	s.tokens.evict(ws.Token, "")
	out := map[string]any{"workspace_uuid": ws.UUID, "secret": ws.Secret, "allow_md5_key": ws.AllowBodyKey}
	if ws.PrevSecret != "" && !until.IsZero() {
		out["previous_secret_valid_until"] = until.Format(time.RFC3339)
	}
	respond(w, out)
}

type signingRequest struct {
	WorkspaceUUID string `json:"workspace_uuid"`
	AllowMD5Key   *bool  `json:"allow_md5_key"`
}

// handleSigning switches a workspace's acceptance of MD5-keyed DATAFLUX
// signatures (the compatibility setting of workspaces older than secrets).
func (s *service) handleSigning(w http.ResponseWriter, r *http.Request) {
	var req signingRequest
	if err := s.decodeJSON(r, &req, false); err != nil {
		s.fail(w, r, err)
		return
	}
	if req.AllowMD5Key == nil {
		s.fail(w, r, Errorf(ErrBadRequest, "allow_md5_key (true or false) is required"))
		return
	}
	ctx := r.Context()
	ws, err := s.workspaceOf(ctx, req.WorkspaceUUID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !*req.AllowMD5Key && ws.Secret == "" {
		s.fail(w, r, Errorf(ErrBadRequest, "workspace %s has no secret: refusing MD5-keyed signatures would lock out every agent; rotate a secret first (/v1/workspace/secret/rotate) and give it to the agents", ws.UUID))
		return
	}
	if err := s.meta.SetWorkspaceBodyKey(ctx, ws.UUID, *req.AllowMD5Key); err != nil {
		s.fail(w, r, notFoundAs(err, ErrWorkspaceNotFound, "workspace %s not found", ws.UUID))
		return
	}
	s.tokens.evict(ws.Token, "")
	respond(w, map[string]any{"workspace_uuid": ws.UUID, "allow_md5_key": *req.AllowMD5Key})
}
