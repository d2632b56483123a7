package loadgen_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/kodo-project/kodo/internal/loadgen"
)

func ExampleGenerator_AppendBody() {
	g, err := loadgen.NewGenerator(loadgen.Shape{
		Measurement: "cpu", TagKeys: []string{"host"}, FieldKeys: []string{"usage"},
		Series: 2, LinesPerBody: 4,
	}, time.Unix(1_700_000_000, 0), 10*time.Second, 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(string(g.AppendBody(nil, 0)))
	// Output:
	// cpu,host=host-0 usage=5982.60 1700000000000000000
	// cpu,host=host-1 usage=891.11 1700000000000000000
	// cpu,host=host-0 usage=7153.56 1700000010000000000
	// cpu,host=host-1 usage=236.76 1700000010000000000
}

func ExampleParseMix() {
	m, err := loadgen.ParseMix("write=2,query=1")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(m.Schedule())
	_, err = loadgen.ParseMix("write=1,delete=1")
	fmt.Println(err)
	// Output:
	// [write query write]
	// loadgen: -mix "write=1,delete=1": unknown operation "delete" (known: write, query, rewrite)
}

func ExampleCheckLoopback() {
	for _, u := range []string{"http://127.0.0.1:9527", "http://[::1]:8086", "http://10.1.2.3:9527"} {
		_, err := loadgen.CheckLoopback(u)
		fmt.Println(u, err == nil)
	}
	// Output:
	// http://127.0.0.1:9527 true
	// http://[::1]:8086 true
	// http://10.1.2.3:9527 false
}

func ExamplePercentile() {
	var d []time.Duration
	for i := 1; i <= 200; i++ {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	fmt.Println(loadgen.Percentile(d, 50), loadgen.Percentile(d, 99), loadgen.Percentile(d, 100))
	// Output: 100ms 198ms 200ms
}

func ExampleParseProcStatus() {
	m, err := loadgen.ParseProcStatus([]byte("Name:\tkodo\nVmHWM:\t  2048 kB\nVmRSS:\t  1024 kB\n"))
	fmt.Println(m.RSS, m.HWM, err)
	// Output: 1048576 2097152 <nil>
}

func ExampleFormatInt() {
	fmt.Println(loadgen.FormatInt(1234567), loadgen.FormatBytes(3<<20), loadgen.FormatMs(1500*time.Microsecond))
	// Output: 1,234,567 3.0 MiB 1.50ms
}

func ExampleReport_MarkdownRow() {
	r := &loadgen.Report{
		Target: "kodo", Started: time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC),
		Config:  loadgen.ReportConfig{Workspaces: 4, Series: 10, LinesPerBody: 5000, Concurrency: 4, Mix: "write=1"},
		Elapsed: 20 * time.Second, PointsPerSec: 123456, RawBytesPerSec: 8 << 20, WireBytesPerSec: 1 << 20,
		Ops:    []loadgen.OpReport{{Op: loadgen.OpWrite, Latency: loadgen.Latency{Count: 1, P50: 100 * time.Millisecond, P99: 300 * time.Millisecond, Max: 400 * time.Millisecond}}},
		Verify: &loadgen.Verification{},
	}
	fmt.Println(r.MarkdownRow())
	// Output: | 2026-01-02 | kodo | 4 x 10 | 5,000 | 4 | write=1 | 20.0s | 123,456 | 8.0 MiB | 1.0 MiB | 100ms / 300ms / 400ms | — | n/a | 0 | 0 |
}

// Example_run shows the library use of a run (it needs a server, so it
// has no Output line and is compiled, not run).
func Example_run() {
	t, err := loadgen.NewKodoTarget("http://127.0.0.1:9527", loadgen.TargetOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	rep, err := loadgen.Run(context.Background(), loadgen.Config{Duration: 10 * time.Second, Verify: true}, t)
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = rep.WriteText(os.Stdout)
}
