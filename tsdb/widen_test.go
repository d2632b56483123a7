package tsdb

import (
	"testing"
	"time"

	"github.com/influxdata/line-protocol/v2/lineprotocol"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kodo-project/kodo/lineproto"
)

func TestWidenNumbers(t *testing.T) {
	var b lineproto.Batch
	body := "s1 v=1i,n=3i 1\ns1 v=2.5 2\ns2 v=7i 3\ns1 n=4i,w=1.5 4\n"
	require.NoError(t, lineproto.Parse([]byte(body), lineproto.ParseOptions{Now: time.Unix(0, 0)}, &b))
	widenNumbers(&b)
	kinds := func(i int) map[string]lineprotocol.ValueKind {
		out := map[string]lineprotocol.ValueKind{}
		for _, f := range b.At(i).Fields {
			out[string(f.Key)] = f.Value.Kind()
		}
		return out
	}
	assert.Equal(t, map[string]lineprotocol.ValueKind{"v": lineprotocol.Float, "n": lineprotocol.Int}, kinds(0),
		"v is also a float in this body; n never is")
	assert.Equal(t, 1.0, b.At(0).Fields[indexOf(b.At(0), "v")].Value.FloatV())
	assert.Equal(t, map[string]lineprotocol.ValueKind{"v": lineprotocol.Int}, kinds(2), "another series keeps its integer")
	assert.Equal(t, lineprotocol.Int, kinds(3)["n"])
}

func indexOf(p lineproto.Point, key string) int {
	for i, f := range p.Fields {
		if string(f.Key) == key {
			return i
		}
	}
	return -1
}
