package clickhouse

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/kodo-project/kodo/lineproto"
)

// BenchmarkWritePoints writes 5,000-line batches (10 series x 5 fields,
// two tags) into one measurement of a real server and reports rows/s.
func BenchmarkWritePoints(b *testing.B) {
	f := newFixture(b, Options{})
	ctx := context.Background()
	const lines = 5000
	var body strings.Builder
	for i := range lines {
		fmt.Fprintf(&body, "cpu,host=h%d,dc=dc%d usage_user=%d.5,usage_system=%d.25,usage_idle=90.5,n=%di,ok=true %d\n",
			i%10, i%3, i%100, i%7, i, 1_600_000_000_000_000_000+int64(i)*1_000_000)
	}
	var batch lineproto.Batch
	require.NoError(b, lineproto.Parse([]byte(body.String()), lineproto.ParseOptions{}, &batch))
	require.NoError(b, f.s.WritePoints(ctx, f.db, &batch)) // table creation outside the timing
	b.SetBytes(int64(body.Len()))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := f.s.WritePoints(ctx, f.db, &batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)*lines/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkCheckReadCommand measures the read-command check.
func BenchmarkCheckReadCommand(b *testing.B) {
	cmd := "SELECT c.host, avg(c.usage) AS u FROM ifdb_1.cpu AS c ANY LEFT JOIN mem AS m USING host WHERE c.host IN (SELECT host FROM hosts) GROUP BY c.host ORDER BY u DESC LIMIT 10"
	b.SetBytes(int64(len(cmd)))
	b.ReportAllocs()
	for b.Loop() {
		if err := CheckReadCommand(cmd, "ifdb_1"); err != nil {
			b.Fatal(err)
		}
	}
}
