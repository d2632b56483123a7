package embedded

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kodo-project/kodo/internal/tmpfs"
	"github.com/kodo-project/kodo/lineproto"
	"github.com/kodo-project/kodo/storage/tsengine"
)

// noisyBatch is n points whose values do not compress: a WAL entry of
// several hundred KiB, more than any page left partly free.
func noisyBatch(t *testing.T, n int, start time.Time) *lineproto.Batch {
	var b lineproto.Batch
	for i := range n {
		require.NoError(t, b.AddPoint("cpu", map[string]string{"host": fmt.Sprintf("server-%02d", i%10)},
			map[string]any{"usr": rand.Float64(), "system": rand.Float64()}, start.Add(time.Duration(i)*time.Millisecond)))
	}
	return &b
}

// TestDiskFullWriteNeverVisible fills a real (tmpfs) disk under the engine
// with the reserve check off, so InfluxDB itself fails: the write answers
// ErrDiskFull, its points are not readable, writes work again once space
// is freed (no restart), and a restart shows exactly the acknowledged
// points.
func TestDiskFullWriteNeverVisible(t *testing.T) {
	dir := tmpfs.Mount(t, 48<<20)
	ctx := context.Background()
	e, err := Open(filepath.Join(dir, "engine"), Options{MinFreeBytes: -1})
	require.NoError(t, err)
	defer func() { _ = e.Close() }()
	require.NoError(t, e.CreateDatabase(ctx, "db", []tsengine.RetentionPolicy{{Name: "week", Duration: 7 * 24 * time.Hour, Default: true}}))
	t0 := time.Now().Add(-time.Hour).Truncate(time.Second)
	require.NoError(t, e.WritePoints(ctx, "db", "", noisyBatch(t, 1000, t0)))

	filler := tmpfs.Fill(t, dir)
	err = e.WritePoints(ctx, "db", "", noisyBatch(t, 20000, t0.Add(time.Minute)))
	require.ErrorIs(t, err, tsengine.ErrDiskFull)
	t.Logf("write on a full disk: %v", err)
	assert.EqualValues(t, 1000, count(t, e, "db", "SELECT count(usr) FROM cpu"), "a write that failed is not readable")

	require.NoError(t, os.Remove(filler))
	require.NoError(t, e.WritePoints(ctx, "db", "", noisyBatch(t, 1000, t0.Add(2*time.Minute))), "writes work again once space is freed")
	assert.EqualValues(t, 2000, count(t, e, "db", "SELECT count(usr) FROM cpu"))

	require.NoError(t, e.Close())
	e, err = Open(filepath.Join(dir, "engine"), Options{MinFreeBytes: -1})
	require.NoError(t, err)
	assert.EqualValues(t, 2000, count(t, e, "db", "SELECT count(usr) FROM cpu"), "after a restart: every acknowledged point, no failed one")
	require.NoError(t, e.WritePoints(ctx, "db", "", noisyBatch(t, 10, t0.Add(3*time.Minute))))
	require.NoError(t, e.Close())
	e, err = Open(filepath.Join(dir, "engine"), Options{MinFreeBytes: -1})
	require.NoError(t, err)
	assert.EqualValues(t, 2010, count(t, e, "db", "SELECT count(usr) FROM cpu"), "writes after the repair survive the next restart too")
}

// TestDiskReserveRefusesUpFront: under the free-space reserve, writes and
// database creation are refused before InfluxDB is touched.
func TestDiskReserveRefusesUpFront(t *testing.T) {
	ctx := context.Background()
	e := openTest(t, t.TempDir(), Options{MinFreeBytes: 1 << 60})
	err := e.CreateDatabase(ctx, "db", []tsengine.RetentionPolicy{{Name: "week", Duration: 7 * 24 * time.Hour, Default: true}})
	require.ErrorIs(t, err, tsengine.ErrDiskFull)
	assert.Contains(t, err.Error(), "reserve")

	e.minFree = -1 // room again
	require.NoError(t, e.CreateDatabase(ctx, "db", []tsengine.RetentionPolicy{{Name: "week", Duration: 7 * 24 * time.Hour, Default: true}}))
	e.minFree = 1 << 60
	err = e.WritePoints(ctx, "db", "", benchBatch(t, 10, time.Now()))
	require.ErrorIs(t, err, tsengine.ErrDiskFull)
	assert.Contains(t, err.Error(), "MiB free")
	e.minFree = -1
	assert.Zero(t, count(t, e, "db", "SELECT count(usr) FROM cpu"))
}

// TestRepairWALCutsPartialEntry: a segment ending in half an entry is cut
// back to its last whole entry at Open.
func TestRepairWALCutsPartialEntry(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	e, err := Open(dir, Options{})
	require.NoError(t, err)
	require.NoError(t, e.CreateDatabase(ctx, "db", []tsengine.RetentionPolicy{{Name: "week", Duration: 7 * 24 * time.Hour, Default: true}}))
	t0 := time.Now().Add(-time.Hour).Truncate(time.Second)
	require.NoError(t, e.WritePoints(ctx, "db", "", noisyBatch(t, 100, t0)))
	require.NoError(t, e.Close())

	segs, err := filepath.Glob(filepath.Join(dir, "wal", "db", "week", "*", "_*.wal"))
	require.NoError(t, err)
	require.Len(t, segs, 1)
	st, err := os.Stat(segs[0])
	require.NoError(t, err)
	whole := st.Size()
	f, err := os.OpenFile(segs[0], os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.Write([]byte{0x01, 0, 0, 0x10, 0, 1, 2, 3}) // a header promising 4 KiB, then 3 bytes
	require.NoError(t, err)
	require.NoError(t, f.Close())

	e, err = Open(dir, Options{})
	require.NoError(t, err)
	st, err = os.Stat(segs[0])
	require.NoError(t, err)
	assert.Equal(t, whole, st.Size())
	require.NoError(t, e.WritePoints(ctx, "db", "", noisyBatch(t, 100, t0.Add(time.Minute))))
	require.NoError(t, e.Close())
	e, err = Open(dir, Options{})
	require.NoError(t, err)
	defer e.Close()
	assert.EqualValues(t, 200, count(t, e, "db", "SELECT count(usr) FROM cpu"))
}
