package influxql_test

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/kodo-project/kodo/influxql"
)

func ExampleGuard() {
	q, err := influxql.Guard("SELECT mean(v) FROM cpu WHERE time > now() - 1h GROUP BY time(1m)", "mydb", influxql.AllowRead)
	fmt.Println(q, err)

	_, err = influxql.Guard(`SELECT v FROM cpu; SELECT v FROM "other"."autogen"."cpu"`, "mydb", influxql.AllowRead)
	fmt.Println(err)

	_, err = influxql.Guard("DROP MEASUREMENT cpu", "mydb", influxql.AllowRead)
	fmt.Println(err)

	_, err = influxql.Guard("DROP MEASUREMENT cpu", "mydb", influxql.AllowManage)
	fmt.Println(err)
	// Output:
	// SELECT mean(v) FROM cpu WHERE time > now() - 1h GROUP BY time(1m) <nil>
	// statement 2: SELECT source other.autogen.cpu names database other; queries run in database mydb only: drop the database prefix (write rp.measurement or measurement)
	// statement 1: DROP MEASUREMENT changes the database; this endpoint only reads (SELECT and SHOW)
	// <nil>
}

func ExampleRewrite() {
	now := time.Date(2020, 4, 10, 13, 0, 0, 0, time.UTC)
	sts, err := influxql.Rewrite("mydb", influxql.Item{
		SQL:        "SELECT max(v) FROM cpu WHERE time > now() - 6h GROUP BY time(1m), host; SELECT x FROM (SELECT v AS x FROM cpu) WHERE time > now() - 1d",
		Conditions: "region = 'eu'",
		MaxPoint:   100, // 6h / 100 = 3.6m -> 5m; 1d / 100 = 14.4m -> 15m
		FillOpt:    "none",
		Limit:      10,
	}, now)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, st := range sts {
		b, _ := json.Marshal(st)
		fmt.Println(string(b))
	}

	// A failing item answers one error entry in its place.
	out := influxql.RewriteAll("mydb", []influxql.Item{{SQL: "SELECT v FROM other..cpu"}}, now)
	b, _ := json.Marshal(out[0])
	fmt.Println(string(b))
	// Output:
	// {"sql":"SELECT max(v) FROM cpu WHERE (time \u003e now() - 6h) AND (region = 'eu') GROUP BY time(5m), host fill(none) LIMIT 10","rewrite_results":{"downsampled_to":300000000000}}
	// {"sql":"SELECT x FROM (SELECT last(v) AS x FROM cpu WHERE (region = 'eu') GROUP BY time(15m)) WHERE time \u003e now() - 1d LIMIT 10","rewrite_results":{"downsampled_to":900000000000}}
	// [{"sql":"SELECT v FROM other..cpu","error":"statement 1: SELECT source other..cpu names database other; queries run in database mydb only: drop the database prefix (write rp.measurement or measurement)","rewrite_results":{}}]
}

func ExampleShiftTimezone() {
	q, err := influxql.Guard("select value from cpu where time > '2016-06-21T12:00:00Z'", "repo", influxql.AllowRead)
	if err != nil {
		fmt.Println(err)
		return
	}
	// The literal is read as local time in UTC+8.
	if err := influxql.ShiftTimezone(q, "+08"); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(q)

	_, err = influxql.ParseTimezone("+15")
	fmt.Println(err)
	// Output:
	// SELECT value FROM cpu WHERE time > '2016-06-21T04:00:00Z'
	// invalid time zone "+15": 15 hours is outside [-12, +14]
}
