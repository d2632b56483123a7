package embedded

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// valueCase is one value conversion: in, read in unit, gives want.
type valueCase struct {
	name string
	in   any
	unit time.Duration
	want any
}

// checkValues runs the cases through convert.
func checkValues(t *testing.T, convert func(any, time.Duration) any, cases []valueCase) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, convert(tc.in, tc.unit))
		})
	}
}

func TestConvertValue(t *testing.T) {
	ts := time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.FixedZone("x", 3600))
	checkValues(t, convertValue, []valueCase{
		{"time rfc3339 keeps the tz() location", ts, 0, "2024-05-06T07:08:09.123456789+01:00"},
		{"time rfc3339 in UTC", ts.UTC(), 0, "2024-05-06T06:08:09.123456789Z"},
		{"time ns", ts, time.Nanosecond, json.Number("1714975689123456789")},
		{"time ms truncates", ts, time.Millisecond, json.Number("1714975689123")},
		{"time h", ts, time.Hour, json.Number("476382")},
		{"float", 2.5, 0, json.Number("2.5")},
		{"whole float", 2.0, 0, json.Number("2")},
		{"big float", 1e21, 0, json.Number("1e+21")},
		{"nan", math.NaN(), 0, nil},
		{"inf", math.Inf(-1), 0, nil},
		{"int64", int64(-7), 0, json.Number("-7")},
		{"int", 3, 0, json.Number("3")},
		{"uint64", uint64(math.MaxUint64), 0, json.Number("18446744073709551615")},
		{"string", "s", 0, "s"},
		{"bool", true, 0, true},
		{"nil", nil, 0, nil},
		{"duration", 90 * time.Minute, 0, "1h30m0s"},
	})
}

func TestTypedValue(t *testing.T) {
	ts := time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.FixedZone("x", 3600))
	checkValues(t, typedValue, []valueCase{
		{"time keeps its location", ts, 0, ts},
		{"time ms", ts, time.Millisecond, int64(1714975689123)},
		{"whole float stays float", 2.0, 0, 2.0},
		{"int", int64(2), 0, int64(2)},
		{"uint", uint64(3), 0, uint64(3)},
		{"nan", math.NaN(), 0, nil},
		{"string", "s", 0, "s"},
	})
}
