package embedded

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/influxdata/influxdb/models"
	"github.com/influxdata/line-protocol/v2/lineprotocol"
	"github.com/stretchr/testify/require"

	"github.com/kodo-project/kodo/lineproto"
	"github.com/kodo-project/kodo/storage/tsengine"
)

// parseModelPoints is the reference conversion toModelPoints must match:
// print every point as a 1.x line and parse the body with InfluxDB's own
// parser (what the engine did before the fast path).
func parseModelPoints(b *lineproto.Batch) (pts []models.Point, dropped int) {
	var buf []byte
	lines := 0
	for i := 0; i < b.Len(); i++ {
		var err error
		if buf, err = lineproto.AppendPoint(buf, b.At(i), tsengine.LineOptions); err != nil {
			dropped++
			continue
		}
		lines++
	}
	if lines == 0 {
		return nil, dropped
	}
	pts, _ = models.ParsePointsWithPrecision(buf, time.Now().UTC(), "n")
	return pts, dropped + lines - len(pts)
}

// requireSameConversion checks that the fast path gives the points
// parsing gives (byte-identical keys, the same fields in the same order
// with the same types and values, the same time) and the same number of
// drops. Field text may differ: the fast path keeps a float as its line
// spelled it ("5." where the printed line says "5").
//
// It converts twice: into fresh memory, and into a scratch a conversion
// of other points used before (whose points cached their parsed name,
// tags and fields), as a pooled scratch is.
func requireSameConversion(t testing.TB, b *lineproto.Batch) {
	requireConversion(t, b, nil)
	sc := new(convScratch)
	var other lineproto.Batch
	require.NoError(t, lineproto.Parse([]byte(strings.Repeat("other,zz=1,host=h9 aa=1i,bb=\"s\",f=true 1\n", b.Len()+3)), lineproto.ParseOptions{}, &other))
	var d dropTally
	prev, _ := toModelPoints(&other, &d, sc)
	for _, p := range prev {
		_, _ = p.Fields()
		_ = p.Tags()
		_ = p.Name()
	}
	requireConversion(t, b, sc)
}

func requireConversion(t testing.TB, b *lineproto.Batch, sc *convScratch) {
	want, wantDropped := parseModelPoints(b)
	var d dropTally
	got, org := toModelPoints(b, &d, sc)
	require.Equal(t, wantDropped, d.n, "dropped points (%v)", d.reasons)
	require.Len(t, d.refused, d.n, "every refused point is named")
	for k := range got {
		require.NotContains(t, d.refused, org.at(k), "a converted point is not refused")
	}
	require.Len(t, got, len(want))
	for i := range want {
		require.Equal(t, string(want[i].Key()), string(got[i].Key()), "point %d: want %s, got %s", i, want[i], got[i])
		require.Equal(t, fieldList(t, want[i]), fieldList(t, got[i]), "point %d: want %s, got %s", i, want[i], got[i])
		require.Equal(t, want[i].Time(), got[i].Time())
		require.Equal(t, want[i].Tags(), got[i].Tags())
		wf, werr := want[i].Fields()
		gf, gerr := got[i].Fields()
		require.Equal(t, werr, gerr)
		require.Equal(t, wf, gf)
	}
}

func TestToModelPointsMatchesParse(t *testing.T) {
	sv := func(s string) lineprotocol.Value {
		v, ok := lineprotocol.StringValue(s)
		require.True(t, ok)
		return v
	}
	fv := func(f float64) lineprotocol.Value {
		v, ok := lineprotocol.FloatValue(f)
		require.True(t, ok)
		return v
	}
	type tag = lineproto.Tag
	type field = lineproto.Field
	point := func(m string, tags []tag, fields ...field) lineproto.Point {
		return lineproto.Point{Measurement: []byte(m), Tags: tags, Fields: fields, Time: 1700000000123456789}
	}
	tg := func(k, v string) tag { return tag{Key: []byte(k), Value: []byte(v)} }
	fd := func(k string, v lineprotocol.Value) field { return field{Key: []byte(k), Value: v} }
	long := strings.Repeat("x", models.MaxKeyLength)
	cases := []struct {
		name   string
		points []lineproto.Point
	}{
		{"plain", []lineproto.Point{
			point("cpu", []tag{tg("host", "a"), tg("region", "eu")}, fd("usage", fv(0.5)), fd("n", lineprotocol.IntValue(-3))),
			point("mem", nil, fd("free", lineprotocol.UintValue(7)), fd("ok", lineprotocol.BoolValue(true)), fd("s", sv("hello"))),
		}},
		{"all float forms", []lineproto.Point{
			point("m", nil, fd("a", fv(2)), fd("b", fv(1e21)), fd("c", fv(-1e-7)), fd("d", fv(math.MaxFloat64)), fd("e", fv(math.SmallestNonzeroFloat64))),
			point("m", nil, fd("i", lineprotocol.IntValue(math.MinInt64)), fd("j", lineprotocol.IntValue(math.MaxInt64))),
		}},
		// Escaping changes the order of tag keys: "a " sorts before "a!"
		// raw, but `a\ ` after it escaped, so the parser re-sorts the key.
		{"escaped tag keys re-sorted", []lineproto.Point{
			point("m", []tag{tg("a ", "1"), tg("a!", "2")}, fd("f", fv(1))),
			point("m", []tag{tg("k,k", "v v"), tg("k=k", "v=v")}, fd("f f", fv(1))),
		}},
		{"escapes everywhere", []lineproto.Point{
			point("my m,x=y", []tag{tg("k k,=", `v v,=\x`)}, fd("f f,=", sv(`a "q" \ b`+"\n"))),
			point(`m"q`, []tag{tg(`t"k`, `v"v`)}, fd(`f"k`, fv(1))),
		}},
		{"quotes and backslashes in strings", []lineproto.Point{
			point("m", nil, fd("s", sv(`\`)), fd("t", sv(`"`)), fd("u", sv(`a\"b`))),
		}},
		{"key at the length limit", []lineproto.Point{
			point(long[:models.MaxKeyLength-10], nil, fd("abcdef", fv(1))),
			point(long[:models.MaxKeyLength-12], nil, fd("f", fv(1))),
			point(long, nil, fd("f", fv(1))),
			point("m", nil, fd("f", fv(1))),
		}},
		{"refused by the encoder", []lineproto.Point{
			point("m", nil, fd("u", lineprotocol.UintValue(math.MaxUint64))),
			point("m", nil, fd("f", fv(1))),
			point("m", []tag{tg("k", `v\`)}, fd("f", fv(1))),
		}},
		{"time extremes", []lineproto.Point{
			{Measurement: []byte("m"), Fields: []field{fd("f", fv(1))}, Time: lineproto.MinTime},
			{Measurement: []byte("m"), Fields: []field{fd("f", fv(1))}, Time: lineproto.MaxTime},
			{Measurement: []byte("m"), Fields: []field{fd("f", fv(1))}, Time: 0},
			{Measurement: []byte("m"), Fields: []field{fd("f", fv(1))}, Time: -1},
		}},
		{"unicode", []lineproto.Point{
			point("温度", []tag{tg("城市", "北京")}, fd("值", sv("晴")), fd("v", fv(1))),
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var b lineproto.Batch
			for _, p := range tc.points {
				if err := b.Append(p); err != nil {
					t.Logf("batch refuses %q: %v", p.Measurement, err)
				}
			}
			require.Positive(t, b.Len())
			requireSameConversion(t, &b)
		})
	}
}

// TestToModelPointsCorpus runs the conversion over lineproto's corpus.
func TestToModelPointsCorpus(t *testing.T) {
	files, err := filepath.Glob("../../../lineproto/testdata/corpus/*.lp")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		body, err := os.ReadFile(f)
		require.NoError(t, err)
		var b lineproto.Batch
		_ = lineproto.Parse(body, lineproto.ParseOptions{Now: time.Unix(0, 1e18), AllowUnsigned: true}, &b)
		if b.Len() == 0 {
			continue
		}
		t.Run(filepath.Base(f), func(t *testing.T) { requireSameConversion(t, &b) })
	}
}

// TestToModelPointsRandom compares the two conversions on random names
// drawn from the bytes line protocol treats specially.
func TestToModelPointsRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte(`ab ,="\#` + "\tz\\")
	name := func() []byte {
		n := 1 + r.IntN(6)
		s := make([]byte, n)
		for i := range s {
			s[i] = alphabet[r.IntN(len(alphabet))]
		}
		return s
	}
	for round := 0; round < 300; round++ {
		var b lineproto.Batch
		for i := 0; i < 20; i++ {
			p := lineproto.Point{Measurement: name(), Time: r.Int64N(1 << 62)}
			for j := r.IntN(4); j > 0; j-- {
				p.Tags = append(p.Tags, lineproto.Tag{Key: name(), Value: name()})
			}
			for j := 1 + r.IntN(3); j > 0; j-- {
				v, _ := lineprotocol.StringValueFromBytes(name())
				if r.IntN(2) == 0 {
					v = lineprotocol.IntValue(r.Int64())
				}
				p.Fields = append(p.Fields, lineproto.Field{Key: name(), Value: v})
			}
			_ = b.Append(p) // the batch refuses what it cannot hold
		}
		if b.Len() > 0 {
			requireSameConversion(t, &b)
		}
	}
}

func FuzzToModelPoints(f *testing.F) {
	f.Add([]byte("cpu,host=a,zone=b usage=1.5,n=3i,s=\"x\" 1700000000000000000\n"))
	f.Add([]byte(`m,a\ =1,a!=2 f\,f="q\"\\" 1` + "\n"))
	f.Add([]byte("m,k=v f=t,g=1u -5\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		var b lineproto.Batch
		_ = lineproto.Parse(body, lineproto.ParseOptions{Now: time.Unix(0, 1e18), AllowUnsigned: true}, &b)
		if b.Len() == 0 {
			return
		}
		requireSameConversion(t, &b)
	})
}

// fieldList is a point's fields in order: key, type and value.
func fieldList(t testing.TB, p models.Point) []any {
	var out []any
	it := p.FieldIterator()
	for it.Next() {
		var v any
		var err error
		switch it.Type() {
		case models.Float:
			v, err = it.FloatValue()
		case models.Integer:
			v, err = it.IntegerValue()
		case models.Unsigned:
			v, err = it.UnsignedValue()
		case models.Boolean:
			v, err = it.BooleanValue()
		case models.String:
			v = it.StringValue()
		}
		require.NoError(t, err)
		out = append(out, string(it.FieldKey()), it.Type(), v)
	}
	return out
}

// TestBatchPoints checks that plain points are read from the batch
// (batchPoint) and escaped ones are not, and that modelPoints gives a
// shard's own path the parsed point of each.
func TestBatchPoints(t *testing.T) {
	var b lineproto.Batch
	body := "cpu,host=a,region=eu usage=1.5,n=3i,s=\"x\",ok=true 1000\n" +
		"cpu,host=b\\ c usage=2 2000\n" + // an escaped tag value
		"cpu,host=a,region=eu usage=4 3000\n"
	require.NoError(t, lineproto.Parse([]byte(body), lineproto.ParseOptions{}, &b))
	var d dropTally
	pts, _ := toModelPoints(&b, &d, new(convScratch))
	require.Len(t, pts, 3)
	_, ok0 := pts[0].(*batchPoint)
	_, ok1 := pts[1].(*batchPoint)
	_, ok2 := pts[2].(*batchPoint)
	require.Equal(t, []bool{true, false, true}, []bool{ok0, ok1, ok2})

	parsed, dropped, _ := modelPoints(pts)
	require.Zero(t, dropped)
	want, _ := models.ParsePointsWithPrecision([]byte(body), time.Now(), "n")
	for i := range want {
		_, isBatch := parsed[i].(*batchPoint)
		require.False(t, isBatch, "point %d is parsed", i)
		require.Equal(t, want[i].String(), parsed[i].String())
	}
}
