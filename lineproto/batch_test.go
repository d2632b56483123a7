package lineproto

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/influxdata/line-protocol/v2/lineprotocol"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func sv(s string) lineprotocol.Value {
	v, ok := lineprotocol.StringValue(s)
	if !ok {
		panic("bad string")
	}
	return v
}

func fv(f float64) lineprotocol.Value {
	v, ok := lineprotocol.FloatValue(f)
	if !ok {
		panic("bad float")
	}
	return v
}

func TestParsePrecision(t *testing.T) {
	cases := []struct {
		in   string
		want Precision
		name string
	}{
		{"", Nanosecond, "ns"}, {"n", Nanosecond, "ns"}, {"ns", Nanosecond, "ns"},
		{"u", Microsecond, "us"}, {"us", Microsecond, "us"}, {"µ", Microsecond, "us"},
		{"ms", Millisecond, "ms"}, {"s", Second, "s"}, {"m", Minute, "m"}, {"h", Hour, "h"},
	}
	for _, c := range cases {
		p, err := ParsePrecision(c.in)
		require.NoError(t, err, c.in)
		assert.Equal(t, c.want, p, c.in)
		assert.Equal(t, c.name, p.String())
		back, err := ParsePrecision(p.String())
		require.NoError(t, err)
		assert.Equal(t, p, back, "String must parse back")
	}
	for _, bad := range []string{"x", "NS", "sec", " s", "mu"} {
		_, err := ParsePrecision(bad)
		require.Error(t, err, bad)
		assert.Contains(t, err.Error(), "unknown precision")
	}
	assert.Equal(t, time.Hour, Hour.Duration())
	assert.Equal(t, "Precision(9)", Precision(9).String())
	assert.False(t, Precision(9).Valid())
}

func TestAppendCopiesSortsAndEncodes(t *testing.T) {
	var b Batch
	meas := []byte("cpu load")
	p := Point{
		Measurement: meas,
		Tags: []Tag{
			{Key: []byte("zone"), Value: []byte("eu west")},
			{Key: []byte("host"), Value: []byte("a,b=c")},
			{Key: []byte("empty"), Value: nil}, // dropped like influxd
		},
		Fields: []Field{
			{Key: []byte("value"), Value: fv(1.5)},
			{Key: []byte("n"), Value: lineprotocol.IntValue(-3)},
			{Key: []byte("msg"), Value: sv(`say "hi" \o/`)},
			{Key: []byte("n"), Value: lineprotocol.IntValue(7)}, // last wins
			{Key: []byte("ok"), Value: lineprotocol.BoolValue(true)},
			{Key: []byte("u"), Value: lineprotocol.UintValue(1 << 63)},
		},
		Time: 1_600_000_000_123_456_789,
	}
	require.NoError(t, b.Append(p))
	copy(meas, "XXXX") // the batch holds its own copy
	require.Equal(t, 1, b.Len())
	got := b.At(0)
	assert.Equal(t, "cpu load", string(got.Measurement))
	require.Len(t, got.Tags, 2)
	assert.Equal(t, "host", string(got.Tags[0].Key))
	assert.Equal(t, "zone", string(got.Tags[1].Key))
	require.Len(t, got.Fields, 5)
	assert.Equal(t, int64(7), got.Fields[1].Value.IntV())

	out := string(b.AppendLineProtocol(nil, Nanosecond))
	want := `cpu\ load,host=a\,b\=c,zone=eu\ west value=1.5,n=7i,msg="say \"hi\" \\o/",ok=true,u=9223372036854775808u 1600000000123456789` + "\n"
	assert.Equal(t, want, out)
	assert.Equal(t, strings.TrimSuffix(want, "\n"), got.String())

	assert.Equal(t, `cpu\ load,host=a\,b\=c,zone=eu\ west`, string(got.AppendSeriesKey(nil)))

	for prec, ts := range map[Precision]string{
		Microsecond: "1600000000123456", Millisecond: "1600000000123",
		Second: "1600000000", Minute: "26666666", Hour: "444444",
	} {
		line := string(got.AppendLineProtocol(nil, prec))
		assert.True(t, strings.HasSuffix(line, " "+ts+"\n"), "%v: %s", prec, line)
	}
}

func TestAppendRejects(t *testing.T) {
	f := []Field{{Key: []byte("v"), Value: fv(1)}}
	cases := []struct {
		name string
		p    Point
		msg  string
	}{
		{"empty measurement", Point{Fields: f}, "measurement is empty"},
		{"no fields", Point{Measurement: []byte("m")}, "at least one field"},
		{"comment measurement", Point{Measurement: []byte("#m"), Fields: f}, "may not start with"},
		{"bad utf8 measurement", Point{Measurement: []byte("m\xff"), Fields: f}, "not valid UTF-8"},
		{"newline in tag value", Point{Measurement: []byte("m"), Tags: []Tag{{Key: []byte("k"), Value: []byte("a\nb")}}, Fields: f}, "newline"},
		{"trailing backslash", Point{Measurement: []byte("m"), Tags: []Tag{{Key: []byte("k"), Value: []byte(`a\`)}}, Fields: f}, "backslash"},
		{"empty tag key", Point{Measurement: []byte("m"), Tags: []Tag{{Key: nil, Value: []byte("x")}}, Fields: f}, "tag key is empty"},
		{"time tag", Point{Measurement: []byte("m"), Tags: []Tag{{Key: []byte("time"), Value: []byte("x")}}, Fields: f}, `"time"`},
		{"duplicate tag", Point{Measurement: []byte("m"), Tags: []Tag{{Key: []byte("k"), Value: []byte("x")}, {Key: []byte("a"), Value: []byte("x")}, {Key: []byte("k"), Value: []byte("y")}}, Fields: f}, `duplicate tag key "k"`},
		{"empty field key", Point{Measurement: []byte("m"), Fields: []Field{{Value: fv(1)}}}, "field key is empty"},
		{"only time field", Point{Measurement: []byte("m"), Fields: []Field{{Key: []byte("time"), Value: fv(1)}}}, `"time"`},
		{"time out of range", Point{Measurement: []byte("m"), Fields: f, Time: 1<<63 - 1}, "outside the range"},
	}
	var b Batch
	require.NoError(t, b.Append(Point{Measurement: []byte("keep"), Fields: f}))
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := b.Append(c.p)
			require.Error(t, err)
			var pe *PointError
			require.ErrorAs(t, err, &pe)
			assert.Contains(t, err.Error(), c.msg)
			require.Equal(t, 1, b.Len(), "a refused point leaves the batch unchanged")
			assert.Len(t, b.tags, 0)
			assert.Len(t, b.fields, 1)
		})
	}
}

func TestAppendTimeFieldDroppedWhenOthersRemain(t *testing.T) {
	var b Batch
	require.NoError(t, b.Append(Point{Measurement: []byte("m"), Fields: []Field{
		{Key: []byte("time"), Value: fv(1)}, {Key: []byte("v"), Value: fv(2)},
	}}))
	assert.Equal(t, "m v=2 0\n", string(b.AppendLineProtocol(nil, Nanosecond)))
}

func TestDedupFields(t *testing.T) {
	// Sizes on both sides of the small/large strategy switch.
	for _, tc := range []struct{ n, unique int }{{6, 3}, {30, 15}, {40, 20}, {100, 7}} {
		t.Run(fmt.Sprint(tc.n), func(t *testing.T) {
			var b Batch
			p := Point{Measurement: []byte("m")}
			for i := 0; i < tc.n; i++ {
				p.Fields = append(p.Fields, Field{Key: []byte{'a' + byte(i%tc.unique)}, Value: lineprotocol.IntValue(int64(i))})
			}
			require.NoError(t, b.Append(p))
			got := b.At(0)
			require.Len(t, got.Fields, tc.unique)
			last := (tc.n - 1) / tc.unique * tc.unique
			for i, f := range got.Fields {
				assert.Equal(t, string(rune('a'+i)), string(f.Key), "first position kept")
				want := int64(last + i)
				if last+i >= tc.n {
					want -= int64(tc.unique)
				}
				assert.Equal(t, want, f.Value.IntV(), "last value wins")
			}
		})
	}
}

func TestAddPoint(t *testing.T) {
	var b Batch
	ts := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	err := b.AddPoint("disk", map[string]string{"path": "/var", "host": "h1", "blank": ""}, map[string]any{
		"free": int64(10), "used_pct": 12.5, "ok": true, "dev": "sda1", "inodes": uint64(3),
		"small": uint16(4), "i": 5, "f32": float32(0.5), "raw": []byte("x"),
	}, ts)
	require.NoError(t, err)
	assert.Equal(t, `disk,host=h1,path=/var dev="sda1",f32=0.5,free=10i,i=5i,inodes=3u,ok=true,raw="x",small=4i,used_pct=12.5 1714979289`+"\n",
		string(b.AppendLineProtocol(nil, Second)))

	for name, fields := range map[string]map[string]any{
		"NaN":         {"v": nanValue()},
		"unsupported": {"v": struct{}{}},
		"nil":         {"v": nil},
		"bad utf8":    {"v": "\xff"},
	} {
		err := b.AddPoint("m", nil, fields, ts)
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), `field "v"`, name)
	}
	require.Error(t, b.AddPoint("m", nil, map[string]any{"v": 1}, time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)))
	require.NoError(t, b.AddPoint("m", nil, map[string]any{"v": 1}, time.Time{}))
	assert.InDelta(t, time.Now().UnixNano(), b.At(1).Time, float64(time.Minute))
}

func nanValue() float64 {
	z := 0.0
	return z / z
}

func TestResetReusesAndChunksStayValid(t *testing.T) {
	var b Batch
	long := strings.Repeat("x", 3000)
	var held []Point
	for i := 0; i < 20; i++ {
		require.NoError(t, b.AddPoint("m"+long, map[string]string{"k": long}, map[string]any{"s": long}, time.Unix(0, int64(i))))
		held = append(held, b.At(i))
	}
	// Points taken before the arena grew keep their content.
	for i, p := range held {
		assert.Equal(t, "m"+long, string(p.Measurement))
		assert.Equal(t, long, string(p.Tags[0].Value))
		assert.Equal(t, long, p.Fields[0].Value.StringV())
		assert.Equal(t, int64(i), p.Time)
	}
	require.Greater(t, b.spilled, 0)
	b.Reset()
	assert.Equal(t, 0, b.Len())
	assert.Equal(t, 0, b.spilled)
	assert.GreaterOrEqual(t, cap(b.arena), 20*9000)
}

// TestSortTags checks the in-place sort (and the offsets moved with it)
// against a stable library sort, on keys that share first bytes and not.
func TestSortTags(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	keys := []string{"a", "ab", "abc", "b", "az", "host", "region", "zone", "h", "", "é", "B"}
	for round := 0; round < 500; round++ {
		n := r.IntN(len(keys) + 1)
		perm := r.Perm(len(keys))[:n]
		tags := make([]Tag, n)
		pos := make([]int32, n)
		for i, k := range perm {
			tags[i] = Tag{Key: []byte(keys[k]), Value: []byte{byte(i)}}
			pos[i] = int32(100 + i)
		}
		want := slices.Clone(tags)
		slices.SortStableFunc(want, func(a, b Tag) int { return bytes.Compare(a.Key, b.Key) })
		sortTags(tags, pos)
		require.Equal(t, want, tags, "round %d", round)
		for i, tg := range tags {
			// Value holds the original index, pos the original offset.
			require.Equal(t, int32(100+int(tg.Value[0])), pos[i])
		}
	}
	sortTags(nil, nil)
}

// TestSortTagsMany covers more tags than sortTags sorts on the stack.
func TestSortTagsMany(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{31, 32, 33, 100} {
		tags := make([]Tag, n)
		pos := make([]int32, n)
		for i, k := range r.Perm(n) {
			tags[i] = Tag{Key: fmt.Appendf(nil, "k%03d", k)}
			pos[i] = int32(k)
		}
		sortTags(tags, pos)
		for i := range tags {
			require.Equal(t, fmt.Sprintf("k%03d", i), string(tags[i].Key), "n=%d", n)
			require.Equal(t, int32(i), pos[i], "n=%d", n)
		}
	}
}
