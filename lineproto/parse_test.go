package lineproto

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/influxdata/line-protocol/v2/lineprotocol"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseErrorsAreTyped(t *testing.T) {
	body := "ok v=1 1\nm x=1.2.3 2\n\nok v=2 3\n"
	var b Batch
	err := Parse([]byte(body), ParseOptions{}, &b)
	var pe *PartialError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, 3, pe.Total)
	assert.Equal(t, 1, pe.Rejected)
	assert.False(t, pe.AllRejected())
	require.Len(t, pe.Errors, 1)
	assert.Equal(t, DecodeError{Line: 2, Column: 5, Msg: `invalid field value "1.2.3" for field "x"`}, pe.Errors[0])
	assert.Equal(t, `line 2, column 5: invalid field value "1.2.3" for field "x"`, pe.Errors[0].Error())
	assert.Equal(t, 2, b.Len(), "good lines are kept")
	assert.Contains(t, err.Error(), "1 of 3 lines rejected; line 2, column 5")
}

func TestParseErrorListIsCapped(t *testing.T) {
	body := strings.Repeat("bad\n", 250) + "ok v=1\n"
	var b Batch
	err := Parse([]byte(body), ParseOptions{}, &b)
	var pe *PartialError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, 251, pe.Total)
	assert.Equal(t, 250, pe.Rejected)
	assert.Len(t, pe.Errors, MaxReportedErrors)
	assert.Equal(t, 100, pe.Errors[99].Line)
	assert.Contains(t, err.Error(), "and 247 more")
	assert.Equal(t, 1, b.Len())
}

func TestParseMaxPointsIsFatalAndRollsBack(t *testing.T) {
	var b Batch
	require.NoError(t, b.AddPoint("keep", nil, map[string]any{"v": 1}, time.Unix(1, 0)))
	err := Parse([]byte("a v=1\nb v=2\nc v=3\n"), ParseOptions{Limits: Limits{MaxPoints: 2}}, &b)
	var de *DecodeError
	require.ErrorAs(t, err, &de)
	assert.Equal(t, "MaxPoints", de.Limit)
	assert.Equal(t, 3, de.Line)
	assert.Contains(t, de.Error(), "more than 2 points")
	require.Equal(t, 1, b.Len(), "the batch is as before the call")
	assert.Equal(t, "keep", string(b.At(0).Measurement))
	assert.Len(t, b.fields, 1)

	b.Reset()
	require.NoError(t, Parse([]byte("a v=1\nb v=2\n"), ParseOptions{Limits: Limits{MaxPoints: 2}}, &b))
}

func TestLimitsDefaultsAndNegative(t *testing.T) {
	assert.Equal(t, Limits{MaxLineBytes: 1 << 20, MaxTags: 256, MaxFields: 1024}, DefaultLimits())
	var sb strings.Builder
	sb.WriteString("m")
	for i := 0; i < 300; i++ {
		fmt.Fprintf(&sb, ",t%03d=v", i)
	}
	sb.WriteString(" v=1\n")
	var b Batch
	err := Parse([]byte(sb.String()), ParseOptions{}, &b)
	var pe *PartialError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "MaxTags", pe.Errors[0].Limit)
	assert.Equal(t, 1+256*7+2, pe.Errors[0].Column, "points at the first tag over the limit")

	b.Reset()
	require.NoError(t, Parse([]byte(sb.String()), ParseOptions{Limits: Limits{MaxTags: -1}}, &b))
	assert.Len(t, b.At(0).Tags, 300)
}

func TestParseNowTruncatedToPrecision(t *testing.T) {
	now := time.Unix(1700000000, 987654321)
	for prec, want := range map[Precision]int64{
		Nanosecond: 1700000000987654321, Microsecond: 1700000000987654000,
		Millisecond: 1700000000987000000, Second: 1700000000000000000,
		Minute: 1699999980000000000, Hour: 1699999200000000000,
	} {
		var b Batch
		require.NoError(t, Parse([]byte("m v=1"), ParseOptions{Precision: prec, Now: now}, &b))
		assert.Equal(t, want, b.At(0).Time, prec.String())
	}
	var b Batch
	require.NoError(t, Parse([]byte("m v=1"), ParseOptions{}, &b))
	assert.InDelta(t, time.Now().UnixNano(), b.At(0).Time, float64(time.Minute), "zero Now means the clock")
}

func TestParseMultiLineStringKeepsLineNumbers(t *testing.T) {
	body := "m s=\"a\nb\nc\" 1\nbad\nm v=1 2\n"
	var b Batch
	err := Parse([]byte(body), ParseOptions{}, &b)
	var pe *PartialError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, 4, pe.Errors[0].Line)
	assert.Equal(t, 2, b.Len())
	assert.Equal(t, "a\nb\nc", b.At(0).Fields[0].Value.StringV())
}

// randomPoint builds a point from awkward bytes: separators, quotes,
// backslashes (never trailing), unicode.
func randomPoint(r *rand.Rand) Point {
	alphabet := []string{"a", "b", "z", ",", " ", "=", `"`, `\`, "é", "☃", "\t", "\r", "#", "1", "-", "."}
	name := func() []byte {
		var sb strings.Builder
		n := 1 + r.IntN(6)
		for i := 0; i < n; i++ {
			sb.WriteString(alphabet[r.IntN(len(alphabet))])
		}
		s := sb.String()
		for strings.HasSuffix(s, `\`) {
			s = strings.TrimSuffix(s, `\`) + "x"
		}
		return []byte(s)
	}
	p := Point{Measurement: append([]byte("m"), name()...), Time: r.Int64N(1<<62) - 1<<61}
	for i := 0; i < r.IntN(5); i++ {
		p.Tags = append(p.Tags, Tag{Key: name(), Value: name()})
	}
	for i := 0; i < 1+r.IntN(5); i++ {
		var v lineprotocol.Value
		switch r.IntN(5) {
		case 0:
			v = lineprotocol.IntValue(r.Int64() - 1<<62)
		case 1:
			v, _ = lineprotocol.FloatValue(r.NormFloat64() * 1e10)
		case 2:
			v = lineprotocol.BoolValue(r.IntN(2) == 0)
		case 3:
			v, _ = lineprotocol.StringValue(string(name()) + "\n" + `\"`)
		default:
			v = lineprotocol.UintValue(r.Uint64())
		}
		p.Fields = append(p.Fields, Field{Key: name(), Value: v})
	}
	return p
}

func TestRoundTripRandomPoints(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var b Batch
	for b.Len() < 2000 {
		// Some random points are refused (duplicate tags, "time" keys);
		// that is Append's job and tested elsewhere.
		_ = b.Append(randomPoint(r))
	}
	assertRoundTrip(t, &b)
}

func TestRoundTripAllPrecisions(t *testing.T) {
	var b Batch
	require.NoError(t, Parse([]byte("m,t=a v=1i 1699999200000000000\nm s=\"x\" -3600000000000\n"), ParseOptions{}, &b))
	for _, prec := range []Precision{Nanosecond, Microsecond, Millisecond, Second, Minute, Hour} {
		var again Batch
		require.NoError(t, Parse(b.AppendLineProtocol(nil, prec), ParseOptions{Precision: prec}, &again), prec.String())
		requireSamePoints(t, &b, &again)
	}
}

func TestParseAllocations(t *testing.T) {
	body := benchBody(200, 10, 10)
	var b Batch
	opt := ParseOptions{Now: time.Unix(0, 0)}
	require.NoError(t, Parse(body, opt, &b))
	allocs := testing.AllocsPerRun(20, func() {
		b.Reset()
		if err := Parse(body, opt, &b); err != nil {
			t.Fatal(err)
		}
	})
	assert.Zero(t, allocs, "a reused Batch parses without allocating")

	out := b.AppendLineProtocol(nil, Nanosecond)
	allocs = testing.AllocsPerRun(20, func() { out = b.AppendLineProtocol(out[:0], Nanosecond) })
	assert.Zero(t, allocs)
}

func TestPartialErrorIsNotDecodeError(t *testing.T) {
	var b Batch
	err := Parse([]byte("x"), ParseOptions{}, &b)
	var de *DecodeError
	assert.False(t, errors.As(err, &de))
	var pe *PartialError
	require.ErrorAs(t, err, &pe)
	assert.True(t, pe.AllRejected())
}

// An unterminated string swallows the rest of the body, as in influxd,
// and parsing stays fast.
func TestUnterminatedStringSwallowsRest(t *testing.T) {
	body := []byte("ok v=1\nm s=\"x\n" + strings.Repeat("m v=\\\"y\n", 200000))
	var b Batch
	start := time.Now()
	err := Parse(body, ParseOptions{Limits: Limits{MaxLineBytes: -1}}, &b)
	assert.Less(t, time.Since(start), 2*time.Second)
	var pe *PartialError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, 1, pe.Rejected)
	assert.Equal(t, 2, pe.Total)
	assert.Equal(t, DecodeError{Line: 2, Column: 5, Msg: `unterminated string value for field "s" (missing closing '"'; the rest of the body is part of this line)`}, pe.Errors[0])
	assert.Equal(t, 1, b.Len())
}

func TestParseMaxFuture(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	ahead := func(d time.Duration) string { return fmt.Sprint(now.Add(d).UnixNano()) }
	cases := []struct {
		name      string
		max       time.Duration
		body      string
		prec      Precision
		accepted  int
		rejectedL []int // line numbers refused
	}{
		{"unbounded", 0, "m v=1 " + ahead(1000*24*time.Hour) + "\n", Nanosecond, 1, nil},
		{"at the bound", 48 * time.Hour, "m v=1 " + ahead(48*time.Hour) + "\n", Nanosecond, 1, nil},
		{"past the bound", 48 * time.Hour, "m v=1 " + ahead(48*time.Hour+1) + "\n", Nanosecond, 0, []int{1}},
		{"mixed keeps the good lines", time.Hour, "a v=1\nb v=1 " + ahead(2*time.Hour) + "\nc v=1 " + ahead(-1000*time.Hour) + "\n", Nanosecond, 2, []int{2}},
		{"seconds precision", time.Hour, fmt.Sprintf("m v=1 %d\n", now.Add(90*time.Minute).Unix()), Second, 0, []int{1}},
		{"no timestamp is now", time.Nanosecond, "m v=1\n", Nanosecond, 1, nil},
		{"max time with a bound near it", 290 * 365 * 24 * time.Hour, "m v=1 9223372036854775806\n", Nanosecond, 1, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var b Batch
			err := Parse([]byte(c.body), ParseOptions{Now: now, MaxFuture: c.max, Precision: c.prec}, &b)
			assert.Equal(t, c.accepted, b.Len())
			if c.rejectedL == nil {
				require.NoError(t, err)
				return
			}
			var pe *PartialError
			require.ErrorAs(t, err, &pe)
			var lines []int
			for _, e := range pe.Errors {
				lines = append(lines, e.Line)
				assert.Contains(t, e.Msg, "ahead of the server clock (limit MaxFuture)")
				assert.Contains(t, e.Msg, c.max.String())
			}
			assert.Equal(t, c.rejectedL, lines)
		})
	}
}

// TestParseKeepsFloatText: Parse keeps a float as its line spelled it, in
// the arena, and only floats; a repeated field keeps the text of the value
// it keeps; Append (a point built in code) carries no text.
func TestParseKeepsFloatText(t *testing.T) {
	body := []byte("m a=5.,b=1i,c=\"s\",d=t,e=1.5E-3,a=-.50 1\n")
	var b Batch
	require.NoError(t, Parse(body, ParseOptions{}, &b))
	copy(body, strings.Repeat("x", len(body))) // the text must not alias the body
	p := b.At(0)
	texts := map[string]string{}
	for _, f := range p.Fields {
		if f.Text != nil {
			texts[string(f.Key)] = string(f.Text)
			v, ok := lineprotocol.FloatValue(f.Value.FloatV())
			require.True(t, ok)
			assert.Equal(t, v, f.Value)
		}
	}
	assert.Equal(t, map[string]string{"a": "-.50", "e": "1.5E-3"}, texts, "floats only; the last a wins with its own text")
	assert.InDelta(t, -0.5, p.Fields[0].Value.FloatV(), 0)

	// Past 32 fields duplicates are folded by sorting: the same rule.
	var many strings.Builder
	many.WriteString("m a=1.0")
	for i := 0; i < 40; i++ {
		fmt.Fprintf(&many, ",f%d=%d.25", i, i)
	}
	many.WriteString(",a=2.50 1\n")
	var d Batch
	require.NoError(t, Parse([]byte(many.String()), ParseOptions{}, &d))
	for _, f := range d.At(0).Fields {
		if string(f.Key) == "a" {
			assert.Equal(t, "2.50", string(f.Text))
			assert.InDelta(t, 2.5, f.Value.FloatV(), 0)
		}
	}

	var c Batch
	require.NoError(t, c.Append(p))
	for _, f := range c.At(0).Fields {
		assert.Nil(t, f.Text, "field %s", f.Key)
	}
}

// TestExactFloatMatchesParseFloat: the fast path gives strconv's bits for
// every decimal it takes, and leaves the others (exponents, 2^53 and more,
// 23+ fraction digits) to ParseFloat.
func TestExactFloatMatchesParseFloat(t *testing.T) {
	cases := []string{"0", "-0", "0.0", "-0.0", "1", "12.34", "-12.34", "1.", ".5", "-.5", "0.1", "0.3",
		"9007199254740992", "9007199254740993", "900719925474099.3", "1234567890123456789",
		"12345678901234567890", "0.0000000000000000000001", "0.00000000000000000000001",
		"1e5", "1E-3", "123456.789012", "99999999999999999999.5"}
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 20000; i++ {
		intDigits, fracDigits := r.IntN(12), r.IntN(12)
		var b strings.Builder
		if r.IntN(2) == 0 {
			b.WriteByte('-')
		}
		for k := 0; k < intDigits; k++ {
			b.WriteByte(byte('0' + r.IntN(10)))
		}
		if fracDigits > 0 || intDigits == 0 {
			b.WriteByte('.')
			for k := 0; k < max(fracDigits, 1); k++ {
				b.WriteByte(byte('0' + r.IntN(10)))
			}
		}
		cases = append(cases, b.String())
	}
	taken := 0
	for _, c := range cases {
		require.True(t, validFloat([]byte(c)), c)
		want, err := strconv.ParseFloat(c, 64)
		require.NoError(t, err, c)
		got, ok := exactFloat([]byte(c))
		if !ok {
			continue
		}
		taken++
		require.Equal(t, math.Float64bits(want), math.Float64bits(got), "%s: want %v, got %v", c, want, got)
	}
	assert.Greater(t, taken, 15000, "the fast path takes plain decimals")
	for _, c := range []string{"1e5", "1E-3", "9007199254740993", "12345678901234567890", "0.00000000000000000000001"} {
		_, ok := exactFloat([]byte(c))
		assert.False(t, ok, c)
	}
}
