package lineproto

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/influxdata/line-protocol/v2/lineprotocol"
)

// PointError reports why Append or AddPoint refused a point.
type PointError struct {
	Measurement string
	Msg         string
}

func (e *PointError) Error() string {
	if e.Measurement == "" {
		return "lineproto: invalid point: " + e.Msg
	}
	return fmt.Sprintf("lineproto: invalid point %q: %s", e.Measurement, e.Msg)
}

var timeKey = []byte("time")

// Append copies p into the batch. Tags are sorted; tags with an empty
// value are dropped (as influxd does when it builds a series key); a
// duplicate field key keeps the last value. It fails, leaving the batch
// unchanged, when p cannot be written as line protocol that reads back
// the same: empty measurement, no fields, an empty or invalid UTF-8 key,
// a duplicate tag key, a "time" tag key, a newline or trailing backslash
// in a name, or a time outside [MinTime, MaxTime].
func (b *Batch) Append(p Point) error {
	if msg := nameProblem("measurement", p.Measurement); msg != "" {
		return &PointError{Measurement: string(p.Measurement), Msg: msg}
	}
	if p.Measurement[0] == '#' || p.Measurement[0] == '\t' {
		// A line starting with # is a comment and leading tabs are
		// skipped, so such a name would not read back.
		return &PointError{Measurement: string(p.Measurement), Msg: fmt.Sprintf("measurement may not start with %q", p.Measurement[0])}
	}
	if p.Time < MinTime || p.Time > MaxTime {
		return &PointError{Measurement: string(p.Measurement), Msg: fmt.Sprintf("time %d is outside the range InfluxDB accepts", p.Time)}
	}
	need := len(p.Measurement)
	for _, t := range p.Tags {
		if len(t.Value) == 0 {
			continue
		}
		if msg := nameProblem("tag key", t.Key); msg != "" {
			return &PointError{Measurement: string(p.Measurement), Msg: msg}
		}
		if bytes.Equal(t.Key, timeKey) {
			return &PointError{Measurement: string(p.Measurement), Msg: `tag key "time" is not allowed`}
		}
		if msg := nameProblem("tag value", t.Value); msg != "" {
			// Name the tag only on failure: building the text for every
			// tag allocated on the hot path.
			msg = strings.Replace(msg, "tag value", "value of tag "+quote(t.Key), 1)
			return &PointError{Measurement: string(p.Measurement), Msg: msg}
		}
		need += len(t.Key) + len(t.Value)
	}
	if len(p.Fields) == 0 {
		return &PointError{Measurement: string(p.Measurement), Msg: "a point needs at least one field"}
	}
	for _, f := range p.Fields {
		if msg := nameProblem("field key", f.Key); msg != "" {
			return &PointError{Measurement: string(p.Measurement), Msg: msg}
		}
		need += len(f.Key)
		if f.Value.Kind() == lineprotocol.String {
			s := f.Value.BytesV()
			if !utf8.Valid(s) {
				return &PointError{Measurement: string(p.Measurement), Msg: fmt.Sprintf("string value of field %s is not valid UTF-8", quote(f.Key))}
			}
			need += len(s)
		}
	}

	np, nt, nf := len(b.points), len(b.tags), len(b.fields)
	b.reserve(need)
	rec := pointRec{measurement: b.copyBytes(p.Measurement), tagStart: nt, fieldStart: nf, time: p.Time}
	for _, t := range p.Tags {
		if len(t.Value) == 0 {
			continue
		}
		b.tags = append(b.tags, Tag{Key: b.copyBytes(t.Key), Value: b.copyBytes(t.Value)})
	}
	for _, f := range p.Fields {
		v := f.Value
		if v.Kind() == lineprotocol.String {
			// Cannot fail: the bytes were checked above.
			v, _ = lineprotocol.NewValueFromBytes(lineprotocol.String, b.copyBytes(f.Value.BytesV()))
		}
		b.fields = append(b.fields, Field{Key: b.copyBytes(f.Key), Value: v})
	}
	sortTags(b.tags[nt:], nil)
	if k := dupTag(b.tags[nt:]); k >= 0 {
		key := string(b.tags[nt+k].Key)
		b.truncate(np, nt, nf)
		return &PointError{Measurement: string(p.Measurement), Msg: fmt.Sprintf("duplicate tag key %q", key)}
	}
	b.dedupFields(nf)
	if !b.dropTimeField(nf) {
		b.truncate(np, nt, nf)
		return &PointError{Measurement: string(p.Measurement), Msg: `field key "time" is not allowed and the point has no other field`}
	}
	rec.tagEnd, rec.fieldEnd = len(b.tags), len(b.fields)
	b.points = append(b.points, rec)
	return nil
}

// AddPoint is Append for callers holding Go values. Field values may be
// any signed integer type (Int), uint64 or uint (Uint), a smaller unsigned
// integer (Int), float32/float64 (Float, finite only), bool, string,
// []byte or a lineprotocol.Value. A zero t means time.Now().
func (b *Batch) AddPoint(measurement string, tags map[string]string, fields map[string]any, t time.Time) error {
	if t.IsZero() {
		t = time.Now()
	}
	if t.Before(minTimeValue) || t.After(maxTimeValue) {
		return &PointError{Measurement: measurement, Msg: fmt.Sprintf("time %s is outside the range InfluxDB accepts", t.Format(time.RFC3339Nano))}
	}
	p := Point{Measurement: []byte(measurement), Time: t.UnixNano()}
	p.Tags = make([]Tag, 0, len(tags))
	for k, v := range tags {
		p.Tags = append(p.Tags, Tag{Key: []byte(k), Value: []byte(v)})
	}
	p.Fields = make([]Field, 0, len(fields))
	for k, x := range fields {
		v, err := toValue(x)
		if err != nil {
			return &PointError{Measurement: measurement, Msg: fmt.Sprintf("field %q: %v", k, err)}
		}
		p.Fields = append(p.Fields, Field{Key: []byte(k), Value: v})
	}
	// Map order is random; sort so the encoding is deterministic.
	slices.SortFunc(p.Fields, func(a, b Field) int { return bytes.Compare(a.Key, b.Key) })
	return b.Append(p)
}

var (
	minTimeValue = time.Unix(0, MinTime)
	maxTimeValue = time.Unix(0, MaxTime)
)

func toValue(x any) (lineprotocol.Value, error) {
	switch x := x.(type) {
	case int:
		return lineprotocol.IntValue(int64(x)), nil
	case int8:
		return lineprotocol.IntValue(int64(x)), nil
	case int16:
		return lineprotocol.IntValue(int64(x)), nil
	case int32:
		return lineprotocol.IntValue(int64(x)), nil
	case int64:
		return lineprotocol.IntValue(x), nil
	case uint8:
		return lineprotocol.IntValue(int64(x)), nil
	case uint16:
		return lineprotocol.IntValue(int64(x)), nil
	case uint32:
		return lineprotocol.IntValue(int64(x)), nil
	case uint:
		return lineprotocol.UintValue(uint64(x)), nil
	case uint64:
		return lineprotocol.UintValue(x), nil
	case float32:
		return floatValue(float64(x))
	case float64:
		return floatValue(x)
	case bool:
		return lineprotocol.BoolValue(x), nil
	case string:
		v, ok := lineprotocol.StringValue(x)
		if !ok {
			return v, errors.New("string value is not valid UTF-8")
		}
		return v, nil
	case []byte:
		v, ok := lineprotocol.StringValueFromBytes(x)
		if !ok {
			return v, errors.New("string value is not valid UTF-8")
		}
		return v, nil
	case lineprotocol.Value:
		return x, nil
	case nil:
		return lineprotocol.Value{}, errors.New("nil value")
	}
	return lineprotocol.Value{}, fmt.Errorf("unsupported type %T (want an integer, float, bool, string or []byte)", x)
}

func floatValue(f float64) (lineprotocol.Value, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return lineprotocol.Value{}, fmt.Errorf("%v cannot be stored (InfluxDB accepts finite floats only)", f)
	}
	v, _ := lineprotocol.FloatValue(f)
	return v, nil
}

func quote(s []byte) string {
	const max = 64
	if len(s) > max {
		return fmt.Sprintf("%q...", s[:max])
	}
	return fmt.Sprintf("%q", s)
}

// sortTags sorts tags by key with an insertion sort, moving pos (byte
// offsets of each tag in its line, may be nil) along. Writers usually send
// sorted tags, so this is linear in practice and needs no allocation.
// Unsorted tags are sorted in a copy on the stack and copied back once:
// while the collector runs, every store of a Tag into the heap pays a
// write barrier, and one bulk copy pays it once instead of per move.
func sortTags(tags []Tag, pos []int32) {
	i := 1
	for i < len(tags) && !keyLess(tags[i].Key, tags[i-1].Key) {
		i++
	}
	if i >= len(tags) {
		return
	}
	var stack [32]Tag
	s := tags
	if len(tags) <= len(stack) {
		s = stack[:len(tags)]
		copy(s, tags)
	}
	for ; i < len(s); i++ {
		if !keyLess(s[i].Key, s[i-1].Key) {
			continue
		}
		t := s[i]
		j := i - 1
		for j > 0 && keyLess(t.Key, s[j-1].Key) {
			j--
		}
		copy(s[j+1:i+1], s[j:i])
		s[j] = t
		if pos != nil {
			p := pos[i]
			copy(pos[j+1:i+1], pos[j:i])
			pos[j] = p
		}
	}
	if len(tags) <= len(stack) {
		copy(tags, s)
	}
}

// keyLess is bytes.Compare(a, b) < 0, deciding on the first byte inline
// when it differs (most tag keys do).
func keyLess(a, b []byte) bool {
	if len(a) > 0 && len(b) > 0 && a[0] != b[0] {
		return a[0] < b[0]
	}
	return bytes.Compare(a, b) < 0
}

// dupTag returns the index of the second of two equal keys in sorted tags,
// or -1.
func dupTag(tags []Tag) int {
	for i := 1; i < len(tags); i++ {
		if bytes.Equal(tags[i].Key, tags[i-1].Key) {
			return i
		}
	}
	return -1
}

// dedupFields removes repeated keys among b.fields[start:]: the first
// occurrence keeps its position and takes the last value, as influxd's
// "last one wins".
func (b *Batch) dedupFields(start int) {
	fs := b.fields[start:]
	n := len(fs)
	if n < 2 {
		return
	}
	if n <= 32 {
		// seen has a bit per (length, first byte, last byte) class of the
		// keys kept so far: a key whose bit is clear cannot be a repeat,
		// which skips the comparisons for nearly every field.
		var seen uint64
		kept := 0
	outer:
		for i := 0; i < n; i++ {
			key := fs[i].Key
			bit := uint64(1) << ((uint(len(key)) ^ uint(key[0])*7 ^ uint(key[len(key)-1])*13) & 63)
			if seen&bit != 0 {
				for k := 0; k < kept; k++ {
					if bytes.Equal(fs[k].Key, key) {
						fs[k].Value, fs[k].Text = fs[i].Value, fs[i].Text
						continue outer
					}
				}
			}
			seen |= bit
			if kept != i {
				fs[kept] = fs[i]
			}
			kept++
		}
		if kept != n {
			clear(fs[kept:])
			b.fields = b.fields[:start+kept]
		}
		return
	}
	// Many fields: sort indices by (key, position) and fold each run.
	b.order = b.order[:0]
	for i := range fs {
		b.order = append(b.order, int32(i))
	}
	slices.SortFunc(b.order, func(x, y int32) int {
		if c := bytes.Compare(fs[x].Key, fs[y].Key); c != 0 {
			return c
		}
		return int(x - y)
	})
	dups := false
	for i := 1; i < len(b.order); i++ {
		first, cur := b.order[i-1], b.order[i]
		if fs[first].Key != nil && bytes.Equal(fs[first].Key, fs[cur].Key) {
			// Carry the run's first index forward so the value lands there.
			fs[first].Value, fs[first].Text = fs[cur].Value, fs[cur].Text
			fs[cur].Key = nil
			b.order[i] = first
			dups = true
		}
	}
	if !dups {
		return
	}
	kept := 0
	for i := range fs {
		if fs[i].Key != nil {
			fs[kept] = fs[i]
			kept++
		}
	}
	clear(fs[kept:])
	b.fields = b.fields[:start+kept]
}

// dropTimeField removes fields named "time" from b.fields[start:], as the
// 1.x shard does, and reports whether any field is left.
func (b *Batch) dropTimeField(start int) bool {
	fs := b.fields[start:]
	kept := 0
	for i := range fs {
		if len(fs[i].Key) == 4 && string(fs[i].Key) == "time" {
			continue
		}
		if kept != i {
			fs[kept] = fs[i]
		}
		kept++
	}
	if kept != len(fs) {
		clear(fs[kept:])
		b.fields = b.fields[:start+kept]
	}
	return kept > 0
}

// String renders p as one line of canonical line protocol (nanosecond
// timestamps, no trailing newline); meant for logs and test failures.
func (p Point) String() string {
	var sb strings.Builder
	sb.Write(appendPoint(nil, &p, 1))
	return strings.TrimSuffix(sb.String(), "\n")
}
