package kodo

import (
	"context"
	"net/http"
	"time"

	"golang.org/x/sync/semaphore"
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
	n = min(max(n, 1), g.max)
	ctx, cancel := context.WithTimeout(ctx, g.wait)
	defer cancel()
	if err := g.slots.Acquire(ctx, 1); err != nil {
		return nil, g.busy()
	}
	if err := g.bytes.Acquire(ctx, n); err != nil {
		g.slots.Release(1)
		return nil, g.busy()
	}
	return func() { g.bytes.Release(n); g.slots.Release(1) }, nil
}

func (g *gate) busy() error {
	return &Error{Code: ErrTooManyRequests, RetryAfter: 1,
		Message: "the gateway is at its limit of concurrent " + g.what + "; retry after the Retry-After delay"}
}

// admit wraps a handler with a gate; the cost is the declared body size.
func (s *service) admit(g *gate, h http.HandlerFunc, fail func(http.ResponseWriter, *http.Request, error)) http.HandlerFunc {
	return s.admitCost(g, 0, h, fail)
}

// admitQuery admits an InfluxQL query into the query gate, charged its
// body plus the most answer it may hold (MaxQueryAnswerBytes), so the
// gate's byte budget bounds the memory of the queries running at once.
func (s *service) admitQuery(h http.HandlerFunc, fail func(http.ResponseWriter, *http.Request, error)) http.HandlerFunc {
	return s.admitCost(s.queries, s.opts.Limits.MaxQueryAnswerBytes, h, fail)
}

func (s *service) admitCost(g *gate, extra int64, h http.HandlerFunc, fail func(http.ResponseWriter, *http.Request, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		n := r.ContentLength
		if n < 0 || n > s.limit.MaxBodyBytes {
			n = s.limit.MaxBodyBytes
		}
		release, err := g.acquire(r.Context(), n+extra)
		if err != nil {
			fail(w, r, err)
			return
		}
		defer release()
		h(w, r)
	}
}
