package kodo

import (
	"context"
	"net/http"
	"sync"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/kodo-project/kodo/internal/httpx"
	"github.com/kodo-project/kodo/kodo/kodoapi"
	"github.com/kodo-project/kodo/tsdb"
)

// gate bounds concurrent work and the body bytes held in memory. Past the
// bound a request waits at most wait, then gets 429 with Retry-After, so
// overload turns into client back-off instead of server memory growth.
type gate struct {
	slots *semaphore.Weighted
	bytes *semaphore.Weighted
	max   int64 // bytes capacity
	wait  time.Duration
	what  string
}

func newGate(what string, slots int, bytes int64, wait time.Duration) *gate {
	return &gate{slots: semaphore.NewWeighted(int64(slots)), bytes: semaphore.NewWeighted(bytes), max: bytes, wait: wait, what: what}
}

// acquire takes one slot and n bytes (the request's Content-Length, or the
// body limit when unknown). release must be called when acquire succeeds.
func (g *gate) acquire(ctx context.Context, n int64) (release func(), err error) {
	l, err := g.lease(ctx, n)
	if err != nil {
		return nil, err
	}
	return l.release, nil
}

// lease takes one slot and n bytes and returns the admission, which the
// body reader grows (httpx.Lease) as decompressed bytes arrive.
func (g *gate) lease(ctx context.Context, n int64) (*lease, error) {
	n = min(max(n, 1), g.max)
	wctx, cancel := context.WithTimeout(ctx, g.wait)
	defer cancel()
	if err := g.slots.Acquire(wctx, 1); err != nil {
		return nil, g.busy()
	}
	if err := g.bytes.Acquire(wctx, n); err != nil {
		g.slots.Release(1)
		return nil, g.busy()
	}
	return &lease{g: g, ctx: ctx, held: n, used: n}, nil
}

func (g *gate) busy() error {
	return &Error{Code: kodoapi.ErrTooManyRequests, RetryAfter: 1, cause: &httpx.BusyError{What: g.what},
		Message: "the gateway is at its limit of concurrent " + g.what + "; retry after the Retry-After delay"}
}

// leaseStep is how far a lease grows past what it needs, so a body read in
// 32 KiB pieces does not take the semaphore for each of them.
const leaseStep = 256 << 10

// lease is one admitted request: a slot and the bytes it holds.
type lease struct {
	g    *gate
	ctx  context.Context
	mu   sync.Mutex
	held int64 // bytes taken from the gate
	used int64 // bytes charged (held >= used, except past the gate's capacity)
}

// Charge adds n bytes. When they exceed what the lease holds, it takes more
// from the gate, waiting at most the gate's queue wait: one request's body
// can never hold more than the gate's whole byte budget, and requests
// together never hold more than that budget.
func (l *lease) Charge(n int64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.used += n
	if l.used <= l.held {
		return nil
	}
	want := min(max(l.used-l.held, leaseStep), l.g.max-l.held)
	if want <= 0 {
		return nil // already holds the whole budget; its own caps bound it
	}
	ctx, cancel := context.WithTimeout(l.ctx, l.g.wait)
	defer cancel()
	if err := l.g.bytes.Acquire(ctx, want); err != nil {
		return l.g.busy()
	}
	l.held += want
	return nil
}

func (l *lease) release() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.g == nil {
		return
	}
	l.g.bytes.Release(l.held)
	l.g.slots.Release(1)
	l.g = nil
}

// admit serves a request in the order that keeps anonymous and slow
// clients out of the gate: auth checks the credentials the headers carry
// (nil: the route is checked before admit, as management routes are), the
// gate is taken only then, and the handler reads the body, each byte it
// decompresses charged to the request's lease (httpx.ReadBody).
func (s *service) admit(g *gate, auth func(*http.Request) error, h http.HandlerFunc, fail func(http.ResponseWriter, *http.Request, error)) http.HandlerFunc {
	return s.admitCost(g, 0, auth, h, fail)
}

// admitQuery admits an InfluxQL query into the query gate, charged its
// body plus the most answer it may hold (MaxQueryAnswerBytes), so the
// gate's byte budget bounds the memory of the queries running at once.
func (s *service) admitQuery(auth func(*http.Request) error, h http.HandlerFunc, fail func(http.ResponseWriter, *http.Request, error)) http.HandlerFunc {
	return s.admitCost(s.queries, s.opts.Limits.MaxQueryAnswerBytes, auth, h, fail)
}

// admitCost is admit with extra bytes charged on top of the body's.
func (s *service) admitCost(g *gate, extra int64, auth func(*http.Request) error, h http.HandlerFunc, fail func(http.ResponseWriter, *http.Request, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if auth != nil {
			if err := auth(r); err != nil {
				// The body is left unread: hang up rather than drain it.
				w.Header().Set("Connection", "close")
				fail(w, r, err)
				return
			}
		}
		admitted, release, err := s.enter(g, r, extra)
		if err != nil {
			fail(w, r, err)
			return
		}
		defer release()
		h(w, admitted)
	}
}

// enter takes g for an authenticated request, charging the declared body
// size (plus extra) up front, and returns the request carrying its lease.
func (s *service) enter(g *gate, r *http.Request, extra int64) (*http.Request, func(), error) {
	n := r.ContentLength
	if n < 0 || n > s.limit.MaxBodyBytes {
		n = 0 // unknown: charged as it is read; too large: refused by the body reader
	}
	l, err := g.lease(r.Context(), n+extra)
	if err != nil {
		return nil, nil, err
	}
	return r.WithContext(httpx.WithLease(r.Context(), l)), l.release, nil
}

// admitTSDB puts the Pandora API behind the gates of /v1 (tsdb.Config.Admit).
func (s *service) admitTSDB(r *http.Request, w tsdb.Work) (*http.Request, func(), error) {
	if w == tsdb.WorkQuery {
		return s.enter(s.queries, r, s.opts.Limits.MaxQueryAnswerBytes)
	}
	return s.enter(s.writes, r, 0)
}
