package documents

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/kodo-project/kodo/lineproto"
	"github.com/kodo-project/kodo/storage/docs"
	"github.com/kodo-project/kodo/storage/docs/embedded"
)

// BenchmarkWriteLogs is the /v1/write/logging path without HTTP: parse a
// 5,000-line body and store it in the embedded store (no pipeline).
func BenchmarkWriteLogs(b *testing.B) {
	st, err := embedded.Open(b.TempDir(), embedded.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	svc, err := New(Options{Store: st})
	if err != nil {
		b.Fatal(err)
	}
	const batch = 5000
	ctx := context.Background()
	seed := 0
	body := func() []byte {
		var sb strings.Builder
		for i := range batch {
			k := seed*batch + i
			fmt.Fprintf(&sb, "nginx,host=web%02d,level=info message=\"GET /api/items/%d 200 upstream timeout=%d\",status=200i,latency=%d.5 %d\n", k%20, k, k%7, k%900, 1709251200000000000+int64(k)*1000000)
		}
		seed++
		return []byte(sb.String())
	}
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		bd := body()
		b.SetBytes(int64(len(bd)))
		b.StartTimer()
		if err := svc.Write(ctx, "wksp_1", docs.KindLogging, "nginx", bd, lineproto.Nanosecond); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "lines/s")
}
