package loadgen

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/gzip"
)

// Shape is what one workspace's traffic looks like: Series series of one
// measurement, each with TagKeys and FieldKeys, sent LinesPerBody lines at
// a time. The default is the agent shape this project measures with: 10
// series x 5 float fields, 5,000 lines per body.
type Shape struct {
	Measurement  string   // default "kodo_bench"
	TagKeys      []string // default host, region; the first tag tells series apart
	FieldKeys    []string // default usage_user, usage_system, usage_idle, load1, mem_used
	Series       int      // series per workspace, default 10
	LinesPerBody int      // default 5,000
}

func (s *Shape) applyDefaults() {
	if s.Measurement == "" {
		s.Measurement = "kodo_bench"
	}
	if s.TagKeys == nil {
		s.TagKeys = []string{"host", "region"}
	}
	if s.FieldKeys == nil {
		s.FieldKeys = []string{"usage_user", "usage_system", "usage_idle", "load1", "mem_used"}
	}
	if s.Series == 0 {
		s.Series = 10
	}
	if s.LinesPerBody == 0 {
		s.LinesPerBody = 5000
	}
}

// validName keeps names free of characters line protocol or InfluxQL would
// need to escape, so bodies and queries stay simple and obviously valid.
func validName(s string) bool {
	if s == "" || len(s) > 128 || s == "time" {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.') {
			return false
		}
	}
	return true
}

func (s *Shape) validate() error {
	if !validName(s.Measurement) {
		return &ConfigError{Field: "measurement", Value: s.Measurement, Msg: "use 1-128 characters of [A-Za-z0-9_.-], not \"time\""}
	}
	if len(s.TagKeys) == 0 {
		return &ConfigError{Field: "tags", Value: "", Msg: "at least one tag key is needed to tell series apart"}
	}
	if len(s.FieldKeys) == 0 {
		return &ConfigError{Field: "fields", Value: "", Msg: "at least one field key is needed"}
	}
	seen := map[string]string{}
	for what, keys := range map[string][]string{"tags": s.TagKeys, "fields": s.FieldKeys} {
		for _, k := range keys {
			if !validName(k) {
				return &ConfigError{Field: what, Value: strings.Join(keys, ","), Msg: fmt.Sprintf("key %q: use 1-128 characters of [A-Za-z0-9_.-], not \"time\"", k)}
			}
			if prev, dup := seen[k]; dup {
				return &ConfigError{Field: what, Value: strings.Join(keys, ","), Msg: fmt.Sprintf("key %q repeats a key of -%s", k, prev)}
			}
			seen[k] = what
		}
	}
	if len(s.TagKeys) > 64 || len(s.FieldKeys) > 256 {
		return &ConfigError{Field: "tags", Value: strings.Join(s.TagKeys, ","), Msg: "at most 64 tag keys and 256 field keys"}
	}
	if s.Series < 1 || s.Series > 10_000_000 {
		return &ConfigError{Field: "series", Value: strconv.Itoa(s.Series), Msg: "must be in [1, 10000000]"}
	}
	if s.LinesPerBody < 1 || s.LinesPerBody > 1_000_000 {
		return &ConfigError{Field: "lines", Value: strconv.Itoa(s.LinesPerBody), Msg: "must be in [1, 1000000]"}
	}
	return nil
}

// Generator renders the bodies of a run. Line g (counted over all bodies,
// g = k*LinesPerBody + i for line i of body k) belongs to series
// g % Series at step g / Series, and step n is stamped Base + n*Interval,
// so every (series, timestamp) pair occurs once: no body overwrites
// another's points within a database.
type Generator struct {
	shape    Shape
	base     int64 // ns
	interval int64 // ns, >= 1
	seed     uint64
	prefixes [][]byte // per series: "measurement,tags "
	fields   [][]byte // per field: "key=" (with a leading comma after the first)
}

// NewGenerator checks shape and precomputes the series keys. Bodies
// cover [base, base+steps*interval) where steps = bodies*LinesPerBody/Series.
func NewGenerator(shape Shape, base time.Time, interval time.Duration, seed uint64) (*Generator, error) {
	shape.applyDefaults()
	if err := shape.validate(); err != nil {
		return nil, err
	}
	if interval <= 0 {
		return nil, &ConfigError{Field: "span", Value: interval.String(), Msg: "the step between timestamps must be positive"}
	}
	g := &Generator{shape: shape, base: base.UnixNano(), interval: int64(interval), seed: seed}
	width := len(strconv.Itoa(shape.Series - 1))
	for s := 0; s < shape.Series; s++ {
		var b []byte
		b = append(b, shape.Measurement...)
		for j, k := range shape.TagKeys {
			b = append(b, ',')
			b = append(b, k...)
			b = append(b, '=')
			b = append(b, k...)
			b = append(b, '-')
			if j == 0 {
				// Zero-padded so series sort in order in query output.
				num := strconv.Itoa(s)
				b = append(b, strings.Repeat("0", width-len(num))...)
				b = append(b, num...)
			} else {
				// Other tags group series (a region holds several hosts).
				b = strconv.AppendInt(b, int64(s%(j+3)), 10)
			}
		}
		b = append(b, ' ')
		g.prefixes = append(g.prefixes, b)
	}
	for i, k := range shape.FieldKeys {
		var b []byte
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, k...)
		b = append(b, '=')
		g.fields = append(g.fields, b)
	}
	return g, nil
}

// Shape is the generator's shape with defaults applied.
func (g *Generator) Shape() Shape { return g.shape }

// StepsFor is the number of timestamps per series that n bodies use.
func (g *Generator) StepsFor(n int) int64 {
	lines := int64(n) * int64(g.shape.LinesPerBody)
	return (lines + int64(g.shape.Series) - 1) / int64(g.shape.Series)
}

// TimeRange is the first and last timestamp (ns) of body k.
func (g *Generator) TimeRange(k int) (first, last int64) {
	L, S := int64(g.shape.LinesPerBody), int64(g.shape.Series)
	start := int64(k) * L
	end := start + L - 1
	return g.base + (start/S)*g.interval, g.base + (end/S)*g.interval
}

// AppendBody appends the line protocol of body k to dst. Field values are
// floats with two decimals from a PRNG seeded by (seed, k): deterministic,
// and about as compressible as real gauges.
func (g *Generator) AppendBody(dst []byte, k int) []byte {
	r := rand.New(rand.NewPCG(g.seed, uint64(k)))
	L, S := int64(g.shape.LinesPerBody), int64(g.shape.Series)
	for i := int64(0); i < L; i++ {
		line := int64(k)*L + i
		dst = append(dst, g.prefixes[line%S]...)
		for _, f := range g.fields {
			dst = append(dst, f...)
			dst = strconv.AppendFloat(dst, float64(r.IntN(1_000_000))/100, 'f', 2, 64)
		}
		dst = append(dst, ' ')
		dst = strconv.AppendInt(dst, g.base+(line/S)*g.interval, 10)
		dst = append(dst, '\n')
	}
	return dst
}

// Body is one pre-generated request body.
type Body struct {
	Index    int
	Lines    int
	RawBytes int    // line protocol before compression
	Gzip     []byte // as sent
}

// Pool holds the gzipped bodies of a run, indexed by body number.
type Pool struct {
	Bodies    []Body
	RawBytes  int64
	WireBytes int64
}

// Len is the number of bodies.
func (p *Pool) Len() int { return len(p.Bodies) }

// PoolError reports a body that could not be generated.
type PoolError struct {
	Body int
	Err  error
}

func (e *PoolError) Error() string {
	return fmt.Sprintf("loadgen: generating body %d: %v", e.Body, e.Err)
}
func (e *PoolError) Unwrap() error { return e.Err }

// Generate renders and gzips bodies 0..n-1 on all CPUs. It uses
// klauspost/compress's gzip: the same format and, on these bodies, sizes
// within a few percent of compress/gzip, at about three times the speed,
// which keeps the untimed pre-generation short. With maxBytes > 0 it keeps
// the longest prefix of bodies whose gzipped total fits (at least one
// body). It returns ctx's error if ctx ends first.
func (g *Generator) Generate(ctx context.Context, n, level int, maxBytes int64) (*Pool, error) {
	if level == 0 {
		level = gzip.DefaultCompression
	}
	if _, err := gzip.NewWriterLevel(nil, level); err != nil {
		return nil, &ConfigError{Field: "gzip-level", Value: strconv.Itoa(level), Msg: err.Error()}
	}
	bodies := make([]Body, n)
	var (
		mu      sync.Mutex
		total   int64
		stopAt  = n // first body index not kept because of the cap
		firstEr error
		next    int
		wg      sync.WaitGroup
	)
	workers := min(runtime.GOMAXPROCS(0), max(n, 1))
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var raw []byte
			var buf bytes.Buffer
			zw, _ := gzip.NewWriterLevel(&buf, level)
			for {
				mu.Lock()
				k := next
				next++
				stop := k >= stopAt || firstEr != nil
				mu.Unlock()
				if stop || ctx.Err() != nil {
					return
				}
				raw = g.AppendBody(raw[:0], k)
				buf.Reset()
				zw.Reset(&buf)
				_, err := zw.Write(raw)
				if err == nil {
					err = zw.Close()
				}
				mu.Lock()
				if err != nil && firstEr == nil {
					firstEr = &PoolError{Body: k, Err: err}
				}
				total += int64(buf.Len())
				if maxBytes > 0 && total > maxBytes {
					// Hand out no new body; those handed out finish, and
					// the prefix under the cap is kept below.
					stopAt = min(stopAt, next)
				}
				mu.Unlock()
				bodies[k] = Body{Index: k, Lines: g.shape.LinesPerBody, RawBytes: len(raw), Gzip: bytes.Clone(buf.Bytes())}
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if firstEr != nil {
		return nil, firstEr
	}
	p := &Pool{}
	for _, b := range bodies[:stopAt] {
		// Keep the longest prefix under the cap, but at least one body.
		if maxBytes > 0 && len(p.Bodies) > 0 && p.WireBytes+int64(len(b.Gzip)) > maxBytes {
			break
		}
		p.Bodies = append(p.Bodies, b)
		p.RawBytes += int64(b.RawBytes)
		p.WireBytes += int64(len(b.Gzip))
	}
	return p, nil
}
