package influxql

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var testNow = time.Date(2020, 4, 10, 13, 0, 0, 0, time.UTC)

func TestRewriteRules(t *testing.T) {
	type tc struct {
		name string
		item Item
		want []string // expected SQL per statement
		down []int64  // expected downsampled_to per statement, 0 = none; nil = all none
	}
	const m5 = int64(5 * time.Minute)
	cases := []tc{
		// Rule 3: conditions and time range.
		{name: "lone WHERE left as it was", item: Item{SQL: "SELECT v FROM cpu WHERE host = 'a' OR host = 'b'"},
			want: []string{"SELECT v FROM cpu WHERE host = 'a' OR host = 'b'"}},
		{name: "no WHERE, nothing to add", item: Item{SQL: "SELECT v FROM cpu"},
			want: []string{"SELECT v FROM cpu"}},
		{name: "range only, with WHERE", item: Item{SQL: "SELECT v FROM cpu WHERE host = 'a'", TimeRange: []int64{1000, 2000}},
			want: []string{"SELECT v FROM cpu WHERE (host = 'a') AND time >= 1000000000 AND time < 2000000000"}},
		{name: "all three parts", item: Item{SQL: "SELECT v FROM cpu WHERE host = 'a'", Conditions: "region = 'x'", TimeRange: []int64{1000, 2000}},
			want: []string{"SELECT v FROM cpu WHERE (host = 'a') AND (region = 'x') AND time >= 1000000000 AND time < 2000000000"}},
		{name: "OR in the original cannot escape the conditions", item: Item{SQL: "SELECT v FROM cpu WHERE host = 'a' OR 1 = 1", Conditions: "tenant = 't1'"},
			want: []string{"SELECT v FROM cpu WHERE (host = 'a' OR 1 = 1) AND (tenant = 't1')"}},
		{name: "OR in the conditions stays grouped", item: Item{SQL: "SELECT v FROM cpu WHERE host = 'a'", Conditions: "x = 1 OR y = 2"},
			want: []string{"SELECT v FROM cpu WHERE (host = 'a') AND (x = 1 OR y = 2)"}},
		{name: "parenthesised parts are not wrapped twice", item: Item{SQL: "SELECT v FROM cpu WHERE (host = 'a')", Conditions: "(x = 1)"},
			want: []string{"SELECT v FROM cpu WHERE (host = 'a') AND (x = 1)"}},
		{name: "conditions reach every measurement reader, not the outer query", item: Item{SQL: "SELECT max(x) FROM (SELECT v AS x FROM cpu WHERE v > 0), mem WHERE x > 1", Conditions: "host = 'a'"},
			want: []string{"SELECT max(x) FROM (SELECT v AS x FROM cpu WHERE (v > 0) AND (host = 'a')), mem WHERE (x > 1) AND (host = 'a')"}},
		{name: "conditions in each statement", item: Item{SQL: "SELECT v FROM cpu; SELECT w FROM mem WHERE w > 0", Conditions: "host = 'a'"},
			want: []string{"SELECT v FROM cpu WHERE (host = 'a')", "SELECT w FROM mem WHERE (w > 0) AND (host = 'a')"}},
		{name: "regex source reads measurements", item: Item{SQL: "SELECT v FROM /c.*/", Conditions: "host =~ /a/"},
			want: []string{"SELECT v FROM /c.*/ WHERE (host =~ /a/)"}},
		{name: "empty time range span", item: Item{SQL: "SELECT v FROM cpu", TimeRange: []int64{5, 5}, MaxPoint: 10},
			want: []string{"SELECT v FROM cpu WHERE time >= 5000000 AND time < 5000000"}},

		// Rule 4: downsampling.
		{name: "own range with both bounds (1h / 60 = 1m)", item: Item{SQL: "SELECT mean(v) FROM cpu WHERE time >= now() - 2h AND time < now() - 1h GROUP BY time(10s)", MaxPoint: 60},
			want: []string{"SELECT mean(v) FROM cpu WHERE time >= now() - 2h AND time < now() - 1h GROUP BY time(1m)"}, down: []int64{int64(time.Minute)}},
		{name: "upper bound only: range unknown", item: Item{SQL: "SELECT mean(v) FROM cpu WHERE time < now() GROUP BY time(10s)", MaxPoint: 60},
			want: []string{"SELECT mean(v) FROM cpu WHERE time < now() GROUP BY time(10s)"}},
		{name: "time combined with OR: range unknown", item: Item{SQL: "SELECT mean(v) FROM cpu WHERE time > now() - 1h OR v > 0 GROUP BY time(10s)", MaxPoint: 60},
			want: []string{"SELECT mean(v) FROM cpu WHERE time > now() - 1h OR v > 0 GROUP BY time(10s)"}},
		{name: "absolute bounds (1d / 24 = 1h)", item: Item{SQL: "SELECT sum(v) FROM cpu WHERE time >= '2020-01-01T00:00:00Z' AND time < '2020-01-02T00:00:00Z' GROUP BY time(1m)", MaxPoint: 24},
			want: []string{"SELECT sum(v) FROM cpu WHERE time >= '2020-01-01T00:00:00Z' AND time < '2020-01-02T00:00:00Z' GROUP BY time(1h)"}, down: []int64{int64(time.Hour)}},
		{name: "dimensions coarser than own", item: Item{SQL: "SELECT mean(v) FROM cpu GROUP BY time(1m)", Dimensions: []string{"host", "time(10m)"}},
			want: []string{"SELECT mean(v) FROM cpu GROUP BY time(10m)"}, down: []int64{int64(10 * time.Minute)}},
		{name: "own coarser than dimensions and floor", item: Item{SQL: "SELECT mean(v) FROM cpu WHERE time > now() - 1h GROUP BY time(1h)", Dimensions: []string{"time(5m)"}, MaxPoint: 10},
			want: []string{"SELECT mean(v) FROM cpu WHERE time > now() - 1h GROUP BY time(1h)"}},
		{name: "time_range beats own bounds", item: Item{SQL: "SELECT mean(v) FROM cpu WHERE time > now() - 1h GROUP BY time(1m)", TimeRange: []int64{0, 86400000}, MaxPoint: 360},
			want: []string{"SELECT mean(v) FROM cpu WHERE (time > now() - 1h) AND time >= 0 AND time < 86400000000000 GROUP BY time(5m)"}, down: []int64{m5}},
		{name: "offset kept", item: Item{SQL: "SELECT mean(v) FROM cpu GROUP BY time(1m, 30s), host", Dimensions: []string{"time(5m)"}},
			want: []string{"SELECT mean(v) FROM cpu GROUP BY time(5m, 30s), host"}, down: []int64{m5}},
		{name: "above 30d: whole days", item: Item{SQL: "SELECT mean(v) FROM cpu GROUP BY time(1h)", TimeRange: []int64{0, 400 * 86400000}, MaxPoint: 10},
			want: []string{"SELECT mean(v) FROM cpu WHERE time >= 0 AND time < 34560000000000000 GROUP BY time(40d)"}, down: []int64{int64(40 * 24 * time.Hour)}},
		{name: "just over a rung", item: Item{SQL: "SELECT mean(v) FROM cpu GROUP BY time(1s)", TimeRange: []int64{0, 3600001}, MaxPoint: 360},
			want: []string{"SELECT mean(v) FROM cpu WHERE time >= 0 AND time < 3600001000000 GROUP BY time(15s)"}, down: []int64{int64(15 * time.Second)}},
		{name: "aggregate without bucket untouched", item: Item{SQL: "SELECT mean(v) FROM cpu GROUP BY host", Dimensions: []string{"time(5m)"}, MaxPoint: 10},
			want: []string{"SELECT mean(v) FROM cpu GROUP BY host"}},
		{name: "selector and nested call count as aggregate", item: Item{SQL: "SELECT derivative(mean(v)) FROM cpu GROUP BY time(1m); SELECT top(v, 3) FROM cpu GROUP BY time(1m)", Dimensions: []string{"time(5m)"}},
			want: []string{"SELECT derivative(mean(v)) FROM cpu GROUP BY time(5m)", "SELECT top(v, 3) FROM cpu GROUP BY time(5m)"}, down: []int64{m5, m5}},
		{name: "transformation alone is not aggregate", item: Item{SQL: "SELECT abs(v) FROM cpu GROUP BY time(1m)", Dimensions: []string{"time(5m)"}},
			want: []string{"SELECT abs(v) FROM cpu GROUP BY time(1m)"}},
		{name: "outer range reaches the subquery", item: Item{SQL: "SELECT max(x) FROM (SELECT v AS x FROM cpu) WHERE time > now() - 6h", MaxPoint: 100},
			want: []string{"SELECT max(x) FROM (SELECT last(v) AS x FROM cpu GROUP BY time(5m)) WHERE time > now() - 6h"}, down: []int64{m5}},
		{name: "top-most bucket reported", item: Item{SQL: "SELECT mean(x) FROM (SELECT v AS x FROM cpu) GROUP BY time(1m)", Dimensions: []string{"time(2m)"}, TimeRange: []int64{0, 86400000}, MaxPoint: 360},
			want: []string{"SELECT mean(x) FROM (SELECT last(v) AS x FROM cpu WHERE time >= 0 AND time < 86400000000000 GROUP BY time(5m)) GROUP BY time(5m)"}, down: []int64{m5}},

		// Rule 5: raw subqueries.
		{name: "subquery tag grouping keeps its tags", item: Item{SQL: "SELECT x FROM (SELECT a AS x FROM m GROUP BY host)", Dimensions: []string{"time(1m)"}, DefaultAggrFunc: "Max"},
			want: []string{"SELECT x FROM (SELECT max(a) AS x FROM m GROUP BY host, time(1m))"}, down: []int64{int64(time.Minute)}},
		{name: "subquery with LIMIT stays raw", item: Item{SQL: "SELECT x FROM (SELECT a FROM m LIMIT 3)", Dimensions: []string{"time(1m)"}},
			want: []string{"SELECT x FROM (SELECT a FROM m LIMIT 3)"}},
		{name: "subquery with SLIMIT stays raw", item: Item{SQL: "SELECT x FROM (SELECT a FROM m SLIMIT 3)", Dimensions: []string{"time(1m)"}},
			want: []string{"SELECT x FROM (SELECT a FROM m SLIMIT 3)"}},
		{name: "enclosing SLIMIT keeps it raw", item: Item{SQL: "SELECT x FROM (SELECT x FROM (SELECT a AS x FROM m)) SLIMIT 2", Dimensions: []string{"time(1m)"}},
			want: []string{"SELECT x FROM (SELECT x FROM (SELECT a AS x FROM m)) SLIMIT 2"}},
		{name: "OFFSET alone does not block", item: Item{SQL: "SELECT x FROM (SELECT a FROM m OFFSET 3)", Dimensions: []string{"time(1m)"}},
			want: []string{"SELECT x FROM (SELECT last(a) AS a FROM m GROUP BY time(1m) OFFSET 3)"}, down: []int64{int64(time.Minute)}},
		{name: "deep raw subquery", item: Item{SQL: "SELECT x FROM (SELECT x FROM (SELECT a AS x FROM m))", Dimensions: []string{"time(1m)"}},
			want: []string{"SELECT x FROM (SELECT x FROM (SELECT last(a) AS x FROM m GROUP BY time(1m)))"}, down: []int64{int64(time.Minute)}},
		{name: "tag reference stays raw", item: Item{SQL: "SELECT x FROM (SELECT a, host::tag FROM m)", Dimensions: []string{"time(1m)"}},
			want: []string{"SELECT x FROM (SELECT a, host::tag FROM m)"}},
		{name: "field type cast is plain", item: Item{SQL: "SELECT x FROM (SELECT a::float FROM m)", Dimensions: []string{"time(1m)"}},
			want: []string{"SELECT x FROM (SELECT last(a::float) AS a FROM m GROUP BY time(1m))"}, down: []int64{int64(time.Minute)}},
		{name: "time field stays raw", item: Item{SQL: "SELECT x FROM (SELECT time, a FROM m)", Dimensions: []string{"time(1m)"}},
			want: []string{"SELECT x FROM (SELECT time, a FROM m)"}},
		{name: "arithmetic stays raw", item: Item{SQL: "SELECT x FROM (SELECT a + 1 AS x FROM m)", Dimensions: []string{"time(1m)"}},
			want: []string{"SELECT x FROM (SELECT a + 1 AS x FROM m)"}},
		{name: "regex field stays raw", item: Item{SQL: "SELECT x FROM (SELECT /a.*/ FROM m)", Dimensions: []string{"time(1m)"}},
			want: []string{"SELECT x FROM (SELECT /a.*/ FROM m)"}},
		{name: "zero bucket stays raw", item: Item{SQL: "SELECT x FROM (SELECT a FROM m)", MaxPoint: 100},
			want: []string{"SELECT x FROM (SELECT a FROM m)"}},
		{name: "top-level raw never aggregated", item: Item{SQL: "SELECT a FROM m", Dimensions: []string{"time(1m)"}, MaxPoint: 10, TimeRange: []int64{0, 3600000}},
			want: []string{"SELECT a FROM m WHERE time >= 0 AND time < 3600000000000"}},

		// Rule 6: fill.
		{name: "number fill", item: Item{SQL: "SELECT mean(v) FROM cpu GROUP BY time(1m)", FillOpt: "number", FillVal: 3.0},
			want: []string{"SELECT mean(v) FROM cpu GROUP BY time(1m) fill(3)"}},
		{name: "fractional fill", item: Item{SQL: "SELECT mean(v) FROM cpu GROUP BY time(1m)", FillOpt: "NUMBER_FILL", FillVal: 1.5},
			want: []string{"SELECT mean(v) FROM cpu GROUP BY time(1m) fill(1.5)"}},
		{name: "negative fill", item: Item{SQL: "SELECT mean(v) FROM cpu GROUP BY time(1m)", FillOpt: "number", FillVal: -2.0},
			want: []string{"SELECT mean(v) FROM cpu GROUP BY time(1m) fill(-2)"}},
		{name: "numeric string fill", item: Item{SQL: "SELECT mean(v) FROM cpu GROUP BY time(1m)", FillOpt: "number", FillVal: "7"},
			want: []string{"SELECT mean(v) FROM cpu GROUP BY time(1m) fill(7)"}},
		{name: "json.Number fill", item: Item{SQL: "SELECT mean(v) FROM cpu GROUP BY time(1m)", FillOpt: "number", FillVal: json.Number("0.25")},
			want: []string{"SELECT mean(v) FROM cpu GROUP BY time(1m) fill(0.25)"}},
		{name: "null fill prints nothing", item: Item{SQL: "SELECT mean(v) FROM cpu GROUP BY time(1m)", FillOpt: "null"},
			want: []string{"SELECT mean(v) FROM cpu GROUP BY time(1m)"}},
		{name: "no fill without a bucket, nor in subqueries, nor on raw", item: Item{SQL: "SELECT mean(v) FROM cpu; SELECT max(x) FROM (SELECT mean(v) AS x FROM cpu GROUP BY time(1m)); SELECT v FROM cpu", FillOpt: "none"},
			want: []string{"SELECT mean(v) FROM cpu", "SELECT max(x) FROM (SELECT mean(v) AS x FROM cpu GROUP BY time(1m))", "SELECT v FROM cpu"}},
		{name: "written fill(none) wins", item: Item{SQL: "SELECT mean(v) FROM cpu GROUP BY time(1m) fill(none)", FillOpt: "previous"},
			want: []string{"SELECT mean(v) FROM cpu GROUP BY time(1m) fill(none)"}},

		// Rule 7: limits.
		{name: "written LIMIT keeps its pair", item: Item{SQL: "SELECT v FROM cpu LIMIT 1", Limit: 5, Offset: 10, SLimit: 1, SOffset: 2},
			want: []string{"SELECT v FROM cpu LIMIT 1 SLIMIT 1 SOFFSET 2"}},
		{name: "written OFFSET keeps its pair", item: Item{SQL: "SELECT v FROM cpu OFFSET 3 SOFFSET 4", Limit: 5, Offset: 10, SLimit: 1, SOffset: 2},
			want: []string{"SELECT v FROM cpu OFFSET 3 SOFFSET 4"}},
		{name: "limits only at top level", item: Item{SQL: "SELECT x FROM (SELECT v AS x FROM cpu)", Limit: 5},
			want: []string{"SELECT x FROM (SELECT v AS x FROM cpu) LIMIT 5"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Rewrite("mydb", c.item, testNow)
			require.NoError(t, err)
			require.Len(t, got, len(c.want))
			for i, want := range c.want {
				assert.Equal(t, want, got[i].SQL, "statement %d", i+1)
				// Round trip: what we print parses back to the same text.
				assert.Equal(t, got[i].SQL, canonical(t, got[i].SQL), "statement %d round trip", i+1)
				assert.Empty(t, got[i].Error)
				require.NotNil(t, got[i].RewriteResults)
				var down int64
				if c.down != nil {
					down = c.down[i]
				}
				if down == 0 {
					assert.Empty(t, got[i].RewriteResults, "statement %d", i+1)
				} else {
					assert.Equal(t, map[string]any{DownsampledTo: down}, got[i].RewriteResults, "statement %d", i+1)
				}
			}
		})
	}
}

func TestRewriteErrors(t *testing.T) {
	sel := "SELECT mean(v) FROM cpu GROUP BY time(1m)"
	cases := []struct {
		name  string
		item  Item
		field string // RewriteError.Field; "" when another type
		kind  any    // pointer to the wanted error type
		msg   string
	}{
		{name: "show", item: Item{SQL: "SHOW MEASUREMENTS"}, kind: new(*ScopeError), msg: "only SELECT statements can be rewritten, found SHOW MEASUREMENTS"},
		{name: "explain", item: Item{SQL: "EXPLAIN SELECT v FROM cpu"}, kind: new(*ScopeError), msg: "SELECT"},
		{name: "second statement not select", item: Item{SQL: "SELECT v FROM cpu; DROP MEASUREMENT cpu"}, kind: new(*ScopeError), msg: "statement 2"},
		{name: "other database", item: Item{SQL: "SELECT v FROM other..cpu"}, kind: new(*ScopeError), msg: "names database other"},
		{name: "other database in subquery", item: Item{SQL: "SELECT x FROM (SELECT v FROM \"other\".\"autogen\".cpu)"}, kind: new(*ScopeError), msg: "database other"},
		{name: "into", item: Item{SQL: "SELECT v INTO cpu2 FROM cpu"}, kind: new(*ScopeError), msg: "INTO"},
		{name: "parse error", item: Item{SQL: "SELECT v FROM cpu;\nSELECT FROM"}, kind: new(*ParseError), msg: "line 2, char 8"},
		{name: "empty", item: Item{SQL: " -- nothing"}, kind: new(*ScopeError), msg: "no statement"},
		{name: "conditions do not parse", item: Item{SQL: sel, Conditions: "a >"}, field: "conditions"},
		{name: "conditions injection", item: Item{SQL: sel, Conditions: "a = 1) OR (1 = 1"}, field: "conditions", msg: "expected the end of the expression"},
		{name: "conditions second statement", item: Item{SQL: sel, Conditions: "a = 1; DROP DATABASE x"}, field: "conditions"},
		{name: "conditions not boolean", item: Item{SQL: sel, Conditions: "a + 1"}, field: "conditions", msg: "not a boolean"},
		{name: "fill_opt unknown", item: Item{SQL: sel, FillOpt: "zero"}, field: "fill_opt", msg: `"zero"`},
		{name: "fill_val missing", item: Item{SQL: sel, FillOpt: "number"}, field: "fill_val"},
		{name: "fill_val not a number", item: Item{SQL: sel, FillOpt: "number", FillVal: "x"}, field: "fill_val"},
		{name: "fill_val object", item: Item{SQL: sel, FillOpt: "number", FillVal: map[string]any{}}, field: "fill_val"},
		{name: "fill_val needs exponent", item: Item{SQL: sel, FillOpt: "number", FillVal: 1e-9}, field: "fill_val"},
		{name: "aggr func unknown", item: Item{SQL: sel, DefaultAggrFunc: "derivative"}, field: "default_aggr_func", msg: "count, mean"},
		{name: "time_range one value", item: Item{SQL: sel, TimeRange: []int64{1}}, field: "time_range"},
		{name: "time_range reversed", item: Item{SQL: sel, TimeRange: []int64{2, 1}}, field: "time_range"},
		{name: "time_range overflow", item: Item{SQL: sel, TimeRange: []int64{0, 1 << 62}}, field: "time_range"},
		{name: "dimension does not parse", item: Item{SQL: sel, Dimensions: []string{"time(5m"}}, field: "dimensions"},
		{name: "dimension without duration", item: Item{SQL: sel, Dimensions: []string{"time(x)"}}, field: "dimensions"},
		{name: "two time dimensions", item: Item{SQL: sel, Dimensions: []string{"time(1m)", "time(5m)"}}, field: "dimensions"},
		{name: "negative limit", item: Item{SQL: sel, Limit: -1}, field: "limit"},
		{name: "negative max_point", item: Item{SQL: sel, MaxPoint: -1}, field: "max_point"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Rewrite("mydb", c.item, testNow)
			require.Error(t, err)
			assert.Nil(t, got)
			if c.field != "" {
				var re *RewriteError
				require.True(t, errors.As(err, &re), "got %T: %v", err, err)
				assert.Equal(t, c.field, re.Field)
				assert.True(t, strings.HasPrefix(err.Error(), c.field+": "), err.Error())
			} else {
				require.True(t, errors.As(err, c.kind), "got %T: %v", err, err)
			}
			if c.msg != "" {
				assert.Contains(t, err.Error(), c.msg)
			}
		})
	}
}

// The answer's JSON shape is the contract: an error entry in place of a
// failed item, the other items rewritten, {} rather than null.
func TestRewriteAllJSON(t *testing.T) {
	out := RewriteAll("mydb", []Item{
		{SQL: "SELECT v FROM cpu", Limit: 2},
		{SQL: "SELECT FROM"},
		{SQL: "SELECT mean(v) FROM cpu GROUP BY time(1m)", Dimensions: []string{"time(5m)"}},
	}, testNow)
	b, err := json.Marshal(out)
	require.NoError(t, err)
	assert.JSONEq(t, `[
		[{"sql": "SELECT v FROM cpu LIMIT 2", "rewrite_results": {}}],
		[{"sql": "SELECT FROM", "error": "query: parse error at line 1, char 8: found FROM, expected identifier, string, number, bool", "rewrite_results": {}}],
		[{"sql": "SELECT mean(v) FROM cpu GROUP BY time(5m)", "rewrite_results": {"downsampled_to": 300000000000}}]
	]`, string(b))

	// And the request side decodes from the spec's field names.
	var it Item
	require.NoError(t, json.Unmarshal([]byte(`{"sql":"SELECT 1","conditions":"a>0","time_range":[1,2],"max_point":3,
		"dimensions":["time(5m)"],"measurements":["a"],"default_aggr_func":"LAST","fill_opt":"number_fill","fill_val":0,
		"limit":5,"offset":10,"slimit":1,"soffset":2}`), &it))
	assert.Equal(t, Item{SQL: "SELECT 1", Conditions: "a>0", TimeRange: []int64{1, 2}, MaxPoint: 3, Dimensions: []string{"time(5m)"},
		Measurements: []string{"a"}, DefaultAggrFunc: "LAST", FillOpt: "number_fill", FillVal: 0.0, Limit: 5, Offset: 10, SLimit: 1, SOffset: 2}, it)
}

func TestRewriteDoesNotShareConditions(t *testing.T) {
	got, err := Rewrite("mydb", Item{SQL: "SELECT v FROM cpu; SELECT v FROM mem", Conditions: "time > '2020-01-01T00:00:00Z'"}, testNow)
	require.NoError(t, err)
	// Shifting one statement must not move the other: each got its own copy.
	q1, err := Guard(got[0].SQL, "mydb", AllowRead)
	require.NoError(t, err)
	require.NoError(t, ShiftTimezone(q1, "+08"))
	assert.Equal(t, "SELECT v FROM mem WHERE (time > '2020-01-01T00:00:00Z')", got[1].SQL)
	assert.Equal(t, "SELECT v FROM cpu WHERE (time > '2019-12-31T16:00:00Z')", q1.String())
}

func TestNiceCeil(t *testing.T) {
	cases := []struct{ in, want time.Duration }{
		{0, time.Millisecond}, {1, time.Millisecond}, {time.Millisecond, time.Millisecond},
		{time.Millisecond + 1, 10 * time.Millisecond}, {4 * time.Minute, 5 * time.Minute},
		{216 * time.Second, 5 * time.Minute}, {10 * time.Second, 10 * time.Second},
		{13 * time.Hour, 24 * time.Hour}, {8 * 24 * time.Hour, 30 * 24 * time.Hour},
		{30*24*time.Hour + 1, 31 * 24 * time.Hour}, {45 * 24 * time.Hour, 45 * 24 * time.Hour},
		{1<<63 - 1, (1<<63 - 1) / day * day},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, niceCeil(c.in), c.in.String())
	}
}
