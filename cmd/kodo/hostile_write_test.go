package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Hostile writes against the binary: points spread over thousands of time
// windows (each a shard that keeps files open), cardinality bursts, and
// one field written with a different type into different shards.

const day = 24 * time.Hour

// TestHostileFutureAndSpreadShards: 2,600 points each on its own future
// day are refused by -max-future, naming their lines; points spread over
// more past days than -max-shards-per-db open no more shards than that.
// Open descriptors stay bounded and the server starts again on its data.
func TestHostileFutureAndSpreadShards(t *testing.T) {
	const maxShards = 40
	p := startProc(t, t.TempDir(), "-max-shards-per-db", fmt.Sprint(maxShards))
	ws := p.CreateWorkspace()
	_, baseFDs, err := p.Stats()
	require.NoError(t, err)
	w := p.Watch()

	now := time.Now()
	for batch := 0; batch < 26; batch++ {
		var sb strings.Builder
		for i := 0; i < 100; i++ {
			d := batch*100 + i + 3 // day 3 onward: past the 48h default
			fmt.Fprintf(&sb, "future,d=%d v=1 %d\n", d, now.Add(time.Duration(d)*day).UnixNano())
		}
		a := p.WriteLines(ws, sb.String(), true)
		requireClientError(t, a)
		require.Equal(t, 400, a.Status, "%s", a)
		assert.Contains(t, a.Body, "ahead of the server clock (limit MaxFuture)")
		assert.Contains(t, a.Body, "line 1,", "the answer names the lines")
	}
	assert.Zero(t, p.Count(ws, "future", "v"))

	// The default RP (rp3, 90 days) keeps daily shard groups: one point a
	// day over 89 days wants 89 groups; maxShards are opened.
	var sb strings.Builder
	for d := 1; d < 90; d++ {
		fmt.Fprintf(&sb, "spread v=%d %d\n", d, now.Add(-time.Duration(d)*day).UnixNano())
	}
	a := p.WriteLines(ws, sb.String(), true)
	requireClientError(t, a)
	assert.Contains(t, a.Body, fmt.Sprintf("max-shards-per-database limit exceeded: (%d/%d)", maxShards, maxShards))
	stored := p.Count(ws, "spread", "v")
	assert.EqualValues(t, maxShards, stored)
	// A tsi1 shard holds about ten descriptors (index partitions, WAL, TSM).
	assertBounded(t, w, 1<<30, baseFDs+maxShards*16+64)

	p.Restart()
	assert.Equal(t, stored, p.Count(ws, "spread", "v"), "every acknowledged point is back")
	a = p.WriteLines(ws, fmt.Sprintf("spread v=0 %d\n", now.Add(-time.Duration(89)*day).UnixNano()), false)
	requireClientError(t, a)
	assert.Contains(t, a.Body, "max-shards-per-database limit exceeded")
	p.Stop(30 * time.Second)
}

// TestHostileCardinalityBurst: bursts of new series stop at
// -max-series-per-db with a 4xx naming the limit; a workspace's own
// max_values_per_tag is enforced; memory stays bounded.
func TestHostileCardinalityBurst(t *testing.T) {
	const maxSeries = 2000
	p := startProc(t, t.TempDir(), "-max-series-per-db", fmt.Sprint(maxSeries))
	ws := p.CreateWorkspace()
	w := p.Watch()
	// 150,000 new series in 30 bodies: the first 2,000 are stored, every
	// body is answered 400 naming the limit, memory stays flat.
	refused := 0
	for batch := 0; batch < 30; batch++ {
		var sb strings.Builder
		for i := 0; i < 5000; i++ {
			fmt.Fprintf(&sb, "burst,host=h%d,b=%d v=1\n", batch*5000+i, batch)
		}
		a := p.WriteLines(ws, sb.String(), true)
		if a.Status == 200 {
			continue
		}
		refused++
		requireClientError(t, a)
		assert.Equal(t, 400, a.Status)
		assert.Contains(t, a.Body, fmt.Sprintf("max-series-per-database limit exceeded: (%d)", maxSeries))
	}
	assert.Equal(t, 30, refused)
	assert.EqualValues(t, maxSeries, p.Count(ws, "burst", "v"))
	assertBounded(t, w, 256<<20, 1024)

	var lim map[string]any
	require.Equal(t, 200, postJSON(t, p.Base+"/v1/workspace/limits", map[string]any{
		"workspace_uuid": ws.WorkspaceUUID, "max_series_per_db": 5000, "max_values_per_tag": 50}, &lim))
	var sb strings.Builder
	for i := 0; i < 80; i++ {
		fmt.Fprintf(&sb, "tagged,user=u%d v=1\n", i)
	}
	a := p.WriteLines(ws, sb.String(), false)
	requireClientError(t, a)
	assert.Contains(t, a.Body, `max-values-per-tag limit exceeded (50/50): measurement=\"tagged\" tag=\"user\"`)
	assert.EqualValues(t, 50, p.Count(ws, "tagged", "v"))

	// The limit holds across a restart (counts come from the index).
	p.Restart()
	a = p.WriteLines(ws, "tagged,user=new v=1\n", false)
	requireClientError(t, a)
	assert.Contains(t, a.Body, "max-values-per-tag limit exceeded")
	p.Stop(30 * time.Second)
}

// TestHostileCrossShardTypeConflict: float yesterday, integer now, string
// three days ago (three daily shards): the first type wins everywhere,
// also after a restart, and the field stays readable.
func TestHostileCrossShardTypeConflict(t *testing.T) {
	p := startProc(t, t.TempDir())
	ws := p.CreateWorkspace()
	now := time.Now()
	a := p.WriteLines(ws, fmt.Sprintf("typed v=1.5 %d\n", now.Add(-day).UnixNano()), false)
	require.Equal(t, 200, a.Status, "%s", a)
	for _, c := range []struct{ line, typ string }{
		{fmt.Sprintf("typed v=2i %d\n", now.UnixNano()), "integer"},
		{fmt.Sprintf("typed v=\"s\" %d\n", now.Add(-3*day).UnixNano()), "string"},
	} {
		a := p.WriteLines(ws, c.line, false)
		requireClientError(t, a)
		assert.Equal(t, 400, a.Status)
		assert.Contains(t, a.Body, fmt.Sprintf(`input field \"v\" on measurement \"typed\" is type %s, already exists as type float`, c.typ))
	}
	p.Restart()
	a = p.WriteLines(ws, fmt.Sprintf("typed v=true %d\n", now.Add(-5*day).UnixNano()), false)
	requireClientError(t, a)
	assert.Contains(t, a.Body, "is type boolean, already exists as type float")
	assert.EqualValues(t, 1, p.Count(ws, "typed", "v"), "the field is readable and holds the one good point")
	p.Stop(30 * time.Second)
}
