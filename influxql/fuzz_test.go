package influxql

import (
	"errors"
	"strings"
	"testing"
	"time"

	iql "github.com/influxdata/influxql"
)

func FuzzRewrite(f *testing.F) {
	f.Add("SELECT mean(v) FROM cpu WHERE time > now() - 6h GROUP BY time(1m), host", "host = 'a'", "time(5m)", 100, int64(0), int64(0), "none", 0.0, "last")
	f.Add("select x from (select a, b as bb from m where 1>0) where 1>0; select a from b limit 10", "a>0 and b<0", "time(2m)", 360, int64(1586000000000), int64(1586086400000), "number", 1.5, "MEAN")
	f.Add("SELECT max(x) FROM (SELECT x FROM (SELECT a AS x FROM m GROUP BY host)) SLIMIT 2", "", "", 0, int64(-5), int64(5), "linear", 0.0, "")
	f.Add("SELECT v FROM other..cpu", "(x = 1)", "host", 1, int64(0), int64(1), "previous", 0.0, "sum")
	f.Add("SELECT mean(v) FROM cpu GROUP BY time(1m, 30s) fill(none) LIMIT 1", "x =~ /a/", "time(1d)", 7, int64(0), int64(400*86400000), "null", 0.0, "count")
	f.Add("SELECT top(v, 3), derivative(mean(v)) FROM cpu WHERE time >= '2020-01-01' AND time < '2020-01-02' GROUP BY time(10s)", "a = 1 OR b = 2", "time(1m)", 24, int64(0), int64(0), "number_fill", -3.0, "max")
	f.Fuzz(func(t *testing.T, sql, cond, dim string, maxPoint int, start, end int64, fillOpt string, fillVal float64, aggr string) {
		it := Item{SQL: sql, Conditions: cond, MaxPoint: maxPoint, FillOpt: fillOpt, FillVal: fillVal, DefaultAggrFunc: aggr,
			Limit: maxPoint % 7, SOffset: maxPoint % 3}
		if dim != "" {
			it.Dimensions = []string{dim}
		}
		if start != 0 || end != 0 {
			it.TimeRange = []int64{start, end}
		}
		out, err := Rewrite("mydb", it, time.Unix(1586500000, 0))
		if err != nil {
			var pe *ParseError
			var se *ScopeError
			var re *RewriteError
			if !errors.As(err, &pe) && !errors.As(err, &se) && !errors.As(err, &re) {
				t.Fatalf("untyped error %T: %v", err, err)
			}
			return
		}
		for i, st := range out {
			q, err := iql.ParseQuery(st.SQL)
			if err != nil {
				t.Fatalf("statement %d of %q rewrites to %q, which does not parse: %v", i+1, sql, st.SQL, err)
			}
			if len(q.Statements) != 1 {
				t.Fatalf("statement %d of %q rewrites to %d statements: %q", i+1, sql, len(q.Statements), st.SQL)
			}
			// What round-trips before rewriting round-trips after.
			if roundTrips(sql) && q.String() != st.SQL {
				t.Fatalf("statement %d of %q rewrites to %q, which prints back as %q", i+1, sql, st.SQL, q.String())
			}
			// Rewriting never takes a statement out of its database.
			if _, err := Guard(st.SQL, "mydb", AllowRead); err != nil && !strings.Contains(err.Error(), "nested deeper") {
				t.Fatalf("statement %d of %q rewrites to %q, which the guard rejects: %v", i+1, sql, st.SQL, err)
			}
		}
	})
}

func FuzzShiftTimezone(f *testing.F) {
	f.Add("select value from cpu where time > '2016-06-21T12:00:00Z'", "+08")
	f.Add("SELECT v FROM cpu WHERE (time > '2016-06-21' - 1h OR time < '2016-06-21 00:00:00.5') AND '2000-01-01' <= time", "-12")
	f.Add("DELETE FROM cpu WHERE time < '1677-09-21T00:12:43.145224194Z'", " 14")
	f.Add("SELECT v FROM cpu", "x")
	f.Fuzz(func(t *testing.T, sql, tz string) {
		off, err := ParseTimezone(tz)
		if err == nil && (off < MinTimezone*time.Hour || off > MaxTimezone*time.Hour || off%time.Hour != 0) {
			t.Fatalf("ParseTimezone(%q) = %v, outside the accepted range", tz, off)
		}
		// Within the limits Guard applies: influxql's parser overflows the
		// stack on very deep nesting.
		if len(sql) > MaxQueryBytes || strings.Count(sql, "(") > MaxParens {
			return
		}
		q, perr := iql.ParseQuery(sql)
		if perr != nil {
			return
		}
		if err2 := ShiftTimezone(q, tz); (err2 == nil) != (err == nil) {
			t.Fatalf("ShiftTimezone and ParseTimezone disagree on %q: %v vs %v", tz, err2, err)
		}
		if _, err := iql.ParseQuery(q.String()); err != nil {
			t.Fatalf("shifted %q to %q, which does not parse: %v", sql, q.String(), err)
		}
	})
}

// roundTrips tells whether influxql prints sql in a form it parses back to
// the same text; some inputs do not, through no fault of the rewriter.
func roundTrips(sql string) bool {
	q, err := iql.ParseQuery(sql)
	if err != nil {
		return false
	}
	q2, err := iql.ParseQuery(q.String())
	return err == nil && q2.String() == q.String()
}
