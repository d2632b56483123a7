package clickhouse

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReadCommandFinal(t *testing.T) {
	replacing := func(table string) bool { return table != "legacy" }
	tests := []struct{ in, want string }{
		{"SELECT count() FROM cpu", "SELECT count() FROM cpu FINAL"},
		{"SELECT count() FROM db1.cpu WHERE host = 'a'", "SELECT count() FROM db1.cpu FINAL WHERE host = 'a'"},
		{"SELECT * FROM `cpu` AS c ORDER BY time", "SELECT * FROM `cpu` AS c FINAL ORDER BY time"},
		{"SELECT * FROM cpu c LIMIT 3", "SELECT * FROM cpu c FINAL LIMIT 3"},
		{"SELECT * FROM cpu FINAL", "SELECT * FROM cpu FINAL"},
		{"SELECT count() FROM legacy", "SELECT count() FROM legacy"},
		{"SELECT * FROM (SELECT host FROM cpu) GROUP BY host", "SELECT * FROM (SELECT host FROM cpu FINAL) GROUP BY host"},
		{"SELECT a.v, b.v FROM cpu AS a ALL INNER JOIN mem AS b USING (host)",
			"SELECT a.v, b.v FROM cpu AS a FINAL ALL INNER JOIN (SELECT * FROM mem FINAL) AS b USING (host)"},
		{"SELECT count() FROM cpu ANY LEFT JOIN db1.mem USING (host, time)",
			"SELECT count() FROM cpu FINAL ANY LEFT JOIN (SELECT * FROM db1.mem FINAL) AS `mem` USING (host, time)"},
		{"SELECT count() FROM cpu, mem", "SELECT count() FROM cpu FINAL, (SELECT * FROM mem FINAL) AS `mem`"},
		{"SELECT count() FROM cpu WHERE host IN (SELECT host FROM mem)", "SELECT count() FROM cpu FINAL WHERE host IN (SELECT host FROM mem FINAL)"},
		{"SELECT count() FROM cpu WHERE host IN mem", "SELECT count() FROM cpu FINAL WHERE host IN mem"},
		{"SELECT count() FROM cpu WHERE (host, time) IN (mem)", "SELECT count() FROM cpu FINAL WHERE (host, time) IN (mem)"},
		{"SELECT 1", "SELECT 1"},
		{"SELECT count() FROM cpu;", "SELECT count() FROM cpu FINAL;"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ReadCommandFinal(tc.in, "db1", replacing)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
			require.NoError(t, CheckReadCommand(got, "db1"), "the rewritten command passes the check")
		})
	}
	_, err := ReadCommandFinal("SELECT * FROM other.cpu", "db1", replacing)
	assert.ErrorIs(t, err, ErrInvalid, "the check still runs")
}
