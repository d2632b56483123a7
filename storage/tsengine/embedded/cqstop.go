package embedded

import (
	"github.com/influxdata/influxql"

	kql "github.com/kodo-project/kodo/influxql"
)

// cqTarget identifies the runs of one continuous query among the running
// queries: InfluxDB's continuous querier runs the CQ's SELECT ... INTO
// (with a time range of its own) in the CQ's database.
type cqTarget struct {
	db, name, into, from string
}

// cqTargets finds the CQs that q drops, before it runs (after, their
// statements are gone from the meta store).
func (e *Engine) cqTargets(db string, q *influxql.Query) []cqTarget {
	var out []cqTarget
	for _, st := range q.Statements {
		drop, ok := st.(*influxql.DropContinuousQueryStatement)
		if !ok {
			continue
		}
		name := drop.Database
		if name == "" {
			name = db
		}
		dbi := e.meta.Database(name)
		if dbi == nil {
			continue
		}
		for _, cqi := range dbi.ContinuousQueries {
			if cqi.Name != drop.Name {
				continue
			}
			st, err := kql.ParseStatement(cqi.Query)
			if cq, ok := st.(*influxql.CreateContinuousQueryStatement); err == nil && ok && cq.Source != nil && cq.Source.Target != nil {
				out = append(out, cqTarget{db: name, name: cqi.Name, into: cq.Source.Target.Measurement.Name, from: cq.Source.Sources.String()})
			}
		}
	}
	return out
}

// stopCQRuns kills the running queries that are runs of the given CQs,
// so a dropped CQ stops now rather than when its run ends.
func (e *Engine) stopCQRuns(targets []cqTarget) {
	gone := targets[:0:0]
	for _, t := range targets {
		if !e.hasCQ(t.db, t.name) { // the drop failed: the CQ runs on
			gone = append(gone, t)
		}
	}
	if len(gone) == 0 {
		return
	}
	targets = gone
	for _, qi := range e.executor.TaskManager.Queries() {
		st, err := kql.ParseStatement(qi.Query)
		sel, ok := st.(*influxql.SelectStatement)
		if err != nil || !ok || sel.Target == nil || sel.Target.Measurement == nil {
			continue
		}
		for _, t := range targets {
			if qi.Database == t.db && sel.Target.Measurement.Name == t.into && sel.Sources.String() == t.from {
				e.log.Info("stopping a run of a dropped continuous query", "db", t.db, "query", qi.Query)
				_ = e.executor.TaskManager.KillQuery(qi.ID)
			}
		}
	}
}

func (e *Engine) hasCQ(db, name string) bool {
	dbi := e.meta.Database(db)
	if dbi == nil {
		return false
	}
	for _, cqi := range dbi.ContinuousQueries {
		if cqi.Name == name {
			return true
		}
	}
	return false
}
