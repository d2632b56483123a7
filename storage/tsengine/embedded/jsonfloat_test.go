package embedded

import (
	"encoding/json"
	"math"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAppendJSONFloat(t *testing.T) {
	for _, f := range []float64{0, 1, -1, 2, 0.1, 1.5, 1e20, 1e21, 123456789e15, 1e-6, 1e-7, 9.99e-7, -1e-7, 3.14159e-300, math.MaxFloat64, math.SmallestNonzeroFloat64, 1 / 3.0} {
		want, err := json.Marshal(f)
		require.NoError(t, err)
		assert.Equal(t, string(want), string(appendJSONFloat(nil, f)), "%v", f)
	}
}

func FuzzAppendJSONFloat(f *testing.F) {
	f.Add(1.5)
	f.Add(1e-7)
	f.Add(1e21)
	f.Fuzz(func(t *testing.T, x float64) {
		want, err := json.Marshal(x)
		if err != nil {
			return // NaN and Inf have no JSON form; the engines send nil
		}
		got := appendJSONFloat(nil, x)
		require.Equal(t, string(want), string(got))
		back, err := strconv.ParseFloat(string(got), 64)
		require.NoError(t, err)
		require.Equal(t, x, back)
	})
}
