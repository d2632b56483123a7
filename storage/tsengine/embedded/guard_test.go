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
	"github.com/kodo-project/kodo/storage/tsengine"
)

const week = 7 * 24 * time.Hour

func openForever(t *testing.T, dir string, opts Options) *Engine {
	t.Helper()
	e, err := Open(dir, opts)
	require.NoError(t, err)
	require.NoError(t, e.CreateDatabase(context.Background(), "db", []tsengine.RetentionPolicy{{Name: "forever", Default: true}}))
	return e
}

// point builds a one-point batch at week w of a fixed past.
func point(t *testing.T, w int, tags map[string]string, fields map[string]any) *lineproto.Batch {
	t.Helper()
	base := time.Now().Add(-100 * week)
	var b lineproto.Batch
	require.NoError(t, b.AddPoint("m", tags, fields, base.Add(time.Duration(w)*week)))
	return &b
}

func partial(t *testing.T, err error) *tsengine.PartialWriteError {
	t.Helper()
	var pwe *tsengine.PartialWriteError
	require.ErrorAs(t, err, &pwe)
	return pwe
}

// TestFieldTypesAcrossShards: a field keeps its type in every shard of
// the database, across restarts; a drop frees it.
func TestFieldTypesAcrossShards(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	e := openForever(t, dir, Options{})
	require.NoError(t, e.WritePoints(ctx, "db", "", point(t, 0, nil, map[string]any{"v": 1.5})))
	pwe := partial(t, e.WritePoints(ctx, "db", "", point(t, 10, nil, map[string]any{"v": 2})))
	assert.Equal(t, 1, pwe.Dropped)
	assert.Equal(t, `field type conflict: input field "v" on measurement "m" is type integer, already exists as type float`, pwe.Reason)
	require.NoError(t, e.Close())

	// After a restart the types come from the shards' field sets.
	e = openForever(t, dir, Options{})
	defer e.Close()
	pwe = partial(t, e.WritePoints(ctx, "db", "", point(t, 20, nil, map[string]any{"v": "s"})))
	assert.Contains(t, pwe.Reason, "is type string, already exists as type float")
	// A mixed batch keeps its good points.
	var b lineproto.Batch
	base := time.Now().Add(-100 * week)
	require.NoError(t, b.AddPoint("m", nil, map[string]any{"v": 3.5}, base.Add(30*week)))
	require.NoError(t, b.AddPoint("m", nil, map[string]any{"v": true}, base.Add(31*week)))
	require.NoError(t, b.AddPoint("m", nil, map[string]any{"w": 1}, base.Add(32*week)))
	require.NoError(t, b.AddPoint("m", nil, map[string]any{"w": 1.5}, base.Add(33*week)))
	pwe = partial(t, e.WritePoints(ctx, "db", "", &b))
	assert.Equal(t, 2, pwe.Dropped)
	assert.Equal(t, []int{1, 3}, pwe.Refused, "the refused points are named")
	assert.Equal(t, int64(2), count(t, e, "db", "SELECT count(v) FROM m"))
	assert.Equal(t, int64(1), count(t, e, "db", "SELECT count(w) FROM m"))

	// Dropping the measurement frees its field types.
	mustQuery(t, e, "db", "DROP MEASUREMENT m")
	require.NoError(t, e.WritePoints(ctx, "db", "", point(t, 40, nil, map[string]any{"v": "now a string"})))
}

// TestFieldTypesOfUnsignedAndEscapedKeys: the type check reads the
// batch's fields: an unsigned value is an integer to the engine (1.x has
// no unsigned type), and a key that needs escaping is the same field in
// every write; a point refused for its type is named.
func TestFieldTypesOfUnsignedAndEscapedKeys(t *testing.T) {
	ctx := context.Background()
	e := openForever(t, t.TempDir(), Options{})
	defer e.Close()
	require.NoError(t, e.WritePoints(ctx, "db", "", point(t, 0, nil, map[string]any{"u": uint64(5), "a b,c=d": 1.5})))
	require.NoError(t, e.WritePoints(ctx, "db", "", point(t, 1, nil, map[string]any{"u": int64(3), "a b,c=d": 2.5})), "same types")
	pwe := partial(t, e.WritePoints(ctx, "db", "", point(t, 2, nil, map[string]any{"u": 1.5})))
	assert.Equal(t, `field type conflict: input field "u" on measurement "m" is type float, already exists as type integer`, pwe.Reason)
	pwe = partial(t, e.WritePoints(ctx, "db", "", point(t, 3, nil, map[string]any{"a b,c=d": "s"})))
	assert.Contains(t, pwe.Reason, `input field "a b,c=d" on measurement "m" is type string, already exists as type float`)
	assert.Equal(t, int64(2), count(t, e, "db", `SELECT count("a b,c=d") FROM m`))
}

// TestFieldTypesConcurrent: writers racing to create one field with
// different types in different shards leave it one type.
func TestFieldTypesConcurrent(t *testing.T) {
	e := openForever(t, t.TempDir(), Options{})
	defer e.Close()
	ctx := context.Background()
	values := []any{1.5, 2, "s", true}
	for round := 0; round < 5; round++ {
		field := fmt.Sprintf("f%d", round)
		var wg sync.WaitGroup
		for i, v := range values {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_ = e.WritePoints(ctx, "db", "", point(t, round*10+i, nil, map[string]any{field: v}))
			}()
		}
		wg.Wait()
		res := mustQuery(t, e, "db", "SHOW FIELD KEYS FROM m")
		types := map[any]bool{}
		for _, row := range res[0].Series[0].Values {
			if row[0] == field {
				types[row[1]] = true
			}
		}
		assert.Len(t, types, 1, "field %s has one type: %v", field, types)
	}
}

// TestSeriesPerDatabase: past the limit new series are refused with
// InfluxDB's text, known ones still written; concurrent writers do not
// overshoot; a write's context may override the limit.
func TestSeriesPerDatabase(t *testing.T) {
	e := openForever(t, t.TempDir(), Options{MaxSeriesPerDatabase: 10})
	defer e.Close()
	ctx := context.Background()
	var b lineproto.Batch
	for i := 0; i < 15; i++ {
		require.NoError(t, b.AddPoint("m", map[string]string{"host": fmt.Sprint(i)}, map[string]any{"v": 1.0}, time.Now()))
	}
	// The same refused series twice counts twice, reported once.
	require.NoError(t, b.AddPoint("m", map[string]string{"host": "14"}, map[string]any{"v": 2.0}, time.Now()))
	pwe := partial(t, e.WritePoints(ctx, "db", "", &b))
	assert.Equal(t, 6, pwe.Dropped)
	assert.Equal(t, "max-series-per-database limit exceeded: (10)", pwe.Reason)
	assert.Equal(t, []int{10, 11, 12, 13, 14, 15}, pwe.Refused)
	require.NoError(t, e.WritePoints(ctx, "db", "", point(t, 99, map[string]string{"host": "3"}, map[string]any{"v": 1.0})))

	// Concurrent bursts of new series stop at the limit.
	require.NoError(t, e.CreateDatabase(ctx, "burst", []tsengine.RetentionPolicy{{Name: "forever", Default: true}}))
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var b lineproto.Batch
			for i := 0; i < 5; i++ {
				_ = b.AddPoint("m", map[string]string{"w": fmt.Sprint(w), "i": fmt.Sprint(i)}, map[string]any{"v": 1.0}, time.Now())
			}
			_ = e.WritePoints(ctx, "burst", "", &b)
		}()
	}
	wg.Wait()
	assert.Len(t, mustQuery(t, e, "burst", "SHOW SERIES")[0].Series[0].Values, 10)

	// A per-database override, lower or higher than the engine's.
	lower := tsengine.WithWriteLimits(ctx, tsengine.WriteLimits{MaxSeriesPerDatabase: 3})
	require.NoError(t, e.CreateDatabase(ctx, "small", []tsengine.RetentionPolicy{{Name: "forever", Default: true}}))
	var s lineproto.Batch
	for i := 0; i < 5; i++ {
		require.NoError(t, s.AddPoint("m", map[string]string{"host": fmt.Sprint(i)}, map[string]any{"v": 1.0}, time.Now()))
	}
	pwe = partial(t, e.WritePoints(lower, "small", "", &s))
	assert.Equal(t, "max-series-per-database limit exceeded: (3)", pwe.Reason)
	higher := tsengine.WithWriteLimits(ctx, tsengine.WriteLimits{MaxSeriesPerDatabase: 20})
	require.NoError(t, e.WritePoints(higher, "db", "", &b))
}

// TestValuesPerTag: a measurement's tag key takes at most the limit's
// values; other tag keys and measurements are counted apart.
func TestValuesPerTag(t *testing.T) {
	e := openForever(t, t.TempDir(), Options{MaxValuesPerTag: 5})
	defer e.Close()
	ctx := context.Background()
	var b lineproto.Batch
	for i := 0; i < 8; i++ {
		require.NoError(t, b.AddPoint("m", map[string]string{"host": fmt.Sprintf("h%d", i), "dc": "a"}, map[string]any{"v": 1.0}, time.Now()))
	}
	pwe := partial(t, e.WritePoints(ctx, "db", "", &b))
	assert.Equal(t, 3, pwe.Dropped)
	assert.Equal(t, []int{5, 6, 7}, pwe.Refused)
	assert.Contains(t, pwe.Reason, `max-values-per-tag limit exceeded (5/5): measurement="m" tag="host" value="h5"`)
	// An existing value in a new series is fine; another measurement has its own count.
	var ok lineproto.Batch
	require.NoError(t, ok.AddPoint("m", map[string]string{"host": "h1", "dc": "b"}, map[string]any{"v": 1.0}, time.Now()))
	require.NoError(t, ok.AddPoint("other", map[string]string{"host": "h7"}, map[string]any{"v": 1.0}, time.Now()))
	require.NoError(t, e.WritePoints(ctx, "db", "", &ok))
}

// TestRefusedPointsReserveNoType: a point refused for its age, or for a
// limit, does not fix its field's type.
func TestRefusedPointsReserveNoType(t *testing.T) {
	e, err := Open(t.TempDir(), Options{MaxSeriesPerDatabase: 1})
	require.NoError(t, err)
	defer e.Close()
	ctx := context.Background()
	require.NoError(t, e.CreateDatabase(ctx, "db", []tsengine.RetentionPolicy{{Name: "day", Duration: 24 * time.Hour, Default: true}}))
	var old lineproto.Batch
	require.NoError(t, old.AddPoint("m", nil, map[string]any{"v": "too old"}, time.Now().Add(-48*time.Hour)))
	pwe := partial(t, e.WritePoints(ctx, "db", "", &old))
	assert.Equal(t, "points beyond retention policy", pwe.Reason)
	assert.Equal(t, []int{0}, pwe.Refused)
	var b lineproto.Batch
	require.NoError(t, b.AddPoint("m", map[string]string{"s": "1"}, map[string]any{"v": 1.5}, time.Now()))
	require.NoError(t, b.AddPoint("m", map[string]string{"s": "2"}, map[string]any{"w": "refused series"}, time.Now()))
	pwe = partial(t, e.WritePoints(ctx, "db", "", &b))
	assert.Contains(t, pwe.Reason, "max-series-per-database")
	var ok lineproto.Batch
	require.NoError(t, ok.AddPoint("m", map[string]string{"s": "1"}, map[string]any{"w": 2.5}, time.Now()))
	require.NoError(t, e.WritePoints(ctx, "db", "", &ok), "w was never written as a string")
}
