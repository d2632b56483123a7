package kodo_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/golang/snappy"
)

// fuzzToken is a workspace (token, db) on the shared fuzz gateway, with a
// few points, for the InfluxDB-compatible endpoints.
var fuzzToken = sync.OnceValues(func() ([2]string, error) {
	h, err := fuzzServer()
	if err != nil {
		return [2]string{}, err
	}
	req := httptest.NewRequest(http.MethodPost, "/v1/workspace/create", strings.NewReader(`{"name":"fuzz"}`))
	req.RemoteAddr = "127.0.0.1:1234" // management answers loopback
	req.Host = "127.0.0.1"
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var env struct {
		Content struct{ Token, DB string } `json:"content"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil || env.Content.Token == "" {
		return [2]string{}, fmt.Errorf("creating the fuzz workspace: %d %s", rec.Code, rec.Body.String())
	}
	ws := [2]string{env.Content.Token, env.Content.DB}
	req = httptest.NewRequest(http.MethodPost, "/write?rp=autogen&db="+ws[1], strings.NewReader("cpu,host=a v=1.5 1000000000\ncpu,host=b v=2 2000000000\n"))
	req.SetBasicAuth("fuzz", ws[0])
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusNoContent {
		return ws, fmt.Errorf("seeding the fuzz workspace: %d %s", rec.Code, rec.Body.String())
	}
	return ws, nil
})

// FuzzInfluxQueryOptions drives /query with arbitrary statements, bound
// parameters, epoch, Accept, chunking and rp: never a 5xx, and JSON
// answers (chunked too) are well-formed documents.
func FuzzInfluxQueryOptions(f *testing.F) {
	f.Add("SELECT v FROM cpu WHERE host = $h", `{"h":"a"}`, "ms", "application/json", "2", true, "autogen")
	f.Add("SHOW DATABASES; SHOW MEASUREMENTS", "", "rfc3339", "application/csv", "", false, "")
	f.Add("SELECT mean(v FROM cpu", `{"h":1.5}`, "", "application/x-msgpack", "0", true, "nope")
	f.Add("CREATE DATABASE x", "null", "h", "*/*;q=0.1, text/csv", "-1", false, "rp1")
	f.Fuzz(func(t *testing.T, q, params, epoch, accept, chunkSize string, chunked bool, rp string) {
		h, err := fuzzServer()
		if err != nil {
			t.Fatal(err)
		}
		ws, err := fuzzToken()
		if err != nil {
			t.Fatal(err)
		}
		form := url.Values{"db": {ws[1]}, "q": {q}, "params": {params}, "epoch": {epoch}, "chunk_size": {chunkSize}, "rp": {rp}}
		if chunked {
			form.Set("chunked", "true")
		}
		req := httptest.NewRequest(http.MethodGet, "/query?"+form.Encode(), nil)
		req.SetBasicAuth("fuzz", ws[0])
		req.Header.Set("Accept", accept)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("/query answered %d to %v: %s", rec.Code, form, rec.Body.String())
		}
		if rec.Header().Get("Content-Type") == "application/json" {
			sc := bufio.NewScanner(bytes.NewReader(rec.Body.Bytes()))
			sc.Buffer(nil, 1<<24)
			for sc.Scan() {
				if !json.Valid(sc.Bytes()) {
					t.Fatalf("invalid JSON document %q for %v", sc.Text(), form)
				}
			}
		}
	})
}

// FuzzPromRemote posts arbitrary bodies, raw and snappy-compressed, to the
// Prometheus remote write and read endpoints: never a 5xx.
func FuzzPromRemote(f *testing.F) {
	f.Add([]byte("\x0a\x10\x0a\x0a\x0a\x08__name__\x12\x02up"), true, false)
	f.Add([]byte("\x0a\x0c\x10\x01\x1a\x08\x12\x03job\x1a\x01("), true, true)
	f.Add([]byte("\xff\xff\xff\xff\x0f"), false, false)
	f.Fuzz(func(t *testing.T, body []byte, compress, read bool) {
		h, err := fuzzServer()
		if err != nil {
			t.Fatal(err)
		}
		ws, err := fuzzToken()
		if err != nil {
			t.Fatal(err)
		}
		if compress {
			body = snappy.Encode(nil, body)
		}
		path := "/api/v1/prom/write"
		if read {
			path = "/api/v1/prom/read"
		}
		req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
		req.SetBasicAuth("fuzz", ws[0])
		req.Header.Set("Content-Encoding", "snappy")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s answered %d: %s", path, rec.Code, rec.Body.String())
		}
	})
}
