package tsdb

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	iql "github.com/influxdata/influxql"

	"github.com/kodo-project/kodo/lineproto"
	"github.com/kodo-project/kodo/signer"
	"github.com/kodo-project/kodo/storage/tsengine"
)

// discardEngine accepts everything and stores nothing: it isolates the
// service's own cost (signature, parsing, series lookup, RP split).
type discardEngine struct{}

func (discardEngine) CreateDatabase(context.Context, string, []tsengine.RetentionPolicy) error {
	return nil
}
func (discardEngine) DropDatabase(context.Context, string) error { return nil }
func (discardEngine) WritePoints(context.Context, string, string, *lineproto.Batch) error {
	return nil
}
func (discardEngine) Query(context.Context, string, *iql.Query, tsengine.QueryOptions) ([]tsengine.Result, error) {
	return []tsengine.Result{{}}, nil
}
func (discardEngine) DropMeasurement(context.Context, string, string) error { return nil }
func (discardEngine) Ping(context.Context) error                            { return nil }
func (discardEngine) Close() error                                          { return nil }

// pointsBody is n lines over 10 hosts and two series of different
// retentions, 5 fields each.
func pointsBody(n int) []byte {
	var b bytes.Buffer
	t0 := time.Now().Add(-time.Hour).UnixNano()
	for i := range n {
		m := "cpu"
		if i%2 == 1 {
			m = "mem"
		}
		fmt.Fprintf(&b, "%s,host=h%d,region=nb a=%d.5,b=%di,c=\"s%d\",d=true,e=%d %d\n", m, i%10, i, i, i%7, i, t0+int64(i))
	}
	return b.Bytes()
}

func benchWrite(b *testing.B, eng tsengine.Engine) {
	f := newFixture(b, eng, nil)
	mustOK(b, f.call("POST", "/v4/repos/bench", `{"region":"nb"}`))
	mustOK(b, f.call("POST", "/v4/repos/bench/series/cpu", `{"retention":"1d"}`))
	mustOK(b, f.call("POST", "/v4/repos/bench/series/mem", `{"retention":"7d"}`))
	body := pointsBody(5000)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		r := httptest.NewRequest("POST", "/v4/repos/bench/points", bytes.NewReader(body))
		r.Header.Set("Content-Type", "text/plain")
		r.Header.Set("Date", time.Now().UTC().Format("Mon, 02 Jan 2006 15:04:05 GMT"))
		r.Header.Set("Authorization", "Pandora "+testAK+":"+signer.SignPandora(testSK, signer.PandoraStringToSign("POST", r.Header, r.URL.Path)))
		if a := serve(f.h, r); a.Status != 200 {
			b.Fatalf("%d %s", a.Status, a.Body)
		}
	}
	b.ReportMetric(float64(5000*b.N)/b.Elapsed().Seconds(), "points/s")
}

// BenchmarkWritePointsService: 5,000 lines per request, two retentions,
// the engine discarding — the service's own overhead.
func BenchmarkWritePointsService(b *testing.B) { benchWrite(b, discardEngine{}) }

// BenchmarkWritePointsEmbedded: the same on the embedded engine (WAL fsync).
func BenchmarkWritePointsEmbedded(b *testing.B) { benchWrite(b, openEngine(b)) }

// BenchmarkQueryRewrite: guard, source resolution and timezone shift of a
// query naming a series, a regex and a view (engine discarding).
func BenchmarkQueryRewrite(b *testing.B) {
	f := newFixture(b, discardEngine{}, nil)
	mustOK(b, f.call("POST", "/v4/repos/q", `{"region":"nb"}`))
	for _, s := range []string{"cpu", "mem", "disk"} {
		mustOK(b, f.call("POST", "/v4/repos/q/series/"+s, `{"retention":"7d"}`))
	}
	mustOK(b, f.call("POST", "/v4/repos/q/views/hot", `{"sql":"SELECT max(a) FROM cpu GROUP BY time(1m)","retention":"7d"}`))
	body := []byte(`{"sql":"SELECT mean(a) FROM cpu WHERE time > '2016-06-21T12:00:00Z' GROUP BY time(1h); SELECT * FROM /^(mem|disk)$/; SELECT * FROM hot"}`)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		r := f.signed("POST", "/v4/repos/q/query?timezone=%2B08", "application/json", body, testAK, testSK)
		if a := serve(f.h, r); a.Status != 200 {
			b.Fatalf("%d %s", a.Status, a.Body)
		}
	}
}
