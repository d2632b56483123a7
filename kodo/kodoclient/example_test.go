package kodoclient_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"time"

	"github.com/kodo-project/kodo/influxql"
	"github.com/kodo-project/kodo/kodo"
	"github.com/kodo-project/kodo/kodo/kodoapi"
	"github.com/kodo-project/kodo/kodo/kodoclient"
)

// exampleGateway starts an in-process gateway on the embedded engine and
// returns its URL and a function that stops it and removes its data.
func exampleGateway() (string, func()) {
	dir, err := os.MkdirTemp("", "kodo-example")
	if err != nil {
		panic(err)
	}
	srv, err := kodo.New(kodo.Options{DataDir: dir})
	if err != nil {
		panic(err)
	}
	ts := httptest.NewServer(srv.Handler())
	return ts.URL, func() {
		ts.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		os.RemoveAll(dir)
	}
}

// A workspace is created with the admin client; points are written with
// the workspace token (signed DATAFLUX, gzipped) and read back.
func ExampleClient() {
	url, stop := exampleGateway()
	defer stop()
	ctx := context.Background()

	admin, _ := kodoclient.New(url, kodoclient.Options{}) // loopback: no admin key needed
	ws, err := admin.CreateWorkspace(ctx, kodoapi.CreateWorkspaceRequest{Name: "demo", DefaultRP: "autogen"})
	if err != nil {
		fmt.Println(err)
		return
	}

	c, _ := kodoclient.New(url, kodoclient.Options{Token: ws.Token, Secret: ws.Secret})
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	err = c.Write(ctx,
		kodoclient.Point{Measurement: "cpu", Tags: map[string]string{"host": "web01"}, Fields: map[string]any{"usage": 12.5}, Time: t0},
		kodoclient.Point{Measurement: "cpu", Tags: map[string]string{"host": "web01"}, Fields: map[string]any{"usage": 17.5}, Time: t0.Add(time.Minute)},
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := c.Query(ctx, ws.DBUUID, "SELECT mean(usage) FROM cpu GROUP BY host", kodoclient.WithEpoch("s"))
	if err != nil {
		fmt.Println(err)
		return
	}
	s := res.Results[0].Series[0]
	fmt.Println(s.Name, s.Tags["host"], s.Columns, s.Values[0][s.Column("mean")])

	// Errors carry the gateway's errorCode.
	_, err = c.Query(ctx, ws.DBUUID, "DROP MEASUREMENT cpu")
	var ce *kodoclient.Error
	if errors.As(err, &ce) {
		fmt.Println(ce.Status, ce.Code)
	}
	// Output:
	// cpu web01 [time mean] 15
	// 400 kodo.invalidSQL
}

// A Writer batches points in the background; Close sends the rest and
// returns any request that failed, with its points.
func ExampleWriter() {
	url, stop := exampleGateway()
	defer stop()
	ctx := context.Background()

	admin, _ := kodoclient.New(url, kodoclient.Options{})
	ws, err := admin.CreateWorkspace(ctx, kodoapi.CreateWorkspaceRequest{DefaultRP: "autogen"})
	if err != nil {
		fmt.Println(err)
		return
	}
	c, _ := kodoclient.New(url, kodoclient.Options{Token: ws.Token, Secret: ws.Secret})
	w, err := c.NewWriter(kodoclient.WriterOptions{BatchSize: 100, FlushInterval: 100 * time.Millisecond})
	if err != nil {
		fmt.Println(err)
		return
	}
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 250; i++ {
		p := kodoclient.Point{Measurement: "req", Fields: map[string]any{"ms": i}, Time: t0.Add(time.Duration(i) * time.Second)}
		if err := w.Add(ctx, p); err != nil {
			fmt.Println(err)
			return
		}
	}
	if err := w.Close(ctx); err != nil {
		var we *kodoclient.WriteError
		if errors.As(err, &we) {
			fmt.Printf("%d points not stored; resend or spool %d bytes of line protocol\n", we.Failed, len(we.Lines))
		}
		return
	}
	res, _ := c.Query(ctx, ws.DBUUID, "SELECT count(ms) FROM req")
	fmt.Println(res.Results[0].Series[0].Values[0][1])
	// Output:
	// 250
}

// Rewrite downsamples a query to the number of points a chart can show.
func ExampleClient_Rewrite() {
	url, stop := exampleGateway()
	defer stop()
	ctx := context.Background()

	c, _ := kodoclient.New(url, kodoclient.Options{})
	ws, err := c.CreateWorkspace(ctx, kodoapi.CreateWorkspaceRequest{})
	if err != nil {
		fmt.Println(err)
		return
	}
	out, err := c.Rewrite(ctx, ws.DBUUID, []influxql.Item{{
		SQL:        "SELECT max(usage) FROM cpu GROUP BY time(1m), host",
		Conditions: "region = 'eu'",
		TimeRange:  []int64{1704067200000, 1704088800000}, // 6 hours
		MaxPoint:   100,
		FillOpt:    "none",
	}})
	if err != nil {
		fmt.Println(err)
		return
	}
	st := out[0][0]
	fmt.Println(st.SQL)
	fmt.Println(st.RewriteResults[influxql.DownsampledTo])
	// Output:
	// SELECT max(usage) FROM cpu WHERE (region = 'eu') AND time >= 1704067200000000000 AND time < 1704088800000000000 GROUP BY time(5m), host fill(none)
	// 300000000000
}
