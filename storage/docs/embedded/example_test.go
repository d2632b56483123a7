package embedded_test

import (
	"context"
	"fmt"
	"os"

	"github.com/kodo-project/kodo/storage/docs"
	"github.com/kodo-project/kodo/storage/docs/embedded"
)

func Example() {
	dir, _ := os.MkdirTemp("", "kodo-docs")
	defer os.RemoveAll(dir)
	s, err := embedded.Open(dir, embedded.Options{})
	if err != nil {
		panic(err)
	}
	defer s.Close()
	ctx := context.Background()
	err = s.Write(ctx, "wksp_1", docs.KindLogging, []docs.Document{
		{Name: "nginx", Source: "nginx", Time: 1, Tags: map[string]string{"host": "web1"}, Content: "GET / 200"},
		{Name: "nginx", Source: "nginx", Time: 2, Tags: map[string]string{"host": "web2"}, Content: "GET /login 500 upstream timeout"},
	})
	if err != nil {
		panic(err)
	}
	res, _ := s.Search(ctx, docs.SearchRequest{WorkspaceUUID: "wksp_1", Kind: docs.KindLogging,
		Query: "timeout", Filters: []docs.Filter{{Key: "host", Value: "web2"}}})
	fmt.Println(res.Total, res.Docs[0].Content)
	// Output: 1 GET /login 500 upstream timeout
}

func ExampleOpenPipelines() {
	dir, _ := os.MkdirTemp("", "kodo-pipelines")
	defer os.RemoveAll(dir)
	p, err := embedded.OpenPipelines(dir)
	if err != nil {
		panic(err)
	}
	defer p.Close()
	ctx := context.Background()
	_ = p.SetPipeline(ctx, docs.Pipeline{WorkspaceUUID: "wksp_1", Source: "nginx", URL: "http://127.0.0.1:9000/parse"})
	pl, ok, _ := p.Pipeline(ctx, "wksp_1", "nginx")
	fmt.Println(ok, pl.URL)
	// Output: true http://127.0.0.1:9000/parse
}
