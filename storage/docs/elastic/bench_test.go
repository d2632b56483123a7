package elastic

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/kodo-project/kodo/storage/docs"
)

// BenchmarkBulkWrite measures the client side of the bulk path: encoding
// 5,000 log lines, sending them and checking the per-item answer, against
// a local server that answers like Elasticsearch without indexing. It
// bounds what one gateway can push; the cluster's own indexing rate is
// not measured here.
func BenchmarkBulkWrite(b *testing.B) {
	const batch = 5000
	answer := `{"took":1,"errors":false,"items":[` + strings.TrimSuffix(strings.Repeat(`{"index":{"_index":"i","_id":"x","status":201}},`, batch), ",") + `]}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		if r.Method == http.MethodPut {
			io.WriteString(w, `{"acknowledged":true}`)
			return
		}
		io.WriteString(w, answer)
	}))
	defer srv.Close()
	s, err := New(srv.URL, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	lines := make([]docs.Document, batch)
	var bytes int64
	for i := range lines {
		c := fmt.Sprintf("GET /api/v1/items/%d 200 upstream=10.0.0.%d latency=%dms user agent curl", i, i%255, i%900)
		lines[i] = docs.Document{Name: "nginx", Source: "nginx", Time: day0 + int64(i), Content: c,
			Tags: map[string]string{"host": fmt.Sprintf("web%d", i%20), "level": "info"}, Fields: map[string]any{"status": int64(200), "latency": 0.5}}
		bytes += int64(len(c))
	}
	ctx := context.Background()
	b.SetBytes(bytes)
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Write(ctx, "wksp_1", docs.KindLogging, lines); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "lines/s")
}
