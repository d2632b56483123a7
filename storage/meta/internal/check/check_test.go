package check

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kodo-project/kodo/storage/meta"
)

func TestDatakitIDs(t *testing.T) {
	now := time.Unix(1, 0)
	tests := []struct {
		name    string
		ws      string
		ids     []string
		t       time.Time
		want    []string
		invalid bool
	}{
		{"sorted and deduplicated", "w", []string{"b", "a", "b"}, now, []string{"a", "b"}, false},
		{"nil", "w", nil, now, nil, false},
		{"empty id", "w", []string{"a", ""}, now, nil, true},
		{"empty workspace", "", []string{"a"}, now, nil, true},
		{"zero time", "w", []string{"a"}, time.Time{}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DatakitIDs("Op", tt.ws, tt.ids, tt.t)
			if tt.invalid {
				assert.ErrorIs(t, err, meta.ErrInvalid)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
	in := []string{"b", "a"}
	_, _ = DatakitIDs("Op", "w", in, now)
	assert.Equal(t, []string{"b", "a"}, in, "the caller's slice is not reordered")
}

func TestMeasurementKeys(t *testing.T) {
	got, err := MeasurementKeys("Op", "db", map[string]string{"z": "1", "a": "2"})
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "z"}, got)
	for _, m := range []map[string]string{{"": "1"}, {"a": ""}} {
		_, err = MeasurementKeys("Op", "db", m)
		assert.ErrorIs(t, err, meta.ErrInvalid)
	}
	_, err = MeasurementKeys("Op", "", nil)
	assert.ErrorIs(t, err, meta.ErrInvalid)
	assert.ErrorIs(t, Dropping("Op", "db", ""), meta.ErrInvalid)
	assert.NoError(t, Dropping("Op", "db", "m"))
}
