package kodo

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestSeriesCounter(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	c := newSeriesCounter(5*time.Minute, func() time.Time { return now })
	for _, n := range []int{1, 10, 1000, 50_000} {
		db := fmt.Sprintf("db%d", n)
		hs := make([]uint64, 0, n)
		for i := 0; i < n; i++ {
			hs = append(hs, c.hash([]byte(fmt.Sprintf("cpu,host=h%d", i))))
		}
		c.observe(db, hs)
		c.observe(db, hs) // repeats are not new series
		got := c.count(db)
		assert.InDelta(t, float64(n), float64(got), float64(n)*0.08+1, "n=%d", n)
	}
	assert.Zero(t, c.count("unknown"))

	// A series written 6 minutes ago is outside the 5-minute window.
	c.observe("old", []uint64{c.hash([]byte("a"))})
	now = now.Add(3 * time.Minute)
	assert.EqualValues(t, 1, c.count("old"))
	now = now.Add(3 * time.Minute)
	assert.Zero(t, c.count("old"))
}

func BenchmarkSeriesCount(b *testing.B) {
	c := newSeriesCounter(5*time.Minute, time.Now)
	hs := make([]uint64, 5000)
	for i := range hs {
		hs[i] = c.hash([]byte(fmt.Sprintf("cpu,host=h%d", i)))
	}
	c.observe("db", hs)
	b.ReportAllocs()
	for b.Loop() {
		c.count("db")
	}
}
