// Command kodo-bench drives realistic agent traffic against a Kodo gateway
// or a stock InfluxDB 1.x on loopback and reports points/s, bytes/s,
// latency percentiles, errors, the server's peak RSS and a count(*)
// verification. See internal/loadgen for how a run works.
//
//	kodo-bench -url http://127.0.0.1:9527 -duration 30s -server-pid $(pgrep -n kodo)
//	kodo-bench -target influxdb -url http://127.0.0.1:8086 -duration 30s
//	kodo-bench -target kodo-influx -url http://127.0.0.1:9527 -mix write=1
//	kodo-bench -target victoriametrics -url http://127.0.0.1:8428 -mix write=1
//	kodo-bench compare kodo.json influxd.json
//	kodo-bench gen -dir /tmp/bodies -bodies 400   # bodies for kodo-plainload
//
// Exit status: 0 ok; 1 the run saw request errors or lost points; 2 bad
// usage; 3 the run could not take place.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/kodo-project/kodo/internal/loadgen"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// splitList splits a comma-separated flag; an empty flag gives an empty,
// non-nil list so the library reports it instead of applying defaults.
func splitList(s string) []string {
	out := []string{}
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "compare" {
		return compare(args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "gen" {
		return gen(args[1:], stderr)
	}
	fs := flag.NewFlagSet("kodo-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		target      = fs.String("target", "kodo", "server kind: kodo (signed /v1/write/metrics), kodo-influx (Kodo's /write), influxdb or victoriametrics (writes only)")
		rawURL      = fs.String("url", "", "server URL, loopback only (default http://127.0.0.1:9527 for kodo, http://127.0.0.1:8086 for influxdb)")
		adminKey    = fs.String("admin-key", "", "kodo: Bearer key for management endpoints (empty: loopback access)")
		workspaces  = fs.Int("workspaces", 4, "workspaces (kodo) or databases (influxdb) to create and load")
		concurrency = fs.Int("concurrency", 4, "concurrent clients")
		duration    = fs.Duration("duration", 0, "time bound (default 30s when -requests is not set)")
		requests    = fs.Int64("requests", 0, "request-count bound over all operations (0: none)")
		mix         = fs.String("mix", loadgen.DefaultMix().String(), "operation weights: write=N,query=N (rewrite=N once a target implements it)")
		measurement = fs.String("measurement", "kodo_bench", "measurement name")
		tags        = fs.String("tags", "host,region", "tag keys, comma-separated; the first tells series apart")
		fields      = fs.String("fields", "usage_user,usage_system,usage_idle,load1,mem_used", "float field keys, comma-separated")
		series      = fs.Int("series", 10, "series per workspace")
		lines       = fs.Int("lines", 5000, "lines per body")
		span        = fs.Duration("span", time.Hour, "time range the generated points cover, ending 1m ago (< 80 days)")
		query       = fs.String("query", loadgen.DefaultQuery, "query template: {measurement} {field} {start} {end}")
		queryWindow = fs.Duration("query-window", 10*time.Minute, "length of the queried window from the first point")
		rateHint    = fs.Int("rate-hint", 400_000, "points/s to pre-generate bodies for when bound by -duration")
		maxPool     = fs.Int64("max-pool-bytes", 512<<20, "cap on the gzipped bodies held in memory")
		gzipLevel   = fs.Int("gzip-level", 0, "gzip level 1-9 (0: default 6)")
		seed        = fs.Uint64("seed", 1, "seed of the field values")
		serverPID   = fs.Int("server-pid", 0, "server pid: sample VmRSS during the run and read VmHWM after")
		timeout     = fs.Duration("timeout", 60*time.Second, "per-request timeout")
		noVerify    = fs.Bool("no-verify", false, "skip the count(*) verification")
		jsonOut     = fs.Bool("json", false, "print the report as JSON")
		markdown    = fs.Bool("markdown", false, "print the report as a BENCHMARKS.md table row")
		mdHeader    = fs.Bool("markdown-header", false, "with -markdown: print the table header first")
		outFile     = fs.String("out", "", "also write the JSON report to this file")
		quiet       = fs.Bool("quiet", false, "no progress logs on stderr")
	)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "kodo-bench: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	m, err := loadgen.ParseMix(*mix)
	if err != nil {
		fmt.Fprintln(stderr, "kodo-bench:", err)
		return 2
	}
	if *duration == 0 && *requests == 0 {
		*duration = 30 * time.Second
	}
	level := slog.LevelInfo
	if *quiet {
		level = slog.LevelWarn
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	opts := loadgen.TargetOptions{Conns: *concurrency, Timeout: *timeout, AdminKey: *adminKey}
	var t loadgen.Target
	switch *target {
	case "kodo":
		if *rawURL == "" {
			*rawURL = "http://127.0.0.1:9527"
		}
		t, err = loadgen.NewKodoTarget(*rawURL, opts)
	case "kodo-influx":
		if *rawURL == "" {
			*rawURL = "http://127.0.0.1:9527"
		}
		t, err = loadgen.NewKodoInfluxTarget(*rawURL, opts)
	case "influxdb", "influxd", "influx":
		if *rawURL == "" {
			*rawURL = "http://127.0.0.1:8086"
		}
		t, err = loadgen.NewInfluxTarget(*rawURL, opts)
	case "victoriametrics", "victoria-metrics", "vm":
		if *rawURL == "" {
			*rawURL = "http://127.0.0.1:8428"
		}
		if m.Weights[loadgen.OpQuery] > 0 || m.Weights[loadgen.OpRewrite] > 0 {
			err = fmt.Errorf("-target victoriametrics takes writes only (it has no InfluxQL): use -mix write=1")
			break
		}
		t, err = loadgen.NewVictoriaTarget(*rawURL, opts, splitList(*fields), *span+time.Hour)
	default:
		err = fmt.Errorf("-target %q: want kodo, kodo-influx, influxdb or victoriametrics", *target)
	}
	if err != nil {
		fmt.Fprintln(stderr, "kodo-bench:", err)
		return 2
	}
	cfg := loadgen.Config{
		Shape: loadgen.Shape{
			Measurement: *measurement, TagKeys: splitList(*tags), FieldKeys: splitList(*fields),
			Series: *series, LinesPerBody: *lines,
		},
		Workspaces: *workspaces, Concurrency: *concurrency, Duration: *duration, Requests: *requests, Mix: m,
		Span: *span, Query: *query, QueryWindow: *queryWindow, RateHint: *rateHint, MaxPoolBytes: *maxPool,
		GzipLevel: *gzipLevel, Seed: *seed, ServerPID: *serverPID, Verify: !*noVerify, Logger: logger,
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	rep, err := loadgen.Run(ctx, cfg, t)
	if err != nil {
		fmt.Fprintln(stderr, "kodo-bench:", err)
		var ce *loadgen.ConfigError
		if errors.As(err, &ce) {
			return 2
		}
		return 3
	}
	rep.URL = *rawURL
	if *outFile != "" {
		if err := writeJSONFile(*outFile, rep); err != nil {
			fmt.Fprintln(stderr, "kodo-bench:", err)
			return 3
		}
	}
	switch {
	case *jsonOut || *markdown:
		if *jsonOut {
			if err := rep.WriteJSON(stdout); err != nil {
				return 3
			}
		}
		if *markdown {
			if *mdHeader {
				fmt.Fprintln(stdout, loadgen.MarkdownHeader)
			}
			fmt.Fprintln(stdout, rep.MarkdownRow())
		}
	default:
		if err := rep.WriteText(stdout); err != nil {
			return 3
		}
	}
	if rep.Failed() {
		return 1
	}
	return 0
}

func writeJSONFile(path string, rep *loadgen.Report) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("-out: %w", err)
	}
	if err := rep.WriteJSON(f); err != nil {
		f.Close()
		return fmt.Errorf("-out %s: %w", path, err)
	}
	return f.Close()
}

// compare prints two -json reports side by side with the ratio of write
// points/s (first / second).
func compare(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("kodo-bench compare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	markdown := fs.Bool("markdown", false, "also print both reports as BENCHMARKS.md rows, with the header")
	fs.Usage = func() { fmt.Fprintln(stderr, "usage: kodo-bench compare [-markdown] A.json B.json") }
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 2 {
		fs.Usage()
		return 2
	}
	var reps [2]*loadgen.Report
	for i, p := range fs.Args() {
		f, err := os.Open(p)
		if err != nil {
			fmt.Fprintln(stderr, "kodo-bench compare:", err)
			return 3
		}
		reps[i], err = loadgen.ReadReport(f)
		f.Close()
		if err != nil {
			fmt.Fprintf(stderr, "kodo-bench compare: %s: %v\n", p, err)
			return 3
		}
	}
	if err := loadgen.WriteComparison(stdout, reps[0], reps[1]); err != nil {
		return 3
	}
	if *markdown {
		fmt.Fprintln(stdout)
		fmt.Fprintln(stdout, loadgen.MarkdownHeader)
		fmt.Fprintln(stdout, reps[0].MarkdownRow())
		fmt.Fprintln(stdout, reps[1].MarkdownRow())
	}
	return 0
}

// gen writes pre-generated gzipped bodies to a directory, for a second,
// minimal loader (cmd/kodo-plainload) to post the very same bytes to every
// server: body-NNNNNN.gz, in the order a run sends them, each with
// -lines lines of the -series series, timestamps rising over -span.
func gen(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("kodo-bench gen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		dir         = fs.String("dir", "", "directory to write the bodies to (created)")
		bodies      = fs.Int("bodies", 0, "number of bodies (0: enough for -duration at -rate-hint over -workspaces)")
		duration    = fs.Duration("duration", 30*time.Second, "with -bodies 0: the run the bodies are for")
		rateHint    = fs.Int("rate-hint", 400_000, "with -bodies 0: points/s the bodies are for")
		workspaces  = fs.Int("workspaces", 4, "with -bodies 0: workspaces each body is sent to")
		measurement = fs.String("measurement", "kodo_bench", "measurement name")
		tags        = fs.String("tags", "host,region", "tag keys, comma-separated; the first tells series apart")
		fields      = fs.String("fields", "usage_user,usage_system,usage_idle,load1,mem_used", "float field keys, comma-separated")
		series      = fs.Int("series", 10, "series per workspace")
		lines       = fs.Int("lines", 5000, "lines per body")
		span        = fs.Duration("span", time.Hour, "time range the points cover, ending 1m ago")
		gzipLevel   = fs.Int("gzip-level", 0, "gzip level 1-9 (0: default 6)")
		seed        = fs.Uint64("seed", 1, "seed of the field values")
	)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *bodies == 0 && *lines > 0 && *workspaces > 0 {
		// Each body goes to every workspace, as in a run.
		perWS := int64(duration.Seconds()*float64(*rateHint)) / int64(*lines) / int64(*workspaces)
		*bodies = int(max(perWS+1, 1))
	}
	if *dir == "" || *bodies < 1 || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: kodo-bench gen -dir DIR [-bodies N] [shape flags]")
		return 2
	}
	shape := loadgen.Shape{Measurement: *measurement, TagKeys: splitList(*tags), FieldKeys: splitList(*fields),
		Series: *series, LinesPerBody: *lines}
	// The same timeline as a run (loadgen.Run): steps spread over span,
	// ending a minute ago.
	steps := max((int64(*bodies)*int64(*lines)+int64(*series)-1)/int64(*series), 1)
	interval := max(*span/time.Duration(steps), 1)
	base := time.Now().Add(-time.Minute - *span).Truncate(time.Second)
	g, err := loadgen.NewGenerator(shape, base, interval, *seed)
	if err != nil {
		fmt.Fprintln(stderr, "kodo-bench gen:", err)
		return 2
	}
	pool, err := g.Generate(context.Background(), *bodies, *gzipLevel, 0)
	if err != nil {
		fmt.Fprintln(stderr, "kodo-bench gen:", err)
		return 3
	}
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		fmt.Fprintln(stderr, "kodo-bench gen:", err)
		return 3
	}
	for _, b := range pool.Bodies {
		if err := os.WriteFile(filepath.Join(*dir, fmt.Sprintf("body-%06d.gz", b.Index)), b.Gzip, 0o644); err != nil {
			fmt.Fprintln(stderr, "kodo-bench gen:", err)
			return 3
		}
	}
	fmt.Fprintf(stderr, "kodo-bench gen: %d bodies of %d lines (%d MiB gzipped) in %s\n", pool.Len(), *lines, pool.WireBytes>>20, *dir)
	return 0
}
