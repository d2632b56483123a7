package influxql

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCheckBuckets(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	cases := []struct {
		q    string
		max  int
		over bool
	}{
		{`SELECT count(v) FROM m WHERE time > now() - 1h GROUP BY time(1ns)`, 100000, true},
		{`SELECT count(v) FROM m WHERE time > now() - 1h GROUP BY time(1m)`, 100000, false},
		{`SELECT count(v) FROM m WHERE time > now() - 1h GROUP BY time(1m)`, 60, true},  // 61 windows touched
		{`SELECT count(v) FROM m WHERE time > now() - 1h GROUP BY time(1m)`, 61, false}, // exactly at the limit
		{`SELECT count(v) FROM m WHERE time > now() - 30d GROUP BY time(1s)`, 100000, true},
		{`SELECT count(v) FROM m WHERE time > '2026-01-01T00:00:00Z' AND time < '2026-01-01T00:00:10Z' GROUP BY time(1s)`, 10, false},
		{`SELECT count(v) FROM m WHERE time > now() - 1h`, 1, false},                                    // no GROUP BY time
		{`SELECT count(v) FROM m GROUP BY time(1ns)`, 10, false},                                        // no lower bound: the engine's and the answer bound's
		{`SELECT v FROM m WHERE time > now() - 1000d`, 1, false},                                        // raw
		{`SELECT count(v) FROM m WHERE time > '1700-01-01T00:00:00Z' GROUP BY time(1ns)`, 100000, true}, // past int64 nanoseconds
		{`SELECT max(c) FROM (SELECT count(v) AS c FROM m GROUP BY time(1s)) WHERE time > now() - 1d`, 1000, true},
		{`EXPLAIN SELECT count(v) FROM m WHERE time > now() - 1h GROUP BY time(1ns)`, 1000, true},
		{`SHOW MEASUREMENTS; SELECT count(v) FROM m WHERE time > now() - 1h GROUP BY time(1ms)`, 1000, true},
		{`SELECT count(v) FROM m WHERE time > now() - 1h GROUP BY time(1ns)`, 0, false}, // check off
	}
	for _, c := range cases {
		q, err := Parse(c.q)
		require.NoError(t, err, c.q)
		err = CheckBuckets(q, now, c.max)
		if !c.over {
			assert.NoError(t, err, c.q)
			continue
		}
		var le *LimitError
		require.True(t, errors.As(err, &le), "%s: %v", c.q, err)
		assert.Equal(t, LimitSelectBuckets, le.Limit)
		assert.Contains(t, le.Error(), "max-select-buckets", c.q)
	}
	assert.Equal(t, "3600000000001", Buckets(now.Add(-time.Hour), now, time.Nanosecond).String())
}
