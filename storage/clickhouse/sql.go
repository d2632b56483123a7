package clickhouse

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/influxdata/line-protocol/v2/lineprotocol"
)

// QuoteIdent quotes a database, table or column name for ClickHouse:
// backquotes, with backslash and backquote escaped by a backslash, which
// every ClickHouse version reads back to the same bytes. Control bytes are
// written as \xHH so a statement stays on one line in the server's logs.
func QuoteIdent(name string) string {
	return quoteWith(name, '`')
}

// QuoteString quotes a string literal ('...') the same way.
func QuoteString(s string) string {
	return quoteWith(s, '\'')
}

func quoteWith(s string, q byte) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte(q)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' || c == q:
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c == 0x7f:
			fmt.Fprintf(&b, `\x%02X`, c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte(q)
	return b.String()
}

// qualified returns `db`.`table`.
func qualified(db, table string) string {
	return QuoteIdent(db) + "." + QuoteIdent(table)
}

// reservedDatabases are ClickHouse's own databases: never a workspace's.
var reservedDatabases = map[string]bool{"system": true, "information_schema": true, "INFORMATION_SCHEMA": true}

// checkName validates a database or table name before it is quoted into
// a statement. Quoting makes any bytes safe; this only refuses names the
// server would mangle or that are not ours to touch.
func checkName(what, name string) string {
	switch {
	case name == "":
		return what + " name is empty"
	case len(name) > 200:
		return what + " name is longer than 200 bytes"
	case !utf8.ValidString(name):
		return what + " name is not valid UTF-8"
	case strings.IndexByte(name, 0) >= 0:
		return what + " name contains a NUL byte"
	case name[0] == '.':
		// .inner.* tables belong to materialized views.
		return what + ` name may not start with "."`
	}
	return ""
}

func validDB(op, db string) error {
	if msg := checkName("database", db); msg != "" {
		return &Error{Kind: ErrInvalid, Op: op, Database: db, Msg: msg}
	}
	if reservedDatabases[db] {
		return &Error{Kind: ErrInvalid, Op: op, Database: db, Msg: "the server's own database is not a workspace database"}
	}
	return nil
}

func validTable(op, db, table string) error {
	if msg := checkName("table", table); msg != "" {
		return &Error{Kind: ErrInvalid, Op: op, Database: db, Table: table, Msg: msg}
	}
	return nil
}

// colKind says what a column of a metric table holds.
type colKind uint8

const (
	kindTime colKind = iota
	kindTag
	kindFloat
	kindInt
	kindUint
	kindBool
	kindString
	// kindSeries is the seriesColumn: a hash of the point's series key
	// (measurement and every tag), part of the sorting key so that rows of
	// one series and time collapse into one (ReplacingMergeTree), even for
	// tags added after the table was created.
	kindSeries
)

// seriesColumn names the series-key hash column. Writes refuse a tag or
// field of this name.
const seriesColumn = "__series"

// fieldKind maps a line-protocol value kind to the column kind it needs.
func fieldKind(k lineprotocol.ValueKind) colKind {
	switch k {
	case lineprotocol.Int:
		return kindInt
	case lineprotocol.Uint:
		return kindUint
	case lineprotocol.Bool:
		return kindBool
	case lineprotocol.String:
		return kindString
	default:
		return kindFloat
	}
}

func (k colKind) String() string {
	switch k {
	case kindTime:
		return "time"
	case kindTag:
		return "tag"
	case kindFloat:
		return "float"
	case kindInt:
		return "integer"
	case kindUint:
		return "unsigned"
	case kindBool:
		return "boolean"
	case kindString:
		return "string"
	case kindSeries:
		return "series key"
	}
	return "unknown"
}

// columnType is the ClickHouse type of a column of kind k. Fields are
// Nullable because a point carries only some of a measurement's fields
// and a missing field must read back as NULL, not 0 (InfluxDB semantics).
// Booleans are UInt8: 18.16 has no Bool type.
func columnType(k colKind, lowCardinality bool) string {
	switch k {
	case kindTime:
		return "Int64"
	case kindTag:
		if lowCardinality {
			return "LowCardinality(String)"
		}
		return "String"
	case kindFloat:
		return "Nullable(Float64)"
	case kindInt:
		return "Nullable(Int64)"
	case kindUint:
		return "Nullable(UInt64)"
	case kindBool:
		return "Nullable(UInt8)"
	case kindSeries:
		return "UInt64"
	default:
		return "Nullable(String)"
	}
}

// kindOfType recognises the columns this package creates, so a table
// written by an earlier process is understood again. ok is false for any
// other type; such a column is never written to.
func kindOfType(name, typ string) (colKind, bool) {
	switch typ {
	case "Int64":
		if name == "time" {
			return kindTime, true
		}
	case "UInt64":
		if name == seriesColumn {
			return kindSeries, true
		}
	case "LowCardinality(String)", "String":
		return kindTag, true
	case "Nullable(Float64)":
		return kindFloat, true
	case "Nullable(Int64)":
		return kindInt, true
	case "Nullable(UInt64)":
		return kindUint, true
	case "Nullable(UInt8)", "Nullable(Bool)":
		return kindBool, true
	case "Nullable(String)":
		return kindString, true
	}
	return 0, false
}

// onCluster is the ON CLUSTER clause, or "".
func onCluster(cluster string) string {
	if cluster == "" {
		return ""
	}
	return " ON CLUSTER " + QuoteIdent(cluster)
}

func createDatabaseSQL(db, cluster string) string {
	return "CREATE DATABASE IF NOT EXISTS " + QuoteIdent(db) + onCluster(cluster)
}

func dropTableSQL(db, table, cluster string) string {
	return "DROP TABLE IF EXISTS " + qualified(db, table) + onCluster(cluster)
}

// column is one column of a metric table.
type column struct {
	name string
	kind colKind
}

// createTableSQL builds the CREATE TABLE for a new measurement. The
// sorting key is the tags known at creation, the series hash, then time:
// ClickHouse 18.16 cannot change a sorting key later, so tags added
// afterwards are plain columns, and the series hash keeps their series
// apart. The engine is ReplacingMergeTree, so a point written twice (a
// client's retry, a redelivered message) is one row once merged, and
// reads through Kodo add FINAL (ReadCommandFinal) to see one version
// before that. Partitions are days since the epoch (intDiv keeps it free
// of time zones and valid for times before 1970). With a cluster the
// engine is ReplicatedReplacingMergeTree under the usual {shard}/{replica}
// macros.
func createTableSQL(db, table, cluster string, cols []column, lowCardinality bool) string {
	var b strings.Builder
	b.WriteString("CREATE TABLE IF NOT EXISTS ")
	b.WriteString(qualified(db, table))
	b.WriteString(onCluster(cluster))
	b.WriteString(" (")
	var order []string
	series := false
	for i, c := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(QuoteIdent(c.name))
		b.WriteByte(' ')
		b.WriteString(columnType(c.kind, lowCardinality))
		switch c.kind {
		case kindTag:
			order = append(order, QuoteIdent(c.name))
		case kindSeries:
			series = true
		}
	}
	if series {
		order = append(order, QuoteIdent(seriesColumn))
	}
	order = append(order, "`time`")
	b.WriteString(") ENGINE = ")
	engine := "MergeTree"
	if series {
		engine = "ReplacingMergeTree"
	}
	if cluster == "" {
		b.WriteString(engine)
	} else {
		b.WriteString("Replicated" + engine + "(")
		b.WriteString(QuoteString("/clickhouse/tables/{shard}/" + db + "/" + table))
		b.WriteString(", '{replica}')")
	}
	b.WriteString(" PARTITION BY intDiv(`time`, 86400000000000) ORDER BY (")
	b.WriteString(strings.Join(order, ", "))
	b.WriteString(")")
	return b.String()
}

func addColumnSQL(db, table, cluster string, c column, lowCardinality bool) string {
	return "ALTER TABLE " + qualified(db, table) + onCluster(cluster) +
		" ADD COLUMN " + QuoteIdent(c.name) + " " + columnType(c.kind, lowCardinality)
}

// insertSQL names the columns with no space before "(": the driver then
// leaves the list alone (it would re-sort the server's header by names it
// unquotes naively, losing escaped quotes), and the server's header
// follows the list, which insert verifies.
func insertSQL(db, table string, cols []column) string {
	var b strings.Builder
	b.WriteString("INSERT INTO ")
	b.WriteString(qualified(db, table))
	b.WriteString("(")
	for i, c := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(QuoteIdent(c.name))
	}
	b.WriteString(")")
	return b.String()
}
