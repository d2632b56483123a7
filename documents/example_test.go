package documents_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"time"

	"github.com/kodo-project/kodo/documents"
	"github.com/kodo-project/kodo/kodo/kodoapi"
	"github.com/kodo-project/kodo/lineproto"
	"github.com/kodo-project/kodo/storage/docs"
	"github.com/kodo-project/kodo/storage/docs/embedded"
)

func ExampleParseObjects() {
	ds, err := documents.ParseObjects([]byte(`[{"__name":"web-1","__tags":{"__class":"host","zone":"z1"},"__content":"ubuntu"}]`), documents.ParseOptions{})
	fmt.Println(ds[0].Name, ds[0].Class, ds[0].Tags, ds[0].Content, err)
	_, err = documents.ParseObjects([]byte(`[{"__name":"web-2","__tags":{}}]`), documents.ParseOptions{})
	fmt.Println(err)
	// Output:
	// web-1 host map[zone:z1] ubuntu <nil>
	// object 0 (__name "web-2"): __tags.__class is required and must be a non-empty string
}

func ExampleParseLogs() {
	ds, _ := documents.ParseLogs([]byte("nginx,host=a message=\"GET / 200\",status=200i 1\n"), "access", documents.ParseOptions{})
	fmt.Println(ds[0].Source, ds[0].Name, ds[0].Content, ds[0].Fields)
	_, err := documents.ParseLogs([]byte("nginx message=\"ok\"\nnginx\n"), "access", documents.ParseOptions{})
	fmt.Println(err != nil, strings.HasPrefix(err.Error(), "logging: line 2"))
	// Output:
	// access nginx GET / 200 map[status:200]
	// true true
}

func ExampleService_SetPipeline() {
	dir, _ := os.MkdirTemp("", "kodo-documents")
	defer os.RemoveAll(dir)
	store, _ := embedded.Open(dir, embedded.Options{})
	defer store.Close()
	pipes, _ := embedded.OpenPipelines(dir)
	defer pipes.Close()
	// A pipeline that upper-cases nothing but adds a parsed tag.
	fn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, "nginx,parsed=yes message=\"GET / 200\" 1\n")
	}))
	defer fn.Close()
	svc, _ := documents.New(documents.Options{Store: store, Pipelines: pipes, PipelineTimeout: time.Second})
	ctx := context.Background()
	_ = svc.SetPipeline(ctx, "wksp_1", "nginx", fn.URL)
	err := svc.Write(ctx, "wksp_1", docs.KindLogging, "nginx", []byte("nginx message=\"GET / 200\" 1\n"), lineproto.Nanosecond)
	res, _ := svc.Search(ctx, kodoapi.SearchRequest{WorkspaceUUID: "wksp_1", Kind: "logging", Filters: map[string]string{"parsed": "yes"}})
	fmt.Println(err, res.Total, svc.PipelineStats())
	// Output: <nil> 1 {1 1 0 0}
}
