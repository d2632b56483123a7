package embedded

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/influxdata/influxdb"
	"github.com/influxdata/influxdb/models"
	"github.com/influxdata/influxdb/services/meta"
)

// shardPoints is the points of one batch bound for one shard, in batch
// order (the last of equal timestamps must win).
type shardPoints struct {
	shard  meta.ShardInfo
	points []models.Point
}

// groupList is coordinator's sgList with times as Unix nanoseconds: the
// same choice of shard group for every time, without the two closure
// allocations per point of sgList.ShardGroupAt.
type groupList struct {
	items      meta.ShardGroupInfos
	start, end []int64 // of items, clamped to int64
	earliest   int64
	latest     int64
	sorted     bool
}

func (l *groupList) add(sg meta.ShardGroupInfo) {
	l.items = append(l.items, sg)
	l.sorted = false
	if len(l.items) == 1 || unixNano(sg.StartTime) < l.earliest {
		l.earliest = unixNano(sg.StartTime)
	}
	if len(l.items) == 1 || unixNano(sg.EndTime) > l.latest {
		l.latest = unixNano(sg.EndTime)
	}
}

// at returns the index of the group holding t, or -1: the earliest
// ending group whose end is after t if it starts by t, else the first
// group containing t (they overlap), as sgList.ShardGroupAt.
func (l *groupList) at(t int64) int {
	if len(l.items) == 0 {
		return -1
	}
	if !l.sorted {
		sort.Sort(l.items)
		l.start, l.end = l.start[:0], l.end[:0]
		for i := range l.items {
			l.start = append(l.start, unixNano(l.items[i].StartTime))
			l.end = append(l.end, unixNano(l.items[i].EndTime))
		}
		l.sorted = true
	}
	lo, hi := 0, len(l.end)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if l.end[m] > t {
			hi = m
		} else {
			lo = m + 1
		}
	}
	if lo < len(l.end) && t >= l.start[lo] {
		return lo
	}
	if t < l.earliest || t > l.latest {
		return -1
	}
	for i := range l.items {
		if t >= l.start[i] && t < l.end[i] {
			return i
		}
	}
	return -1
}

var (
	minUnixNano = time.Unix(0, math.MinInt64)
	maxUnixNano = time.Unix(0, math.MaxInt64)
)

// unixNano is t.UnixNano clamped to the int64 range, so comparisons with
// point times (always inside it) keep the order of time.Time.
func unixNano(t time.Time) int64 {
	switch {
	case t.Before(minUnixNano):
		return math.MinInt64
	case t.After(maxUnixNano):
		return math.MaxInt64
	}
	return t.UnixNano()
}

// mapShards does what coordinator.PointsWriter.MapShards does (create the
// shard groups the points need, set aside points older than the policy)
// without its per-point allocations, and keeps the whole slice when every
// point goes to one shard, the usual case. It returns the shards' points
// and tallies the points set aside: older than the policy, or needing a
// shard group past MaxShardsPerDatabase.
func (e *Engine) mapShards(db, rp string, pts []models.Point, drops *dropTally) (out []shardPoints, unmapped []int, err error) {
	rpi, err := e.meta.RetentionPolicy(db, rp)
	if err != nil {
		return nil, nil, err
	}
	if rpi == nil {
		return nil, nil, influxdb.ErrRetentionPolicyNotFound(rp)
	}
	min := int64(models.MinNanoTime)
	if rpi.Duration > 0 {
		min = time.Now().Add(-rpi.Duration).UnixNano()
	}
	var list groupList
	var limit *shardLimitError // set once a new group was refused
	for _, p := range pts {
		t := p.UnixNano()
		if t < min || list.at(t) >= 0 {
			continue
		}
		sg, err := e.shardGroupAt(db, rp, time.Unix(0, t), limit != nil)
		var sle *shardLimitError
		if errors.As(err, &sle) {
			if limit == nil {
				limit = sle
			}
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		if sg == nil {
			return nil, nil, errors.New("nil shard group")
		}
		list.add(*sg)
	}

	expired, refused := 0, 0
	// single: every point so far went to out[0]; its points are then
	// pts[:i] and need no copy.
	single := true
	split := func(i int) {
		single = false
		if len(out) == 1 {
			out[0].points = append(make([]models.Point, 0, len(pts)), pts[:i]...)
		}
	}
	for i, p := range pts {
		t := p.UnixNano()
		g := list.at(t)
		if g < 0 {
			if single {
				split(i)
			}
			if t < min {
				expired++
			} else {
				refused++
			}
			unmapped = append(unmapped, i)
			continue
		}
		sh := list.items[g].ShardFor(p)
		if single {
			if len(out) == 0 {
				out = append(out, shardPoints{shard: sh})
			}
			if out[0].shard.ID == sh.ID {
				continue
			}
			split(i)
		}
		k := len(out) - 1
		for k >= 0 && out[k].shard.ID != sh.ID {
			k--
		}
		if k < 0 {
			out = append(out, shardPoints{shard: sh})
			k = len(out) - 1
		}
		out[k].points = append(out[k].points, p)
	}
	if single && len(out) == 1 {
		out[0].points = pts
	}
	drops.add(expired, "points beyond retention policy")
	if limit != nil {
		drops.add(refused, limit.Error())
	}
	return out, unmapped, nil
}

// shardLimitError refuses a new shard group past MaxShardsPerDatabase.
type shardLimitError struct {
	db     string
	n, max int
	at     time.Time
}

func (e *shardLimitError) Error() string {
	return fmt.Sprintf("max-shards-per-database limit exceeded: (%d/%d): points at %s would open another shard group of database %q; write into the time ranges it already holds or ask the operator to raise the limit",
		e.n, e.max, e.at.UTC().Format(time.RFC3339), e.db)
}

// shardGroupAt returns the group of db.rp holding t, creating it if the
// database is under MaxShardsPerDatabase. Every shard group keeps files
// open for as long as it lives, so points spread over many time windows
// (far past or future) are what exhausts descriptors. Creation is
// serialised so concurrent writes cannot overshoot the bound; it is rare
// (once per window), so the lock costs nothing on the usual path. full
// says an earlier point of the batch was refused: the count cannot have
// dropped since, so no recount.
func (e *Engine) shardGroupAt(db, rp string, t time.Time, full bool) (*meta.ShardGroupInfo, error) {
	if e.maxShards <= 0 {
		return e.meta.CreateShardGroup(db, rp, t)
	}
	e.shardMu.Lock()
	defer e.shardMu.Unlock()
	dbi := e.meta.Database(db)
	if dbi == nil {
		return nil, influxdb.ErrDatabaseNotFound(db)
	}
	if rpi := dbi.RetentionPolicy(rp); rpi != nil {
		if sg := rpi.ShardGroupByTimestamp(t); sg != nil {
			return sg, nil
		}
	}
	n := liveShardGroups(dbi)
	if full || n >= e.maxShards {
		return nil, &shardLimitError{db: db, n: n, max: e.maxShards, at: t}
	}
	return e.meta.CreateShardGroup(db, rp, t)
}

// liveShardGroups counts the shard groups of a database not yet deleted
// by retention, over all its policies.
func liveShardGroups(dbi *meta.DatabaseInfo) int {
	n := 0
	for i := range dbi.RetentionPolicies {
		for j := range dbi.RetentionPolicies[i].ShardGroups {
			if !dbi.RetentionPolicies[i].ShardGroups[j].Deleted() {
				n++
			}
		}
	}
	return n
}
