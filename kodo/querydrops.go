package kodo

import (
	"context"
	"errors"
	"fmt"

	iql "github.com/influxdata/influxql"

	"github.com/kodo-project/kodo/storage/meta"
	"github.com/kodo-project/kodo/storage/queue"
	"github.com/kodo-project/kodo/storage/tsengine"
)

// A drop of a measurement with millions of series outlives any query time
// limit, and the engine finishes it whatever the caller does. So DROP
// MEASUREMENT from /query and /v1/manage/metrics runs as the tracked
// background drop of /v1/drop/metrics (recorded, listed by
// /v1/droppingmetrics, resumed after a restart), and the answer says
// whether it is done or still running rather than "timeout".

// trackedDrops runs q when it is made only of DROP MEASUREMENT statements
// (ok is false for any other query). It waits for the drops up to the
// query-time limit; pending names those still running.
func (s *service) trackedDrops(ctx context.Context, db meta.Database, q *iql.Query) (res []tsengine.Result, pending []string, ok bool, err error) {
	names := make([]string, len(q.Statements))
	for i, st := range q.Statements {
		d, isDrop := st.(*iql.DropMeasurementStatement)
		if !isDrop {
			return nil, nil, false, nil
		}
		names[i] = d.Name
	}
	if _, err := s.engineFor(db); err != nil {
		return nil, nil, true, err
	}
	ctx, cancel := context.WithTimeout(ctx, s.opts.Limits.QueryTimeout)
	defer cancel()
	dones := make([]<-chan struct{}, len(names))
	for i, m := range names {
		// As /v1/drop/metrics: the sinks drop their copy too.
		if err := s.publish(ctx, queue.Message{Op: queue.OpDropMeasurement, DB: db.Name, Measurement: m}); err != nil {
			return nil, nil, true, err
		}
		if err := s.recordDrop(ctx, db.UUID, m); err != nil {
			return nil, nil, true, err
		}
		dones[i] = s.startDrop(db, m)
	}
	res = make([]tsengine.Result, len(names))
	for i, done := range dones {
		res[i] = tsengine.Result{StatementID: i}
		select {
		case <-done:
			continue
		default:
		}
		select {
		case <-done:
		case <-ctx.Done():
			pending = append(pending, names[i])
			res[i].Messages = []tsengine.Message{{Level: "warning", Text: stillDropping(db.UUID, names[i])}}
		}
	}
	return res, pending, true, nil
}

// recordDrop records a drop so a restart resumes it; one already recorded
// (a drop asked for again while it runs) is fine.
func (s *service) recordDrop(ctx context.Context, dbUUID, measurement string) error {
	if err := s.meta.AddDropping(ctx, dbUUID, measurement); err != nil && !errors.Is(err, meta.ErrConflict) {
		return metaError(err, "recording the drop")
	}
	return nil
}

func stillDropping(dbUUID, measurement string) string {
	return fmt.Sprintf("accepted: dropping measurement %q is still running and will finish in the background (resumed after a restart); GET /v1/droppingmetrics/%s lists it until it is done",
		measurement, dbUUID)
}

// stillRunningError: a statement that changes data (DROP SERIES, DELETE)
// ran past the query-time limit. The engine does not stop such a
// statement, so the answer is "accepted and running", not a timeout.
type stillRunningError struct{ limit string }

func (e *stillRunningError) Error() string {
	return "accepted: the statement ran past the " + e.limit + " query-time limit and is still running in the engine, which finishes it; query the data to see when it is done"
}

// mutates reports whether q changes stored data in a way the engine
// finishes even when the caller stops waiting.
func mutates(q *iql.Query) bool {
	for _, st := range q.Statements {
		switch st.(type) {
		case *iql.DropMeasurementStatement, *iql.DropSeriesStatement, *iql.DeleteSeriesStatement, *iql.DeleteStatement:
			return true
		}
	}
	return false
}

// asStillRunning gives each statement of an influx /query answer the
// still-running message.
func asStillRunning(q *iql.Query, err *stillRunningError) []tsengine.Result {
	res := make([]tsengine.Result, len(q.Statements))
	for i := range res {
		res[i] = tsengine.Result{StatementID: i, Messages: []tsengine.Message{{Level: "warning", Text: err.Error()}}}
	}
	return res
}
