package lineproto

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// benchBody returns a body of n lines shaped like agent metrics: tags
// tags and fields fields per line, mixed value types, ns timestamps.
func benchBody(n, tags, fields int) []byte {
	var sb strings.Builder
	for i := 0; i < n; i++ {
		sb.WriteString("system_metrics")
		for t := 0; t < tags; t++ {
			fmt.Fprintf(&sb, ",tag%02d=value-%d-%d", t, t, i%50)
		}
		for f := 0; f < fields; f++ {
			if f == 0 {
				sb.WriteByte(' ')
			} else {
				sb.WriteByte(',')
			}
			switch f % 4 {
			case 0:
				fmt.Fprintf(&sb, "field%02d=%d.%03d", f, i, f)
			case 1:
				fmt.Fprintf(&sb, "field%02d=%di", f, i*f)
			case 2:
				fmt.Fprintf(&sb, "field%02d=\"status %d ok\"", f, f)
			default:
				fmt.Fprintf(&sb, "field%02d=true", f)
			}
		}
		fmt.Fprintf(&sb, " %d\n", 1700000000000000000+int64(i)*int64(time.Second))
	}
	return []byte(sb.String())
}

func BenchmarkParse(b *testing.B) {
	benchParse(b, benchBody(5000, 10, 10), 5000)
}

// benchParse parses body (of n points) b.N times into one Batch, warmed
// up first so the figures show the steady state of a pooled Batch.
func benchParse(b *testing.B, body []byte, n int) {
	var batch Batch
	if err := Parse(body, ParseOptions{}, &batch); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		batch.Reset()
		if err := Parse(body, ParseOptions{}, &batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "points/s")
}

func BenchmarkAppendLineProtocol(b *testing.B) {
	body := benchBody(5000, 10, 10)
	var batch Batch
	if err := Parse(body, ParseOptions{}, &batch); err != nil {
		b.Fatal(err)
	}
	out := batch.AppendLineProtocol(nil, Nanosecond)
	b.SetBytes(int64(len(out)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		out = batch.AppendLineProtocol(out[:0], Nanosecond)
	}
	b.ReportMetric(float64(5000*b.N)/b.Elapsed().Seconds(), "points/s")
}

func BenchmarkAppendSeriesKey(b *testing.B) {
	var batch Batch
	if err := Parse(benchBody(5000, 10, 10), ParseOptions{}, &batch); err != nil {
		b.Fatal(err)
	}
	var key []byte
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		key = batch.At(i % 5000).AppendSeriesKey(key[:0])
	}
}

// BenchmarkParseUnsortedTags parses agent-style lines whose tags are not
// in key order (host, region, az, ...), so every point is sorted.
func BenchmarkParseUnsortedTags(b *testing.B) {
	var sb strings.Builder
	for i := 0; i < 5000; i++ {
		s := i % 10
		fmt.Fprintf(&sb, "cpu,host=host%02d,region=cn-east-%d,az=az%d,rack=r%d,os=linux,arch=amd64,env=prod,team=core,svc=api,ver=1.%d ",
			s, s%3, s%2, s, s)
		fmt.Fprintf(&sb, "usage_user=%d.5,usage_system=%d.25,usage_idle=%di,load=%d.1,up=true %d\n",
			i%100, i%50, 100-i%100, i%7, 1700000000000000000+int64(i/10)*int64(time.Second))
	}
	benchParse(b, []byte(sb.String()), 5000)
}
