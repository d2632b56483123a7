package embedded

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/influxdata/influxdb/models"
	"github.com/influxdata/influxdb/services/meta"
	"github.com/influxdata/influxdb/tsdb"

	"github.com/kodo-project/kodo/lineproto"
	"github.com/kodo-project/kodo/storage/tsengine"
)

// dropTally accumulates refused points and their distinct reasons.
type dropTally struct {
	n       int
	reasons []string
	more    int   // distinct reasons past maxDropReasons
	refused []int // batch indices of the refused points
	unknown bool  // some refused points cannot be told (a shard refused them)
}

// refuse counts batch point i as refused.
func (d *dropTally) refuse(i int, reason string) {
	d.add(1, reason)
	d.refused = append(d.refused, i)
}

// maxDropReasons bounds the distinct reasons kept (each names a point's
// field or tag value, so a hostile batch could hold thousands).
const maxDropReasons = 5

// add counts n refused points; an empty reason counts them only.
func (d *dropTally) add(n int, reason string) {
	if n <= 0 {
		return
	}
	d.n += n
	if reason == "" {
		return
	}
	for _, r := range d.reasons {
		if r == reason {
			return
		}
	}
	if len(d.reasons) < maxDropReasons {
		d.reasons = append(d.reasons, reason)
	} else {
		d.more++
	}
}

func (d *dropTally) err() error {
	if d.n == 0 {
		return nil
	}
	reason := strings.Join(d.reasons, "; ")
	if d.more > 0 {
		reason += fmt.Sprintf("; and %d other reasons", d.more)
	}
	pwe := &tsengine.PartialWriteError{Dropped: d.n, Reason: reason}
	if !d.unknown && len(d.refused) == d.n {
		pwe.Refused = slices.Clone(d.refused)
		slices.Sort(pwe.Refused)
	}
	return pwe
}

// toModelPoints converts a batch into InfluxDB points without printing
// and re-parsing it. A point whose names and strings are plain becomes a
// batchPoint: its series key encoded by lineproto (the bytes InfluxDB's
// parser derives from its line) in sc's buffer, its fields the batch's
// parsed values. Any other point the fast path can vouch for byte for
// byte is encoded into the binary form models.NewPointFromBytes reads
// (fastPoint); the rest (an escaped name, which the 1.x parser may
// re-sort, a quote in a name, a key near the 64 KiB limit) go through
// models.ParsePointsWithPrecision as a line. Either way the engine gets
// what parsing the line would give (TestToModelPointsMatchesParse).
//
// The batchPoints live in sc (a fresh scratch when sc is nil), which the
// next batch may reuse once the write returns: a shard's own path gets
// parsed copies of them (modelPoints), the storage engine copies what it
// keeps. The other points have memory of their own.
func toModelPoints(b *lineproto.Batch, drops *dropTally, sc *convScratch) ([]models.Point, origin) {
	n := b.Len()
	if n == 0 {
		return nil, nil
	}
	if sc == nil {
		sc = new(convScratch)
	}
	pts := sc.pts[:0]
	if cap(pts) < n {
		pts = make([]models.Point, 0, n)
	}
	if cap(sc.points) < n {
		sc.points = make([]batchPoint, n)
	}
	bps := sc.points[:n]
	var org origin // nil while pts[k] is point k of b
	keys := sc.buf[:0]
	var own []byte      // the other points' binary forms
	var slab *pointSlab // and the points, made on the first
	var memo keyMemo
	var fc lineproto.FieldChecker
	for i := 0; i < n; i++ {
		p := b.At(i)
		var pt models.Point
		start := len(keys)
		var err error
		key := memo.get(p)
		plain, hit := key != nil, key != nil
		if !hit {
			keys, plain, err = lineproto.AppendKey(keys, p)
			key = keys[start:len(keys):len(keys)]
		}
		if err == nil {
			fplain, size, ferr := fc.Check(p, tsengine.LineOptions)
			switch {
			case ferr != nil:
				err = ferr
			case plain && fplain && len(key)+4+size <= models.MaxKeyLength &&
				p.Time >= models.MinNanoTime && p.Time <= models.MaxNanoTime:
				if !hit {
					memo.put(p, key)
				}
				bps[i] = batchPoint{lp: p, key: key, size: size}
				pt = &bps[i]
			}
		}
		if pt == nil {
			keys = keys[:start] // nothing of it kept (a hit appended nothing)
		}
		if err == nil && pt == nil {
			if slab == nil {
				slab = newPointSlab(n - i)
			}
			pt, own, err = convertPoint(own, p, slab)
		}
		if err != nil {
			drops.refuse(i, err.Error())
			if org == nil {
				org = make(origin, len(pts), n)
				for k := range org {
					org[k] = k
				}
			}
			continue
		}
		if org != nil {
			org = append(org, i)
		}
		pts = append(pts, pt)
	}
	sc.buf, sc.pts = keys[:0], pts[:0]
	return pts, org
}

// convScratch is the memory of one conversion: the series keys, the
// batchPoints and the list of points.
type convScratch struct {
	buf    []byte
	points []batchPoint
	pts    []models.Point
}

// scratchPool holds the scratches of finished writes.
var scratchPool sync.Pool

// maxPooledScratch bounds the memory a pooled scratch keeps, so one huge
// batch does not pin it in the pool.
const maxPooledScratch = 8 << 20

func getScratch() *convScratch {
	if sc, ok := scratchPool.Get().(*convScratch); ok {
		return sc
	}
	return new(convScratch)
}

// putScratch pools sc once nothing uses its points.
func putScratch(sc *convScratch) {
	if cap(sc.buf) > maxPooledScratch || cap(sc.points)*int(unsafe.Sizeof(batchPoint{})) > maxPooledScratch {
		return
	}
	clear(sc.points[:cap(sc.points)]) // let go of the batch and parsed points
	clear(sc.pts[:cap(sc.pts)])
	scratchPool.Put(sc)
}

// origin maps the points being written back to their batch indices; nil
// means the identity.
type origin []int

func (o origin) at(k int) int {
	if o == nil {
		return k
	}
	return o[k]
}

// compact removes the points at the ascending positions refused from pts
// and their origin, recording the refused batch indices in drops.
func compact(pts []models.Point, o origin, refused []int, drops *dropTally) ([]models.Point, origin) {
	if len(refused) == 0 {
		return pts, o
	}
	out := make([]models.Point, 0, len(pts)-len(refused))
	outOrg := make(origin, 0, len(pts)-len(refused))
	r := 0
	for k, p := range pts {
		if r < len(refused) && refused[r] == k {
			drops.refused = append(drops.refused, o.at(k))
			r++
			continue
		}
		out = append(out, p)
		outOrg = append(outOrg, o.at(k))
	}
	return out, outOrg
}

// fastPoint appends p to buf in the binary form of a models.Point and
// returns the point (taken from slab), or a nil point (buf unchanged) when
// p must take the parser's path, or an error when 1.x cannot express p at
// all.
// fieldOptions: the binary point is read back by strconv.ParseFloat alone,
// so a parsed float's own text serves (lineproto.EncodeOptions.FloatText).
var fieldOptions = func() lineproto.EncodeOptions {
	o := tsengine.LineOptions
	o.FloatText = true
	return o
}()

func fastPoint(buf []byte, p lineproto.Point, slab *pointSlab) (models.Point, []byte, error) {
	start := len(buf)
	buf = append(buf, 0, 0, 0, 0)
	buf, plainKey, err := lineproto.AppendKey(buf, p)
	if err != nil {
		return nil, buf[:start], err
	}
	keyLen := len(buf) - start - 4
	buf = append(buf, 0, 0, 0, 0)
	fieldStart := len(buf)
	buf, plainFields, err := lineproto.AppendFields(buf, p, fieldOptions)
	if err != nil {
		return nil, buf[:start], err
	}
	fieldsLen := len(buf) - fieldStart
	// An escaped name may make the parser re-sort the tags (it compares
	// escaped keys); quotes in names confuse its field scanner. The limit
	// check is conservative: the field set is longer than any field key.
	if !plainKey || !plainFields || keyLen+4+fieldsLen > models.MaxKeyLength ||
		p.Time < models.MinNanoTime || p.Time > models.MaxNanoTime {
		return nil, buf[:start], nil
	}
	binary.BigEndian.PutUint32(buf[start:], uint32(keyLen))
	binary.BigEndian.PutUint32(buf[fieldStart-4:], uint32(fieldsLen))
	if buf, err = time.Unix(0, p.Time).UTC().AppendBinary(buf); err != nil {
		return nil, buf[:start], nil
	}
	pt, err := slab.point(buf[start:len(buf):len(buf)])
	if err != nil {
		return nil, buf[:start], nil
	}
	return pt, buf, nil
}

// pointSlab hands out models.Points decoded from their binary form. Where
// it can, it skips what models.NewPointFromBytes adds to the decoding: a
// pass that parses every field value back (a sixth of the conversion's
// CPU) to check text fastPoint has just formatted from parsed values, and
// one allocation per point: the points of a batch share one array.
type pointSlab struct {
	arr  reflect.Value // []point, the concrete type behind models.Point
	next int
}

// pointType is models' concrete point type when it decodes itself
// (encoding.BinaryUnmarshaler, as in 1.8); nil makes every slab fall back
// to models.NewPointFromBytes.
var pointType = func() reflect.Type {
	pt := models.MustNewPoint("m", nil, models.Fields{"f": 1.0}, time.Unix(0, 0))
	t := reflect.TypeOf(pt)
	if t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct {
		return nil
	}
	if _, ok := reflect.New(t.Elem()).Interface().(binaryPoint); !ok {
		return nil
	}
	return t.Elem()
}()

type binaryPoint interface {
	models.Point
	UnmarshalBinary([]byte) error
}

// newPointSlab returns a slab of n points, or nil (every point
// allocated) when models' point type cannot decode itself.
func newPointSlab(n int) *pointSlab {
	if pointType == nil {
		return nil
	}
	return &pointSlab{arr: reflect.MakeSlice(reflect.SliceOf(pointType), n, n)}
}

// point decodes b, which must hold a key, a field set of values formatted
// by influxlp and a time, into the slab's next point.
func (s *pointSlab) point(b []byte) (models.Point, error) {
	if s == nil || s.next == s.arr.Len() {
		return models.NewPointFromBytes(b)
	}
	pt := s.arr.Index(s.next).Addr().Interface().(binaryPoint)
	if err := pt.UnmarshalBinary(b); err != nil {
		return nil, err
	}
	s.next++
	return pt, nil
}

// convertPoint converts p as InfluxDB parses its line: by fastPoint
// (appending to buf, the point from slab) where it can vouch for the
// bytes, else by parsePoint.
func convertPoint(buf []byte, p lineproto.Point, slab *pointSlab) (models.Point, []byte, error) {
	pt, buf, err := fastPoint(buf, p, slab)
	if err == nil && pt == nil {
		pt, err = parsePoint(p)
	}
	return pt, buf, err
}

// parsePoint converts p the slow, authoritative way: print its line and
// let InfluxDB's parser read it (refusing, e.g., a key over 64 KiB).
func parsePoint(p lineproto.Point) (models.Point, error) {
	line, err := lineproto.AppendPoint(nil, p, tsengine.LineOptions)
	if err != nil {
		return nil, err
	}
	got, err := models.ParsePointsWithPrecision(line, time.Now().UTC(), "n")
	if err != nil {
		return nil, errors.New(strings.TrimPrefix(err.Error(), "unable to parse "))
	}
	if len(got) != 1 {
		return nil, fmt.Errorf("the line of the point reads as %d points", len(got))
	}
	return got[0], nil
}

// WritePoints stores b into db.rp (rp "" = the default policy) and returns
// once every stored point is in its shard's WAL and fsynced. Refused points
// (older than the policy, field type conflicts, points 1.x cannot express)
// are reported together in one *tsengine.PartialWriteError.
func (e *Engine) WritePoints(ctx context.Context, db, rp string, b *lineproto.Batch) error {
	err := e.writePoints(ctx, db, rp, b)
	if e.reopen.Load() {
		// InfluxDB failed for lack of space: reopen before answering, so
		// the failed points leave the cache (diskfull.go).
		if rerr := e.recoverStore(); rerr != nil {
			e.log.Warn("data store not reopened yet after a full disk; the next call retries", "err", rerr)
		}
	}
	return err
}

func (e *Engine) writePoints(ctx context.Context, db, rp string, b *lineproto.Batch) error {
	if err := e.enterSound(); err != nil {
		return err
	}
	defer e.leave()
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("embedded: write: %w", err)
	}
	dbi := e.meta.Database(db)
	if dbi == nil {
		return fmt.Errorf("embedded: %w: %q", tsengine.ErrDatabaseNotFound, db)
	}
	if rp == "" {
		rp = dbi.DefaultRetentionPolicy
	}
	if dbi.RetentionPolicy(rp) == nil {
		return fmt.Errorf("embedded: %w: %q on database %q", tsengine.ErrRetentionPolicyNotFound, rp, db)
	}
	if b == nil || b.Len() == 0 {
		return nil
	}
	if err := e.checkSpace(); err != nil {
		return err
	}
	var drops dropTally
	// The conversion's memory serves the next batch once this write is
	// done: nothing that outlives it holds a batchPoint.
	sc := getScratch()
	defer putScratch(sc)
	pts, org := toModelPoints(b, &drops, sc)
	if len(pts) == 0 {
		return drops.err()
	}
	// Points older than the policy go first, so the guards below neither
	// reserve their field types nor count their series.
	pts, org = compact(pts, org, dropExpired(dbi.RetentionPolicy(rp), pts, &drops), &drops)
	if len(pts) == 0 {
		return drops.err()
	}
	// Cardinality, then field types across shards: refused points never
	// reach a shard (nor create a shard group). In this order a point
	// refused for a limit reserves no field type; only a later refusal
	// (the shard limit, a failed shard) makes the reservations suspect.
	g := e.guard(db)
	maxSeries, maxValues := e.writeLimits(tsengine.WriteLimitsFrom(ctx))
	refused, locked := e.checkCardinality(g, dbi, pts, maxSeries, maxValues, &drops)
	if locked {
		defer g.series.Unlock()
	}
	if pts, org = compact(pts, org, refused, &drops); len(pts) == 0 {
		return drops.err()
	}
	var sets []fieldSet
	refused, sets = e.checkFields(g, dbi, pts, b, org, &drops)
	if pts, org = compact(pts, org, refused, &drops); len(pts) == 0 {
		return drops.err()
	}
	ok := false
	defer func() {
		if !ok {
			// Some reserved field may not exist after all: reload.
			g.forgetFields()
		}
	}()
	// mapShards creates the shard groups and sets aside points older than
	// the policy. The shard writes are done here rather than through
	// PointsWriter.WritePointsPrivileged, which returns at the first shard
	// error (the other shards may not be fsynced yet), keeps only one
	// PartialWriteError and gives up after its own 10s timeout while the
	// write goes on.
	before := drops.n
	shards, unmapped, err := e.mapShards(db, rp, pts, &drops)
	if err != nil {
		return e.writeError(db, rp, err)
	}
	for _, k := range unmapped {
		drops.refused = append(drops.refused, org.at(k))
	}
	trusted := drops.n == before // no point refused for the shard limit
	ids := make([]uint64, len(shards))
	for i := range shards {
		ids[i] = shards[i].shard.ID
	}
	if err := e.useShards(ids); err != nil {
		return err
	}

	var errs []error
	var mu sync.Mutex
	shardRefused := false // the guard's reservations may be wrong: reload them
	g.del.RLock()
	defer g.del.RUnlock()
	write := func(sh *meta.ShardInfo, pts []models.Point) {
		err := e.writeTrusted(g, sh.ID, pts, sets)
		if err == errNotTrusted {
			var dropped int
			var reason string
			pts, dropped, reason = modelPoints(pts)
			if err = e.writeShard(db, rp, sh, pts); err == nil && dropped == 0 {
				g.learn(sh.ID, pts)
			}
			if dropped > 0 {
				mu.Lock()
				drops.add(dropped, reason)
				drops.unknown = true
				mu.Unlock()
			}
		}
		mu.Lock()
		defer mu.Unlock()
		var pwe tsdb.PartialWriteError
		switch {
		case err == nil:
		case errors.As(err, &pwe):
			drops.add(pwe.Dropped, pwe.Reason)
			drops.unknown = true
			shardRefused = true
		case errors.Is(err, tsdb.ErrShardDeletion):
			drops.add(len(pts), fmt.Sprintf("shard %d is being deleted", sh.ID))
			drops.unknown = true
		case errors.Is(err, tsdb.ErrFieldTypeConflict):
			// A type the guard did not know of (written meanwhile by a
			// continuous query): the shard refuses the batch.
			drops.add(len(pts), err.Error())
			drops.unknown = true
			shardRefused = true
		default:
			if isDiskFull(err) {
				e.reopen.Store(true)
			}
			errs = append(errs, fmt.Errorf("shard %d: %w", sh.ID, err))
		}
	}
	var wg sync.WaitGroup
	for i := range shards {
		if len(shards) == 1 {
			write(&shards[i].shard, shards[i].points) // no goroutine for the usual case
			break
		}
		wg.Add(1)
		go func(sp *shardPoints) {
			defer wg.Done()
			write(&sp.shard, sp.points)
		}(&shards[i])
	}
	wg.Wait()
	if len(errs) > 0 {
		return e.writeError(db, rp, errors.Join(errs...))
	}
	ok = trusted && !shardRefused
	return drops.err()
}

// writeShard writes to a shard, creating it on first use as influxd does.
func (e *Engine) writeShard(db, rp string, sh *meta.ShardInfo, pts []models.Point) error {
	err := e.store.WriteToShard(sh.ID, pts)
	if err == tsdb.ErrEngineClosed && e.idleTimeout > 0 {
		// Closed as idle between useShards and here: open it and retry.
		if err := e.reopenShard(sh.ID); err != nil {
			return err
		}
		err = e.store.WriteToShard(sh.ID, pts)
	}
	if err != tsdb.ErrShardNotFound {
		return err
	}
	if err := e.store.CreateShard(db, rp, sh.ID, true); err != nil {
		return err
	}
	return e.store.WriteToShard(sh.ID, pts)
}

// writeError maps InfluxDB's write errors onto tsengine's.
func (e *Engine) writeError(db, rp string, err error) error {
	if isDiskFull(err) {
		e.reopen.Store(true) // e.g. the shard's files could not be created
	}
	if f := faultError(fmt.Sprintf("write to %q.%q", db, rp), err); f != nil {
		return f
	}
	msg := err.Error()
	switch {
	case strings.HasPrefix(msg, "database not found"):
		// The database was dropped while the write ran.
		return fmt.Errorf("embedded: %w: %q", tsengine.ErrDatabaseNotFound, db)
	case strings.HasPrefix(msg, "retention policy not found"):
		return fmt.Errorf("embedded: %w: %q on database %q", tsengine.ErrRetentionPolicyNotFound, rp, db)
	case strings.Contains(msg, "cache-max-memory-size exceeded"):
		// The in-memory cache is full until snapshots catch up: a
		// temporary condition the client should back off from.
		return fmt.Errorf("embedded: %w: write cache full, retry shortly: %v", tsengine.ErrUnavailable, err)
	}
	return fmt.Errorf("embedded: write to %q.%q: %w", db, rp, err)
}

// dropExpired returns the positions of the points older than the
// policy's duration, as the shard mapping would set them aside.
func dropExpired(rpi *meta.RetentionPolicyInfo, pts []models.Point, drops *dropTally) (refused []int) {
	if rpi == nil || rpi.Duration <= 0 {
		return nil
	}
	min := time.Now().Add(-rpi.Duration).UnixNano()
	for k, p := range pts {
		if p.UnixNano() < min {
			drops.add(1, "points beyond retention policy")
			refused = append(refused, k)
		}
	}
	return refused
}
