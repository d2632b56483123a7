package clickhouse

import (
	"context"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// ReadRequest is one element of the /v1/ck/read/metrics body.
type ReadRequest struct {
	// Table is read whole when Command is empty.
	Table string
	// Command is one SELECT, checked by CheckReadCommand.
	Command string
	// GroupBy names result columns; each distinct combination of their
	// values becomes one Series whose Tags hold them.
	GroupBy []string
}

// Series is one series of a Result, in the spec's shape.
type Series struct {
	Name    string            `json:"name,omitempty"`
	Tags    map[string]string `json:"tags"`
	Columns []string          `json:"columns"`
	Values  [][]any           `json:"values"`
}

// Result is the content of the spec's ck answers: {"Series":[...],
// "Message":""}. Message says when rows were cut at the row limit.
type Result struct {
	Series    []Series `json:"Series"`
	Message   string   `json:"Message"`
	Truncated bool     `json:"-"`
}

// TablesResult puts Tables' answer in the spec's tablelist shape.
func TablesResult(tables []Table) Result {
	s := Series{Tags: map[string]string{}, Columns: []string{"tableName", "type"}, Values: [][]any{}}
	for _, t := range tables {
		s.Values = append(s.Values, []any{t.Name, t.Engine})
	}
	return Result{Series: []Series{s}}
}

// ColumnsResult puts TableInfo's answer in the spec's tableinfo shape.
func ColumnsResult(cols []Column) Result {
	s := Series{
		Tags:    map[string]string{},
		Columns: []string{"name", "type", "default_type", "default_expression", "comment", "codec_expression", "ttl_expression"},
		Values:  [][]any{},
	}
	for _, c := range cols {
		s.Values = append(s.Values, []any{c.Name, c.Type, c.DefaultType, c.DefaultExpression, c.Comment, c.CodecExpression, c.TTLExpression})
	}
	return Result{Series: []Series{s}}
}

// readPool is a small connection pool whose default database is one
// workspace's, so unqualified names in a command resolve there.
type readPool struct {
	conn    driver.Conn
	refs    int
	lastUse time.Time
	closing bool // evicted while in use: close on last release
}

// acquire returns the pool for db, opening it on first use and evicting
// the least recently used idle pool beyond maxReadPools.
func (s *Store) acquire(db string) (*readPool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, ok := s.readers[db]; ok {
		p.refs++
		p.lastUse = time.Now()
		return p, nil
	}
	opt := *s.opt
	opt.Auth.Database = db
	opt.MaxOpenConns = 4
	opt.MaxIdleConns = 1
	conn, err := ch.Open(&opt)
	if err != nil {
		return nil, err
	}
	if len(s.readers) >= maxReadPools {
		var victim string
		var oldest time.Time
		for name, p := range s.readers {
			if p.refs == 0 && (victim == "" || p.lastUse.Before(oldest)) {
				victim, oldest = name, p.lastUse
			}
		}
		if victim != "" {
			s.readers[victim].conn.Close()
			delete(s.readers, victim)
		}
	}
	p := &readPool{conn: conn, refs: 1, lastUse: time.Now()}
	s.readers[db] = p
	return p, nil
}

func (s *Store) release(db string, p *readPool, broken bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p.refs--
	if broken && s.readers[db] == p {
		// The database is gone or the server restarted: start afresh.
		delete(s.readers, db)
		p.closing = true
	}
	if p.closing && p.refs == 0 {
		p.conn.Close()
	}
}

// Read runs req inside db with readonly=1, db as the default database,
// at most RowLimit rows (further rows are dropped and Result.Truncated
// set) and the query-time limit. A command that is not a single SELECT
// or names another database is refused before it is sent (ErrInvalid,
// cause *CommandError); server-side errors in the query are ErrInvalid,
// the time limit is ErrTimeout, a missing db or table ErrNotFound.
func (s *Store) Read(ctx context.Context, db string, req ReadRequest) (Result, error) {
	const op = "read"
	if err := validDB(op, db); err != nil {
		return Result{}, err
	}
	query := req.Command
	if query == "" {
		if req.Table == "" {
			return Result{}, &Error{Kind: ErrInvalid, Op: op, Database: db, Msg: "give a command or a table_name"}
		}
		if err := validTable(op, db, req.Table); err != nil {
			return Result{}, err
		}
		query = "SELECT * FROM " + qualified(db, req.Table)
	}
	if err := CheckReadCommand(query, db); err != nil {
		return Result{}, &Error{Kind: ErrInvalid, Op: op, Database: db, Err: err}
	}
	for i, g := range req.GroupBy {
		if g == "" || slices.Contains(req.GroupBy[:i], g) {
			return Result{}, &Error{Kind: ErrInvalid, Op: op, Database: db, Msg: fmt.Sprintf("group_by %q is empty or repeated", g)}
		}
	}

	pool, err := s.acquire(db)
	if err != nil {
		return Result{}, classify(err, op, db, req.Table, true)
	}
	// Every read sees one row per series and time (see createTableSQL).
	replacing, err := s.replacingTables(ctx, pool.conn, db)
	if err == nil {
		query, err = ReadCommandFinal(query, db, func(t string) bool { return replacing[t] })
	}
	var res Result
	if err == nil {
		res, err = s.read(ctx, pool.conn, query, req)
	}
	broken := err != nil && (ServerCode(err) == codeUnknownDatabase || isUnavailable(err))
	s.release(db, pool, broken)
	if err != nil {
		return Result{}, classify(err, op, db, req.Table, true)
	}
	return res, nil
}

// replacingTables names the ReplacingMergeTree tables of db: the ones
// reads must see through FINAL. Tables made before Kodo wrote them so are
// plain MergeTree, which refuses FINAL.
func (s *Store) replacingTables(ctx context.Context, conn driver.Conn, db string) (map[string]bool, error) {
	rows, err := conn.Query(ctx, "SELECT name FROM system.tables WHERE database = "+QuoteString(db)+" AND engine LIKE '%ReplacingMergeTree'")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, err
		}
		out[name] = true
	}
	return out, rows.Err()
}

func (s *Store) read(ctx context.Context, conn driver.Conn, query string, req ReadRequest) (Result, error) {
	// The client deadline is a backstop a little after the server's own
	// limit, so the server's clearer "Timeout exceeded" wins normally.
	ctx, cancel := context.WithTimeout(ctx, s.timeout+2*time.Second)
	defer cancel()
	ctx = ch.Context(ctx, ch.WithSettings(ch.Settings{
		"readonly":           1,
		"max_execution_time": serverSeconds(s.timeout),
	}))
	rows, err := conn.Query(ctx, query)
	if err != nil {
		return Result{}, err
	}
	defer rows.Close()

	cols := rows.Columns()
	types := rows.ColumnTypes()
	groupIdx := make([]int, len(req.GroupBy))
	for i, g := range req.GroupBy {
		groupIdx[i] = slices.Index(cols, g)
		if groupIdx[i] < 0 {
			return Result{}, &Error{Kind: ErrInvalid, Op: "read", Msg: fmt.Sprintf("group_by column %q is not in the result (columns: %v)", g, cols)}
		}
	}
	var keep []int // result columns that stay columns
	for i := range cols {
		// The series hash is bookkeeping for deduplication, not data:
		// SELECT * answers the measurement's tags and fields only.
		if !slices.Contains(groupIdx, i) && cols[i] != seriesColumn {
			keep = append(keep, i)
		}
	}
	outCols := make([]string, len(keep))
	for i, k := range keep {
		outCols[i] = cols[k]
	}

	res := Result{Series: []Series{}}
	index := map[string]int{} // group key -> series
	dest := make([]any, len(cols))
	for i, t := range types {
		dest[i] = newScanDest(t)
	}
	n := 0
	for rows.Next() {
		if n == s.rowLimit {
			res.Truncated = true
			res.Message = fmt.Sprintf("result cut at the row limit of %d rows; add a LIMIT or narrow the query", s.rowLimit)
			break
		}
		n++
		if err := rows.Scan(dest...); err != nil {
			return Result{}, err
		}
		key := ""
		for _, g := range groupIdx {
			key += strconv.Quote(tagString(dest[g])) + ","
		}
		si, ok := index[key]
		if !ok {
			tags := make(map[string]string, len(groupIdx))
			for j, g := range groupIdx {
				tags[req.GroupBy[j]] = tagString(dest[g])
			}
			res.Series = append(res.Series, Series{Name: req.Table, Tags: tags, Columns: outCols, Values: [][]any{}})
			si = len(res.Series) - 1
			index[key] = si
		}
		row := make([]any, len(keep))
		for j, k := range keep {
			row[j] = jsonValue(dest[k])
		}
		res.Series[si].Values = append(res.Series[si].Values, row)
	}
	if err := rows.Err(); err != nil {
		return Result{}, err
	}
	if len(res.Series) == 0 {
		res.Series = append(res.Series, Series{Name: req.Table, Tags: map[string]string{}, Columns: outCols, Values: [][]any{}})
	}
	return res, nil
}

// newScanDest allocates a scan destination of the driver's type for a
// column, so every ClickHouse type scans without a conversion table.
func newScanDest(t driver.ColumnType) any {
	st := t.ScanType()
	if st == nil {
		var v any
		return &v
	}
	return reflect.New(st).Interface()
}

// jsonValue turns a scanned value into something encoding/json writes
// faithfully: pointers are followed (nil is null) and non-finite floats,
// which JSON cannot hold, become the strings "NaN", "+Inf", "-Inf".
func jsonValue(dest any) any {
	v := reflect.ValueOf(dest).Elem()
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.Float32, reflect.Float64:
		f := v.Float()
		switch {
		case math.IsNaN(f):
			return "NaN"
		case math.IsInf(f, 1):
			return "+Inf"
		case math.IsInf(f, -1):
			return "-Inf"
		}
		return f
	}
	return v.Interface()
}

// tagString renders a group_by value as a tag value.
func tagString(dest any) string {
	switch v := jsonValue(dest).(type) {
	case nil:
		return ""
	case string:
		return v
	case time.Time:
		return v.Format(time.RFC3339Nano)
	case fmt.Stringer:
		return v.String()
	default:
		return fmt.Sprint(v)
	}
}
