package bgdrop

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func newTestRunner() *Runner {
	r := New(slog.New(slog.NewTextHandler(io.Discard, nil)))
	r.backoff = func(int) time.Duration { return time.Millisecond }
	return r
}

// waitClosed fails the test unless ch is closed within a generous bound.
func waitClosed(t *testing.T, ch <-chan struct{}) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatal("the drop did not finish")
	}
}

func TestRetriesUntilDone(t *testing.T) {
	r := newTestRunner()
	defer r.Close(context.Background())
	var calls atomic.Int32
	done := r.Start("k", func(context.Context) error {
		if calls.Add(1) < 3 {
			return errors.New("engine busy")
		}
		return nil
	})
	waitClosed(t, done)
	assert.EqualValues(t, 3, calls.Load())
}

func TestSameKeyJoins(t *testing.T) {
	r := newTestRunner()
	defer r.Close(context.Background())
	release := make(chan struct{})
	var calls atomic.Int32
	drop := func(context.Context) error { calls.Add(1); <-release; return nil }
	a := r.Start("k", drop)
	b := r.Start("k", drop)
	c := r.Start("other", func(context.Context) error { return nil })
	assert.Equal(t, a, b, "a second Start of a running key joins it")
	waitClosed(t, c)
	close(release)
	waitClosed(t, a)
	r.Wait()
	assert.EqualValues(t, 1, calls.Load())
	// Once done, the key may run again.
	waitClosed(t, r.Start("k", func(context.Context) error { calls.Add(1); return nil }))
	assert.EqualValues(t, 2, calls.Load())
}

func TestCloseStopsWithoutFinishing(t *testing.T) {
	r := newTestRunner()
	r.backoff = func(int) time.Duration { return time.Hour }
	started := make(chan struct{})
	failing := r.Start("failing", func(context.Context) error {
		select {
		case <-started:
		default:
			close(started)
		}
		return errors.New("down")
	})
	running := r.Start("running", func(ctx context.Context) error { <-ctx.Done(); return nil })
	<-started
	require.NoError(t, r.Close(context.Background()), "Close cuts the hour-long backoff short")
	for _, ch := range []<-chan struct{}{failing, running} {
		select {
		case <-ch:
			t.Fatal("a drop cut short by Close must not report done")
		default:
		}
	}
	var calls atomic.Int32
	r.Start("late", func(context.Context) error { calls.Add(1); return nil })
	r.Wait()
	assert.Zero(t, calls.Load(), "no drop starts after Close")
}

func TestCloseGivesUpAtDeadline(t *testing.T) {
	r := newTestRunner()
	release := make(chan struct{})
	defer close(release)
	r.Start("stuck", func(context.Context) error { <-release; return nil }) // ignores ctx
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, r.Close(ctx), context.Canceled)
}

func TestBackoff(t *testing.T) {
	assert.Equal(t, time.Second, Backoff(0))
	assert.Equal(t, 5*time.Second, Backoff(4))
	assert.Equal(t, MaxBackoff, Backoff(1000))
}
