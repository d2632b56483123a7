package embedded

import (
	"context"
	"errors"
	"sync/atomic"

	"github.com/influxdata/influxdb/models"
	"github.com/influxdata/influxdb/tsdb"
	"github.com/influxdata/influxdb/tsdb/engine/tsm1"
	"github.com/influxdata/influxql"
)

// Trusted shard writes.
//
// A shard validates every point it is given (tsdb.Shard's
// validateSeriesAndFields): it parses the point's tags and fields again,
// looks its series up in the index and checks each field's type. For a
// steady writer that is a seventh of the gateway's CPU spent to learn
// what the last write already established. Kodo has checked the batch
// before the shard sees it (field types against every shard of the
// database, series and tag-value limits), so a batch can go straight to
// the shard's storage engine when the shard itself is known to hold
// everything it names:
//   - every series key: a write through the shard's own path created it
//     in the shard's index, and nothing has deleted from the database
//     since (knownSeries, cleared by every deletion under dbGuard.del);
//   - every field, with the batch's type, in the shard's field set (read
//     from the shard at each write: an existing field never changes type).
//
// Anything else (a new series, a new field, a "time" field, a batch of
// many field lists) takes the shard's path, which then teaches the known
// set. The storage engine still writes the cache and the WAL and fsyncs
// as before: durability is the same.

// maxKnownBytes bounds the memory of the series keys remembered over all
// databases (a key counts its length plus the map's overhead). Past it
// every database starts again from empty (knownCounter.gen), so none is
// starved by the others; writes take the shards' path until their series
// are learnt again.
const maxKnownBytes = 64 << 20

// knownOverhead is what a map entry costs besides the key's bytes.
const knownOverhead = 64

// knownCounter is the engine's count of remembered bytes over all
// databases, and the generation a database's set must have to count.
type knownCounter struct {
	bytes atomic.Int64
	gen   atomic.Uint64
}

// knownSeries are the series keys each shard of a database is known to
// hold in its index. Guarded by dbGuard.knownMu.
type knownSeries struct {
	shards  map[uint64]map[string]struct{}
	bytes   int64
	gen     uint64 // the counter's generation the set belongs to
	counter *knownCounter
}

// covers reports whether shard id holds the series of every point.
func (g *dbGuard) covers(id uint64, pts []models.Point) bool {
	g.knownMu.RLock()
	defer g.knownMu.RUnlock()
	if g.known.gen != g.known.counter.gen.Load() {
		return false // cleared engine-wide
	}
	set := g.known.shards[id]
	if len(set) == 0 {
		return false
	}
	for _, p := range pts {
		if _, ok := set[string(p.Key())]; !ok {
			return false
		}
	}
	return true
}

// learn records that shard id now holds the series of pts (they were
// written through the shard's path without a refusal).
func (g *dbGuard) learn(id uint64, pts []models.Point) {
	g.knownMu.Lock()
	defer g.knownMu.Unlock()
	c := g.known.counter
	if gen := c.gen.Load(); g.known.gen != gen {
		g.known = knownSeries{gen: gen, counter: c} // uncounted since the reset
	}
	set := g.known.shards[id]
	if set == nil {
		if g.known.shards == nil {
			g.known.shards = map[uint64]map[string]struct{}{}
		}
		set = map[string]struct{}{}
		g.known.shards[id] = set
	}
	for _, p := range pts {
		key := p.Key()
		if _, ok := set[string(key)]; ok {
			continue
		}
		if c.bytes.Load() >= maxKnownBytes {
			// Start every database again: the others see the new
			// generation and drop their sets uncounted.
			c.gen.Add(1)
			c.bytes.Store(0)
			g.known = knownSeries{gen: c.gen.Load(), counter: c}
			return
		}
		set[string(key)] = struct{}{}
		size := int64(len(key) + knownOverhead)
		g.known.bytes += size
		c.bytes.Add(size)
	}
}

// forgetSeries empties the known set. Only a deletion needs it to be
// done under g.del (deletingStore); elsewhere it merely costs relearning.
func (g *dbGuard) forgetSeries() {
	g.knownMu.Lock()
	defer g.knownMu.Unlock()
	c := g.known.counter
	if g.known.gen == c.gen.Load() {
		c.bytes.Add(-g.known.bytes)
	}
	g.known = knownSeries{gen: g.known.gen, counter: c}
}

// hasFields reports whether fs holds every field of sets with its type.
func hasFields(fs *tsdb.MeasurementFieldSet, sets []fieldSet) bool {
	if len(sets) == 0 {
		return false // none, or too many to check (checkFields)
	}
	for _, s := range sets {
		mf := fs.Fields(s.name) // read-only, unlike Shard.MeasurementFields
		if mf == nil {
			return false
		}
		for _, f := range s.fields {
			if string(f.Key) == "time" { // the shard drops it, with a reason
				return false
			}
			if have := mf.FieldBytes(f.Key); have == nil || have.Type != kindType(f.Value.Kind()) {
				return false
			}
		}
	}
	return true
}

// shardFields returns the fields sh has for measurement name, or nil.
// Unlike Shard.MeasurementFields it does not add an empty entry for a
// measurement the shard does not have (which would be saved with the
// shard's field set).
func shardFields(sh *tsdb.Shard, name []byte) *tsdb.MeasurementFields {
	eng, err := sh.Engine()
	if err != nil {
		return nil
	}
	return eng.MeasurementFieldSet().Fields(name)
}

// pointsWriter is what tsm1's engine offers beyond tsdb.Engine.
type pointsWriter interface {
	WritePointsWithContext(context.Context, []models.Point) error
}

// errNotTrusted: the trusted path cannot take this write; the shard's
// path must.
var errNotTrusted = errors.New("embedded: not a trusted write")

// writeTrusted writes pts straight to the storage engine of shard id when
// the shard is known to hold their series and fields, and returns
// errNotTrusted otherwise, or when the shard closed under the write (its
// WAL refused it: nothing of it is durable, the shard's path reopens the
// shard and writes it). The caller holds g.del for reading.
func (e *Engine) writeTrusted(g *dbGuard, id uint64, pts []models.Point, sets []fieldSet) error {
	sh := e.store.Shard(id)
	if sh == nil {
		return errNotTrusted
	}
	eng, err := sh.Engine()
	if err != nil {
		return errNotTrusted // closed: the shard's path reopens it
	}
	w, ok := eng.(pointsWriter)
	// The field lists first: a few lookups, against one per point.
	if !ok || !hasFields(eng.MeasurementFieldSet(), sets) || !g.covers(id, pts) {
		return errNotTrusted
	}
	// Compactions need no enabling here (Store.WriteToShard does it for
	// shards its monitor found cold): the store's monitor is off, and
	// Kodo closes idle shards instead (idle.go).
	err = w.WritePointsWithContext(context.Background(), pts)
	if errors.Is(err, tsm1.ErrWALClosed) {
		return errNotTrusted
	}
	e.trustedWrites.Add(1)
	return err
}

// deletingStore is the store of the statement executor and the retention
// service: each deletion holds its database's dbGuard.del for writing,
// so it waits for the writes in flight, and empties the known series,
// since what it deletes is no longer in the shards' indexes.
type deletingStore struct {
	*tsdb.Store
	e *Engine
}

// fence takes db's deletion lock and returns its release.
func (s deletingStore) fence(db string) func() {
	g := s.e.guard(db)
	g.del.Lock()
	g.forgetSeries()
	return g.del.Unlock
}

func (s deletingStore) DeleteDatabase(name string) error {
	defer s.fence(name)()
	return s.Store.DeleteDatabase(name)
}

func (s deletingStore) DeleteMeasurement(db, name string) error {
	defer s.fence(db)()
	return s.Store.DeleteMeasurement(db, name)
}

func (s deletingStore) DeleteRetentionPolicy(db, name string) error {
	defer s.fence(db)()
	return s.Store.DeleteRetentionPolicy(db, name)
}

func (s deletingStore) DeleteSeries(db string, sources []influxql.Source, cond influxql.Expr) error {
	defer s.fence(db)()
	return s.Store.DeleteSeries(db, sources, cond)
}

func (s deletingStore) DeleteShard(id uint64) error {
	if sh := s.Store.Shard(id); sh != nil {
		defer s.fence(sh.Database())()
	}
	return s.Store.DeleteShard(id)
}
