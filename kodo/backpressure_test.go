package kodo

import (
	"bytes"
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
	"github.com/kodo-project/kodo/internal/testkit"
	"github.com/kodo-project/kodo/kodo/kodoapi"
)

func TestGate(t *testing.T) {
	g := newGate("writes", 2, 100, 20*time.Millisecond)
	ctx := context.Background()

	r1, err := g.acquire(ctx, 60)
	require.NoError(t, err)
	_, err = g.acquire(ctx, 60) // slot free, bytes not
	var e *Error
	require.True(t, errors.As(err, &e))
	assert.Equal(t, kodoapi.ErrTooManyRequests, e.Code)
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
		// TryAcquire(0) fails only while someone waits for a slot: leave
		// once the acquire below is queued.
		deadline := time.Now().Add(10 * time.Second)
		for g.slots.TryAcquire(0) && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond) // polling interval
		}
		r1()
	}()
	g.wait = time.Minute
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
	h := s.admitQuery(nil, func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		<-leave
	}, s.respondError)

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

// A lease is charged for the bytes a gzip body decompresses to, as they
// are produced: with the byte budget held elsewhere, a small compressed
// body that expands is refused mid-way; once the budget is free the same
// body is read and the lease holds what it decompressed to, all returned
// on release.
func TestLeaseChargesDecompressedBytes(t *testing.T) {
	const budget = 4 << 20
	g := newGate("writes", 4, budget, 20*time.Millisecond)
	ctx := context.Background()
	plain := bytes.Repeat([]byte("cpu,host=a usage=1\n"), 100_000) // 1.9 MB
	zipped := testkit.Gzip(t, plain)
	require.Less(t, len(zipped), 64<<10)
	lim := httpx.Limits{MaxBodyBytes: 1 << 20, MaxDecompressedBytes: 8 << 20}
	read := func(l *lease) error {
		r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(zipped))
		r.Header.Set("Content-Encoding", "gzip")
		b, err := httpx.ReadBody(r.WithContext(httpx.WithLease(ctx, l)), lim)
		if err == nil {
			assert.Equal(t, plain, b.Data)
			b.Release()
		}
		return err
	}

	hog, err := g.lease(ctx, budget-(1<<20)) // leaves 1 MiB
	require.NoError(t, err)
	l, err := g.lease(ctx, int64(len(zipped)))
	require.NoError(t, err)
	err = read(l)
	var e *Error
	require.True(t, errors.As(err, &e), "%v", err)
	assert.Equal(t, kodoapi.ErrTooManyRequests, e.Code)
	assert.ErrorIs(t, err, httpx.ErrBusy)
	assert.LessOrEqual(t, l.held, int64(1<<20)+int64(len(zipped)), "never more than the free budget")
	l.release()
	hog.release()

	l, err = g.lease(ctx, int64(len(zipped)))
	require.NoError(t, err)
	require.NoError(t, read(l))
	assert.GreaterOrEqual(t, l.held, int64(len(zipped)+len(plain)), "raw and decompressed bytes are held")
	// Buffers grow by doubling and each array is charged; leases grow
	// in steps.
	assert.Less(t, l.held, int64(4*(len(zipped)+len(plain))+leaseStep+(1<<20)))
	l.release()
	l.release() // idempotent
	assert.True(t, g.bytes.TryAcquire(budget), "release returns every byte")
}
