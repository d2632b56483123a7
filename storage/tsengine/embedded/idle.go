package embedded

import (
	"fmt"
	"time"

	"github.com/influxdata/influxdb/coordinator"
	"github.com/influxdata/influxdb/models"
	"github.com/influxdata/influxdb/services/meta"
	"github.com/influxdata/influxdb/tsdb"
)

// Closing idle shards bounds the file descriptors of the engine.
//
// Each open shard holds about ten descriptors (tsi1 keeps one log file per
// index partition, eight, plus the WAL segment, plus one per TSM file), and
// a database holds a shard per shard-group duration of each policy: with
// daily shards and 90 days of data, one workspace alone holds ~900. InfluxDB
// 1.8 keeps every shard open for its life. This engine closes a shard that
// no call used for Options.IdleShardTimeout and opens it again on the
// next call that needs its database, so what stays open is the shards in
// use plus the series file of each database (eight descriptors).
//
// Only a shard InfluxDB itself reports idle (cache snapshotted, no
// compaction running) is closed, so a close is quick and a reopen has no
// WAL to replay. A shard not fully compacted yet may close: its full
// compaction (4h after its last write) would otherwise keep it open that
// long; it is compacted when it is next open long enough. Closing happens under useMu, and every call
// marks the shards of its database used under useMu before it touches
// them, so a shard in use is never closed. A write that still meets a
// closed shard opens it and retries; InfluxDB's own services that bypass
// these calls (continuous queries, retention) find a closed shard as they
// find one during DROP SHARD and try again at their next run.

// DefaultIdleShardTimeout leaves a shard open through the cache snapshot
// InfluxDB takes after 10 minutes without writes, so a reopen rarely has a
// WAL to replay.
const DefaultIdleShardTimeout = 15 * time.Minute

type shardLoc struct{ db, rp string }

// notFullyCompacted is tsm1.Engine.IsIdle's reason for a shard that is idle
// but for a pending full compaction.
const notFullyCompacted = "not idle because shard is not fully compacted"

// useShards marks the shards used now and opens any that were closed.
func (e *Engine) useShards(ids []uint64) error {
	if e.idleTimeout <= 0 {
		return nil
	}
	now := time.Now()
	var reopen []uint64
	e.useMu.Lock()
	for _, id := range ids {
		e.lastUse[id] = now
		if _, closed := e.closedShards[id]; closed {
			reopen = append(reopen, id)
		}
	}
	e.useMu.Unlock()
	for _, id := range reopen {
		if err := e.reopenShard(id); err != nil {
			return err
		}
	}
	return nil
}

// ensureOpen marks db's shards used and opens the closed ones again.
func (e *Engine) ensureOpen(db string) error {
	if e.idleTimeout <= 0 || db == "" {
		return nil
	}
	var ids []uint64
	for _, id := range e.store.ShardIDs() {
		if sh := e.store.Shard(id); sh != nil && sh.Database() == db {
			ids = append(ids, id)
		}
	}
	return e.useShards(ids)
}

// reopenShard opens a closed shard; opening an open one is a no-op.
func (e *Engine) reopenShard(id uint64) error {
	if sh := e.store.Shard(id); sh != nil {
		if err := sh.Open(); err != nil {
			if f := faultError(fmt.Sprintf("reopening idle shard %d", id), err); f != nil {
				return f
			}
			return fmt.Errorf("embedded: reopening idle shard %d: %w", id, err)
		}
	}
	e.useMu.Lock()
	delete(e.closedShards, id)
	e.lastUse[id] = time.Now()
	e.useMu.Unlock()
	return nil
}

// sweepIdle closes the shards unused for the idle timeout that InfluxDB
// reports idle.
func (e *Engine) sweepIdle() {
	if err := e.enter(); err != nil {
		return
	}
	defer e.leave()
	if e.storeDown {
		return
	}
	now := time.Now()
	cutoff := now.Add(-e.idleTimeout)
	e.useMu.Lock()
	defer e.useMu.Unlock()
	for _, id := range e.store.ShardIDs() {
		sh := e.store.Shard(id)
		if sh == nil {
			continue
		}
		if _, closed := e.closedShards[id]; closed {
			continue
		}
		last, seen := e.lastUse[id]
		if !seen {
			e.lastUse[id] = now // first sight (e.g. opened at start): the clock starts now
			continue
		}
		if last.After(cutoff) {
			continue
		}
		if idle, why := sh.IsIdle(); !idle && why != notFullyCompacted {
			continue
		}
		if err := sh.Close(); err != nil {
			e.log.Warn("closing an idle shard", "shard", id, "err", err)
			continue
		}
		e.closedShards[id] = shardLoc{sh.Database(), sh.RetentionPolicy()}
	}
	// Forget shards that no longer exist (retention, dropped databases).
	for id := range e.closedShards {
		if e.store.Shard(id) == nil {
			delete(e.closedShards, id)
		}
	}
	for id := range e.lastUse {
		if e.store.Shard(id) == nil {
			delete(e.lastUse, id)
		}
	}
}

// runSweeper sweeps until stop is closed.
func (e *Engine) runSweeper(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	everyTick(min(e.idleTimeout/2, time.Minute), stop, e.sweepIdle)
}

// everyTick calls f every d until stop is closed.
func everyTick(d time.Duration, stop <-chan struct{}, f func()) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			f()
		}
	}
}

// OpenShards is the number of shards open now (for tests and operators).
func (e *Engine) OpenShards() int {
	if err := e.enter(); err != nil {
		return 0
	}
	defer e.leave()
	e.useMu.Lock()
	defer e.useMu.Unlock()
	return len(e.store.ShardIDs()) - len(e.closedShards)
}

// InfluxDB's own paths that reach shards without these calls get the same
// treatment through their store interfaces: the shard mapper (every
// SELECT, continuous query runs included) and the points writer (SELECT
// INTO of continuous queries) open the shards they name; the retention
// service opens the other shards of a database before it deletes one,
// since a deletion compares the deleted shard's series with theirs.

// idleShardGroups is coordinator.LocalShardMapper's store.
type idleShardGroups struct {
	e     *Engine
	inner coordinator.LocalTSDBStore
}

func (s idleShardGroups) ShardGroup(ids []uint64) tsdb.ShardGroup {
	if err := s.e.useShards(ids); err != nil {
		s.e.log.Warn("opening idle shards for a query", "err", err)
	}
	return s.inner.ShardGroup(ids)
}

// idleWriterStore is coordinator.PointsWriter's store.
type idleWriterStore struct{ e *Engine }

func (s idleWriterStore) CreateShard(db, rp string, id uint64, enabled bool) error {
	return s.e.store.CreateShard(db, rp, id, enabled)
}

func (s idleWriterStore) WriteToShard(id uint64, pts []models.Point) error {
	if err := s.e.useShards([]uint64{id}); err != nil {
		return err
	}
	return s.e.store.WriteToShard(id, pts)
}

// idleRetentionStore is the retention service's store.
type idleRetentionStore struct{ e *Engine }

func (s idleRetentionStore) ShardIDs() []uint64 { return s.e.store.ShardIDs() }

func (s idleRetentionStore) DeleteShard(id uint64) error {
	if sh := s.e.store.Shard(id); sh != nil {
		if err := s.e.ensureOpen(sh.Database()); err != nil {
			return err
		}
	}
	return deletingStore{s.e.store, s.e}.DeleteShard(id)
}

// seriesFileOf is db's series file, which stays open while shards close;
// it is reached through an open shard (one is opened if none is).
func (e *Engine) seriesFileOf(dbi *meta.DatabaseInfo) *tsdb.SeriesFile {
	if sf := e.seriesFile(dbi); sf != nil {
		return sf
	}
	shards := e.liveShards(dbi)
	if len(shards) == 0 {
		return nil
	}
	last := shards[len(shards)-1]
	if err := e.useShards([]uint64{last.ID()}); err != nil {
		return nil
	}
	sf, _ := last.SeriesFile()
	return sf
}

// openShards is liveShards with every closed one opened again, for the
// guards that read all of a database's indexes (on a cache miss).
func (e *Engine) openShards(dbi *meta.DatabaseInfo) []*tsdb.Shard {
	shards := e.liveShards(dbi)
	ids := make([]uint64, len(shards))
	for i, sh := range shards {
		ids[i] = sh.ID()
	}
	if err := e.useShards(ids); err != nil {
		e.log.Warn("opening idle shards for a write check", "err", err)
	}
	return shards
}
