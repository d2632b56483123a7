package tsengine

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLimitFromResults reads InfluxDB 1.8's own error texts (query/
// executor.go, query/compile.go, tsdb/shard.go), misspelling included.
func TestLimitFromResults(t *testing.T) {
	cases := map[string]string{
		"max-select-point limit exceeed: (10001/10000)":     LimitSelectPoints,
		"max-select-series limit exceeded: (3/2)":           LimitSelectSeries,
		"max-select-buckets limit exceeded: (120001/10000)": LimitSelectBuckets,
	}
	for text, limit := range cases {
		err := LimitFromResults([]Result{{StatementID: 0}, {StatementID: 1, Err: text}})
		var le *LimitError
		require.True(t, errors.As(err, &le), text)
		assert.Equal(t, limit, le.Limit)
		assert.Contains(t, le.Msg, "/")
		assert.Contains(t, le.Error(), limit)
	}
	assert.NoError(t, LimitFromResults([]Result{{Err: "field type conflict"}}))
	assert.NoError(t, LimitFromResults(nil))
}
