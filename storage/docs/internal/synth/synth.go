// Package synth builds synthetic log documents for the document stores'
// tests, benchmarks and the enginechoice measurement, so they all index
// the same lines.
package synth

import (
	"fmt"
	"strings"
	"time"

	"github.com/kodo-project/kodo/storage/docs"
)

var words = strings.Fields("GET POST PUT DELETE request served failed timeout upstream cache miss hit user login token expired connection reset peer slow query index table disk full retry backoff")

// Logs returns n log lines shaped like nginx access logs (2 tags, 2 fields
// and a ~90-byte message), numbered from seed*n so batches with different
// seeds hold different lines, and the total size of their messages.
func Logs(n, seed int) ([]docs.Document, int64) {
	base := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	out := make([]docs.Document, n)
	var size int64
	for i := range out {
		k := seed*n + i
		var sb strings.Builder
		for j := range 12 {
			if j > 0 {
				sb.WriteByte(' ')
			}
			sb.WriteString(words[(k*7+j*13+k/5)%len(words)])
		}
		fmt.Fprintf(&sb, " id=%d", k)
		out[i] = docs.Document{Kind: docs.KindLogging, Name: "nginx", Source: "nginx", Time: base + int64(k)*int64(time.Millisecond),
			Tags:    map[string]string{"host": fmt.Sprintf("web%02d", k%20), "level": []string{"info", "warn", "error"}[k%3]},
			Fields:  map[string]any{"status": int64(200 + (k%5)*100), "latency": float64(k%1000) / 10},
			Content: sb.String()}
		size += int64(sb.Len())
	}
	return out, size
}
