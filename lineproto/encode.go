package lineproto

import (
	"strconv"

	"github.com/influxdata/line-protocol/v2/lineprotocol"
)

// Escape tables: the bytes a backslash escapes in each position, as
// InfluxDB 1.8 unescapes them (Name and field keys use escape.Unescape,
// tags use unescapeTag). A backslash before any other byte is literal. The
// encoder escapes every byte of the set, so a literal backslash in front of
// one of them (encoded `\\,`) also reads back unchanged.
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

func appendEscaped(dst, s []byte, esc *[256]bool) []byte {
	start := 0
	for i, c := range s {
		if esc[c] {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', c)
			start = i + 1
		}
	}
	return append(dst, s[start:]...)
}

// appendStringField writes a quoted string field value; only `"` and `\`
// are escaped, which is all 1.x unescapes (newlines may appear raw).
func appendStringField(dst, s []byte) []byte {
	dst = append(dst, '"')
	start := 0
	for i, c := range s {
		if c == '"' || c == '\\' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', c)
			start = i + 1
		}
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// AppendSeriesKey appends the series key `measurement,k1=v1,k2=v2` of p:
// the start of its canonical line, which is also the key InfluxDB derives
// from that line, so equal series give equal keys.
func (p Point) AppendSeriesKey(dst []byte) []byte {
	return appendSeriesKey(dst, &p)
}

func appendSeriesKey(dst []byte, p *Point) []byte {
	dst = appendEscaped(dst, p.Measurement, &measurementEsc)
	for i := range p.Tags {
		dst = append(dst, ',')
		dst = appendEscaped(dst, p.Tags[i].Key, &tagEsc)
		dst = append(dst, '=')
		dst = appendEscaped(dst, p.Tags[i].Value, &tagEsc)
	}
	return dst
}

// AppendLineProtocol appends p as one '\n'-terminated line, with its
// timestamp in units of prec (truncated toward zero).
func (p Point) AppendLineProtocol(dst []byte, prec Precision) []byte {
	return appendPoint(dst, &p, prec.multiplier())
}

func appendPoint(dst []byte, p *Point, mult int64) []byte {
	dst = appendSeriesKey(dst, p)
	for i := range p.Fields {
		if i == 0 {
			dst = append(dst, ' ')
		} else {
			dst = append(dst, ',')
		}
		f := &p.Fields[i]
		dst = appendEscaped(dst, f.Key, &fieldKeyEsc)
		dst = append(dst, '=')
		if f.Value.Kind() == lineprotocol.String {
			dst = appendStringField(dst, f.Value.BytesV())
		} else {
			dst = f.Value.AppendBytes(dst)
		}
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
