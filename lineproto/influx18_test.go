package lineproto

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/influxdata/influxdb/models"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// influxPrecision maps a Precision to the strings models understands.
var influxPrecision = map[Precision]string{
	Nanosecond: "n", Microsecond: "u", Millisecond: "ms", Second: "s", Minute: "m", Hour: "h",
}

// loadDivergences reads testdata/influx18-divergences.txt: one
// "file.lp:LINE  reason" per line, the places where we knowingly differ
// from InfluxDB 1.8's parser.
func loadDivergences(t *testing.T) map[string]string {
	f, err := os.Open("testdata/influx18-divergences.txt")
	require.NoError(t, err)
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		loc, reason, _ := strings.Cut(line, " ")
		out[loc] = strings.TrimSpace(reason)
	}
	require.NoError(t, sc.Err())
	return out
}

// describeOurs and describeTheirs render a parsed single-line point in a
// common form so the two parsers can be compared.
func describeOurs(p Point) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "%q", p.Measurement)
	for _, t := range p.Tags {
		fmt.Fprintf(&sb, " tag %q=%q", t.Key, t.Value)
	}
	fields := make([]string, 0, len(p.Fields))
	for _, f := range p.Fields {
		fields = append(fields, fmt.Sprintf(" field %q=%#v", f.Key, f.Value.Interface()))
	}
	sort.Strings(fields)
	sb.WriteString(strings.Join(fields, ""))
	fmt.Fprintf(&sb, " @%d", p.Time)
	return sb.String()
}

func describeTheirs(t *testing.T, p models.Point) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "%q", p.Name())
	for _, tag := range p.Tags() {
		fmt.Fprintf(&sb, " tag %q=%q", tag.Key, tag.Value)
	}
	fm, err := p.Fields()
	require.NoError(t, err)
	fields := make([]string, 0, len(fm))
	for k, v := range fm {
		if k == "time" {
			continue // the 1.8 shard drops it; we drop it while parsing
		}
		fields = append(fields, fmt.Sprintf(" field %q=%#v", k, v))
	}
	sort.Strings(fields)
	sb.WriteString(strings.Join(fields, ""))
	fmt.Fprintf(&sb, " @%d", p.UnixNano())
	return sb.String()
}

// TestAgainstInfluxDB18 parses every single-line point of the corpus with
// InfluxDB 1.8's own parser and checks we accept and reject the same lines
// and decode the same points, apart from the listed deliberate divergences.
func TestAgainstInfluxDB18(t *testing.T) {
	div := loadDivergences(t)
	used := map[string]bool{}
	inputs, err := filepath.Glob("testdata/corpus/*.lp")
	require.NoError(t, err)
	for _, in := range inputs {
		body, err := os.ReadFile(in)
		require.NoError(t, err)
		if bytes.Contains(body, []byte("allow_unsigned")) || filepath.Base(in) == "strings.lp" || filepath.Base(in) == "limits.lp" {
			continue // 1.8 has no uint support by default, multi-line strings and limits are checked elsewhere
		}
		opt := corpusOptions(t, body)
		for n, line := range bytes.Split(body, []byte("\n")) {
			loc := fmt.Sprintf("%s:%d", filepath.Base(in), n+1)
			trimmed := bytes.TrimLeft(line, " \t")
			if len(bytes.TrimRight(trimmed, " \t\r")) == 0 || trimmed[0] == '#' {
				continue
			}
			var b Batch
			ourErr := Parse(line, opt, &b)
			theirs, theirErr := models.ParsePointsWithPrecision(line, opt.Now.UTC(), influxPrecision[opt.Precision])
			var ours, their string
			if ourErr == nil {
				require.Equal(t, 1, b.Len(), loc)
				ours = describeOurs(b.At(0))
			} else {
				ours = "rejected: " + ourErr.Error()
			}
			if theirErr == nil && len(theirs) == 1 {
				their = describeTheirs(t, theirs[0])
			} else {
				their = fmt.Sprintf("rejected: %v", theirErr)
			}
			agree := (ourErr == nil) == (theirErr == nil) && (ourErr != nil || ours == their)
			if reason, ok := div[loc]; ok {
				used[loc] = true
				assert.False(t, agree, "%s is listed as a divergence (%s) but both parsers agree: %s", loc, reason, ours)
				continue
			}
			assert.True(t, agree, "%s %q\n ours:   %s\n influx: %s", loc, line, ours, their)
		}
	}
	for loc := range div {
		assert.True(t, used[loc], "divergence %s matches no corpus line", loc)
	}
}
