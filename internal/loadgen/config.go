package loadgen

import (
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"
)

// OpKind names an operation of the load mix.
type OpKind string

// The operations a Mix may name. OpRewrite is reserved for the InfluxQL
// rewrite endpoint: a Target runs it only if it implements Rewriter.
const (
	OpWrite   OpKind = "write"
	OpQuery   OpKind = "query"
	OpRewrite OpKind = "rewrite"
)

// knownOps lists the operations in report order.
var knownOps = []OpKind{OpWrite, OpQuery, OpRewrite}

// ConfigError says which setting is wrong and why.
type ConfigError struct {
	Field string // the setting, named as the command-line flag
	Value string
	Msg   string
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("loadgen: -%s %q: %s", e.Field, e.Value, e.Msg)
}

// Mix is the weighted share of each operation. Requests are assigned by a
// smooth weighted round robin over the request number, so a mix is exact
// over any window of Total() requests and a run is reproducible.
type Mix struct {
	Weights map[OpKind]int
}

// DefaultMix is 9 writes for each query, roughly an agent fleet with a few
// dashboards open.
func DefaultMix() Mix { return Mix{Weights: map[OpKind]int{OpWrite: 9, OpQuery: 1}} }

// ParseMix reads "write=9,query=1". Weights are non-negative integers;
// at least one must be positive; unknown operations are refused.
func ParseMix(s string) (Mix, error) {
	m := Mix{Weights: map[OpKind]int{}}
	if strings.TrimSpace(s) == "" {
		return m, &ConfigError{Field: "mix", Value: s, Msg: "empty; want e.g. write=9,query=1"}
	}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		name, val, ok := strings.Cut(part, "=")
		if !ok {
			return Mix{}, &ConfigError{Field: "mix", Value: s, Msg: fmt.Sprintf("%q: want op=weight", part)}
		}
		op := OpKind(strings.TrimSpace(name))
		if !isKnownOp(op) {
			return Mix{}, &ConfigError{Field: "mix", Value: s, Msg: fmt.Sprintf("unknown operation %q (known: write, query, rewrite)", op)}
		}
		if _, dup := m.Weights[op]; dup {
			return Mix{}, &ConfigError{Field: "mix", Value: s, Msg: fmt.Sprintf("operation %q named twice", op)}
		}
		w, err := strconv.Atoi(strings.TrimSpace(val))
		if err != nil || w < 0 || w > 1_000_000 {
			return Mix{}, &ConfigError{Field: "mix", Value: s, Msg: fmt.Sprintf("weight of %q must be an integer in [0, 1000000]", op)}
		}
		m.Weights[op] = w
	}
	if m.Total() == 0 {
		return Mix{}, &ConfigError{Field: "mix", Value: s, Msg: "all weights are zero"}
	}
	return m, nil
}

func isKnownOp(op OpKind) bool { return slices.Contains(knownOps, op) }

// Total is the sum of the weights.
func (m Mix) Total() int {
	n := 0
	for _, w := range m.Weights {
		n += w
	}
	return n
}

// String renders the mix in ParseMix's syntax, in a fixed order.
func (m Mix) String() string {
	var parts []string
	for _, op := range knownOps {
		if w, ok := m.Weights[op]; ok && w > 0 {
			parts = append(parts, fmt.Sprintf("%s=%d", op, w))
		}
	}
	return strings.Join(parts, ",")
}

// Schedule expands the mix into one cycle of Total() operations, spread by
// smooth weighted round robin (write=2,query=1 -> write query write).
func (m Mix) Schedule() []OpKind {
	total := m.Total()
	out := make([]OpKind, 0, total)
	cur := make(map[OpKind]int, len(m.Weights))
	for len(out) < total {
		var best OpKind
		bestVal := 0
		first := true
		for _, op := range knownOps {
			w := m.Weights[op]
			if w == 0 {
				continue
			}
			cur[op] += w
			if first || cur[op] > bestVal {
				best, bestVal, first = op, cur[op], false
			}
		}
		cur[best] -= total
		out = append(out, best)
	}
	return out
}

// Config describes one run. Zero values take the defaults noted.
type Config struct {
	Shape       Shape
	Workspaces  int           // default 4
	Concurrency int           // default 4
	Duration    time.Duration // 0 with Requests > 0: no time bound
	Requests    int64         // 0: no count bound
	Mix         Mix           // default DefaultMix()
	// Span is the time range the generated points cover, ending one
	// minute before the run; it must stay well inside the 90-day default
	// RP. Default 1h: agents write recent data, so few shards are touched.
	Span time.Duration
	// Query is the template of a query operation; {measurement}, {field},
	// {start} and {end} (RFC 3339 literals of the queried window) are
	// replaced. Default DefaultQuery.
	Query string
	// QueryWindow is the length of the queried window, starting at the
	// first generated timestamp. Default 10m.
	QueryWindow time.Duration
	// RateHint sizes the Pool for a duration-bound run: enough bodies for
	// this many points per second. Default 400,000 (above what this
	// hardware sustains). A run that uses the Pool up stops early and says so.
	RateHint int
	// MaxPoolBytes caps the gzipped Pool (default 512 MiB).
	MaxPoolBytes int64
	GzipLevel    int // compress/gzip level; 0 = gzip.DefaultCompression
	Seed         uint64
	// ServerPID, when > 0, is sampled for VmRSS/VmHWM during the run.
	ServerPID      int
	SampleInterval time.Duration // default 200ms
	// Verify runs count(*) per database after the load (default on via
	// the command; the zero value skips it).
	Verify bool
	Now    func() time.Time // default time.Now
	Logger *slog.Logger     // nil: discard
}

// DefaultQuery is a dashboard-style GROUP BY time query.
const DefaultQuery = `SELECT mean("{field}"), max("{field}") FROM "{measurement}" WHERE time >= '{start}' AND time < '{end}' GROUP BY time(1m), "host"`

func (c *Config) applyDefaults() {
	c.Shape.applyDefaults()
	if c.Workspaces == 0 {
		c.Workspaces = 4
	}
	if c.Concurrency == 0 {
		c.Concurrency = 4
	}
	if c.Mix.Weights == nil {
		c.Mix = DefaultMix()
	}
	if c.Span == 0 {
		c.Span = time.Hour
	}
	if c.Query == "" {
		c.Query = DefaultQuery
	}
	if c.QueryWindow == 0 {
		c.QueryWindow = 10 * time.Minute
	}
	if c.RateHint == 0 {
		c.RateHint = 400_000
	}
	if c.MaxPoolBytes == 0 {
		c.MaxPoolBytes = 512 << 20
	}
	if c.SampleInterval == 0 {
		c.SampleInterval = 200 * time.Millisecond
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// maxSpan keeps every generated point well inside a 90-day RP even if the
// run starts long after generation.
const maxSpan = 80 * 24 * time.Hour

func (c *Config) validate() error {
	if err := c.Shape.validate(); err != nil {
		return err
	}
	switch {
	case c.Workspaces < 1 || c.Workspaces > 10_000:
		return &ConfigError{Field: "workspaces", Value: strconv.Itoa(c.Workspaces), Msg: "must be in [1, 10000]"}
	case c.Concurrency < 1 || c.Concurrency > 10_000:
		return &ConfigError{Field: "concurrency", Value: strconv.Itoa(c.Concurrency), Msg: "must be in [1, 10000]"}
	case c.Duration < 0:
		return &ConfigError{Field: "duration", Value: c.Duration.String(), Msg: "must not be negative"}
	case c.Requests < 0:
		return &ConfigError{Field: "requests", Value: strconv.FormatInt(c.Requests, 10), Msg: "must not be negative"}
	case c.Duration == 0 && c.Requests == 0:
		return &ConfigError{Field: "duration", Value: "0", Msg: "a run must be bounded: set -duration, -requests, or both"}
	case c.Span <= 0 || c.Span > maxSpan:
		return &ConfigError{Field: "span", Value: c.Span.String(), Msg: "must be in (0, 80 days] so every point stays inside the 90-day default RP"}
	case c.QueryWindow <= 0:
		return &ConfigError{Field: "query-window", Value: c.QueryWindow.String(), Msg: "must be positive"}
	case c.RateHint < 0:
		return &ConfigError{Field: "rate-hint", Value: strconv.Itoa(c.RateHint), Msg: "must not be negative"}
	case c.GzipLevel < -2 || c.GzipLevel > 9:
		return &ConfigError{Field: "gzip-level", Value: strconv.Itoa(c.GzipLevel), Msg: "must be in [-2, 9] (compress/gzip levels)"}
	case c.ServerPID < 0:
		return &ConfigError{Field: "server-pid", Value: strconv.Itoa(c.ServerPID), Msg: "must not be negative"}
	}
	if c.Mix.Total() == 0 {
		return &ConfigError{Field: "mix", Value: c.Mix.String(), Msg: "all weights are zero"}
	}
	for op, w := range c.Mix.Weights {
		if !isKnownOp(op) || w < 0 {
			return &ConfigError{Field: "mix", Value: c.Mix.String(), Msg: fmt.Sprintf("bad operation %q or weight %d", op, w)}
		}
	}
	if c.Mix.Weights[OpQuery] > 0 && !strings.Contains(c.Query, "{start}") {
		// Without a time bound the query scans everything ever written,
		// which measures the data size rather than the server.
		return &ConfigError{Field: "query", Value: c.Query, Msg: "the template must bound time with {start} (and {end})"}
	}
	return nil
}
