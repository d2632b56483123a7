package embedded

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/influxdata/influxdb/coordinator"
	"github.com/influxdata/influxdb/models"
	"github.com/stretchr/testify/require"

	"github.com/kodo-project/kodo/lineproto"
	"github.com/kodo-project/kodo/storage/tsengine"
)

// TestMapShardsMatchesCoordinator compares mapShards with the
// coordinator's MapShards it replaces: same shards, same points in the
// same order, same drops.
func TestMapShardsMatchesCoordinator(t *testing.T) {
	e, err := Open(t.TempDir(), Options{})
	require.NoError(t, err)
	defer e.Close()
	ctx := context.Background()
	// 2h keeps 1h shard groups: a few hours of points span several.
	require.NoError(t, e.CreateDatabase(ctx, "db", []tsengine.RetentionPolicy{{Name: "short", Duration: 2 * time.Hour, Default: true}}))
	now := time.Now()
	at := func(offsets ...time.Duration) []models.Point {
		var pts []models.Point
		for i, off := range offsets {
			p, err := models.NewPoint("m", models.NewTags(map[string]string{"i": fmt.Sprint(i)}), models.Fields{"f": 1.0}, now.Add(off))
			require.NoError(t, err)
			pts = append(pts, p)
		}
		return pts
	}
	cases := []struct {
		name string
		pts  []models.Point
	}{
		{"one group", at(-time.Minute, -2*time.Minute, -time.Minute)},
		{"two groups interleaved", at(-time.Minute, -90*time.Minute, -2*time.Minute, -70*time.Minute, -time.Second)},
		{"too old first", at(-5*time.Hour, -time.Minute, -time.Minute)},
		{"too old in the middle", at(-time.Minute, -5*time.Hour, -time.Minute, -61*time.Minute)},
		{"all too old", at(-5*time.Hour, -6*time.Hour)},
		{"future", at(time.Hour, -time.Minute, 49*time.Hour)},
		{"just outside retention but in a kept group", at(-time.Minute, -2*time.Hour-30*time.Second, -119*time.Minute)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var drops dropTally
			got, _, err := e.mapShards("db", "short", tc.pts, &drops)
			require.NoError(t, err)
			dropped := drops.n
			want, err := e.writer.MapShards(&coordinator.WritePointsRequest{Database: "db", RetentionPolicy: "short", Points: tc.pts})
			require.NoError(t, err)
			require.Equal(t, len(want.Dropped), dropped, "dropped")
			require.Len(t, got, len(want.Points))
			total := 0
			for _, sp := range got {
				require.Equal(t, want.Points[sp.shard.ID], sp.points, "points of shard %d", sp.shard.ID)
				require.Equal(t, want.Shards[sp.shard.ID].ID, sp.shard.ID)
				total += len(sp.points)
			}
			require.Equal(t, len(tc.pts), total+dropped)
		})
	}
	t.Run("unknown policy", func(t *testing.T) {
		_, _, err := e.mapShards("db", "nope", at(-time.Minute), new(dropTally))
		require.Error(t, err)
		require.ErrorIs(t, e.writeError("db", "nope", err), tsengine.ErrRetentionPolicyNotFound)
	})
}

func TestGroupListClampsExtremeTimes(t *testing.T) {
	require.Equal(t, int64(-1<<63), unixNano(time.Unix(0, -1<<63).Add(-time.Hour)))
	require.Equal(t, int64(1<<63-1), unixNano(time.Unix(0, 1<<63-1).Add(time.Hour)))
	require.Equal(t, int64(42), unixNano(time.Unix(0, 42)))
	var l groupList
	require.Equal(t, -1, l.at(0))
}

func TestMaxShardsPerDatabase(t *testing.T) {
	e, err := Open(t.TempDir(), Options{MaxShardsPerDatabase: 3})
	require.NoError(t, err)
	defer e.Close()
	ctx := context.Background()
	require.NoError(t, e.CreateDatabase(ctx, "db", []tsengine.RetentionPolicy{{Name: "forever", Default: true}}))
	week := 7 * 24 * time.Hour
	base := time.Now().Add(-100 * week)
	batch := func(weeks ...int) *lineproto.Batch {
		var b lineproto.Batch
		for _, w := range weeks {
			require.NoError(t, b.AddPoint("m", nil, map[string]any{"v": w}, base.Add(time.Duration(w)*week)))
		}
		return &b
	}
	// Five windows in one batch: three open, two are refused.
	err = e.WritePoints(ctx, "db", "", batch(0, 1, 2, 3, 4, 0))
	var pwe *tsengine.PartialWriteError
	require.ErrorAs(t, err, &pwe)
	require.Equal(t, 2, pwe.Dropped)
	require.Equal(t, []int{3, 4}, pwe.Refused)
	require.Contains(t, pwe.Reason, "max-shards-per-database limit exceeded: (3/3)")
	require.Equal(t, 3, liveShardGroups(e.meta.Database("db")))
	// Existing windows still take points; a new one, even alone, does not.
	require.NoError(t, e.WritePoints(ctx, "db", "", batch(1, 2)))
	require.ErrorAs(t, e.WritePoints(ctx, "db", "", batch(50)), &pwe)
	require.Equal(t, 1, pwe.Dropped)

	// Concurrent writers opening distinct windows never overshoot.
	require.NoError(t, e.CreateDatabase(ctx, "db2", []tsengine.RetentionPolicy{{Name: "forever", Default: true}}))
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			_ = e.WritePoints(ctx, "db2", "", batch(10+i))
		}(i)
	}
	wg.Wait()
	require.Equal(t, 3, liveShardGroups(e.meta.Database("db2")))
}
