// Command tsdb-quickstart shows the Pandora TSDB v4 API of Kodo through its
// Go client (tsdbclient.Client, AK/SK-signed): create a repo and a series with a
// retention, write line protocol, query it with a time-zone shift, list
// the series, then delete the repo.
//
//	go run ./cmd/kodo -tsdb-ak demo-ak -tsdb-sk demo-sk &
//	go run ./examples/tsdb-quickstart -url http://127.0.0.1:9527 -ak demo-ak -sk demo-sk
//
// The key pair defaults to $KODO_TSDB_AK / $KODO_TSDB_SK. It exits
// non-zero when a step fails or an answer is not the expected one.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"strings"
	"time"

	"github.com/kodo-project/kodo/tsdb/tsdbapi"
	"github.com/kodo-project/kodo/tsdb/tsdbclient"
)

func main() {
	url := flag.String("url", "http://127.0.0.1:9527", "Kodo gateway (the /v4 API)")
	ak := flag.String("ak", os.Getenv("KODO_TSDB_AK"), "Pandora access key (the gateway's -tsdb-ak)")
	sk := flag.String("sk", os.Getenv("KODO_TSDB_SK"), "Pandora secret key (the gateway's -tsdb-sk)")
	timeout := flag.Duration("timeout", time.Minute, "give up after")
	flag.Parse()

	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	err := run(ctx, *url, *ak, *sk)
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "tsdb-quickstart:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, url, ak, sk string) error {
	if ak == "" || sk == "" {
		return errors.New("-ak and -sk are required (start the gateway with -tsdb-ak/-tsdb-sk)")
	}
	c, err := tsdbclient.NewClient(url, ak, sk, nil)
	if err != nil {
		return err
	}
	repo := fmt.Sprintf("quickstart_%d", time.Now().UnixNano())
	if err := c.CreateRepo(ctx, repo, tsdbapi.CreateRepoInput{Region: "nb", Metadata: map[string]string{"owner": "quickstart"}}); err != nil {
		return fmt.Errorf("create repo: %w", err)
	}
	fmt.Println("created repo", repo)
	defer func() {
		// Deleting is asynchronous: the repo shows deleting=true until done.
		dctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := c.DeleteRepo(dctx, repo); err != nil {
			fmt.Fprintln(os.Stderr, "tsdb-quickstart: delete repo:", err)
		}
	}()

	if err := c.CreateSeries(ctx, repo, "cpu", tsdbapi.CreateSeriesInput{Retention: "7d"}); err != nil {
		return fmt.Errorf("create series: %w", err)
	}

	// Twelve points, five minutes apart, in the last hour, for two hosts.
	t0 := time.Now().Add(-time.Hour).Truncate(time.Hour)
	var lines strings.Builder
	for i := 0; i < 12; i++ {
		ts := t0.Add(time.Duration(i) * 5 * time.Minute).UnixNano()
		fmt.Fprintf(&lines, "cpu,host=a usage=%d %d\n", i, ts)
		fmt.Fprintf(&lines, "cpu,host=b usage=%d %d\n", 100+i, ts)
	}
	wr, err := c.WritePoints(ctx, repo, []byte(lines.String()))
	if err != nil {
		return fmt.Errorf("write points: %w", err)
	}
	if wr.Dropped != 0 {
		return fmt.Errorf("%d points dropped: %s", wr.Dropped, wr.Reason)
	}
	fmt.Println("wrote 24 points")

	// Series are named bare; the gateway reads them from their retention.
	ret, err := c.Query(ctx, repo, "SELECT mean(usage), count(usage) FROM cpu GROUP BY host", tsdbclient.QueryOptions{})
	if err != nil {
		return fmt.Errorf("query: %w", err)
	}
	if len(ret.Results) != 1 || len(ret.Results[0].Series) != 2 {
		return fmt.Errorf("query answered %+v, want one series per host", ret)
	}
	want := map[string]float64{"a": 5.5, "b": 105.5}
	for _, s := range ret.Results[0].Series {
		mean, err := number(s.Values[0][1])
		if err != nil {
			return err
		}
		count, err := number(s.Values[0][2])
		if err != nil {
			return err
		}
		fmt.Printf("host=%s mean=%g count=%g\n", s.Tags["host"], mean, count)
		if math.Abs(mean-want[s.Tags["host"]]) > 1e-9 || count != 12 {
			return fmt.Errorf("host %s: mean %g count %g, want mean %g count 12", s.Tags["host"], mean, count, want[s.Tags["host"]])
		}
	}

	// Time literals may be read in the caller's zone: here UTC+8.
	local := t0.In(time.FixedZone("CST", 8*3600)).Format("2006-01-02 15:04:05")
	ret, err = c.Query(ctx, repo, fmt.Sprintf("SELECT count(usage) FROM cpu WHERE time >= '%s'", local), tsdbclient.QueryOptions{Timezone: "+08"})
	if err != nil {
		return fmt.Errorf("query with timezone: %w", err)
	}
	if len(ret.Results) != 1 || len(ret.Results[0].Series) != 1 {
		return fmt.Errorf("time-zone query answered %+v", ret)
	}
	n, err := number(ret.Results[0].Series[0].Values[0][1])
	if err != nil {
		return err
	}
	fmt.Printf("count since %s (+08) = %g\n", local, n)
	if n != 24 {
		return fmt.Errorf("time-zone query counted %g points, want 24", n)
	}

	series, err := c.ListSeries(ctx, repo, true)
	if err != nil {
		return fmt.Errorf("list series: %w", err)
	}
	if len(series) != 1 || series[0].Name != "cpu" || series[0].Retention != "7d" {
		return fmt.Errorf("list series answered %+v", series)
	}
	fmt.Printf("series %s retention %s\n", series[0].Name, series[0].Retention)

	// Errors carry the spec's E-codes.
	_, err = c.WritePoints(ctx, repo, []byte("mem used=1\n"))
	if code := tsdbapi.CodeOf(err); code != "E6303" {
		return fmt.Errorf("writing to a missing series answered %v, want E6303", err)
	}
	fmt.Println("writing to a missing series: E6303")
	fmt.Println("ok")
	return nil
}

func number(v any) (float64, error) {
	switch x := v.(type) {
	case float64:
		return x, nil
	case json.Number:
		return x.Float64()
	}
	return 0, fmt.Errorf("not a number: %v (%T)", v, v)
}
