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
	fail := func(reason string, args ...any) ([]byte, error) {
		return dst[:start], &PointError{Measurement: string(p.Measurement), Reason: fmt.Sprintf(reason, args...)}
	}
	if len(p.Measurement) == 0 {
		return fail("empty measurement name")
	}
	switch p.Measurement[0] {
	case '#':
		return fail("a measurement starting with '#' reads as a comment in InfluxDB 1.x line protocol")
	case '\t':
		return fail("a measurement starting with a tab loses it in InfluxDB 1.x line protocol")
	}
	if len(p.Fields) == 0 {
		return fail("no fields")
	}
	var err error
	if dst, err = appendName(dst, p.Measurement, false); err != nil {
		return fail("measurement: %v", err)
	}
	for _, t := range p.Tags {
		if len(t.Value) == 0 {
			continue // 1.x has no empty tag values: an empty tag is no tag
		}
		dst = append(dst, ',')
		if dst, err = appendName(dst, t.Key, true); err != nil {
			return fail("tag key %q: %v", t.Key, err)
		}
		dst = append(dst, '=')
		if dst, err = appendName(dst, t.Value, true); err != nil {
			return fail("tag %q value: %v", t.Key, err)
		}
	}
	for i, f := range p.Fields {
		if i == 0 {
			dst = append(dst, ' ')
		} else {
			dst = append(dst, ',')
		}
		if len(f.Key) > 0 && f.Key[0] == '\t' {
			// 1.x skips tabs before the field set; a leading tab vanishes.
			return fail("field key %q starts with a tab, which InfluxDB 1.x line protocol loses", f.Key)
		}
		if dst, err = appendName(dst, f.Key, true); err != nil {
			return fail("field key %q: %v", f.Key, err)
		}
		dst = append(dst, '=')
		switch f.Value.Kind() {
		case lineprotocol.Int:
			dst = strconv.AppendInt(dst, f.Value.IntV(), 10)
			dst = append(dst, 'i')
		case lineprotocol.Uint:
			u := f.Value.UintV()
			if u > math.MaxInt64 {
				return fail("field %q: unsigned value %d exceeds the int64 range of InfluxDB 1.x", f.Key, u)
			}
			dst = strconv.AppendUint(dst, u, 10)
			dst = append(dst, 'i')
		case lineprotocol.Float:
			// 'g' keeps huge and tiny values short; 1.x parses exponents.
			dst = strconv.AppendFloat(dst, f.Value.FloatV(), 'g', -1, 64)
		case lineprotocol.Bool:
			dst = strconv.AppendBool(dst, f.Value.BoolV())
		case lineprotocol.String:
			dst = appendString(dst, f.Value.StringV())
		default:
			return fail("field %q: unknown value kind %v", f.Key, f.Value.Kind())
		}
	}
	dst = append(dst, ' ')
	dst = strconv.AppendInt(dst, p.Time, 10)
	return append(dst, '\n'), nil
}

// appendName escapes a measurement (spaces, commas) or a key/tag value
// (also '='). InfluxDB 1.x cannot escape a backslash, so one that would
// swallow the next separator is refused rather than silently mangled.
func appendName(dst, s []byte, equals bool) ([]byte, error) {
	if len(s) == 0 {
		return dst, fmt.Errorf("empty")
	}
	if bytes.IndexByte(s, '\n') >= 0 {
		return dst, fmt.Errorf("contains a newline, which InfluxDB 1.x line protocol cannot carry")
	}
	if bytes.IndexByte(s, 0) >= 0 {
		return dst, fmt.Errorf("contains a NUL byte, which InfluxDB 1.x line protocol reads as a space")
	}
	for i, c := range s {
		switch c {
		case ' ', ',':
			dst = append(dst, '\\', c)
			continue
		case '=':
			if equals {
				dst = append(dst, '\\', c)
				continue
			}
		case '\\':
			if i == len(s)-1 {
				return dst, fmt.Errorf("ends in a backslash, which InfluxDB 1.x line protocol cannot carry")
			}
			if n := s[i+1]; n == ' ' || n == ',' || n == '=' || n == '"' {
				return dst, fmt.Errorf("has a backslash before %q, which InfluxDB 1.x line protocol cannot carry", n)
			}
		}
		dst = append(dst, c)
	}
	return dst, nil
}

func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '"' || c == '\\' {
			dst = append(dst, '\\')
		}
		dst = append(dst, s[i])
	}
	return append(dst, '"')
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
