package embedded

import (
	"bytes"
	"errors"
	"math"
	"time"

	"github.com/influxdata/influxdb/models"
	"github.com/influxdata/line-protocol/v2/lineprotocol"

	"github.com/kodo-project/kodo/lineproto"
)

// batchPoint is a models.Point read straight from a parsed batch: its
// series key in InfluxDB's form (the one thing encoded) and the batch's
// parsed field values. A trusted write (trusted.go) hands these to the
// storage engine, which reads only Key, Time and the field iterator, so
// no field is formatted as text and parsed back. Everything else, and a
// shard's own path, gets the point InfluxDB parses from the point's line
// (model), built on first use.
//
// Only a point that toModelPoints could also convert byte for byte
// (plain names and strings, well inside the key limit) becomes a
// batchPoint, so both forms give the engine the same key, fields, types
// and values (TestToModelPointsMatchesParse).
type batchPoint struct {
	lp   lineproto.Point // aliases the batch
	key  []byte          // aliases the conversion's buffer
	size int             // bound of the field set's length as text
	it   int             // the iterator's current field, plus one
	m    models.Point    // the parsed point, once built
}

var _ models.Point = (*batchPoint)(nil)

// model returns the point as InfluxDB parses it from its line.
func (p *batchPoint) model() models.Point {
	if p.m == nil {
		pt, _, err := convertPoint(nil, p.lp, nil)
		if err != nil {
			// Not reached: the point passed the checks that make it
			// convertible. Its methods still answer, with the reason.
			pt = models.MustNewPoint("unconvertible", nil, models.Fields{"error": err.Error()}, time.Unix(0, p.lp.Time))
		}
		p.m = pt
	}
	return p.m
}

// modelPoints returns pts with every batchPoint replaced by its parsed
// point, in memory of their own: what a shard's own path must get, since
// its index may keep slices of the points. A point that does not convert
// (not reached: see model) is left out and counted in dropped.
func modelPoints(pts []models.Point) (out []models.Point, dropped int, reason string) {
	out = make([]models.Point, 0, len(pts))
	size := 0
	for _, p := range pts {
		if bp, ok := p.(*batchPoint); ok {
			size += len(bp.key) + bp.size + 32
		}
	}
	buf := make([]byte, 0, size)
	slab := newPointSlab(len(pts))
	for _, p := range pts {
		bp, ok := p.(*batchPoint)
		if !ok {
			out = append(out, p)
			continue
		}
		if bp.m == nil {
			pt, out, err := convertPoint(buf, bp.lp, slab)
			buf = out
			if err != nil {
				dropped++
				if reason == "" {
					reason = err.Error()
				}
				continue
			}
			bp.m = pt
		}
		out = append(out, bp.m)
	}
	return out, dropped, reason
}

// What the storage engine's write reads, from the batch.

func (p *batchPoint) Key() []byte {
	if p.m != nil {
		return p.m.Key()
	}
	return p.key
}

func (p *batchPoint) Time() time.Time {
	if p.m != nil {
		return p.m.Time()
	}
	return time.Unix(0, p.lp.Time).UTC()
}

func (p *batchPoint) UnixNano() int64 {
	if p.m != nil {
		return p.m.UnixNano()
	}
	return p.lp.Time
}

// Name is the measurement, which is plain: its unescaped form is itself.
func (p *batchPoint) Name() []byte {
	if p.m != nil {
		return p.m.Name()
	}
	return p.lp.Measurement
}

func (p *batchPoint) FieldIterator() models.FieldIterator {
	if p.m != nil {
		return p.m.FieldIterator()
	}
	p.it = 0
	return p
}

func (p *batchPoint) Next() bool {
	if p.it >= len(p.lp.Fields) {
		return false
	}
	p.it++
	return true
}

func (p *batchPoint) field() *lineproto.Field { return &p.lp.Fields[p.it-1] }

func (p *batchPoint) FieldKey() []byte { return p.field().Key }

// Type is the field's type in InfluxDB 1.x, which stores unsigned values
// as integers (tsengine.LineOptions.UnsignedAsInt).
func (p *batchPoint) Type() models.FieldType {
	_, t := kindTypes(p.field().Value.Kind())
	return t
}

// StringValue copies: the engine's cache keeps it, and the batch is
// reused.
func (p *batchPoint) StringValue() string { return p.field().Value.StringV() }

var errFieldType = errors.New("field is not of this type")

func (p *batchPoint) IntegerValue() (int64, error) {
	v := p.field().Value
	switch v.Kind() {
	case lineprotocol.Int:
		return v.IntV(), nil
	case lineprotocol.Uint:
		if u := v.UintV(); u <= math.MaxInt64 {
			return int64(u), nil
		}
	}
	return 0, errFieldType
}

func (p *batchPoint) UnsignedValue() (uint64, error) {
	v := p.field().Value
	switch v.Kind() {
	case lineprotocol.Uint:
		return v.UintV(), nil
	case lineprotocol.Int:
		if i := v.IntV(); i >= 0 {
			return uint64(i), nil
		}
	}
	return 0, errFieldType
}

func (p *batchPoint) BooleanValue() (bool, error) {
	v := p.field().Value
	if v.Kind() != lineprotocol.Bool {
		return false, errFieldType
	}
	return v.BoolV(), nil
}

func (p *batchPoint) FloatValue() (float64, error) {
	v := p.field().Value
	if v.Kind() != lineprotocol.Float {
		return 0, errFieldType
	}
	return v.FloatV(), nil
}

func (p *batchPoint) Reset() { p.it = 0 }

// The rest of models.Point, from the parsed point.

func (p *batchPoint) SetName(name string)                  { p.model().SetName(name) }
func (p *batchPoint) Tags() models.Tags                    { return p.model().Tags() }
func (p *batchPoint) ForEachTag(fn func(k, v []byte) bool) { p.model().ForEachTag(fn) }
func (p *batchPoint) AddTag(key, value string)             { p.model().AddTag(key, value) }
func (p *batchPoint) SetTags(tags models.Tags)             { p.model().SetTags(tags) }
func (p *batchPoint) HasTag(tag []byte) bool               { return p.model().HasTag(tag) }
func (p *batchPoint) Fields() (models.Fields, error)       { return p.model().Fields() }
func (p *batchPoint) SetTime(t time.Time)                  { p.model().SetTime(t) }
func (p *batchPoint) HashID() uint64                       { return p.model().HashID() }
func (p *batchPoint) String() string                       { return p.model().String() }
func (p *batchPoint) MarshalBinary() ([]byte, error)       { return p.model().MarshalBinary() }
func (p *batchPoint) PrecisionString(precision string) string {
	return p.model().PrecisionString(precision)
}
func (p *batchPoint) RoundedString(d time.Duration) string { return p.model().RoundedString(d) }
func (p *batchPoint) Split(size int) []models.Point        { return p.model().Split(size) }
func (p *batchPoint) Round(d time.Duration)                { p.model().Round(d) }
func (p *batchPoint) StringSize() int                      { return p.model().StringSize() }
func (p *batchPoint) AppendString(buf []byte) []byte       { return p.model().AppendString(buf) }

// keyMemo remembers the series keys of recent distinct series of a
// batch: a batch names few series many times, and encoding a key
// (checking, sorting and escaping every name) costs more than finding
// it again. Only plain keys are kept. The zero value is ready to use.
type keyMemo struct {
	slots [64]struct {
		p   lineproto.Point // the point that gave the key (its series)
		key []byte
	}
}

// get returns the key of p's series, if remembered.
func (m *keyMemo) get(p lineproto.Point) []byte {
	s := &m.slots[seriesHash(p)%uint64(len(m.slots))]
	if s.key == nil || !sameSeriesOf(s.p, p) {
		return nil
	}
	return s.key
}

func (m *keyMemo) put(p lineproto.Point, key []byte) {
	s := &m.slots[seriesHash(p)%uint64(len(m.slots))]
	s.p, s.key = p, key
}

// seriesHash is FNV-1a over the measurement and the tag values.
func seriesHash(p lineproto.Point) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range p.Measurement {
		h = (h ^ uint64(c)) * 1099511628211
	}
	for _, t := range p.Tags {
		h = (h ^ 0xff) * 1099511628211
		for _, c := range t.Value {
			h = (h ^ uint64(c)) * 1099511628211
		}
	}
	return h
}

func sameSeriesOf(a, b lineproto.Point) bool {
	if len(a.Tags) != len(b.Tags) || !bytes.Equal(a.Measurement, b.Measurement) {
		return false
	}
	for i := range a.Tags {
		if !bytes.Equal(a.Tags[i].Key, b.Tags[i].Key) || !bytes.Equal(a.Tags[i].Value, b.Tags[i].Value) {
			return false
		}
	}
	return true
}
