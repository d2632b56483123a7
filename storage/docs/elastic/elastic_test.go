package elastic

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kodo-project/kodo/storage/docs"
	"github.com/kodo-project/kodo/storage/docs/docstest"
)

var update = flag.Bool("update", false, "rewrite golden files")

// exchange is one request the fake cluster expects and its answer.
type exchange struct {
	method, path string
	query        string                                 // exact raw query, if not "-"
	check        func(t *testing.T, body []byte)        // checks the request body
	status       int                                    // answer status
	answer       func(t *testing.T, body []byte) string // answer body
}

// fakeES answers a scripted sequence of requests as Elasticsearch 7 does
// and fails the test on anything else.
type fakeES struct {
	t   *testing.T
	mu  sync.Mutex
	seq []exchange
	srv *httptest.Server
}

func newFake(t *testing.T, seq ...exchange) *fakeES {
	f := &fakeES{t: t, seq: seq}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(func() {
		f.srv.Close()
		f.mu.Lock()
		defer f.mu.Unlock()
		assert.Empty(t, f.seq, "expected requests that never came")
	})
	return f
}

func (f *fakeES) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	if len(f.seq) == 0 {
		f.mu.Unlock()
		f.t.Errorf("unexpected request %s %s", r.Method, r.URL)
		http.Error(w, "unexpected", 500)
		return
	}
	x := f.seq[0]
	f.seq = f.seq[1:]
	f.mu.Unlock()
	assert.Equal(f.t, x.method+" "+x.path, r.Method+" "+r.URL.Path)
	if x.query != "-" {
		assert.Equal(f.t, x.query, r.URL.RawQuery, "query of %s", r.URL.Path)
	}
	if x.check != nil {
		x.check(f.t, body)
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(x.status)
	if x.answer != nil {
		io.WriteString(w, x.answer(f.t, body))
	}
}

func newStore(t *testing.T, url string, opt Options) *Store {
	s, err := New(url, opt)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

func createIndex(name string) exchange {
	return exchange{method: "PUT", path: "/" + name, query: "",
		check:  func(t *testing.T, body []byte) { assert.JSONEq(t, Mapping, string(body)) },
		status: 200,
		answer: func(*testing.T, []byte) string {
			return `{"acknowledged":true,"shards_acknowledged":true,"index":"` + name + `"}`
		}}
}

func alreadyExists(name string) exchange {
	return exchange{method: "PUT", path: "/" + name, query: "", status: 400, answer: func(*testing.T, []byte) string {
		return `{"error":{"root_cause":[{"type":"resource_already_exists_exception","reason":"index [` + name + `/Xy] already exists","index_uuid":"Xy","index":"` + name + `"}],"type":"resource_already_exists_exception","reason":"index [` + name + `/Xy] already exists","index_uuid":"Xy","index":"` + name + `"},"status":400}`
	}}
}

// bulkLine is one action+source pair of a bulk body.
type bulkLine struct {
	Action map[string]map[string]string
	Source map[string]any
}

func parseBulk(t *testing.T, body []byte) []bulkLine {
	t.Helper()
	var out []bulkLine
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var l bulkLine
		require.NoError(t, json.Unmarshal(sc.Bytes(), &l.Action), "action line %q", sc.Text())
		require.True(t, sc.Scan(), "action without source")
		require.NoError(t, json.Unmarshal(sc.Bytes(), &l.Source))
		out = append(out, l)
	}
	require.True(t, bytes.HasSuffix(body, []byte("\n")), "a bulk body ends with a newline")
	return out
}

// bulkAnswer answers every item with status (and error for failures).
func bulkAnswer(statuses ...int) func(t *testing.T, body []byte) string {
	return func(t *testing.T, body []byte) string {
		lines := parseBulk(t, body)
		var items []string
		errorsFlag := false
		for i, l := range lines {
			a := l.Action["index"]
			st := 201
			if i < len(statuses) {
				st = statuses[i]
			}
			switch {
			case st == 429:
				errorsFlag = true
				items = append(items, fmt.Sprintf(`{"index":{"_index":%q,"_type":"_doc","_id":%q,"status":429,"error":{"type":"es_rejected_execution_exception","reason":"rejected execution of coordinating operation"}}}`, a["_index"], a["_id"]))
			case st == 400:
				errorsFlag = true
				items = append(items, fmt.Sprintf(`{"index":{"_index":%q,"_type":"_doc","_id":%q,"status":400,"error":{"type":"mapper_parsing_exception","reason":"failed to parse","caused_by":{"type":"illegal_argument_exception","reason":"bad"}}}}`, a["_index"], a["_id"]))
			default:
				items = append(items, fmt.Sprintf(`{"index":{"_index":%q,"_type":"_doc","_id":%q,"_version":1,"result":"created","_shards":{"total":2,"successful":1,"failed":0},"_seq_no":%d,"_primary_term":1,"status":201}}`, a["_index"], a["_id"], i))
			}
		}
		return fmt.Sprintf(`{"took":3,"errors":%t,"items":[%s]}`, errorsFlag, strings.Join(items, ","))
	}
}

var day0 = time.Date(2024, 3, 1, 23, 59, 59, 0, time.UTC).UnixNano()

func TestWriteCreatesIndexOnceThenBulks(t *testing.T) {
	ev := docs.Document{Kind: docs.KindKeyEvent, Name: "deploy", Time: day0, Tags: map[string]string{"env": "prod"},
		Fields: map[string]any{"n": int64(3), "f": 2.0}, Content: "rolled out"}
	wantID := hex.EncodeToString(docs.DocID("wksp_1", docs.KindKeyEvent, &ev))
	checkBulk := func(t *testing.T, body []byte) {
		lines := parseBulk(t, body)
		require.Len(t, lines, 1)
		assert.Equal(t, map[string]map[string]string{"index": {"_index": "kodo-keyevent-wksp_1", "_id": wantID}}, lines[0].Action)
		src, _ := json.Marshal(lines[0].Source)
		assert.JSONEq(t, fmt.Sprintf(`{"id":%q,"ws":"wksp_1","kind":"keyevent","name":"deploy","class":"","source":"","time":%d,
			"kv":["__name=deploy","env=prod","f=2","n=3"],"tags":{"env":"prod"},"fields":{"f":2.0,"n":3},"content":"rolled out"}`, wantID, day0), sortKV(t, src))
		assert.Contains(t, string(body), `"fields":{"f":2.0,"n":3}`, "floats keep their point so they read back as floats")
	}
	f := newFake(t,
		createIndex("kodo-keyevent-wksp_1"),
		exchange{method: "POST", path: "/_bulk", query: "", check: checkBulk, status: 200, answer: bulkAnswer()},
		exchange{method: "POST", path: "/_bulk", query: "", check: checkBulk, status: 200, answer: bulkAnswer()},
	)
	s := newStore(t, f.srv.URL, Options{})
	ctx := context.Background()
	require.NoError(t, s.Write(ctx, "wksp_1", docs.KindKeyEvent, []docs.Document{ev}))
	require.NoError(t, s.Write(ctx, "wksp_1", docs.KindKeyEvent, []docs.Document{ev}), "the index is created once")
}

// sortKV re-encodes a source with its kv list sorted (map order is
// random on the writer's side).
func sortKV(t *testing.T, src []byte) string {
	var m map[string]any
	require.NoError(t, json.Unmarshal(src, &m))
	if kv, ok := m["kv"].([]any); ok {
		ss := make([]string, len(kv))
		for i, v := range kv {
			ss[i] = v.(string)
		}
		sortStrings(ss)
		m["kv"] = ss
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

func TestWriteDailyLogIndices(t *testing.T) {
	logs := []docs.Document{
		{Kind: docs.KindLogging, Name: "nginx", Source: "nginx", Time: day0, Content: "a"},
		{Kind: docs.KindLogging, Name: "nginx", Source: "nginx", Time: day0 + int64(2*time.Second), Content: "b"},
	}
	f := newFake(t,
		createIndex("kodo-logging-wksp_1-2024.03.01"),
		alreadyExists("kodo-logging-wksp_1-2024.03.02"),
		exchange{method: "POST", path: "/_bulk", query: "refresh=wait_for", status: 200, answer: bulkAnswer(), check: func(t *testing.T, body []byte) {
			lines := parseBulk(t, body)
			require.Len(t, lines, 2)
			assert.Equal(t, "kodo-logging-wksp_1-2024.03.01", lines[0].Action["index"]["_index"])
			assert.Equal(t, "kodo-logging-wksp_1-2024.03.02", lines[1].Action["index"]["_index"])
		}},
	)
	s := newStore(t, f.srv.URL, Options{Refresh: "wait_for"})
	require.NoError(t, s.Write(context.Background(), "wksp_1", docs.KindLogging, logs))
}

func TestWriteFailures(t *testing.T) {
	logs := []docs.Document{{Time: day0, Content: "a"}, {Time: day0 + 1, Content: "b"}}
	tests := []struct {
		name   string
		bulk   exchange
		target error
		bulkE  bool
	}{
		{"item rejected for load", exchange{method: "POST", path: "/_bulk", query: "", status: 200, answer: bulkAnswer(201, 429)}, docs.ErrUnavailable, true},
		{"item refused", exchange{method: "POST", path: "/_bulk", query: "", status: 200, answer: bulkAnswer(400, 201)}, docs.ErrInvalid, true},
		{"cluster 503", exchange{method: "POST", path: "/_bulk", query: "", status: 503, answer: func(*testing.T, []byte) string {
			return `{"error":{"root_cause":[],"type":"cluster_block_exception","reason":"blocked by: [SERVICE_UNAVAILABLE/1/state not recovered / initialized];"},"status":503}`
		}}, docs.ErrUnavailable, false},
		{"request 429", exchange{method: "POST", path: "/_bulk", query: "", status: 429, answer: func(*testing.T, []byte) string {
			return `{"error":{"type":"es_rejected_execution_exception","reason":"rejected"},"status":429}`
		}}, docs.ErrUnavailable, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t, createIndex("kodo-logging-wksp_1-2024.03.01"), tc.bulk)
			s := newStore(t, f.srv.URL, Options{})
			err := s.Write(context.Background(), "wksp_1", docs.KindLogging, logs)
			require.Error(t, err)
			assert.ErrorIs(t, err, tc.target)
			var be *BulkError
			assert.Equal(t, tc.bulkE, errorsAs(err, &be))
			if tc.bulkE {
				assert.Equal(t, 1, be.Failed)
				assert.Equal(t, 2, be.Items)
			}
		})
	}
}

func errorsAs(err error, target **BulkError) bool {
	e, ok := err.(*BulkError)
	if ok {
		*target = e
	}
	return ok
}

func TestWriteClusterDown(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	s := newStore(t, url, Options{HTTPClient: &http.Client{Timeout: 2 * time.Second}})
	err := s.Write(context.Background(), "wksp_1", docs.KindObject, []docs.Document{{Name: "h", Class: "host"}})
	assert.ErrorIs(t, err, docs.ErrUnavailable)
	_, err = s.Search(context.Background(), docs.SearchRequest{WorkspaceUUID: "wksp_1", Kind: docs.KindObject})
	assert.ErrorIs(t, err, docs.ErrUnavailable)
}

func TestWriteRejectsBadInput(t *testing.T) {
	s := newStore(t, "http://127.0.0.1:1", Options{}) // never contacted
	ctx := context.Background()
	assert.ErrorIs(t, s.Write(ctx, "WKSP/../x", docs.KindLogging, []docs.Document{{}}), docs.ErrInvalid)
	assert.ErrorIs(t, s.Write(ctx, "wksp_1", "metric", []docs.Document{{}}), docs.ErrInvalid)
	assert.ErrorIs(t, s.Write(ctx, "wksp_1", docs.KindLogging, []docs.Document{{Fields: map[string]any{"x": []int{1}}}}), docs.ErrInvalid)
	_, err := New("http://x", Options{IndexPrefix: "Bad*"})
	assert.Error(t, err)
}

func TestSearchRequestAndAnswer(t *testing.T) {
	req := docs.SearchRequest{WorkspaceUUID: "wksp_1", Kind: docs.KindLogging, Query: "Timeout, upstream!",
		Filters:   []docs.Filter{{Key: "host", Value: "web1"}, {Key: docs.KeySource, Value: "nginx"}},
		TimeRange: docs.TimeRange{Start: 1000, End: 2000}, Limit: 2, Offset: 4, Sort: docs.SortTimeAsc}
	golden := filepath.Join("testdata", "search-body.golden.json")
	f := newFake(t, exchange{method: "POST", path: "/kodo-logging-wksp_1-*/_search", query: "allow_no_indices=true&ignore_unavailable=true",
		check: func(t *testing.T, body []byte) {
			if *update {
				var v any
				require.NoError(t, json.Unmarshal(body, &v))
				b, _ := json.MarshalIndent(v, "", "  ")
				require.NoError(t, os.WriteFile(golden, append(b, '\n'), 0o644))
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err)
			assert.JSONEq(t, string(want), string(body))
		},
		status: 200, answer: func(*testing.T, []byte) string {
			return `{"took":2,"timed_out":false,"_shards":{"total":2,"successful":2,"skipped":0,"failed":0},
			"hits":{"total":{"value":7,"relation":"eq"},"max_score":null,"hits":[
			{"_index":"kodo-logging-wksp_1-2024.03.01","_type":"_doc","_id":"aa","_score":null,"sort":[1500,"aa"],
			 "_source":{"id":"aa","ws":"wksp_1","kind":"logging","name":"nginx","class":"","source":"nginx","time":1500,"kv":["host=web1"],
			            "tags":{"host":"web1"},"fields":{"status":500,"ratio":0.5,"ok":false},"content":"upstream timeout"}}]}}`
		}})
	s := newStore(t, f.srv.URL, Options{})
	res, err := s.Search(context.Background(), req)
	require.NoError(t, err)
	assert.Equal(t, docs.SearchResult{Total: 7, Docs: []docs.Document{{Kind: docs.KindLogging, Name: "nginx", Source: "nginx", Time: 1500,
		Tags: map[string]string{"host": "web1"}, Fields: map[string]any{"status": int64(500), "ratio": 0.5, "ok": false}, Content: "upstream timeout"}}}, res)
}

func TestSearchValidates(t *testing.T) {
	s := newStore(t, "http://127.0.0.1:1", Options{})
	_, err := s.Search(context.Background(), docs.SearchRequest{WorkspaceUUID: "wksp_1", Kind: docs.KindLogging, Limit: -5})
	assert.ErrorIs(t, err, docs.ErrInvalid)
}

// TestConformance runs the shared suite against a real cluster named by
// KODO_TEST_ELASTIC_URL, with a unique index prefix that it deletes after.
func TestConformance(t *testing.T) {
	url := os.Getenv("KODO_TEST_ELASTIC_URL")
	if url == "" {
		t.Skip("KODO_TEST_ELASTIC_URL is not set; set it to an Elasticsearch 7 URL to run the conformance suite against a real cluster")
	}
	prefix := fmt.Sprintf("kodotest-%d-", time.Now().UnixNano())
	docstest.Run(t, func(t *testing.T) docs.Store {
		s, err := New(url, Options{IndexPrefix: prefix, Refresh: "wait_for"})
		require.NoError(t, err)
		return s
	})
	t.Cleanup(func() {
		s, err := New(url, Options{IndexPrefix: prefix})
		require.NoError(t, err)
		defer s.Close()
		_, err = s.c.DeleteIndex(prefix + "*").Do(context.Background())
		assert.NoError(t, err)
	})
}

// TestMappingSplitsLikeWords: the analyzer of the content field (its
// character filter, then its tokenizer, both Java regexps, translated here
// to Go's syntax) splits text into exactly the words docs.Words gives the
// embedded store, Chinese and Japanese included, so both stores find the
// same documents.
func TestMappingSplitsLikeWords(t *testing.T) {
	var m struct {
		Settings struct {
			Analysis struct {
				CharFilter map[string]struct{ Pattern, Replacement string } `json:"char_filter"`
				Tokenizer  map[string]struct{ Pattern string }              `json:"tokenizer"`
			} `json:"analysis"`
		} `json:"settings"`
	}
	require.NoError(t, json.Unmarshal([]byte(Mapping), &m))
	java := strings.NewReplacer(`\p{Is`, `\p{`, `\u`, `\x{`)
	goRE := func(p string) *regexp.Regexp {
		p = java.Replace(p)
		p = regexp.MustCompile(`\\x\{([0-9A-Fa-f]{4})`).ReplaceAllString(p, `\x{$1}`)
		return regexp.MustCompile(p)
	}
	cf := m.Settings.Analysis.CharFilter["kodo_cjk"]
	marks := goRE(cf.Pattern)
	split := goRE(m.Settings.Analysis.Tokenizer["kodo_words"].Pattern)
	for _, text := range []string{
		"数据库连接失败，请检查配置", "MySQL连接超时 after 30s", "サーバーが停止しましたv2",
		"ログのエラー: disk full", "한국어 로그 index.html", "User ALICE logged_in", "Ärger über Öl",
	} {
		var got []string
		for _, tok := range split.Split(marks.ReplaceAllString(text, strings.ReplaceAll(cf.Replacement, "$1", "${1}")), -1) {
			if tok != "" {
				got = append(got, strings.ToLower(tok))
			}
		}
		assert.Equal(t, docs.Words(text), got, text)
	}
}

// TestDeleteWorkspaceRequests: a workspace's indices are deleted by name
// (and by pattern for the daily log indices); a missing index is fine, a
// cluster that cannot answer is unavailable.
func TestDeleteWorkspaceRequests(t *testing.T) {
	notFound := func(*testing.T, []byte) string {
		return `{"error":{"type":"index_not_found_exception","reason":"no such index"},"status":404}`
	}
	ok := func(*testing.T, []byte) string { return `{"acknowledged":true}` }
	f := newFake(t,
		exchange{method: "DELETE", path: "/kodo-object-wksp_1", query: "-", status: 200, answer: ok},
		exchange{method: "DELETE", path: "/kodo-keyevent-wksp_1", query: "-", status: 404, answer: notFound},
		exchange{method: "DELETE", path: "/kodo-logging-wksp_1-*", query: "-", status: 200, answer: ok},
		exchange{method: "DELETE", path: "/kodo-object-wksp_2", query: "-", status: 503, answer: func(*testing.T, []byte) string {
			return `{"error":{"type":"cluster_block_exception","reason":"blocked"},"status":503}`
		}},
	)
	s := newStore(t, f.srv.URL, Options{})
	require.NoError(t, s.DeleteWorkspace(context.Background(), "wksp_1"))
	assert.ErrorIs(t, s.DeleteWorkspace(context.Background(), "wksp_2"), docs.ErrUnavailable)
}
