package loadgen

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func ms(n ...int) []time.Duration {
	out := make([]time.Duration, len(n))
	for i, v := range n {
		out[i] = time.Duration(v) * time.Millisecond
	}
	return out
}

func seq(n int) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = time.Duration(i+1) * time.Millisecond
	}
	return out
}

func TestPercentile(t *testing.T) {
	tests := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one value p50", ms(7), 50, 7 * time.Millisecond},
		{"one value p99", ms(7), 99, 7 * time.Millisecond},
		{"two values p50 is the lower", ms(1, 2), 50, 1 * time.Millisecond},
		{"two values p51 is the upper", ms(1, 2), 51, 2 * time.Millisecond},
		{"1..100 p50", seq(100), 50, 50 * time.Millisecond},
		{"1..100 p99", seq(100), 99, 99 * time.Millisecond},
		{"1..100 p99.5", seq(100), 99.5, 100 * time.Millisecond},
		{"1..1000 p99", seq(1000), 99, 990 * time.Millisecond},
		{"1..10 p99 is the max", seq(10), 99, 10 * time.Millisecond},
		{"1..10 p90", seq(10), 90, 9 * time.Millisecond},
		{"p100", seq(10), 100, 10 * time.Millisecond},
		{"p0 clamps to min", seq(10), 0, 1 * time.Millisecond},
		{"p>100 clamps to max", seq(10), 150, 10 * time.Millisecond},
		{"NaN clamps to min", seq(10), math.NaN(), 1 * time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, Percentile(tc.sorted, tc.p))
		})
	}
}

func TestSummarize(t *testing.T) {
	assert.Equal(t, Latency{}, Summarize(nil))
	d := ms(30, 10, 20, 40)
	l := Summarize(d)
	assert.Equal(t, Latency{Count: 4, P50: 20 * time.Millisecond, P99: 40 * time.Millisecond, Max: 40 * time.Millisecond, Mean: 25 * time.Millisecond}, l)
	assert.Equal(t, ms(10, 20, 30, 40), d, "sorted in place")
}

func TestParseMix(t *testing.T) {
	tests := []struct {
		in   string
		want map[OpKind]int
		err  string
	}{
		{"write=9,query=1", map[OpKind]int{OpWrite: 9, OpQuery: 1}, ""},
		{" write = 1 , query = 0 ", map[OpKind]int{OpWrite: 1, OpQuery: 0}, ""},
		{"query=1", map[OpKind]int{OpQuery: 1}, ""},
		{"rewrite=1,write=1", map[OpKind]int{OpRewrite: 1, OpWrite: 1}, ""},
		{"", nil, "empty"},
		{"write", nil, "op=weight"},
		{"delete=1", nil, "unknown operation"},
		{"write=1,write=2", nil, "named twice"},
		{"write=-1", nil, "integer"},
		{"write=x", nil, "integer"},
		{"write=0,query=0", nil, "all weights are zero"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			m, err := ParseMix(tc.in)
			if tc.err != "" {
				var ce *ConfigError
				require.ErrorAs(t, err, &ce)
				assert.Equal(t, "mix", ce.Field)
				assert.Contains(t, err.Error(), tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, m.Weights)
		})
	}
}

func TestMixSchedule(t *testing.T) {
	tests := []struct {
		mix  string
		want []OpKind
	}{
		{"write=1", []OpKind{OpWrite}},
		{"write=2,query=1", []OpKind{OpWrite, OpQuery, OpWrite}},
		{"write=1,query=1", []OpKind{OpWrite, OpQuery}},
		{"write=3,query=0,rewrite=1", []OpKind{OpWrite, OpWrite, OpRewrite, OpWrite}},
	}
	for _, tc := range tests {
		t.Run(tc.mix, func(t *testing.T) {
			m, err := ParseMix(tc.mix)
			require.NoError(t, err)
			assert.Equal(t, tc.want, m.Schedule())
		})
	}
	m := DefaultMix()
	s := m.Schedule()
	require.Len(t, s, 10)
	n := 0
	for _, op := range s {
		if op == OpQuery {
			n++
		}
	}
	assert.Equal(t, 1, n)
	assert.Equal(t, "write=9,query=1", m.String())
}

func TestPoolSize(t *testing.T) {
	mk := func(mix string, req int64, dur time.Duration, ws int) Config {
		m, err := ParseMix(mix)
		require.NoError(t, err)
		c := Config{Mix: m, Requests: req, Duration: dur, Workspaces: ws}
		c.applyDefaults()
		return c
	}
	tests := []struct {
		name string
		cfg  Config
		want int
	}{
		{"requests, writes only", mk("write=1", 10, 0, 2), 5},
		{"requests, odd", mk("write=1", 11, 0, 2), 6},
		{"requests, half queries", mk("write=1,query=1", 3, 0, 2), 1}, // w q w: 2 writes
		{"requests, half queries, 4", mk("write=1,query=1", 4, 0, 1), 2},
		{"duration", mk("write=1", 0, 10*time.Second, 4), 200}, // 400k*10/5000 = 800 bodies / 4
		{"no writes", mk("query=1", 5, 0, 1), 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, poolSize(tc.cfg, tc.cfg.Mix.Schedule()))
		})
	}
}

func TestConfigValidation(t *testing.T) {
	base := func() Config { return Config{Duration: time.Second} }
	tests := []struct {
		name  string
		edit  func(*Config)
		field string
	}{
		{"unbounded", func(c *Config) { c.Duration = 0 }, "duration"},
		{"negative requests", func(c *Config) { c.Requests = -1 }, "requests"},
		{"too many workspaces", func(c *Config) { c.Workspaces = 20_000 }, "workspaces"},
		{"negative concurrency", func(c *Config) { c.Concurrency = -2 }, "concurrency"},
		{"span beyond the RP", func(c *Config) { c.Span = 100 * 24 * time.Hour }, "span"},
		{"query without time bound", func(c *Config) { c.Query = "SELECT * FROM x" }, "query"},
		{"bad gzip level", func(c *Config) { c.GzipLevel = 12 }, "gzip-level"},
		{"bad shape", func(c *Config) { c.Shape.Measurement = "a b" }, "measurement"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := base()
			tc.edit(&c)
			c.applyDefaults()
			err := c.validate()
			var ce *ConfigError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, tc.field, ce.Field)
		})
	}
	c := base()
	c.applyDefaults()
	assert.NoError(t, c.validate())
}
