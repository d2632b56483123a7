package loadgen

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kodo-project/kodo/lineproto"
)

func parseBody(t *testing.T, body []byte) *lineproto.Batch {
	t.Helper()
	var b lineproto.Batch
	require.NoError(t, lineproto.Parse(body, lineproto.ParseOptions{}, &b), "generated body must be valid line protocol")
	return &b
}

func TestGeneratorBodiesAreValidLineProtocol(t *testing.T) {
	base := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name  string
		shape Shape
	}{
		{"default", Shape{}},
		{"one series, one field", Shape{Measurement: "m", TagKeys: []string{"host"}, FieldKeys: []string{"v"}, Series: 1, LinesPerBody: 7}},
		{"more series than lines", Shape{Measurement: "cpu", TagKeys: []string{"host", "az", "rack"}, FieldKeys: []string{"a", "b"}, Series: 1000, LinesPerBody: 300}},
		{"odd split", Shape{Measurement: "disk.io", TagKeys: []string{"dev-name"}, FieldKeys: []string{"r_bytes", "w.bytes"}, Series: 7, LinesPerBody: 100}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g, err := NewGenerator(tc.shape, base, time.Second, 42)
			require.NoError(t, err)
			sh := g.Shape()
			type key struct {
				series string
				ts     int64
			}
			seen := map[key]bool{}
			seriesSeen := map[string]bool{}
			for k := 0; k < 3; k++ {
				body := g.AppendBody(nil, k)
				b := parseBody(t, body)
				require.Equal(t, sh.LinesPerBody, b.Len())
				first, last := g.TimeRange(k)
				for i := 0; i < b.Len(); i++ {
					p := b.At(i)
					assert.Equal(t, sh.Measurement, string(p.Measurement))
					require.Len(t, p.Tags, len(sh.TagKeys))
					require.Len(t, p.Fields, len(sh.FieldKeys))
					for _, f := range p.Fields {
						assert.Equal(t, "float", f.Value.Kind().String(), "field %s is a float", f.Key)
					}
					assert.GreaterOrEqual(t, p.Time, first)
					assert.LessOrEqual(t, p.Time, last)
					sk := string(p.AppendSeriesKey(nil))
					kk := key{sk, p.Time}
					require.False(t, seen[kk], "point %s at %d generated twice: it would overwrite", sk, p.Time)
					seen[kk] = true
					seriesSeen[sk] = true
				}
			}
			assert.Len(t, seriesSeen, min(sh.Series, 3*sh.LinesPerBody))
		})
	}
}

func TestGeneratorIsDeterministic(t *testing.T) {
	base := time.Unix(1_700_000_000, 0)
	g1, err := NewGenerator(Shape{LinesPerBody: 50}, base, time.Second, 7)
	require.NoError(t, err)
	g2, err := NewGenerator(Shape{LinesPerBody: 50}, base, time.Second, 7)
	require.NoError(t, err)
	g3, err := NewGenerator(Shape{LinesPerBody: 50}, base, time.Second, 8)
	require.NoError(t, err)
	assert.Equal(t, g1.AppendBody(nil, 3), g2.AppendBody(nil, 3))
	assert.NotEqual(t, g1.AppendBody(nil, 3), g3.AppendBody(nil, 3), "another seed, other values")
	assert.NotEqual(t, g1.AppendBody(nil, 3), g1.AppendBody(nil, 4))
}

func TestGeneratorGolden(t *testing.T) {
	g, err := NewGenerator(Shape{Series: 3, LinesPerBody: 4, FieldKeys: []string{"a", "b"}}, time.Unix(1_700_000_000, 0), 10*time.Second, 1)
	require.NoError(t, err)
	golden(t, "body.golden", g.AppendBody(nil, 1))
}

func TestGeneratePool(t *testing.T) {
	g, err := NewGenerator(Shape{LinesPerBody: 200}, time.Unix(1_700_000_000, 0), time.Millisecond, 3)
	require.NoError(t, err)
	pool, err := g.Generate(context.Background(), 9, 0, 0)
	require.NoError(t, err)
	require.Equal(t, 9, pool.Len())
	var raw, wire int64
	for k, b := range pool.Bodies {
		assert.Equal(t, k, b.Index)
		zr, err := gzip.NewReader(bytes.NewReader(b.Gzip))
		require.NoError(t, err)
		plain, err := io.ReadAll(zr)
		require.NoError(t, err)
		assert.Equal(t, g.AppendBody(nil, k), plain, "body %d decompresses to what AppendBody renders", k)
		assert.Equal(t, len(plain), b.RawBytes)
		assert.Equal(t, 200, b.Lines)
		raw += int64(b.RawBytes)
		wire += int64(len(b.Gzip))
	}
	assert.Equal(t, raw, pool.RawBytes)
	assert.Equal(t, wire, pool.WireBytes)
	assert.Less(t, wire, raw/2, "gzip shrinks line protocol")

	t.Run("capped", func(t *testing.T) {
		one := int64(len(pool.Bodies[0].Gzip))
		capped, err := g.Generate(context.Background(), 9, 0, 3*one)
		require.NoError(t, err)
		assert.Less(t, capped.Len(), 9)
		assert.GreaterOrEqual(t, capped.Len(), 2, "3 bodies' worth holds at least 2 bodies")
		assert.LessOrEqual(t, capped.WireBytes, 3*one)
		tiny, err := g.Generate(context.Background(), 9, 0, 1)
		require.NoError(t, err)
		assert.Equal(t, 1, tiny.Len(), "a cap below one body still keeps one")
		for k, b := range capped.Bodies {
			assert.Equal(t, k, b.Index, "a capped pool is a prefix, with no hole")
			assert.NotEmpty(t, b.Gzip)
		}
	})
	t.Run("canceled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := g.Generate(ctx, 9, 0, 0)
		assert.ErrorIs(t, err, context.Canceled)
	})
	t.Run("bad level", func(t *testing.T) {
		_, err := g.Generate(context.Background(), 1, 42, 0)
		var ce *ConfigError
		require.ErrorAs(t, err, &ce)
		assert.Equal(t, "gzip-level", ce.Field)
	})
}

func TestShapeValidation(t *testing.T) {
	tests := []struct {
		name  string
		shape Shape
		field string
	}{
		{"measurement with space", Shape{Measurement: "cpu load"}, "measurement"},
		{"measurement time", Shape{Measurement: "time"}, "measurement"},
		{"no tags", Shape{TagKeys: []string{}}, "tags"},
		{"no fields", Shape{FieldKeys: []string{}}, "fields"},
		{"tag with comma", Shape{TagKeys: []string{"a,b"}}, "tags"},
		{"field with equals", Shape{FieldKeys: []string{"a=b"}}, "fields"},
		{"duplicate tag", Shape{TagKeys: []string{"host", "host"}}, "tags"},
		{"tag equals field", Shape{TagKeys: []string{"v"}, FieldKeys: []string{"v"}}, "fields"},
		{"negative series", Shape{Series: -1}, "series"},
		{"huge body", Shape{LinesPerBody: 2_000_000}, "lines"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewGenerator(tc.shape, time.Now(), time.Second, 1)
			var ce *ConfigError
			require.True(t, errors.As(err, &ce), "want *ConfigError, got %v", err)
			if tc.name == "tag equals field" {
				// Map order decides which list is blamed; either names it.
				assert.Contains(t, []string{"tags", "fields"}, ce.Field)
			} else {
				assert.Equal(t, tc.field, ce.Field)
			}
			assert.Contains(t, err.Error(), "-"+ce.Field)
		})
	}
	_, err := NewGenerator(Shape{}, time.Now(), 0, 1)
	var ce *ConfigError
	require.ErrorAs(t, err, &ce)
}

// checkParses fails unless body is valid line protocol of n points.
func checkParses(t *testing.T, body []byte, n int) {
	t.Helper()
	var b lineproto.Batch
	if err := lineproto.Parse(body, lineproto.ParseOptions{}, &b); err != nil {
		t.Fatalf("generated body does not parse: %v", err)
	}
	if b.Len() != n {
		t.Fatalf("%d points, want %d", b.Len(), n)
	}
}
