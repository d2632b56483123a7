package loadgen

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is the outcome of a run; its JSON form is what -json prints.
type Report struct {
	Target          string        `json:"target"`
	URL             string        `json:"url,omitempty"`
	Started         time.Time     `json:"started"`
	Config          ReportConfig  `json:"config"`
	Generation      Generation    `json:"generation"`
	Elapsed         time.Duration `json:"elapsed_ns"`
	StopReason      string        `json:"stop_reason"`
	Ops             []OpReport    `json:"ops"`
	PointsAcked     int64         `json:"points_acked"`
	PointsPerSec    float64       `json:"points_per_sec"`
	RawBytes        int64         `json:"raw_bytes"`  // line protocol of acknowledged writes
	WireBytes       int64         `json:"wire_bytes"` // gzipped, as sent, of acknowledged writes
	SentWireBytes   int64         `json:"sent_wire_bytes"`
	RawBytesPerSec  float64       `json:"raw_bytes_per_sec"`
	WireBytesPerSec float64       `json:"wire_bytes_per_sec"`
	Errors          []ErrorCount  `json:"errors"`
	Server          *ServerMem    `json:"server,omitempty"`
	Verify          *Verification `json:"verify,omitempty"`
}

// ReportConfig is the part of Config a reader needs to compare runs.
type ReportConfig struct {
	Workspaces   int           `json:"workspaces"`
	Concurrency  int           `json:"concurrency"`
	Duration     time.Duration `json:"duration_ns"`
	Requests     int64         `json:"requests"`
	Mix          string        `json:"mix"`
	Measurement  string        `json:"measurement"`
	TagKeys      []string      `json:"tag_keys"`
	FieldKeys    []string      `json:"field_keys"`
	Series       int           `json:"series"`
	LinesPerBody int           `json:"lines_per_body"`
	Query        string        `json:"query"`
}

func reportConfig(c Config) ReportConfig {
	return ReportConfig{
		Workspaces: c.Workspaces, Concurrency: c.Concurrency, Duration: c.Duration, Requests: c.Requests,
		Mix: c.Mix.String(), Measurement: c.Shape.Measurement, TagKeys: c.Shape.TagKeys, FieldKeys: c.Shape.FieldKeys,
		Series: c.Shape.Series, LinesPerBody: c.Shape.LinesPerBody, Query: c.Query,
	}
}

// Generation describes the pre-generated bodies (not timed).
type Generation struct {
	Bodies    int           `json:"bodies"`
	Seconds   float64       `json:"seconds"`
	RawBytes  int64         `json:"raw_bytes"`
	WireBytes int64         `json:"wire_bytes"`
	FirstTime time.Time     `json:"first_time"`
	Interval  time.Duration `json:"interval_ns"`
}

// OpReport is one operation's tally.
type OpReport struct {
	Op       OpKind  `json:"op"`
	Requests int64   `json:"requests"`
	OK       int64   `json:"ok"`
	Failed   int64   `json:"failed"`
	PerSec   float64 `json:"per_sec"`
	Latency  Latency `json:"latency"`
}

// ErrorCount is how often one kind of failure occurred.
type ErrorCount struct {
	Op     OpKind `json:"op"`
	Status int    `json:"status"` // 0: no HTTP answer
	Code   string `json:"code"`
	Count  int64  `json:"count"`
	Sample string `json:"sample,omitempty"` // the first message seen
}

// ServerMem is the server's memory and CPU during the run.
type ServerMem struct {
	PID     int    `json:"pid"`
	MaxRSS  int64  `json:"max_rss_bytes"` // largest VmRSS sampled during the run
	HWM     int64  `json:"hwm_bytes"`     // VmHWM at the end: peak over the process's life
	Samples int    `json:"samples"`
	Error   string `json:"error,omitempty"`
	// CPUSeconds is the server's user+system CPU time over the timed
	// load: on a machine the loader shares, CPU per point is steadier
	// than points/s.
	CPUSeconds float64 `json:"cpu_seconds,omitempty"`
}

// CPUPerPoint is the server's CPU time per acknowledged point, or 0.
func (r *Report) CPUPerPoint() time.Duration {
	if r.Server == nil || r.Server.CPUSeconds <= 0 || r.PointsAcked <= 0 {
		return 0
	}
	return time.Duration(r.Server.CPUSeconds * float64(time.Second) / float64(r.PointsAcked))
}

// Verification compares acknowledged points with count(*).
type Verification struct {
	Acked      int64            `json:"acked"`
	Found      int64            `json:"found"`
	Lost       int64            `json:"lost"`
	Errors     int              `json:"errors"` // counts that could not be run
	Workspaces []WorkspaceCheck `json:"workspaces"`
}

// WorkspaceCheck is one database's verification.
type WorkspaceCheck struct {
	Name  string `json:"name"`
	Acked int64  `json:"acked"`
	Found int64  `json:"found"`
	Error string `json:"error,omitempty"`
}

// Failures counts requests that failed.
func (r *Report) Failures() int64 {
	var n int64
	for _, e := range r.Errors {
		n += e.Count
	}
	return n
}

// Failed reports a run that should exit non-zero: a request failed, a
// point was lost, or the verification could not be run.
func (r *Report) Failed() bool {
	if r.Failures() > 0 {
		return true
	}
	return r.Verify != nil && (r.Verify.Lost > 0 || r.Verify.Errors > 0)
}

// Op returns the tally of op (zero if it did not run).
func (r *Report) Op(op OpKind) OpReport {
	for _, o := range r.Ops {
		if o.Op == op {
			return o
		}
	}
	return OpReport{Op: op}
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// ReadReport decodes a report written by WriteJSON.
func ReadReport(rd io.Reader) (*Report, error) {
	var r Report
	dec := json.NewDecoder(rd)
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("loadgen: reading a -json report: %w", err)
	}
	if r.Target == "" {
		return nil, fmt.Errorf("loadgen: reading a -json report: no \"target\"; is this kodo-bench -json output?")
	}
	return &r, nil
}

// FormatInt renders n with thousands separators: 1234567 -> "1,234,567".
func FormatInt(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// FormatBytes renders a size in binary units: 1536 -> "1.5 KiB".
func FormatBytes(n float64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	i := 0
	for n >= 1024 && i < len(units)-1 {
		n /= 1024
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%.0f B", n)
	}
	return fmt.Sprintf("%.1f %s", n, units[i])
}

// FormatMs renders a latency in milliseconds with 3 significant digits
// at least: 1.234ms, 12.3ms, 1234ms.
func FormatMs(d time.Duration) string {
	ms := float64(d) / float64(time.Millisecond)
	switch {
	case ms < 10:
		return fmt.Sprintf("%.2fms", ms)
	case ms < 100:
		return fmt.Sprintf("%.1fms", ms)
	}
	return fmt.Sprintf("%.0fms", ms)
}

// WriteText writes the human-readable report.
func (r *Report) WriteText(w io.Writer) error {
	c := r.Config
	var b strings.Builder
	fmt.Fprintf(&b, "kodo-bench: %s %s\n", r.Target, r.URL)
	fmt.Fprintf(&b, "shape: %d workspaces x %d series (%s; tags %s; fields %s), %s lines/body, concurrency %d, mix %s\n",
		c.Workspaces, c.Series, c.Measurement, strings.Join(c.TagKeys, ","), strings.Join(c.FieldKeys, ","),
		FormatInt(int64(c.LinesPerBody)), c.Concurrency, c.Mix)
	fmt.Fprintf(&b, "bounds: duration %s, requests %d; stopped by %s after %.2fs\n", c.Duration, c.Requests, r.StopReason, r.Elapsed.Seconds())
	g := r.Generation
	fmt.Fprintf(&b, "pre-generated: %d bodies (%s raw, %s gzipped) in %.2fs, not timed\n\n",
		g.Bodies, FormatBytes(float64(g.RawBytes)), FormatBytes(float64(g.WireBytes)), g.Seconds)

	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "op\trequests\tok\tfailed\treq/s\tp50\tp99\tmax\t")
	for _, o := range r.Ops {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%.1f\t%s\t%s\t%s\t\n", o.Op, o.Requests, o.OK, o.Failed, o.PerSec,
			FormatMs(o.Latency.P50), FormatMs(o.Latency.P99), FormatMs(o.Latency.Max))
	}
	tw.Flush()
	fmt.Fprintf(&b, "\nwrites: %s points acknowledged, %s points/s, %s/s raw, %s/s gzipped on the wire\n",
		FormatInt(r.PointsAcked), FormatInt(int64(r.PointsPerSec)), FormatBytes(r.RawBytesPerSec), FormatBytes(r.WireBytesPerSec))
	if r.Server != nil {
		s := r.Server
		fmt.Fprintf(&b, "server pid %d: max VmRSS sampled %s (%d samples), VmHWM %s", s.PID, FormatBytes(float64(s.MaxRSS)), s.Samples, FormatBytes(float64(s.HWM)))
		if s.Error != "" {
			fmt.Fprintf(&b, " (last sample failed: %s)", s.Error)
		}
		if c := r.CPUPerPoint(); c > 0 {
			fmt.Fprintf(&b, "; CPU %.1f s, %.2f us per acknowledged point", s.CPUSeconds, float64(c)/float64(time.Microsecond))
		}
		b.WriteString("\n")
	}
	if len(r.Errors) == 0 {
		b.WriteString("errors: none\n")
	} else {
		b.WriteString("errors:\n")
		for _, e := range r.Errors {
			fmt.Fprintf(&b, "  %s %d %s: %d (%s)\n", e.Op, e.Status, e.Code, e.Count, e.Sample)
		}
	}
	if v := r.Verify; v != nil {
		fmt.Fprintf(&b, "verify: acknowledged %s, found %s, lost %s", FormatInt(v.Acked), FormatInt(v.Found), FormatInt(v.Lost))
		if v.Found > v.Acked {
			fmt.Fprintf(&b, " (%s more than acknowledged: writes stored but answered with an error)", FormatInt(v.Found-v.Acked))
		}
		b.WriteString("\n")
		for _, ws := range v.Workspaces {
			if ws.Error != "" || ws.Found < ws.Acked {
				fmt.Fprintf(&b, "  %s: acknowledged %d, found %d %s\n", ws.Name, ws.Acked, ws.Found, ws.Error)
			}
		}
	}
	if r.Failed() {
		b.WriteString("result: FAILED\n")
	} else {
		b.WriteString("result: ok\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// MarkdownHeader is the header of the BENCHMARKS.md table whose rows
// MarkdownRow renders.
const MarkdownHeader = "| date | target | workspaces x series | lines/body | clients | mix | duration | points/s | raw/s | gzip/s | write p50 / p99 / max | query p50 / p99 | peak RSS | errors | lost |\n" +
	"|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"

// MarkdownRow renders the report as one BENCHMARKS.md table row.
func (r *Report) MarkdownRow() string {
	c := r.Config
	wr, q := r.Op(OpWrite).Latency, r.Op(OpQuery).Latency
	rss := "n/a"
	if r.Server != nil {
		rss = FormatBytes(float64(max(r.Server.MaxRSS, r.Server.HWM)))
	}
	lost := "not verified"
	if r.Verify != nil {
		lost = FormatInt(r.Verify.Lost)
		if r.Verify.Errors > 0 {
			lost += " (verify failed)"
		}
	}
	query := "—"
	if q.Count > 0 {
		query = FormatMs(q.P50) + " / " + FormatMs(q.P99)
	}
	cells := []string{
		r.Started.UTC().Format("2006-01-02"),
		r.Target,
		fmt.Sprintf("%d x %d", c.Workspaces, c.Series),
		FormatInt(int64(c.LinesPerBody)),
		strconv.Itoa(c.Concurrency),
		c.Mix,
		fmt.Sprintf("%.1fs", r.Elapsed.Seconds()),
		FormatInt(int64(r.PointsPerSec)),
		FormatBytes(r.RawBytesPerSec),
		FormatBytes(r.WireBytesPerSec),
		FormatMs(wr.P50) + " / " + FormatMs(wr.P99) + " / " + FormatMs(wr.Max),
		query,
		rss,
		FormatInt(r.Failures()),
		lost,
	}
	return "| " + strings.Join(cells, " | ") + " |"
}

// WriteComparison prints two reports side by side (usually Kodo, then
// InfluxDB) and the ratio a/b of write points/s.
func WriteComparison(w io.Writer, a, b *Report) error {
	var sb strings.Builder
	tw := tabwriter.NewWriter(&sb, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "\t%s\t%s\n", a.Target, b.Target)
	row := func(name string, f func(*Report) string) { fmt.Fprintf(tw, "%s\t%s\t%s\n", name, f(a), f(b)) }
	row("elapsed", func(r *Report) string { return fmt.Sprintf("%.2fs (%s)", r.Elapsed.Seconds(), r.StopReason) })
	row("points acknowledged", func(r *Report) string { return FormatInt(r.PointsAcked) })
	row("write points/s", func(r *Report) string { return FormatInt(int64(r.PointsPerSec)) })
	row("raw bytes/s", func(r *Report) string { return FormatBytes(r.RawBytesPerSec) + "/s" })
	row("gzipped bytes/s", func(r *Report) string { return FormatBytes(r.WireBytesPerSec) + "/s" })
	for _, op := range knownOps {
		if a.Op(op).Requests == 0 && b.Op(op).Requests == 0 {
			continue
		}
		row(string(op)+" requests", func(r *Report) string { return FormatInt(r.Op(op).Requests) })
		row(string(op)+" p50 / p99 / max", func(r *Report) string {
			l := r.Op(op).Latency
			return FormatMs(l.P50) + " / " + FormatMs(l.P99) + " / " + FormatMs(l.Max)
		})
	}
	row("peak RSS (max sampled / VmHWM)", func(r *Report) string {
		if r.Server == nil {
			return "n/a"
		}
		return FormatBytes(float64(r.Server.MaxRSS)) + " / " + FormatBytes(float64(r.Server.HWM))
	})
	row("server CPU per point", func(r *Report) string {
		if c := r.CPUPerPoint(); c > 0 {
			return fmt.Sprintf("%.2f us", float64(c)/float64(time.Microsecond))
		}
		return "n/a"
	})
	row("errors", func(r *Report) string { return FormatInt(r.Failures()) })
	row("acknowledged / found", func(r *Report) string {
		if r.Verify == nil {
			return "not verified"
		}
		return FormatInt(r.Verify.Acked) + " / " + FormatInt(r.Verify.Found)
	})
	tw.Flush()
	if b.PointsPerSec > 0 {
		fmt.Fprintf(&sb, "ratio %s/%s write points/s: %.2f\n", a.Target, b.Target, a.PointsPerSec/b.PointsPerSec)
	} else {
		fmt.Fprintf(&sb, "ratio %s/%s write points/s: n/a (%s wrote nothing)\n", a.Target, b.Target, b.Target)
	}
	_, err := io.WriteString(w, sb.String())
	return err
}
