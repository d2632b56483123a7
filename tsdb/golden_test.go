package tsdb

import (
	"bytes"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/kodo-project/kodo/internal/httpx"
)

var update = flag.Bool("update", false, "rewrite tsdb/testdata/golden from the current answers")

// goldenStep is one request of TestGolden and the file its answer is kept in.
type goldenStep struct {
	name   string // testdata/golden/<name>.golden
	method string
	target string
	body   string // JSON unless ctype says otherwise
	ctype  string // "" = application/json when body != ""
	// unsigned sends the request without a signature.
	unsigned bool
}

// goldenClock is the fixed time of the service in TestGolden: createTime
// and the query answers are the same on every run without being hidden.
var goldenClock = time.Date(2026, 1, 2, 3, 4, 5, 600000000, time.UTC)

// TestGolden keeps the exact answer (status, Content-Type, Retry-After,
// body bytes) of every /v4 endpoint, one success and at least one
// representative error each, in testdata/golden. The service runs at a
// fixed clock with retention lifted, so everything but the generated key
// pair is deterministic; those keys are replaced by a placeholder after
// their shape is checked. go test ./tsdb -run TestGolden -update rewrites
// the files.
func TestGolden(t *testing.T) {
	eng := openEngine(t)
	busy := false
	f := newFixture(t, eng, func(c *Config) {
		c.Admit = func(r *http.Request, w Work) (*http.Request, func(), error) {
			if busy {
				return nil, nil, &httpx.BusyError{What: string(w)}
			}
			return r, func() {}, nil
		}
	})
	f.clock.Set(goldenClock)
	t0 := goldenClock.Add(-time.Hour).UnixNano()
	points := fmt.Sprintf("cpu,host=a usage=0.25 %d\ncpu,host=b usage=0.75 %d\ncpu,host=a usage=0.5 %d\n", t0, t0, t0+int64(time.Minute))

	run := func(steps ...goldenStep) {
		t.Helper()
		for _, st := range steps {
			checkGolden(t, st.name, st, f.goldenCall(st))
		}
	}
	run(
		goldenStep{name: "repo_create_ok", method: "POST", target: "/v4/repos/app", body: `{"region":"nb","metadata":{"team":"ops"}}`},
		goldenStep{name: "repo_create_exists", method: "POST", target: "/v4/repos/app", body: `{"region":"nb"}`},
		goldenStep{name: "repo_create_bad_name", method: "POST", target: "/v4/repos/1app", body: `{"region":"nb"}`},
		goldenStep{name: "repo_create_no_region", method: "POST", target: "/v4/repos/other", body: `{}`},
		goldenStep{name: "repo_create_bad_json", method: "POST", target: "/v4/repos/other", body: `{"region":1}`},
		goldenStep{name: "repo_create_bad_metadata", method: "POST", target: "/v4/repos/other", body: `{"region":"nb","metadata":{"a":1}}`},
		goldenStep{name: "repo_create_gz_ok", method: "POST", target: "/v4/repos/logs", body: `{"region":"gz"}`},
		goldenStep{name: "repo_get_ok", method: "GET", target: "/v4/repos/app"},
		goldenStep{name: "repo_get_missing", method: "GET", target: "/v4/repos/nope"},
		goldenStep{name: "repo_list_ok", method: "GET", target: "/v4/repos"},
		goldenStep{name: "repo_list_unsigned", method: "GET", target: "/v4/repos", unsigned: true},
		goldenStep{name: "repo_meta_update_ok", method: "POST", target: "/v4/repos/app/meta", body: `{"metadata":{"team":"db","tier":"gold"}}`},
		goldenStep{name: "repo_meta_update_bad_key", method: "POST", target: "/v4/repos/app/meta", body: `{"metadata":{"1x":"v"}}`},
		goldenStep{name: "repo_meta_delete_ok", method: "DELETE", target: "/v4/repos/logs/meta"},
		goldenStep{name: "repo_meta_delete_missing", method: "DELETE", target: "/v4/repos/nope/meta"},

		goldenStep{name: "series_create_ok", method: "POST", target: "/v4/repos/app/series/cpu", body: `{"retention":"7d","metadata":{"unit":"pct"}}`},
		goldenStep{name: "series_create_keyword", method: "POST", target: "/v4/repos/app/series/select", body: `{"retention":"7d"}`},
		goldenStep{name: "series_create_bad_retention", method: "POST", target: "/v4/repos/app/series/mem", body: `{"retention":"40d"}`},
		goldenStep{name: "series_create_exists", method: "POST", target: "/v4/repos/app/series/cpu", body: `{"retention":"3d"}`},
		goldenStep{name: "series_create_tmp_ok", method: "POST", target: "/v4/repos/app/series/tmp", body: `{"retention":"1d"}`},
		goldenStep{name: "series_get_ok", method: "GET", target: "/v4/repos/app/series/cpu"},
		goldenStep{name: "series_get_missing", method: "GET", target: "/v4/repos/app/series/nope"},
		goldenStep{name: "series_list_ok", method: "GET", target: "/v4/repos/app/series"},
		goldenStep{name: "series_list_meta_ok", method: "GET", target: "/v4/repos/app/series?showMeta=true"},
		goldenStep{name: "series_list_bad_showmeta", method: "GET", target: "/v4/repos/app/series?showMeta=maybe"},
		goldenStep{name: "series_meta_update_ok", method: "POST", target: "/v4/repos/app/series/tmp/meta", body: `{"metadata":{"unit":"ms"}}`},
		goldenStep{name: "series_meta_update_missing", method: "POST", target: "/v4/repos/app/series/nope/meta", body: `{"metadata":{"unit":"ms"}}`},
		goldenStep{name: "series_meta_update_no_metadata", method: "POST", target: "/v4/repos/app/series/tmp/meta", body: `{}`},
		goldenStep{name: "series_meta_delete_ok", method: "DELETE", target: "/v4/repos/app/series/tmp/meta"},
		goldenStep{name: "series_meta_delete_bad_name", method: "DELETE", target: "/v4/repos/app/series/9tmp/meta"},
	)
	liftRetention(t, eng, testAK, "app", "7d") // the points are an hour older than the real clock's past
	run(
		goldenStep{name: "points_write_ok", method: "POST", target: "/v4/repos/app/points", body: points, ctype: "text/plain"},
		goldenStep{name: "points_write_unknown_series", method: "POST", target: "/v4/repos/app/points", body: "mem used=1\n", ctype: "text/plain"},
		goldenStep{name: "points_write_bad_line", method: "POST", target: "/v4/repos/app/points", body: "cpu usage=\n", ctype: "text/plain"},
		goldenStep{name: "points_write_missing_repo", method: "POST", target: "/v4/repos/nope/points", body: points, ctype: "text/plain"},

		goldenStep{name: "query_get_ok", method: "GET", target: "/v4/repos/app/query?q=" + urlQuery("SELECT mean(usage) FROM cpu GROUP BY host")},
		goldenStep{name: "query_post_json_tz_ok", method: "POST", target: "/v4/repos/app/query?timezone=%2B08", body: `{"sql":"SELECT usage FROM cpu WHERE time >= '2026-01-02T10:04:00Z'"}`},
		goldenStep{name: "query_post_text_ok", method: "POST", target: "/v4/repos/app/query", body: "SELECT count(usage) FROM /c.u/", ctype: "text/plain"},
		goldenStep{name: "query_bad_sql", method: "GET", target: "/v4/repos/app/query?q=" + urlQuery("SELEC usage FROM cpu")},
		goldenStep{name: "query_empty", method: "POST", target: "/v4/repos/app/query", body: " ", ctype: "text/plain"},
		goldenStep{name: "query_bad_timezone", method: "GET", target: "/v4/repos/app/query?timezone=Mars&q=" + urlQuery("SELECT usage FROM cpu")},

		goldenStep{name: "view_create_ok", method: "POST", target: "/v4/repos/app/views/peak", body: `{"sql":"SELECT max(usage) FROM cpu","retention":"7d","metadata":{"by":"ops"}}`},
		goldenStep{name: "view_create_bad_sql", method: "POST", target: "/v4/repos/app/views/bad", body: `{"sql":"SELECT max(usage) FROM nope","retention":"7d"}`},
		goldenStep{name: "view_create_bad_name", method: "POST", target: "/v4/repos/app/views/from", body: `{"sql":"SELECT max(usage) FROM cpu","retention":"7d"}`},
		goldenStep{name: "view_create_exists", method: "POST", target: "/v4/repos/app/views/cpu", body: `{"sql":"SELECT max(usage) FROM cpu","retention":"7d"}`},
		goldenStep{name: "view_get_ok", method: "GET", target: "/v4/repos/app/views/peak"},
		goldenStep{name: "view_get_missing", method: "GET", target: "/v4/repos/app/views/nope"},
		goldenStep{name: "view_list_ok", method: "GET", target: "/v4/repos/app/views"},
		goldenStep{name: "view_list_missing_repo", method: "GET", target: "/v4/repos/nope/views"},
		goldenStep{name: "query_view_ok", method: "GET", target: "/v4/repos/app/query?q=" + urlQuery("SELECT * FROM peak")},
		goldenStep{name: "view_delete_ok", method: "DELETE", target: "/v4/repos/app/views/peak"},
		goldenStep{name: "view_delete_missing", method: "DELETE", target: "/v4/repos/app/views/peak"},

		goldenStep{name: "series_delete_ok", method: "DELETE", target: "/v4/repos/app/series/tmp"},
	)
	f.waitIdle()
	run(
		goldenStep{name: "series_delete_missing", method: "DELETE", target: "/v4/repos/app/series/tmp"},
		goldenStep{name: "repo_delete_ok", method: "DELETE", target: "/v4/repos/logs"},
	)
	f.waitIdle()
	run(
		goldenStep{name: "repo_delete_missing", method: "DELETE", target: "/v4/repos/logs"},
		goldenStep{name: "no_api", method: "GET", target: "/v4/nothing"},
		goldenStep{name: "no_api_method", method: "PUT", target: "/v4/repos/app"},
		goldenStep{name: "no_api_deep", method: "GET", target: "/v4/repos/app/series/cpu/meta/x"},
		goldenStep{name: "no_api_lookalike", method: "GET", target: "/v4/reposx"},
		goldenStep{name: "no_api_list_post", method: "POST", target: "/v4/repos", body: `{}`},
		goldenStep{name: "route_trailing_slash", method: "GET", target: "/v4/repos/app/"},
		goldenStep{name: "route_list_trailing_slash", method: "GET", target: "/v4/repos/"},
		goldenStep{name: "route_double_slash", method: "GET", target: "/v4//repos"},
		goldenStep{name: "route_escaped_slash", method: "GET", target: "/v4/repos/a%2Fb"},
		goldenStep{name: "route_dot", method: "GET", target: "/v4/repos/./app"},
		goldenStep{name: "route_head", method: "HEAD", target: "/v4/repos"},
	)
	busy = true
	run(goldenStep{name: "query_busy", method: "GET", target: "/v4/repos/app/query?q=" + urlQuery("SELECT usage FROM cpu")})
	busy = false

	// The key pair handler, mounted by the embedding server.
	kp := serveGolden(http.HandlerFunc(f.svc.HandleCreateKeyPair), httptestRequest("POST", "/admin/tsdb/keys"))
	checkGolden(t, "keypair_create_ok", goldenStep{method: "POST", target: "/admin/tsdb/keys"}, kp)
	kp = serveGolden(http.HandlerFunc(f.svc.HandleCreateKeyPair), httptestRequest("GET", "/admin/tsdb/keys"))
	checkGolden(t, "keypair_create_get", goldenStep{method: "GET", target: "/admin/tsdb/keys"}, kp)
}

// goldenAnswer is a recorded response with the headers the golden files keep.
type goldenAnswer struct {
	answer
	retryAfter string
	allow      string
}

func (f *fixture) goldenCall(st goldenStep) goldenAnswer {
	var body []byte
	ctype := st.ctype
	if st.body != "" {
		body = []byte(st.body)
		if ctype == "" {
			ctype = "application/json"
		}
	}
	r := f.signed(st.method, st.target, ctype, body, testAK, testSK)
	if st.unsigned {
		r.Header.Del("Authorization")
	}
	return serveGolden(f.h, r)
}

func serveGolden(h http.Handler, r *http.Request) goldenAnswer {
	w := httptestRecorder()
	h.ServeHTTP(w, r)
	return goldenAnswer{
		answer:     answer{Status: w.Code, CType: w.Header().Get("Content-Type"), Body: w.Body.Bytes()},
		retryAfter: w.Header().Get("Retry-After"),
		allow:      w.Header().Get("Allow"),
	}
}

// generatedKey is the shape of a key randomKey makes.
var generatedKey = regexp.MustCompile(`"[A-Za-z0-9_-]{40}"`)

// goldenText renders a request and its answer; the body is kept byte for
// byte but for generated keys, replaced once their shape is checked.
func goldenText(t *testing.T, st goldenStep, a goldenAnswer) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "%s %s\n", st.method, st.target)
	if st.body != "" {
		fmt.Fprintf(&sb, "%s\n", st.body)
	}
	fmt.Fprintf(&sb, "\n%d\nContent-Type: %s\n", a.Status, a.CType)
	if a.retryAfter != "" {
		fmt.Fprintf(&sb, "Retry-After: %s\n", a.retryAfter)
	}
	if a.allow != "" {
		fmt.Fprintf(&sb, "Allow: %s\n", a.allow)
	}
	body := a.Body
	if strings.HasPrefix(st.target, "/admin/tsdb/keys") && a.Status == http.StatusOK {
		keys := generatedKey.FindAll(body, -1)
		require.Len(t, keys, 2, "key pair answer %s", body)
		require.NotEqual(t, keys[0], keys[1])
		body = generatedKey.ReplaceAll(body, []byte(`"<40 random base64url characters>"`))
	}
	fmt.Fprintf(&sb, "%s\n", body)
	return sb.String()
}

func checkGolden(t *testing.T, name string, st goldenStep, a goldenAnswer) {
	t.Helper()
	got := goldenText(t, st, a)
	path := filepath.Join("testdata", "golden", name+".golden")
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "missing golden file; run go test ./tsdb -run TestGolden -update")
	if !bytes.Equal(want, []byte(got)) {
		t.Errorf("%s: the answer changed\n--- want\n%s--- got\n%s", path, want, got)
	}
}
