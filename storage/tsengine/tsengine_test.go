package tsengine

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestValidateRetentionPolicies(t *testing.T) {
	cases := []struct {
		name string
		db   string
		rps  []RetentionPolicy
		err  string
	}{
		{"none", "db", nil, ""},
		{"ok", "db", []RetentionPolicy{{Name: "a", Duration: time.Hour, Default: true}, {Name: "b"}}, ""},
		{"empty db", "", nil, "database name is empty"},
		{"short", "db", []RetentionPolicy{{Name: "a", Duration: time.Hour - 1}}, "below the minimum of 1h0m0s"},
		{"negative", "db", []RetentionPolicy{{Name: "a", Duration: -1}}, "negative"},
		{"no name", "db", []RetentionPolicy{{Duration: time.Hour}}, "name is empty"},
		{"dup", "db", []RetentionPolicy{{Name: "a"}, {Name: "a"}}, "listed twice"},
		{"defaults", "db", []RetentionPolicy{{Name: "a", Default: true}, {Name: "b", Default: true}}, "2 policies are marked default"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateRetentionPolicies(tc.db, tc.rps)
			if tc.err == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.err)
			if tc.db != "" {
				assert.ErrorIs(t, err, ErrInvalidRetentionPolicy)
			}
		})
	}
}

func TestShardGroupDuration(t *testing.T) {
	const day = 24 * time.Hour
	for d, want := range map[time.Duration]time.Duration{
		0: 7 * day, time.Hour: time.Hour, 2*day - 1: time.Hour, 2 * day: day,
		180*day - 1: day, 180 * day: 7 * day, 3650 * day: 7 * day,
	} {
		assert.Equal(t, want, ShardGroupDuration(d), d.String())
	}
}

func TestEpochUnit(t *testing.T) {
	for epoch, want := range map[string]time.Duration{
		"": 0, "ns": time.Nanosecond, "n": time.Nanosecond, "u": time.Microsecond, "µ": time.Microsecond,
		"us": time.Microsecond, "ms": time.Millisecond, "s": time.Second, "m": time.Minute, "h": time.Hour,
	} {
		got, err := EpochUnit(epoch)
		require.NoError(t, err, epoch)
		assert.Equal(t, want, got, epoch)
	}
	for _, bad := range []string{"d", "NS", "rfc3339", " s"} {
		_, err := EpochUnit(bad)
		var ee *EpochError
		assert.ErrorAs(t, err, &ee, bad)
	}
}

func TestHasEmptyResult(t *testing.T) {
	assert.True(t, HasEmptyResult(nil))
	assert.True(t, HasEmptyResult([]Result{{Series: []Row{{Name: "m"}}}, {}}))
	assert.False(t, HasEmptyResult([]Result{{Err: "boom"}, {Series: []Row{{}}}}))
}

func TestPartialWriteError(t *testing.T) {
	assert.Equal(t, "partial write: points beyond retention policy dropped=2",
		(&PartialWriteError{Dropped: 2, Reason: "points beyond retention policy"}).Error())
}
