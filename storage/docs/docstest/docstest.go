package docstest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kodo-project/kodo/internal/conformance"
	"github.com/kodo-project/kodo/storage/docs"
)

// NewStore returns a store for one subtest; the suite closes it.
type NewStore func(t *testing.T) docs.Store

// base is an arbitrary fixed instant, so the data does not depend on the
// clock and daily log indices are predictable.
var base = time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC).UnixNano()

func wsUUID(t *testing.T) string {
	var b [16]byte
	_, err := rand.Read(b[:])
	require.NoError(t, err)
	return "wksp_" + hex.EncodeToString(b[:])
}

// Run runs the suite against stores made by newStore.
func Run(t *testing.T, newStore NewStore) {
	conformance.Run(t, func(t *testing.T) docs.Store {
		s := newStore(t)
		t.Cleanup(func() { assert.NoError(t, s.Close()) })
		return s
	}, []conformance.Case[docs.Store]{
		{Name: "RoundTrip", Test: testRoundTrip},
		{Name: "Isolation", Test: testIsolation},
		{Name: "TimeRangeSortPaging", Test: testTimeRangeSortPaging},
		{Name: "Filters", Test: testFilters},
		{Name: "FullText", Test: testFullText},
		{Name: "FullTextCJK", Test: testFullTextCJK},
		{Name: "DeleteWorkspace", Test: testDeleteWorkspace},
		{Name: "IdempotentRetry", Test: testIdempotentRetry},
		{Name: "ObjectReplace", Test: testObjectReplace},
		{Name: "Validation", Test: testValidation},
		{Name: "DailyBoundary", Test: testDailyBoundary},
	})
}

func logDoc(i int, content string) docs.Document {
	return docs.Document{
		Kind: docs.KindLogging, Name: "nginx", Source: "nginx",
		Time:    base + int64(i)*int64(time.Second),
		Tags:    map[string]string{"host": fmt.Sprintf("web%d", i%3), "level": []string{"info", "warn", "error"}[i%3]},
		Fields:  map[string]any{"status": int64(200 + i%2*300), "latency": float64(i) + 0.5, "cached": i%2 == 0, "path": fmt.Sprintf("/p/%d", i)},
		Content: content,
	}
}

// normalize makes empty and nil maps compare equal.
func normalize(ds []docs.Document) []docs.Document {
	out := make([]docs.Document, len(ds))
	for i, d := range ds {
		if len(d.Tags) == 0 {
			d.Tags = nil
		}
		if len(d.Fields) == 0 {
			d.Fields = nil
		}
		out[i] = d
	}
	return out
}

func search(t *testing.T, s docs.Store, req docs.SearchRequest) docs.SearchResult {
	t.Helper()
	res, err := s.Search(context.Background(), req)
	require.NoError(t, err)
	return res
}

func contents(r docs.SearchResult) []string {
	out := make([]string, len(r.Docs))
	for i, d := range r.Docs {
		out[i] = d.Content
	}
	return out
}

func testRoundTrip(t *testing.T, s docs.Store) {
	ctx := context.Background()
	ws := wsUUID(t)
	in := []docs.Document{
		{Kind: docs.KindKeyEvent, Name: "deploy", Time: base, Tags: map[string]string{"env": "prod", "ключ": "значение 值"},
			Fields:  map[string]any{"i": int64(-7), "big": int64(1) << 62, "f": 2.0, "g": 1e-300, "b": false, "s": "a \"quoted\"\nline", "u": uint64(1) << 63},
			Content: "release 1.2 rolled out"},
		{Kind: docs.KindKeyEvent, Name: "empty", Time: base + 1},
	}
	require.NoError(t, s.Write(ctx, ws, docs.KindKeyEvent, in))
	res := search(t, s, docs.SearchRequest{WorkspaceUUID: ws, Kind: docs.KindKeyEvent, Sort: docs.SortTimeAsc})
	assert.EqualValues(t, 2, res.Total)
	assert.Equal(t, normalize(in), normalize(res.Docs))
}

func testIsolation(t *testing.T, s docs.Store) {
	ctx := context.Background()
	a, b := wsUUID(t), wsUUID(t)
	require.NoError(t, s.Write(ctx, a, docs.KindLogging, []docs.Document{logDoc(0, "in a")}))
	require.NoError(t, s.Write(ctx, b, docs.KindLogging, []docs.Document{logDoc(1, "in b"), logDoc(2, "also b")}))
	ev := docs.Document{Kind: docs.KindKeyEvent, Name: "e", Time: base, Content: "event in a"}
	require.NoError(t, s.Write(ctx, a, docs.KindKeyEvent, []docs.Document{ev}))

	assert.Equal(t, []string{"in a"}, contents(search(t, s, docs.SearchRequest{WorkspaceUUID: a, Kind: docs.KindLogging})))
	assert.Equal(t, []string{"also b", "in b"}, contents(search(t, s, docs.SearchRequest{WorkspaceUUID: b, Kind: docs.KindLogging})))
	assert.Equal(t, []string{"event in a"}, contents(search(t, s, docs.SearchRequest{WorkspaceUUID: a, Kind: docs.KindKeyEvent})))
	res := search(t, s, docs.SearchRequest{WorkspaceUUID: b, Kind: docs.KindObject})
	assert.Zero(t, res.Total)
	assert.Empty(t, res.Docs)
	res = search(t, s, docs.SearchRequest{WorkspaceUUID: wsUUID(t), Kind: docs.KindLogging, Query: "in"})
	assert.Zero(t, res.Total, "an unknown workspace has no documents")
}

// writeLines writes log lines "line 0" .. "line n-1" as writeLogs does.
func writeLines(t *testing.T, s docs.Store, n int, edit func([]docs.Document)) (ws string) {
	lines := make([]string, n)
	for i := range lines {
		lines[i] = fmt.Sprintf("line %d", i)
	}
	return writeLogs(t, s, lines, edit)
}

// writeLogs writes logs of the given contents, one a second from base,
// after edit (if any) changed them, into a new workspace.
func writeLogs(t *testing.T, s docs.Store, contents []string, edit func([]docs.Document)) (ws string) {
	ws = wsUUID(t)
	in := make([]docs.Document, len(contents))
	for i, c := range contents {
		in[i] = logDoc(i, c)
	}
	if edit != nil {
		edit(in)
	}
	require.NoError(t, s.Write(context.Background(), ws, docs.KindLogging, in))
	return ws
}

func testTimeRangeSortPaging(t *testing.T, s docs.Store) {
	ws := writeLines(t, s, 10, nil)
	sec := int64(time.Second)
	tests := []struct {
		name  string
		req   docs.SearchRequest
		total int64
		want  []string
	}{
		{"all newest first", docs.SearchRequest{}, 10, []string{"line 9", "line 8", "line 7", "line 6", "line 5", "line 4", "line 3", "line 2", "line 1", "line 0"}},
		{"range half open", docs.SearchRequest{TimeRange: docs.TimeRange{Start: base + 2*sec, End: base + 5*sec}}, 3, []string{"line 4", "line 3", "line 2"}},
		{"open start", docs.SearchRequest{TimeRange: docs.TimeRange{End: base + 2*sec}, Sort: docs.SortTimeAsc}, 2, []string{"line 0", "line 1"}},
		{"open end", docs.SearchRequest{TimeRange: docs.TimeRange{Start: base + 8*sec}}, 2, []string{"line 9", "line 8"}},
		{"page asc", docs.SearchRequest{Sort: docs.SortTimeAsc, Limit: 3, Offset: 3}, 10, []string{"line 3", "line 4", "line 5"}},
		{"page desc", docs.SearchRequest{Limit: 4, Offset: 8}, 10, []string{"line 1", "line 0"}},
		{"past the end", docs.SearchRequest{Offset: 20}, 10, []string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.req.WorkspaceUUID, tc.req.Kind = ws, docs.KindLogging
			res := search(t, s, tc.req)
			assert.Equal(t, tc.total, res.Total)
			assert.Equal(t, tc.want, contents(res))
		})
	}
}

func testFilters(t *testing.T, s docs.Store) {
	ws := writeLines(t, s, 6, func(in []docs.Document) { in[5].Source, in[5].Name = "redis", "redis" })
	tests := []struct {
		name    string
		filters []docs.Filter
		want    []string
	}{
		{"tag", []docs.Filter{{Key: "host", Value: "web1"}}, []string{"line 4", "line 1"}},
		{"two tags", []docs.Filter{{Key: "host", Value: "web1"}, {Key: "level", Value: "warn"}}, []string{"line 4", "line 1"}},
		{"conflicting tags", []docs.Filter{{Key: "host", Value: "web1"}, {Key: "level", Value: "info"}}, []string{}},
		{"int field", []docs.Filter{{Key: "status", Value: "500"}}, []string{"line 5", "line 3", "line 1"}},
		{"float field", []docs.Filter{{Key: "latency", Value: "2.5"}}, []string{"line 2"}},
		{"bool field", []docs.Filter{{Key: "cached", Value: "true"}}, []string{"line 4", "line 2", "line 0"}},
		{"string field", []docs.Filter{{Key: "path", Value: "/p/3"}}, []string{"line 3"}},
		{"source", []docs.Filter{{Key: docs.KeySource, Value: "redis"}}, []string{"line 5"}},
		{"name", []docs.Filter{{Key: docs.KeyName, Value: "nginx"}, {Key: "host", Value: "web2"}}, []string{"line 2"}},
		{"no prefix match", []docs.Filter{{Key: "host", Value: "web"}}, []string{}},
		{"unknown key", []docs.Filter{{Key: "nope", Value: "x"}}, []string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := search(t, s, docs.SearchRequest{WorkspaceUUID: ws, Kind: docs.KindLogging, Filters: tc.filters})
			assert.Equal(t, tc.want, contents(res))
			assert.EqualValues(t, len(tc.want), res.Total)
		})
	}
}

func testFullText(t *testing.T, s docs.Store) {
	ws := checkSearches(t, s, []string{
		"GET /index.html 200 served from cache",
		"POST /login failed: invalid password for user alice",
		"connection reset by peer while reading response",
		"User ALICE logged in",
	}, func(lines []string) []searchCase {
		return []searchCase{
			{"alice", []string{lines[3], lines[1]}},
			{"Alice password", []string{lines[1]}},
			{"reset peer", []string{lines[2]}},
			{"index.html", []string{lines[0]}},
			{"missing", []string{}},
			{"  ", []string{lines[3], lines[2], lines[1], lines[0]}},
		}
	})
	res := search(t, s, docs.SearchRequest{WorkspaceUUID: ws, Kind: docs.KindLogging, Query: "alice",
		Filters: []docs.Filter{{Key: "level", Value: "warn"}}, TimeRange: docs.TimeRange{Start: base}})
	assert.Equal(t, []string{"POST /login failed: invalid password for user alice"}, contents(res), "query, filter and time range combine")
}

// searchCase is a full-text query and the contents it must find, newest
// first.
type searchCase struct {
	query string
	want  []string
}

// checkSearches writes lines as logs of a new workspace and runs each case.
func checkSearches(t *testing.T, s docs.Store, lines []string, cases func(lines []string) []searchCase) string {
	ws := writeLogs(t, s, lines, nil)
	for _, tc := range cases(lines) {
		t.Run(tc.query, func(t *testing.T) {
			res := search(t, s, docs.SearchRequest{WorkspaceUUID: ws, Kind: docs.KindLogging, Query: tc.query})
			assert.Equal(t, tc.want, contents(res))
			assert.EqualValues(t, len(tc.want), res.Total)
		})
	}
	return ws
}

// testFullTextCJK: Chinese and Japanese are written without spaces, and
// Elasticsearch's standard analyzer makes a word of each ideograph and
// hiragana (katakana runs stay whole), so a part of a sentence finds it.
// Both stores must find the same documents.
func testFullTextCJK(t *testing.T, s docs.Store) {
	checkSearches(t, s, []string{
		"数据库连接失败，请检查配置",
		"MySQL连接超时 after 30s",
		"サーバーが停止しました",
		"ログのエラー: disk full",
		"配置已更新",
	}, func(lines []string) []searchCase {
		return []searchCase{
			{"数据库连接失败，请检查配置", []string{lines[0]}},
			{"连接", []string{lines[1], lines[0]}},
			{"数据库", []string{lines[0]}},
			{"连接失败", []string{lines[0]}},
			{"配置", []string{lines[4], lines[0]}},
			{"mysql 超时", []string{lines[1]}},
			{"MySQL连接", []string{lines[1]}},
			{"サーバー", []string{lines[2]}},
			{"停止", []string{lines[2]}},
			{"エラー disk", []string{lines[3]}},
			{"サーバ", []string{}}, // a katakana run is one word, as in Elasticsearch
			{"连接成功", []string{}},
		}
	})
}

func testIdempotentRetry(t *testing.T, s docs.Store) {
	ctx := context.Background()
	ws := wsUUID(t)
	in := []docs.Document{logDoc(0, "a"), logDoc(1, "b")}
	require.NoError(t, s.Write(ctx, ws, docs.KindLogging, in))
	require.NoError(t, s.Write(ctx, ws, docs.KindLogging, append(in, logDoc(2, "c"))))
	res := search(t, s, docs.SearchRequest{WorkspaceUUID: ws, Kind: docs.KindLogging})
	assert.Equal(t, []string{"c", "b", "a"}, contents(res))
	assert.EqualValues(t, 3, res.Total)
}

func testObjectReplace(t *testing.T, s docs.Store) {
	ctx := context.Background()
	ws := wsUUID(t)
	obj := func(class, name, content string, i int) docs.Document {
		return docs.Document{Kind: docs.KindObject, Class: class, Name: name, Time: base + int64(i),
			Tags: map[string]string{"__class": class, "zone": "z1"}, Content: content}
	}
	require.NoError(t, s.Write(ctx, ws, docs.KindObject, []docs.Document{obj("host", "h1", "v1", 0), obj("host", "h2", "v1", 1), obj("db", "h1", "v1", 2)}))
	require.NoError(t, s.Write(ctx, ws, docs.KindObject, []docs.Document{obj("host", "h1", "v2 updated", 3)}))
	res := search(t, s, docs.SearchRequest{WorkspaceUUID: ws, Kind: docs.KindObject, Filters: []docs.Filter{{Key: docs.KeyClass, Value: "host"}}})
	assert.EqualValues(t, 2, res.Total)
	assert.Equal(t, []string{"v2 updated", "v1"}, contents(res))
	res = search(t, s, docs.SearchRequest{WorkspaceUUID: ws, Kind: docs.KindObject, Query: "v1"})
	assert.EqualValues(t, 2, res.Total, "the replaced object's old content is no longer found")
	res = search(t, s, docs.SearchRequest{WorkspaceUUID: ws, Kind: docs.KindObject, Filters: []docs.Filter{{Key: docs.KeyName, Value: "h1"}}, Sort: docs.SortTimeAsc})
	assert.Equal(t, []string{"v1", "v2 updated"}, contents(res))
}

func testValidation(t *testing.T, s docs.Store) {
	ctx := context.Background()
	ws := wsUUID(t)
	bad := []docs.SearchRequest{
		{Kind: docs.KindLogging},
		{WorkspaceUUID: ws, Kind: "metric"},
		{WorkspaceUUID: ws, Kind: docs.KindLogging, Limit: -1},
		{WorkspaceUUID: ws, Kind: docs.KindLogging, Limit: docs.MaxLimit + 1},
		{WorkspaceUUID: ws, Kind: docs.KindLogging, Offset: docs.MaxWindow},
		{WorkspaceUUID: ws, Kind: docs.KindLogging, Sort: "name"},
		{WorkspaceUUID: ws, Kind: docs.KindLogging, TimeRange: docs.TimeRange{Start: 10, End: 5}},
		{WorkspaceUUID: ws, Kind: docs.KindLogging, Filters: []docs.Filter{{Value: "x"}}},
	}
	for i, req := range bad {
		_, err := s.Search(ctx, req)
		assert.ErrorIs(t, err, docs.ErrInvalid, "request %d", i)
	}
	err := s.Write(ctx, ws, "metric", []docs.Document{logDoc(0, "x")})
	assert.ErrorIs(t, err, docs.ErrInvalid)
	err = s.Write(ctx, "", docs.KindLogging, []docs.Document{logDoc(0, "x")})
	assert.ErrorIs(t, err, docs.ErrInvalid)
	d := logDoc(0, "x")
	d.Fields["nested"] = map[string]any{"a": 1}
	err = s.Write(ctx, ws, docs.KindLogging, []docs.Document{logDoc(1, "ok"), d})
	assert.ErrorIs(t, err, docs.ErrInvalid)
	res := search(t, s, docs.SearchRequest{WorkspaceUUID: ws, Kind: docs.KindLogging})
	assert.Zero(t, res.Total, "a rejected batch stores nothing")
	require.NoError(t, s.Write(ctx, ws, docs.KindLogging, nil), "an empty batch is a no-op")
}

// testDailyBoundary spreads logs over several UTC days (Elasticsearch
// keeps one index per day) and searches across them.
func testDailyBoundary(t *testing.T, s docs.Store) {
	ctx := context.Background()
	ws := wsUUID(t)
	day := int64(24 * time.Hour)
	var in []docs.Document
	for i := range 4 {
		d := logDoc(i, fmt.Sprintf("day %d", i))
		d.Time = base + int64(i)*day
		in = append(in, d)
	}
	require.NoError(t, s.Write(ctx, ws, docs.KindLogging, in))
	res := search(t, s, docs.SearchRequest{WorkspaceUUID: ws, Kind: docs.KindLogging, Sort: docs.SortTimeAsc,
		TimeRange: docs.TimeRange{Start: base + day, End: base + 3*day + 1}})
	assert.Equal(t, []string{"day 1", "day 2", "day 3"}, contents(res))
	assert.EqualValues(t, 3, res.Total)
}

// testDeleteWorkspace: a deleted workspace has no document left, of any
// kind; another workspace keeps its own; deleting again is not an error.
func testDeleteWorkspace(t *testing.T, s docs.Store) {
	ctx := context.Background()
	gone, kept := wsUUID(t), wsUUID(t)+"_kept"
	for _, ws := range []string{gone, kept} {
		require.NoError(t, s.Write(ctx, ws, docs.KindLogging, []docs.Document{logDoc(0, "a log line"), logDoc(1, "another")}))
		require.NoError(t, s.Write(ctx, ws, docs.KindKeyEvent, []docs.Document{{Kind: docs.KindKeyEvent, Name: "deploy", Time: base, Content: "rolled out"}}))
	}
	require.NoError(t, s.DeleteWorkspace(ctx, gone))
	for _, kind := range []docs.Kind{docs.KindLogging, docs.KindKeyEvent} {
		assert.EqualValues(t, 0, search(t, s, docs.SearchRequest{WorkspaceUUID: gone, Kind: kind}).Total, kind)
	}
	assert.EqualValues(t, 2, search(t, s, docs.SearchRequest{WorkspaceUUID: kept, Kind: docs.KindLogging}).Total)
	assert.EqualValues(t, 1, search(t, s, docs.SearchRequest{WorkspaceUUID: kept, Kind: docs.KindKeyEvent}).Total)
	require.NoError(t, s.DeleteWorkspace(ctx, gone), "deleting nothing is not an error")
	assert.ErrorIs(t, s.DeleteWorkspace(ctx, ""), docs.ErrInvalid)
}
