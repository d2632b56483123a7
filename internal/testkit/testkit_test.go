package testkit

import (
	"bytes"
	"compress/gzip"
	"io"
	"testing"
)

func TestGzip(t *testing.T) {
	zr, err := gzip.NewReader(bytes.NewReader(Gzip(t, []byte("cpu v=1\n"))))
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(zr)
	if err != nil || string(got) != "cpu v=1\n" {
		t.Fatalf("got %q, %v", got, err)
	}
}

func TestNewRequest(t *testing.T) {
	req := NewRequest(t, "POST", "http://127.0.0.1/x", "body", "Host", "evil.example", "Origin", "http://evil.example")
	if req.Host != "evil.example" || req.Header.Get("Origin") != "http://evil.example" || req.Header.Get("Host") != "" {
		t.Fatalf("host %q, headers %v", req.Host, req.Header)
	}
}
