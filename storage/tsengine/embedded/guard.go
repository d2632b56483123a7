package embedded

import (
	"bytes"
	"fmt"
	"sync"

	"github.com/influxdata/influxdb/models"
	"github.com/influxdata/influxdb/services/meta"
	"github.com/influxdata/influxdb/tsdb"
	"github.com/influxdata/influxql"
	"github.com/influxdata/line-protocol/v2/lineprotocol"

	"github.com/kodo-project/kodo/lineproto"
	"github.com/kodo-project/kodo/storage/tsengine"
)

// maxCachedTagValues bounds the tag values one database's guard keeps to
// check MaxValuesPerTag; past it the cache is dropped and reloaded from
// the index as needed.
const maxCachedTagValues = 1 << 18 // ~20 MB of short values

// dbGuard checks a database's writes before they reach the shards:
// cardinality limits (InfluxDB's tsi1 index has none) and field types
// across shards (a shard only knows its own fields, so float yesterday and
// integer today were both accepted, and the field became unreadable).
type dbGuard struct {
	// series is held by a write that creates series, from the count to
	// the end of the write, so concurrent writes cannot overshoot
	// MaxSeriesPerDatabase. Writes of known series never take it.
	series sync.Mutex

	// del is held for writing by anything that deletes from the
	// database (deletingStore) and for reading by its shard writes, so a
	// trusted write never races a deletion of the series it trusts.
	del sync.RWMutex
	// known: the series each shard holds (trusted.go).
	knownMu sync.RWMutex
	known   knownSeries

	mu sync.Mutex // guards what follows
	// fields: measurement -> field -> type, loaded from every live shard's
	// field set on first use and extended as writes create fields.
	fields map[string]map[string]influxql.DataType
	// shards is the number of live shard groups when fields was last
	// valid: when retention deletes one, its fields no longer bind.
	shards int
	// values: measurement \x00 tag key -> values, loaded from the shards'
	// indexes, for MaxValuesPerTag.
	values  map[string]map[string]struct{}
	nvalues int
}

func (e *Engine) guard(db string) *dbGuard {
	e.guardMu.Lock()
	defer e.guardMu.Unlock()
	g := e.guards[db]
	if g == nil {
		if e.guards == nil {
			e.guards = map[string]*dbGuard{}
		}
		g = &dbGuard{}
		g.known.counter = &e.knownSeries
		e.guards[db] = g
	}
	return g
}

// forgetGuards drops what the guards learnt from the shards, after a
// statement that may delete data (DROP, DELETE), a dropped database or a
// reopened store.
func (e *Engine) forgetGuards() {
	e.guardMu.Lock()
	defer e.guardMu.Unlock()
	for _, g := range e.guards {
		g.mu.Lock()
		g.fields, g.values, g.nvalues = nil, nil, 0
		g.mu.Unlock()
		g.forgetSeries()
	}
}

// liveShards returns the shards of db present in the store.
func (e *Engine) liveShards(dbi *meta.DatabaseInfo) []*tsdb.Shard {
	var out []*tsdb.Shard
	for i := range dbi.RetentionPolicies {
		for _, sg := range dbi.RetentionPolicies[i].ShardGroups {
			if sg.Deleted() {
				continue
			}
			for _, si := range sg.Shards {
				if sh := e.store.Shard(si.ID); sh != nil {
					out = append(out, sh)
				}
			}
		}
	}
	return out
}

// seriesFile returns the database's series file (one for all its shards),
// or nil while it has no shard.
func (e *Engine) seriesFile(dbi *meta.DatabaseInfo) *tsdb.SeriesFile {
	for i := range dbi.RetentionPolicies {
		for _, sg := range dbi.RetentionPolicies[i].ShardGroups {
			for _, si := range sg.Shards {
				if sh := e.store.Shard(si.ID); sh != nil && !sg.Deleted() {
					if sfile, err := sh.SeriesFile(); err == nil {
						return sfile
					}
				}
			}
		}
	}
	return nil
}

// writeLimits resolves the limits of a write: the engine's, overridden by
// the context's.
func (e *Engine) writeLimits(l tsengine.WriteLimits, ok bool) (series, values int) {
	series, values = e.maxSeries, e.maxValues
	if ok {
		if l.MaxSeriesPerDatabase != 0 {
			series = max(l.MaxSeriesPerDatabase, 0)
		}
		if l.MaxValuesPerTag != 0 {
			values = max(l.MaxValuesPerTag, 0)
		}
	}
	return series, values
}

// checkFields refuses the points whose field types differ from those the
// database's measurement already has in any shard (or from an earlier
// point of the batch), as InfluxDB refuses them within one shard. The
// accepted points' new fields are reserved at once, so a concurrent write
// of another type to another shard is refused too.
//
// The fields are read from the batch (pts[k] is point org.at(k) of b),
// already parsed, rather than by scanning each point's field text again:
// the keys are the same unescaped bytes, and the types those the points
// were encoded with (unsigned values are written as integers).
//
// It also returns the distinct field lists of the accepted points (nil
// when there are too many), which decide whether a shard can take them
// without its own validation (trusted.go). A point with the measurement,
// field keys and types of the accepted point before it is accepted
// without a lookup: all of those are now in the guard.
func (e *Engine) checkFields(g *dbGuard, dbi *meta.DatabaseInfo, pts []models.Point, b *lineproto.Batch, org origin, drops *dropTally) (refused []int, sets []fieldSet) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if n := liveShardGroups(dbi); g.fields == nil || n < g.shards {
		g.fields = map[string]map[string]influxql.DataType{}
		g.shards = n
	} else {
		g.shards = n
	}
	var shards []*tsdb.Shard // loaded on the first miss
	lookup := func(name []byte, field []byte) influxql.DataType {
		if shards == nil {
			shards = e.openShards(dbi) // closed idle shards have fields too
		}
		for _, sh := range shards {
			if mf := shardFields(sh, name); mf != nil {
				if f := mf.FieldBytes(field); f != nil {
					return f.Type
				}
			}
		}
		return influxql.Unknown
	}
	type newField struct {
		key []byte
		typ influxql.DataType
	}
	var added []newField
	var prev lineproto.Point // the last accepted point
	tooMany := false
	for i, p := range pts {
		lp := b.At(org.at(i))
		if prev.Fields != nil && sameFields(lp, prev) {
			continue
		}
		name := p.Name()
		mf := g.fields[string(name)]
		if mf == nil {
			mf = map[string]influxql.DataType{}
			g.fields[string(name)] = mf
		}
		added = added[:0]
		conflict := ""
		for _, f := range lp.Fields {
			key := f.Key
			typ := kindType(f.Value.Kind())
			have, ok := mf[string(key)]
			if !ok {
				if have = lookup(name, key); have != influxql.Unknown {
					mf[string(key)] = have
					ok = true
				}
			}
			if ok && have != typ {
				conflict = fmt.Sprintf("%s: input field %q on measurement %q is type %s, already exists as type %s",
					tsdb.ErrFieldTypeConflict, key, name, typ, have)
				break
			}
			if !ok {
				added = append(added, newField{key, typ})
			}
		}
		if conflict != "" {
			drops.add(1, conflict)
			refused = append(refused, i)
			prev = lineproto.Point{}
			continue
		}
		for _, f := range added {
			mf[string(f.key)] = f.typ
		}
		prev = lp
		if !tooMany {
			if len(sets) == maxFieldSets {
				tooMany = true
			} else {
				sets = append(sets, fieldSet{name: name, fields: lp.Fields})
			}
		}
	}
	if tooMany {
		sets = nil
	}
	return refused, sets
}

// fieldSet is one measurement's field list as written by a batch.
type fieldSet struct {
	name   []byte // unescaped measurement
	fields []lineproto.Field
}

// maxFieldSets bounds the field lists checkFields returns: a batch that
// changes measurement or fields more often than this takes the shards'
// own validation.
const maxFieldSets = 16

// sameFields reports whether a and b have the same measurement, field
// keys and field types, in the same order.
func sameFields(a, b lineproto.Point) bool {
	if len(a.Fields) != len(b.Fields) || !bytes.Equal(a.Measurement, b.Measurement) {
		return false
	}
	for i := range a.Fields {
		if kindType(a.Fields[i].Value.Kind()) != kindType(b.Fields[i].Value.Kind()) || !bytes.Equal(a.Fields[i].Key, b.Fields[i].Key) {
			return false
		}
	}
	return true
}

// forgetFields drops what checkFields reserved when a write failed: the
// next write reloads the truth from the shards.
func (g *dbGuard) forgetFields() {
	g.mu.Lock()
	g.fields = nil
	g.mu.Unlock()
}

// kindType is the type a field of this kind has in the engine: 1.x has
// no unsigned type, so influxlp writes unsigned values as integers.
func kindType(k lineprotocol.ValueKind) influxql.DataType {
	t, _ := kindTypes(k)
	return t
}

// kindTypes is kindType in both of InfluxDB's spellings: the query
// engine's and the points'.
func kindTypes(k lineprotocol.ValueKind) (influxql.DataType, models.FieldType) {
	switch k {
	case lineprotocol.Float:
		return influxql.Float, models.Float
	case lineprotocol.Int, lineprotocol.Uint:
		return influxql.Integer, models.Integer
	case lineprotocol.String:
		return influxql.String, models.String
	case lineprotocol.Bool:
		return influxql.Boolean, models.Boolean
	}
	return influxql.Unknown, models.Empty
}

// maxFoundKeys bounds the series keys checkCardinality remembers per
// batch (a batch of all-distinct series would otherwise copy every key).
const maxFoundKeys = 4096

// checkCardinality refuses the points that would take the database past
// maxSeries series or a measurement's tag key past maxValues values, with
// InfluxDB's texts. When the batch creates series it returns with
// g.series held (the caller releases it after the write) so the count
// stays true until the new series exist.
func (e *Engine) checkCardinality(g *dbGuard, dbi *meta.DatabaseInfo, pts []models.Point, maxSeries, maxValues int, drops *dropTally) (refused []int, locked bool) {
	if maxSeries <= 0 && maxValues <= 0 {
		return nil, false
	}
	sfile := e.seriesFileOf(dbi)
	var tags models.Tags
	buf := make([]byte, 0, 512) // series keys are built in it, not allocated per point
	exists := func(p models.Point) bool {
		if sfile == nil {
			return false
		}
		var name []byte
		name, tags = models.ParseKeyBytesWithTags(p.Key(), tags[:0])
		return sfile.HasSeries(name, tags, buf)
	}
	// A batch names few series many times: each is looked up once. A
	// series found stays found for this write (a concurrent drop could
	// remove it either way, as between this check and the shard write).
	found := make(map[string]struct{}, 64)
	first := -1
	for i, p := range pts {
		if _, ok := found[string(p.Key())]; ok {
			continue
		}
		if !exists(p) {
			first = i
			break
		}
		if len(found) < maxFoundKeys {
			found[string(p.Key())] = struct{}{}
		}
	}
	if first < 0 {
		return nil, false // the usual case: no new series, no lock
	}
	g.series.Lock()
	if sfile == nil { // a shard may have been created meanwhile
		sfile = e.seriesFileOf(dbi)
	}
	var shards []*tsdb.Shard // read on the first tag key to count
	count := 0
	if sfile != nil {
		count = int(sfile.SeriesCount())
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.values == nil || g.nvalues > maxCachedTagValues {
		g.values, g.nvalues = map[string]map[string]struct{}{}, 0
	}
	admitted := map[string]bool{} // new series keys of this batch: true admitted, false refused
	var vkey []byte
	for i := first; i < len(pts); i++ {
		p := pts[i]
		key := p.Key()
		if ok, seen := admitted[string(key)]; seen {
			if !ok {
				drops.add(1, "") // counted; the reason was given for its first point
				refused = append(refused, i)
			}
			continue
		}
		if _, ok := found[string(key)]; ok {
			continue
		}
		if exists(p) {
			continue
		}
		name, tags := models.ParseKeyBytesWithTags(key, tags[:0])
		if maxSeries > 0 && count >= maxSeries {
			admitted[string(key)] = false
			// InfluxDB 1.8's own text (inmem index), so clients match one string.
			drops.add(1, fmt.Sprintf("max-series-per-database limit exceeded: (%d)", maxSeries))
			refused = append(refused, i)
			continue
		}
		reason := ""
		if maxValues > 0 {
			for _, t := range tags {
				vkey = append(append(append(vkey[:0], name...), 0), t.Key...)
				set := g.values[string(vkey)]
				if set == nil {
					if shards == nil {
						shards = e.openShards(dbi)
					}
					set = e.loadTagValues(shards, name, t.Key)
					g.values[string(vkey)] = set
					g.nvalues += len(set)
				}
				if _, ok := set[string(t.Value)]; !ok && len(set) >= maxValues {
					reason = fmt.Sprintf("max-values-per-tag limit exceeded (%d/%d): measurement=%q tag=%q value=%q",
						len(set), maxValues, name, t.Key, t.Value)
					break
				}
			}
		}
		if reason != "" {
			admitted[string(key)] = false
			drops.add(1, reason)
			refused = append(refused, i)
			continue
		}
		if maxValues > 0 {
			for _, t := range tags {
				vkey = append(append(append(vkey[:0], name...), 0), t.Key...)
				set := g.values[string(vkey)]
				if _, ok := set[string(t.Value)]; !ok {
					set[string(t.Value)] = struct{}{}
					g.nvalues++
				}
			}
		}
		admitted[string(key)] = true
		count++
	}
	return refused, true
}

// loadTagValues reads the values of a measurement's tag key from the
// index of every live shard.
func (e *Engine) loadTagValues(shards []*tsdb.Shard, name, key []byte) map[string]struct{} {
	set := map[string]struct{}{}
	for _, sh := range shards {
		idx, err := sh.Index()
		if err != nil {
			continue
		}
		itr, err := idx.TagValueIterator(name, key)
		if err != nil || itr == nil {
			continue
		}
		for {
			v, err := itr.Next()
			if err != nil || v == nil {
				break
			}
			set[string(v)] = struct{}{}
		}
		itr.Close()
	}
	return set
}
