package embedded

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/kodo-project/kodo/storage/docs"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Options configure Open.
type Options struct {
	Logger *slog.Logger // nil discards
}

// FileName is the database file Open creates inside its directory.
const FileName = "docs.db"

// Store is the embedded docs.Store. It is safe for concurrent use.
type Store struct {
	log   *slog.Logger
	path  string
	wdb   *sql.DB   // one connection: SQLite has a single writer
	wconn *sql.Conn // that connection, used only by the committer
	rdb   *sql.DB   // query-only pool

	reqs      chan *request // Write -> committer
	quit      chan struct{} // closed by Close
	stopped   chan struct{} // closed when the committer has returned
	closeOnce sync.Once

	// Owned by the committer goroutine (and by Open before it starts).
	w      writer
	nextID int64
}

var _ docs.Store = (*Store)(nil)

// schemaVersion is kept in PRAGMA user_version. Version 1 (user_version
// 0) had a two-column FTS table tokenized by unicode61; version 2 has the
// single "terms" column described in text.go; version 3 splits Chinese
// and Japanese into words as docs.Words does. Open migrates by rebuilding
// the index from the docs table.
const schemaVersion = 3

const schemaDocs = `
CREATE TABLE IF NOT EXISTS docs (
	id      INTEGER PRIMARY KEY,
	docid   BLOB NOT NULL UNIQUE,
	ws      TEXT NOT NULL,
	kind    TEXT NOT NULL,
	time    INTEGER NOT NULL,
	name    TEXT NOT NULL,
	class   TEXT NOT NULL,
	source  TEXT NOT NULL,
	tags    TEXT NOT NULL,
	fields  TEXT NOT NULL,
	content TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS docs_ws_kind_time ON docs(ws, kind, time);
`

// schemaIndex is the version 2 full-text index. detail=none keeps only
// rowids in the posting lists: every query term is a single token (a
// word or a hashed equality term), never a phrase, and there is one
// column, so positions and column numbers would never be read.
const schemaIndex = `
CREATE VIRTUAL TABLE docs_fts USING fts5(
	terms, content='', contentless_delete=1, detail=none,
	tokenize='ascii tokenchars ''_'''
);
CREATE TRIGGER docs_ad AFTER DELETE ON docs BEGIN
	DELETE FROM docs_fts WHERE rowid = old.id;
END;
`

// Open opens (creating if needed) the store under dir.
func Open(dir string, opt Options) (*Store, error) {
	log := opt.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("embedded docs: %w", err)
	}
	path := filepath.Join(dir, FileName)
	s := &Store{log: log, path: path,
		reqs: make(chan *request, 64), quit: make(chan struct{}), stopped: make(chan struct{})}
	// synchronous=FULL in WAL mode fsyncs the WAL at every commit: a
	// committed batch survives power loss, which is what Write promises
	// before the HTTP layer answers 200.
	common := "_pragma=busy_timeout(10000)&_pragma=synchronous(FULL)&_pragma=foreign_keys(1)"
	var err error
	s.wdb, err = sql.Open("sqlite", "file:"+path+"?"+common+"&_pragma=journal_mode(WAL)&_pragma=temp_store(MEMORY)&_pragma=cache_size(-65536)")
	if err != nil {
		return nil, fmt.Errorf("embedded docs: open %s: %w", path, err)
	}
	s.wdb.SetMaxOpenConns(1)
	fail := func(err error) (*Store, error) {
		if s.wconn != nil {
			s.wconn.Close()
		}
		s.wdb.Close()
		return nil, fmt.Errorf("embedded docs: %s: %w", path, err)
	}
	ctx := context.Background()
	if s.wconn, err = s.wdb.Conn(ctx); err != nil {
		return fail(err)
	}
	if err := s.migrate(ctx); err != nil {
		return fail(err)
	}
	if err := s.wconn.QueryRowContext(ctx, sqlNextID).Scan(&s.nextID); err != nil {
		return fail(err)
	}
	s.rdb, err = sql.Open("sqlite", "file:"+path+"?"+common+"&_pragma=query_only(1)")
	if err != nil {
		return fail(err)
	}
	s.rdb.SetMaxOpenConns(4)
	go s.run()
	return s, nil
}

// migrate creates the schema or brings an older one to schemaVersion.
func (s *Store) migrate(ctx context.Context) error {
	var v int
	if err := s.wconn.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return err
	}
	switch {
	case v == schemaVersion:
		return nil
	case v > schemaVersion:
		return fmt.Errorf("schema version %d is newer than this program's %d; use a newer Kodo", v, schemaVersion)
	}
	tx, err := s.wconn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, schemaDocs+"DROP TRIGGER IF EXISTS docs_ad; DROP TABLE IF EXISTS docs_fts;"+schemaIndex); err != nil {
		return fmt.Errorf("create schema: %w", err)
	}
	n, err := reindex(ctx, tx)
	if err != nil {
		return fmt.Errorf("rebuild the full-text index: %w", err)
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", schemaVersion)); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	if n > 0 {
		s.log.Info("embedded docs: full-text index rebuilt", "path", s.path, "docs", n, "schema", schemaVersion)
	}
	return nil
}

// reindex fills docs_fts from the docs table, a chunk of rows at a time.
func reindex(ctx context.Context, tx *sql.Tx) (int64, error) {
	const chunk = 10000
	var (
		last, total int64
		b           []byte
	)
	for {
		b = append(b[:0], '[')
		n, err := reindexChunk(ctx, tx, &last, chunk, &b)
		if err != nil || n == 0 {
			return total, err
		}
		b = append(b, ']')
		if _, err := tx.ExecContext(ctx, `INSERT INTO docs_fts(rowid, terms) SELECT value->>0, value->>1 FROM json_each(?)`, string(b)); err != nil {
			return total, err
		}
		total += int64(n)
	}
}

// reindexChunk appends [id, "terms"] for up to chunk documents after
// *last to *b and advances *last.
func reindexChunk(ctx context.Context, tx *sql.Tx, last *int64, chunk int, b *[]byte) (int, error) {
	rs, err := tx.QueryContext(ctx, `SELECT id, name, class, source, tags, fields, content FROM docs WHERE id > ? ORDER BY id LIMIT ?`, *last, chunk)
	if err != nil {
		return 0, err
	}
	defer rs.Close()
	n := 0
	for rs.Next() {
		var (
			d            docs.Document
			tags, fields []byte
		)
		if err := rs.Scan(last, &d.Name, &d.Class, &d.Source, &tags, &fields, &d.Content); err != nil {
			return n, err
		}
		if err := json.Unmarshal(tags, &d.Tags); err != nil {
			return n, fmt.Errorf("document %d: corrupt tags: %w", *last, err)
		}
		if d.Fields, err = docs.DecodeFields(fields); err != nil {
			return n, fmt.Errorf("document %d: corrupt fields: %w", *last, err)
		}
		if n > 0 {
			*b = append(*b, ',')
		}
		*b = append(*b, '[')
		*b = strconv.AppendInt(*b, *last, 10)
		*b = append(*b, ',', '"')
		*b = appendIndexText(*b, &d)
		*b = append(*b, '"', ']')
		n++
	}
	return n, rs.Err()
}

// Close stops the committer (a Write still waiting fails with
// ErrUnavailable) and closes the database.
func (s *Store) Close() error {
	var err error
	s.closeOnce.Do(func() {
		close(s.quit)
		<-s.stopped
		errs := []error{s.wconn.Raw(func(any) error { return s.w.closeStmts() })}
		errs = append(errs, s.wconn.Close(), s.rdb.Close(), s.wdb.Close())
		err = errors.Join(errs...)
	})
	return err
}

// unavailable wraps a database failure: the disk or the file is the
// problem, not the request, and nothing was committed.
func (s *Store) unavailable(op string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("embedded docs: %s: %w (%w)", op, docs.ErrUnavailable, err)
	}
	s.log.Error("embedded docs write failed", "op", op, "path", s.path, "err", err)
	return fmt.Errorf("embedded docs: %s: %w (%w)", op, docs.ErrUnavailable, err)
}

// Search answers req with a count and a page of documents.
func (s *Store) Search(ctx context.Context, req docs.SearchRequest) (docs.SearchResult, error) {
	req, err := req.Normalize()
	if err != nil {
		return docs.SearchResult{}, err
	}
	where := []string{"ws = ?", "kind = ?"}
	args := []any{req.WorkspaceUUID, string(req.Kind)}
	if req.TimeRange.Start != 0 {
		where = append(where, "time >= ?")
		args = append(args, req.TimeRange.Start)
	}
	if req.TimeRange.End != 0 {
		where = append(where, "time < ?")
		args = append(args, req.TimeRange.End)
	}
	// Each query token is one quoted FTS5 string; hashed terms and words
	// never contain '"' (text.go).
	var match []string
	for _, f := range req.Filters {
		match = append(match, `"`+termToken(f.Key+"="+f.Value)+`"`)
	}
	for _, w := range docs.Words(req.Query) {
		match = append(match, `"`+w+`"`)
	}
	if len(match) > 0 {
		where = append(where, "id IN (SELECT rowid FROM docs_fts WHERE docs_fts MATCH ?)")
		args = append(args, strings.Join(match, " AND "))
	}
	cond := strings.Join(where, " AND ")
	var res docs.SearchResult
	if err := s.rdb.QueryRowContext(ctx, "SELECT count(*) FROM docs WHERE "+cond, args...).Scan(&res.Total); err != nil {
		return res, s.readErr(err)
	}
	order := "time DESC, id DESC"
	if req.Sort == docs.SortTimeAsc {
		order = "time ASC, id ASC"
	}
	rows, err := s.rdb.QueryContext(ctx, "SELECT time, name, class, source, tags, fields, content FROM docs WHERE "+cond+
		" ORDER BY "+order+" LIMIT ? OFFSET ?", append(args, req.Limit, req.Offset)...)
	if err != nil {
		return res, s.readErr(err)
	}
	defer rows.Close()
	res.Docs = []docs.Document{}
	for rows.Next() {
		d := docs.Document{Kind: req.Kind}
		var tags, fields []byte
		if err := rows.Scan(&d.Time, &d.Name, &d.Class, &d.Source, &tags, &fields, &d.Content); err != nil {
			return res, s.readErr(err)
		}
		if err := json.Unmarshal(tags, &d.Tags); err != nil {
			return res, fmt.Errorf("embedded docs: corrupt tags: %w", err)
		}
		if d.Fields, err = docs.DecodeFields(fields); err != nil {
			return res, fmt.Errorf("embedded docs: corrupt fields: %w", err)
		}
		if len(d.Tags) == 0 {
			d.Tags = nil // stored as {}: both stores answer nil for none
		}
		if len(d.Fields) == 0 {
			d.Fields = nil
		}
		res.Docs = append(res.Docs, d)
	}
	if err := rows.Err(); err != nil {
		return res, s.readErr(err)
	}
	return res, nil
}

func (s *Store) readErr(err error) error {
	return fmt.Errorf("embedded docs: search: %w (%w)", docs.ErrUnavailable, err)
}
