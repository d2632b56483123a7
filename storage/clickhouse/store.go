package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Options configure a Store. Zero values pick the defaults noted.
type Options struct {
	// Logger receives schema changes and fallbacks; nil discards.
	Logger *slog.Logger
	// Cluster, when set, adds ON CLUSTER to every DDL statement and
	// creates metric tables as ReplicatedMergeTree (the server needs
	// ZooKeeper and the {shard}/{replica} macros).
	Cluster string
	// RowLimit caps the rows a Read returns (default 10000); more rows
	// are cut off and the Result says so.
	RowLimit int
	// QueryTimeout caps a Read's run time, enforced by the server
	// (max_execution_time, whole seconds, at least 1) and by the client
	// (default 30s).
	QueryTimeout time.Duration
}

const (
	defaultRowLimit     = 10000
	defaultQueryTimeout = 30 * time.Second
	maxReadPools        = 32
)

// Features is what Open found out about the server.
type Features struct {
	// Version is the server version, e.g. "18.16.1".
	Version string
	// LowCardinality is true when tag columns are LowCardinality(String);
	// false means String (the type is missing or cannot be created).
	LowCardinality bool
	// LowCardinalitySetting is true when creating LowCardinality columns
	// needs allow_experimental_low_cardinality_type=1 (18.x, early 19.x).
	LowCardinalitySetting bool
	// DescribeColumns are the columns DESCRIBE TABLE answers; 18.16 has
	// name, type, default_type, default_expression, comment_expression.
	DescribeColumns []string
	// CodecExpression and TTLExpression report whether DESCRIBE TABLE
	// has those columns; where not, TableInfo answers "" for them.
	CodecExpression bool
	TTLExpression   bool
	// PartitionLimitSetting is true when the server has
	// max_partitions_per_insert_block (19.x+); WritePoints then lifts it
	// so a backfill spanning many days is one insert.
	PartitionLimitSetting bool
}

// Store talks to one ClickHouse server (or cluster) over the native
// protocol. It is safe for concurrent use.
type Store struct {
	opt      *ch.Options // parsed DSN, copied per read pool
	conn     driver.Conn // DDL and writes
	log      *slog.Logger
	cluster  string
	rowLimit int
	timeout  time.Duration
	features Features

	mu      sync.Mutex
	lc      bool                     // tags as LowCardinality(String); may be switched off by a failed CREATE
	tables  map[tableKey]*tableState // schema cache of metric tables
	readers map[string]*readPool     // per-database pools for Read
}

type tableKey struct{ db, table string }

// Open parses dsn (clickhouse://host:9000/database?dial_timeout=...,
// the clickhouse-go DSN), connects, and probes the server's features.
// A bad DSN is ErrInvalid; a server that cannot be reached is
// ErrUnavailable.
func Open(ctx context.Context, dsn string, opts Options) (*Store, error) {
	chOpt, err := ch.ParseDSN(dsn)
	if err != nil {
		return nil, &Error{Kind: ErrInvalid, Op: "open", Msg: "bad DSN", Err: err}
	}
	if chOpt.MaxOpenConns == 0 {
		chOpt.MaxOpenConns = 10
	}
	if chOpt.DialTimeout == 0 {
		chOpt.DialTimeout = 5 * time.Second
	}
	conn, err := ch.Open(chOpt)
	if err != nil {
		return nil, &Error{Kind: ErrInvalid, Op: "open", Msg: "bad options", Err: err}
	}
	s := &Store{
		opt:      chOpt,
		conn:     conn,
		log:      opts.Logger,
		cluster:  opts.Cluster,
		rowLimit: opts.RowLimit,
		timeout:  opts.QueryTimeout,
		tables:   map[tableKey]*tableState{},
		readers:  map[string]*readPool{},
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.rowLimit <= 0 {
		s.rowLimit = defaultRowLimit
	}
	if s.timeout <= 0 {
		s.timeout = defaultQueryTimeout
	}
	if err := s.detect(ctx); err != nil {
		conn.Close()
		return nil, err
	}
	return s, nil
}

// detect fills s.features.
func (s *Store) detect(ctx context.Context) error {
	if err := s.conn.Ping(ctx); err != nil {
		return classify(err, "open", "", "", false)
	}
	f := &s.features
	if v, err := s.conn.ServerVersion(); err == nil {
		f.Version = fmt.Sprintf("%d.%d.%d", v.Version.Major, v.Version.Minor, v.Version.Patch)
	}
	rows, err := s.conn.Query(ctx, "SELECT name, value FROM system.settings WHERE name IN ('allow_experimental_low_cardinality_type', 'max_partitions_per_insert_block')")
	if err != nil {
		return classify(err, "open", "", "", false)
	}
	for rows.Next() {
		var name, value string
		if err := rows.Scan(&name, &value); err != nil {
			rows.Close()
			return classify(err, "open", "", "", false)
		}
		switch name {
		case "allow_experimental_low_cardinality_type":
			f.LowCardinalitySetting = value == "0"
		case "max_partitions_per_insert_block":
			f.PartitionLimitSetting = true
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return classify(err, "open", "", "", false)
	}
	// The type exists when a CAST to it works; whether a table may have
	// it is learnt on the first CREATE (see createTable).
	var typ string
	if err := s.conn.QueryRow(ctx, "SELECT toTypeName(CAST('' AS LowCardinality(String)))").Scan(&typ); err == nil && typ == "LowCardinality(String)" {
		f.LowCardinality = true
	} else {
		s.log.Info("clickhouse: server has no LowCardinality(String); tags are stored as String", "version", f.Version, "err", err)
	}
	s.lc = f.LowCardinality
	drows, err := s.conn.Query(ctx, "DESCRIBE TABLE system.one")
	if err != nil {
		return classify(err, "open", "", "", false)
	}
	f.DescribeColumns = drows.Columns()
	drows.Close()
	f.CodecExpression = slices.Contains(f.DescribeColumns, "codec_expression")
	f.TTLExpression = slices.Contains(f.DescribeColumns, "ttl_expression")
	s.log.Debug("clickhouse: connected", "version", f.Version, "low_cardinality", f.LowCardinality,
		"low_cardinality_setting", f.LowCardinalitySetting, "describe", f.DescribeColumns)
	return nil
}

// Features reports what Open found out about the server; LowCardinality
// turns false if creating such a column later failed.
func (s *Store) Features() Features {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.features
	f.LowCardinality = s.lc
	f.DescribeColumns = slices.Clone(f.DescribeColumns)
	return f
}

// Close closes every connection.
func (s *Store) Close() error {
	s.mu.Lock()
	pools := s.readers
	s.readers = map[string]*readPool{}
	s.mu.Unlock()
	for _, p := range pools {
		p.conn.Close()
	}
	return s.conn.Close()
}

// ddlContext adds the settings DDL needs on this server.
func (s *Store) ddlContext(ctx context.Context) context.Context {
	if s.features.LowCardinalitySetting {
		return ch.Context(ctx, ch.WithSettings(ch.Settings{"allow_experimental_low_cardinality_type": 1}))
	}
	return ctx
}

// Status answers nil when the server answers a ping; otherwise an error
// of kind ErrUnavailable.
func (s *Store) Status(ctx context.Context) error {
	if err := s.conn.Ping(ctx); err != nil {
		e := classify(err, "status", "", "", false)
		var own *Error
		if errors.As(e, &own) && own.Kind == nil {
			own.Kind = ErrUnavailable
		}
		return e
	}
	return nil
}

// CreateDatabase creates db if it does not exist (idempotent).
func (s *Store) CreateDatabase(ctx context.Context, db string) error {
	if err := validDB("create database", db); err != nil {
		return err
	}
	return classify(s.conn.Exec(ctx, createDatabaseSQL(db, s.cluster)), "create database", db, "", false)
}

// Table is one entry of Tables.
type Table struct {
	Name   string
	Engine string
}

// Table types for Tables.
const (
	TypeTable = "table" // engines of the MergeTree family
	TypeView  = "view"  // View and MaterializedView
	TypeAll   = "all"   // everything, whatever the engine
)

// Tables lists db's tables of the given type ("" means all), sorted by
// name. The .inner.* tables that back materialized views are left out,
// as the spec's example shows.
func (s *Store) Tables(ctx context.Context, db, typ string) ([]Table, error) {
	const op = "list tables"
	if err := validDB(op, db); err != nil {
		return nil, err
	}
	switch typ {
	case "":
		typ = TypeAll
	case TypeTable, TypeView, TypeAll:
	default:
		return nil, &Error{Kind: ErrInvalid, Op: op, Database: db, Msg: fmt.Sprintf("type %q is not one of table, view, all", typ)}
	}
	if err := s.dbExists(ctx, op, db); err != nil {
		return nil, err
	}
	rows, err := s.conn.Query(ctx, "SELECT name, engine FROM system.tables WHERE database = "+QuoteString(db)+" ORDER BY name")
	if err != nil {
		return nil, classify(err, op, db, "", false)
	}
	defer rows.Close()
	out := []Table{}
	for rows.Next() {
		var t Table
		if err := rows.Scan(&t.Name, &t.Engine); err != nil {
			return nil, classify(err, op, db, "", false)
		}
		if strings.HasPrefix(t.Name, ".inner") {
			continue
		}
		isView := t.Engine == "View" || t.Engine == "MaterializedView"
		isTable := strings.HasSuffix(t.Engine, "MergeTree")
		if typ == TypeAll || typ == TypeView && isView || typ == TypeTable && isTable {
			out = append(out, t)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, classify(err, op, db, "", false)
	}
	return out, nil
}

func (s *Store) dbExists(ctx context.Context, op, db string) error {
	var n uint64
	if err := s.conn.QueryRow(ctx, "SELECT count() FROM system.databases WHERE name = "+QuoteString(db)).Scan(&n); err != nil {
		return classify(err, op, db, "", false)
	}
	if n == 0 {
		return &Error{Kind: ErrNotFound, Op: op, Database: db, Msg: "database does not exist"}
	}
	return nil
}

// Column is one row of TableInfo, the columns of the spec's tableinfo.
type Column struct {
	Name              string
	Type              string
	DefaultType       string
	DefaultExpression string
	Comment           string
	CodecExpression   string // "" where the server has no codecs (18.16)
	TTLExpression     string // "" where the server has no column TTL (18.16)
}

// TableInfo describes db.table with DESCRIBE TABLE, mapping whatever
// columns this server answers (18.16 calls the comment
// comment_expression and has neither codec nor TTL) onto Column.
func (s *Store) TableInfo(ctx context.Context, db, table string) ([]Column, error) {
	const op = "describe table"
	if err := validDB(op, db); err != nil {
		return nil, err
	}
	if err := validTable(op, db, table); err != nil {
		return nil, err
	}
	rows, err := s.conn.Query(ctx, "DESCRIBE TABLE "+qualified(db, table))
	if err != nil {
		return nil, classify(err, op, db, table, false)
	}
	defer rows.Close()
	names := rows.Columns()
	dest := make([]any, len(names))
	out := []Column{}
	for rows.Next() {
		var c Column
		for i, n := range names {
			switch n {
			case "name":
				dest[i] = &c.Name
			case "type":
				dest[i] = &c.Type
			case "default_type", "default_kind":
				dest[i] = &c.DefaultType
			case "default_expression":
				dest[i] = &c.DefaultExpression
			case "comment", "comment_expression":
				dest[i] = &c.Comment
			case "codec_expression":
				dest[i] = &c.CodecExpression
			case "ttl_expression":
				dest[i] = &c.TTLExpression
			default:
				// Newer servers add e.g. is_subcolumn (UInt8): read it
				// into a throwaway of the right type.
				dest[i] = newScanDest(rows.ColumnTypes()[i])
			}
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, classify(err, op, db, table, false)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, classify(err, op, db, table, false)
	}
	return out, nil
}

// DropTable drops db.table. An empty table drops every table and view of
// db, keeping the database itself (the spec's drop/metrics example sends
// table_name ""; the database stays so writes go on). A table that does
// not exist is ErrNotFound, as is a database that does not exist.
func (s *Store) DropTable(ctx context.Context, db, table string) error {
	const op = "drop table"
	if err := validDB(op, db); err != nil {
		return err
	}
	if table == "" {
		return s.dropAll(ctx, db)
	}
	if err := validTable(op, db, table); err != nil {
		return err
	}
	if err := s.dbExists(ctx, op, db); err != nil {
		return err
	}
	var n uint64
	if err := s.conn.QueryRow(ctx, "SELECT count() FROM system.tables WHERE database = "+QuoteString(db)+" AND name = "+QuoteString(table)).Scan(&n); err != nil {
		return classify(err, op, db, table, false)
	}
	if n == 0 {
		return &Error{Kind: ErrNotFound, Op: op, Database: db, Table: table, Msg: "table does not exist"}
	}
	err := s.conn.Exec(ctx, dropTableSQL(db, table, s.cluster))
	s.forget(db, table)
	return classify(err, op, db, table, false)
}

func (s *Store) dropAll(ctx context.Context, db string) error {
	const op = "drop tables"
	tables, err := s.Tables(ctx, db, TypeAll)
	if err != nil {
		return err
	}
	// Views first, so no materialized view is left pointing at a
	// dropped source while the drop is in progress.
	slices.SortStableFunc(tables, func(a, b Table) int {
		av := a.Engine == "View" || a.Engine == "MaterializedView"
		bv := b.Engine == "View" || b.Engine == "MaterializedView"
		switch {
		case av && !bv:
			return -1
		case bv && !av:
			return 1
		}
		return 0
	})
	for _, t := range tables {
		err := s.conn.Exec(ctx, dropTableSQL(db, t.Name, s.cluster))
		s.forget(db, t.Name)
		if err != nil {
			return classify(err, op, db, t.Name, false)
		}
	}
	return nil
}

// forget drops a table from the schema cache.
func (s *Store) forget(db, table string) {
	s.mu.Lock()
	delete(s.tables, tableKey{db, table})
	s.mu.Unlock()
}

// serverSeconds converts the query timeout into max_execution_time.
func serverSeconds(d time.Duration) int {
	return int(max(1, math.Ceil(d.Seconds())))
}
