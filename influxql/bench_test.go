package influxql

import (
	"testing"
	"time"

	iql "github.com/influxdata/influxql"
)

// BenchmarkRewriteGolden measures parse + rewrite + print over every golden
// item; ns/stmt is the figure to compare with the 50 µs budget.
func BenchmarkRewriteGolden(b *testing.B) {
	cases := loadGolden(b)
	var items []Item
	var bytes int64
	stmts := 0
	for _, c := range cases {
		if c.ExpectError != "" {
			continue
		}
		items = append(items, c.Item)
		bytes += int64(len(c.Item.SQL))
		stmts += len(c.Expect)
	}
	now := time.Unix(1586500000, 0)
	b.SetBytes(bytes)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for _, it := range items {
			if _, err := Rewrite("mydb", it, now); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(stmts), "ns/stmt")
}

// BenchmarkGuard measures parse + scope check of a typical dashboard query.
func BenchmarkGuard(b *testing.B) {
	const q = `SELECT mean("usage_idle") FROM "mydb"."autogen"."cpu" WHERE "host" =~ /^(a|b)$/ AND time > now() - 6h GROUP BY time(1m), "host" fill(null); SELECT max(x) FROM (SELECT last(v) AS x FROM mem GROUP BY time(5m))`
	b.SetBytes(int64(len(q)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Guard(q, "mydb", AllowRead); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkShiftTimezone measures the shift alone, on a parsed query.
func BenchmarkShiftTimezone(b *testing.B) {
	const q = "SELECT value FROM cpu WHERE time > '2016-06-21T12:00:00Z' AND time < '2016-06-22T12:00:00Z' AND host = 'a'"
	b.SetBytes(int64(len(q)))
	b.ReportAllocs()
	for b.Loop() {
		query, err := iql.ParseQuery(q)
		if err != nil {
			b.Fatal(err)
		}
		if err := ShiftTimezone(query, "+08"); err != nil {
			b.Fatal(err)
		}
	}
}
