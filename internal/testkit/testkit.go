// Package testkit holds the small helpers that tests in several packages
// of the module share. Only _test files import it.
package testkit

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"strings"
	"testing"
)

// Gzip returns b gzip-compressed.
func Gzip(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// NewRequest builds a request with body and the headers given as name,
// value pairs; the name "Host" sets the request's Host.
func NewRequest(t testing.TB, method, url, body string, hdr ...string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i] == "Host" {
			req.Host = hdr[i+1]
			continue
		}
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return req
}
