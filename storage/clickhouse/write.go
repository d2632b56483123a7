package clickhouse

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/influxdata/line-protocol/v2/lineprotocol"

	"github.com/kodo-project/kodo/lineproto"
)

// tableState caches the columns of one metric table. mu serialises the
// DDL for the table; cols is read and written under mu.
type tableState struct {
	mu     sync.Mutex
	loaded bool
	cols   map[string]colKind // only columns this package understands
	other  map[string]string  // columns of other types: name -> type
}

func (s *Store) state(db, table string) *tableState {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := tableKey{db, table}
	st, ok := s.tables[k]
	if !ok {
		st = &tableState{}
		s.tables[k] = st
	}
	return st
}

// measurement gathers the points of one measurement in a batch.
type measurement struct {
	name   string
	points []int
	cols   []column // time, tags (sorted), fields (sorted)
	kinds  map[string]colKind
}

// WritePoints stores b in db, one table per measurement. A table is
// created on first sight (MergeTree ordered by its tags and time,
// partitioned by day; ReplicatedMergeTree ON CLUSTER with a cluster) and
// gains a column by ALTER TABLE ... ADD COLUMN for each new tag or field.
// db is created if missing. Tags are LowCardinality(String) (String where
// the server cannot), fields Nullable(Float64|Int64|UInt64|UInt8|String)
// after their line-protocol type, time Int64 nanoseconds.
//
// A field whose type differs from its column's (or from the same field
// elsewhere in the batch, or that shares its name with a tag) fails the
// whole batch before anything is written, with an ErrInvalid *Error
// naming the table and column. Each measurement is one INSERT; when
// WritePoints returns nil the server has acknowledged every insert. If
// a later measurement fails, earlier ones stay written.
func (s *Store) WritePoints(ctx context.Context, db string, b *lineproto.Batch) error {
	const op = "write"
	if err := validDB(op, db); err != nil {
		return err
	}
	groups, err := groupPoints(db, b)
	if err != nil {
		return err
	}
	for _, m := range groups {
		if err := validTable(op, db, m.name); err != nil {
			return err
		}
		for _, c := range append([]column{{name: m.name}}, m.cols...) {
			if !driverSafeName(c.name) {
				return &Error{Kind: ErrInvalid, Op: op, Database: db, Table: m.name, Column: c.name,
					Msg: "names with parentheses cannot be written to ClickHouse (the driver's INSERT parser does not accept them)"}
			}
		}
	}
	// All schema work first, so a type conflict anywhere fails the batch
	// before any row is written.
	for _, m := range groups {
		if err := s.ensure(ctx, db, m); err != nil {
			return err
		}
	}
	for _, m := range groups {
		if err := s.insert(ctx, db, b, m); err != nil {
			if ServerCode(err) == codeUnknownTable || ServerCode(err) == codeUnknownDatabase {
				// Dropped behind our back: rebuild the schema once.
				s.forget(db, m.name)
				if err = s.ensure(ctx, db, m); err == nil {
					err = s.insert(ctx, db, b, m)
				}
			}
			if err != nil {
				return classify(err, op, db, m.name, false)
			}
		}
	}
	return nil
}

// groupPoints splits a batch by measurement, in order of first sight,
// and works out the columns each needs.
func groupPoints(db string, b *lineproto.Batch) ([]*measurement, error) {
	var out []*measurement
	byName := map[string]*measurement{}
	for i := 0; i < b.Len(); i++ {
		p := b.At(i)
		m := byName[string(p.Measurement)]
		if m == nil {
			m = &measurement{name: string(p.Measurement), kinds: map[string]colKind{"time": kindTime}}
			byName[m.name] = m
			out = append(out, m)
		}
		m.points = append(m.points, i)
		for _, t := range p.Tags {
			if err := m.need(db, string(t.Key), kindTag); err != nil {
				return nil, err
			}
		}
		for _, f := range p.Fields {
			if err := m.need(db, string(f.Key), fieldKind(f.Value.Kind())); err != nil {
				return nil, err
			}
		}
	}
	for _, m := range out {
		if _, ok := m.kinds[seriesColumn]; ok {
			return nil, &Error{Kind: ErrInvalid, Op: "write", Database: db, Table: m.name, Column: seriesColumn,
				Msg: seriesColumn + " is the name of the column that keeps one row per series and time; rename the tag or field"}
		}
		m.cols = append(m.cols, column{name: "time", kind: kindTime}, column{name: seriesColumn, kind: kindSeries})
		names := make([]string, 0, len(m.kinds))
		for n := range m.kinds {
			if n != "time" {
				names = append(names, n)
			}
		}
		slices.SortFunc(names, func(a, b string) int {
			ka, kb := m.kinds[a] == kindTag, m.kinds[b] == kindTag
			switch {
			case ka && !kb:
				return -1
			case kb && !ka:
				return 1
			}
			return strings.Compare(a, b)
		})
		for _, n := range names {
			m.cols = append(m.cols, column{name: n, kind: m.kinds[n]})
		}
	}
	return out, nil
}

func (m *measurement) need(db, name string, k colKind) error {
	old, ok := m.kinds[name]
	if !ok {
		m.kinds[name] = k
		return nil
	}
	if old != k {
		return &Error{Kind: ErrInvalid, Op: "write", Database: db, Table: m.name, Column: name,
			Msg: fmt.Sprintf("%s in one point and %s in another of the same batch", describeKind(old), describeKind(k))}
	}
	return nil
}

func describeKind(k colKind) string {
	if k == kindTag || k == kindTime {
		return "a " + k.String()
	}
	return "a " + k.String() + " field"
}

// ensure makes the table of m exist with every column m needs, checking
// types against what is there.
func (s *Store) ensure(ctx context.Context, db string, m *measurement) error {
	const op = "write"
	st := s.state(db, m.name)
	st.mu.Lock()
	defer st.mu.Unlock()
	retried := false
	for range 5 {
		if !st.loaded {
			if err := s.load(ctx, db, m.name, st); err != nil {
				return classify(err, op, db, m.name, false)
			}
		}
		if len(st.cols) == 0 && len(st.other) == 0 {
			if err := s.createTable(ctx, db, m); err != nil {
				return err
			}
			st.loaded = false
			continue
		}
		if _, ok := st.cols[seriesColumn]; !ok {
			// A table made before the series column (plain MergeTree):
			// written as before, without deduplication.
			m.cols = slices.DeleteFunc(m.cols, func(c column) bool { return c.kind == kindSeries })
		}
		var missing []column
		for _, c := range m.cols {
			have, ok := st.cols[c.name]
			if !ok {
				if typ, other := st.other[c.name]; other {
					return &Error{Kind: ErrInvalid, Op: op, Database: db, Table: m.name, Column: c.name,
						Msg: fmt.Sprintf("%s cannot be stored in a column of type %s", describeKind(c.kind), typ)}
				}
				missing = append(missing, c)
				continue
			}
			if have != c.kind {
				return &Error{Kind: ErrInvalid, Op: op, Database: db, Table: m.name, Column: c.name,
					Msg: fmt.Sprintf("%s conflicts with the column, which holds %s", describeKind(c.kind), describeKind(have))}
			}
		}
		if len(missing) == 0 {
			return nil
		}
		lc := s.lowCardinality()
	add:
		for _, c := range missing {
			err := s.conn.Exec(s.ddlContext(ctx), addColumnSQL(db, m.name, s.cluster, c, lc))
			switch code := ServerCode(err); {
			case err == nil:
				st.cols[c.name] = c.kind
				s.log.Info("clickhouse: column added", "database", db, "table", m.name, "column", c.name, "type", columnType(c.kind, lc))
			case (code == codeIllegalColumn || code == codeDuplicateColumn) && !retried:
				// Another writer added columns first: reload, check again.
				st.loaded = false
				retried = true
				break add
			default:
				return classify(err, op, db, m.name, false)
			}
		}
		if st.loaded {
			return nil
		}
	}
	return &Error{Op: op, Database: db, Table: m.name, Msg: "the table's columns keep changing under concurrent writers"}
}

func (s *Store) lowCardinality() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lc
}

// load reads the table's columns from system.columns.
func (s *Store) load(ctx context.Context, db, table string, st *tableState) error {
	rows, err := s.conn.Query(ctx, "SELECT name, type FROM system.columns WHERE database = "+QuoteString(db)+" AND table = "+QuoteString(table))
	if err != nil {
		return err
	}
	defer rows.Close()
	st.cols = map[string]colKind{}
	st.other = map[string]string{}
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			return err
		}
		if k, ok := kindOfType(name, typ); ok {
			st.cols[name] = k
		} else {
			st.other[name] = typ
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	st.loaded = true
	return nil
}

// createTable creates the table of m, and db when it is missing. When
// the server refuses LowCardinality columns it falls back to String for
// good, saying so in the log.
func (s *Store) createTable(ctx context.Context, db string, m *measurement) error {
	const op = "write"
	lc := s.lowCardinality()
	for attempt := 0; attempt < 3; attempt++ {
		err := s.conn.Exec(s.ddlContext(ctx), createTableSQL(db, m.name, s.cluster, m.cols, lc))
		switch code := ServerCode(err); {
		case err == nil:
			s.log.Info("clickhouse: table created", "database", db, "table", m.name, "columns", len(m.cols))
			return nil
		case code == codeUnknownDatabase:
			if err := s.CreateDatabase(ctx, db); err != nil {
				return err
			}
		case lc && strings.Contains(err.Error(), "LowCardinality"):
			s.mu.Lock()
			s.lc = false
			s.mu.Unlock()
			lc = false
			s.log.Warn("clickhouse: server refuses LowCardinality(String) columns; tags are stored as String", "err", causeText(err))
		default:
			return classify(err, op, db, m.name, false)
		}
	}
	return &Error{Op: op, Database: db, Table: m.name, Msg: "could not create the table"}
}

// insert writes the points of m in one INSERT, column by column.
func (s *Store) insert(ctx context.Context, db string, b *lineproto.Batch, m *measurement) error {
	if s.features.PartitionLimitSetting {
		ctx = ch.Context(ctx, ch.WithSettings(ch.Settings{"max_partitions_per_insert_block": 0}))
	}
	data := columnData(b, m)
	batch, err := s.conn.PrepareBatch(ctx, insertSQL(db, m.name, m.cols))
	if err != nil {
		return err
	}
	defer batch.Abort()
	// The server's header must be our column list, in order (see
	// insertSQL); anything else would put values in the wrong columns.
	got := batch.Columns()
	if len(got) != len(m.cols) {
		return &Error{Op: "write", Database: db, Table: m.name, Msg: fmt.Sprintf("server expects %d columns for the insert, Kodo sends %d", len(got), len(m.cols))}
	}
	for i, c := range m.cols {
		if got[i].Name() != c.name {
			return &Error{Op: "write", Database: db, Table: m.name, Column: c.name, Msg: fmt.Sprintf("server expects column %q at position %d", got[i].Name(), i)}
		}
		if err := batch.Column(i).Append(data[c.name]); err != nil {
			return fmt.Errorf("column %s: %w", c.name, err)
		}
	}
	if batch.Rows() != len(m.points) {
		return &Error{Op: "write", Database: db, Table: m.name, Msg: fmt.Sprintf("batch holds %d rows, want %d", batch.Rows(), len(m.points))}
	}
	return batch.Send()
}

// driverSafeName reports whether the driver passes an INSERT naming
// name to the server intact: its INSERT parser does not allow
// parentheses inside names.
func driverSafeName(name string) bool {
	return !strings.ContainsAny(name, "()")
}

// columnData builds one slice per column of m, keyed by column name.
// Field columns use a value slice plus a pointer slice into it, so a
// NULL costs no allocation of its own.
func columnData(b *lineproto.Batch, m *measurement) map[string]any {
	n := len(m.points)
	times := make([]int64, n)
	var series []uint64
	data := make(map[string]any, len(m.cols))
	for _, c := range m.cols {
		switch c.kind {
		case kindTime:
			data[c.name] = times
		case kindSeries:
			series = make([]uint64, n)
			data[c.name] = series
		default:
			data[c.name] = newColumn(c.kind, n)
		}
	}
	var key []byte
	for row, pi := range m.points {
		p := b.At(pi)
		times[row] = p.Time
		if series != nil {
			key = p.AppendSeriesKey(key[:0])
			series[row] = seriesHash(key)
		}
		for _, t := range p.Tags {
			data[string(t.Key)].([]string)[row] = string(t.Value)
		}
		for _, f := range p.Fields {
			d := data[string(f.Key)]
			switch f.Value.Kind() {
			case lineprotocol.Float:
				d.(*nullable[float64]).set(row, f.Value.FloatV())
			case lineprotocol.Int:
				d.(*nullable[int64]).set(row, f.Value.IntV())
			case lineprotocol.Uint:
				d.(*nullable[uint64]).set(row, f.Value.UintV())
			case lineprotocol.Bool:
				var v uint8
				if f.Value.BoolV() {
					v = 1
				}
				d.(*nullable[uint8]).set(row, v)
			case lineprotocol.String:
				d.(*nullable[string]).set(row, string(f.Value.BytesV()))
			}
		}
	}
	for name, d := range data {
		if nc, ok := d.(interface{ ptrs() any }); ok {
			data[name] = nc.ptrs()
		}
	}
	return data
}

// newColumn returns an empty column of n rows for kind k: ” for tags,
// NULL for fields.
func newColumn(k colKind, n int) any {
	switch k {
	case kindTime:
		return make([]int64, n)
	case kindTag:
		return make([]string, n)
	case kindFloat:
		return newNullable[float64](n)
	case kindInt:
		return newNullable[int64](n)
	case kindUint:
		return newNullable[uint64](n)
	case kindBool:
		return newNullable[uint8](n)
	default:
		return newNullable[string](n)
	}
}

// nullable is a column of optional values.
type nullable[T any] struct {
	vals []T
	p    []*T
}

func newNullable[T any](n int) *nullable[T] {
	return &nullable[T]{vals: make([]T, n), p: make([]*T, n)}
}

func (c *nullable[T]) set(i int, v T) {
	c.vals[i] = v
	c.p[i] = &c.vals[i]
}

func (c *nullable[T]) ptrs() any { return c.p }

// seriesHash is the 64-bit FNV-1a hash of a series key: stable across
// processes and versions, which the deduplication relies on (a point
// written by two gateways must hash the same).
func seriesHash(key []byte) uint64 {
	const (
		offset = 14695981039346656037
		prime  = 1099511628211
	)
	h := uint64(offset)
	for _, c := range key {
		h = (h ^ uint64(c)) * prime
	}
	return h
}
