package kodo

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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

// TestSeriesCounterSaveLoad: the saved window comes back with the same
// estimates (same hash seed), sketches out of the window do not.
func TestSeriesCounterSaveLoad(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	clock := func() time.Time { return now }
	c := newSeriesCounter(5*time.Minute, clock)
	hs := make([]uint64, 0, 2000)
	for i := range 2000 {
		hs = append(hs, c.hash([]byte(fmt.Sprintf("cpu,host=h%d", i))))
	}
	c.observe("db1", hs)
	c.observe("gone", hs[:10])
	now = now.Add(time.Minute)
	c.observe("db1", hs[:1000]) // a second slot
	want := c.count("db1")
	path := filepath.Join(t.TempDir(), "state")
	require.NoError(t, c.save(path))

	d := newSeriesCounter(5*time.Minute, clock)
	require.NoError(t, d.load(path))
	assert.Equal(t, want, d.count("db1"))
	assert.Equal(t, c.hash([]byte("x")), d.hash([]byte("x")), "the seed is restored")
	d.observe("db1", hs[:100]) // known series stay known
	assert.Equal(t, want, d.count("db1"))

	now = now.Add(10 * time.Minute) // everything saved is now too old
	e := newSeriesCounter(5*time.Minute, clock)
	require.NoError(t, e.load(path))
	assert.Zero(t, e.count("db1"))

	require.NoError(t, os.WriteFile(path, []byte("garbage"), 0o644))
	assert.Error(t, e.load(path))
	assert.NoError(t, e.load(filepath.Join(t.TempDir(), "missing")))
}
