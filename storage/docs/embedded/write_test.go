package embedded

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kodo-project/kodo/storage/docs"
)

func openTest(t *testing.T, dir string) *Store {
	t.Helper()
	s, err := Open(dir, Options{})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

func count(t *testing.T, s *Store, req docs.SearchRequest) int64 {
	t.Helper()
	res, err := s.Search(context.Background(), req)
	require.NoError(t, err)
	return res.Total
}

// TestConcurrentWrites runs many writers at once, so the committer groups
// their batches; every acknowledged document must be stored once and be
// found by full text and filters.
func TestConcurrentWrites(t *testing.T) {
	s := openTest(t, t.TempDir())
	const writers, batches, per = 8, 10, 60
	var wg sync.WaitGroup
	errs := make(chan error, writers*batches*2)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range batches {
				lines, _ := benchLines(per, w*batches+b)
				errs <- s.Write(context.Background(), "wksp_c", docs.KindLogging, lines)
				// Writer 0 also retries the batch of writer 1: duplicates
				// across concurrent requests are stored once.
				if w == 0 {
					dup, _ := benchLines(per, batches+b)
					errs <- s.Write(context.Background(), "wksp_c", docs.KindLogging, dup)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	req := docs.SearchRequest{WorkspaceUUID: "wksp_c", Kind: docs.KindLogging}
	assert.EqualValues(t, writers*batches*per, count(t, s, req))
	all, _ := benchLines(writers*batches*per, 0) // the same lines, in one slice
	var upstream, web07 int64
	for i := range all {
		if slices.Contains(docs.Words(all[i].Content), "upstream") {
			upstream++
		}
		if all[i].Tags["host"] == "web07" {
			web07++
		}
	}
	require.NotZero(t, upstream)
	req.Query = "UPSTREAM"
	assert.Equal(t, upstream, count(t, s, req))
	req.Query, req.Filters = "", []docs.Filter{{Key: "host", Value: "web07"}}
	assert.Equal(t, web07, count(t, s, req))
}

// TestGroupObjectReplace commits one group by hand (deterministically,
// without racing the committer for it): a later object request in the
// group replaces an object written earlier in the same transaction, and
// the replaced version leaves no index entry behind.
func TestGroupObjectReplace(t *testing.T) {
	s := openTest(t, t.TempDir())
	ctx := context.Background()
	obj := func(content string, i int) docs.Document {
		return docs.Document{Kind: docs.KindObject, Class: "host", Name: "h1", Time: int64(i), Content: content,
			Tags: map[string]string{"zone": fmt.Sprintf("z%d", i)}}
	}
	req := func(kind docs.Kind, ds ...docs.Document) *request {
		r, err := newRequest(ctx, "ws", kind, ds)
		require.NoError(t, err)
		r.encodeRest()
		return r
	}
	require.NoError(t, s.Write(ctx, "ws", docs.KindObject, []docs.Document{obj("stored version", 0)}))
	logs, _ := benchLines(3, 0)
	group := []*request{
		req(docs.KindObject, obj("first version", 1)),
		req(docs.KindLogging, logs...),
		req(docs.KindObject, obj("second version", 2)),
		req(docs.KindLogging, logs...), // a retry inside the group
	}
	require.NoError(t, s.commit(group))

	res, err := s.Search(ctx, docs.SearchRequest{WorkspaceUUID: "ws", Kind: docs.KindObject})
	require.NoError(t, err)
	require.Len(t, res.Docs, 1)
	assert.Equal(t, "second version", res.Docs[0].Content)
	for _, q := range []string{"first", "stored", "version"} {
		want := int64(0)
		if q == "version" {
			want = 1
		}
		assert.Equal(t, want, count(t, s, docs.SearchRequest{WorkspaceUUID: "ws", Kind: docs.KindObject, Query: q}), q)
	}
	assert.EqualValues(t, 1, count(t, s, docs.SearchRequest{WorkspaceUUID: "ws", Kind: docs.KindObject,
		Filters: []docs.Filter{{Key: "zone", Value: "z2"}}}))
	assert.EqualValues(t, 3, count(t, s, docs.SearchRequest{WorkspaceUUID: "ws", Kind: docs.KindLogging}))

	// The index has exactly one entry per stored document: the replaced
	// versions were deleted from it, the duplicate never added.
	var indexed, stored int64
	require.NoError(t, s.rdb.QueryRow(`SELECT count(*) FROM docs_fts`).Scan(&indexed))
	require.NoError(t, s.rdb.QueryRow(`SELECT count(*) FROM docs`).Scan(&stored))
	assert.Equal(t, stored, indexed)
}

func TestWriteCanceledAndClosed(t *testing.T) {
	s, err := Open(t.TempDir(), Options{})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	lines, _ := benchLines(5, 0)
	err = s.Write(ctx, "ws", docs.KindLogging, lines)
	assert.ErrorIs(t, err, docs.ErrUnavailable)
	assert.ErrorIs(t, err, context.Canceled)

	require.NoError(t, s.Close())
	require.NoError(t, s.Close(), "Close is idempotent")
	err = s.Write(context.Background(), "ws", docs.KindLogging, lines)
	assert.ErrorIs(t, err, docs.ErrUnavailable)
	assert.True(t, errors.Is(err, errClosed))
}

func TestReopen(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	a, _ := benchLines(100, 0)
	b, _ := benchLines(100, 1)
	s, err := Open(dir, Options{})
	require.NoError(t, err)
	require.NoError(t, s.Write(ctx, "ws", docs.KindLogging, a))
	require.NoError(t, s.Close())

	s = openTest(t, dir)
	require.NoError(t, s.Write(ctx, "ws", docs.KindLogging, append(a[50:], b...)), "ids continue after the stored ones")
	assert.EqualValues(t, 200, count(t, s, docs.SearchRequest{WorkspaceUUID: "ws", Kind: docs.KindLogging}))
	assert.EqualValues(t, 200, count(t, s, docs.SearchRequest{WorkspaceUUID: "ws", Kind: docs.KindLogging,
		Filters: []docs.Filter{{Key: docs.KeyName, Value: "nginx"}}}))
}

// schemaV1 is the layout before schema version 2 (user_version 0).
const schemaV1 = `
CREATE TABLE docs (
	id INTEGER PRIMARY KEY, docid BLOB NOT NULL UNIQUE, ws TEXT NOT NULL, kind TEXT NOT NULL,
	time INTEGER NOT NULL, name TEXT NOT NULL, class TEXT NOT NULL, source TEXT NOT NULL,
	tags TEXT NOT NULL, fields TEXT NOT NULL, content TEXT NOT NULL);
CREATE INDEX docs_ws_kind_time ON docs(ws, kind, time);
CREATE VIRTUAL TABLE docs_fts USING fts5(content, kv, content='', contentless_delete=1,
	tokenize='unicode61 remove_diacritics 0');
CREATE TRIGGER docs_ad AFTER DELETE ON docs BEGIN DELETE FROM docs_fts WHERE rowid = old.id; END;
INSERT INTO docs_fts(rowid, content, kv) VALUES (1, 'Upstream timeout', 'k0'), (2, 'host h1', 'k1');
`

func TestMigrateFromV1(t *testing.T) {
	dir := t.TempDir()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, FileName))
	require.NoError(t, err)
	_, err = db.Exec(schemaV1)
	require.NoError(t, err)
	logLine := docs.Document{Name: "nginx", Source: "nginx", Time: 10, Tags: map[string]string{"host": "web1"},
		Fields: map[string]any{"status": int64(500)}, Content: "Upstream timeout"}
	object := docs.Document{Name: "h1", Class: "host", Time: 20, Fields: map[string]any{"up": true}, Content: "host h1"}
	const insert = `INSERT INTO docs VALUES (?, ?, 'ws', ?, ?, ?, ?, ?, ?, ?, ?)`
	_, err = db.Exec(insert, 1, docs.DocID("ws", docs.KindLogging, &logLine), "logging", 10, "nginx", "", "nginx", `{"host":"web1"}`, `{"status":500}`, logLine.Content)
	require.NoError(t, err)
	_, err = db.Exec(insert, 2, docs.DocID("ws", docs.KindObject, &object), "object", 20, "h1", "host", "", `{}`, `{"up":true}`, object.Content)
	require.NoError(t, err)
	require.NoError(t, db.Close())

	s := openTest(t, dir)
	tests := []struct {
		req  docs.SearchRequest
		want int64
	}{
		{docs.SearchRequest{Kind: docs.KindLogging, Query: "timeout"}, 1},
		{docs.SearchRequest{Kind: docs.KindLogging, Filters: []docs.Filter{{Key: "host", Value: "web1"}, {Key: "status", Value: "500"}}}, 1},
		{docs.SearchRequest{Kind: docs.KindLogging, Filters: []docs.Filter{{Key: docs.KeySource, Value: "nginx"}}}, 1},
		{docs.SearchRequest{Kind: docs.KindObject, Query: "h1", Filters: []docs.Filter{{Key: "up", Value: "true"}}}, 1},
		{docs.SearchRequest{Kind: docs.KindObject, Filters: []docs.Filter{{Key: docs.KeyClass, Value: "host"}}}, 1},
	}
	for i, tc := range tests {
		tc.req.WorkspaceUUID = "ws"
		assert.Equal(t, tc.want, count(t, s, tc.req), "search %d", i)
	}
	// Replacing the migrated object removes its migrated index entry.
	require.NoError(t, s.Write(context.Background(), "ws", docs.KindObject, []docs.Document{{Class: "host", Name: "h1", Time: 30, Content: "new"}}))
	var v, indexed int64
	require.NoError(t, s.rdb.QueryRow(`PRAGMA user_version`).Scan(&v))
	assert.EqualValues(t, schemaVersion, v)
	require.NoError(t, s.rdb.QueryRow(`SELECT count(*) FROM docs_fts`).Scan(&indexed))
	assert.EqualValues(t, 2, indexed)
}

func TestOpenNewerSchema(t *testing.T) {
	dir := t.TempDir()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, FileName))
	require.NoError(t, err)
	_, err = db.Exec(fmt.Sprintf("PRAGMA user_version = %d", schemaVersion+1))
	require.NoError(t, err)
	require.NoError(t, db.Close())
	_, err = Open(dir, Options{})
	require.ErrorContains(t, err, "newer")
}

func TestObjectsLastInBatchWins(t *testing.T) {
	s := openTest(t, t.TempDir())
	ctx := context.Background()
	obj := func(name, content string) docs.Document {
		return docs.Document{Class: "host", Name: name, Time: 1, Content: content}
	}
	require.NoError(t, s.Write(ctx, "ws", docs.KindObject, []docs.Document{obj("h1", "old one"), obj("h2", "other"), obj("h1", "new one")}))
	res, err := s.Search(ctx, docs.SearchRequest{WorkspaceUUID: "ws", Kind: docs.KindObject, Sort: docs.SortTimeAsc})
	require.NoError(t, err)
	var got []string
	for _, d := range res.Docs {
		got = append(got, d.Name+": "+d.Content)
	}
	assert.ElementsMatch(t, []string{"h1: new one", "h2: other"}, got)
	assert.Zero(t, count(t, s, docs.SearchRequest{WorkspaceUUID: "ws", Kind: docs.KindObject, Query: "old"}))
}

// TestLargeBatchPipelined writes batches larger than encodeChunk, so the
// committer inserts chunks while later ones are still being encoded; a
// bad document at the end still rejects the whole batch.
func TestLargeBatchPipelined(t *testing.T) {
	s := openTest(t, t.TempDir())
	ctx := context.Background()
	lines, _ := benchLines(3*encodeChunk+7, 0)
	require.NoError(t, s.Write(ctx, "ws", docs.KindLogging, lines))
	assert.EqualValues(t, len(lines), count(t, s, docs.SearchRequest{WorkspaceUUID: "ws", Kind: docs.KindLogging}))
	last := lines[len(lines)-1]
	assert.EqualValues(t, 1, count(t, s, docs.SearchRequest{WorkspaceUUID: "ws", Kind: docs.KindLogging,
		Query: last.Content, Filters: []docs.Filter{{Key: "host", Value: last.Tags["host"]}}}))

	more, _ := benchLines(3*encodeChunk, 1)
	more[len(more)-1].Fields = map[string]any{"bad": []string{"not", "scalar"}}
	err := s.Write(ctx, "ws", docs.KindLogging, more)
	require.ErrorIs(t, err, docs.ErrInvalid)
	assert.ErrorContains(t, err, fmt.Sprintf("document %d", len(more)-1))
	assert.EqualValues(t, len(lines), count(t, s, docs.SearchRequest{WorkspaceUUID: "ws", Kind: docs.KindLogging}))
}

// TestDurabilityPragmas pins what "a Write that returned is on disk"
// rests on: the writer connection runs WAL with synchronous=FULL (2),
// which fsyncs the WAL at every commit.
func TestDurabilityPragmas(t *testing.T) {
	s := openTest(t, t.TempDir())
	ctx := context.Background()
	var mode string
	var sync int
	require.NoError(t, s.wconn.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode))
	require.NoError(t, s.wconn.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&sync))
	assert.Equal(t, "wal", mode)
	assert.Equal(t, 2, sync, "synchronous=FULL")
}
