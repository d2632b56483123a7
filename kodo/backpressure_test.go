package kodo

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kodo-project/kodo/internal/httpx"
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

// TestQueryGateReservesAnswers: the query gate charges each query the
// answer it may hold, so its byte budget caps the answers held at once
// even while slots are free.
func TestQueryGateReservesAnswers(t *testing.T) {
	o := &Options{Limits: Limits{MaxQueryAnswerBytes: 1 << 20, MaxBodyBytes: 1 << 10}}
	s := &service{opts: o, limit: httpx.Limits{MaxBodyBytes: o.Limits.MaxBodyBytes}, queries: newGate("queries", 10, 2<<20+100, 20*time.Millisecond)}
	entered, leave := make(chan struct{}), make(chan struct{})
	h := s.admitQuery(func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		<-leave
	}, func(w http.ResponseWriter, r *http.Request, err error) { respondError(w, r, nil, err) })

	var wg sync.WaitGroup
	for i := 0; i < 2; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h(httptest.NewRecorder(), httptest.NewRequest("GET", "/query?q=x", nil))
		}()
		<-entered
	}
	w := httptest.NewRecorder()
	h(w, httptest.NewRequest("GET", "/query?q=x", nil))
	assert.Equal(t, 429, w.Code, "two answers of 1 MiB fill the 2 MiB budget; 8 slots are still free")
	assert.NotEmpty(t, w.Header().Get("Retry-After"))
	close(leave)
	wg.Wait()
}
