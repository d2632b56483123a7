// Package influxlp encodes lineproto points as InfluxDB 1.x line protocol
// and formats result numbers the way InfluxDB's /query JSON does. Both
// tsengine implementations use it, so the embedded engine parses exactly
// the bytes the remote engine sends.
package influxlp

import (
	"bytes"
	"fmt"
	"math"
	"strconv"

	"github.com/influxdata/line-protocol/v2/lineprotocol"

	"github.com/kodo-project/kodo/lineproto"
)

// PointError says why a point cannot be expressed in InfluxDB 1.x line
// protocol. The engines count such points as dropped.
type PointError struct {
	Measurement string
	Reason      string
}

func (e *PointError) Error() string {
	return fmt.Sprintf("point %q: %s", e.Measurement, e.Reason)
}

// AppendPoint appends p to dst as one line (ending in '\n') in the syntax
// of InfluxDB 1.x, timestamp in nanoseconds. Unsigned fields become
// integers (1.x has no unsigned type unless rebuilt with it); a value above
// MaxInt64, a newline or NUL in a name, a name that 1.x cannot escape (a
// '\' before a special character or at the end), a measurement starting
// with '#' (a comment line) or a tab, or a field key starting with a tab
// give a *PointError and leave dst unchanged.
func AppendPoint(dst []byte, p lineproto.Point) ([]byte, error) {
	start := len(dst)
	if err := checkPoint(p); err != nil {
		return dst, err
	}
	var err error
	if dst, _, err = appendKey(dst, p); err != nil {
		return dst[:start], err
	}
	dst = append(dst, ' ')
	if dst, _, err = appendFields(dst, p, false); err != nil {
		return dst[:start], err
	}
	dst = append(dst, ' ')
	dst = strconv.AppendInt(dst, p.Time, 10)
	return append(dst, '\n'), nil
}

// AppendKey appends the series key of p (escaped measurement and tags, as
// the key part of AppendPoint's line) and AppendFields its field set (the
// part between the two spaces). Together they let the embedded engine
// build 1.x points without printing and re-parsing whole lines. They
// refuse a point exactly as AppendPoint does, leaving dst unchanged.
//
// plain reports that the text is simple enough to need no reading back:
// no name holds a space, comma, '=', backslash or quote, and no string
// value a quote or backslash. Only then is the key's tag order (sorted
// unescaped) surely the order the 1.x parser, which compares escaped
// keys, keeps.
func AppendKey(dst []byte, p lineproto.Point) (out []byte, plain bool, err error) {
	start := len(dst)
	if err := checkPoint(p); err != nil {
		return dst, false, err
	}
	dst, odd, err := appendKey(dst, p)
	if err != nil {
		return dst[:start], false, err
	}
	return dst, !odd, nil
}

// AppendFields: see AppendKey. Unlike AppendPoint it copies a float as
// its line spelled it (lineproto.Field.Text) where Parse kept that: the
// binary form is read back by strconv.ParseFloat alone, which gives the
// same value, and copying saves formatting every float again.
func AppendFields(dst []byte, p lineproto.Point) (out []byte, plain bool, err error) {
	start := len(dst)
	if err := checkPoint(p); err != nil {
		return dst, false, err
	}
	dst, odd, err := appendFields(dst, p, true)
	if err != nil {
		return dst[:start], false, err
	}
	return dst, !odd, nil
}

func pointError(p lineproto.Point, reason string, args ...any) error {
	return &PointError{Measurement: string(p.Measurement), Reason: fmt.Sprintf(reason, args...)}
}

// checkPoint does the checks that come before any encoding, so every
// entry point reports the same first problem.
func checkPoint(p lineproto.Point) error {
	if len(p.Measurement) == 0 {
		return pointError(p, "empty measurement name")
	}
	switch p.Measurement[0] {
	case '#':
		return pointError(p, "a measurement starting with '#' reads as a comment in InfluxDB 1.x line protocol")
	case '\t':
		return pointError(p, "a measurement starting with a tab loses it in InfluxDB 1.x line protocol")
	}
	if len(p.Fields) == 0 {
		return pointError(p, "no fields")
	}
	return nil
}

// appendKey writes the measurement and tags; on error dst may hold part
// of the key (the callers cut it). odd: see AppendKey's plain.
func appendKey(dst []byte, p lineproto.Point) (_ []byte, odd bool, err error) {
	var o bool
	if dst, odd, err = appendName(dst, p.Measurement, false); err != nil {
		return dst, odd, pointError(p, "measurement: %v", err)
	}
	for _, t := range p.Tags {
		if len(t.Value) == 0 {
			continue // 1.x has no empty tag values: an empty tag is no tag
		}
		dst = append(dst, ',')
		if dst, o, err = appendName(dst, t.Key, true); err != nil {
			return dst, odd, pointError(p, "tag key %q: %v", t.Key, err)
		}
		odd = odd || o
		dst = append(dst, '=')
		if dst, o, err = appendName(dst, t.Value, true); err != nil {
			return dst, odd, pointError(p, "tag %q value: %v", t.Key, err)
		}
		odd = odd || o
	}
	return dst, odd, nil
}

// appendFields writes the field set; on error dst may hold part of it.
// text: copy floats' Field.Text when set.
func appendFields(dst []byte, p lineproto.Point, text bool) (_ []byte, odd bool, err error) {
	var o bool
	for i, f := range p.Fields {
		if i > 0 {
			dst = append(dst, ',')
		}
		if len(f.Key) > 0 && f.Key[0] == '\t' {
			// 1.x skips tabs before the field set; a leading tab vanishes.
			return dst, odd, pointError(p, "field key %q starts with a tab, which InfluxDB 1.x line protocol loses", f.Key)
		}
		if dst, o, err = appendName(dst, f.Key, true); err != nil {
			return dst, odd, pointError(p, "field key %q: %v", f.Key, err)
		}
		odd = odd || o
		dst = append(dst, '=')
		switch f.Value.Kind() {
		case lineprotocol.Int:
			dst = strconv.AppendInt(dst, f.Value.IntV(), 10)
			dst = append(dst, 'i')
		case lineprotocol.Uint:
			u := f.Value.UintV()
			if u > math.MaxInt64 {
				return dst, odd, pointError(p, "field %q: unsigned value %d exceeds the int64 range of InfluxDB 1.x", f.Key, u)
			}
			dst = strconv.AppendUint(dst, u, 10)
			dst = append(dst, 'i')
		case lineprotocol.Float:
			if text && f.Text != nil {
				dst = append(dst, f.Text...)
				break
			}
			// 'g' keeps huge and tiny values short; 1.x parses exponents.
			dst = strconv.AppendFloat(dst, f.Value.FloatV(), 'g', -1, 64)
		case lineprotocol.Bool:
			dst = strconv.AppendBool(dst, f.Value.BoolV())
		case lineprotocol.String:
			dst, o = appendString(dst, f.Value.BytesV()) // StringV would copy
			odd = odd || o
		default:
			return dst, odd, pointError(p, "field %q: unknown value kind %v", f.Key, f.Value.Kind())
		}
	}
	return dst, odd, nil
}

// appendName escapes a measurement (spaces, commas) or a key/tag value
// (also '='). InfluxDB 1.x cannot escape a backslash, so one that would
// swallow the next separator is refused rather than silently mangled.
func appendName(dst, s []byte, equals bool) (_ []byte, odd bool, err error) {
	if len(s) == 0 {
		return dst, false, fmt.Errorf("empty")
	}
	// One pass copies runs of plain bytes at once; most names have no
	// special byte. A problem found on the way is named by nameError,
	// which checks in the order the messages promise.
	start := 0
	for i, c := range s {
		if !nameSpecial[c] {
			continue
		}
		odd = true
		switch c {
		case '\n', 0:
			return dst, odd, nameError(s)
		case ' ', ',':
		case '=':
			if !equals {
				continue
			}
		case '\\':
			if i == len(s)-1 {
				return dst, odd, nameError(s)
			}
			if n := s[i+1]; n == ' ' || n == ',' || n == '=' || n == '"' {
				return dst, odd, nameError(s)
			}
			continue
		default: // '"' needs no escape
			continue
		}
		dst = append(dst, s[start:i]...)
		dst = append(dst, '\\', c)
		start = i + 1
	}
	return append(dst, s[start:]...), odd, nil
}

// nameSpecial marks the bytes appendName must look at.
var nameSpecial = [256]bool{' ': true, ',': true, '=': true, '\\': true, '"': true, '\n': true, 0: true}

// nameError says why appendName refuses s: a newline anywhere first, then
// a NUL, then the first backslash 1.x cannot carry.
func nameError(s []byte) error {
	if bytes.IndexByte(s, '\n') >= 0 {
		return fmt.Errorf("contains a newline, which InfluxDB 1.x line protocol cannot carry")
	}
	if bytes.IndexByte(s, 0) >= 0 {
		return fmt.Errorf("contains a NUL byte, which InfluxDB 1.x line protocol reads as a space")
	}
	for i, c := range s {
		if c != '\\' {
			continue
		}
		if i == len(s)-1 {
			return fmt.Errorf("ends in a backslash, which InfluxDB 1.x line protocol cannot carry")
		}
		if n := s[i+1]; n == ' ' || n == ',' || n == '=' || n == '"' {
			return fmt.Errorf("has a backslash before %q, which InfluxDB 1.x line protocol cannot carry", n)
		}
	}
	return fmt.Errorf("cannot be written") // not reached: appendName saw a problem
}

// appendString writes a quoted string value; odd: something was escaped.
func appendString(dst, s []byte) (_ []byte, odd bool) {
	dst = append(dst, '"')
	start := 0
	for i, c := range s {
		if c == '"' || c == '\\' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', c)
			start = i + 1
			odd = true
		}
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"'), odd
}

// AppendJSONFloat appends f the way encoding/json (and so InfluxDB's /query
// answer) writes a float64: shortest round-trip digits, exponent form only
// below 1e-6 or from 1e21, with a two-digit minimum exponent trimmed
// ("1e-07" -> "1e-7"). The embedded engine uses it so its numbers match the
// remote engine's byte for byte.
func AppendJSONFloat(dst []byte, f float64) []byte {
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' {
		if n := len(dst); n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst
}
