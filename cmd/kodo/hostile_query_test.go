package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	kql "github.com/kodo-project/kodo/influxql"
	"github.com/kodo-project/kodo/storage/tsengine"
	"github.com/kodo-project/kodo/storage/tsengine/embedded"
)

// queryRSSBound is what the query attacks may cost the process: the
// 1ns GROUP BY alone held 1.8 GB (four at once 3.3 GB) before the limits.
const queryRSSBound = 256 << 20

// TestHostileQuery replays issue 12's query attacks (items 1-3) against
// the binary: a 3,000,000 '(' form POST to /query (was a fatal stack
// overflow), GROUP BY time(1ns) over an hour, four at once (was 1.8 GB
// each), and a CQ of 1ns buckets resampled every second (was unbounded
// memory and a crash loop). Each gets a 4xx naming what is wrong, the
// process lives with RSS under queryRSSBound, and it restarts on its data
// with the points intact.
func TestHostileQuery(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the binary")
	}
	p := startProc(t, t.TempDir())
	ws := p.CreateWorkspace()
	now := time.Now().Add(-10 * time.Minute)
	var lines strings.Builder
	for i := 0; i < 1000; i++ {
		fmt.Fprintf(&lines, "m,host=h%d v=%d %d\n", i%5, i, now.Add(time.Duration(i)*time.Millisecond*300).UnixNano())
	}
	a := p.WriteLines(ws, lines.String(), true)
	require.Equal(t, 200, a.Status, a.String())

	w := p.Watch()

	// Item 1: 3M '(' in a form body (6 MB, under the body limit).
	a = p.Influx(ws, http.MethodPost, "/query", nil,
		strings.NewReader("q=SELECT+"+strings.Repeat("(", 3_000_000)+"v+FROM+m"), "application/x-www-form-urlencoded")
	requireClientError(t, a)
	assert.Equal(t, 400, a.Status)
	require.True(t, p.Alive(), "the process survives the deep nesting")

	// Item 2: GROUP BY time(1ns) over an hour, four at once on /query and
	// on /v1/read/metrics; and a month at 1ms.
	attacks := []string{
		`SELECT count(v) FROM m WHERE time > now() - 1h GROUP BY time(1ns)`,
		`SELECT count(v) FROM m WHERE time > now() - 30d GROUP BY time(1ms) fill(0)`,
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var got []answer
	for i := 0; i < 4; i++ {
		for _, q := range attacks {
			wg.Add(2)
			go func() {
				defer wg.Done()
				a := p.Influx(ws, http.MethodGet, "/query", map[string]string{"q": q}, nil, "")
				mu.Lock()
				got = append(got, a)
				mu.Unlock()
			}()
			go func() {
				defer wg.Done()
				req, _ := http.NewRequest(http.MethodPost, p.Base+"/v1/read/metrics",
					strings.NewReader(fmt.Sprintf(`{"db":%q,"command":%q}`, ws.DBUUID, q)))
				req.Header.Set("Content-Type", "application/json")
				a, err := do(req, 60*time.Second)
				assert.NoError(t, err)
				mu.Lock()
				got = append(got, a)
				mu.Unlock()
			}()
		}
	}
	wg.Wait()
	for _, a := range got {
		requireClientError(t, a)
		assert.Equal(t, 400, a.Status, a.String())
		assert.Contains(t, a.Body, "max-select-buckets", "the answer names the limit")
	}

	// With no lower time bound the bucket count is not known up front: the
	// engine maps only the last max-select-buckets buckets' shards, and
	// the answer bound stops whatever fill() would make.
	for _, q := range []string{`SELECT count(v) FROM m GROUP BY time(1ns)`, `SELECT count(v) FROM m WHERE time < now() GROUP BY time(1ns) fill(0)`} {
		a = p.Influx(ws, http.MethodGet, "/query", map[string]string{"q": q}, nil, "")
		t.Logf("%s: %.200s", q, a)
		if a.Status != 200 {
			requireClientError(t, a)
		}
	}

	// Item 3: the CQ that skipped /v1/cq/create's rules.
	cq := fmt.Sprintf(`CREATE CONTINUOUS QUERY flood ON %s RESAMPLE EVERY 1s FOR 10m BEGIN SELECT count(v) INTO %s.autogen.flood FROM m GROUP BY time(1ns) END`, ws.DB, ws.DB)
	a = p.Influx(ws, http.MethodPost, "/query", nil, strings.NewReader(url.Values{"q": {cq}}.Encode()), "application/x-www-form-urlencoded")
	requireClientError(t, a)
	assert.Equal(t, 400, a.Status)
	assert.Contains(t, a.Body, "minimum")

	// Normal queries still work.
	a = p.Influx(ws, http.MethodGet, "/query", map[string]string{"q": `SELECT count(v) FROM m WHERE time > now() - 1h GROUP BY time(1m)`}, nil, "")
	assert.Equal(t, 200, a.Status, a.String())
	assert.NotContains(t, a.Body, "error")

	require.True(t, p.Alive())
	assertBounded(t, w, queryRSSBound, 1000)

	p.Restart()
	assert.Equal(t, int64(1000), p.Count(ws, "m", "v"), "every acknowledged point after the restart")
}

// TestHostileStoredCQ: a CQ that breaks the rules, stored before them
// (put straight into the engine while the gateway is down), does not
// crash-loop the process: the gateway drops it at start, keeps running,
// and restarts again cleanly.
func TestHostileStoredCQ(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the binary")
	}
	p := startProc(t, t.TempDir())
	ws := p.CreateWorkspace()
	a := p.WriteLines(ws, fmt.Sprintf("m v=1 %d\n", time.Now().Add(-time.Minute).UnixNano()), false)
	require.Equal(t, 200, a.Status, a.String())
	p.Stop(60 * time.Second)

	engDir := filepath.Join(p.Data, "influxdb")
	ctx := context.Background()
	exec := func(e *embedded.Engine, q string) []tsengine.Result {
		pq, err := kql.Parse(q)
		require.NoError(t, err)
		res, err := e.Query(ctx, ws.DB, pq, tsengine.QueryOptions{})
		require.NoError(t, err)
		for _, r := range res {
			require.Empty(t, r.Err, q)
		}
		return res
	}
	e, err := embedded.Open(engDir, embedded.Options{DisableContinuousQueries: true})
	require.NoError(t, err)
	exec(e, fmt.Sprintf(`CREATE CONTINUOUS QUERY flood ON %s RESAMPLE EVERY 1s FOR 10m BEGIN SELECT count(v) INTO %s.autogen.flood FROM m GROUP BY time(1ns) END`, ws.DB, ws.DB))
	require.NoError(t, e.Close())

	p.start()
	w := p.Watch()
	// /v1/ping answered, so the start-up check ran; a write and a read
	// later the process is still up and small.
	a = p.WriteLines(ws, fmt.Sprintf("m v=2 %d\n", time.Now().UnixNano()), false)
	require.Equal(t, 200, a.Status, a.String())
	assert.Equal(t, int64(2), p.Count(ws, "m", "v"))
	require.True(t, p.Alive())
	assertBounded(t, w, queryRSSBound, 1000)
	p.Stop(60 * time.Second)

	e, err = embedded.Open(engDir, embedded.Options{DisableContinuousQueries: true})
	require.NoError(t, err)
	for _, r := range exec(e, `SHOW CONTINUOUS QUERIES`) {
		for _, row := range r.Series {
			assert.Empty(t, row.Values, "the bad CQ is gone from %s", row.Name)
		}
	}
	require.NoError(t, e.Close())
	p.start()
	require.True(t, p.Alive())
}
