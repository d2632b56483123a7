package tsdb

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kodo-project/kodo/storage/tsengine/embedded"
	"github.com/kodo-project/kodo/tsdb/tsdbapi"
)

// TestQueryLimits: /v4 queries obey the gateway's query limits: buckets
// refused before the engine runs, the engine's select limits and the
// answer bound as E7212, each message naming its limit.
func TestQueryLimits(t *testing.T) {
	eng, err := embedded.Open(t.TempDir(), embedded.Options{MaxSelectSeriesN: 2})
	require.NoError(t, err)
	t.Cleanup(func() { _ = eng.Close() })
	f := newFixture(t, eng, func(c *Config) { c.MaxSelectBuckets = 1000; c.MaxAnswerBytes = 4096 })
	mustOK(t, f.call("POST", "/v4/repos/app", `{"region":"gz"}`))
	mustOK(t, f.call("POST", "/v4/repos/app/series/cpu", `{"retention":"7d"}`))
	now := time.Now().Add(-time.Hour).Truncate(time.Second)
	var body strings.Builder
	for i := 0; i < 200; i++ {
		fmt.Fprintf(&body, "cpu,host=h%d v=%d %d\n", i%3, i, now.Add(time.Duration(i)*time.Second).UnixNano())
	}
	mustOK(t, f.call("POST", "/v4/repos/app/points", []byte(body.String())))

	q := func(sql string) answer { return f.call("GET", "/v4/repos/app/query?q="+url.QueryEscape(sql), nil) }

	a := q(`SELECT count(v) FROM cpu WHERE time > now() - 1h GROUP BY time(1ns)`)
	mustErr(t, a, tsdbapi.CodeInvalidSQL)
	assert.Contains(t, a.errText(t), "max-select-buckets")
	a = q(`SELECT max(c) FROM (SELECT count(v) AS c FROM cpu GROUP BY time(1ms)) WHERE time > now() - 2h`)
	mustErr(t, a, tsdbapi.CodeInvalidSQL)
	assert.Contains(t, a.errText(t), "max-select-buckets", "the outer range bounds a subquery's GROUP BY")

	a = q(`SELECT count(v) FROM cpu WHERE time > now() - 2h`)
	mustErr(t, a, tsdbapi.CodeExecuteSQL)
	assert.Contains(t, a.errText(t), "max-select-series", "three series, the engine allows two")

	a = q(`SELECT v FROM cpu WHERE host = 'h1'`)
	mustErr(t, a, tsdbapi.CodeExecuteSQL)
	assert.Contains(t, a.errText(t), "max-answer-bytes")

	mustOK(t, q(`SELECT count(v) FROM cpu WHERE host = 'h1' AND time > now() - 2h GROUP BY time(10m)`))
}
