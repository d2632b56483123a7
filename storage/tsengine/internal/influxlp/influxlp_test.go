package influxlp

import (
	"encoding/json"
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/influxdata/influxdb/models"
	"github.com/influxdata/line-protocol/v2/lineprotocol"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kodo-project/kodo/lineproto"
)

func sv(s string) lineprotocol.Value {
	v, ok := lineprotocol.StringValue(s)
	if !ok {
		panic("bad test string")
	}
	return v
}

func fv(f float64) lineprotocol.Value {
	v, ok := lineprotocol.FloatValue(f)
	if !ok {
		panic("bad test float")
	}
	return v
}

func point(m string, tags [][2]string, fields ...lineproto.Field) lineproto.Point {
	p := lineproto.Point{Measurement: []byte(m), Fields: fields, Time: 1700000000000000000}
	for _, t := range tags {
		p.Tags = append(p.Tags, lineproto.Tag{Key: []byte(t[0]), Value: []byte(t[1])})
	}
	return p
}

func field(k string, v lineprotocol.Value) lineproto.Field {
	return lineproto.Field{Key: []byte(k), Value: v}
}

func TestAppendPoint(t *testing.T) {
	cases := []struct {
		name string
		p    lineproto.Point
		want string
		err  string
	}{
		{"all kinds", point("cpu", [][2]string{{"host", "a"}}, field("i", lineprotocol.IntValue(-3)), field("u", lineprotocol.UintValue(4)),
			field("f", fv(0.5)), field("b", lineprotocol.BoolValue(false)), field("s", sv("x"))),
			"cpu,host=a i=-3i,u=4i,f=0.5,b=false,s=\"x\" 1700000000000000000\n", ""},
		{"escapes", point("my m,x=y", [][2]string{{"k k,=", "v v,=\\x"}}, field("f f,=", sv(`a "q" \ b`+"\n"))),
			`my\ m\,x=y,k\ k\,\==v\ v\,\=\x f\ f\,\=="a \"q\" \\ b` + "\n\" 1700000000000000000\n", ""},
		{"empty tag value skipped", point("m", [][2]string{{"a", ""}, {"b", "1"}}, field("f", fv(1))), "m,b=1 f=1 1700000000000000000\n", ""},
		{"float forms", point("m", nil, field("a", fv(2)), field("b", fv(1e21)), field("c", fv(-1e-7))), "m a=2,b=1e+21,c=-1e-07 1700000000000000000\n", ""},
		{"uint too big", point("m", nil, field("u", lineprotocol.UintValue(math.MaxUint64))), "", "exceeds the int64 range"},
		{"no fields", point("m", nil), "", "no fields"},
		{"empty measurement", point("", nil, field("f", fv(1))), "", "empty measurement"},
		{"comment", point("#m", nil, field("f", fv(1))), "", "comment"},
		{"newline in tag", point("m", [][2]string{{"k", "a\nb"}}, field("f", fv(1))), "", "newline"},
		{"trailing backslash", point(`m\`, nil, field("f", fv(1))), "", "ends in a backslash"},
		{"backslash before comma", point("m", [][2]string{{"k", `a\,b`}}, field("f", fv(1))), "", "backslash before"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := AppendPoint([]byte("prev\n"), tc.p)
			if tc.err != "" {
				var pe *PointError
				require.ErrorAs(t, err, &pe)
				assert.Contains(t, err.Error(), tc.err)
				assert.Equal(t, "prev\n", string(got), "dst is left unchanged")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, "prev\n"+tc.want, string(got))
		})
	}
}

// checkRoundTrip parses the encoding of p with InfluxDB's own parser and
// requires the same point back.
func checkRoundTrip(t *testing.T, p lineproto.Point) {
	line, err := AppendPoint(nil, p)
	if err != nil {
		var pe *PointError
		require.ErrorAs(t, err, &pe)
		return
	}
	pts, err := models.ParsePointsWithPrecision(line, time.Now(), "n")
	if err != nil {
		// 1.x refuses a few things we pass on (e.g. oversized keys); the
		// engines count those as dropped. A refusal is fine, a
		// different point is not.
		return
	}
	require.Len(t, pts, 1, "%q", line)
	got := pts[0]
	assert.Equal(t, string(p.Measurement), string(got.Name()), "%q", line)
	var wantTags []string
	for _, tg := range p.Tags {
		if len(tg.Value) > 0 {
			wantTags = append(wantTags, string(tg.Key)+"="+string(tg.Value))
		}
	}
	var gotTags []string
	for _, tg := range got.Tags() {
		gotTags = append(gotTags, string(tg.Key)+"="+string(tg.Value))
	}
	assert.Equal(t, wantTags, gotTags, "%q", line)
	fields, err := got.Fields()
	require.NoError(t, err, "%q", line)
	require.Len(t, fields, len(p.Fields), "%q", line)
	for _, f := range p.Fields {
		gv, ok := fields[string(f.Key)]
		require.True(t, ok, "field %q missing from %q", f.Key, line)
		switch f.Value.Kind() {
		case lineprotocol.Uint:
			assert.Equal(t, int64(f.Value.UintV()), gv)
		default:
			assert.Equal(t, f.Value.Interface(), gv, "%q", line)
		}
	}
	assert.Equal(t, p.Time, got.UnixNano())
}

func FuzzAppendPointRoundTrip(f *testing.F) {
	f.Add("cpu", "host", "a b", "v", "str\"\\", 1.5, int64(3), int64(0))
	f.Add("m,x", "k=", `v\x`, "f f", "", -0.0, int64(-1), int64(1e18))
	f.Add(`m\`, `\`, `\\`, `=`, "\n", 1e300, int64(math.MinInt64), int64(-1))
	f.Fuzz(func(t *testing.T, m, tk, tv, fk, s string, fl float64, i, ts int64) {
		p := lineproto.Point{Measurement: []byte(m), Time: ts}
		if tk != "" {
			p.Tags = []lineproto.Tag{{Key: []byte(tk), Value: []byte(tv)}}
		}
		if fk == "" || fk == "i" || fk == "s" {
			fk = "f"
		}
		if v, ok := lineprotocol.FloatValue(fl); ok {
			p.Fields = append(p.Fields, lineproto.Field{Key: []byte(fk), Value: v})
		}
		p.Fields = append(p.Fields, lineproto.Field{Key: []byte("i"), Value: lineprotocol.IntValue(i)})
		if v, ok := lineprotocol.StringValue(s); ok {
			p.Fields = append(p.Fields, lineproto.Field{Key: []byte("s"), Value: v})
		}
		checkRoundTrip(t, p)
	})
}

func TestAppendJSONFloat(t *testing.T) {
	for _, f := range []float64{0, 1, -1, 2, 0.1, 1.5, 1e20, 1e21, 123456789e15, 1e-6, 1e-7, 9.99e-7, -1e-7, 3.14159e-300, math.MaxFloat64, math.SmallestNonzeroFloat64, 1 / 3.0} {
		want, err := json.Marshal(f)
		require.NoError(t, err)
		assert.Equal(t, string(want), string(AppendJSONFloat(nil, f)), "%v", f)
	}
}

func FuzzAppendJSONFloat(f *testing.F) {
	f.Add(1.5)
	f.Add(1e-7)
	f.Add(1e21)
	f.Fuzz(func(t *testing.T, x float64) {
		want, err := json.Marshal(x)
		if err != nil {
			return // NaN and Inf have no JSON form; the engines send nil
		}
		got := AppendJSONFloat(nil, x)
		require.Equal(t, string(want), string(got))
		back, err := strconv.ParseFloat(string(got), 64)
		require.NoError(t, err)
		require.Equal(t, x, back)
	})
}

func BenchmarkAppendPoint(b *testing.B) {
	p := point("cpu", [][2]string{{"host", "server-01"}, {"region", "eu-west"}},
		field("usr", fv(12.5)), field("system", fv(1.5)), field("idle", fv(90.25)), field("iowait", fv(0.5)), field("steal", lineprotocol.IntValue(3)))
	line, err := AppendPoint(nil, p)
	require.NoError(b, err)
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	buf := make([]byte, 0, 256)
	for i := 0; i < b.N; i++ {
		buf, _ = AppendPoint(buf[:0], p)
	}
}

func TestAppendKeyAndFields(t *testing.T) {
	cases := []struct {
		name                 string
		p                    lineproto.Point
		key, fields          string
		plainKey, plainField bool
		err                  string
	}{
		{"plain", point("cpu", [][2]string{{"host", "a"}}, field("f", fv(1.5)), field("s", sv("x y"))),
			"cpu,host=a", `f=1.5,s="x y"`, true, true, ""},
		{"escaped tag key", point("cpu", [][2]string{{"a b", "1"}}, field("f", fv(1))),
			`cpu,a\ b=1`, "f=1", false, true, ""},
		{"equals in measurement is not escaped but not plain", point("a=b", nil, field("f", fv(1))),
			"a=b", "f=1", false, true, ""},
		{"quote in measurement", point(`m"`, nil, field("f", fv(1))), `m"`, "f=1", false, true, ""},
		{"literal backslash", point(`m\x`, nil, field("f", fv(1))), `m\x`, "f=1", false, true, ""},
		{"escaped string", point("m", nil, field("s", sv(`a"b`))), "m", `s="a\"b"`, true, false, ""},
		{"quote in field key", point("m", nil, field(`f"`, fv(1))), "m", `f"=1`, true, false, ""},
		{"newline wins over an earlier bad backslash", point("m", [][2]string{{"k", "a\\,b\n"}}, field("f", fv(1))),
			"", "", false, false, "newline"},
		{"NUL", point("m", [][2]string{{"k", "a\x00"}}, field("f", fv(1))), "", "", false, false, "NUL"},
		{"no fields", point("m", nil), "", "", false, false, "no fields"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			key, plainKey, kerr := AppendKey([]byte("x"), tc.p)
			fields, plainFields, ferr := AppendFields([]byte("y"), tc.p)
			if tc.err != "" {
				err := kerr
				if err == nil {
					err = ferr
				}
				var pe *PointError
				require.ErrorAs(t, err, &pe)
				assert.Contains(t, err.Error(), tc.err)
				_, perr := AppendPoint(nil, tc.p)
				assert.Equal(t, perr.Error(), err.Error(), "same message as AppendPoint")
				return
			}
			require.NoError(t, kerr)
			require.NoError(t, ferr)
			assert.Equal(t, "x"+tc.key, string(key))
			assert.Equal(t, "y"+tc.fields, string(fields))
			assert.Equal(t, tc.plainKey, plainKey, "plain key")
			assert.Equal(t, tc.plainField, plainFields, "plain fields")
			line, err := AppendPoint(nil, tc.p)
			require.NoError(t, err)
			assert.Equal(t, tc.key+" "+tc.fields+" 1700000000000000000\n", string(line))
		})
	}
}
