package tsdb

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	iql "github.com/influxdata/influxql"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kodo-project/kodo/storage/tsengine"
	"github.com/kodo-project/kodo/tsdb/tsdbapi"
)

func queryRet(t *testing.T, a answer) tsdbapi.QueryRet {
	t.Helper()
	mustOK(t, a)
	var ret tsdbapi.QueryRet
	require.NoError(t, json.Unmarshal(a.Body, &ret))
	return ret
}

// TestTimezoneExample runs the spec's worked example end to end: the point
// 1466510400000000000 (2016-06-21 12:00 UTC) seen from +08 and +00.
func TestTimezoneExample(t *testing.T) {
	eng := openEngine(t)
	f := newFixture(t, eng, nil)
	mustOK(t, f.call("POST", "/v4/repos/tz", `{"region":"nb"}`))
	mustOK(t, f.call("POST", "/v4/repos/tz/series/cpu", `{"retention":"30d"}`))
	liftRetention(t, eng, testAK, "tz", "30d") // 2016 is older than any 1d–30d retention
	mustOK(t, f.call("POST", "/v4/repos/tz/points", []byte("cpu value=1 1466510400000000000\n")))

	const point = "2016-06-21T12:00:00Z"
	tests := []struct {
		name, tz, sql string
		found         bool
	}{
		{"greater +08 reaches back to 04:00 UTC", "+08", `select value from cpu where time > '2016-06-21T12:00:00Z'`, true},
		{"greater +00 excludes 12:00 UTC", "+00", `select value from cpu where time > '2016-06-21T12:00:00Z'`, false},
		{"no timezone is UTC", "", `select value from cpu where time > '2016-06-21T12:00:00Z'`, false},
		{"equal at +00", "+00", `select value from cpu where time = '2016-06-21T12:00:00Z'`, true},
		{"equal at 8", "8", `select value from cpu where time = '2016-06-21T20:00:00Z'`, true},
		{"equal at +08", "+08", `select value from cpu where time = '2016-06-21T20:00:00Z'`, true},
		{"+08 literal read as UTC misses", "+00", `select value from cpu where time = '2016-06-21T20:00:00Z'`, false},
		{"-05", "-05", `select value from cpu where time = '2016-06-21T07:00:00Z'`, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			target := "/v4/repos/tz/query?q=" + url.QueryEscape(tc.sql)
			if tc.tz != "" {
				target += "&timezone=" + url.QueryEscape(tc.tz)
			}
			for _, method := range []string{"GET", "POST"} {
				var a answer
				if method == "GET" {
					a = f.call("GET", target, nil)
				} else { // the JSON body form
					post := "/v4/repos/tz/query"
					if tc.tz != "" {
						post += "?timezone=" + url.QueryEscape(tc.tz)
					}
					a = f.call("POST", post, map[string]string{"sql": tc.sql})
				}
				ret := queryRet(t, a)
				require.Len(t, ret.Results, 1)
				if !tc.found {
					assert.Empty(t, ret.Results[0].Series, method)
					continue
				}
				require.Len(t, ret.Results[0].Series, 1, method)
				assert.Equal(t, tsdbapi.Serie{Name: "cpu", Columns: []string{"time", "value"}, Values: [][]any{{point, float64(1)}}}, ret.Results[0].Series[0], method)
			}
		})
	}
}

// TestWriteAndQuery covers the points and query paths on the real engine:
// series in different retentions, text/plain queries, regex sources,
// views, and points older than their retention.
func TestWriteAndQuery(t *testing.T) {
	eng := openEngine(t)
	f := newFixture(t, eng, nil)
	mustOK(t, f.call("POST", "/v4/repos/app", `{"region":"gz"}`))
	mustOK(t, f.call("POST", "/v4/repos/app/series/cpu", `{"retention":"1d"}`))
	mustOK(t, f.call("POST", "/v4/repos/app/series/mem", `{"retention":"30d"}`))

	now := time.Now().Truncate(time.Second)
	ts := func(d time.Duration) string { return " " + itoa(now.Add(-d).UnixNano()) }
	body := "cpu,host=a v=1" + ts(2*time.Minute) + "\ncpu,host=b v=3" + ts(time.Minute) + "\nmem,host=a used=10i" + ts(time.Minute) + "\n"
	a := f.call("POST", "/v4/repos/app/points", []byte(body))
	mustOK(t, a)
	assert.JSONEq(t, `{}`, string(a.Body))

	// Each series went to the RP of its retention.
	db := DatabaseName(testAK, "app")
	for rp, m := range map[string]string{"r1d": "cpu", "r30d": "mem"} {
		res, err := eng.Query(context.Background(), db, mustParse(t, `SELECT count(*) FROM "`+rp+`"."`+m+`"`), tsengine.QueryOptions{})
		require.NoError(t, err)
		require.Len(t, res, 1)
		require.Len(t, res[0].Series, 1, "%s.%s", rp, m)
	}

	// text/plain body
	a = serve(f.h, f.signed("POST", "/v4/repos/app/query", "text/plain", []byte(`SELECT sum(v) FROM cpu`), testAK, testSK))
	ret := queryRet(t, a)
	assert.Equal(t, float64(4), ret.Results[0].Series[0].Values[0][1])

	// two statements, regex across RPs
	ret = queryRet(t, f.call("GET", "/v4/repos/app/query?q="+url.QueryEscape(`SELECT count(v) FROM cpu; SELECT * FROM /^(cpu|mem)$/ GROUP BY host`), nil))
	require.Len(t, ret.Results, 2)
	assert.Equal(t, float64(2), ret.Results[0].Series[0].Values[0][1])
	names := map[string]bool{}
	for _, s := range ret.Results[1].Series {
		names[s.Name] = true
	}
	assert.Equal(t, map[string]bool{"cpu": true, "mem": true}, names)

	// SHOW statements see the series
	ret = queryRet(t, f.call("GET", "/v4/repos/app/query?q="+url.QueryEscape(`SHOW FIELD KEYS FROM mem`), nil))
	assert.Equal(t, []any{"used", "integer"}, ret.Results[0].Series[0].Values[0])

	// a view reads as a subquery, answered under its name
	mustOK(t, f.call("POST", "/v4/repos/app/views/hot", map[string]any{"sql": "SELECT max(v) AS peak FROM cpu", "retention": "7d"}))
	ret = queryRet(t, f.call("GET", "/v4/repos/app/query?q="+url.QueryEscape(`SELECT peak FROM hot`), nil))
	require.Len(t, ret.Results[0].Series, 1)
	assert.Equal(t, "hot", ret.Results[0].Series[0].Name)
	assert.Equal(t, float64(3), ret.Results[0].Series[0].Values[0][1])

	// a point older than its series' retention is refused; the other is stored
	a = f.call("POST", "/v4/repos/app/points", []byte("cpu,host=a v=1"+ts(3*24*time.Hour)+"\ncpu,host=a v=7"+ts(time.Second)+"\n"))
	mustErr(t, a, tsdbapi.CodeBadRequest)
	assert.Contains(t, a.errText(t), "1 point(s) refused: older than the series' retention (the other points were stored)")
	ret = queryRet(t, f.call("GET", "/v4/repos/app/query?q="+url.QueryEscape(`SELECT max(v) FROM cpu`), nil))
	assert.Equal(t, float64(7), ret.Results[0].Series[0].Values[0][1])

	// deleting a series drops its points; recreating it starts empty
	mustOK(t, f.call("DELETE", "/v4/repos/app/series/cpu", nil))
	f.waitIdle()
	mustErr(t, f.call("GET", "/v4/repos/app/series/cpu", nil), tsdbapi.CodeSeriesNotFound)
	mustOK(t, f.call("POST", "/v4/repos/app/series/cpu", `{"retention":"2d"}`))
	ret = queryRet(t, f.call("GET", "/v4/repos/app/query?q="+url.QueryEscape(`SELECT * FROM cpu`), nil))
	assert.Empty(t, ret.Results[0].Series)

	// deleting the repo drops its database
	mustOK(t, f.call("DELETE", "/v4/repos/app", nil))
	f.waitIdle()
	mustErr(t, f.call("GET", "/v4/repos/app", nil), tsdbapi.CodeNotFound)
	res, err := eng.Query(context.Background(), db, mustParse(t, `SHOW MEASUREMENTS`), tsengine.QueryOptions{})
	if err == nil {
		require.Len(t, res, 1)
		assert.NotEmpty(t, res[0].Err, "database %s should be gone", db)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func mustParse(t *testing.T, s string) *iql.Query {
	t.Helper()
	q, err := iql.ParseQuery(s)
	require.NoError(t, err)
	return q
}

// TestRepoAndSeriesLifecycle checks the JSON shapes and the isolation of
// key pairs.
func TestRepoAndSeriesLifecycle(t *testing.T) {
	f := newFixture(t, openEngine(t), nil)
	f.clock.Set(time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC))
	a := f.call("GET", "/v4/repos", nil)
	mustOK(t, a)
	assert.Equal(t, "[]", string(a.Body))

	mustOK(t, f.call("POST", "/v4/repos/test_repo", `{"region":"nb","metadata":{"info":"this repo is be for the use of test"}}`))
	a = f.call("GET", "/v4/repos/test_repo", nil)
	mustOK(t, a)
	assert.JSONEq(t, `{"name":"test_repo","region":"nb","metadata":{"info":"this repo is be for the use of test"},"createTime":"2026-11-23T08:00:00Z","deleting":"false"}`, string(a.Body))

	mustOK(t, f.call("POST", "/v4/repos/test_repo/series/test_series", `{"retention":"1d","metadata":{"author":"Lynk Lee"}}`))
	a = f.call("GET", "/v4/repos/test_repo/series", nil)
	assert.JSONEq(t, `[{"name":"test_series","retention":"1d","createTime":"2026-11-23T08:00:00Z","type":"1","deleting":"false"}]`, string(a.Body))
	a = f.call("GET", "/v4/repos/test_repo/series?showMeta=true", nil)
	assert.JSONEq(t, `[{"name":"test_series","retention":"1d","metadata":{"author":"Lynk Lee"},"createTime":"2026-11-23T08:00:00Z","type":"1","deleting":"false"}]`, string(a.Body))

	// Another key pair sees nothing of it, and may use the same names.
	other, err := f.svc.NewKeyPair(context.Background())
	require.NoError(t, err)
	mustErr(t, serve(f.h, f.signed("GET", "/v4/repos/test_repo", "", nil, other.AccessKey, other.SecretKey)), tsdbapi.CodeNotFound)
	a = serve(f.h, f.signed("GET", "/v4/repos", "", nil, other.AccessKey, other.SecretKey))
	assert.Equal(t, "[]", string(a.Body))
	mustOK(t, serve(f.h, f.signed("POST", "/v4/repos/test_repo", "application/json", []byte(`{"region":"nb"}`), other.AccessKey, other.SecretKey)))
	assert.NotEqual(t, DatabaseName(testAK, "test_repo"), DatabaseName(other.AccessKey, "test_repo"))

	// a deletion in progress shows as deleting
	require.NoError(t, f.store.UpdatePandoraRepo(context.Background(), Repo{AccessKey: testAK, Name: "test_repo", Metadata: map[string]string{}, Deleting: true}))
	a = f.call("GET", "/v4/repos/test_repo", nil)
	assert.Contains(t, string(a.Body), `"deleting":"true"`)
}

// blockingEngine wraps an engine to reach the answers a real engine gives
// only under load: a query that outlives its limit, an executor that
// closes without a result.
type blockingEngine struct {
	tsengine.Engine
	noResult bool
}

func (b blockingEngine) Query(ctx context.Context, db string, q *iql.Query, opt tsengine.QueryOptions) ([]tsengine.Result, error) {
	if b.noResult {
		return nil, nil
	}
	return b.Engine.Query(ctx, db, q, opt)
}

// TestErrorCodes reaches every code of the spec's tables (and the view
// codes) and checks status, Content-Type and body shape.
func TestErrorCodes(t *testing.T) {
	eng := openEngine(t)
	f := newFixture(t, eng, func(c *Config) { c.MaxSeriesPerRepo = 2 })
	mustOK(t, f.call("POST", "/v4/repos/r", `{"region":"nb"}`))
	mustOK(t, f.call("POST", "/v4/repos/r/series/s", `{"retention":"7d"}`))
	mustOK(t, f.call("POST", "/v4/repos/r/series/gone", `{"retention":"7d"}`))
	mustOK(t, f.call("POST", "/v4/repos/r/views/v", `{"sql":"SELECT * FROM s","retention":"7d"}`))
	mustOK(t, f.call("POST", "/v4/repos/busy", `{"region":"nb"}`))
	mustOK(t, f.call("POST", "/v4/repos/dying", `{"region":"nb"}`))
	ctx := context.Background()
	require.NoError(t, f.store.UpdatePandoraRepo(ctx, Repo{AccessKey: testAK, Name: "dying", Deleting: true}))
	require.NoError(t, f.store.UpdatePandoraSeries(ctx, Series{AccessKey: testAK, Repo: "r", Name: "gone", Deleting: true}))

	long := strings.Repeat("x", 501)
	tests := []struct {
		name         string
		method, path string
		body         any
		code         tsdbapi.Code
		detail       string
	}{
		{"bad json", "POST", "/v4/repos/x", `{"region":`, tsdbapi.CodeBadRequest, "JSON"},
		{"empty body", "POST", "/v4/repos/x", nil, tsdbapi.CodeBadRequest, "JSON object"},
		{"metadata key", "POST", "/v4/repos/x", `{"region":"nb","metadata":{"1a":"v"}}`, tsdbapi.CodeBadRequest, `"1a"`},
		{"metadata value empty", "POST", "/v4/repos/x", `{"region":"nb","metadata":{"a":""}}`, tsdbapi.CodeBadRequest, "1 to 500"},
		{"metadata value long", "POST", "/v4/repos/r/meta", `{"metadata":{"a":"` + long + `"}}`, tsdbapi.CodeBadRequest, "501 characters"},
		{"metadata missing", "POST", "/v4/repos/r/meta", `{}`, tsdbapi.CodeBadRequest, "metadata"},
		{"showMeta", "GET", "/v4/repos/r/series?showMeta=maybe", nil, tsdbapi.CodeBadRequest, "showMeta"},
		{"line protocol", "POST", "/v4/repos/r/points", []byte("s v=\n"), tsdbapi.CodeBadRequest, "line 1"},
		{"no points", "POST", "/v4/repos/r/points", []byte("\n"), tsdbapi.CodeBadRequest, "no point"},
		{"unknown path", "GET", "/v4/nothing", nil, tsdbapi.CodeNotFound, "/v4/nothing"},
		{"wrong method", "PUT", "/v4/repos/r", nil, tsdbapi.CodeNotFound, "PUT"},
		{"unknown repo", "GET", "/v4/repos/nope", nil, tsdbapi.CodeNotFound, `"nope"`},
		{"unknown repo write", "POST", "/v4/repos/nope/points", []byte("s v=1\n"), tsdbapi.CodeNotFound, `"nope"`},
		{"repo name", "POST", "/v4/repos/1abc", `{"region":"nb"}`, tsdbapi.CodeInvalidRepoName, `"1abc"`},
		{"repo name long", "GET", "/v4/repos/" + strings.Repeat("a", 129), nil, tsdbapi.CodeInvalidRepoName, ""},
		{"region empty", "POST", "/v4/repos/x", `{"metadata":{}}`, tsdbapi.CodeRegionEmpty, ""},
		{"repo exists", "POST", "/v4/repos/r", `{"region":"nb"}`, tsdbapi.CodeRepoExists, `"r"`},
		{"region unknown", "POST", "/v4/repos/x", `{"region":"mars"}`, tsdbapi.CodeRegionUnknown, `"mars"`},
		{"repo deleting create", "POST", "/v4/repos/dying", `{"region":"nb"}`, tsdbapi.CodeRepoDeleting, ""},
		{"repo deleting write", "POST", "/v4/repos/dying/points", []byte("s v=1\n"), tsdbapi.CodeRepoDeleting, ""},
		{"repo deleting query", "GET", "/v4/repos/dying/query?q=SELECT+*+FROM+s", nil, tsdbapi.CodeRepoDeleting, ""},
		{"repo deleting series", "POST", "/v4/repos/dying/series/s", `{"retention":"1d"}`, tsdbapi.CodeRepoDeleting, ""},
		{"retention 31d", "POST", "/v4/repos/r/series/t", `{"retention":"31d"}`, tsdbapi.CodeRetentionUnknown, "31d"},
		{"retention 0d", "POST", "/v4/repos/r/series/t", `{"retention":"0d"}`, tsdbapi.CodeRetentionUnknown, ""},
		{"retention hours", "POST", "/v4/repos/r/series/t", `{"retention":"24h"}`, tsdbapi.CodeRetentionUnknown, ""},
		{"retention missing", "POST", "/v4/repos/r/series/t", `{}`, tsdbapi.CodeRetentionUnknown, ""},
		{"series name", "POST", "/v4/repos/r/series/a-b", `{"retention":"1d"}`, tsdbapi.CodeInvalidSeriesName, `"a-b"`},
		{"series keyword", "POST", "/v4/repos/r/series/select", `{"retention":"1d"}`, tsdbapi.CodeSeriesKeyword, "select"},
		{"series time", "POST", "/v4/repos/r/series/time", `{"retention":"1d"}`, tsdbapi.CodeSeriesKeyword, ""},
		{"series exists", "POST", "/v4/repos/r/series/s", `{"retention":"1d"}`, tsdbapi.CodeSeriesExists, `"s"`},
		{"series named like a view", "POST", "/v4/repos/r/series/v", `{"retention":"1d"}`, tsdbapi.CodeSeriesExists, "view"},
		{"series missing", "GET", "/v4/repos/r/series/t", nil, tsdbapi.CodeSeriesNotFound, `"t"`},
		{"series missing delete", "DELETE", "/v4/repos/r/series/t", nil, tsdbapi.CodeSeriesNotFound, ""},
		{"series missing meta", "POST", "/v4/repos/r/series/t/meta", `{"metadata":{"a":"b"}}`, tsdbapi.CodeSeriesNotFound, ""},
		{"points name missing series", "POST", "/v4/repos/r/points", []byte("s v=1\nnope v=1\nnope2 v=2\n"), tsdbapi.CodeSeriesNotFound, `"nope", "nope2"`},
		{"series deleting", "POST", "/v4/repos/r/series/gone", `{"retention":"1d"}`, tsdbapi.CodeSeriesDeleting, ""},
		{"series deleting write", "POST", "/v4/repos/r/points", []byte("gone v=1\n"), tsdbapi.CodeSeriesDeleting, `"gone"`},
		{"series deleting delete", "DELETE", "/v4/repos/r/series/gone", nil, tsdbapi.CodeSeriesDeleting, ""},
		{"series limit", "POST", "/v4/repos/r/series/third", `{"retention":"1d"}`, tsdbapi.CodeSeriesLimit, ""},
		{"view name", "POST", "/v4/repos/r/views/9v", `{"sql":"SELECT * FROM s","retention":"1d"}`, tsdbapi.CodeInvalidViewName, ""},
		{"view sql", "POST", "/v4/repos/r/views/w", `{"sql":"SELEC","retention":"1d"}`, tsdbapi.CodeInvalidViewSQL, ""},
		{"view sql show", "POST", "/v4/repos/r/views/w", `{"sql":"SHOW MEASUREMENTS","retention":"1d"}`, tsdbapi.CodeInvalidViewSQL, "SELECT"},
		{"view sql unknown series", "POST", "/v4/repos/r/views/w", `{"sql":"SELECT * FROM zz","retention":"1d"}`, tsdbapi.CodeInvalidViewSQL, `"zz"`},
		{"view retention", "POST", "/v4/repos/r/views/w", `{"sql":"SELECT * FROM s","retention":"99d"}`, tsdbapi.CodeRetentionUnknown, ""},
		{"view missing", "GET", "/v4/repos/r/views/w", nil, tsdbapi.CodeViewNotFound, `"w"`},
		{"view missing delete", "DELETE", "/v4/repos/r/views/w", nil, tsdbapi.CodeViewNotFound, ""},
		{"view exists", "POST", "/v4/repos/r/views/v", `{"sql":"SELECT * FROM s","retention":"1d"}`, tsdbapi.CodeViewExists, ""},
		{"view named like a series", "POST", "/v4/repos/r/views/s", `{"sql":"SELECT * FROM s","retention":"1d"}`, tsdbapi.CodeViewExists, "series"},
		{"sql syntax", "GET", "/v4/repos/r/query?q=SELEC", nil, tsdbapi.CodeInvalidSQL, ""},
		{"sql empty", "GET", "/v4/repos/r/query?q=", nil, tsdbapi.CodeInvalidSQL, "empty"},
		{"sql foreign db", "GET", "/v4/repos/r/query?q=" + url.QueryEscape(`SELECT * FROM other..s`), nil, tsdbapi.CodeInvalidSQL, "other"},
		{"sql into", "POST", "/v4/repos/r/query", map[string]string{"sql": `SELECT * INTO x FROM s`}, tsdbapi.CodeInvalidSQL, "INTO"},
		{"sql drop", "POST", "/v4/repos/r/query", []byte(`DROP MEASUREMENT s`), tsdbapi.CodeInvalidSQL, ""},
		{"sql show databases", "GET", "/v4/repos/r/query?q=SHOW+DATABASES", nil, tsdbapi.CodeInvalidSQL, ""},
		{"timezone range", "GET", "/v4/repos/r/query?q=SELECT+*+FROM+s&timezone=%2B15", nil, tsdbapi.CodeInvalidTimezone, ""},
		{"timezone text", "GET", "/v4/repos/r/query?q=SELECT+*+FROM+s&timezone=Asia/Shanghai", nil, tsdbapi.CodeInvalidTimezone, ""},
		{"execute", "GET", "/v4/repos/r/query?q=" + url.QueryEscape(`SELECT v, mean(v) FROM s`), nil, tsdbapi.CodeExecuteSQL, "statement 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := f.call(tc.method, tc.path, tc.body)
			mustErr(t, a, tc.code)
			assert.Contains(t, a.errText(t), tc.detail)
		})
	}

	t.Run("modifying", func(t *testing.T) {
		unlock, e := f.svc.lockRepo(testAK, "busy", false) // a series change in progress
		require.Nil(t, e)
		mustErr(t, f.call("POST", "/v4/repos/busy/meta", `{"metadata":{"a":"b"}}`), tsdbapi.CodeRepoModifying)
		mustErr(t, f.call("DELETE", "/v4/repos/busy", nil), tsdbapi.CodeRepoModifying)
		unlock()
		unlock, e = f.svc.lockSeries(testAK, "r", "s")
		require.Nil(t, e)
		mustErr(t, f.call("POST", "/v4/repos/r/series/s/meta", `{"metadata":{"a":"b"}}`), tsdbapi.CodeSeriesModifying)
		mustErr(t, f.call("DELETE", "/v4/repos/r/series/s", nil), tsdbapi.CodeSeriesModifying)
		unlock()
		mustOK(t, f.call("POST", "/v4/repos/r/series/s/meta", `{"metadata":{"a":"b"}}`))
	})

	t.Run("query timeout", func(t *testing.T) {
		g := newFixture(t, eng, func(c *Config) { c.QueryTimeout = time.Nanosecond })
		mustOK(t, g.call("POST", "/v4/repos/slow", `{"region":"nb"}`))
		a := g.call("GET", "/v4/repos/slow/query?q=SELECT+*+FROM+s", nil)
		mustErr(t, a, tsdbapi.CodeQueryTimeout)
	})

	t.Run("no result", func(t *testing.T) {
		g := newFixture(t, blockingEngine{Engine: eng, noResult: true}, nil)
		mustOK(t, g.call("POST", "/v4/repos/empty", `{"region":"nb"}`))
		mustErr(t, g.call("GET", "/v4/repos/empty/query?q=SELECT+*+FROM+s", nil), tsdbapi.CodeQueryInterrupted)
	})

	t.Run("internal", func(t *testing.T) {
		g := newFixture(t, eng, nil)
		g.store.setFail(errors.New("disk on fire"))
		a := g.call("GET", "/v4/repos", nil)
		// The key lookup fails first: the store's fault, not the client's.
		mustErr(t, a, tsdbapi.CodeInternal)
		assert.NotContains(t, string(a.Body), "fire", "causes stay in the log")
	})

	t.Run("body too large", func(t *testing.T) {
		g := newFixture(t, eng, func(c *Config) { c.Limits.MaxBodyBytes = 16; c.Limits.MaxDecompressedBytes = 16 })
		a := g.call("POST", "/v4/repos/r/points", []byte(strings.Repeat("s v=1\n", 10)))
		assert.Equal(t, http.StatusRequestEntityTooLarge, a.Status)
		assert.Equal(t, "application/json", a.CType)
		assert.Regexp(t, `^E6000: `, a.errText(t))
	})
}

// TestBadToken: every signature failure is 401 {"error":"bad token"}.
func TestBadToken(t *testing.T) {
	f := newFixture(t, openEngine(t), nil)
	good := f.signed("GET", "/v4/repos", "", nil, testAK, testSK)
	mustOK(t, serve(f.h, good))

	cases := map[string]func() *http.Request{
		"wrong secret": func() *http.Request { return f.signed("GET", "/v4/repos", "", nil, testAK, "nope") },
		"unknown key":  func() *http.Request { return f.signed("GET", "/v4/repos", "", nil, "AK_NOBODY", testSK) },
		"no header": func() *http.Request {
			r := f.signed("GET", "/v4/repos", "", nil, testAK, testSK)
			r.Header.Del("Authorization")
			return r
		},
		"other scheme": func() *http.Request {
			r := f.signed("GET", "/v4/repos", "", nil, testAK, testSK)
			r.Header.Set("Authorization", "QBox "+testAK+":abc")
			return r
		},
		"stale date": func() *http.Request {
			f.clock.Set(time.Now().Add(-time.Hour))
			defer f.clock.Set(time.Time{})
			return f.signed("GET", "/v4/repos", "", nil, testAK, testSK)
		},
		"unknown path still needs a signature": func() *http.Request {
			r := f.signed("GET", "/v4/zzz", "", nil, testAK, testSK)
			r.Header.Del("Authorization")
			return r
		},
	}
	for name, mk := range cases {
		t.Run(name, func(t *testing.T) {
			a := serve(f.h, mk())
			assert.Equal(t, http.StatusUnauthorized, a.Status)
			assert.Equal(t, "application/json", a.CType)
			assert.Equal(t, `{"error":"bad token"}`, string(a.Body))
		})
	}
}

func TestParseRetention(t *testing.T) {
	for _, ok := range []string{"1d", "7d", "30d", "09d"} {
		_, err := ParseRetention(ok)
		assert.NoError(t, err, ok)
	}
	for _, bad := range []string{"", "d", "0d", "31d", "-1d", "+1d", "1", "1h", "1D", " 1d"} {
		_, err := ParseRetention(bad)
		assert.Error(t, err, bad)
	}
}

func TestKeyPairs(t *testing.T) {
	f := newFixture(t, openEngine(t), nil)
	ctx := context.Background()
	require.NoError(t, f.svc.EnsureKeyPair(ctx, testAK, testSK)) // again: fine
	err := f.svc.EnsureKeyPair(ctx, testAK, "other")
	require.ErrorIs(t, err, ErrConflict)
	require.Error(t, f.svc.EnsureKeyPair(ctx, "", "x"))

	w := httptestRecorder()
	f.svc.HandleCreateKeyPair(w, httptestRequest("POST", "/admin/tsdb/keys"))
	require.Equal(t, 200, w.Code)
	require.Equal(t, "application/json", w.Header().Get("Content-Type"))
	var kp tsdbapi.KeyPair
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &kp))
	assert.Len(t, kp.AccessKey, 40)
	assert.Len(t, kp.SecretKey, 40)
	assert.NotEqual(t, kp.AccessKey, kp.SecretKey)
	// the new pair signs requests
	mustOK(t, serve(f.h, f.signed("GET", "/v4/repos", "", nil, kp.AccessKey, kp.SecretKey)))

	w = httptestRecorder()
	f.svc.HandleCreateKeyPair(w, httptestRequest("GET", "/admin/tsdb/keys"))
	assert.Equal(t, http.StatusMethodNotAllowed, w.Code)
}
