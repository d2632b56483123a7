package embedded

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kodo-project/kodo/lineproto"
)

// hostPoint is a one-point batch of m for host at base plus minute.
func hostPoint(t *testing.T, base time.Time, minute int, host string, fields map[string]any) *lineproto.Batch {
	t.Helper()
	var b lineproto.Batch
	require.NoError(t, b.AddPoint("m", map[string]string{"host": host}, fields, base.Add(time.Duration(minute)*time.Minute)))
	return &b
}

// TestTrustedWritesSurviveDeletes: once a shard holds a series, its
// writes skip the shard's validation; after anything deletes from the
// database, the next write of the series must create it in the index
// again, or its points would be stored but never found.
func TestTrustedWritesSurviveDeletes(t *testing.T) {
	for _, stmt := range []string{
		"DROP SERIES FROM m WHERE host = 'a'",
		"DROP MEASUREMENT m",
		"DELETE FROM m WHERE host = 'a'",
		"DELETE FROM m",
		"DROP SERIES FROM m",
	} {
		t.Run(stmt, func(t *testing.T) {
			ctx := context.Background()
			e := openForever(t, t.TempDir(), Options{})
			defer e.Close()
			base := time.Now().Add(-3 * 24 * time.Hour).Truncate(24 * time.Hour)
			// b keeps the measurement and its fields alive where only a
			// is deleted.
			require.NoError(t, e.WritePoints(ctx, "db", "", hostPoint(t, base, 0, "b", map[string]any{"v": 0.5})))
			require.NoError(t, e.WritePoints(ctx, "db", "", hostPoint(t, base, 0, "a", map[string]any{"v": 1.5})))
			before := e.trustedWrites.Load()
			require.NoError(t, e.WritePoints(ctx, "db", "", hostPoint(t, base, 1, "a", map[string]any{"v": 2.5})))
			require.Equal(t, before+1, e.trustedWrites.Load(), "the second write of a series is trusted")
			require.Equal(t, int64(2), count(t, e, "db", "SELECT count(v) FROM m WHERE host = 'a'"))

			mustQuery(t, e, "db", stmt)
			require.Equal(t, int64(0), count(t, e, "db", "SELECT count(v) FROM m WHERE host = 'a'"))

			require.NoError(t, e.WritePoints(ctx, "db", "", hostPoint(t, base, 2, "a", map[string]any{"v": 3.5})))
			assert.Equal(t, int64(1), count(t, e, "db", "SELECT count(v) FROM m WHERE host = 'a'"), "the point written after %q is found", stmt)
			res := mustQuery(t, e, "db", "SHOW SERIES")
			require.Len(t, res[0].Series, 1)
			assert.Contains(t, res[0].Series[0].Values, []any{"m,host=a"})
		})
	}
}

// TestTrustedWriteOfNewField: a known series with a new field takes the
// shard's path, which records the field; a field type the shard does not
// have is refused as before.
func TestTrustedWriteOfNewField(t *testing.T) {
	ctx := context.Background()
	e := openForever(t, t.TempDir(), Options{})
	defer e.Close()
	base := time.Now().Add(-3 * 24 * time.Hour).Truncate(24 * time.Hour)
	require.NoError(t, e.WritePoints(ctx, "db", "", hostPoint(t, base, 0, "a", map[string]any{"v": 1.5})))
	require.NoError(t, e.WritePoints(ctx, "db", "", hostPoint(t, base, 1, "a", map[string]any{"v": 1.5, "w": int64(2)})))
	assert.Equal(t, int64(1), count(t, e, "db", "SELECT count(w) FROM m"))
	res := mustQuery(t, e, "db", "SHOW FIELD KEYS FROM m")
	assert.Len(t, res[0].Series[0].Values, 2)
	pwe := partial(t, e.WritePoints(ctx, "db", "", hostPoint(t, base, 2, "a", map[string]any{"w": 2.5})))
	assert.Contains(t, pwe.Reason, "already exists as type integer")
	before := e.trustedWrites.Load()
	require.NoError(t, e.WritePoints(ctx, "db", "", hostPoint(t, base, 3, "a", map[string]any{"w": int64(3), "v": 4.5})))
	assert.Equal(t, before+1, e.trustedWrites.Load())
	assert.Equal(t, int64(2), count(t, e, "db", "SELECT count(w) FROM m"))
}

// TestTrustedWritesRaceDeletes: writers of known series racing DROP
// SERIES leave every series findable once the writes after the last
// drop are done.
func TestTrustedWritesRaceDeletes(t *testing.T) {
	ctx := context.Background()
	e := openForever(t, t.TempDir(), Options{})
	defer e.Close()
	base := time.Now().Add(-3 * 24 * time.Hour).Truncate(24 * time.Hour)
	hosts := []string{"a", "b", "c", "d"}
	var wg sync.WaitGroup
	for _, h := range hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 60 {
				assert.NoError(t, e.WritePoints(ctx, "db", "", hostPoint(t, base, i, h, map[string]any{"v": float64(i)})))
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range 20 {
			mustQuery(t, e, "db", fmt.Sprintf("DROP SERIES FROM m WHERE host = '%s'", hosts[i%len(hosts)]))
		}
	}()
	wg.Wait()
	for _, h := range hosts {
		require.NoError(t, e.WritePoints(ctx, "db", "", hostPoint(t, base, 100, h, map[string]any{"v": 1.0})))
		assert.Positive(t, count(t, e, "db", fmt.Sprintf("SELECT count(v) FROM m WHERE host = '%s' AND time >= %d", h, base.Add(100*time.Minute).UnixNano())), "host %s", h)
	}
	res := mustQuery(t, e, "db", "SHOW SERIES")
	assert.Len(t, res[0].Series[0].Values, len(hosts))
}

// TestKnownSeriesCap: past the engine-wide cap every database starts
// again, so a database learning late is not starved by the ones that
// filled the cap, and the count stays that of the sets kept.
func TestKnownSeriesCap(t *testing.T) {
	var c knownCounter
	a, b := &dbGuard{}, &dbGuard{}
	a.known.counter, b.known.counter = &c, &c
	var batch lineproto.Batch
	require.NoError(t, lineproto.Parse([]byte("m,host=a v=1 1\nm,host=b v=1 2\n"), lineproto.ParseOptions{}, &batch))
	var d dropTally
	pts, _ := toModelPoints(&batch, &d, nil)

	a.learn(1, pts)
	require.True(t, a.covers(1, pts))
	require.False(t, a.covers(2, pts), "another shard")
	require.Equal(t, a.known.bytes, c.bytes.Load())

	c.bytes.Store(maxKnownBytes) // the other databases filled the cap
	b.learn(7, pts)
	assert.False(t, a.covers(1, pts), "every database starts again")
	assert.False(t, b.covers(7, pts), "the learner too, this time")
	assert.Zero(t, c.bytes.Load())

	b.learn(7, pts)
	assert.True(t, b.covers(7, pts), "the late database learns")
	a.learn(1, pts)
	assert.True(t, a.covers(1, pts))
	assert.Equal(t, a.known.bytes+b.known.bytes, c.bytes.Load())
	a.forgetSeries()
	assert.Equal(t, b.known.bytes, c.bytes.Load())
}
