package kodo

import (
	"context"
	"encoding/json"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kodo-project/kodo/internal/httpx"
	"github.com/kodo-project/kodo/kodo/kodoapi"
	"github.com/kodo-project/kodo/tsdb/tsdbapi"
)

// authLimiter is a token bucket per client address. Failed
// authentications (any 401 answer, and unknown tokens) and /v1/check/token calls, which
// tell whether a token exists, each take one token; an address with an
// empty bucket is answered 429 before its credentials are looked at, so
// guessing tokens, keys or the admin key runs at the refill rate.
type authLimiter struct {
	rate  float64 // tokens per second
	burst float64
	now   func() time.Time

	mu      sync.Mutex
	buckets map[string]*authBucket
}

type authBucket struct {
	tokens float64
	at     time.Time
}

// maxAuthBuckets bounds the limiter's memory; past it full buckets (which
// carry no state) are dropped, then everything if still too many.
const maxAuthBuckets = 100_000

func newAuthLimiter(rate float64, burst int, now func() time.Time) *authLimiter {
	return &authLimiter{rate: rate, burst: float64(burst), now: now, buckets: map[string]*authBucket{}}
}

// refill returns addr's bucket brought up to now; nil when it is full and
// not stored. Call with mu held.
func (l *authLimiter) refill(addr string, now time.Time) *authBucket {
	b := l.buckets[addr]
	if b == nil {
		return nil
	}
	b.tokens = math.Min(l.burst, b.tokens+now.Sub(b.at).Seconds()*l.rate)
	b.at = now
	return b
}

// wait is how long addr must wait before it may try; 0 when it may now.
func (l *authLimiter) wait(addr string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.refill(addr, l.now())
	if b == nil || b.tokens >= 1 {
		return 0
	}
	return time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
}

// charge takes one token from addr's bucket.
func (l *authLimiter) charge(addr string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b := l.refill(addr, now)
	if b == nil {
		if len(l.buckets) >= maxAuthBuckets {
			l.sweep(now)
		}
		b = &authBucket{tokens: l.burst, at: now}
		l.buckets[addr] = b
	}
	b.tokens = math.Max(b.tokens-1, -l.burst) // bounded debt: waits stay finite
}

func (l *authLimiter) sweep(now time.Time) {
	for addr := range l.buckets {
		if b := l.refill(addr, now); b.tokens >= l.burst {
			delete(l.buckets, addr)
		}
	}
	if len(l.buckets) >= maxAuthBuckets {
		clear(l.buckets)
	}
}

// clientAddr is the address a request is counted under: the peer IP. A
// reverse proxy makes every client one address; see the README.
func clientAddr(remote string) string {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		return remote
	}
	return host
}

type authFailKey struct{}

// noteAuthFailure marks a request whose credentials named nothing known
// (an unknown token answers 403, not 401); other 403s (a query outside its
// database) are not guesses and cost nothing.
func noteAuthFailure(r *http.Request, code kodoapi.ErrorCode) {
	if code != kodoapi.ErrTokenNotFound {
		return
	}
	if p, ok := r.Context().Value(authFailKey{}).(*bool); ok {
		*p = true
	}
}

// authLimitExempt are paths that never authenticate.
func authLimitExempt(path string) bool {
	return path == "/v1/ping" || path == "/ping" || path == "/metrics"
}

// authLimit applies the limiter around every authenticating endpoint. It
// looks only at answers' statuses, so the handlers need no hooks.
func (s *service) authLimit(next http.Handler) http.Handler {
	if s.opts.Limits.AuthFailRate < 0 {
		return next
	}
	l := newAuthLimiter(s.opts.Limits.AuthFailRate, s.opts.Limits.AuthFailBurst, time.Now)
	s.authFails = l
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions || authLimitExempt(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		addr := clientAddr(r.RemoteAddr)
		if d := l.wait(addr); d > 0 {
			s.tooManyAuthFailures(w, r, d)
			return
		}
		checkToken := strings.HasPrefix(r.URL.Path, "/v1/check/token/")
		if checkToken {
			l.charge(addr) // success or not, each answer is a guess checked
		}
		rec := &httpx.Recorder{ResponseWriter: w}
		failed := new(bool)
		next.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), authFailKey{}, failed)))
		if !checkToken && (rec.Status == http.StatusUnauthorized || *failed) {
			l.charge(addr)
		}
	})
}

// tooManyAuthFailures answers 429 in the shape of the API the path
// belongs to.
func (s *service) tooManyAuthFailures(w http.ResponseWriter, r *http.Request, d time.Duration) {
	secs := max(int(math.Ceil(d.Seconds())), 1)
	msg := "too many failed authentications from " + clientAddr(r.RemoteAddr) + "; retry after " + strconv.Itoa(secs) + "s (limit: -auth-fail-rate per second, burst -auth-fail-burst)"
	switch {
	case strings.HasPrefix(r.URL.Path, "/v4/"):
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTooManyRequests)
		_ = json.NewEncoder(w).Encode(tsdbapi.ErrorBody{Error: msg})
	case r.URL.Path == "/write" || r.URL.Path == "/query":
		s.influxError(w, r, &Error{Code: kodoapi.ErrTooManyRequests, Message: msg, RetryAfter: secs})
	default:
		s.fail(w, r, &Error{Code: kodoapi.ErrTooManyRequests, Message: msg, RetryAfter: secs})
	}
}
