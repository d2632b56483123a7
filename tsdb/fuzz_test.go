package tsdb

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kodo-project/kodo/tsdb/tsdbapi"
)

// checkAnswer holds for every answer: JSON, exact Content-Type, and a
// 4xx rather than a 5xx for anything the client sent.
func checkAnswer(t *testing.T, a answer, what string) {
	t.Helper()
	if a.CType != "application/json" || !json.Valid(a.Body) {
		t.Fatalf("%s: answer %d %q %q is not JSON", what, a.Status, a.CType, a.Body)
	}
	if a.Status >= 500 && !strings.Contains(string(a.Body), string(tsdbapi.CodeQueryInterrupted)) {
		t.Fatalf("%s: server error %d %s", what, a.Status, a.Body)
	}
	if a.Status != 200 {
		var b tsdbapi.ErrorBody
		if err := json.Unmarshal(a.Body, &b); err != nil || b.Error == "" {
			t.Fatalf("%s: error answer without the error member: %s", what, a.Body)
		}
	}
}

// FuzzQuery sends arbitrary SQL and time zones to the query endpoint on
// the real engine.
func FuzzQuery(f *testing.F) {
	for _, s := range []string{
		`SELECT * FROM cpu`, `SELECT mean(v) FROM /c.*/ WHERE time > '2016-06-21T12:00:00Z' GROUP BY time(1h)`,
		`SELECT peak FROM hot`, `SELECT * FROM (SELECT max(v) FROM hot)`, `SHOW TAG KEYS FROM cpu`,
		`SELECT * FROM other..cpu`, `DROP DATABASE x`, `SELECT * INTO a FROM cpu`, `SELECT v FROM cpu WHERE time = '2016-06-21T20:00:00Z' + 1h`,
	} {
		f.Add(s, "+08")
	}
	f.Add("", "")
	f.Add("SELECT", "-13")
	// A short limit: random GROUP BY time(1ns) over years would run long.
	fx := newFixture(f, openEngine(f), func(c *Config) { c.QueryTimeout = time.Second })
	fx.call("POST", "/v4/repos/fz", `{"region":"nb"}`)
	fx.call("POST", "/v4/repos/fz/series/cpu", `{"retention":"1d"}`)
	fx.call("POST", "/v4/repos/fz/points", []byte("cpu,host=a v=1\n"))
	fx.call("POST", "/v4/repos/fz/views/hot", `{"sql":"SELECT max(v) AS peak FROM cpu","retention":"1d"}`)
	f.Fuzz(func(t *testing.T, sql, tz string) {
		target := "/v4/repos/fz/query?q=" + url.QueryEscape(sql) + "&timezone=" + url.QueryEscape(tz)
		checkAnswer(t, fx.call("GET", target, nil), sql)
	})
}

// FuzzBodies sends arbitrary JSON to the endpoints that decode bodies and
// arbitrary line protocol to the points endpoint.
func FuzzBodies(f *testing.F) {
	f.Add(`{"region":"nb","metadata":{"a":"b"}}`, "r", "s")
	f.Add(`{"retention":"7d","metadata":{"unit":"ms"}}`, "r", "s")
	f.Add(`{"metadata":{"k":"v"}}`, "r", "s")
	f.Add(`{"sql":"SELECT * FROM s","retention":"1d"}`, "r", "v")
	f.Add(`s,host=a v=1i 1600000000000000000`, "r", "s")
	f.Add(`{"region":null,"metadata":[1]}`, "a b", "../x")
	fx := newFixture(f, openEngine(f), nil)
	fx.call("POST", "/v4/repos/r", `{"region":"nb"}`)
	fx.call("POST", "/v4/repos/r/series/s", `{"retention":"1d"}`)
	f.Fuzz(func(t *testing.T, body, repo, name string) {
		repo, name = url.PathEscape(repo), url.PathEscape(name)
		for _, target := range []string{
			"/v4/repos/" + repo, "/v4/repos/" + repo + "/meta",
			"/v4/repos/" + repo + "/series/" + name, "/v4/repos/" + repo + "/series/" + name + "/meta",
			"/v4/repos/" + repo + "/views/" + name, "/v4/repos/" + repo + "/query",
		} {
			checkAnswer(t, fx.call("POST", target, body), target)
		}
		checkAnswer(t, fx.call("POST", "/v4/repos/r/points", []byte(body)), "points")
	})
}
