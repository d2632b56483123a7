package influxql

import (
	"errors"
	"testing"
	"time"

	iql "github.com/influxdata/influxql"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseTimezone(t *testing.T) {
	ok := []struct {
		in   string
		want time.Duration
	}{
		{"+08", 8 * time.Hour}, {"8", 8 * time.Hour}, {"08", 8 * time.Hour}, {"-05", -5 * time.Hour},
		{"0", 0}, {"+00", 0}, {"-00", 0}, {"+14", 14 * time.Hour}, {"-12", -12 * time.Hour},
		{" 08", 8 * time.Hour}, // "+08" unescaped in a URL query
		{"+8", 8 * time.Hour}, {"-1", -time.Hour},
	}
	for _, c := range ok {
		got, err := ParseTimezone(c.in)
		require.NoError(t, err, c.in)
		assert.Equal(t, c.want, got, c.in)
	}
	for _, in := range []string{"", " ", "+", "-", "+15", "-13", "99", "+008", "8h", "+08:00", "utc", "1.5", "++8", "+-8", "٨"} {
		_, err := ParseTimezone(in)
		var te *TimezoneError
		require.True(t, errors.As(err, &te), "%q: got %v", in, err)
		assert.Equal(t, in, te.Input)
		assert.Contains(t, err.Error(), "invalid time zone")
	}
}

func shifted(t *testing.T, sql, tz string) (string, iql.TimeRange) {
	t.Helper()
	q, err := iql.ParseQuery(sql)
	require.NoError(t, err)
	require.NoError(t, ShiftTimezone(q, tz))
	sel, ok := q.Statements[0].(*iql.SelectStatement)
	if !ok {
		return q.String(), iql.TimeRange{}
	}
	_, tr, err := iql.ConditionExpr(sel.Condition, &iql.NowValuer{Now: time.Now()})
	if err != nil { // e.g. a string that is not a time: left for the engine
		return q.String(), iql.TimeRange{}
	}
	return q.String(), tr
}

// The worked example of tsdb-v4-api.md, literally.
func TestShiftTimezoneSpecExample(t *testing.T) {
	const sql = "select value from cpu where time > '2016-06-21T12:00:00Z'"

	// +08: the range is (2016-06-21 04:00:00 UTC, now).
	got, tr := shifted(t, sql, "+08")
	assert.Equal(t, "SELECT value FROM cpu WHERE time > '2016-06-21T04:00:00Z'", got)
	assert.Equal(t, time.Date(2016, 6, 21, 4, 0, 0, 1, time.UTC), tr.Min.UTC(), "exclusive lower bound")

	// +00 and -00: ('2016-06-21 12:00:00 UTC', now].
	for _, tz := range []string{"+00", "-00", "0"} {
		got, tr = shifted(t, sql, tz)
		assert.Equal(t, "SELECT value FROM cpu WHERE time > '2016-06-21T12:00:00Z'", got)
		assert.Equal(t, time.Date(2016, 6, 21, 12, 0, 0, 1, time.UTC), tr.Min.UTC())
	}

	// 1466510400000000000 is 2016-06-21 12:00:00 UTC; both queries find it.
	const point = int64(1466510400000000000)
	_, tr = shifted(t, "select value from cpu where time = '2016-06-21T12:00:00Z'", "0")
	assert.Equal(t, point, tr.Min.UnixNano())
	assert.Equal(t, point, tr.Max.UnixNano())
	_, tr = shifted(t, "select value from cpu where time = '2016-06-21T20:00:00Z'", "8")
	assert.Equal(t, point, tr.Min.UnixNano())
	assert.Equal(t, point, tr.Max.UnixNano())
}

func TestShiftTimezone(t *testing.T) {
	cases := []struct {
		name, sql, tz, want string
	}{
		{"west", "SELECT v FROM cpu WHERE time >= '2016-06-21T12:00:00Z'", "-05",
			"SELECT v FROM cpu WHERE time >= '2016-06-21T17:00:00Z'"},
		{"both bounds and tags", "SELECT v FROM cpu WHERE host = '2016-06-21' AND time >= '2016-06-21' AND time < '2016-06-22 00:00:00'", "+08",
			"SELECT v FROM cpu WHERE host = '2016-06-21' AND time >= '2016-06-20T16:00:00Z' AND time < '2016-06-21T16:00:00Z'"},
		{"literal on the left", "SELECT v FROM cpu WHERE '2016-06-21T12:00:00Z' < time", "+08",
			"SELECT v FROM cpu WHERE '2016-06-21T04:00:00Z' < time"},
		{"arithmetic", "SELECT v FROM cpu WHERE time > '2016-06-21T12:00:00Z' - 1h", "+08",
			"SELECT v FROM cpu WHERE time > '2016-06-21T04:00:00Z' - 1h"},
		{"parens and or", "SELECT v FROM cpu WHERE (time > '2016-06-21T12:00:00Z' OR host = 'a')", "+01",
			"SELECT v FROM cpu WHERE (time > '2016-06-21T11:00:00Z' OR host = 'a')"},
		{"nanoseconds kept", "SELECT v FROM cpu WHERE time > '2016-06-21T12:00:00.123456789Z'", "+08",
			"SELECT v FROM cpu WHERE time > '2016-06-21T04:00:00.123456789Z'"},
		{"epoch and now untouched", "SELECT v FROM cpu WHERE time > 1466510400000000000 AND time < now() - 1h", "+08",
			"SELECT v FROM cpu WHERE time > 1466510400000000000 AND time < now() - 1h"},
		{"subquery", "SELECT max(v) FROM (SELECT v FROM cpu WHERE time > '2016-06-21T12:00:00Z') WHERE time < '2016-06-22T00:00:00Z'", "+08",
			"SELECT max(v) FROM (SELECT v FROM cpu WHERE time > '2016-06-21T04:00:00Z') WHERE time < '2016-06-21T16:00:00Z'"},
		{"own TZ clause wins", "SELECT v FROM cpu WHERE time > '2016-06-21 12:00:00' TZ('Asia/Shanghai')", "+08",
			"SELECT v FROM cpu WHERE time > '2016-06-21 12:00:00' TZ('Asia/Shanghai')"},
		{"not a time", "SELECT v FROM cpu WHERE time > 'yesterday'", "+08",
			"SELECT v FROM cpu WHERE time > 'yesterday'"},
		{"delete", "DELETE FROM cpu WHERE time < '2016-06-21T12:00:00Z'", "+08",
			"DELETE FROM cpu WHERE time < '2016-06-21T04:00:00Z'"},
		{"explain", "EXPLAIN SELECT v FROM cpu WHERE time < '2016-06-21T12:00:00Z'", "+08",
			"EXPLAIN SELECT v FROM cpu WHERE time < '2016-06-21T04:00:00Z'"},
		{"case of time", "SELECT v FROM cpu WHERE \"TIME\" < '2016-06-21T12:00:00Z'", "+08",
			"SELECT v FROM cpu WHERE TIME < '2016-06-21T04:00:00Z'"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, _ := shifted(t, c.sql, c.tz)
			assert.Equal(t, c.want, got)
			// The result parses back to itself.
			assert.Equal(t, got, canonical(t, got))
		})
	}
}

func TestShiftTimezoneBadZone(t *testing.T) {
	q, err := iql.ParseQuery("SELECT v FROM cpu WHERE time > '2016-06-21T12:00:00Z'")
	require.NoError(t, err)
	err = ShiftTimezone(q, "+15")
	var te *TimezoneError
	require.True(t, errors.As(err, &te))
	assert.Equal(t, "SELECT v FROM cpu WHERE time > '2016-06-21T12:00:00Z'", q.String(), "left unchanged")
	assert.NoError(t, ShiftTimezone(nil, "+08"))
}

func TestShiftTimezoneTimeLiteral(t *testing.T) {
	at := time.Date(2016, 6, 21, 12, 0, 0, 0, time.UTC)
	q := &iql.Query{Statements: iql.Statements{&iql.SelectStatement{
		Fields:    iql.Fields{{Expr: &iql.VarRef{Val: "v"}}},
		Sources:   iql.Sources{&iql.Measurement{Name: "cpu"}},
		Condition: &iql.BinaryExpr{Op: iql.GT, LHS: &iql.VarRef{Val: "time"}, RHS: &iql.TimeLiteral{Val: at}},
	}}}
	require.NoError(t, ShiftTimezone(q, "+08"))
	assert.Equal(t, "SELECT v FROM cpu WHERE time > '2016-06-21T04:00:00Z'", q.String())
}
