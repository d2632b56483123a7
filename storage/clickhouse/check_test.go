package clickhouse

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCheckReadCommandAccepts(t *testing.T) {
	const db = "ifdb_1"
	ok := []string{
		"SELECT 1",
		"select * from cpu",
		"SELECT * FROM cpu;",
		"  (SELECT host, avg(usage) FROM cpu GROUP BY host) ",
		"SELECT * FROM ifdb_1.cpu",
		"SELECT * FROM `ifdb_1`.`cpu` AS c WHERE c.host = 'a'",
		`SELECT * FROM "ifdb_1"."cpu"`,
		"SELECT c.host, m.free FROM cpu c ANY LEFT JOIN mem AS m USING host",
		"SELECT cpu.host FROM cpu",
		"SELECT ifdb_1.cpu.host FROM ifdb_1.cpu",
		"SELECT host FROM cpu WHERE host IN (SELECT host FROM mem WHERE free < 10)",
		"SELECT host FROM cpu WHERE host IN ('a', 'b')",
		"SELECT host FROM cpu WHERE host GLOBAL NOT IN hosts",
		"SELECT count() FROM (SELECT * FROM cpu) AS s WHERE s.host != ''",
		"SELECT t.1 FROM (SELECT tuple(1, 2) AS t)",
		"SELECT 1.5e-3, .5, 0x1F, 'a;b', 'it''s', 'x\\'y' FROM cpu",
		"SELECT `a.b` FROM cpu -- comment; DROP TABLE x\n",
		"SELECT /* c; */ 1",
		"WITH 1 AS x SELECT x FROM cpu",
		"SELECT * FROM cpu UNION ALL SELECT * FROM cpu2",
		"SELECT arr FROM cpu ARRAY JOIN arr",
		"SELECT * FROM cpu FINAL SAMPLE 1/10 PREWHERE a > 1 WHERE b < 2 ORDER BY time DESC LIMIT 10",
		"SELECT toStartOfHour(toDateTime(intDiv(time, 1000000000))) AS h, max(usage) FROM cpu GROUP BY h",
		"SELECT CAST(x AS String) FROM cpu",
	}
	for _, cmd := range ok {
		assert.NoError(t, CheckReadCommand(cmd, db), "%s", cmd)
	}
}

func TestCheckReadCommandRefuses(t *testing.T) {
	const db = "ifdb_1"
	bad := []struct {
		cmd  string
		pos  int
		want string
	}{
		{"", 0, "empty"},
		{"  ;", 0, "empty"},
		{"INSERT INTO cpu VALUES (1)", 0, "only SELECT"},
		{"DROP TABLE cpu", 0, "only SELECT"},
		{"SHOW TABLES", 0, "only SELECT"},
		{"SELECT 1; DROP TABLE cpu", 8, "one statement"},
		{"SELECT * FROM system.tables", 14, "another database"},
		{"SELECT * FROM other.cpu", 14, "another database"},
		{"SELECT * FROM `other`.cpu", 14, "another database"},
		{"SELECT * FROM cpu, other.mem", 19, "another database"},
		{"SELECT * FROM cpu AS c JOIN other.mem AS m ON c.h = m.h", 28, "another database"},
		{"SELECT * FROM cpu WHERE h IN other.hosts", 29, "another database"},
		{"SELECT * FROM cpu AS other WHERE h IN (other.hosts)", 39, "another database"},
		{"SELECT * FROM cpu AS other WHERE h IN ((other.hosts))", 40, "another database"},
		{"SELECT * FROM cpu AS other WHERE h IN (1, other.hosts)", 42, "another database"},
		{"SELECT * FROM cpu AS other WHERE in(h, other.hosts)", 39, "another database"},
		{"SELECT * FROM cpu WHERE notIn(h, x)", 24, "not allowed"},
		{"SELECT * FROM (SELECT * FROM other.cpu)", 29, "another database"},
		{"SELECT other.cpu.x FROM cpu", 7, "neither database"},
		{"SELECT n.x FROM cpu", 7, "neither database"},
		{"SELECT * FROM numbers(10)", 14, "table function"},
		{"SELECT * FROM cpu JOIN remote('h', db, t) USING x", 23, "table function"},
		{"SELECT * FROM ifdb_1.cpu.x", 14, "at most two parts"},
		{"SELECT dictGetString('d', 'a', toUInt64(1))", 7, "not allowed"},
		{"SELECT joinGet('other.t', 'v', 1)", 7, "not allowed"},
		{"SELECT * FROM cpu INTO OUTFILE 'x'", 18, "INTO"},
		{"SELECT 'unterminated", 7, "unterminated"},
		{"SELECT `a\\x41` FROM cpu", 9, "escape"},
		{"SELECT /* a /* b */ 1", 7, "nested"},
		{"SELECT 1 # comment", 9, "unexpected character"},
		{"SELECT $$x$$", 7, "unexpected character"},
		{"SELECT {p:UInt8}", 7, "unexpected character"},
		{"SELECT * FROM \"ifdb_1\\\"\".cpu", 14, "another database"},
	}
	for _, tt := range bad {
		err := CheckReadCommand(tt.cmd, db)
		var ce *CommandError
		require.ErrorAs(t, err, &ce, "%q", tt.cmd)
		assert.True(t, errors.Is(err, ErrInvalid))
		assert.Contains(t, ce.Msg, tt.want, "%q", tt.cmd)
		assert.Equal(t, tt.pos, ce.Pos, "%q: %v", tt.cmd, err)
	}
}

// FuzzCheckReadCommand checks that the command check never panics, that
// its positions are inside the command, and that every accepted command
// names no other database in a table position.
func FuzzCheckReadCommand(f *testing.F) {
	for _, s := range []string{
		"SELECT * FROM cpu", "SELECT * FROM other.cpu", "SELECT a.b FROM t AS a",
		"SELECT 1 WHERE x IN ((o.t))", "SELECT 'a\\'b', `c``d` FROM \"e\"", "/* x */ SELECT -- y\n 1;",
		"SELECT * FROM (SELECT 1) s JOIN t2 USING (k)", "WITH 1 AS x SELECT x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, cmd string) {
		err := CheckReadCommand(cmd, "ifdb_1")
		if err != nil {
			var ce *CommandError
			if !errors.As(err, &ce) {
				t.Fatalf("error of type %T: %v", err, err)
			}
			if ce.Pos < 0 || ce.Pos > len(cmd) {
				t.Fatalf("position %d outside command of %d bytes", ce.Pos, len(cmd))
			}
			return
		}
		toks, lerr := lex(cmd)
		if lerr != nil {
			t.Fatalf("accepted but does not lex: %v", lerr)
		}
		for i := 0; i+2 < len(toks); i++ {
			if toks[i].isWord("FROM") || toks[i].isWord("JOIN") && !(i > 0 && toks[i-1].isWord("ARRAY")) {
				if toks[i+1].isIdent() && toks[i+2].isPunct(".") && toks[i+1].text != "ifdb_1" {
					t.Fatalf("accepted a table of another database: %q", cmd)
				}
			}
		}
	})
}
