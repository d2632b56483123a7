package embedded

import (
	"time"

	"github.com/influxdata/influxql"

	kql "github.com/kodo-project/kodo/influxql"
)

// selectWatchdog kills SELECTs that run longer than limit, checking every
// tick until stop closes. It exists for the continuous querier's runs,
// which go to the executor directly, out of reach of any caller's context.
// InfluxDB's own QueryTimeout would also kill DROP and DELETE, which do
// not stop when killed but would then report a failure; those are left
// alone here.
func (e *Engine) selectWatchdog(limit, tick time.Duration, stop <-chan struct{}) {
	everyTick(tick, stop, func() {
		for _, qi := range e.executor.TaskManager.Queries() {
			if qi.Duration < limit || !onlySelects(qi.Query) {
				continue
			}
			e.log.Warn("killing a query that ran past the query timeout", "db", qi.Database, "query", qi.Query, "limit", limit)
			_ = e.executor.TaskManager.KillQuery(qi.ID)
		}
	})
}

func onlySelects(text string) bool {
	q, err := kql.Parse(text)
	if err != nil {
		return false
	}
	for _, st := range q.Statements {
		if _, ok := st.(*influxql.SelectStatement); !ok {
			return false
		}
	}
	return true
}
