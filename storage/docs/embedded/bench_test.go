package embedded

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/kodo-project/kodo/storage/docs"
	"github.com/kodo-project/kodo/storage/docs/internal/synth"
)

// benchLines builds n log lines shaped like nginx access logs.
var benchLines = synth.Logs

// openBench opens a store in a temp dir, closed when b ends.
func openBench(b *testing.B) *Store {
	s, err := Open(b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	return s
}

// BenchmarkWrite indexes 5,000-line batches of log lines, each batch one
// durable commit; lines/s is the figure to watch (SetBytes counts the
// message bytes).
func BenchmarkWrite(b *testing.B) {
	s := openBench(b)
	const batch = 5000
	ctx := context.Background()
	seed := 0
	var lines []docs.Document
	var bytes int64
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		lines, bytes = benchLines(batch, seed)
		seed++
		b.SetBytes(bytes)
		b.StartTimer()
		if err := s.Write(ctx, "wksp_1", docs.KindLogging, lines); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "lines/s")
}

// BenchmarkWriteConcurrent has 8 writers (4 per core) sending 500-line
// batches at once, as concurrent HTTP requests do: group commit shares
// one transaction and one fsync among the batches that wait together.
func BenchmarkWriteConcurrent(b *testing.B) {
	s := openBench(b)
	const batch, batches = 500, 400
	ctx := context.Background()
	pre := make([][]docs.Document, batches) // built before the clock runs
	var bytes int64
	for i := range pre {
		var n int64
		pre[i], n = benchLines(batch, i)
		bytes += n
	}
	var next atomic.Int64
	b.SetBytes(bytes / batches)
	b.ReportAllocs()
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			// Past the prepared batches the writes repeat and are
			// skipped as duplicates; keep b.N below batches.
			i := int(next.Add(1)-1) % batches
			if err := s.Write(ctx, "wksp_1", docs.KindLogging, pre[i]); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "lines/s")
}

// BenchmarkSearch runs the searches of README-choice.md over 100,000
// indexed log lines: many hits, a tag filter, words + filter + time range.
func BenchmarkSearch(b *testing.B) {
	s := openBench(b)
	ctx := context.Background()
	const n, batch = 100000, 5000
	var mid int64
	for i := range n / batch {
		lines, _ := benchLines(batch, i)
		if i == n/batch/2 {
			mid = lines[0].Time
		}
		if err := s.Write(ctx, "wksp_1", docs.KindLogging, lines); err != nil {
			b.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name string
		req  docs.SearchRequest
	}{
		{"words", docs.SearchRequest{Query: "timeout upstream"}},
		{"tag", docs.SearchRequest{Filters: []docs.Filter{{Key: "host", Value: "web07"}}}},
		{"words+tag+range", docs.SearchRequest{Query: "reset", Filters: []docs.Filter{{Key: "level", Value: "error"}}, TimeRange: docs.TimeRange{Start: mid}}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			req := tc.req
			req.WorkspaceUUID, req.Kind, req.Limit = "wksp_1", docs.KindLogging, 20
			b.ReportAllocs()
			var total int64
			for b.Loop() {
				res, err := s.Search(ctx, req)
				if err != nil {
					b.Fatal(err)
				}
				total = res.Total
			}
			b.ReportMetric(float64(total), "hits")
		})
	}
}
