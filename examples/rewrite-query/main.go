// Command rewrite-query shows InfluxQL rewriting: it writes a day of
// per-minute points, asks /v1/rewrite to fit a GROUP BY time(1m) query into
// at most -max-point buckets (the gateway picks a "nice" interval, adds
// the time range and a condition, sets the fill), then runs the same
// rewrite inside /v1/read/metrics and prints the chart-ready buckets.
//
//	go run ./examples/rewrite-query -url http://127.0.0.1:9527
//
// It exits non-zero when the rewrite or the buckets are not as expected.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/kodo-project/kodo/influxql"
	"github.com/kodo-project/kodo/kodo/kodoapi"
	"github.com/kodo-project/kodo/kodo/kodoclient"
)

func main() {
	url := flag.String("url", "http://127.0.0.1:9527", "Kodo gateway")
	adminKey := flag.String("admin-key", os.Getenv("KODO_ADMIN_KEY"), "admin key (management calls)")
	maxPoint := flag.Int("max-point", 24, "most buckets per series")
	timeout := flag.Duration("timeout", time.Minute, "give up after")
	flag.Parse()

	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	err := run(ctx, *url, *adminKey, *maxPoint)
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "rewrite-query:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, url, adminKey string, maxPoint int) error {
	if maxPoint <= 0 {
		return fmt.Errorf("-max-point must be positive")
	}
	admin, err := kodoclient.New(url, kodoclient.Options{AdminKey: adminKey})
	if err != nil {
		return err
	}
	ws, err := admin.CreateWorkspace(ctx, kodoapi.CreateWorkspaceRequest{Name: "rewrite-query"})
	if err != nil {
		return fmt.Errorf("creating a workspace: %w", err)
	}
	c, err := kodoclient.New(url, kodoclient.Options{Token: ws.Token, Secret: ws.Secret, AdminKey: adminKey})
	if err != nil {
		return err
	}

	// One point a minute for the last 24 hours, for two regions.
	end := time.Now().Truncate(time.Hour)
	start := end.Add(-24 * time.Hour)
	var pts []kodoclient.Point
	for t, i := start, 0; t.Before(end); t, i = t.Add(time.Minute), i+1 {
		for _, region := range []string{"eu", "us"} {
			pts = append(pts, kodoclient.Point{Measurement: "latency", Tags: map[string]string{"region": region},
				Fields: map[string]any{"ms": float64(i % 60)}, Time: t})
		}
	}
	if err := c.Write(ctx, pts...); err != nil {
		return fmt.Errorf("writing: %w", err)
	}
	fmt.Printf("wrote %d points from %s to %s\n", len(pts), start.Format(time.RFC3339), end.Format(time.RFC3339))

	item := influxql.Item{
		SQL:        "SELECT max(ms) FROM latency GROUP BY time(1m)",
		Conditions: "region = 'eu'",
		TimeRange:  []int64{start.UnixMilli(), end.UnixMilli() - 1},
		MaxPoint:   maxPoint,
		FillOpt:    "none",
	}
	out, err := c.Rewrite(ctx, ws.DBUUID, []influxql.Item{item})
	if err != nil {
		return fmt.Errorf("rewrite: %w", err)
	}
	if len(out) != 1 || len(out[0]) != 1 || out[0][0].Error != "" {
		return fmt.Errorf("rewrite answered %+v", out)
	}
	st := out[0][0]
	fmt.Println("rewritten:", st.SQL)
	bucket, err := nanos(st.RewriteResults[influxql.DownsampledTo])
	if err != nil {
		return fmt.Errorf("rewrite_results.%s: %w", influxql.DownsampledTo, err)
	}
	fmt.Println("bucket:", time.Duration(bucket))
	if 24*time.Hour/time.Duration(bucket) > time.Duration(maxPoint) {
		return fmt.Errorf("bucket %s gives more than %d points over 24h", time.Duration(bucket), maxPoint)
	}
	if !strings.Contains(st.SQL, "region = 'eu'") {
		return fmt.Errorf("the condition is missing from %q", st.SQL)
	}

	// The same rewrite inside a read: the buckets a chart would draw.
	res, err := c.Query(ctx, ws.DBUUID, item.SQL, kodoclient.WithRewrite(item))
	if err != nil {
		return fmt.Errorf("read with rewrite: %w", err)
	}
	if len(res.Results) != 1 || len(res.Results[0].Series) != 1 {
		return fmt.Errorf("read answered %d results, want one series", len(res.Results))
	}
	s := res.Results[0].Series[0]
	want := int(24 * time.Hour / time.Duration(bucket))
	if len(s.Values) < want || len(s.Values) > want+1 {
		return fmt.Errorf("%d buckets, want %d", len(s.Values), want)
	}
	for _, row := range s.Values {
		ms, _ := row[0].(json.Number).Int64()
		fmt.Printf("  %s  max=%v\n", time.UnixMilli(ms).UTC().Format("2006-01-02 15:04"), row[s.Column("max")])
	}
	fmt.Printf("ok: %d buckets of %s\n", len(s.Values), time.Duration(bucket))
	return nil
}

// nanos reads a JSON number (json.Number after the client's decoding).
func nanos(v any) (int64, error) {
	switch x := v.(type) {
	case json.Number:
		return x.Int64()
	case float64:
		return int64(x), nil
	}
	return 0, fmt.Errorf("not a number: %v", v)
}
