package kodo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"time"

	"github.com/kodo-project/kodo/kodo/kodoapi"
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

// rotateSecret gives a workspace a new secret and answers it (with the
// create answer, the only places a secret is ever shown); the replaced one
// verifies until the overlap ends.
func (s *service) rotateSecret(ctx context.Context, req kodoapi.RotateSecretRequest) (kodoapi.Secret, error) {
	if req.WorkspaceUUID == "" {
		return kodoapi.Secret{}, Errorf(kodoapi.ErrBadRequest, "workspace_uuid is required")
	}
	overlap := s.opts.SecretOverlap
	if req.Overlap != "" {
		d, err := time.ParseDuration(req.Overlap)
		if err != nil || d < 0 {
			return kodoapi.Secret{}, Errorf(kodoapi.ErrBadRequest, "overlap %q: want a duration such as \"24h\" or \"0s\"", req.Overlap)
		}
		overlap = d
	}
	var until time.Time
	if overlap > 0 {
		until = s.now().Add(overlap).UTC()
	}
	ws, err := s.meta.RotateWorkspaceSecret(ctx, req.WorkspaceUUID, newSecret(), until)
	if err != nil {
		return kodoapi.Secret{}, notFoundAs(err, kodoapi.ErrWorkspaceNotFound, "workspace %s not found", req.WorkspaceUUID)
	}
	s.tokens.evict(ws.Token, "")
	out := kodoapi.Secret{WorkspaceUUID: ws.UUID, Secret: ws.Secret, AllowMD5Key: ws.AllowBodyKey}
	if ws.PrevSecret != "" && !until.IsZero() {
		out.PreviousValidUntil = until.Format(time.RFC3339)
	}
	return out, nil
}

// setSigning switches a workspace's acceptance of MD5-keyed DATAFLUX
// signatures (the compatibility setting of workspaces older than secrets).
func (s *service) setSigning(ctx context.Context, req kodoapi.SigningRequest) (kodoapi.Signing, error) {
	if req.AllowMD5Key == nil {
		return kodoapi.Signing{}, Errorf(kodoapi.ErrBadRequest, "allow_md5_key (true or false) is required")
	}
	ws, err := s.workspaceOf(ctx, req.WorkspaceUUID)
	if err != nil {
		return kodoapi.Signing{}, err
	}
	if !*req.AllowMD5Key && ws.Secret == "" {
		return kodoapi.Signing{}, Errorf(kodoapi.ErrBadRequest, "workspace %s has no secret: refusing MD5-keyed signatures would lock out every agent; rotate a secret first (/v1/workspace/secret/rotate) and give it to the agents", ws.UUID)
	}
	if err := s.meta.SetWorkspaceBodyKey(ctx, ws.UUID, *req.AllowMD5Key); err != nil {
		return kodoapi.Signing{}, notFoundAs(err, kodoapi.ErrWorkspaceNotFound, "workspace %s not found", ws.UUID)
	}
	s.tokens.evict(ws.Token, "")
	return kodoapi.Signing{WorkspaceUUID: ws.UUID, AllowMD5Key: *req.AllowMD5Key}, nil
}
