package influxql

import (
	"fmt"
	"reflect"

	iql "github.com/influxdata/influxql"
)

// Allow says which statement kinds a caller may run.
type Allow int

const (
	// AllowRead permits SELECT (without INTO), EXPLAIN and the SHOW
	// statements that look inside one database (/v1/read/metrics, /query).
	AllowRead Allow = iota
	// AllowManage also permits changing the database's contents and
	// settings: CREATE/ALTER/DROP RETENTION POLICY ON db, DROP MEASUREMENT,
	// DROP SERIES, DELETE, CREATE/DROP CONTINUOUS QUERY ON db and
	// SELECT ... INTO, where every INTO must target db itself.
	AllowManage
)

func (a Allow) String() string {
	switch a {
	case AllowRead:
		return "read"
	case AllowManage:
		return "manage"
	}
	return fmt.Sprintf("Allow(%d)", int(a))
}

// Guard parses q and checks every statement, and every subquery, against
// db: a query runs inside db and nowhere else.
//
// A source or ON clause naming db itself, or no database at all, is
// accepted (an omitted ON means db). Rejected, with a *ScopeError: sources
// and ON clauses naming another database (including SHOW MEASUREMENTS ON
// *.*), INTO on AllowRead (on AllowManage, INTO another database),
// statement kinds outside allow, and statements that reveal or change
// other databases or the server: SHOW DATABASES, SHOW CONTINUOUS QUERIES
// (it lists every database's queries), users, grants, KILL QUERY, shards,
// subscriptions, stats and diagnostics, CREATE/DROP DATABASE. A query with
// no statement, or over the limits (MaxQueryBytes, MaxStatements,
// MaxParens, MaxDepth), is a *ScopeError too; a syntax error is a
// *ParseError. Database names compare exactly: InfluxDB's are
// case-sensitive.
func Guard(q, db string, allow Allow) (*iql.Query, error) {
	if db == "" {
		return nil, &ScopeError{Reason: ReasonNoDatabase, Msg: "no database to run the query in"}
	}
	if allow != AllowRead && allow != AllowManage {
		return nil, &ScopeError{Reason: ReasonStatementNotAllowed, Msg: fmt.Sprintf("unknown permission %v", allow)}
	}
	query, err := parseQuery(q)
	if err != nil {
		return nil, err
	}
	if err := GuardQuery(query, db, allow); err != nil {
		return nil, err
	}
	return query, nil
}

// GuardQuery applies Guard's checks to a query already parsed with Parse.
func GuardQuery(query *iql.Query, db string, allow Allow) error {
	if db == "" {
		return &ScopeError{Reason: ReasonNoDatabase, Msg: "no database to run the query in"}
	}
	if allow != AllowRead && allow != AllowManage {
		return &ScopeError{Reason: ReasonStatementNotAllowed, Msg: fmt.Sprintf("unknown permission %v", allow)}
	}
	if query == nil || len(query.Statements) == 0 {
		return &ScopeError{Reason: ReasonEmpty, Msg: "the query holds no statement"}
	}
	g := guard{db: db, allow: allow}
	for i, st := range query.Statements {
		if msg, reason := g.statement(st); msg != "" {
			return &ScopeError{Statement: i + 1, Reason: reason, Msg: msg}
		}
	}
	return nil
}

// field reads the named field of a statement: many statement kinds share
// Database and Sources fields but no method that returns them, and one
// case for all of them keeps the rule in one place. The cases that call
// it list only kinds that have the field (TestGuard covers each).
func field[T any](st iql.Statement, name string) T {
	return reflect.ValueOf(st).Elem().FieldByName(name).Interface().(T)
}

type guard struct {
	db    string
	allow Allow
}

// statement returns "" when st may run, else why not.
func (g guard) statement(st iql.Statement) (string, Reason) {
	kind := statementKind(st)
	manageOnly := func() (string, Reason) {
		if g.allow != AllowManage {
			return fmt.Sprintf("%s changes the database; this endpoint only reads (SELECT and SHOW)", kind), ReasonStatementNotAllowed
		}
		return "", 0
	}
	switch s := st.(type) {
	case *iql.SelectStatement:
		return g.selectStmt(s, g.allow == AllowManage, false)
	case *iql.ExplainStatement:
		return g.selectStmt(s.Statement, false, false)

	case *iql.ShowMeasurementsStatement:
		if s.WildcardDatabase {
			return g.foreign(kind, "*"), ReasonForeignDatabase
		}
		if msg := g.on(kind, s.Database); msg != "" {
			return msg, ReasonForeignDatabase
		}
		if s.Source != nil {
			return g.sources(kind, iql.Sources{s.Source})
		}
		return "", 0
	case *iql.ShowRetentionPoliciesStatement:
		return g.onReason(kind, s.Database)
	case *iql.ShowSeriesStatement, *iql.ShowSeriesCardinalityStatement, *iql.ShowMeasurementCardinalityStatement,
		*iql.ShowTagKeysStatement, *iql.ShowTagKeyCardinalityStatement, *iql.ShowTagValuesStatement,
		*iql.ShowTagValuesCardinalityStatement, *iql.ShowFieldKeysStatement, *iql.ShowFieldKeyCardinalityStatement:
		return g.onAndSources(kind, field[string](st, "Database"), field[iql.Sources](st, "Sources"))

	case *iql.CreateRetentionPolicyStatement, *iql.AlterRetentionPolicyStatement, *iql.DropRetentionPolicyStatement,
		*iql.DropContinuousQueryStatement:
		if msg, r := manageOnly(); msg != "" {
			return msg, r
		}
		return g.onReason(kind, field[string](st, "Database"))
	case *iql.DropMeasurementStatement:
		return manageOnly()
	case *iql.DropSeriesStatement, *iql.DeleteSeriesStatement:
		if msg, r := manageOnly(); msg != "" {
			return msg, r
		}
		return g.sources(kind, field[iql.Sources](st, "Sources"))
	case *iql.DeleteStatement:
		if msg, r := manageOnly(); msg != "" {
			return msg, r
		}
		if s.Source == nil {
			return "", 0
		}
		return g.sources(kind, iql.Sources{s.Source})
	case *iql.CreateContinuousQueryStatement:
		if msg, r := manageOnly(); msg != "" {
			return msg, r
		}
		if msg, r := g.onReason(kind, s.Database); msg != "" {
			return msg, r
		}
		if s.Source == nil {
			return "", 0
		}
		return g.selectStmt(s.Source, true, false)

	case *iql.ShowContinuousQueriesStatement:
		return fmt.Sprintf("%s lists the continuous queries of every database and is not available here", kind), ReasonStatementNotAllowed
	case *iql.ShowDatabasesStatement:
		return fmt.Sprintf("%s would reveal other databases; queries run in database %s only", kind, iql.QuoteIdent(g.db)), ReasonStatementNotAllowed
	}
	// Everything else acts on the server or on other databases: users,
	// grants, KILL QUERY, shards, subscriptions, stats, diagnostics,
	// CREATE/DROP DATABASE. Listing them by exclusion means a statement kind
	// added to influxql later is rejected until someone decides otherwise.
	return fmt.Sprintf("%s acts on the server or on other databases and is not allowed; queries run in database %s only", kind, iql.QuoteIdent(g.db)), ReasonStatementNotAllowed
}

// selectStmt checks a SELECT and, recursively, its subqueries.
func (g guard) selectStmt(s *iql.SelectStatement, allowInto, sub bool) (string, Reason) {
	if s == nil {
		return "", 0
	}
	if s.Target != nil {
		switch {
		case sub:
			return "a subquery cannot have an INTO clause", ReasonInto
		case !allowInto:
			return "SELECT ... INTO writes data; this endpoint only reads: remove the INTO clause", ReasonInto
		case s.Target.Measurement != nil && s.Target.Measurement.Database != "" && s.Target.Measurement.Database != g.db:
			return fmt.Sprintf("INTO %s writes into database %s; queries may only write into database %s",
				s.Target.Measurement, iql.QuoteIdent(s.Target.Measurement.Database), iql.QuoteIdent(g.db)), ReasonForeignDatabase
		}
	}
	for _, src := range s.Sources {
		switch src := src.(type) {
		case *iql.Measurement:
			if msg := g.measurement("SELECT", src); msg != "" {
				return msg, ReasonForeignDatabase
			}
		case *iql.SubQuery:
			if msg, r := g.selectStmt(src.Statement, false, true); msg != "" {
				return msg, r
			}
		}
	}
	return "", 0
}

func (g guard) sources(kind string, srcs iql.Sources) (string, Reason) {
	for _, src := range srcs {
		switch src := src.(type) {
		case *iql.Measurement:
			if msg := g.measurement(kind, src); msg != "" {
				return msg, ReasonForeignDatabase
			}
		case *iql.SubQuery:
			if msg, r := g.selectStmt(src.Statement, false, true); msg != "" {
				return msg, r
			}
		}
	}
	return "", 0
}

func (g guard) measurement(kind string, m *iql.Measurement) string {
	if m == nil || m.Database == "" || m.Database == g.db {
		return ""
	}
	return fmt.Sprintf("%s source %s names database %s; queries run in database %s only: drop the database prefix (write rp.measurement or measurement)",
		kind, m, iql.QuoteIdent(m.Database), iql.QuoteIdent(g.db))
}

func (g guard) on(kind, db string) string {
	if db == "" || db == g.db {
		return ""
	}
	return g.foreign(kind, db)
}

func (g guard) foreign(kind, db string) string {
	if db == "*" {
		return fmt.Sprintf("%s ON *.* reaches every database; queries run in database %s only: omit ON", kind, iql.QuoteIdent(g.db))
	}
	return fmt.Sprintf("%s ON %s names another database; queries run in database %s only: omit ON or write ON %s",
		kind, iql.QuoteIdent(db), iql.QuoteIdent(g.db), iql.QuoteIdent(g.db))
}

func (g guard) onReason(kind, db string) (string, Reason) {
	if msg := g.on(kind, db); msg != "" {
		return msg, ReasonForeignDatabase
	}
	return "", 0
}

func (g guard) onAndSources(kind, db string, srcs iql.Sources) (string, Reason) {
	if msg := g.on(kind, db); msg != "" {
		return msg, ReasonForeignDatabase
	}
	return g.sources(kind, srcs)
}

// statementKind names a statement the way a user wrote it, for messages.
func statementKind(st iql.Statement) string {
	switch st.(type) {
	case *iql.SelectStatement:
		return "SELECT"
	case *iql.ExplainStatement:
		return "EXPLAIN"
	case *iql.ShowMeasurementsStatement:
		return "SHOW MEASUREMENTS"
	case *iql.ShowRetentionPoliciesStatement:
		return "SHOW RETENTION POLICIES"
	case *iql.ShowSeriesStatement:
		return "SHOW SERIES"
	case *iql.ShowSeriesCardinalityStatement:
		return "SHOW SERIES CARDINALITY"
	case *iql.ShowMeasurementCardinalityStatement:
		return "SHOW MEASUREMENT CARDINALITY"
	case *iql.ShowTagKeysStatement:
		return "SHOW TAG KEYS"
	case *iql.ShowTagKeyCardinalityStatement:
		return "SHOW TAG KEY CARDINALITY"
	case *iql.ShowTagValuesStatement:
		return "SHOW TAG VALUES"
	case *iql.ShowTagValuesCardinalityStatement:
		return "SHOW TAG VALUES CARDINALITY"
	case *iql.ShowFieldKeysStatement:
		return "SHOW FIELD KEYS"
	case *iql.ShowFieldKeyCardinalityStatement:
		return "SHOW FIELD KEY CARDINALITY"
	case *iql.ShowContinuousQueriesStatement:
		return "SHOW CONTINUOUS QUERIES"
	case *iql.ShowDatabasesStatement:
		return "SHOW DATABASES"
	case *iql.ShowUsersStatement:
		return "SHOW USERS"
	case *iql.ShowGrantsForUserStatement:
		return "SHOW GRANTS"
	case *iql.ShowShardsStatement:
		return "SHOW SHARDS"
	case *iql.ShowShardGroupsStatement:
		return "SHOW SHARD GROUPS"
	case *iql.ShowStatsStatement:
		return "SHOW STATS"
	case *iql.ShowDiagnosticsStatement:
		return "SHOW DIAGNOSTICS"
	case *iql.ShowQueriesStatement:
		return "SHOW QUERIES"
	case *iql.ShowSubscriptionsStatement:
		return "SHOW SUBSCRIPTIONS"
	case *iql.CreateRetentionPolicyStatement:
		return "CREATE RETENTION POLICY"
	case *iql.AlterRetentionPolicyStatement:
		return "ALTER RETENTION POLICY"
	case *iql.DropRetentionPolicyStatement:
		return "DROP RETENTION POLICY"
	case *iql.DropMeasurementStatement:
		return "DROP MEASUREMENT"
	case *iql.DropSeriesStatement:
		return "DROP SERIES"
	case *iql.DeleteSeriesStatement, *iql.DeleteStatement:
		return "DELETE"
	case *iql.CreateContinuousQueryStatement:
		return "CREATE CONTINUOUS QUERY"
	case *iql.DropContinuousQueryStatement:
		return "DROP CONTINUOUS QUERY"
	case *iql.CreateDatabaseStatement:
		return "CREATE DATABASE"
	case *iql.DropDatabaseStatement:
		return "DROP DATABASE"
	case *iql.CreateUserStatement:
		return "CREATE USER"
	case *iql.DropUserStatement:
		return "DROP USER"
	case *iql.SetPasswordUserStatement:
		return "SET PASSWORD"
	case *iql.GrantStatement, *iql.GrantAdminStatement:
		return "GRANT"
	case *iql.RevokeStatement, *iql.RevokeAdminStatement:
		return "REVOKE"
	case *iql.KillQueryStatement:
		return "KILL QUERY"
	case *iql.DropShardStatement:
		return "DROP SHARD"
	case *iql.CreateSubscriptionStatement:
		return "CREATE SUBSCRIPTION"
	case *iql.DropSubscriptionStatement:
		return "DROP SUBSCRIPTION"
	}
	return fmt.Sprintf("%T", st)
}
