package main

import (
	"encoding/json"
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
		a := query("SELECT count(v) FROM m WHERE host = 'a'")
		require.Equal(t, 200, a.Status, a.String())
		var res struct {
			Results []struct {
				Series []struct {
					Values [][]any `json:"values"`
				} `json:"series"`
			} `json:"results"`
		}
		require.NoError(t, json.Unmarshal([]byte(a.Body), &res), a.Body)
		require.Len(t, res.Results, 1)
		if len(res.Results[0].Series) == 0 {
			return 0
		}
		n, ok := res.Results[0].Series[0].Values[0][1].(float64)
		require.True(t, ok, a.Body)
		return int64(n)
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
