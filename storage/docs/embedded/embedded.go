package embedded

import (
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
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
	log  *slog.Logger
	path string
	wdb  *sql.DB // one connection: SQLite has a single writer
	rdb  *sql.DB // query-only pool

	fullInsert string // docsInsertSQL(insertChunk)

	mu     sync.Mutex // serialises writers and guards nextID
	nextID int64
}

var _ docs.Store = (*Store)(nil)

const schema = `
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
CREATE VIRTUAL TABLE IF NOT EXISTS docs_fts USING fts5(
	content, kv, content='', contentless_delete=1,
	tokenize='unicode61 remove_diacritics 0'
);
CREATE TRIGGER IF NOT EXISTS docs_ad AFTER DELETE ON docs BEGIN
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
	s := &Store{log: log, path: path, fullInsert: docsInsertSQL(insertChunk)}
	// synchronous=FULL in WAL mode: a committed batch survives power loss,
	// which is what Write promises before the HTTP layer answers 200.
	common := "_pragma=busy_timeout(10000)&_pragma=synchronous(FULL)&_pragma=foreign_keys(1)"
	var err error
	s.wdb, err = sql.Open("sqlite", "file:"+path+"?"+common+"&_pragma=journal_mode(WAL)&_pragma=temp_store(MEMORY)&_pragma=cache_size(-65536)&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("embedded docs: open %s: %w", path, err)
	}
	s.wdb.SetMaxOpenConns(1)
	if _, err := s.wdb.Exec(schema); err != nil {
		s.wdb.Close()
		return nil, fmt.Errorf("embedded docs: create schema in %s: %w", path, err)
	}
	if err := s.wdb.QueryRow("SELECT COALESCE(MAX(id), 0) + 1 FROM docs").Scan(&s.nextID); err != nil {
		s.wdb.Close()
		return nil, fmt.Errorf("embedded docs: %w", err)
	}
	s.rdb, err = sql.Open("sqlite", "file:"+path+"?"+common+"&_pragma=query_only(1)")
	if err != nil {
		s.wdb.Close()
		return nil, fmt.Errorf("embedded docs: open %s: %w", path, err)
	}
	s.rdb.SetMaxOpenConns(4)
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error {
	return errors.Join(s.rdb.Close(), s.wdb.Close())
}

// termToken hashes an equality term into one FTS token, so tags and field
// values of any bytes are matched exactly by the full-text index without
// a tokenizer splitting them. 64 bits keep collisions negligible.
func termToken(term string) string {
	h := fnv.New64a()
	io.WriteString(h, term)
	var b [8]byte
	v := h.Sum64()
	for i := range b {
		b[i] = byte(v >> (56 - 8*i))
	}
	return "k" + hex.EncodeToString(b[:])
}

// Write stores docs in one transaction; it returns after the commit is
// on disk.
func (s *Store) Write(ctx context.Context, workspaceUUID string, kind docs.Kind, ds []docs.Document) error {
	if workspaceUUID == "" {
		return fmt.Errorf("%w: write needs a workspace uuid", docs.ErrInvalid)
	}
	if !kind.Valid() {
		return fmt.Errorf("%w: unknown kind %q", docs.ErrInvalid, kind)
	}
	if len(ds) == 0 {
		return nil
	}
	// Encode outside the lock: it is most of the CPU work.
	type row struct {
		docid        []byte
		tags, fields string
		kv           string
	}
	rows := make([]row, len(ds))
	var buf []byte
	var kv strings.Builder
	for i := range ds {
		d := &ds[i]
		if d.Kind != "" && d.Kind != kind {
			return fmt.Errorf("%w: document %d is a %s in a %s write", docs.ErrInvalid, i, d.Kind, kind)
		}
		tags, err := json.Marshal(d.Tags)
		if err != nil {
			return fmt.Errorf("%w: document %d: %v", docs.ErrInvalid, i, err)
		}
		if d.Tags == nil {
			tags = []byte("{}")
		}
		buf, err = docs.AppendFieldsJSON(buf[:0], d.Fields)
		if err != nil {
			return fmt.Errorf("document %d: %w", i, err)
		}
		kv.Reset()
		for j, t := range docs.Terms(d) {
			if j > 0 {
				kv.WriteByte(' ')
			}
			kv.WriteString(termToken(t))
		}
		rows[i] = row{docid: docs.DocID(workspaceUUID, kind, d), tags: string(tags), fields: string(buf), kv: kv.String()}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	tx, err := s.wdb.BeginTx(ctx, nil)
	if err != nil {
		return s.unavailable("begin", err)
	}
	defer tx.Rollback()
	if kind == docs.KindObject {
		// An object replaces the stored one of the same class and name;
		// the delete trigger drops its index entry.
		del, err := tx.PrepareContext(ctx, `DELETE FROM docs WHERE docid = ?`)
		if err != nil {
			return s.unavailable("prepare", err)
		}
		defer del.Close()
		for i := range rows {
			if _, err := del.ExecContext(ctx, rows[i].docid); err != nil {
				return s.unavailable("replace object", err)
			}
		}
	}
	// Multi-row statements: per-statement overhead in database/sql and the
	// driver dominates single-row inserts. Ids are assigned here (one
	// writer) so the RETURNING list tells which rows were new and need
	// indexing; duplicates of stored documents are skipped.
	id := s.nextID
	// Multi-row statements: per-statement overhead in database/sql and the
	// driver dominates single-row inserts. Ids are assigned here (one
	// writer) so the RETURNING list tells which rows were new and need
	// indexing; duplicates of stored documents are skipped.
	args := make([]any, 0, 11*insertChunk)
	inserted := make([]int64, 0, len(ds))
	var err2 error
	for lo := 0; lo < len(ds); lo += insertChunk {
		hi := min(lo+insertChunk, len(ds))
		args = args[:0]
		for i := lo; i < hi; i++ {
			d, r := &ds[i], &rows[i]
			args = append(args, id+int64(i), r.docid, workspaceUUID, string(kind), d.Time, d.Name, d.Class, d.Source, r.tags, r.fields, d.Content)
		}
		q := s.fullInsert
		if hi-lo != insertChunk {
			q = docsInsertSQL(hi - lo)
		}
		if inserted, err2 = insertReturning(ctx, tx, q, args, inserted); err2 != nil {
			return s.unavailable("insert", err2)
		}
	}
	// The full-text rows go in last and in one statement: FTS5 flushes its
	// pending terms to a new segment at every statement savepoint, so
	// interleaving would write (and later merge) many tiny segments.
	if len(inserted) > 0 {
		buf = append(buf[:0], '[')
		for j, rid := range inserted {
			i := int(rid - id)
			if j > 0 {
				buf = append(buf, ',')
			}
			buf = append(buf, '[')
			buf = strconv.AppendInt(buf, rid, 10)
			buf = append(buf, ',')
			buf = appendJSONString(buf, ds[i].Content)
			buf = append(buf, ',', '"')
			buf = append(buf, rows[i].kv...) // hex tokens and spaces need no escaping
			buf = append(buf, '"', ']')
		}
		buf = append(buf, ']')
		if _, err := tx.ExecContext(ctx, `INSERT INTO docs_fts(rowid, content, kv)
			SELECT value->>0, value->>1, value->>2 FROM json_each(?)`, string(buf)); err != nil {
			return s.unavailable("index", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return s.unavailable("commit", err)
	}
	s.nextID = id + int64(len(ds))
	return nil
}

// appendJSONString quotes s for JSON; the common case of printable ASCII
// without quotes or backslashes is copied as is.
func appendJSONString(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' {
			b, _ := json.Marshal(s) // a string always marshals
			return append(dst, b...)
		}
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}

// insertChunk rows per INSERT statement: 11 parameters each, well under
// SQLite's variable limit.
const insertChunk = 100

func insertReturning(ctx context.Context, tx *sql.Tx, q string, args []any, ids []int64) ([]int64, error) {
	rs, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return ids, err
	}
	defer rs.Close()
	for rs.Next() {
		var id int64
		if err := rs.Scan(&id); err != nil {
			return ids, err
		}
		ids = append(ids, id)
	}
	return ids, rs.Err()
}

// docsInsertSQL is the n-row insert statement.
func docsInsertSQL(n int) string {
	var sb strings.Builder
	sb.WriteString("INSERT INTO docs(id, docid, ws, kind, time, name, class, source, tags, fields, content) VALUES ")
	for i := range n {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString("(?,?,?,?,?,?,?,?,?,?,?)")
	}
	sb.WriteString(" ON CONFLICT(docid) DO NOTHING RETURNING id")
	return sb.String()
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
	var match []string
	for _, f := range req.Filters {
		match = append(match, `kv : "`+termToken(f.Key+"="+f.Value)+`"`)
	}
	words := docs.Words(req.Query)
	for _, w := range words {
		match = append(match, `content : "`+w+`"`)
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
