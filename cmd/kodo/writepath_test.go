package main

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDeletedSeriesWrittenAgainAreFound: through the binary, the second
// write of a series skips the shard's own validation (the embedded
// engine's trusted writes); after each way of deleting it, writing it
// again must create it in the index again, or its points would be
// acknowledged and stored but never found.
func TestDeletedSeriesWrittenAgainAreFound(t *testing.T) {
	p := startProc(t, t.TempDir())
	ws := p.CreateWorkspace()
	base := time.Now().Add(-2 * time.Hour).Truncate(time.Minute)
	at := func(m int) int64 { return base.Add(time.Duration(m) * time.Second).UnixNano() }
	query := func(q string) answer {
		t.Helper()
		return p.Influx(ws, http.MethodPost, "/query", nil, strings.NewReader(url.Values{"q": {q}}.Encode()), "application/x-www-form-urlencoded")
	}
	countA := func() int64 {
		t.Helper()
		return p.CountQuery(ws, "SELECT count(v) FROM m WHERE host = 'a'")
	}
	minute := 0
	write := func(lines string) {
		t.Helper()
		a := p.WriteLines(ws, lines, true)
		require.Equal(t, 200, a.Status, a.String())
	}
	for _, stmt := range []string{
		"DROP SERIES FROM m WHERE host = 'a'",
		"DELETE FROM m WHERE host = 'a'",
		"DROP MEASUREMENT m",
	} {
		// b keeps the measurement and its field where only a goes.
		write(fmt.Sprintf("m,host=a v=1 %d\nm,host=b v=1 %d\n", at(minute), at(minute)))
		write(fmt.Sprintf("m,host=a v=2 %d\n", at(minute+1)))
		require.Equal(t, int64(2), countA(), "before %s", stmt)
		a := query(stmt)
		require.Equal(t, 200, a.Status, a.String())
		require.Equal(t, int64(0), countA(), "after %s", stmt)
		write(fmt.Sprintf("m,host=a v=3 %d\n", at(minute+2)))
		assert.Equal(t, int64(1), countA(), "the point written after %q is found", stmt)
		a = query("SHOW TAG VALUES FROM m WITH KEY = host")
		require.Equal(t, 200, a.Status, a.String())
		assert.Contains(t, a.Body, `["host","a"]`, "after %s", stmt)
		require.Equal(t, 200, query("DROP SERIES FROM m").Status)
		minute += 10
	}
	require.True(t, p.Alive())
}
