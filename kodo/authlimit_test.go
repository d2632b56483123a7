package kodo

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestAuthLimiterRefill(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	l := newAuthLimiter(2, 3, func() time.Time { return now }) // 2/s, burst 3
	for i := 0; i < 3; i++ {
		assert.Zero(t, l.wait("10.0.0.1"), "attempt %d is within the burst", i)
		l.charge("10.0.0.1")
	}
	assert.Equal(t, 500*time.Millisecond, l.wait("10.0.0.1"), "one token comes back in 1/rate")
	assert.Zero(t, l.wait("10.0.0.2"), "addresses are counted apart")
	now = now.Add(500 * time.Millisecond)
	assert.Zero(t, l.wait("10.0.0.1"))
	l.charge("10.0.0.1")
	assert.Equal(t, 500*time.Millisecond, l.wait("10.0.0.1"))

	// Debt is bounded, so an address that keeps failing waits a bounded time.
	for i := 0; i < 100; i++ {
		l.charge("10.0.0.1")
	}
	assert.Equal(t, 2*time.Second, l.wait("10.0.0.1"), "(1 + burst) / rate")

	now = now.Add(time.Hour)
	l.sweep(now)
	assert.Empty(t, l.buckets, "refilled buckets carry no state and are dropped")
}
