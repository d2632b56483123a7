package embedded

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/kodo-project/kodo/storage/docs"
)

// Write path.
//
// Write validates its documents in the caller's goroutine and hands them
// to the committer goroutine, which owns the writer connection. The
// committer takes every request that is waiting (group commit), writes
// them in one transaction and one WAL fsync, and answers each request
// only after that commit. Under concurrent writers this shares the
// transaction, the FTS segment flush and the fsync; a lone writer pays one
// channel round trip. SQLite work on the committer is the bottleneck (one
// core), so a large batch is encoded while the committer already inserts
// its first chunks (see newRequest).

// maxGroupDocs bounds the documents of one group transaction, so a burst
// of writers does not build one huge transaction (and WAL).
const maxGroupDocs = 50000

// insertChunk rows per INSERT statement: 11 parameters each, well under
// SQLite's variable limit. Multi-row statements because per-statement
// overhead in the driver dominates single-row inserts.
const insertChunk = 100

// parallelEncodeMin is the batch size from which encoding is split over
// several goroutines.
const parallelEncodeMin = 1000

// errClosed is returned by Write after Close.
var errClosed = errors.New("embedded docs: store closed")

// row is one encoded document.
type row struct {
	docid        []byte
	tags, fields string
	terms        []byte // full-text index text, see text.go
}

// request is one Write on its way to the committer.
type request struct {
	ctx  context.Context
	ws   string
	kind docs.Kind
	ds   []docs.Document
	rows []row
	// ready[k] is closed when rows of chunk k (encodeChunk rows) are
	// encoded; nil when all were encoded before the request was queued.
	ready []chan struct{}
	done  chan error // buffered: the committer never blocks on it
	// del asks the committer to delete every document of ws instead.
	del bool
}

// Write stores docs in one transaction; it returns after the commit that
// holds them is on disk.
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
	req, err := newRequest(ctx, workspaceUUID, kind, ds)
	if err != nil {
		return err
	}
	// The documents may still be committed after ctx ends; a retry is
	// idempotent.
	return s.submit(ctx, req, "wait for commit", req.encodeRest)
}

// submit queues req for the committer, runs queued (work that can overlap
// the wait), and waits for req's outcome.
func (s *Store) submit(ctx context.Context, req *request, waiting string, queued func()) error {
	select {
	case s.reqs <- req:
	case <-ctx.Done():
		return s.unavailable("queue", ctx.Err())
	case <-s.quit:
		return fmt.Errorf("%w: %w", docs.ErrUnavailable, errClosed)
	}
	queued()
	select {
	case err := <-req.done:
		return err
	case <-ctx.Done():
		return s.unavailable(waiting, ctx.Err())
	case <-s.stopped:
		select {
		case err := <-req.done:
			return err
		default:
			return fmt.Errorf("%w: %w", docs.ErrUnavailable, errClosed)
		}
	}
}

// DeleteWorkspace removes every document of a workspace in one durable
// transaction, run by the committer like writes (the full-text rows go
// with the documents, through the docs_ad trigger).
func (s *Store) DeleteWorkspace(ctx context.Context, workspaceUUID string) error {
	if workspaceUUID == "" {
		return fmt.Errorf("%w: delete needs a workspace uuid", docs.ErrInvalid)
	}
	req := &request{ctx: ctx, ws: workspaceUUID, del: true, done: make(chan error, 1)}
	return s.submit(ctx, req, "wait for delete", func() {})
}

func (s *Store) deleteWorkspace(ws string) error {
	if _, err := s.wconn.ExecContext(context.Background(), "DELETE FROM docs WHERE ws = ?", ws); err != nil {
		return s.unavailable("delete workspace", err)
	}
	return nil
}

// encodeChunk documents are encoded, and handed to the committer,
// together. A multiple of insertChunk.
const encodeChunk = 5 * insertChunk

// newRequest checks ds and encodes what can fail (the fields), so that a
// bad batch is refused before any of it reaches a transaction. The rest
// of the encoding (ids, tags, index text) is done by encodeRest, for a
// large batch while the committer already inserts its first chunks: on
// two cores this overlaps most of the Go work with SQLite's.
func newRequest(ctx context.Context, ws string, kind docs.Kind, ds []docs.Document) (*request, error) {
	r := &request{ctx: ctx, ws: ws, kind: kind, ds: ds, rows: make([]row, len(ds)), done: make(chan error, 1)}
	if err := r.check(); err != nil {
		return nil, err
	}
	if kind == docs.KindObject {
		r.dedupeObjects()
	}
	if len(r.ds) <= encodeChunk {
		r.encodeRange(0, len(r.ds))
		return r, nil
	}
	r.ready = make([]chan struct{}, (len(r.ds)+encodeChunk-1)/encodeChunk)
	for i := range r.ready {
		r.ready[i] = make(chan struct{})
	}
	return r, nil
}

// check validates the documents and encodes their fields, on all cores
// for a large batch.
func (r *request) check() error {
	workers := min(runtime.GOMAXPROCS(0), len(r.ds)/parallelEncodeMin)
	if workers <= 1 {
		return r.checkRange(0, len(r.ds))
	}
	errs := make([]error, workers)
	var wg sync.WaitGroup
	per := (len(r.ds) + workers - 1) / workers
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[w] = r.checkRange(w*per, min((w+1)*per, len(r.ds)))
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err // the first failing range holds the first bad document
		}
	}
	return nil
}

func (r *request) checkRange(lo, hi int) error {
	var buf []byte
	for i := lo; i < hi; i++ {
		d := &r.ds[i]
		if d.Kind != "" && d.Kind != r.kind {
			return fmt.Errorf("%w: document %d is a %s in a %s write", docs.ErrInvalid, i, d.Kind, r.kind)
		}
		var err error
		if buf, err = docs.AppendFieldsJSON(buf[:0], d.Fields); err != nil {
			return fmt.Errorf("document %d: %w", i, err)
		}
		r.rows[i].fields = string(buf)
	}
	return nil
}

// dedupeObjects keeps only the last of several objects with the same
// class and name in one batch, as a later write replaces an earlier one
// (and as an Elasticsearch bulk request does).
func (r *request) dedupeObjects() {
	type key struct{ class, name string }
	last := make(map[key]int, len(r.ds))
	for i := range r.ds {
		last[key{r.ds[i].Class, r.ds[i].Name}] = i
	}
	if len(last) == len(r.ds) {
		return
	}
	ds := make([]docs.Document, 0, len(last))
	rows := make([]row, 0, len(last))
	for i := range r.ds {
		if last[key{r.ds[i].Class, r.ds[i].Name}] == i {
			ds, rows = append(ds, r.ds[i]), append(rows, r.rows[i])
		}
	}
	r.ds, r.rows = ds, rows
}

// encodeRest encodes the chunks of a large request on all cores, in
// order, closing each chunk's ready channel when it is done. It must run
// to the end once the request is queued: the committer may wait for it.
func (r *request) encodeRest() {
	if r.ready == nil {
		return
	}
	// One core is left to the committer, which is the bottleneck: the
	// encoders only have to stay ahead of it.
	var next atomic.Int64
	for range max(1, runtime.GOMAXPROCS(0)-1) {
		go func() {
			for {
				k := int(next.Add(1) - 1)
				if k >= len(r.ready) {
					return
				}
				r.encodeRange(k*encodeChunk, min((k+1)*encodeChunk, len(r.ds)))
				close(r.ready[k])
			}
		}()
	}
}

// encodeRange encodes the documents [lo, hi), which check accepted.
func (r *request) encodeRange(lo, hi int) {
	var (
		keys  []string
		buf   []byte
		terms = make([]byte, 0, 160*(hi-lo)) // one arena for the index text
	)
	for i := lo; i < hi; i++ {
		d, rw := &r.ds[i], &r.rows[i]
		buf, keys = docs.AppendTagsJSON(buf[:0], d.Tags, keys)
		rw.tags = string(buf)
		rw.docid = docs.DocID(r.ws, r.kind, d)
		start := len(terms)
		terms = appendIndexText(terms, d)
		rw.terms = terms[start:len(terms):len(terms)]
	}
}

// wait blocks until the rows before hi are encoded.
func (r *request) wait(hi int) {
	if r.ready != nil && hi > 0 {
		<-r.ready[(hi-1)/encodeChunk]
	}
}

// run is the committer goroutine.
func (s *Store) run() {
	defer close(s.stopped)
	var group []*request
	for {
		var first *request
		select {
		case first = <-s.reqs:
		case <-s.quit:
			return
		}
		group = append(group[:0], first)
		n := len(first.ds)
	drain:
		for n < maxGroupDocs {
			select {
			case r := <-s.reqs:
				group = append(group, r)
				n += len(r.ds)
			default:
				break drain
			}
		}
		// A caller that gave up before its turn is not written: it has
		// already been answered with an error.
		live := group[:0]
		for _, r := range group {
			if err := r.ctx.Err(); err != nil {
				r.done <- s.unavailable("queue", err)
				continue
			}
			live = append(live, r)
		}
		// Deletes (rare) run on their own after the group's writes.
		var dels []*request
		writes := live[:0]
		for _, r := range live {
			if r.del {
				dels = append(dels, r)
			} else {
				writes = append(writes, r)
			}
		}
		if len(writes) > 0 {
			err := s.commit(writes)
			for _, r := range writes {
				r.done <- err
			}
		}
		for _, r := range dels {
			r.done <- s.deleteWorkspace(r.ws)
		}
		clear(group) // drop references to the documents
	}
}

// writer holds the committer's connection state: prepared statements and
// reused buffers. Only the committer goroutine uses it.
type writer struct {
	stmts   map[string]driver.Stmt
	inserts map[int]driver.Stmt // docsInsertSQL(n) by n
	args    []driver.NamedValue
	ftsJSON []byte
	// FTS rows waiting for the one INSERT into docs_fts that ends a run of
	// requests: ids ftsBase, ftsBase+1, ... with nil for a duplicate.
	ftsBase int64
	fts     [][]byte
	resync  bool // nextID must be re-read from the table
}

// Statements of the write path.
const (
	sqlBegin    = "BEGIN IMMEDIATE"
	sqlCommit   = "COMMIT"
	sqlRollback = "ROLLBACK"
	sqlDelete   = "DELETE FROM docs WHERE docid = ?"
	sqlNextID   = "SELECT COALESCE(MAX(id), 0) + 1 FROM docs"
	// FTS5 flushes its pending terms to a new segment at every statement
	// savepoint, so the index rows of a whole group go in with one
	// statement: a JSON array of texts, null for skipped duplicates, whose
	// element i is row id ?2 + i.
	sqlIndex = `INSERT INTO docs_fts(rowid, terms) SELECT ?2 + key, value FROM json_each(?1) WHERE type = 'text'`
)

// commit writes the requests of one group in one transaction.
func (s *Store) commit(group []*request) error {
	ctx := context.Background() // one caller giving up must not abort the others
	var n int64
	for _, r := range group {
		n += int64(len(r.rows))
	}
	err := s.wconn.Raw(func(dc any) error {
		c := dc.(driver.Conn)
		w := &s.w
		if err := w.exec(ctx, c, sqlBegin); err != nil {
			return s.unavailable("begin", err)
		}
		err := s.writeGroup(ctx, c, group)
		if err == nil {
			if err = w.exec(ctx, c, sqlCommit); err != nil {
				err = s.unavailable("commit", err)
			}
		}
		if err != nil {
			_ = w.exec(ctx, c, sqlRollback) // fails harmlessly when COMMIT already ended it
			// A failed COMMIT may still have reached the disk: take the
			// next id from the table, not from the count, so the ids of
			// this group are never reused.
			w.resync = true
		}
		// Keep no documents alive between groups.
		clear(w.fts[:cap(w.fts)])
		clear(w.args[:cap(w.args)])
		w.fts, w.args = w.fts[:0], w.args[:0]
		if cap(w.ftsJSON) > 4<<20 {
			w.ftsJSON = nil // after an unusually large group
		}
		return err
	})
	if err != nil {
		return err
	}
	s.nextID += n
	return nil
}

// writeGroup runs the statements of one group inside its transaction.
func (s *Store) writeGroup(ctx context.Context, c driver.Conn, group []*request) error {
	w := &s.w
	if w.resync {
		// After a failure the first statement of the next transaction
		// re-reads the next id.
		if err := s.resyncID(ctx, c); err != nil {
			return s.unavailable("read next id", err)
		}
		w.resync = false
	}
	id := s.nextID
	w.ftsBase, w.fts = id, w.fts[:0]
	for _, r := range group {
		if r.kind == docs.KindObject {
			// An object replaces the stored one of the same class and
			// name; the delete trigger drops its index entry, so rows of
			// earlier requests in this group must be indexed first.
			if err := s.flushIndex(ctx, c); err != nil {
				return err
			}
			w.ftsBase = id
			r.wait(len(r.rows))
			st, err := w.stmt(ctx, c, sqlDelete)
			if err != nil {
				return s.unavailable("prepare", err)
			}
			for i := range r.rows {
				w.args = append(w.args[:0], driver.NamedValue{Ordinal: 1, Value: r.rows[i].docid})
				if _, err := st.(driver.StmtExecContext).ExecContext(ctx, w.args); err != nil {
					return s.unavailable("replace object", err)
				}
			}
		}
		if err := s.insertRows(ctx, c, r, id); err != nil {
			return err
		}
		id += int64(len(r.rows))
	}
	return s.flushIndex(ctx, c)
}

// insertRows inserts the rows of r with ids from id on, skipping
// documents already stored, and queues the new ones for indexing.
func (s *Store) insertRows(ctx context.Context, c driver.Conn, r *request, id int64) error {
	w := &s.w
	var ws, kind any = r.ws, string(r.kind) // boxed once, not per row
	base := len(w.fts)
	w.fts = slices.Grow(w.fts, len(r.rows))[:base+len(r.rows)]
	clear(w.fts[base:]) // nil until inserted; the array is reused
	for lo := 0; lo < len(r.rows); lo += insertChunk {
		hi := min(lo+insertChunk, len(r.rows))
		r.wait(hi)
		st, err := w.insertStmt(ctx, c, hi-lo)
		if err != nil {
			return s.unavailable("prepare", err)
		}
		w.args = w.args[:0]
		for i := lo; i < hi; i++ {
			d, rw := &r.ds[i], &r.rows[i]
			w.args = append(w.args,
				driver.NamedValue{Value: id + int64(i)}, driver.NamedValue{Value: rw.docid},
				driver.NamedValue{Value: ws}, driver.NamedValue{Value: kind},
				driver.NamedValue{Value: d.Time}, driver.NamedValue{Value: d.Name},
				driver.NamedValue{Value: d.Class}, driver.NamedValue{Value: d.Source},
				driver.NamedValue{Value: rw.tags}, driver.NamedValue{Value: rw.fields},
				driver.NamedValue{Value: d.Content})
		}
		for j := range w.args {
			w.args[j].Ordinal = j + 1
		}
		rs, err := st.(driver.StmtQueryContext).QueryContext(ctx, w.args)
		if err != nil {
			return s.unavailable("insert", err)
		}
		// RETURNING lists the rows that were new: only they are indexed.
		dest := []driver.Value{nil}
		for {
			if err = rs.Next(dest); err != nil {
				break
			}
			rid, ok := dest[0].(int64)
			if !ok || rid < id+int64(lo) || rid >= id+int64(hi) {
				err = fmt.Errorf("insert returned id %v outside [%d, %d)", dest[0], id+int64(lo), id+int64(hi))
				break
			}
			w.fts[base+int(rid-id)] = r.rows[rid-id].terms
		}
		if cerr := rs.Close(); err == io.EOF {
			err = cerr
		}
		if err != nil {
			return s.unavailable("insert", err)
		}
	}
	return nil
}

// flushIndex inserts the queued index rows with one statement.
func (s *Store) flushIndex(ctx context.Context, c driver.Conn) error {
	w := &s.w
	if len(w.fts) == 0 {
		return nil
	}
	b := append(w.ftsJSON[:0], '[')
	for i, t := range w.fts {
		if i > 0 {
			b = append(b, ',')
		}
		if t == nil {
			b = append(b, "null"...)
			continue
		}
		b = append(b, '"')
		b = append(b, t...) // words and tokens need no JSON escaping
		b = append(b, '"')
	}
	b = append(b, ']')
	w.ftsJSON = b
	st, err := w.stmt(ctx, c, sqlIndex)
	if err != nil {
		return s.unavailable("prepare", err)
	}
	// A string: SQLite reads a BLOB argument of json_each as JSONB.
	w.args = append(w.args[:0], driver.NamedValue{Ordinal: 1, Value: string(b)}, driver.NamedValue{Ordinal: 2, Value: w.ftsBase})
	if _, err := st.(driver.StmtExecContext).ExecContext(ctx, w.args); err != nil {
		return s.unavailable("index", err)
	}
	w.ftsBase += int64(len(w.fts))
	w.fts = w.fts[:0]
	return nil
}

// stmt returns the prepared statement for q, preparing it once per
// connection.
func (w *writer) stmt(ctx context.Context, c driver.Conn, q string) (driver.Stmt, error) {
	return prepared(ctx, c, &w.stmts, q, func() string { return q })
}

func (w *writer) exec(ctx context.Context, c driver.Conn, q string) error {
	st, err := w.stmt(ctx, c, q)
	if err != nil {
		return err
	}
	_, err = st.(driver.StmtExecContext).ExecContext(ctx, nil)
	return err
}

// closeStmts finalizes the prepared statements.
func (w *writer) closeStmts() error {
	return errors.Join(closeAll(w.stmts), closeAll(w.inserts))
}

// insertStmt returns the prepared n-row insert statement.
func (w *writer) insertStmt(ctx context.Context, c driver.Conn, n int) (driver.Stmt, error) {
	return prepared(ctx, c, &w.inserts, n, func() string { return docsInsertSQL(n) })
}

// prepared returns the statement cached under key, preparing the text
// sql gives on c the first time.
func prepared[K comparable](ctx context.Context, c driver.Conn, cache *map[K]driver.Stmt, key K, sql func() string) (driver.Stmt, error) {
	if st, ok := (*cache)[key]; ok {
		return st, nil
	}
	st, err := c.(driver.ConnPrepareContext).PrepareContext(ctx, sql())
	if err != nil {
		return nil, err
	}
	if *cache == nil {
		*cache = make(map[K]driver.Stmt)
	}
	(*cache)[key] = st
	return st, nil
}

// closeAll closes and forgets every statement of cache.
func closeAll[K comparable](cache map[K]driver.Stmt) error {
	var errs []error
	for k, st := range cache {
		errs = append(errs, st.Close())
		delete(cache, k)
	}
	return errors.Join(errs...)
}

// docsInsertSQL is the n-row insert statement. A document already stored
// (same docid) is skipped, which makes retries idempotent; RETURNING
// tells which rows were new.
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

// resyncID reads the next free id from the table.
func (s *Store) resyncID(ctx context.Context, c driver.Conn) error {
	st, err := s.w.stmt(ctx, c, sqlNextID)
	if err != nil {
		return err
	}
	rs, err := st.(driver.StmtQueryContext).QueryContext(ctx, nil)
	if err != nil {
		return err
	}
	defer rs.Close()
	dest := []driver.Value{nil}
	if err := rs.Next(dest); err != nil {
		return err
	}
	id, ok := dest[0].(int64)
	if !ok {
		return fmt.Errorf("next id is a %T", dest[0])
	}
	s.nextID = id
	return nil
}
