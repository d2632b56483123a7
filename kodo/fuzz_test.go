package kodo_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"

	"github.com/kodo-project/kodo/kodo"
)

// fuzzServer is one gateway shared by every fuzz input (opening an engine
// per input would make the fuzzer crawl).
var fuzzServer = sync.OnceValues(func() (http.Handler, error) {
	dir, err := os.MkdirTemp("", "kodo-fuzz")
	if err != nil {
		return nil, err
	}
	srv, err := kodo.New(kodo.Options{DataDir: dir})
	if err != nil {
		return nil, err
	}
	return srv.Handler(), nil
})

// fuzzPaths are the JSON-body endpoints the fuzzer drives.
var fuzzPaths = []string{
	"/v1/workspace/create", "/v1/read/metrics", "/v1/manage/metrics", "/v1/rewrite", "/v1/modify/dbrp",
	"/v1/measurement/get_rp", "/v1/drop/metrics", "/v1/tscnt", "/v1/cq/create", "/v1/cq/modify", "/v1/cq/delete",
	"/v1/datakit/online?token=x", "/v1/workspace/keypair/create", "/write?p=x", "/query?p=x",
	"/v1/workspace/delete",
}

// FuzzJSONBodies posts arbitrary bodies to every JSON endpoint: the answer
// is never a 5xx and always a well-formed JSON error or envelope.
func FuzzJSONBodies(f *testing.F) {
	for i, seed := range []string{`{}`, `[]`, `{"db":"ifdb_x","command":"SELECT 1"}`, `{"sqls":[{"sql":"SELECT a FROM b"}]}`,
		`{"measurements":[{"measurement":"m","aggr_func":"mean","aggr_period":"1m","aggr_every":"5m"}]}`, `["a"]`, `{"a":`, "\xff"} {
		f.Add(uint8(i), []byte(seed))
	}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		h, err := fuzzServer()
		if err != nil {
			t.Fatal(err)
		}
		path := fuzzPaths[int(which)%len(fuzzPaths)]
		req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
		req.RemoteAddr = "127.0.0.1:1234" // management answers loopback
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s answered %d to %q: %s", path, rec.Code, body, rec.Body.String())
		}
		if rec.Code != http.StatusNoContent && !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("%s answered invalid JSON: %q", path, rec.Body.String())
		}
	})
}
