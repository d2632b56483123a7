package tsdb

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kodo-project/kodo/tsdb/tsdbapi"
)

// vectorsFile is the project's copy of shared/vectors/pandora-go-sdk.json.
const vectorsFile = "../signer/testdata/vectors/pandora-go-sdk.json"

type vector struct {
	ID       string            `json:"id"`
	Method   string            `json:"method"`
	Path     string            `json:"path"`
	RawQuery string            `json:"raw_query"`
	Headers  map[string]string `json:"headers"`
	Body     string            `json:"body_base64"`
	AK       string            `json:"ak"`
	SK       string            `json:"sk"`
	Now      time.Time         `json:"now"`
	Valid    bool              `json:"valid"`
}

func loadVectors(t testing.TB) []vector {
	t.Helper()
	data, err := os.ReadFile(vectorsFile)
	require.NoError(t, err)
	var file struct {
		Vectors []vector `json:"vectors"`
	}
	require.NoError(t, json.Unmarshal(data, &file))
	require.NotEmpty(t, file.Vectors)
	return file.Vectors
}

// request rebuilds the captured request as the server would receive it.
func (v vector) request(t testing.TB) *http.Request {
	t.Helper()
	body, err := base64.StdEncoding.DecodeString(v.Body)
	require.NoError(t, err)
	target := v.Path
	if v.RawQuery != "" {
		target += "?" + v.RawQuery
	}
	r := httptest.NewRequest(v.Method, target, bytes.NewReader(body))
	for k, val := range v.Headers {
		if strings.EqualFold(k, "Host") {
			r.Host = val
			continue
		}
		r.Header.Set(k, val)
	}
	return r
}

// TestVectorsReplay sends every request the official Go SDK produced, in
// order, to the real handler on the embedded engine, and checks each
// answer as the SDK reads it. Two fixtures are interleaved: the SDK's view
// and points name a series "cpu" that its calls never create, so it is
// created before the view; and after the SDK deletes r1 (vector 20) the
// repo is created again, with s1 for vector 23, so the later vectors
// reach a repo.
func TestVectorsReplay(t *testing.T) {
	vs := loadVectors(t)
	eng := openEngine(t)
	f := newFixture(t, eng, nil)
	ak, sk := vs[0].AK, vs[0].SK
	require.Equal(t, "AK_VECTOR_1", ak)
	require.NoError(t, f.svc.EnsureKeyPair(context.Background(), ak, sk))

	setup := func(now time.Time) {
		f.clock.Set(now)
		for _, name := range []string{"cpu", "mem"} {
			a := serve(f.h, f.signed("POST", "/v4/repos/r1/series/"+name, "application/json", []byte(`{"retention":"30d"}`), ak, sk))
			mustOK(t, a)
		}
		liftRetention(t, eng, ak, "r1", "30d", "7d")
	}
	// The SDK's own PostPointsFrom* body writes field v of series s1 as an
	// integer (v=1i) and then as a float (v=2.5): the service widens the
	// integer inside the request (widenNumbers), so these answer 200 too.
	state := func(now time.Time, method, target string, out any) {
		f.clock.Set(now)
		a := serve(f.h, f.signed(method, target, "", nil, ak, sk))
		mustOK(t, a)
		require.NoError(t, json.Unmarshal(a.Body, out))
	}

	seen := map[string]bool{}
	for _, v := range vs {
		id := v.ID[:len("pandora-00")]
		seen[id] = true
		switch id {
		case "pandora-10": // the SDK's view reads cpu
			setup(v.Now)
		case "pandora-21":
			f.waitIdle()
			var repos []tsdbapi.RepoInfo
			state(v.Now, "GET", "/v4/repos", &repos)
			require.Empty(t, repos, "repo r1 should be gone after vector 20")
			f.clock.Set(v.Now)
			mustOK(t, serve(f.h, f.signed("POST", "/v4/repos/r1", "application/json", []byte(`{"region":"nb"}`), ak, sk)))
			mustOK(t, serve(f.h, f.signed("POST", "/v4/repos/r1/series/s1", "application/json", []byte(`{"retention":"7d"}`), ak, sk)))
			setup(v.Now)
		}
		f.clock.Set(v.Now)
		a := serve(f.h, v.request(t))
		if !v.Valid {
			assert.Equal(t, http.StatusUnauthorized, a.Status, v.ID)
			assert.Equal(t, "application/json", a.CType, v.ID)
			assert.JSONEq(t, `{"error":"bad token"}`, string(a.Body), v.ID)
			continue
		}
		if !assert.Equal(t, http.StatusOK, a.Status, "%s: %s", v.ID, a.Body) {
			continue
		}
		assert.Equal(t, "application/json", a.CType, v.ID)
		assert.True(t, json.Valid(a.Body), v.ID)

		// What each call's answer must hold.
		switch id {
		case "pandora-02":
			var r tsdbapi.RepoInfo
			require.NoError(t, json.Unmarshal(a.Body, &r))
			assert.Equal(t, tsdbapi.RepoInfo{Name: "r1", Region: "nb", Metadata: map[string]string{"env": "test", "owner": "vector"},
				CreateTime: "2026-11-23T00:11:33Z", Deleting: "false"}, r)
		case "pandora-03":
			var rs []tsdbapi.RepoInfo
			require.NoError(t, json.Unmarshal(a.Body, &rs))
			require.Len(t, rs, 1)
			assert.Equal(t, "r1", rs[0].Name)
		case "pandora-04":
			var r tsdbapi.RepoInfo
			state(v.Now, "GET", "/v4/repos/r1", &r)
			assert.Equal(t, map[string]string{"env": "prod"}, r.Metadata)
		case "pandora-05":
			var r tsdbapi.RepoInfo
			state(v.Now, "GET", "/v4/repos/r1", &r)
			assert.Empty(t, r.Metadata)
		case "pandora-07":
			var ss []map[string]any
			require.NoError(t, json.Unmarshal(a.Body, &ss))
			require.Len(t, ss, 1)
			assert.Equal(t, map[string]any{"name": "s1", "retention": "7d", "createTime": "2026-11-23T00:11:33Z", "type": "1", "deleting": "false"}, ss[0])
		case "pandora-08":
			var s tsdbapi.SeriesInfo
			state(v.Now, "GET", "/v4/repos/r1/series/s1", &s)
			assert.Equal(t, map[string]string{"unit": "s"}, s.Metadata)
		case "pandora-09":
			var ss []tsdbapi.SeriesInfo
			state(v.Now, "GET", "/v4/repos/r1/series?showMeta=true", &ss)
			require.Len(t, ss, 1)
			assert.Equal(t, map[string]string{}, ss[0].Metadata)
		case "pandora-11":
			var views []tsdbapi.ViewInfo
			require.NoError(t, json.Unmarshal(a.Body, &views))
			require.Len(t, views, 1)
			assert.Equal(t, "v1", views[0].Name)
		case "pandora-12":
			var view tsdbapi.ViewInfo
			require.NoError(t, json.Unmarshal(a.Body, &view))
			assert.Equal(t, "30d", view.Retention)
			assert.Equal(t, map[string]string{"k": "v"}, view.Metadata)
			assert.Contains(t, view.SQL, "mean(usage_float)")
		case "pandora-13", "pandora-21", "pandora-24", "pandora-25", "pandora-32":
			assert.JSONEq(t, `{}`, string(a.Body), v.ID)
		case "pandora-17":
			var ret tsdbapi.QueryRet
			require.NoError(t, json.Unmarshal(a.Body, &ret))
			require.Len(t, ret.Results, 1) // nothing in the last hour: one empty result
			assert.Empty(t, ret.Results[0].Series)

			// The points of 13 and 14-16 are there, escapes intact.
			state(v.Now, "GET", "/v4/repos/r1/query?q="+urlQuery(`SELECT * FROM cpu GROUP BY *`), &ret)
			require.Len(t, ret.Results, 1)
			require.Len(t, ret.Results[0].Series, 2)
			assert.Equal(t, map[string]string{"host": "web 01", "region": "cn,east", "role": "a=b"}, ret.Results[0].Series[0].Tags)
			assert.Equal(t, map[string]string{"host": "web 02", "region": "cn east=1", "role": ""}, ret.Results[0].Series[1].Tags)
			state(v.Now, "GET", "/v4/repos/r1/query?q="+urlQuery(`SELECT * FROM cpu`), &ret)
			require.Len(t, ret.Results[0].Series, 1)
			rows := ret.Results[0].Series[0]
			assert.Equal(t, []string{"time", "host", "msg", "ok", "region", "role", "usage_float", "usage_int"}, rows.Columns)
			assert.Equal(t, []any{"2020-09-13T12:26:40Z", "web 01", `say "hi", a=b`, true, "cn,east", "a=b", 0.75, float64(42)}, rows.Values[0])
			assert.Equal(t, []any{"2020-09-13T12:26:40.123456789Z", "web 02", `back\slash`, false, "cn east=1", nil, 12.5, float64(-7)}, rows.Values[1])
			state(v.Now, "POST", "/v4/repos/r1/query?q="+urlQuery(`SELECT v FROM s1`), &ret)
			require.Len(t, ret.Results[0].Series, 1)
			assert.Equal(t, [][]any{{"2020-09-13T12:26:40Z", float64(1)}, {"2020-09-13T12:26:40.000000001Z", 2.5}}, ret.Results[0].Series[0].Values)
		case "pandora-19":
			var s tsdbapi.SeriesInfo
			f.clock.Set(v.Now)
			g := serve(f.h, f.signed("GET", "/v4/repos/r1/series/s1", "", nil, ak, sk))
			if g.Status == http.StatusOK { // still deleting
				require.NoError(t, json.Unmarshal(g.Body, &s))
				assert.Equal(t, "true", s.Deleting)
			} else {
				mustErr(t, g, tsdbapi.CodeSeriesNotFound)
			}
		}
	}
	// Every captured call was replayed.
	for i := 1; i <= 32; i++ {
		assert.True(t, seen[vectorID(i)], vectorID(i))
	}
}

func vectorID(i int) string {
	return "pandora-" + string(rune('0'+i/10)) + string(rune('0'+i%10))
}
