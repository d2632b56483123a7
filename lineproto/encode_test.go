package lineproto

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/influxdata/influxdb/models"
	"github.com/influxdata/line-protocol/v2/lineprotocol"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func encPoint(m string, tags [][2]string, fields ...Field) Point {
	p := Point{Measurement: []byte(m), Fields: fields, Time: 1700000000123456789}
	for _, t := range tags {
		p.Tags = append(p.Tags, Tag{Key: []byte(t[0]), Value: []byte(t[1])})
	}
	return p
}

func encField(k string, v lineprotocol.Value) Field { return Field{Key: []byte(k), Value: v} }

// checkAgainstInfluxDB18 encodes p with AppendPoint and requires either a
// *PointError with dst untouched, or a line that InfluxDB 1.8's parser
// (and ours) reads back as p. It returns the line, or "" when refused.
func checkAgainstInfluxDB18(t *testing.T, p Point, opt EncodeOptions) string {
	t.Helper()
	requireCheckerAgrees(t, p, opt)
	line, err := AppendPoint([]byte("prev\n"), p, opt)
	if err != nil {
		var pe *PointError
		require.True(t, errors.As(err, &pe), "untyped error %T: %v", err, err)
		require.Equal(t, "prev\n", string(line), "a refused point leaves dst as it was")
		return ""
	}
	line = line[len("prev\n"):]
	// Our parser reads the line back as the same point.
	var b Batch
	require.NoError(t, Parse(line, ParseOptions{Precision: opt.Precision, AllowUnsigned: true}, &b), "%q", line)
	require.Equal(t, 1, b.Len())
	prec := opt.Precision.multiplier()
	wantP := p
	wantP.Time = p.Time / prec * prec
	if opt.UnsignedAsInt {
		wantP.Fields = slices.Clone(p.Fields)
		for i, f := range wantP.Fields {
			if f.Value.Kind() == lineprotocol.Uint {
				wantP.Fields[i].Value = lineprotocol.IntValue(int64(f.Value.UintV()))
			}
		}
	}
	require.Equal(t, canonical(wantP), b.At(0).String(), "%q", line)
	if !opt.UnsignedAsInt && slices.ContainsFunc(p.Fields, func(f Field) bool { return f.Value.Kind() == lineprotocol.Uint }) {
		return string(line) // 1.8 reads no "u" unless rebuilt for it
	}
	pts, err := models.ParsePointsWithPrecision(line, time.Now(), influxPrecision[opt.Precision])
	require.NoError(t, err, "InfluxDB 1.8 refuses %q", line)
	require.Len(t, pts, 1, "%q", line)
	got := pts[0]
	// In a body, the line ends where it should: 1.x's line splitter
	// tracks quotes and escapes on its own.
	body := append(append([]byte("a b=1 1\n"), line...), "c d=1 1\n"...)
	many, err := models.ParsePointsWithPrecision(body, time.Now(), influxPrecision[opt.Precision])
	require.NoError(t, err, "InfluxDB 1.8 refuses %q", body)
	require.Len(t, many, 3, "%q", body)
	assert.Equal(t, got.String(), many[1].String(), "%q", body)

	assert.Equal(t, string(p.Measurement), string(got.Name()), "measurement of %q", line)
	var want, have []string
	for _, tg := range p.Tags {
		if len(tg.Value) > 0 { // an empty tag is no tag
			want = append(want, string(tg.Key)+"\x00"+string(tg.Value))
		}
	}
	for _, tg := range got.Tags() {
		have = append(have, string(tg.Key)+"\x00"+string(tg.Value))
	}
	slices.Sort(want)
	slices.Sort(have) // 1.x orders tags by their escaped keys
	assert.Equal(t, want, have, "tags of %q", line)

	fields, err := got.Fields()
	require.NoError(t, err, "%q", line)
	wantFields := map[string]any{}
	for _, f := range p.Fields {
		v := f.Value.Interface()
		if u, ok := v.(uint64); ok && opt.UnsignedAsInt {
			v = int64(u)
		}
		wantFields[string(f.Key)] = v // the last of a repeated key wins, as in 1.x
	}
	assert.Equal(t, fmt.Sprint(wantFields), fmt.Sprint(map[string]any(fields)), "fields of %q", line)
	for k, v := range wantFields {
		assert.Equal(t, v, fields[k], "field %q of %q", k, line) // same type too: 1 vs 1.0
	}
	assert.Equal(t, wantP.Time, got.UnixNano(), "time of %q", line)
	return string(line)
}

// canonical is p as a Batch holds it (sorted tags, no empty ones, the
// last of a repeated field), as text.
func canonical(p Point) string {
	var b Batch
	if err := b.Append(p); err != nil {
		return "not appendable: " + err.Error()
	}
	return b.At(0).String()
}

// TestEncodeAgainstInfluxDB18 runs awkward points through AppendPoint and
// InfluxDB 1.8's parser: each must read back unchanged or be refused with
// a reason, and the ones listed with a line must give exactly that line.
func TestEncodeAgainstInfluxDB18(t *testing.T) {
	one := encField("f", fv(1))
	cases := []struct {
		name string
		p    Point
		opt  EncodeOptions
		want string // the line, or "refused: <part of the message>"
	}{
		{"all kinds", encPoint("cpu", [][2]string{{"host", "a"}}, encField("i", lineprotocol.IntValue(-3)), encField("u", lineprotocol.UintValue(4)),
			encField("f", fv(0.5)), encField("b", lineprotocol.BoolValue(false)), encField("s", sv("x"))),
			EncodeOptions{UnsignedAsInt: true}, "cpu,host=a i=-3i,u=4i,f=0.5,b=false,s=\"x\" 1700000000123456789\n"},
		{"unsigned as u", encPoint("m", nil, encField("u", lineprotocol.UintValue(math.MaxUint64))), EncodeOptions{},
			"m u=18446744073709551615u 1700000000123456789\n"},
		{"unsigned over int64", encPoint("m", nil, encField("u", lineprotocol.UintValue(math.MaxInt64+1))), EncodeOptions{UnsignedAsInt: true},
			"refused: exceeds the int64 range"},
		{"largest unsigned that fits", encPoint("m", nil, encField("u", lineprotocol.UintValue(math.MaxInt64))), EncodeOptions{UnsignedAsInt: true},
			"m u=9223372036854775807i 1700000000123456789\n"},
		{"large ints", encPoint("m", nil, encField("a", lineprotocol.IntValue(math.MinInt64)), encField("b", lineprotocol.IntValue(math.MaxInt64))), EncodeOptions{},
			"m a=-9223372036854775808i,b=9223372036854775807i 1700000000123456789\n"},
		{"float forms", encPoint("m", nil, encField("a", fv(2)), encField("b", fv(1e21)), encField("c", fv(-1e-7)),
			encField("d", fv(0.1)), encField("e", fv(math.MaxFloat64)), encField("g", fv(math.SmallestNonzeroFloat64)), encField("h", fv(math.Copysign(0, -1)))),
			EncodeOptions{}, ""},
		{"escapes", encPoint("my m,x=y", [][2]string{{"k k,=", "v v,=\\x"}}, encField("f f,=", sv(`a "q" \ b`+"\n"))), EncodeOptions{},
			`my\ m\,x\=y,k\ k\,\==v\ v\,\=\x f\ f\,\=="a \"q\" \\ b` + "\n\" 1700000000123456789\n"},
		{"quotes in names", encPoint(`"m"`, [][2]string{{`"k"`, `"v"`}}, encField(`"f"`, sv(`"`))), EncodeOptions{}, ""},
		{"backslash before a comma in a measurement", encPoint(`m\,x`, nil, one), EncodeOptions{}, "refused: backslash before ','"},
		{"backslash before a quote in a measurement", encPoint(`m\"x`, nil, one), EncodeOptions{}, "refused: backslash before '\"'"},
		{"backslash before '=' in a tag key", encPoint("m", [][2]string{{`k\=`, "v"}}, one), EncodeOptions{}, "refused: backslash before '='"},
		{"backslash before a space in a tag value", encPoint("m", [][2]string{{"k", `v\ y`}}, one), EncodeOptions{}, "refused: backslash before ' '"},
		{"backslash before a quote in a tag value", encPoint("m", [][2]string{{"k", `v\"`}}, one), EncodeOptions{}, ""},
		{"backslash before a comma in a field key", encPoint("m", nil, encField(`f\,k`, fv(1))), EncodeOptions{}, "refused: backslash before ','"},
		{"backslashes before a space in a field key", encPoint("m", nil, encField(`f\\ k`, fv(1))), EncodeOptions{}, "refused: backslash before ' '"},
		{"literal backslashes", encPoint(`m\x\\y`, [][2]string{{`k\x`, `v\\` + "z"}}, encField(`f\x`, sv(`\\`))), EncodeOptions{}, ""},
		{"unicode", encPoint("温度 °C", [][2]string{{"城市", "東京 🗼"}}, encField("värde", sv("ünïcödé ✓"))), EncodeOptions{}, ""},
		{"tabs and NULs inside names", encPoint("m\tx\x00", [][2]string{{"k\tk", "\tv\x00"}}, encField("f\tx\x00", sv("\x00"))), EncodeOptions{}, ""},
		{"empty tag values are no tags", encPoint("m", [][2]string{{"a", ""}, {"b", "1"}, {"c", ""}}, one), EncodeOptions{},
			"m,b=1 f=1 1700000000123456789\n"},
		{"unsorted tags are sorted", encPoint("m", [][2]string{{"z", "1"}, {"a", "2"}}, one), EncodeOptions{},
			"m,a=2,z=1 f=1 1700000000123456789\n"},
		{"duplicate tag key", encPoint("m", [][2]string{{"a", "1"}, {"a", "2"}}, one), EncodeOptions{}, "refused: duplicate tag key"},
		{"empty tag key", encPoint("m", [][2]string{{"", "1"}}, one), EncodeOptions{}, "refused: tag key is empty"},
		{"precision s", encPoint("m", nil, one), EncodeOptions{Precision: Second}, "m f=1 1700000000\n"},
		{"precision ms", encPoint("m", nil, one), EncodeOptions{Precision: Millisecond}, "m f=1 1700000000123\n"},
		{"precision us", encPoint("m", nil, one), EncodeOptions{Precision: Microsecond}, "m f=1 1700000000123456\n"},
		{"precision m", encPoint("m", nil, one), EncodeOptions{Precision: Minute}, "m f=1 28333333\n"},
		{"precision h", encPoint("m", nil, one), EncodeOptions{Precision: Hour}, "m f=1 472222\n"},
		{"negative time", Point{Measurement: []byte("m"), Fields: []Field{one}, Time: -1500000000}, EncodeOptions{Precision: Second}, "m f=1 -1\n"},
		{"time out of range", Point{Measurement: []byte("m"), Fields: []Field{one}, Time: math.MaxInt64}, EncodeOptions{}, "refused: outside the range"},
		{"no fields", encPoint("m", nil), EncodeOptions{}, "refused: at least one field"},
		{"empty measurement", encPoint("", nil, one), EncodeOptions{}, "refused: measurement is empty"},
		{"comment", encPoint("#m", nil, one), EncodeOptions{}, "refused: may not start with '#'"},
		{"leading tab", encPoint("\tm", nil, one), EncodeOptions{}, "refused: may not start with '\\t'"},
		{"leading NUL", encPoint("\x00m", nil, one), EncodeOptions{}, "refused: may not start with '\\x00'"},
		{"field key with a leading tab", encPoint("m", nil, encField("\tf", fv(1))), EncodeOptions{}, "refused: starts with '\\t'"},
		{"newline in a tag", encPoint("m", [][2]string{{"k", "a\nb"}}, one), EncodeOptions{}, "refused: newline"},
		{"trailing backslash", encPoint(`m\`, nil, one), EncodeOptions{}, "refused: ends with a backslash"},
		{"invalid UTF-8", encPoint("m\xff", nil, one), EncodeOptions{}, "refused: not valid UTF-8"},
		{"series key too long", encPoint("m", [][2]string{{"k", strings.Repeat("v", 65535)}}, one), EncodeOptions{}, "refused: series key of"},
		{"series plus field key too long", encPoint("m", [][2]string{{"k", strings.Repeat("v", 65000)}}, encField(strings.Repeat("f", 600), fv(1))), EncodeOptions{},
			"refused: series key plus field key"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := checkAgainstInfluxDB18(t, tc.p, tc.opt)
			refusal, refused := strings.CutPrefix(tc.want, "refused: ")
			if refused {
				require.Empty(t, got, "should be refused")
				_, err := AppendPoint(nil, tc.p, tc.opt)
				assert.ErrorContains(t, err, refusal)
				return
			}
			require.NotEmpty(t, got, "should be written")
			if tc.want != "" {
				assert.Equal(t, tc.want, got)
			}
		})
	}
}

// TestEncodeRefusesNonFinite: no Value holds NaN or ±Inf, so they are
// refused where a Go value becomes a point.
func TestEncodeRefusesNonFinite(t *testing.T) {
	for _, f := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		var b Batch
		err := b.AddPoint("m", nil, map[string]any{"f": f}, time.Unix(1, 0))
		assert.ErrorContains(t, err, "finite floats only", "%v", f)
		_, ok := lineprotocol.FloatValue(f)
		assert.False(t, ok, "%v", f)
	}
}

// TestBatchEncodingIsAppendPoint: Batch.AppendLineProtocol writes the
// same bytes as AppendPoint for every point of the corpus.
func TestBatchEncodingIsAppendPoint(t *testing.T) {
	var b Batch
	require.NoError(t, b.AddPoint("cpu load", map[string]string{"z": "1", "a b": "x,y"},
		map[string]any{"u": uint64(7), "i": -1, "f": 1.5, "s": `q"\`, "b": true}, time.Unix(1700000000, 5)))
	for _, prec := range []Precision{Nanosecond, Microsecond, Millisecond, Second, Minute, Hour} {
		var want []byte
		for i := 0; i < b.Len(); i++ {
			var err error
			want, err = AppendPoint(want, b.At(i), EncodeOptions{Precision: prec})
			require.NoError(t, err)
		}
		assert.Equal(t, string(want), string(b.AppendLineProtocol(nil, prec)), prec.String())
	}
}

// TestEncodeRandomNames writes points whose names are drawn from the
// bytes line protocol treats specially, each inside a body of several
// lines, since 1.x splits lines with rules of its own.
func TestEncodeRandomNames(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte(`ab ,="\#` + "\tz\\\x00")
	name := func() []byte {
		s := make([]byte, 1+r.IntN(6))
		for i := range s {
			s[i] = alphabet[r.IntN(len(alphabet))]
		}
		return s
	}
	written := 0
	for range 5000 {
		p := Point{Measurement: name(), Time: r.Int64N(1 << 62)}
		for j := r.IntN(4); j > 0; j-- {
			p.Tags = append(p.Tags, Tag{Key: name(), Value: name()})
		}
		for j := 1 + r.IntN(3); j > 0; j-- {
			v, _ := lineprotocol.StringValueFromBytes(name())
			if r.IntN(2) == 0 {
				v = lineprotocol.IntValue(r.Int64())
			}
			p.Fields = append(p.Fields, Field{Key: name(), Value: v})
		}
		if checkAgainstInfluxDB18(t, p, EncodeOptions{}) != "" {
			written++
		}
	}
	assert.Greater(t, written, 300, "a fair share of random points is written, not refused")
}

// requireCheckerAgrees: FieldChecker gives AppendFields' verdict (its
// error, its plainness, a bound of its length), also when it remembers
// the keys from a first call.
func requireCheckerAgrees(t *testing.T, p Point, opt EncodeOptions) {
	t.Helper()
	out, plain, err := AppendFields(nil, p, opt)
	var c FieldChecker
	for range 2 {
		cplain, size, cerr := c.Check(p, opt)
		if err != nil {
			require.Error(t, cerr)
			require.Equal(t, err.Error(), cerr.Error())
			continue
		}
		require.NoError(t, cerr)
		require.Equal(t, plain, cplain, "%q", out)
		require.GreaterOrEqual(t, size, len(out), "%q", out)
	}
}

func FuzzEncodeAgainstInfluxDB18(f *testing.F) {
	f.Add("cpu", "host", "a b", "v", "str\"\\", 1.5, int64(3), uint64(4), int64(0), uint8(0), true)
	f.Add("m,x", "k=", `v\x`, "f f", "", -0.0, int64(-1), uint64(1<<63), int64(1e18), uint8(3), false)
	f.Add(`m\`, `\`, `\\`, `=`, "\n", 1e300, int64(math.MinInt64), uint64(0), int64(-1), uint8(5), true)
	f.Add(`a\,b`, `\ `, `"`, `f\\,k`, "é\x00", 1e-310, int64(math.MaxInt64), uint64(math.MaxUint64), int64(-1e18), uint8(1), false)
	f.Fuzz(func(t *testing.T, m, tk, tv, fk, s string, fl float64, i int64, u uint64, ts int64, prec uint8, unsignedAsInt bool) {
		p := Point{Measurement: []byte(m), Time: ts}
		if tk != "" {
			p.Tags = []Tag{{Key: []byte(tk), Value: []byte(tv)}}
		}
		if v, ok := lineprotocol.FloatValue(fl); ok {
			p.Fields = append(p.Fields, Field{Key: []byte(fk), Value: v})
		}
		p.Fields = append(p.Fields, Field{Key: []byte("i"), Value: lineprotocol.IntValue(i)})
		p.Fields = append(p.Fields, Field{Key: []byte("u"), Value: lineprotocol.UintValue(u)})
		if v, ok := lineprotocol.StringValue(s); ok {
			p.Fields = append(p.Fields, Field{Key: []byte("s"), Value: v})
		}
		opt := EncodeOptions{Precision: Precision(prec % 6), UnsignedAsInt: true}
		checkAgainstInfluxDB18(t, p, opt)
		if !unsignedAsInt {
			// 1.8 reads no "u": check against our parser only.
			opt.UnsignedAsInt = false
			if line, err := AppendPoint(nil, p, opt); err == nil {
				var b Batch
				require.NoError(t, Parse(line, ParseOptions{Precision: opt.Precision, AllowUnsigned: true}, &b), "%q", line)
				var c Batch // p as a Batch holds it: the last of a repeated field
				require.NoError(t, c.Append(p))
				require.Equal(t, string(c.AppendLineProtocol(nil, opt.Precision)), string(b.AppendLineProtocol(nil, opt.Precision)), "%q", line)
			}
		}
	})
}
