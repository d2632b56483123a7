package loadgen

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
)

func benchGenerator(b *testing.B) *Generator {
	b.Helper()
	g, err := NewGenerator(Shape{}, time.Unix(1_700_000_000, 0), time.Second, 1)
	if err != nil {
		b.Fatal(err)
	}
	return g
}

// BenchmarkAppendBody measures rendering one default body (5,000 lines).
func BenchmarkAppendBody(b *testing.B) {
	g := benchGenerator(b)
	buf := g.AppendBody(nil, 0)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		buf = g.AppendBody(buf[:0], i)
	}
}

// BenchmarkGzipBody measures compressing one default body at the default level.
func BenchmarkGzipBody(b *testing.B) {
	g := benchGenerator(b)
	raw := g.AppendBody(nil, 0)
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		out.Reset()
		zw.Reset(&out)
		zw.Write(raw)
		zw.Close()
	}
}

// BenchmarkGenerate measures the whole pool path on all CPUs.
func BenchmarkGenerate(b *testing.B) {
	g := benchGenerator(b)
	raw := g.AppendBody(nil, 0)
	const n = 8
	b.SetBytes(int64(len(raw)) * n)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := g.Generate(context.Background(), n, 0, 0); err != nil {
			b.Fatal(err)
		}
	}
}
