package tsdbclient_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"time"

	"github.com/kodo-project/kodo/storage/meta/sqlite"
	"github.com/kodo-project/kodo/storage/tsengine/embedded"
	"github.com/kodo-project/kodo/tsdb"
	"github.com/kodo-project/kodo/tsdb/tsdbapi"
	"github.com/kodo-project/kodo/tsdb/tsdbclient"
)

// startServer runs a Pandora service on the embedded engine with the key
// pair ak/sk, as Kodo would under /v4/, and returns its URL and a stop
// function. Only the examples need it: a program using the client talks to
// a running server.
func startServer(ak, sk string) (string, func()) {
	dir, err := os.MkdirTemp("", "tsdbclient-example-")
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(dir, "meta.db"), nil)
	if err != nil {
		log.Fatal(err)
	}
	eng, err := embedded.Open(filepath.Join(dir, "engine"), embedded.Options{})
	if err != nil {
		log.Fatal(err)
	}
	svc, err := tsdb.NewService(tsdb.Config{Store: store, Engine: eng})
	if err != nil {
		log.Fatal(err)
	}
	if err := svc.EnsureKeyPair(ctx, ak, sk); err != nil {
		log.Fatal(err)
	}
	srv := httptest.NewServer(svc.Handler())
	return srv.URL, func() {
		srv.Close()
		_ = svc.Close()
		_ = eng.Close()
		_ = store.Close()
		_ = os.RemoveAll(dir)
	}
}

// Create a repo and a series, write points and read them back.
func ExampleClient() {
	url, stop := startServer("my-ak", "my-sk")
	defer stop()
	ctx := context.Background()

	c, err := tsdbclient.NewClient(url, "my-ak", "my-sk", nil)
	if err != nil {
		log.Fatal(err)
	}
	if err := c.CreateRepo(ctx, "app", tsdbapi.CreateRepoInput{Region: "nb"}); err != nil {
		log.Fatal(err)
	}
	if err := c.CreateSeries(ctx, "app", "cpu", tsdbapi.CreateSeriesInput{Retention: "7d"}); err != nil {
		log.Fatal(err)
	}
	t0 := time.Now().Add(-time.Hour).Truncate(time.Minute).UnixNano()
	lines := fmt.Sprintf("cpu,host=a usage=0.25 %d\ncpu,host=b usage=0.75 %d\n", t0, t0)
	if _, err := c.WritePoints(ctx, "app", []byte(lines)); err != nil {
		log.Fatal(err)
	}
	ret, err := c.Query(ctx, "app", "SELECT mean(usage) FROM cpu GROUP BY host", tsdbclient.QueryOptions{})
	if err != nil {
		log.Fatal(err)
	}
	for _, s := range ret.Results[0].Series {
		fmt.Println(s.Tags["host"], s.Columns, s.Values[0][1])
	}
	// Output:
	// a [time mean] 0.25
	// b [time mean] 0.75
}

// API failures are *tsdbapi.Error values carrying the Pandora code.
func ExampleClient_WritePoints() {
	url, stop := startServer("my-ak", "my-sk")
	defer stop()
	c, err := tsdbclient.NewClient(url, "my-ak", "my-sk", nil)
	if err != nil {
		log.Fatal(err)
	}
	// Points go to a repo, and to series created beforehand.
	_, err = c.WritePoints(context.Background(), "nope", []byte("mem used=1\n"))
	var e *tsdbapi.Error
	if errors.As(err, &e) {
		fmt.Println(e.Status, e.Code, errors.Is(err, &tsdbapi.Error{Code: string(tsdbapi.CodeNotFound)}))
	}
	// Output:
	// 404 E6004 true
}

// The client checks its endpoint and keys before any call.
func ExampleNewClient() {
	_, err := tsdbclient.NewClient("localhost:4241", "my-ak", "my-sk", nil)
	fmt.Println(err)
	// Output:
	// tsdb: endpoint "localhost:4241" must be http(s)://host[:port]
}
