package loadgen

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fixedReport is a report with every section filled, for golden files.
func fixedReport(target string, pps float64) *Report {
	return &Report{
		Target:  target,
		URL:     "http://127.0.0.1:9527",
		Started: time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC),
		Config: ReportConfig{Workspaces: 4, Concurrency: 4, Duration: 20 * time.Second, Mix: "write=9,query=1",
			Measurement: "kodo_bench", TagKeys: []string{"host", "region"}, FieldKeys: []string{"a", "b"},
			Series: 10, LinesPerBody: 5000, Query: DefaultQuery},
		Generation: Generation{Bodies: 300, Seconds: 4.5, RawBytes: 210 << 20, WireBytes: 40 << 20,
			FirstTime: time.Date(2026, 11, 24, 8, 59, 0, 0, time.UTC), Interval: 12 * time.Millisecond},
		Elapsed:    20*time.Second + 150*time.Millisecond,
		StopReason: StopDuration,
		Ops: []OpReport{
			{Op: OpWrite, Requests: 400, OK: 398, Failed: 2, PerSec: 19.85, Latency: Latency{Count: 400, P50: 150 * time.Millisecond, P99: 1200 * time.Millisecond, Max: 2500 * time.Millisecond, Mean: 180 * time.Millisecond}},
			{Op: OpQuery, Requests: 44, OK: 44, PerSec: 2.18, Latency: Latency{Count: 44, P50: 8500 * time.Microsecond, P99: 45 * time.Millisecond, Max: 47 * time.Millisecond}},
		},
		PointsAcked: 1_990_000, PointsPerSec: pps,
		RawBytes: 139 << 20, WireBytes: 27 << 20, SentWireBytes: 27<<20 + 140000,
		RawBytesPerSec: 6.9 * (1 << 20), WireBytesPerSec: 1.34 * (1 << 20),
		Errors: []ErrorCount{{Op: OpWrite, Status: 0, Code: "transport:timeout", Count: 2, Sample: "context deadline exceeded"}},
		Server: &ServerMem{PID: 4242, MaxRSS: 310 << 20, HWM: 322 << 20, Samples: 100, CPUSeconds: 9.95},
		Verify: &Verification{Acked: 1_990_000, Found: 1_990_000, Workspaces: []WorkspaceCheck{
			{Name: "db_1", Acked: 500_000, Found: 500_000}, {Name: "db_2", Acked: 490_000, Found: 490_000}}},
	}
}

func TestReportText(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, fixedReport("kodo", 98_761.4).WriteText(&b))
	golden(t, "report.txt", b.Bytes())
	assert.Contains(t, b.String(), "result: FAILED", "request errors fail the run")
}

func TestReportTextLoss(t *testing.T) {
	r := fixedReport("kodo", 1)
	r.Errors = nil
	r.Verify.Found = r.Verify.Acked - 10
	r.Verify.Lost = 10
	r.Verify.Workspaces[1].Found -= 10
	var b bytes.Buffer
	require.NoError(t, r.WriteText(&b))
	assert.Contains(t, b.String(), "lost 10")
	assert.Contains(t, b.String(), "db_2: acknowledged 490000, found 489990")
	assert.True(t, r.Failed())

	r.Verify.Lost, r.Verify.Found = 0, r.Verify.Acked
	assert.False(t, r.Failed())
	r.Verify.Errors = 1
	assert.True(t, r.Failed(), "a verification that could not run fails the run")
}

func TestMarkdownRow(t *testing.T) {
	row := fixedReport("kodo", 98_761.4).MarkdownRow()
	golden(t, "row.md", []byte(MarkdownHeader+"\n"+row+"\n"))
	headerCols := strings.Count(strings.SplitN(MarkdownHeader, "\n", 2)[0], "|")
	assert.Equal(t, headerCols, strings.Count(row, "|"), "the row has as many cells as the header")

	r := fixedReport("influxdb", 1)
	r.Server, r.Verify, r.Ops = nil, nil, r.Ops[:1]
	row = r.MarkdownRow()
	assert.Contains(t, row, "| n/a |")
	assert.Contains(t, row, "| not verified |")
	assert.Contains(t, row, "| — |")
	assert.Equal(t, headerCols, strings.Count(row, "|"))
}

func TestComparison(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, WriteComparison(&b, fixedReport("kodo", 150_000), fixedReport("influxdb", 100_000)))
	golden(t, "compare.txt", b.Bytes())
	assert.Contains(t, b.String(), "ratio kodo/influxdb write points/s: 1.50")

	b.Reset()
	require.NoError(t, WriteComparison(&b, fixedReport("kodo", 150_000), fixedReport("influxdb", 0)))
	assert.Contains(t, b.String(), "n/a (influxdb wrote nothing)")
}

func TestReportJSONRoundTrip(t *testing.T) {
	r := fixedReport("kodo", 98_761.4)
	var b bytes.Buffer
	require.NoError(t, r.WriteJSON(&b))
	assert.Contains(t, b.String(), `"points_per_sec": 98761.4`)
	got, err := ReadReport(&b)
	require.NoError(t, err)
	assert.Equal(t, r, got)

	_, err = ReadReport(strings.NewReader(`{"points_per_sec": 1}`))
	assert.ErrorContains(t, err, "no \"target\"")
	_, err = ReadReport(strings.NewReader(`not json`))
	assert.ErrorContains(t, err, "-json report")
}

func TestFormatters(t *testing.T) {
	for in, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -1234: "-1,234"} {
		assert.Equal(t, want, FormatInt(in))
	}
	for in, want := range map[float64]string{0: "0 B", 1023: "1023 B", 1536: "1.5 KiB", 5 << 20: "5.0 MiB", 3 << 30: "3.0 GiB"} {
		assert.Equal(t, want, FormatBytes(in))
	}
	for in, want := range map[time.Duration]string{
		1234 * time.Microsecond: "1.23ms", 12345 * time.Microsecond: "12.3ms", 1234 * time.Millisecond: "1234ms", 0: "0.00ms",
	} {
		assert.Equal(t, want, FormatMs(in))
	}
}
