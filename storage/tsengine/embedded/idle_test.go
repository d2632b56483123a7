package embedded

import (
	"context"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kodo-project/kodo/storage/tsengine"
)

func openFDs(t *testing.T) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd: %v", err)
	}
	return len(ents)
}

// TestIdleShardsClose: shards no call used for the idle timeout close and
// give back their file descriptors; reads and writes open them again and
// find every point.
func TestIdleShardsClose(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	e, err := Open(dir, Options{IdleShardTimeout: 2 * time.Second})
	require.NoError(t, err)
	defer func() { _ = e.Close() }()
	require.NoError(t, e.CreateDatabase(ctx, "db", []tsengine.RetentionPolicy{{Name: "month", Duration: 30 * 24 * time.Hour, Default: true}}))
	base := openFDs(t)
	day := 24 * time.Hour
	start := time.Now().Add(-10 * day).Truncate(day)
	for i := range 5 { // five daily shards
		require.NoError(t, e.WritePoints(ctx, "db", "", noisyBatch(t, 100, start.Add(time.Duration(i)*day))))
	}
	open := openFDs(t)
	require.Equal(t, 5, e.OpenShards())
	t.Logf("fds: %d before, %d with 5 shards open", base, open)

	require.Eventually(t, func() bool { return e.OpenShards() == 0 }, 60*time.Second, 100*time.Millisecond, "idle shards close")
	closed := openFDs(t)
	t.Logf("fds with the shards closed: %d", closed)
	assert.Less(t, closed, open-5*5, "closing shards gives descriptors back")

	assert.EqualValues(t, 500, count(t, e, "db", "SELECT count(usr) FROM cpu"), "a query opens them again")
	assert.Equal(t, 5, e.OpenShards())
	require.Eventually(t, func() bool { return e.OpenShards() == 0 }, 60*time.Second, 100*time.Millisecond)
	require.NoError(t, e.WritePoints(ctx, "db", "", noisyBatch(t, 100, start.Add(time.Hour))), "a write opens its shard")
	assert.Equal(t, 1, e.OpenShards())
	assert.EqualValues(t, 600, count(t, e, "db", "SELECT count(usr) FROM cpu"))

	require.Eventually(t, func() bool { return e.OpenShards() == 0 }, 60*time.Second, 100*time.Millisecond)
	require.NoError(t, e.DropMeasurement(ctx, "db", "cpu"))
	assert.Zero(t, count(t, e, "db", "SELECT count(usr) FROM cpu"))
	require.NoError(t, e.WritePoints(ctx, "db", "", noisyBatch(t, 10, start)))
	require.NoError(t, e.Close())

	e, err = Open(dir, Options{IdleShardTimeout: 2 * time.Second})
	require.NoError(t, err)
	assert.EqualValues(t, 10, count(t, e, "db", "SELECT count(usr) FROM cpu"))
	require.Eventually(t, func() bool { return e.OpenShards() == 0 }, 60*time.Second, 100*time.Millisecond)
	require.NoError(t, e.DropDatabase(ctx, "db"))
}

// TestIdleShardsRetention: the retention service deleting one shard while
// the database's other shards are closed keeps their series (a deletion
// drops from the series file what no other shard's index holds).
func TestIdleShardsRetention(t *testing.T) {
	ctx := context.Background()
	e := openTest(t, t.TempDir(), Options{IdleShardTimeout: 2 * time.Second})
	require.NoError(t, e.CreateDatabase(ctx, "db", []tsengine.RetentionPolicy{{Name: "month", Duration: 30 * 24 * time.Hour, Default: true}}))
	day := 24 * time.Hour
	start := time.Now().Add(-10 * day).Truncate(day)
	for i := range 3 {
		require.NoError(t, e.WritePoints(ctx, "db", "", noisyBatch(t, 100, start.Add(time.Duration(i)*day))))
	}
	require.Eventually(t, func() bool { return e.OpenShards() == 0 }, 60*time.Second, 100*time.Millisecond)
	ids := e.store.ShardIDs()
	require.Len(t, ids, 3)
	slices.Sort(ids)
	require.NoError(t, idleRetentionStore{e}.DeleteShard(ids[0]))
	assert.EqualValues(t, 200, count(t, e, "db", "SELECT count(usr) FROM cpu"), "the other shards' series survive")
	res := mustQuery(t, e, "db", "SHOW SERIES")
	require.Len(t, res[0].Series, 1)
	assert.Len(t, res[0].Series[0].Values, 10)
}
