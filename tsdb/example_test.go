package tsdb

import (
	"context"
	"fmt"
	"log"
	"net/http/httptest"
	"os"
	"time"

	"github.com/kodo-project/kodo/storage/tsengine/embedded"
)

// A Service on the embedded engine, driven through the Client.
func ExampleClient() {
	dir, err := os.MkdirTemp("", "tsdb-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	eng, err := embedded.Open(dir, embedded.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer eng.Close()
	svc, err := NewService(Config{Store: newMemStore(), Engine: eng})
	if err != nil {
		log.Fatal(err)
	}
	defer svc.Close()
	ctx := context.Background()
	if err := svc.EnsureKeyPair(ctx, "my-ak", "my-sk"); err != nil {
		log.Fatal(err)
	}
	srv := httptest.NewServer(svc.Handler())
	defer srv.Close()

	c, err := NewClient(srv.URL, "my-ak", "my-sk", nil)
	if err != nil {
		log.Fatal(err)
	}
	if err := c.CreateRepo(ctx, "app", CreateRepoInput{Region: "nb"}); err != nil {
		log.Fatal(err)
	}
	if err := c.CreateSeries(ctx, "app", "cpu", CreateSeriesInput{Retention: "7d"}); err != nil {
		log.Fatal(err)
	}
	t0 := time.Now().Add(-time.Hour).Truncate(time.Minute)
	lines := fmt.Sprintf("cpu,host=a usage=0.25 %d\ncpu,host=b usage=0.75 %d\n", t0.UnixNano(), t0.UnixNano())
	if _, err := c.WritePoints(ctx, "app", []byte(lines)); err != nil {
		log.Fatal(err)
	}
	ret, err := c.Query(ctx, "app", "SELECT mean(usage) FROM cpu", QueryOptions{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ret.Results[0].Series[0].Columns, ret.Results[0].Series[0].Values[0][1])

	// Writing to a series that does not exist is refused, naming it.
	_, err = c.WritePoints(ctx, "app", []byte("mem used=1\n"))
	fmt.Println(CodeOf(err))
	// Output:
	// [time mean] 0.5
	// E6303
}

// Errors carry their E-code; errors.Is matches on it.
func ExampleError() {
	err := parseErrorBody(404, []byte(`{"error":"E6303: Series does not exist"}`))
	fmt.Println(err.Code, err.Status, err.Message)
	fmt.Println(CodeSeriesNotFound.Status(), CodeSeriesNotFound.Text())
	// Output:
	// E6303 404 Series does not exist
	// 404 Series does not exist
}

// Series named bare in queries are read from the retention policy of
// their retention.
func ExampleRPName() {
	days, _ := ParseRetention("7d")
	fmt.Println(days, RPName("7d"))
	// Output: 7 r7d
}
