package kodo

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestGate(t *testing.T) {
	g := newGate("writes", 2, 100, 20*time.Millisecond)
	ctx := context.Background()

	r1, err := g.acquire(ctx, 60)
	require.NoError(t, err)
	_, err = g.acquire(ctx, 60) // slot free, bytes not
	var e *Error
	require.True(t, errors.As(err, &e))
	assert.Equal(t, ErrTooManyRequests, e.Code)
	assert.Equal(t, 1, e.RetryAfter)
	assert.Equal(t, 429, e.Code.Status())

	r2, err := g.acquire(ctx, 40)
	require.NoError(t, err)
	_, err = g.acquire(ctx, 1) // bytes would fit, slots are gone
	require.Error(t, err)

	// A waiter gets in when a holder leaves within the wait.
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		time.Sleep(5 * time.Millisecond)
		r1()
	}()
	g.wait = time.Second
	r3, err := g.acquire(ctx, 50)
	require.NoError(t, err)
	wg.Wait()
	r2()
	r3()

	// A request larger than the whole budget is capped, not starved.
	r4, err := g.acquire(ctx, 1000)
	require.NoError(t, err)
	r4()
}
