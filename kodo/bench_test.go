package kodo_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kodo-project/kodo/kodo"
	"github.com/kodo-project/kodo/signer"
)

// agentBody is a 5,000-line body as an agent sends it: 10 series of
// 10 tags, 5 fields each, 500 timestamps, gzipped.
func agentBody(b *testing.B, start time.Time) (raw, gzipped []byte) {
	var buf bytes.Buffer
	for i := 0; i < 5000; i++ {
		s := i % 10
		fmt.Fprintf(&buf, "cpu,host=host%02d,region=cn-east-%d,az=az%d,rack=r%d,os=linux,arch=amd64,env=prod,team=core,svc=api,ver=1.%d ",
			s, s%3, s%2, s, s)
		fmt.Fprintf(&buf, "usage_user=%d.5,usage_system=%d.25,usage_idle=%di,load=%d.1,up=true %d\n",
			i%100, i%50, 100-i%100, i%7, start.Add(time.Duration(i/10)*time.Second).UnixNano())
	}
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	_, _ = zw.Write(buf.Bytes())
	_ = zw.Close()
	return buf.Bytes(), z.Bytes()
}

// BenchmarkWriteEndToEnd posts signed, gzipped 5,000-line bodies through
// the HTTP server into the embedded engine, from several writers at once.
// Each write is durable (WAL fsync) before it is answered.
func BenchmarkWriteEndToEnd(b *testing.B) {
	srv, err := kodo.New(kodo.Options{DataDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	defer func() { ts.Close(); _ = srv.Shutdown(b.Context()) }()
	resp, err := http.Post(ts.URL+"/v1/workspace/create", "application/json", strings.NewReader(`{}`))
	if err != nil {
		b.Fatal(err)
	}
	var created struct {
		Content struct{ Token, Secret string }
	}
	err = json.NewDecoder(resp.Body).Decode(&created)
	resp.Body.Close()
	if err != nil {
		b.Fatal(err)
	}
	token, secret := created.Content.Token, created.Content.Secret
	// Distinct time ranges per body, as agents send rising timestamps: a
	// benchmark that rewrote the same points would mostly measure the
	// engine's deduplication of overwritten points.
	const bodies = 64
	start := time.Now().Add(-6 * time.Hour)
	var raw []byte
	gzs := make([][]byte, bodies)
	for i := range gzs {
		raw, gzs[i] = agentBody(b, start.Add(time.Duration(i)*500*time.Second))
	}
	var next atomic.Int64
	client := &http.Client{Transport: signer.NewDatafluxTransport(ts.Client().Transport, token, secret, signer.AlgoSHA256)}

	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	b.SetParallelism(2) // 2 x GOMAXPROCS writers
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			gz := gzs[next.Add(1)%bodies]
			req, _ := http.NewRequest(http.MethodPost, ts.URL+"/v1/write/metrics", bytes.NewReader(gz))
			req.Header.Set("Content-Encoding", "gzip")
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)*5000/b.Elapsed().Seconds(), "points/s")
}
