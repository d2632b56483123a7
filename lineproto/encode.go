package lineproto

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/influxdata/line-protocol/v2/lineprotocol"
)

// This file is Kodo's only line-protocol encoder: the /v1 client, the
// sinks and both time-series engines (embedded InfluxDB 1.8 and remote
// InfluxDB 1.x) write with it, so every path sends the same bytes.
// TestEncodeAgainstInfluxDB18 and FuzzEncodeAgainstInfluxDB18 parse its
// output with InfluxDB 1.8's own parser.

// Escape tables: the bytes a backslash escapes in each position, as
// InfluxDB 1.8 unescapes them (Name and field keys use escape.Unescape,
// tags use unescapeTag). A backslash before any other byte is literal. The
// encoder escapes every byte of the set, so a literal backslash in front of
// one of them (encoded `\\,`) also reads back unchanged in our parser;
// AppendPoint refuses it (see escapeProblem).
var (
	measurementEsc = escSet(`, ="`)
	tagEsc         = escSet(",= ") // tag keys and values
	fieldKeyEsc    = escSet(`, ="`)
)

func escSet(s string) (t [256]bool) {
	for i := 0; i < len(s); i++ {
		t[s[i]] = true
	}
	return t
}

// appendEscaped escapes s into dst; plain reports that no byte of s is
// escaped, a backslash or a quote (see AppendKey).
func appendEscaped(dst, s []byte, esc *[256]bool) (_ []byte, plain bool) {
	start := 0
	plain = true
	for i, c := range s {
		if esc[c] {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', c)
			start = i + 1
			plain = false
		} else if c == '\\' || c == '"' {
			plain = false
		}
	}
	return append(dst, s[start:]...), plain
}

// appendStringField writes a quoted string field value; only `"` and `\`
// are escaped, which is all 1.x unescapes (newlines may appear raw).
func appendStringField(dst, s []byte) (_ []byte, plain bool) {
	dst = append(dst, '"')
	start := 0
	plain = true
	for i, c := range s {
		if c == '"' || c == '\\' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', c)
			start = i + 1
			plain = false
		}
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"'), plain
}

// EncodeOptions say how AppendPoint writes a point.
type EncodeOptions struct {
	// Precision is the unit of the timestamp (truncated toward zero).
	Precision Precision
	// UnsignedAsInt writes unsigned fields as integers ("5i") and refuses
	// values above MaxInt64: InfluxDB 1.x (its server and the embedded
	// engine) reads no "5u" unless built for it. Otherwise they are "5u".
	UnsignedAsInt bool
	// FloatText copies a float as its line spelled it (Field.Text, kept
	// by Parse) instead of formatting it again: a reader that parses it
	// gets the same value, and copying is cheaper. The embedded engine's
	// conversion uses it; text meant for people or other servers does not.
	FloatText bool
}

// AppendPoint appends p as one '\n'-terminated line that InfluxDB 1.x
// reads back as the same point: tags in the order given (a Batch's are
// sorted), tags with an empty value left out (1.x has no empty tags),
// InfluxDB 1.x escaping, floats in the shortest form that round-trips,
// integers with "i", unsigned per opt, and the time in opt.Precision.
//
// A point that no line carries unchanged gets a *PointError and leaves dst
// as it was: an empty or invalid name, a newline in a name, a trailing
// backslash, a backslash just before a byte that must be escaped, a
// measurement starting with '#' (a comment), a tab or a NUL, a field key
// starting with a tab or a NUL, no fields, a duplicate tag key, NaN or
// ±Inf, an unsigned value over MaxInt64 with UnsignedAsInt, a series key
// over 64 KiB (1.x's limit), or a time outside [MinTime, MaxTime].
func AppendPoint(dst []byte, p Point, opt EncodeOptions) ([]byte, error) {
	start := len(dst)
	dst, _, err := AppendKey(dst, p)
	if err != nil {
		return dst, err
	}
	keyLen := len(dst) - start
	dst = append(dst, ' ')
	dst, _, longest, err := appendFields(dst, p, opt)
	if err != nil {
		return dst[:start], err
	}
	if keyLen+4+longest > maxKeyLength { // 4: the engine's field key separator
		return dst[:start], pointErr(p, "series key plus field key is longer than the %d bytes InfluxDB accepts", maxKeyLength)
	}
	if p.Time < MinTime || p.Time > MaxTime {
		return dst[:start], pointErr(p, "time %d is outside the range InfluxDB accepts", p.Time)
	}
	dst = append(dst, ' ')
	dst = strconv.AppendInt(dst, p.Time/opt.Precision.multiplier(), 10)
	return append(dst, '\n'), nil
}

// AppendKey appends the series key of p (escaped measurement and tags,
// the key part of AppendPoint's line) and AppendFields its field set (the
// part between the two spaces). Together they let the embedded engine
// build 1.x points without printing and re-parsing whole lines. They
// refuse a point as AppendPoint does, leaving dst unchanged.
//
// plain reports that the text is simple enough to need no reading back:
// no name holds a space, comma, '=', backslash or quote, and no string
// value a quote or backslash. Only then is the key's tag order (sorted
// unescaped) surely the order the 1.x parser, which compares escaped
// keys, keeps.
func AppendKey(dst []byte, p Point) (out []byte, plain bool, err error) {
	if msg := checkName("measurement", p.Measurement, &measurementEsc); msg != "" {
		return dst, false, pointErr(p, "%s", msg)
	}
	if c := p.Measurement[0]; c == '#' || c == '\t' || c == 0 {
		// A line starting with # is a comment; 1.x skips leading tabs
		// and NULs.
		return dst, false, pointErr(p, "measurement may not start with %q", c)
	}
	tags := p.Tags
	if !slices.IsSortedFunc(tags, compareTags) {
		tags = slices.SortedFunc(slices.Values(tags), compareTags) // rare: not from a Batch
	}
	start := len(dst)
	dst, plain = appendEscaped(dst, p.Measurement, &measurementEsc)
	var prev []byte
	for i, t := range tags {
		if len(t.Value) == 0 {
			continue // 1.x has no empty tag values: an empty tag is no tag
		}
		msg := checkName("tag key", t.Key, &tagEsc)
		if msg == "" {
			if msg = checkName("tag value", t.Value, &tagEsc); msg != "" {
				msg = fmt.Sprintf("value of tag %s: %s", quote(t.Key), msg)
			}
		}
		if msg == "" && i > 0 && bytes.Equal(t.Key, prev) {
			msg = fmt.Sprintf("duplicate tag key %s", quote(t.Key))
		}
		if msg != "" {
			return dst[:start], false, pointErr(p, "%s", msg)
		}
		prev = t.Key
		var pk, pv bool
		dst = append(dst, ',')
		dst, pk = appendEscaped(dst, t.Key, &tagEsc)
		dst = append(dst, '=')
		dst, pv = appendEscaped(dst, t.Value, &tagEsc)
		plain = plain && pk && pv
	}
	if n := len(dst) - start; n > maxKeyLength {
		return dst[:start], false, pointErr(p, "series key of %d bytes is over the %d InfluxDB accepts", n, maxKeyLength)
	}
	return dst, plain, nil
}

func compareTags(a, b Tag) int { return bytes.Compare(a.Key, b.Key) }

// AppendFields: see AppendKey.
func AppendFields(dst []byte, p Point, opt EncodeOptions) (out []byte, plain bool, err error) {
	out, plain, _, err = appendFields(dst, p, opt)
	return out, plain, err
}

// appendFields is AppendFields that also returns the length of the
// longest escaped field key.
func appendFields(dst []byte, p Point, opt EncodeOptions) (out []byte, plain bool, longest int, err error) {
	if len(p.Fields) == 0 {
		return dst, false, 0, pointErr(p, "a point needs at least one field")
	}
	start := len(dst)
	plain = true
	for i := range p.Fields {
		f := &p.Fields[i]
		if err := checkField(p, f, opt); err != nil {
			return dst[:start], false, 0, err
		}
		if i > 0 {
			dst = append(dst, ',')
		}
		var pk, pv bool
		k := len(dst)
		dst, pk = appendEscaped(dst, f.Key, &fieldKeyEsc)
		longest = max(longest, len(dst)-k)
		dst = append(dst, '=')
		dst, pv = appendValue(dst, f, opt)
		plain = plain && pk && pv
	}
	return dst, plain, longest, nil
}

// FieldChecker tells, without encoding, what AppendFields would: its
// error, whether its output would be plain, and an upper bound of the
// bytes it would append. A reader of the parsed values (the embedded
// engine's trusted writes) needs no text, only the same verdict. It
// remembers the field keys of the last point it passed, since the points
// of a batch mostly repeat them: equal keys are not checked again.
// The zero value is ready to use.
type FieldChecker struct {
	keys      []Field // the last passed point's fields (their keys count)
	keysPlain bool
	keysSize  int
}

// Check checks p's fields as AppendFields with opt would.
func (c *FieldChecker) Check(p Point, opt EncodeOptions) (plain bool, size int, err error) {
	if len(p.Fields) == 0 {
		return false, 0, pointErr(p, "a point needs at least one field")
	}
	if !c.sameKeys(p.Fields) {
		c.keys = nil
		plain = true
		for i := range p.Fields {
			f := &p.Fields[i]
			if err := checkFieldKey(p, f); err != nil {
				return false, 0, err
			}
			plain = plain && isPlain(f.Key, &fieldKeyEsc)
			size += 2*len(f.Key) + 2 // escaped key, '=' and ','
		}
		c.keys, c.keysPlain, c.keysSize = p.Fields, plain, size
	}
	plain, size = c.keysPlain, c.keysSize
	for i := range p.Fields {
		f := &p.Fields[i]
		if err := checkValue(p, f, opt); err != nil {
			return false, 0, err
		}
		switch f.Value.Kind() {
		case lineprotocol.String:
			b := f.Value.BytesV()
			plain = plain && bytes.IndexByte(b, '"') < 0 && bytes.IndexByte(b, '\\') < 0
			size += 2*len(b) + 2
		case lineprotocol.Float:
			size += max(len(f.Text), 32)
		default:
			size += 32
		}
	}
	return plain, size, nil
}

func (c *FieldChecker) sameKeys(fields []Field) bool {
	if c.keys == nil || len(fields) != len(c.keys) {
		return false
	}
	for i := range fields {
		if !bytes.Equal(fields[i].Key, c.keys[i].Key) {
			return false
		}
	}
	return true
}

// checkField returns why field f of p cannot be encoded, or nil.
func checkField(p Point, f *Field, opt EncodeOptions) error {
	if err := checkFieldKey(p, f); err != nil {
		return err
	}
	return checkValue(p, f, opt)
}

func checkFieldKey(p Point, f *Field) error {
	msg := checkName("field key", f.Key, &fieldKeyEsc)
	if msg == "" && (f.Key[0] == '\t' || f.Key[0] == 0) {
		// 1.x skips tabs and NULs before the field set.
		msg = fmt.Sprintf("field key %s starts with %q, which InfluxDB 1.x line protocol loses", quote(f.Key), f.Key[0])
	}
	if msg != "" {
		return pointErr(p, "%s", msg)
	}
	return nil
}

func checkValue(p Point, f *Field, opt EncodeOptions) error {
	switch f.Value.Kind() {
	case lineprotocol.String, lineprotocol.Int, lineprotocol.Bool:
	case lineprotocol.Float:
		if x := f.Value.FloatV(); math.IsNaN(x) || math.IsInf(x, 0) {
			return pointErr(p, "field %s: %v cannot be stored (InfluxDB accepts finite floats only)", quote(f.Key), x)
		}
	case lineprotocol.Uint:
		if u := f.Value.UintV(); opt.UnsignedAsInt && u > math.MaxInt64 {
			return pointErr(p, "field %s: unsigned value %d exceeds the int64 range of InfluxDB 1.x", quote(f.Key), u)
		}
	default:
		return pointErr(p, "field %s: unknown value kind %v", quote(f.Key), f.Value.Kind())
	}
	return nil
}

// isPlain is appendEscaped's plain without the escaping.
func isPlain(s []byte, esc *[256]bool) bool {
	for _, c := range s {
		if esc[c] || c == '\\' || c == '"' {
			return false
		}
	}
	return true
}

// appendValue writes f's value, which checkField accepted.
func appendValue(dst []byte, f *Field, opt EncodeOptions) (_ []byte, plain bool) {
	switch f.Value.Kind() {
	case lineprotocol.String:
		return appendStringField(dst, f.Value.BytesV()) // StringV would copy
	case lineprotocol.Float:
		if opt.FloatText && f.Text != nil {
			return append(dst, f.Text...), true
		}
	case lineprotocol.Uint:
		if opt.UnsignedAsInt {
			return append(strconv.AppendUint(dst, f.Value.UintV(), 10), 'i'), true
		}
	}
	// Floats: 'g' with the shortest digits that round-trip; 1.x reads
	// exponents. Integers get "i", unsigned "u".
	return f.Value.AppendBytes(dst), true
}

// nameProblem returns why s cannot be a measurement, key or tag value in
// a line that reads back unchanged, or "". Batch.Append uses it too, so
// every point of a Batch can be encoded.
func nameProblem(what string, s []byte) string {
	switch {
	case len(s) == 0:
		return what + " is empty"
	case !utf8.Valid(s):
		return fmt.Sprintf("%s %s is not valid UTF-8", what, quote(s))
	case bytes.IndexByte(s, '\n') >= 0:
		return fmt.Sprintf("%s %s contains a newline, which line protocol cannot escape", what, quote(s))
	case s[len(s)-1] == '\\':
		// `\` before a separator escapes it and `\\` is no escape in
		// names, so no encoding reads back as a name ending in `\`.
		return fmt.Sprintf("%s %s ends with a backslash, which line protocol cannot escape", what, quote(s))
	}
	return ""
}

// escapeProblem returns why a name that passed nameProblem still cannot
// be written for InfluxDB 1.x, or "": a literal backslash just before a
// byte the encoder escapes. 1.x's line splitter and field scanner read
// `\\` as a pair while its unescapers do not, so the escape would end
// the name early or shift where a line ends.
func escapeProblem(what string, s []byte, esc *[256]bool) string {
	for i := 0; i+1 < len(s); i++ {
		if s[i] == '\\' && esc[s[i+1]] {
			return fmt.Sprintf("%s %s has a backslash before %q, which InfluxDB 1.x line protocol cannot carry", what, quote(s), s[i+1])
		}
	}
	return ""
}

// checkName is nameProblem then escapeProblem.
func checkName(what string, s []byte, esc *[256]bool) string {
	if msg := nameProblem(what, s); msg != "" {
		return msg
	}
	return escapeProblem(what, s, esc)
}

func pointErr(p Point, format string, args ...any) error {
	return &PointError{Measurement: string(p.Measurement), Msg: fmt.Sprintf(format, args...)}
}

// AppendSeriesKey appends the series key `measurement,k1=v1,k2=v2` of p:
// the start of its canonical line, which is also the key InfluxDB derives
// from that line, so equal series give equal keys.
func (p Point) AppendSeriesKey(dst []byte) []byte {
	return appendSeriesKey(dst, &p)
}

// appendSeriesKey is AppendKey without the checks, for points a Batch
// has already checked.
func appendSeriesKey(dst []byte, p *Point) []byte {
	dst, _ = appendEscaped(dst, p.Measurement, &measurementEsc)
	for i := range p.Tags {
		dst = append(dst, ',')
		dst, _ = appendEscaped(dst, p.Tags[i].Key, &tagEsc)
		dst = append(dst, '=')
		dst, _ = appendEscaped(dst, p.Tags[i].Value, &tagEsc)
	}
	return dst
}

// AppendLineProtocol appends p as one '\n'-terminated line, with its
// timestamp in units of prec (truncated toward zero). p must be a point
// of a Batch (checked when added); AppendPoint checks any point.
func (p Point) AppendLineProtocol(dst []byte, prec Precision) []byte {
	return appendPoint(dst, &p, prec.multiplier())
}

// appendPoint writes a point a Batch has checked: the same bytes as
// AppendPoint with unsigned values as "u".
func appendPoint(dst []byte, p *Point, mult int64) []byte {
	dst = appendSeriesKey(dst, p)
	for i := range p.Fields {
		if i == 0 {
			dst = append(dst, ' ')
		} else {
			dst = append(dst, ',')
		}
		f := &p.Fields[i]
		dst, _ = appendEscaped(dst, f.Key, &fieldKeyEsc)
		dst = append(dst, '=')
		dst, _ = appendValue(dst, f, EncodeOptions{})
	}
	dst = append(dst, ' ')
	dst = strconv.AppendInt(dst, p.Time/mult, 10)
	return append(dst, '\n')
}

// AppendLineProtocol appends every point of the batch in canonical line
// protocol: tags sorted, InfluxDB 1.x escaping, an explicit timestamp in
// units of prec, one '\n'-terminated line per point.
func (b *Batch) AppendLineProtocol(dst []byte, prec Precision) []byte {
	mult := prec.multiplier()
	for i := range b.points {
		p := b.At(i)
		dst = appendPoint(dst, &p, mult)
	}
	return dst
}
