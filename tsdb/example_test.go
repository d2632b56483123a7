package tsdb

import (
	"context"
	"fmt"
	"log"
	"net/http/httptest"
	"os"

	"github.com/kodo-project/kodo/storage/tsengine/embedded"
	"github.com/kodo-project/kodo/tsdb/tsdbapi"
	"github.com/kodo-project/kodo/tsdb/tsdbclient"
)

// A Service on the embedded engine, served over HTTP and driven through
// the Go client of package tsdbclient.
func ExampleService() {
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

	// Any HTTP client that signs the Pandora way works; tsdbclient is Go's.
	c, err := tsdbclient.NewClient(srv.URL, "my-ak", "my-sk", nil)
	if err != nil {
		log.Fatal(err)
	}
	if err := c.CreateRepo(ctx, "app", tsdbapi.CreateRepoInput{Region: "nb", Metadata: map[string]string{"team": "ops"}}); err != nil {
		log.Fatal(err)
	}
	repo, err := c.GetRepo(ctx, "app")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(repo.Name, repo.Region, repo.Metadata, repo.Deleting)
	// Output:
	// app nb map[team:ops] false
}

// Series named bare in queries are read from the retention policy of
// their retention.
func ExampleRPName() {
	days, _ := ParseRetention("7d")
	fmt.Println(days, RPName("7d"))
	// Output: 7 r7d
}
