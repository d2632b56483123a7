package tsdb

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"

	"github.com/kodo-project/kodo/tsdb/tsdbapi"
)

// EnsureKeyPair records ak/sk unless ak is already known with the same
// secret; a known ak with another secret is an error wrapping ErrConflict
// (the server must not silently re-key existing clients).
func (s *Service) EnsureKeyPair(ctx context.Context, ak, sk string) error {
	if ak == "" || sk == "" {
		return errors.New("tsdb: a key pair needs a non-empty access key and secret key")
	}
	kp, err := s.cfg.Store.PandoraKeyPair(ctx, ak)
	switch {
	case err == nil && kp.SecretKey == sk:
		return nil
	case err == nil:
		return fmt.Errorf("tsdb: access key %q is already stored with another secret key: %w", ak, ErrConflict)
	case !errors.Is(err, ErrNotFound):
		return fmt.Errorf("tsdb: looking up access key %q: %w", ak, err)
	}
	if err := s.cfg.Store.AddPandoraKeyPair(ctx, KeyPair{AccessKey: ak, SecretKey: sk, CreatedAt: s.now().UTC()}); err != nil {
		return fmt.Errorf("tsdb: storing access key %q: %w", ak, err)
	}
	return nil
}

// NewKeyPair creates and stores a fresh random key pair.
func (s *Service) NewKeyPair(ctx context.Context) (KeyPair, error) {
	kp := KeyPair{AccessKey: randomKey(), SecretKey: randomKey(), CreatedAt: s.now().UTC()}
	if err := s.cfg.Store.AddPandoraKeyPair(ctx, kp); err != nil {
		return KeyPair{}, fmt.Errorf("tsdb: storing new key pair: %w", err)
	}
	return kp, nil
}

// randomKey is 30 random bytes as 40 URL-safe base64 characters, the
// shape of Qiniu keys.
func randomKey() string {
	var b [30]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return base64.URLEncoding.EncodeToString(b[:])
}

// HandleCreateKeyPair answers POST with a fresh key pair as
// {"access_key","secret_key"}. It does no authentication: mount it behind
// the server's admin check.
func (s *Service) HandleCreateKeyPair(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
	}
	s.answer(s.handleCreateKeyPair).ServeHTTP(w, r)
}

func (s *Service) handleCreateKeyPair(q *call) (any, error) {
	if q.r.Method != http.MethodPost {
		return nil, &tsdbapi.Error{Status: http.StatusMethodNotAllowed, Message: "method not allowed: use POST to create a key pair"}
	}
	kp, err := s.NewKeyPair(q.ctx())
	if err != nil {
		return nil, err
	}
	return tsdbapi.KeyPair{AccessKey: kp.AccessKey, SecretKey: kp.SecretKey}, nil
}
