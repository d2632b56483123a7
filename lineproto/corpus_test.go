package lineproto

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// corpusOptions reads the options from the first line of a corpus file,
// e.g. "# precision=ms now=123 max_tags=2 allow_unsigned".
func corpusOptions(t *testing.T, body []byte) ParseOptions {
	t.Helper()
	first, _, _ := bytes.Cut(body, []byte("\n"))
	first = bytes.TrimSuffix(first, []byte("\r"))
	require.True(t, bytes.HasPrefix(first, []byte("# ")), "corpus files start with an options comment")
	var opt ParseOptions
	for _, kv := range strings.Fields(string(first[2:])) {
		k, v, _ := strings.Cut(kv, "=")
		n, _ := strconv.ParseInt(v, 10, 64)
		switch k {
		case "precision":
			p, err := ParsePrecision(v)
			require.NoError(t, err)
			opt.Precision = p
		case "now":
			opt.Now = time.Unix(0, n)
		case "max_tags":
			opt.Limits.MaxTags = int(n)
		case "max_fields":
			opt.Limits.MaxFields = int(n)
		case "max_line_bytes":
			opt.Limits.MaxLineBytes = int(n)
		case "max_points":
			opt.Limits.MaxPoints = int(n)
		case "allow_unsigned":
			opt.AllowUnsigned = true
		default:
			t.Fatalf("unknown corpus option %q", k)
		}
	}
	return opt
}

// renderResult is the golden text for one parse: canonical points at
// nanosecond precision, then the errors.
func renderResult(b *Batch, err error) string {
	var sb strings.Builder
	sb.WriteString("# points\n")
	sb.Write(b.AppendLineProtocol(nil, Nanosecond))
	var pe *PartialError
	var de *DecodeError
	switch {
	case err == nil:
		sb.WriteString("# no errors\n")
	case errors.As(err, &pe):
		fmt.Fprintf(&sb, "# errors: %d of %d lines rejected\n", pe.Rejected, pe.Total)
		for _, e := range pe.Errors {
			sb.WriteString(e.Error())
			if e.Limit != "" {
				sb.WriteString(" [" + e.Limit + "]")
			}
			sb.WriteByte('\n')
		}
	case errors.As(err, &de):
		fmt.Fprintf(&sb, "# fatal: %s [%s]\n", de.Error(), de.Limit)
	default:
		fmt.Fprintf(&sb, "# unexpected error type %T: %v\n", err, err)
	}
	return sb.String()
}

func TestCorpusGolden(t *testing.T) {
	inputs, err := filepath.Glob("testdata/corpus/*.lp")
	require.NoError(t, err)
	require.NotEmpty(t, inputs)
	for _, in := range inputs {
		t.Run(filepath.Base(in), func(t *testing.T) {
			body, err := os.ReadFile(in)
			require.NoError(t, err)
			opt := corpusOptions(t, body)
			var b Batch
			perr := Parse(body, opt, &b)
			got := renderResult(&b, perr)

			golden := strings.TrimSuffix(in, ".lp") + ".golden"
			if *update {
				require.NoError(t, os.WriteFile(golden, []byte(got), 0o644))
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err, "run go test -run TestCorpusGolden -update to create it")
			assert.Equal(t, string(want), got)

			assertRoundTrip(t, &b)
		})
	}
}

// assertRoundTrip encodes b in every precision the timestamps allow and
// checks the parse of that text yields the same points.
func assertRoundTrip(t *testing.T, b *Batch) {
	t.Helper()
	text := b.AppendLineProtocol(nil, Nanosecond)
	var again Batch
	require.NoError(t, Parse(text, ParseOptions{AllowUnsigned: true}, &again), "canonical output must parse:\n%s", text)
	requireSamePoints(t, b, &again)
	assert.Equal(t, string(text), string(again.AppendLineProtocol(nil, Nanosecond)), "encoding is canonical")
}

func requireSamePoints(t *testing.T, want, got *Batch) {
	t.Helper()
	require.Equal(t, want.Len(), got.Len())
	for i := 0; i < want.Len(); i++ {
		w, g := want.At(i), got.At(i)
		require.Equal(t, string(w.Measurement), string(g.Measurement), "point %d", i)
		require.Equal(t, w.Time, g.Time, "point %d", i)
		require.Equal(t, len(w.Tags), len(g.Tags), "point %d", i)
		for k := range w.Tags {
			require.Equal(t, string(w.Tags[k].Key), string(g.Tags[k].Key))
			require.Equal(t, string(w.Tags[k].Value), string(g.Tags[k].Value))
		}
		require.Equal(t, len(w.Fields), len(g.Fields), "point %d", i)
		for k := range w.Fields {
			require.Equal(t, string(w.Fields[k].Key), string(g.Fields[k].Key))
			require.True(t, w.Fields[k].Value.Equal(g.Fields[k].Value), "point %d field %s: %v != %v", i, w.Fields[k].Key, w.Fields[k].Value, g.Fields[k].Value)
		}
	}
}
