// Package bgdrop runs the background drops of both APIs: the /v1
// measurement drops (listed by /v1/droppingmetrics) and the Pandora repo
// and series deletions (shown as "deleting":"true"). A drop of much data
// outlives any request, so the caller records it durably, starts it here
// and answers; the drop clears its record when done, and one cut short by
// Close resumes when the caller starts again.
//
// One policy for all of them: at most one run per key (asking twice joins
// the running one), and a failed attempt is retried after Backoff until it
// succeeds or the Runner is closed.
package bgdrop

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// MaxBackoff bounds the wait between two attempts of a failing drop.
const MaxBackoff = 30 * time.Second

// Backoff is the wait after failed attempt n (0-based): n+1 seconds, at
// most MaxBackoff. It grows slowly because the usual failure is a busy or
// restarting engine, which comes back within seconds.
func Backoff(attempt int) time.Duration {
	return min(time.Duration(attempt+1)*time.Second, MaxBackoff)
}

// Runner runs drops in the background. The zero value is not usable; call
// New.
type Runner struct {
	log     *slog.Logger
	ctx     context.Context
	cancel  context.CancelFunc
	backoff func(attempt int) time.Duration // Backoff; tests shorten it

	mu      sync.Mutex
	closed  bool
	running map[string]chan struct{}
	wg      sync.WaitGroup
}

// New returns a Runner that logs failed attempts to log.
func New(log *slog.Logger) *Runner {
	ctx, cancel := context.WithCancel(context.Background())
	return &Runner{log: log, ctx: ctx, cancel: cancel, backoff: Backoff, running: map[string]chan struct{}{}}
}

// Start runs drop in the background under key, calling it again after
// each error (logged) until it returns nil. A drop with the same key
// already running is joined, not started twice. drop's ctx is cancelled by
// Close; a drop must then stop without clearing its record.
//
// The channel returned is closed once drop has returned nil, never when
// the Runner is closed first (nor when it already was).
func (r *Runner) Start(key string, drop func(ctx context.Context) error) <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	if done, ok := r.running[key]; ok {
		return done
	}
	done := make(chan struct{})
	if r.closed {
		return done
	}
	r.running[key] = done
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		finished := r.run(key, drop)
		r.mu.Lock()
		delete(r.running, key)
		r.mu.Unlock()
		if finished {
			close(done)
		}
	}()
	return done
}

// run calls drop until it succeeds (true) or the Runner closes (false).
func (r *Runner) run(key string, drop func(ctx context.Context) error) bool {
	for attempt := 0; ; attempt++ {
		err := drop(r.ctx)
		if r.ctx.Err() != nil {
			return false // closing: the record stays and the next start resumes
		}
		if err == nil {
			return true
		}
		wait := r.backoff(attempt)
		r.log.Warn("background drop failed; retrying", "drop", key, "attempt", attempt+1, "retry_in", wait, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-r.ctx.Done():
			t.Stop()
			return false
		}
	}
}

// Wait blocks until every drop started so far has finished or stopped.
func (r *Runner) Wait() { r.wg.Wait() }

// Close stops the drops (their records stay, so they resume on the next
// start) and waits for them until ctx is done. Drops are not started after
// Close.
func (r *Runner) Close(ctx context.Context) error {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	r.cancel()
	stopped := make(chan struct{})
	go func() { r.wg.Wait(); close(stopped) }()
	select {
	case <-stopped:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
