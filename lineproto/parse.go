package lineproto

import (
	"bytes"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/influxdata/line-protocol/v2/lineprotocol"
)

// Limits bound what one body may hold. A zero field takes its default;
// a negative one disables that limit.
type Limits struct {
	MaxLineBytes int // bytes in one line (default 1 MiB)
	MaxTags      int // tags in one point (default 256)
	MaxFields    int // fields in one point (default 1024)
	MaxPoints    int // points in one body (default 0 = unlimited); exceeding it fails the whole body
}

// DefaultLimits returns the limits used for zero fields.
func DefaultLimits() Limits {
	return Limits{MaxLineBytes: 1 << 20, MaxTags: 256, MaxFields: 1024}
}

// maxKeyLength is InfluxDB 1.x's MaxKeyLength: series key plus field key.
const maxKeyLength = 65535

// ParseOptions control Parse.
type ParseOptions struct {
	// Precision is the unit of the timestamps in the body.
	Precision Precision
	// Now is the time given to lines without a timestamp, truncated to
	// Precision as influxd does. Zero means time.Now().
	Now time.Time
	// Limits bound the body; see Limits for the zero values.
	Limits Limits
	// AllowUnsigned accepts unsigned integer values (`1u`). InfluxDB 1.x
	// rejects them unless built with uint support, so they are refused by
	// default.
	AllowUnsigned bool
	// MaxFuture, when > 0, rejects a line whose timestamp is more than
	// MaxFuture after Now. A server sets it because every distinct future
	// shard-group window opens files that stay open; 0 means no bound.
	MaxFuture time.Duration
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	pick := func(v, def int) int {
		switch {
		case v == 0:
			return def
		case v < 0:
			return int(^uint(0) >> 1)
		}
		return v
	}
	return Limits{
		MaxLineBytes: pick(l.MaxLineBytes, d.MaxLineBytes),
		MaxTags:      pick(l.MaxTags, d.MaxTags),
		MaxFields:    pick(l.MaxFields, d.MaxFields),
		MaxPoints:    pick(l.MaxPoints, int(^uint(0)>>1)),
	}
}

// Byte classes. A "special" table holds the bytes that end a token plus
// the backslash, so the scanning loop makes one lookup per byte.
var (
	measSpecial    = escSet(", \n\\")
	tagKeySpecial  = escSet("=, \n\\")
	tagValSpecial  = escSet("=, \n\\")
	fieldKeySpec   = escSet("=, \n\\")
	valueEnd       = escSet(", \n\r")
	numberChars    = escSet("0123456789.eE+-")
	digitChars     = escSet("0123456789")
	trailingSpaces = escSet(" \t")
)

// Parse decodes an InfluxDB 1.x line-protocol body and appends its points
// to dst. Blank lines and lines starting with '#' are skipped; CRLF line
// ends are accepted.
//
// When some lines are bad, the good ones are still appended and Parse
// returns a *PartialError listing the bad ones. When the body breaks
// Limits.MaxPoints it returns a *DecodeError and dst is left as it was.
//
// Once dst's buffers have grown (reuse it via Reset or a sync.Pool),
// parsing allocates nothing per point; bad lines allocate their error.
func Parse(body []byte, opt ParseOptions, dst *Batch) error {
	p := parser{
		buf:    body,
		b:      dst,
		lim:    opt.Limits.withDefaults(),
		prec:   opt.Precision,
		mult:   opt.Precision.multiplier(),
		uint:   opt.AllowUnsigned,
		utf8ok: utf8.Valid(body),
		latest: MaxTime,
	}
	now := opt.Now
	if now.IsZero() {
		now = time.Now()
	}
	p.now = now.UnixNano()
	if opt.MaxFuture > 0 && p.now <= MaxTime-int64(opt.MaxFuture) {
		p.latest, p.maxFuture = p.now+int64(opt.MaxFuture), opt.MaxFuture
	}
	if r := p.now % p.mult; r != 0 {
		p.now -= r
		if r < 0 {
			p.now -= p.mult
		}
	}
	// Unescaping never makes a line longer, so one reservation holds all
	// the body's bytes and the arena is not reallocated while parsing.
	dst.reserve(len(body))
	np, nt, nf := len(dst.points), len(dst.tags), len(dst.fields)

	var perr *PartialError
	total := 0
	n := len(body)
	pos, line := 0, 1
	for pos < n {
		i := pos
		for i < n && (body[i] == ' ' || body[i] == '\t') {
			i++
		}
		if i == n {
			break
		}
		switch body[i] {
		case '\n':
			pos, line = i+1, line+1
			continue
		case '\r':
			if i+1 == n {
				pos = n
				continue
			}
			if body[i+1] == '\n' {
				pos, line = i+2, line+1
				continue
			}
		case '#':
			k := bytes.IndexByte(body[i:], '\n')
			if k < 0 {
				pos = n
			} else {
				pos, line = i+k+1, line+1
			}
			continue
		}
		total++
		p.lineStart, p.line = pos, line
		next, e := p.parseLine(i)
		if e == nil && len(dst.points)-np > p.lim.MaxPoints {
			dst.truncate(np, nt, nf)
			return &DecodeError{Line: line, Column: i - pos + 1, Limit: "MaxPoints",
				Msg: fmt.Sprintf("the body holds more than %d points (limit MaxPoints)", p.lim.MaxPoints)}
		}
		if e != nil {
			if perr == nil {
				perr = &PartialError{}
			}
			perr.Rejected++
			if len(perr.Errors) < MaxReportedErrors {
				perr.Errors = append(perr.Errors, *e)
			}
		}
		line += p.nl
		pos = next
	}
	if perr != nil {
		perr.Total = total
		return perr
	}
	return nil
}

type parser struct {
	buf       []byte
	b         *Batch
	lim       Limits
	prec      Precision
	mult      int64
	now       int64
	latest    int64         // the latest timestamp accepted (MaxFuture)
	maxFuture time.Duration // for the message; 0 when unbounded
	uint      bool
	utf8ok    bool // the whole body is valid UTF-8, so tokens need no check
	lineStart int  // offset of the first byte of the current line
	line      int  // its 1-based number
	nl        int  // newlines consumed by the current point, including its terminator
	multiline bool // the current point has a string value holding a newline
	timeField bool // the current point has a field named "time"
	scanned   int  // offset past the last string value scanned in this point
}

// parseLine parses the point starting at buf[i]. It returns the offset of
// the next line and, when the line is rejected, its error; p.nl is set to
// the number of newlines consumed. A rejected line leaves the batch as it
// was.
func (p *parser) parseLine(i int) (int, *DecodeError) {
	b := p.b
	np, nt, nf, na := len(b.points), len(b.tags), len(b.fields), len(b.arena)
	p.nl, p.multiline, p.timeField, p.scanned = 0, false, false, 0
	var (
		end, errPos int
		msg, limit  string
	)
	// Check the physical line first so an oversized line is not parsed.
	phys := bytes.IndexByte(p.buf[p.lineStart:], '\n')
	if phys < 0 {
		phys = len(p.buf) - p.lineStart
	}
	if phys > p.lim.MaxLineBytes {
		errPos, msg, limit = p.lineStart, p.lineTooLong(phys), "MaxLineBytes"
	} else {
		end, errPos, msg, limit = p.scanPoint(i)
		// A string value with newlines makes the line longer than the
		// physical line checked above.
		if msg == "" && p.multiline && end-p.lineStart > p.lim.MaxLineBytes {
			errPos, msg, limit = p.lineStart, p.lineTooLong(end-p.lineStart), "MaxLineBytes"
		}
	}
	if msg == "" {
		// end is just past the line terminator (or at the end of input).
		if p.multiline {
			p.nl = bytes.Count(p.buf[p.lineStart:end], []byte{'\n'})
		} else if end > 0 && p.buf[end-1] == '\n' {
			p.nl = 1
		}
		return end, nil
	}
	b.truncate(np, nt, nf)
	b.arena = b.arena[:na]
	e := p.errorAt(errPos, msg, limit)
	// Resume after the newline that ends the physical line holding the
	// error, or the end of the last string scanned if that is further:
	// bytes inside a string are never scanned twice, which keeps bodies
	// full of stray quotes linear (influxd treats such a string as one line).
	from := max(errPos, p.scanned)
	k := bytes.IndexByte(p.buf[from:], '\n')
	if k < 0 {
		p.nl = bytes.Count(p.buf[p.lineStart:], []byte{'\n'})
		return len(p.buf), e
	}
	next := from + k + 1
	p.nl = bytes.Count(p.buf[p.lineStart:next], []byte{'\n'})
	return next, e
}

func (p *parser) tooFarAhead(ts []byte, ns int64) string {
	return fmt.Sprintf("timestamp %s (%s) is more than %s ahead of the server clock (limit MaxFuture): fix the writer's clock or precision",
		ts, time.Unix(0, ns).UTC().Format(time.RFC3339), p.maxFuture)
}

func (p *parser) lineTooLong(n int) string {
	return fmt.Sprintf("line is %d bytes long, more than %d (limit MaxLineBytes)", n, p.lim.MaxLineBytes)
}

func (p *parser) errorAt(pos int, msg, limit string) *DecodeError {
	pos = min(pos, len(p.buf))
	line, col0 := p.line, p.lineStart
	for k := p.lineStart; k < pos; k++ {
		if p.buf[k] == '\n' {
			line++
			col0 = k + 1
		}
	}
	return &DecodeError{Line: line, Column: pos - col0 + 1, Msg: msg, Limit: limit}
}

// token scans a name from buf[i] up to an unescaped byte of special other
// than '\\', unescaping the bytes in esc into the arena. It returns the
// unescaped token and the offset of the byte that ended it.
func (p *parser) token(i int, special, esc *[256]bool) ([]byte, int) {
	buf := p.buf
	a := p.b.arena
	off := len(a)
	seg := i
	for i < len(buf) {
		c := buf[i]
		if !special[c] {
			i++
			continue
		}
		if c != '\\' {
			break
		}
		if i+1 < len(buf) && esc[buf[i+1]] {
			a = append(a, buf[seg:i]...)
			a = append(a, buf[i+1])
			i += 2
			seg = i
			continue
		}
		i++
	}
	a = append(a, buf[seg:i]...)
	p.b.arena = a
	return a[off:len(a):len(a)], i
}

// atEOL reports whether buf[i] ends the line: end of input, '\n', or a
// '\r' followed by '\n' or the end of input.
func (p *parser) atEOL(i int) bool {
	buf := p.buf
	if i >= len(buf) || buf[i] == '\n' {
		return true
	}
	return buf[i] == '\r' && (i+1 == len(buf) || buf[i+1] == '\n')
}

// eolEnd returns the offset just past the line end at i (see atEOL).
func (p *parser) eolEnd(i int) int {
	buf := p.buf
	if i < len(buf) && buf[i] == '\r' {
		i++
	}
	if i < len(buf) && buf[i] == '\n' {
		i++
	}
	return i
}

func (p *parser) badUTF8(tok []byte) bool {
	return !p.utf8ok && !utf8.Valid(tok)
}

// scanPoint parses one point and, if it is valid, appends it to the batch.
// On success it returns the offset past the line end; on failure the
// offset and text of the error and, for a limit, the limit's name.
func (p *parser) scanPoint(i int) (end, errPos int, msg, limit string) {
	buf := p.buf
	b := p.b
	start := i

	// Measurement.
	meas, j := p.token(i, &measSpecial, &measurementEsc)
	if len(meas) == 0 {
		return 0, i, "missing measurement name", ""
	}
	if p.badUTF8(meas) {
		return 0, i, fmt.Sprintf("measurement %s is not valid UTF-8", quote(meas)), ""
	}
	rec := pointRec{measurement: meas, tagStart: len(b.tags), fieldStart: len(b.fields)}

	// Tags.
	b.tagPos = b.tagPos[:0]
	for j < len(buf) && buf[j] == ',' {
		j++
		kpos := j
		key, k := p.token(j, &tagKeySpecial, &tagEsc)
		if len(key) == 0 {
			return 0, kpos, "missing tag key after ','", ""
		}
		if k >= len(buf) || buf[k] != '=' {
			return 0, k, fmt.Sprintf("missing '=' after tag key %s", quote(key)), ""
		}
		val, k2 := p.token(k+1, &tagValSpecial, &tagEsc)
		if len(val) == 0 {
			return 0, k + 1, fmt.Sprintf("missing value for tag %s (empty tag values are not allowed)", quote(key)), ""
		}
		if k2 < len(buf) && buf[k2] == '=' {
			return 0, k2, fmt.Sprintf("unescaped '=' in the value of tag %s (write it as \\=)", quote(key)), ""
		}
		if p.badUTF8(key) {
			return 0, kpos, fmt.Sprintf("tag key %s is not valid UTF-8", quote(key)), ""
		}
		if p.badUTF8(val) {
			return 0, k + 1, fmt.Sprintf("value of tag %s is not valid UTF-8", quote(key)), ""
		}
		if len(key) == 4 && string(key) == "time" {
			return 0, kpos, `tag key "time" is not allowed (InfluxDB reserves it)`, ""
		}
		if len(b.tags)-rec.tagStart >= p.lim.MaxTags {
			return 0, kpos, fmt.Sprintf("more than %d tags (limit MaxTags)", p.lim.MaxTags), "MaxTags"
		}
		b.tags = append(b.tags, Tag{Key: key, Value: val})
		b.tagPos = append(b.tagPos, int32(kpos-p.lineStart))
		j = k2
	}
	keyEnd := j
	if p.atEOL(j) {
		return 0, j, "missing fields (expected a space and field=value after the measurement and tags)", ""
	}
	if buf[j] != ' ' {
		// Cannot happen given the token stop sets; kept as a guard.
		return 0, j, fmt.Sprintf("unexpected %q after the measurement and tags", buf[j]), ""
	}
	tags := b.tags[rec.tagStart:]
	sortTags(tags, b.tagPos)
	if k := dupTag(tags); k >= 0 {
		pos := max(b.tagPos[k], b.tagPos[k-1])
		return 0, p.lineStart + int(pos), fmt.Sprintf("duplicate tag key %s", quote(tags[k].Key)), ""
	}
	for j < len(buf) && buf[j] == ' ' {
		j++
	}

	// Fields.
	fieldsPos := j
	if p.atEOL(j) {
		return 0, j, "missing fields (expected field=value after the space)", ""
	}
	for {
		kpos := j
		if p.atEOL(j) || buf[j] == ' ' || buf[j] == ',' {
			return 0, j, "missing field key", ""
		}
		key, k := p.token(j, &fieldKeySpec, &fieldKeyEsc)
		if len(key) == 0 {
			return 0, j, "missing field key", ""
		}
		if k >= len(buf) || buf[k] != '=' {
			return 0, k, fmt.Sprintf("missing '=' after field key %s", quote(key)), ""
		}
		if p.badUTF8(key) {
			return 0, kpos, fmt.Sprintf("field key %s is not valid UTF-8", quote(key)), ""
		}
		if keyEnd-start+len(key) > maxKeyLength {
			return 0, kpos, fmt.Sprintf("series key plus field key %s is longer than %d bytes", quote(key), maxKeyLength), ""
		}
		if len(b.fields)-rec.fieldStart >= p.lim.MaxFields {
			return 0, kpos, fmt.Sprintf("more than %d fields (limit MaxFields)", p.lim.MaxFields), "MaxFields"
		}
		if len(key) == 4 && string(key) == "time" {
			p.timeField = true
		}
		vpos := k + 1
		v, k, emsg := p.value(key, vpos)
		if emsg != "" {
			// Errors point at the start of the value, so a string that
			// swallowed later lines is reported where it opened.
			return 0, vpos, emsg, ""
		}
		f := Field{Key: key, Value: v}
		if v.Kind() == lineprotocol.Float {
			f.Text = b.copyBytes(buf[vpos:k]) // within the body's reservation
		}
		b.fields = append(b.fields, f)
		j = k
		if j < len(buf) && buf[j] == ',' {
			j++
			continue
		}
		break
	}

	// Timestamp.
	rec.time = p.now
	if !p.atEOL(j) {
		if buf[j] != ' ' {
			return 0, j, fmt.Sprintf("unexpected %q after a field value (expected ',', a space or the end of the line)", buf[j]), ""
		}
		for j < len(buf) && buf[j] == ' ' {
			j++
		}
		if !p.atEOL(j) && buf[j] != '\t' {
			tpos := j
			for j < len(buf) && !valueEnd[buf[j]] && buf[j] != '\t' {
				j++
			}
			ts := buf[tpos:j]
			if !validInt(ts) {
				return 0, tpos, fmt.Sprintf("invalid timestamp %s (want an integer number of %s)", quote(ts), p.prec), ""
			}
			n, ok := parseInt(ts)
			ns, ok2 := p.prec.toNanos(n)
			if !ok || !ok2 {
				return 0, tpos, fmt.Sprintf("timestamp %s (%s) is out of range (InfluxDB accepts 1677-09-21 to 2262-04-11)", ts, p.prec), ""
			}
			if ns > p.latest {
				return 0, tpos, p.tooFarAhead(ts, ns), ""
			}
			rec.time = ns
		}
		for j < len(buf) && trailingSpaces[buf[j]] {
			j++
		}
		if !p.atEOL(j) {
			return 0, j, fmt.Sprintf("unexpected %q after the timestamp", buf[j]), ""
		}
	}
	end = p.eolEnd(j)

	b.dedupFields(rec.fieldStart)
	if p.timeField && !b.dropTimeField(rec.fieldStart) {
		return 0, fieldsPos, `field key "time" is not allowed and the point has no other field`, ""
	}
	rec.tagEnd, rec.fieldEnd = len(b.tags), len(b.fields)
	b.points = append(b.points, rec)
	return end, 0, "", ""
}

// value parses the field value at buf[i] and returns it with the offset
// just past it, or an error message.
func (p *parser) value(key []byte, i int) (lineprotocol.Value, int, string) {
	buf := p.buf
	if p.atEOL(i) || buf[i] == ',' || buf[i] == ' ' {
		return lineprotocol.Value{}, i, fmt.Sprintf("missing value for field %s", quote(key))
	}
	c := buf[i]
	if c == '"' {
		return p.stringValue(key, i)
	}
	j := i
	for j < len(buf) && !valueEnd[buf[j]] {
		j++
	}
	raw := buf[i:j]
	if j < len(buf) && buf[j] == '\r' && !p.atEOL(j) {
		return lineprotocol.Value{}, j, fmt.Sprintf("invalid field value %s for field %s: carriage return inside the value", quote(buf[i:j+1]), quote(key))
	}
	switch c {
	case 't', 'T', 'f', 'F':
		switch string(raw) {
		case "t", "T", "true", "True", "TRUE":
			return lineprotocol.BoolValue(true), j, ""
		case "f", "F", "false", "False", "FALSE":
			return lineprotocol.BoolValue(false), j, ""
		}
		return lineprotocol.Value{}, j, fmt.Sprintf("invalid field value %s for field %s (booleans are t, true, f, false; strings need double quotes)", quote(raw), quote(key))
	}
	last := raw[len(raw)-1]
	switch {
	case last == 'i' && validInt(raw[:len(raw)-1]):
		v, err := lineprotocol.NewValueFromBytes(lineprotocol.Int, raw[:len(raw)-1])
		if err != nil {
			return v, j, fmt.Sprintf("integer value %s of field %s is out of range (int64)", raw, quote(key))
		}
		return v, j, ""
	case last == 'u' && validUint(raw[:len(raw)-1]):
		if !p.uint {
			return lineprotocol.Value{}, j, fmt.Sprintf("unsigned integer value %s of field %s is not supported by InfluxDB 1.x (write %si)", raw, quote(key), raw[:len(raw)-1])
		}
		v, err := lineprotocol.NewValueFromBytes(lineprotocol.Uint, raw[:len(raw)-1])
		if err != nil {
			return v, j, fmt.Sprintf("unsigned integer value %s of field %s is out of range (uint64)", raw, quote(key))
		}
		return v, j, ""
	case validFloat(raw):
		if x, ok := exactFloat(raw); ok {
			v, _ := lineprotocol.FloatValue(x) // finite by construction
			return v, j, ""
		}
		v, err := lineprotocol.NewValueFromBytes(lineprotocol.Float, raw)
		if err != nil {
			return v, j, fmt.Sprintf("float value %s of field %s is out of range (float64)", raw, quote(key))
		}
		return v, j, ""
	}
	return lineprotocol.Value{}, j, fmt.Sprintf("invalid field value %s for field %s", quote(raw), quote(key))
}

// stringValue parses a double-quoted value at buf[i]. Only \" and \\ are
// escapes (1.x rules); a raw newline is allowed inside the quotes.
func (p *parser) stringValue(key []byte, i int) (lineprotocol.Value, int, string) {
	buf := p.buf
	a := p.b.arena
	off := len(a)
	j := i + 1
	k := bytes.IndexByte(buf[j:], '"')
	if k >= 0 && bytes.IndexByte(buf[j:j+k], '\\') < 0 {
		// Common case: no escapes.
		a = append(a, buf[j:j+k]...)
		j += k + 1
	} else {
		seg := j
		for {
			if j >= len(buf) {
				p.scanned = len(buf)
				return lineprotocol.Value{}, i, fmt.Sprintf("unterminated string value for field %s (missing closing '\"'; the rest of the body is part of this line)", quote(key))
			}
			c := buf[j]
			if c == '"' {
				break
			}
			if c == '\\' && j+1 < len(buf) && (buf[j+1] == '"' || buf[j+1] == '\\') {
				a = append(a, buf[seg:j]...)
				a = append(a, buf[j+1])
				j += 2
				seg = j
				continue
			}
			j++
		}
		a = append(a, buf[seg:j]...)
		j++
	}
	p.b.arena = a
	p.scanned = j
	s := a[off:len(a):len(a)]
	if bytes.IndexByte(s, '\n') >= 0 {
		p.multiline = true
	}
	v, err := lineprotocol.NewValueFromBytes(lineprotocol.String, s)
	if err != nil {
		return v, j, fmt.Sprintf("string value of field %s is not valid UTF-8", quote(key))
	}
	if j < len(buf) && !valueEnd[buf[j]] {
		if p.multiline {
			return v, j, fmt.Sprintf("string value of field %s runs over %d lines and is followed by %q: is a closing '\"' missing?", quote(key), bytes.Count(buf[i:j], []byte{'\n'})+1, buf[j])
		}
		return v, j, fmt.Sprintf("unexpected %q after the closing quote of field %s", buf[j], quote(key))
	}
	return v, j, ""
}

// parseInt parses a string accepted by validInt, reporting false when it
// does not fit in an int64.
func parseInt(s []byte) (int64, bool) {
	neg := s[0] == '-'
	if neg {
		s = s[1:]
	}
	var u uint64
	for _, c := range s {
		if u > (1<<64-1)/10 {
			return 0, false
		}
		u = u*10 + uint64(c-'0')
		if u < uint64(c-'0') {
			return 0, false
		}
	}
	if neg {
		if u > 1<<63 {
			return 0, false
		}
		return -int64(u), true
	}
	if u > 1<<63-1 {
		return 0, false
	}
	return int64(u), true
}

func validUint(s []byte) bool {
	if len(s) == 0 {
		return false
	}
	for _, c := range s {
		if !digitChars[c] {
			return false
		}
	}
	return true
}

func validInt(s []byte) bool {
	if len(s) > 0 && s[0] == '-' {
		s = s[1:]
	}
	return validUint(s)
}

// validFloat accepts [-]digits[.digits][(e|E)[+|-]digits] with at least
// one digit in the mantissa, which is what 1.x accepts; strconv alone would
// also take "inf", "0x1p3" and "1_0".
func validFloat(s []byte) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	digits := 0
	for i < len(s) && digitChars[s[i]] {
		i++
		digits++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && digitChars[s[i]] {
			i++
			digits++
		}
	}
	if digits == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		exp := 0
		for i < len(s) && digitChars[s[i]] {
			i++
			exp++
		}
		if exp == 0 {
			return false
		}
	}
	return i == len(s)
}

// exactPow10 are the powers of ten a float64 holds exactly.
var exactPow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// exactFloat reads a plain decimal that validFloat accepted ([-]digits
// [.digits], no exponent) whose digits make an integer m <= 2^53 with at
// most 22 of them after the point: m and 10^k are then exact float64s and
// one IEEE division rounds m/10^k correctly, so the result is the one
// strconv.ParseFloat gives (its own fast path), without its general
// machinery. Anything else reports false and takes ParseFloat. Short
// decimals ("12.34") are what most gauges look like on the wire.
func exactFloat(s []byte) (float64, bool) {
	neg := false
	if len(s) > 0 && s[0] == '-' {
		neg, s = true, s[1:]
	}
	var m uint64
	digits, frac := 0, -1
	for _, c := range s {
		switch {
		case c >= '0' && c <= '9':
			if digits == 19 { // m could overflow: leave it to ParseFloat
				return 0, false
			}
			m = m*10 + uint64(c-'0')
			digits++
			if frac >= 0 {
				frac++
			}
		case c == '.' && frac < 0:
			frac = 0
		default: // an exponent
			return 0, false
		}
	}
	if frac < 0 {
		frac = 0
	}
	if digits == 0 || m > 1<<53 || frac >= len(exactPow10) {
		return 0, false
	}
	x := float64(m) / exactPow10[frac]
	if neg {
		x = -x
	}
	return x, true
}
