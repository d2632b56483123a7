package embedded

import (
	"errors"
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
// and the number of points dropped.
func (e *Engine) mapShards(db, rp string, pts []models.Point) ([]shardPoints, int, error) {
	rpi, err := e.meta.RetentionPolicy(db, rp)
	if err != nil {
		return nil, 0, err
	}
	if rpi == nil {
		return nil, 0, influxdb.ErrRetentionPolicyNotFound(rp)
	}
	min := int64(models.MinNanoTime)
	if rpi.Duration > 0 {
		min = time.Now().Add(-rpi.Duration).UnixNano()
	}
	var list groupList
	for _, p := range pts {
		t := p.UnixNano()
		if t < min || list.at(t) >= 0 {
			continue
		}
		sg, err := e.meta.CreateShardGroup(db, rp, time.Unix(0, t))
		if err != nil {
			return nil, 0, err
		}
		if sg == nil {
			return nil, 0, errors.New("nil shard group")
		}
		list.add(*sg)
	}

	var out []shardPoints
	dropped := 0
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
		g := list.at(p.UnixNano())
		if g < 0 {
			if single {
				split(i)
			}
			dropped++
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
	return out, dropped, nil
}
