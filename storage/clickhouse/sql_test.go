package clickhouse

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestQuoteIdent(t *testing.T) {
	tests := []struct{ in, want string }{
		{"cpu", "`cpu`"},
		{"ifdb_0123", "`ifdb_0123`"},
		{"a`b", "`a\\`b`"},
		{`a\b`, "`a\\\\b`"},
		{"a b.c", "`a b.c`"},
		{"x\ny", "`x\\x0Ay`"},
		{"`; DROP TABLE x; --", "`\\`; DROP TABLE x; --`"},
		{"主机", "`主机`"},
		{"", "``"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got := QuoteIdent(tt.in)
			assert.Equal(t, tt.want, got)
			// What CheckReadCommand's lexer reads back must be the input,
			// except for the \xHH escapes it refuses by design.
			toks, err := lex(got)
			if err != nil {
				var ce *CommandError
				require.ErrorAs(t, err, &ce)
				return
			}
			require.Len(t, toks, 1)
			assert.Equal(t, tokQuoted, toks[0].kind)
			assert.Equal(t, tt.in, toks[0].text)
		})
	}
	assert.Equal(t, `'it\'s'`, QuoteString("it's"))
	assert.Equal(t, `'a\\'`, QuoteString(`a\`))
}

func TestCreateTableSQL(t *testing.T) {
	cols := []column{{"time", kindTime}, {"host", kindTag}, {"re`gion", kindTag}, {"f", kindFloat}, {"i", kindInt},
		{"u", kindUint}, {"b", kindBool}, {"s", kindString}}
	got := createTableSQL("db", "cpu", "", cols, true)
	assert.Equal(t, "CREATE TABLE IF NOT EXISTS `db`.`cpu` (`time` Int64, `host` LowCardinality(String), `re\\`gion` LowCardinality(String), "+
		"`f` Nullable(Float64), `i` Nullable(Int64), `u` Nullable(UInt64), `b` Nullable(UInt8), `s` Nullable(String)) "+
		"ENGINE = MergeTree PARTITION BY intDiv(`time`, 86400000000000) ORDER BY (`host`, `re\\`gion`, `time`)", got)

	got = createTableSQL("db", "m'x", "main", cols[:2], false)
	assert.Equal(t, "CREATE TABLE IF NOT EXISTS `db`.`m'x` ON CLUSTER `main` (`time` Int64, `host` String) "+
		"ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/db/m\\'x', '{replica}') "+
		"PARTITION BY intDiv(`time`, 86400000000000) ORDER BY (`host`, `time`)", got)

	assert.Equal(t, "ALTER TABLE `db`.`cpu` ON CLUSTER `c` ADD COLUMN `new` Nullable(Float64)",
		addColumnSQL("db", "cpu", "c", column{"new", kindFloat}, true))
	assert.Equal(t, "INSERT INTO `db`.`cpu`(`time`, `host`)", insertSQL("db", "cpu", cols[:2]))
	assert.Equal(t, "DROP TABLE IF EXISTS `d`.`t`", dropTableSQL("d", "t", ""))
	assert.Equal(t, "CREATE DATABASE IF NOT EXISTS `d` ON CLUSTER `c`", createDatabaseSQL("d", "c"))
}

func TestKindOfTypeRoundTrip(t *testing.T) {
	for _, lc := range []bool{true, false} {
		for _, k := range []colKind{kindTag, kindFloat, kindInt, kindUint, kindBool, kindString} {
			got, ok := kindOfType("x", columnType(k, lc))
			require.True(t, ok)
			assert.Equal(t, k, got, "%s lc=%v", k, lc)
		}
	}
	k, ok := kindOfType("time", "Int64")
	assert.True(t, ok)
	assert.Equal(t, kindTime, k)
	_, ok = kindOfType("x", "Int64")
	assert.False(t, ok, "a non-nullable Int64 other than time is not ours")
	_, ok = kindOfType("x", "Array(String)")
	assert.False(t, ok)
}

func TestValidNames(t *testing.T) {
	for _, db := range []string{"", "system", ".inner", "a\x00b", string([]byte{0xff})} {
		err := validDB("op", db)
		require.Error(t, err, "%q", db)
		assert.True(t, errors.Is(err, ErrInvalid))
	}
	assert.NoError(t, validDB("op", "ifdb_x"))
	assert.NoError(t, validTable("op", "d", "odd `name`"))
}
