package kodo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/kodo-project/kodo/internal/httpx"
	"github.com/kodo-project/kodo/kodo/kodoapi"
	"github.com/kodo-project/kodo/signer"
	"github.com/kodo-project/kodo/storage/meta"
)

// replayGuard refuses a signature seen before within the window
// (-replay-cache). Signatures are remembered in the metadata store, so
// replicas sharing PostgreSQL refuse each other's replays; the store's
// conditional insert lets exactly one of two concurrent uses pass.
//
// A signature is remembered only after it verified (otherwise anyone
// could poison the cache with a forged header carrying a real signature),
// and forgotten again when the answer is 429 or 5xx: the request had no
// effect and its client may resend it within the same second (same Date,
// same signature).
type replayGuard struct {
	store      meta.Store
	window     time.Duration
	now        func() time.Time
	lastPurge  atomic.Int64 // unix nanos
	purgeEvery time.Duration
}

func newReplayGuard(store meta.Store, window time.Duration, now func() time.Time) *replayGuard {
	return &replayGuard{store: store, window: window, now: now, purgeEvery: min(window, time.Minute)}
}

// replayKey is what identifies a signed request: the scheme, key id and
// signature, hashed (a DWAY id may be a secret key; hashing also bounds
// the row size). Pandora tokens ("<ak>:<sig>:<desc>") are excluded: they
// are made to be reused until their own expiry.
func replayKey(authorization string) (string, bool) {
	c, err := signer.ParseAuthorization(authorization)
	if err != nil || c.TokenDesc != "" {
		return "", false
	}
	sum := sha256.Sum256([]byte(string(c.Scheme) + "\x00" + c.ID + "\x00" + c.Signature))
	return hex.EncodeToString(sum[:]), true
}

type replayNoteKey struct{}

// replayNote carries the key a request remembered to the middleware that
// forgets it again when the request had no effect.
type replayNote struct{ key string }

// remember records r's signature; replayed is true when it was seen
// within the window. Call it after the signature verified.
func (g *replayGuard) remember(ctx context.Context, authorization string) (replayed bool, err error) {
	key, ok := replayKey(authorization)
	if !ok {
		return false, nil
	}
	now := g.now()
	g.purge(ctx, now)
	fresh, err := g.store.RememberSignature(ctx, key, now, now.Add(g.window))
	if err != nil {
		return false, err
	}
	if fresh {
		if n, ok := ctx.Value(replayNoteKey{}).(*replayNote); ok {
			n.key = key
		}
	}
	return !fresh, nil
}

// purge deletes expired records now and then; one request pays for it.
func (g *replayGuard) purge(ctx context.Context, now time.Time) {
	last := g.lastPurge.Load()
	if now.UnixNano()-last < int64(g.purgeEvery) || !g.lastPurge.CompareAndSwap(last, now.UnixNano()) {
		return
	}
	_ = g.store.ForgetSignatures(ctx, now) // best effort: the rows only take space
}

// checkReplay is the hook of the /v1 signed endpoints: nil, or the error
// to answer.
func (s *service) checkReplay(r *http.Request) error {
	if s.replay == nil {
		return nil
	}
	replayed, err := s.replay.remember(r.Context(), r.Header.Get("Authorization"))
	if err != nil {
		return &Error{Code: kodoapi.ErrUnavailable, RetryAfter: 1, cause: err,
			Message: "the replay cache (metadata store) did not answer; retry"}
	}
	if replayed {
		return Errorf(kodoapi.ErrInvalidSignature, "this signature was already used within the replay window (-replay-cache %s); sign every request anew: a new Date makes a new signature", s.replay.window)
	}
	return nil
}

// replayRelease forgets the signature of a request answered 429 or 5xx,
// so the client's retry of the very same request is not taken for a replay.
func (s *service) replayRelease(next http.Handler) http.Handler {
	if s.replay == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" {
			next.ServeHTTP(w, r)
			return
		}
		note := &replayNote{}
		rec := &httpx.Recorder{ResponseWriter: w}
		next.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), replayNoteKey{}, note)))
		if note.key != "" && (rec.Status == http.StatusTooManyRequests || rec.Status >= 500) {
			// A fresh context: the request's may be done.
			ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 5*time.Second)
			defer cancel()
			if err := s.meta.ForgetSignature(ctx, note.key); err != nil {
				s.log.Warn("replay cache: could not forget the signature of a refused request", "err", err)
			}
		}
	})
}

// pandoraSeenBefore is the replay hook of the Pandora service; nil when
// the cache is off.
func (s *service) pandoraSeenBefore() func(ctx context.Context, authorization string) (bool, error) {
	if s.replay == nil {
		return nil
	}
	return s.replay.remember
}
