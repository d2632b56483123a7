package influxql

import (
	"encoding/json"
	"os"
	"testing"
	"time"

	iql "github.com/influxdata/influxql"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// goldenPath is the project's byte-for-byte copy of the shared contract
// (shared/spec/rewrite-golden.json), so it runs from a plain clone.
const goldenPath = "testdata/rewrite-golden.json"

// sharedGoldenPath is the original, beside the repository when present.
const sharedGoldenPath = "../../shared/spec/rewrite-golden.json"

type goldenCase struct {
	Name        string      `json:"name"`
	Item        Item        `json:"item"`
	Expect      []Statement `json:"expect"`
	ExpectError string      `json:"expect_error"`
}

func loadGolden(tb testing.TB) []goldenCase {
	tb.Helper()
	b, err := os.ReadFile(goldenPath)
	require.NoError(tb, err)
	var doc struct {
		Cases []goldenCase `json:"cases"`
	}
	require.NoError(tb, json.Unmarshal(b, &doc))
	require.NotEmpty(tb, doc.Cases)
	return doc.Cases
}

// canonical re-parses sql and prints it, so that formatting differences
// do not count.
func canonical(tb testing.TB, sql string) string {
	tb.Helper()
	q, err := iql.ParseQuery(sql)
	require.NoError(tb, err, "does not parse: %s", sql)
	return q.String()
}

// goldenNow is a fixed clock; no golden case depends on it except through
// now() ranges, whose spans do not depend on the clock.
var goldenNow = time.Date(2020, 4, 10, 13, 2, 7, 0, time.UTC)

func TestRewriteGolden(t *testing.T) {
	for _, c := range loadGolden(t) {
		t.Run(c.Name, func(t *testing.T) {
			got := RewriteAll("mydb", []Item{c.Item}, goldenNow)[0]
			if c.ExpectError != "" {
				require.Len(t, got, 1)
				assert.Equal(t, c.Item.SQL, got[0].SQL)
				assert.Contains(t, got[0].Error, c.ExpectError)
				assert.Equal(t, map[string]any{}, got[0].RewriteResults)
				return
			}
			require.Len(t, got, len(c.Expect))
			for i, want := range c.Expect {
				assert.Empty(t, got[i].Error)
				assert.Equal(t, canonical(t, want.SQL), canonical(t, got[i].SQL), "statement %d", i+1)
				wantRes, err := json.Marshal(want.RewriteResults)
				require.NoError(t, err)
				gotRes, err := json.Marshal(got[i].RewriteResults)
				require.NoError(t, err)
				assert.JSONEq(t, string(wantRes), string(gotRes), "statement %d rewrite_results", i+1)
			}
		})
	}
}

// TestSharedSpecCopyUnchanged checks the copy against the shared original when
// the shared directory is beside the repository.
func TestSharedSpecCopyUnchanged(t *testing.T) {
	want, err := os.ReadFile(sharedGoldenPath)
	if err != nil {
		t.Skipf("no shared directory beside the repository (%v): nothing to compare the copy with", err)
	}
	got, err := os.ReadFile(goldenPath)
	require.NoError(t, err)
	require.Equal(t, string(want), string(got), "%s differs from %s: copy it again", goldenPath, sharedGoldenPath)
}
