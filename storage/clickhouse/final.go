package clickhouse

import (
	"strings"
)

// ReadCommandFinal checks command as CheckReadCommand does and returns it
// with FINAL added to every table it reads in FROM or JOIN position for
// which replacing reports true (the ReplacingMergeTree tables Kodo writes
// metrics to), so that a point written twice is counted once before the
// table's parts are merged.
//
// The first table of a FROM takes FINAL after its alias. ClickHouse 18.16
// ignores FINAL on the right side of a join, so a joined table (after
// JOIN or a comma) becomes (SELECT * FROM t FINAL) under the same alias,
// or under the table's own name when it had none, which keeps t.col and
// USING working. Tables in IN (t) are left alone: they are sets of values,
// where a duplicate changes nothing.
func ReadCommandFinal(command, db string, replacing func(table string) bool) (string, error) {
	var refs []tableRef
	toks, err := checkRead(command, db, func(r tableRef) {
		if replacing(r.table) {
			refs = append(refs, r)
		}
	})
	if err != nil || len(refs) == 0 {
		return command, err
	}
	var b strings.Builder
	done := 0
	for _, r := range refs {
		last := r.last
		if r.alias >= 0 {
			last = r.alias
		}
		final := last+1 < len(toks) && toks[last+1].isWord("FINAL")
		if !r.join {
			if final {
				continue
			}
			b.WriteString(command[done:toks[last].end])
			b.WriteString(" FINAL")
			done = toks[last].end
			continue
		}
		end := toks[last].end
		if final {
			end = toks[last+1].end
		}
		alias := QuoteIdent(r.table)
		if r.alias >= 0 {
			alias = command[toks[r.alias].pos:toks[r.alias].end]
		}
		b.WriteString(command[done:toks[r.first].pos])
		b.WriteString("(SELECT * FROM ")
		b.WriteString(command[toks[r.first].pos:toks[r.last].end])
		b.WriteString(" FINAL) AS ")
		b.WriteString(alias)
		done = end
	}
	b.WriteString(command[done:])
	return b.String(), nil
}
