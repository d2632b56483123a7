// Command kodo-plainload is a second, minimal write loader: it posts the
// gzipped bodies a directory holds (made by `kodo-bench gen`) to a Kodo,
// influxd or VictoriaMetrics /write endpoint from N clients and reports
// points/s. It shares no code with kodo-bench's load engine (only the
// standard library), so a throughput figure does not rest on one tool.
//
//	kodo-bench gen -dir /tmp/bodies -bodies 400
//	kodo-plainload -kind influxdb -url http://127.0.0.1:8086 -dir /tmp/bodies -duration 20s
//
// Body k goes to every workspace (database) in turn, as kodo-bench sends
// it; the run stops at -duration or when every body was sent everywhere.
// Only 2xx answers count. Exit status: 0 ok, 1 some write failed, 2 bad
// usage, 3 the run could not take place.
package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

type body struct {
	gz    []byte
	lines int64
}

// target is where one workspace's writes go.
type target struct {
	url    string
	header http.Header
}

type result struct {
	Target       string  `json:"target"`
	Loader       string  `json:"loader"`
	Points       int64   `json:"points_acked"`
	Requests     int64   `json:"requests"`
	Errors       int64   `json:"errors"`
	FirstError   string  `json:"first_error,omitempty"`
	Seconds      float64 `json:"seconds"`
	PointsPerSec float64 `json:"points_per_sec"`
	Exhausted    bool    `json:"exhausted"`
}

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("kodo-plainload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	kind := fs.String("kind", "", "kodo (Kodo's /write with a workspace token), influxdb or victoriametrics")
	base := fs.String("url", "", "server base URL (loopback)")
	dir := fs.String("dir", "", "directory of body-*.gz files (kodo-bench gen)")
	workspaces := fs.Int("workspaces", 4, "workspaces (databases) to write to")
	concurrency := fs.Int("concurrency", 4, "concurrent clients")
	duration := fs.Duration("duration", 20*time.Second, "time bound")
	name := fs.String("name", "", "name in the report (default -kind)")
	out := fs.String("out", "", "also write the result as JSON to this file")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *kind == "" || *base == "" || *dir == "" || *workspaces < 1 || *concurrency < 1 || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: kodo-plainload -kind kodo|influxdb|victoriametrics -url URL -dir DIR [-workspaces N] [-concurrency N] [-duration D]")
		return 2
	}
	if *name == "" {
		*name = *kind
	}
	if u, err := url.Parse(*base); err != nil || !isLoopback(u.Hostname()) {
		fmt.Fprintln(stderr, "kodo-plainload: -url must be a loopback http URL")
		return 2
	}
	bodies, err := loadBodies(*dir)
	if err != nil {
		fmt.Fprintln(stderr, "kodo-plainload:", err)
		return 3
	}
	client := &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: *concurrency, DisableCompression: true}}
	targets, err := setup(client, *kind, strings.TrimSuffix(*base, "/"), *workspaces)
	if err != nil {
		fmt.Fprintln(stderr, "kodo-plainload: setup:", err)
		return 3
	}

	var next, points, requests, errs atomic.Int64
	var stop atomic.Bool
	var firstErr sync.Once
	var firstMsg string
	exhausted := false
	var exOnce sync.Once
	W := int64(len(targets))
	start := time.Now()
	timer := time.AfterFunc(*duration, func() { stop.Store(true) })
	defer timer.Stop()
	var wg sync.WaitGroup
	for w := 0; w < *concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				i := next.Add(1) - 1
				k := i / W
				if k >= int64(len(bodies)) {
					exOnce.Do(func() { exhausted = true })
					stop.Store(true)
					return
				}
				t, b := targets[i%W], bodies[k]
				requests.Add(1)
				if err := post(client, t, b.gz); err != nil {
					errs.Add(1)
					firstErr.Do(func() { firstMsg = err.Error() })
					continue
				}
				points.Add(b.lines)
			}
		}()
	}
	wg.Wait()
	secs := time.Since(start).Seconds()
	r := result{Target: *name, Loader: "kodo-plainload", Points: points.Load(), Requests: requests.Load(), Errors: errs.Load(),
		FirstError: firstMsg, Seconds: secs, PointsPerSec: float64(points.Load()) / secs, Exhausted: exhausted}
	fmt.Fprintf(stdout, "kodo-plainload: %s: %d points in %.1f s: %.0f points/s (%d requests, %d errors)\n",
		r.Target, r.Points, r.Seconds, r.PointsPerSec, r.Requests, r.Errors)
	if r.Exhausted {
		fmt.Fprintln(stdout, "kodo-plainload: every body was sent before the time bound: generate more (kodo-bench gen -bodies)")
	}
	if r.FirstError != "" {
		fmt.Fprintln(stdout, "kodo-plainload: first error:", r.FirstError)
	}
	if *out != "" {
		j, _ := json.MarshalIndent(r, "", "  ")
		if err := os.WriteFile(*out, append(j, '\n'), 0o644); err != nil {
			fmt.Fprintln(stderr, "kodo-plainload:", err)
			return 3
		}
	}
	if r.Errors > 0 {
		return 1
	}
	return 0
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// loadBodies reads every body-*.gz in name order and counts its lines.
func loadBodies(dir string) ([]body, error) {
	names, err := filepath.Glob(filepath.Join(dir, "body-*.gz"))
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("no body-*.gz in %s: run kodo-bench gen -dir %s first", dir, dir)
	}
	sort.Strings(names)
	out := make([]body, 0, len(names))
	for _, n := range names {
		gz, err := os.ReadFile(n)
		if err != nil {
			return nil, err
		}
		zr, err := gzip.NewReader(bytes.NewReader(gz))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", n, err)
		}
		raw, err := io.ReadAll(zr)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", n, err)
		}
		lines := int64(bytes.Count(raw, []byte{'\n'}))
		if len(raw) > 0 && raw[len(raw)-1] != '\n' {
			lines++
		}
		out = append(out, body{gz: gz, lines: lines})
	}
	return out, nil
}

// setup creates the workspaces (Kodo) or databases (influxd; a 90-day
// policy like Kodo's default) and returns where each one's writes go.
func setup(c *http.Client, kind, base string, n int) ([]target, error) {
	prefix := fmt.Sprintf("plainload_%d", time.Now().Unix())
	var out []target
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("%s_%d", prefix, i)
		switch kind {
		case "kodo":
			resp, err := c.Post(base+"/v1/workspace/create", "application/json", strings.NewReader(`{"name":"`+name+`"}`))
			if err != nil {
				return nil, err
			}
			var env struct {
				Content struct {
					Token string `json:"token"`
					DB    string `json:"db"`
				} `json:"content"`
			}
			err = json.NewDecoder(resp.Body).Decode(&env)
			resp.Body.Close()
			if err != nil || resp.StatusCode != 200 || env.Content.Token == "" {
				return nil, fmt.Errorf("POST /v1/workspace/create: HTTP %d %v", resp.StatusCode, err)
			}
			h := http.Header{"Authorization": {"Token " + env.Content.Token}}
			out = append(out, target{url: base + "/write?" + url.Values{"db": {env.Content.DB}, "precision": {"ns"}}.Encode(), header: h})
		case "influxdb":
			q := fmt.Sprintf(`CREATE DATABASE "%s" WITH DURATION 2160h REPLICATION 1 NAME "rp3"`, name)
			resp, err := c.PostForm(base+"/query", url.Values{"q": {q}})
			if err != nil {
				return nil, err
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				return nil, fmt.Errorf("%s: HTTP %d", q, resp.StatusCode)
			}
			out = append(out, target{url: base + "/write?" + url.Values{"db": {name}, "precision": {"ns"}}.Encode(), header: http.Header{}})
		case "victoriametrics":
			out = append(out, target{url: base + "/write?" + url.Values{"db": {name}, "precision": {"ns"}}.Encode(), header: http.Header{}})
		default:
			return nil, fmt.Errorf("-kind %q: want kodo, influxdb or victoriametrics", kind)
		}
	}
	return out, nil
}

func post(c *http.Client, t target, gz []byte) error {
	req, err := http.NewRequest(http.MethodPost, t.url, bytes.NewReader(gz))
	if err != nil {
		return err
	}
	for k, v := range t.header {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "text/plain; charset=utf-8")
	req.Header.Set("Content-Encoding", "gzip")
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("HTTP %d: %.200s", resp.StatusCode, strings.TrimSpace(string(msg)))
	}
	return nil
}
