package remote

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tinylib/msgp/msgp"
)

// TestDecodeMsgpackResults reads an answer written the way influxd 1.8's
// msgpack formatter writes one: a failed statement as {"error"} alone,
// times as the time extension, floats and integers apart.
func TestDecodeMsgpackResults(t *testing.T) {
	var buf bytes.Buffer
	w := msgp.NewWriter(&buf)
	ts := time.Unix(60, 0).UTC()
	must := func(err error) { require.NoError(t, err) }
	must(w.WriteMapHeader(1))
	must(w.WriteString("results"))
	must(w.WriteArrayHeader(2))
	must(w.WriteMapHeader(2))
	must(w.WriteString("statement_id"))
	must(w.WriteInt(0))
	must(w.WriteString("series"))
	must(w.WriteArrayHeader(1))
	must(w.WriteMapHeader(4))
	must(w.WriteString("name"))
	must(w.WriteString("cpu"))
	must(w.WriteString("tags"))
	must(w.WriteMapHeader(1))
	must(w.WriteString("host"))
	must(w.WriteString("a"))
	must(w.WriteString("columns"))
	must(w.WriteArrayHeader(3))
	for _, c := range []string{"time", "f", "n"} {
		must(w.WriteString(c))
	}
	must(w.WriteString("values"))
	must(w.WriteArrayHeader(1))
	must(w.WriteArrayHeader(3))
	must(w.WriteTime(ts))
	must(w.WriteFloat64(2))
	must(w.WriteInt64(3))
	must(w.WriteMapHeader(1))
	must(w.WriteString("error"))
	must(w.WriteString("not executed"))
	must(w.Flush())

	res, msg, err := decodeMsgpackResults(buf.Bytes())
	require.NoError(t, err)
	assert.Empty(t, msg)
	require.Len(t, res, 2)
	assert.Equal(t, "cpu", res[0].Series[0].Name)
	assert.Equal(t, map[string]string{"host": "a"}, res[0].Series[0].Tags)
	assert.Equal(t, []any{ts, 2.0, int64(3)}, res[0].Series[0].Values[0])
	assert.Equal(t, 1, res[1].StatementID)
	assert.Equal(t, "not executed", res[1].Err)

	buf.Reset()
	w = msgp.NewWriter(&buf)
	must(w.WriteMapHeader(1))
	must(w.WriteString("error"))
	must(w.WriteString("database not found: x"))
	must(w.Flush())
	_, msg, err = decodeMsgpackResults(buf.Bytes())
	require.NoError(t, err)
	assert.Equal(t, "database not found: x", msg)
	assert.Equal(t, "database not found: x", msgpackError(buf.String()))
	assert.Equal(t, "plain text", msgpackError("plain text"))
}
