package influxql

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// parseFails marks a case that influxql's parser already rejects.
const parseFails Reason = -1

func TestGuard(t *testing.T) {
	const db = "mydb"
	type tc struct {
		name   string
		q      string
		allow  Allow
		reason Reason // 0: accepted
		stmt   int    // statement the error names
		msg    string // substring of the error
	}
	cases := []tc{
		// accepted reads
		{name: "plain select", q: "SELECT v FROM cpu"},
		{name: "own db by name", q: `SELECT v FROM mydb.autogen.cpu`},
		{name: "own db quoted", q: `SELECT v FROM "mydb"."autogen"."cpu"`},
		{name: "own db empty rp", q: `SELECT v FROM mydb..cpu`},
		{name: "rp only", q: `SELECT v FROM autogen.cpu`},
		{name: "regex source in own db", q: `SELECT * FROM /.*/`},
		{name: "regex source own db named", q: `SELECT * FROM mydb../.*/`},
		{name: "subquery own db", q: `SELECT mean(x) FROM (SELECT v AS x FROM mydb..cpu) GROUP BY time(1m)`},
		{name: "explain", q: `EXPLAIN SELECT v FROM cpu`},
		{name: "show measurements", q: `SHOW MEASUREMENTS`},
		{name: "show measurements on own", q: `SHOW MEASUREMENTS ON mydb`},
		{name: "show measurements with measurement", q: `SHOW MEASUREMENTS WITH MEASUREMENT =~ /c.*/`},
		{name: "show measurements own db any rp", q: `SHOW MEASUREMENTS ON mydb.*`},
		{name: "show rps omitted on", q: `SHOW RETENTION POLICIES`},
		{name: "show rps on own", q: `SHOW RETENTION POLICIES ON "mydb"`},
		{name: "show tag keys", q: `SHOW TAG KEYS ON mydb FROM cpu`},
		{name: "show tag values", q: `SHOW TAG VALUES FROM cpu WITH KEY = "host"`},
		{name: "show field keys", q: `SHOW FIELD KEYS FROM mydb.autogen.cpu`},
		{name: "show series", q: `SHOW SERIES FROM cpu WHERE host = 'a'`},
		{name: "show series cardinality", q: `SHOW SERIES CARDINALITY ON mydb`},
		{name: "show measurement cardinality", q: `SHOW MEASUREMENT EXACT CARDINALITY`},
		{name: "comments and semicolons", q: "-- hello\nSELECT v FROM cpu; /* c */ SELECT v FROM mem;;"},
		{name: "comment hides nothing", q: "SELECT v FROM cpu -- FROM other..cpu"},
		{name: "string looking like a source", q: `SELECT v FROM cpu WHERE host = 'other..cpu'`},
		{name: "mixed case keywords", q: `sElEcT v fRoM cpu`},

		// foreign databases
		{name: "db..m", q: `SELECT v FROM other..cpu`, reason: ReasonForeignDatabase, stmt: 1, msg: `database other`},
		{name: "quoted db.rp.m", q: `SELECT v FROM "other"."autogen"."cpu"`, reason: ReasonForeignDatabase, stmt: 1},
		{name: "case differs", q: `SELECT v FROM MYDB..cpu`, reason: ReasonForeignDatabase, stmt: 1},
		{name: "quoted with dot inside", q: `SELECT v FROM "mydb.x".autogen.cpu`, reason: ReasonForeignDatabase, stmt: 1},
		{name: "second source foreign", q: `SELECT v FROM cpu, other..mem`, reason: ReasonForeignDatabase, stmt: 1},
		{name: "foreign regex", q: `SELECT * FROM other../.*/`, reason: ReasonForeignDatabase, stmt: 1},
		{name: "foreign in subquery", q: `SELECT x FROM (SELECT v AS x FROM other..cpu)`, reason: ReasonForeignDatabase, stmt: 1},
		{name: "foreign in nested subquery", q: `SELECT x FROM (SELECT x FROM (SELECT v AS x FROM "other".."cpu"))`, reason: ReasonForeignDatabase, stmt: 1},
		{name: "second statement foreign", q: "SELECT v FROM cpu;\nSELECT v FROM other..cpu", reason: ReasonForeignDatabase, stmt: 2},
		{name: "after comment", q: "SELECT v /* ; */ FROM cpu -- ;\n; SELECT v FROM other..cpu", reason: ReasonForeignDatabase, stmt: 2},
		{name: "explain foreign", q: `EXPLAIN ANALYZE SELECT v FROM other..cpu`, reason: ReasonForeignDatabase, stmt: 1},
		{name: "show measurements on other", q: `SHOW MEASUREMENTS ON other`, reason: ReasonForeignDatabase, stmt: 1, msg: "omit ON"},
		{name: "show measurements on *.*", q: `SHOW MEASUREMENTS ON *.*`, reason: ReasonForeignDatabase, stmt: 1},
		{name: "show measurements on *", q: `SHOW MEASUREMENTS ON *`, reason: ReasonForeignDatabase, stmt: 1},
		{name: "show rps other", q: `SHOW RETENTION POLICIES ON other`, reason: ReasonForeignDatabase, stmt: 1},
		{name: "show tag keys other", q: `SHOW TAG KEYS ON other`, reason: ReasonForeignDatabase, stmt: 1},
		{name: "show tag keys from other", q: `SHOW TAG KEYS FROM other.autogen.cpu`, reason: ReasonForeignDatabase, stmt: 1},
		{name: "show tag values other", q: `SHOW TAG VALUES ON other WITH KEY = host`, reason: ReasonForeignDatabase, stmt: 1},
		{name: "show field keys other", q: `SHOW FIELD KEYS ON other`, reason: ReasonForeignDatabase, stmt: 1},
		{name: "show series other", q: `SHOW SERIES ON other`, reason: ReasonForeignDatabase, stmt: 1},
		{name: "show series from other", q: `SHOW SERIES FROM other..cpu`, reason: ReasonForeignDatabase, stmt: 1},
		{name: "series cardinality other", q: `SHOW SERIES CARDINALITY ON other`, reason: ReasonForeignDatabase, stmt: 1},
		{name: "measurement cardinality other", q: `SHOW MEASUREMENT CARDINALITY ON other`, reason: ReasonForeignDatabase, stmt: 1},
		{name: "tag key cardinality other", q: `SHOW TAG KEY CARDINALITY ON other`, reason: ReasonForeignDatabase, stmt: 1},
		{name: "tag values cardinality other", q: `SHOW TAG VALUES CARDINALITY ON other WITH KEY = host`, reason: ReasonForeignDatabase, stmt: 1},
		{name: "field key cardinality other", q: `SHOW FIELD KEY CARDINALITY ON other`, reason: ReasonForeignDatabase, stmt: 1},

		// INTO
		{name: "into on read", q: `SELECT v INTO cpu2 FROM cpu`, reason: ReasonInto, stmt: 1, msg: "remove the INTO"},
		{name: "into on read own db", q: `SELECT v INTO mydb.autogen.cpu2 FROM cpu`, reason: ReasonInto, stmt: 1},
		{name: "into other on manage", q: `SELECT v INTO other.autogen.cpu2 FROM cpu`, allow: AllowManage, reason: ReasonForeignDatabase, stmt: 1},
		{name: "into own on manage", q: `SELECT v INTO mydb.autogen.cpu2 FROM cpu`, allow: AllowManage},
		{name: "into bare on manage", q: `SELECT * INTO mydb.autogen.:MEASUREMENT FROM /.*/`, allow: AllowManage},
		{name: "into other measurement-template on manage", q: `SELECT * INTO other.autogen.:MEASUREMENT FROM /.*/`, allow: AllowManage, reason: ReasonForeignDatabase, stmt: 1},

		// statement kinds
		{name: "show databases", q: `SHOW DATABASES`, reason: ReasonStatementNotAllowed, stmt: 1, msg: "other databases"},
		{name: "show databases manage", q: `SHOW DATABASES`, allow: AllowManage, reason: ReasonStatementNotAllowed, stmt: 1},
		{name: "show users", q: `SHOW USERS`, reason: ReasonStatementNotAllowed, stmt: 1, msg: "SHOW USERS"},
		{name: "show grants", q: `SHOW GRANTS FOR bob`, reason: ReasonStatementNotAllowed, stmt: 1},
		{name: "show shards", q: `SHOW SHARDS`, reason: ReasonStatementNotAllowed, stmt: 1},
		{name: "show shard groups", q: `SHOW SHARD GROUPS`, reason: ReasonStatementNotAllowed, stmt: 1},
		{name: "show stats", q: `SHOW STATS`, reason: ReasonStatementNotAllowed, stmt: 1},
		{name: "show diagnostics", q: `SHOW DIAGNOSTICS`, reason: ReasonStatementNotAllowed, stmt: 1},
		{name: "show queries", q: `SHOW QUERIES`, reason: ReasonStatementNotAllowed, stmt: 1},
		{name: "show subscriptions", q: `SHOW SUBSCRIPTIONS`, reason: ReasonStatementNotAllowed, stmt: 1},
		{name: "show cqs", q: `SHOW CONTINUOUS QUERIES`, allow: AllowManage, reason: ReasonStatementNotAllowed, stmt: 1},
		{name: "kill query", q: `KILL QUERY 1`, allow: AllowManage, reason: ReasonStatementNotAllowed, stmt: 1},
		{name: "create database", q: `CREATE DATABASE x`, allow: AllowManage, reason: ReasonStatementNotAllowed, stmt: 1},
		{name: "drop database own", q: `DROP DATABASE mydb`, allow: AllowManage, reason: ReasonStatementNotAllowed, stmt: 1},
		{name: "create user", q: `CREATE USER bob WITH PASSWORD 'x' WITH ALL PRIVILEGES`, allow: AllowManage, reason: ReasonStatementNotAllowed, stmt: 1},
		{name: "drop user", q: `DROP USER bob`, allow: AllowManage, reason: ReasonStatementNotAllowed, stmt: 1},
		{name: "set password", q: `SET PASSWORD FOR bob = 'x'`, allow: AllowManage, reason: ReasonStatementNotAllowed, stmt: 1},
		{name: "grant", q: `GRANT ALL ON mydb TO bob`, allow: AllowManage, reason: ReasonStatementNotAllowed, stmt: 1},
		{name: "grant admin", q: `GRANT ALL PRIVILEGES TO bob`, allow: AllowManage, reason: ReasonStatementNotAllowed, stmt: 1},
		{name: "revoke", q: `REVOKE ALL ON mydb FROM bob`, allow: AllowManage, reason: ReasonStatementNotAllowed, stmt: 1},
		{name: "drop shard", q: `DROP SHARD 1`, allow: AllowManage, reason: ReasonStatementNotAllowed, stmt: 1},
		{name: "create subscription", q: `CREATE SUBSCRIPTION s ON mydb.autogen DESTINATIONS ALL 'udp://h:1'`, allow: AllowManage, reason: ReasonStatementNotAllowed, stmt: 1},
		{name: "drop subscription", q: `DROP SUBSCRIPTION s ON mydb.autogen`, allow: AllowManage, reason: ReasonStatementNotAllowed, stmt: 1},
		{name: "select then drop database", q: `SELECT v FROM cpu; DROP DATABASE mydb`, allow: AllowManage, reason: ReasonStatementNotAllowed, stmt: 2},

		// manage statements on read
		{name: "drop measurement on read", q: `DROP MEASUREMENT cpu`, reason: ReasonStatementNotAllowed, stmt: 1, msg: "only reads"},
		{name: "delete on read", q: `DELETE FROM cpu WHERE time < now()`, reason: ReasonStatementNotAllowed, stmt: 1},
		{name: "create rp on read", q: `CREATE RETENTION POLICY r ON mydb DURATION 1h REPLICATION 1`, reason: ReasonStatementNotAllowed, stmt: 1},
		{name: "create cq on read", q: `CREATE CONTINUOUS QUERY c ON mydb BEGIN SELECT mean(v) INTO m2 FROM cpu GROUP BY time(1m) END`, reason: ReasonStatementNotAllowed, stmt: 1},

		// manage statements
		{name: "create rp", q: `CREATE RETENTION POLICY r ON mydb DURATION 1h REPLICATION 1`, allow: AllowManage},
		{name: "create rp other", q: `CREATE RETENTION POLICY r ON other DURATION 1h REPLICATION 1`, allow: AllowManage, reason: ReasonForeignDatabase, stmt: 1},
		{name: "alter rp", q: `ALTER RETENTION POLICY r ON mydb DURATION 2h DEFAULT`, allow: AllowManage},
		{name: "alter rp other", q: `ALTER RETENTION POLICY r ON "other" DURATION 2h`, allow: AllowManage, reason: ReasonForeignDatabase, stmt: 1},
		{name: "drop rp", q: `DROP RETENTION POLICY r ON mydb`, allow: AllowManage},
		{name: "drop rp other", q: `DROP RETENTION POLICY r ON other`, allow: AllowManage, reason: ReasonForeignDatabase, stmt: 1},
		{name: "drop measurement", q: `DROP MEASUREMENT cpu`, allow: AllowManage},
		{name: "drop series", q: `DROP SERIES FROM cpu WHERE host = 'a'`, allow: AllowManage},
		// influxql itself refuses a database here; still refused.
		{name: "drop series other", q: `DROP SERIES FROM other..cpu`, allow: AllowManage, reason: parseFails},
		{name: "delete", q: `DELETE FROM cpu WHERE time < now() - 1d`, allow: AllowManage},
		{name: "delete where only", q: `DELETE WHERE time < now() - 1d`, allow: AllowManage},
		{name: "delete other", q: `DELETE FROM other.autogen.cpu`, allow: AllowManage, reason: parseFails},
		{name: "create cq", q: `CREATE CONTINUOUS QUERY c ON mydb BEGIN SELECT mean(v) INTO m2 FROM cpu GROUP BY time(1m) END`, allow: AllowManage},
		{name: "create cq into own db", q: `CREATE CONTINUOUS QUERY c ON mydb RESAMPLE EVERY 1m BEGIN SELECT mean(v) INTO mydb.cqrp.m2 FROM cpu GROUP BY time(1m) END`, allow: AllowManage},
		{name: "create cq on other", q: `CREATE CONTINUOUS QUERY c ON other BEGIN SELECT mean(v) INTO m2 FROM cpu GROUP BY time(1m) END`, allow: AllowManage, reason: ReasonForeignDatabase, stmt: 1},
		{name: "create cq into other", q: `CREATE CONTINUOUS QUERY c ON mydb BEGIN SELECT mean(v) INTO other.autogen.m2 FROM cpu GROUP BY time(1m) END`, allow: AllowManage, reason: ReasonForeignDatabase, stmt: 1},
		{name: "create cq from other", q: `CREATE CONTINUOUS QUERY c ON mydb BEGIN SELECT mean(v) INTO m2 FROM other..cpu GROUP BY time(1m) END`, allow: AllowManage, reason: ReasonForeignDatabase, stmt: 1},
		{name: "drop cq", q: `DROP CONTINUOUS QUERY c ON mydb`, allow: AllowManage},
		{name: "drop cq other", q: `DROP CONTINUOUS QUERY c ON other`, allow: AllowManage, reason: ReasonForeignDatabase, stmt: 1},
		{name: "explain into on manage", q: `EXPLAIN SELECT v INTO m2 FROM cpu`, allow: AllowManage, reason: ReasonInto, stmt: 1},

		// shape of the query
		{name: "empty", q: ``, reason: ReasonEmpty},
		{name: "only comments", q: "-- nothing\n/* here */ ;;", reason: ReasonEmpty},
		{name: "too many statements", q: strings.Repeat("SELECT v FROM cpu;", MaxStatements+1), reason: ReasonTooLarge, msg: "at most"},
		{name: "too many parens", q: "SELECT " + strings.Repeat("(", MaxParens+1) + "v" + strings.Repeat(")", MaxParens+1) + " FROM cpu", reason: ReasonTooLarge},
		{name: "too deep", q: "SELECT v FROM cpu WHERE " + strings.Repeat("a = 1 AND ", MaxDepth) + "a = 1", reason: ReasonTooLarge, stmt: 1},
		{name: "too long", q: "SELECT v FROM cpu WHERE host = '" + strings.Repeat("x", MaxQueryBytes) + "'", reason: ReasonTooLarge},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q, err := Guard(c.q, db, c.allow)
			if c.reason == 0 {
				require.NoError(t, err)
				require.NotNil(t, q)
				return
			}
			require.Error(t, err)
			assert.Nil(t, q)
			if c.reason == parseFails {
				var pe *ParseError
				require.True(t, errors.As(err, &pe), "want *ParseError, got %T: %v", err, err)
				return
			}
			var se *ScopeError
			require.True(t, errors.As(err, &se), "want *ScopeError, got %T: %v", err, err)
			assert.Equal(t, c.reason, se.Reason, se.Error())
			assert.Equal(t, c.stmt, se.Statement, se.Error())
			if c.msg != "" {
				assert.Contains(t, se.Error(), c.msg)
			}
		})
	}
}

func TestGuardParseError(t *testing.T) {
	_, err := Guard("SELECT v FROM cpu;\nSELECT FROM", "mydb", AllowRead)
	var pe *ParseError
	require.True(t, errors.As(err, &pe), "got %T: %v", err, err)
	assert.Equal(t, 2, pe.Line)
	assert.Equal(t, 8, pe.Char)
	assert.Contains(t, pe.Msg, "found FROM")
	assert.Contains(t, err.Error(), "line 2, char 8")

	// A statement that influxql cannot parse stays a parse error, even if
	// it would also be out of scope.
	_, err = Guard("SELECT v FROM other..cpu WHERE", "mydb", AllowRead)
	require.True(t, errors.As(err, &pe), "got %T: %v", err, err)
}

func TestGuardArguments(t *testing.T) {
	var se *ScopeError
	_, err := Guard("SELECT v FROM cpu", "", AllowRead)
	require.True(t, errors.As(err, &se))
	assert.Equal(t, ReasonNoDatabase, se.Reason)

	_, err = Guard("SELECT v FROM cpu", "mydb", Allow(7))
	require.True(t, errors.As(err, &se))
	assert.Equal(t, ReasonStatementNotAllowed, se.Reason)
}

// The returned query is the parsed one: callers execute it as is.
func TestGuardReturnsQuery(t *testing.T) {
	q, err := Guard("select v from cpu; show measurements", "mydb", AllowRead)
	require.NoError(t, err)
	assert.Equal(t, "SELECT v FROM cpu;\nSHOW MEASUREMENTS", q.String())
}

func FuzzGuard(f *testing.F) {
	for _, s := range []string{
		"SELECT v FROM cpu", "SELECT v FROM other..cpu", `SHOW MEASUREMENTS ON *.*`,
		"SELECT x FROM (SELECT v FROM db..m) WHERE time > now() - 1h",
		"CREATE CONTINUOUS QUERY c ON mydb BEGIN SELECT mean(v) INTO m2 FROM cpu GROUP BY time(1m) END",
		"DELETE FROM cpu WHERE time < 0", "-- c\nSELECT /* x */ v FROM /a/;;", "SHOW TAG VALUES WITH KEY = host",
	} {
		f.Add(s, uint8(0))
		f.Add(s, uint8(1))
	}
	f.Fuzz(func(t *testing.T, q string, a uint8) {
		allow := Allow(a % 2)
		query, err := Guard(q, "mydb", allow)
		if err != nil {
			var se *ScopeError
			var pe *ParseError
			if !errors.As(err, &se) && !errors.As(err, &pe) {
				t.Fatalf("untyped error %T: %v", err, err)
			}
			return
		}
		// What passes must still pass once printed and parsed again: the
		// executor may receive the printed form.
		if _, err := Guard(query.String(), "mydb", allow); err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) { // influxql does not always round-trip its own output
				t.Fatalf("accepted %q but not its printed form %q: %v", q, query.String(), err)
			}
		}
	})
}

// TestGuardEscapes runs the corpus of escape attempts in testdata: each
// must be refused with either permission.
func TestGuardEscapes(t *testing.T) {
	b, err := os.ReadFile("testdata/escapes.txt")
	require.NoError(t, err)
	n := 0
	for _, line := range strings.Split(string(b), "\n") {
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		q := strings.ReplaceAll(line, `\n`, "\n")
		n++
		for _, allow := range []Allow{AllowRead, AllowManage} {
			_, err := Guard(q, "mydb", allow)
			require.Error(t, err, "%s accepted %q", allow, q)
			var se *ScopeError
			var pe *ParseError
			require.True(t, errors.As(err, &se) || errors.As(err, &pe), "%T: %v", err, err)
		}
	}
	assert.Greater(t, n, 50)
}

// TestGuardEveryKindWithDatabase: each statement kind whose database or
// sources the guard reads by field name is refused on another database,
// and accepted on its own.
func TestGuardEveryKindWithDatabase(t *testing.T) {
	for _, q := range []string{
		"SHOW SERIES ON %s", "SHOW SERIES CARDINALITY ON %s", "SHOW MEASUREMENT CARDINALITY ON %s",
		"SHOW TAG KEYS ON %s", "SHOW TAG KEY CARDINALITY ON %s", `SHOW TAG VALUES ON %s WITH KEY = "host"`,
		`SHOW TAG VALUES CARDINALITY ON %s WITH KEY = "host"`, "SHOW FIELD KEYS ON %s", "SHOW FIELD KEY CARDINALITY ON %s",
		"CREATE RETENTION POLICY rp ON %s DURATION 1d REPLICATION 1", "ALTER RETENTION POLICY rp ON %s DURATION 2d",
		"DROP RETENTION POLICY rp ON %s", "DROP CONTINUOUS QUERY cq ON %s",
	} {
		_, err := Guard(fmt.Sprintf(q, "mydb"), "mydb", AllowManage)
		assert.NoError(t, err, q)
		_, err = Guard(fmt.Sprintf(q, "other"), "mydb", AllowManage)
		var ge *ScopeError
		if assert.ErrorAs(t, err, &ge, q) {
			assert.Equal(t, ReasonForeignDatabase, ge.Reason, q)
		}
	}
	// InfluxQL takes no database in these sources; the guard reads them
	// all the same, and refuses the statements on a read-only endpoint.
	for _, q := range []string{"DROP SERIES FROM cpu", "DELETE FROM cpu WHERE time < 0"} {
		_, err := Guard(q, "mydb", AllowManage)
		assert.NoError(t, err, q)
		_, err = Guard(q, "mydb", AllowRead)
		var ge *ScopeError
		if assert.ErrorAs(t, err, &ge, q) {
			assert.Equal(t, ReasonStatementNotAllowed, ge.Reason, q)
		}
	}
}
