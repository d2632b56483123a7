package kodo

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	iql "github.com/influxdata/influxql"

	"github.com/kodo-project/kodo/influxql"
	"github.com/kodo-project/kodo/kodo/kodoapi"
	"github.com/kodo-project/kodo/storage/tsengine"
)

func (s *service) handleReadMetrics(r *http.Request) (any, error) {
	return s.serveQuery(r, influxql.AllowRead)
}

func (s *service) handleManageMetrics(r *http.Request) (any, error) {
	return s.serveQuery(r, influxql.AllowManage)
}

func (s *service) serveQuery(r *http.Request, allow influxql.Allow) (any, error) {
	var req kodoapi.QueryRequest
	if err := s.decodeJSON(r, &req, false); err != nil {
		return nil, err
	}
	if req.DB == "" {
		req.DB = req.DBUUID
	}
	db, err := s.database(r.Context(), req.DB)
	if err != nil {
		return nil, err
	}
	command := req.Command
	var rewritten []influxql.Statement
	if req.Rewrite != nil {
		command, rewritten, err = s.rewriteCommand(db.Name, command, req.Rewrite)
		if err != nil {
			return nil, err
		}
	}
	q, err := influxql.Guard(command, db.Name, allow)
	if err != nil {
		return nil, wrapErr(kodoapi.ErrInvalidSQL, err, "%v", err)
	}
	if n := len(q.Statements); n > s.opts.Limits.MaxQueryStatements {
		return nil, Errorf(kodoapi.ErrInvalidSQL, "%d statements in one request; the limit is %d", n, s.opts.Limits.MaxQueryStatements)
	}
	rpChange := false
	rpView := db
	for _, st := range q.Statements {
		if err := s.checkRPStatement(&rpView, st); err != nil {
			return nil, err
		}
		rpChange = rpChange || isRPStatement(st)
	}
	if res, pending, ok, err := s.trackedDrops(r.Context(), db, q); ok {
		if err != nil {
			return nil, err
		}
		content := kodoapi.QueryResult{Results: make([]kodoapi.StatementResult, len(res))}
		for i, rr := range res {
			content.Results[i] = kodoapi.StatementResult{StatementID: rr.StatementID, Messages: rr.Messages}
		}
		if len(pending) > 0 {
			return stillRunning{content: content, message: stillDropping(db.UUID, pending[0])}, nil
		}
		return content, nil
	}
	epoch := req.Epoch
	if epoch == "" {
		epoch = "ms"
	}
	content, err := s.runQuery(r.Context(), db.Name, db.InstanceUUID, q, epoch)
	if rpChange {
		s.syncRPs(r.Context(), db)
	}
	var running *stillRunningError
	if errors.As(err, &running) {
		return stillRunning{message: running.Error()}, nil
	}
	if err != nil {
		return nil, err
	}
	content.Rewritten = rewritten
	if content.Error != "" && allFailed(content.Results) {
		return nil, &Error{Code: kodoapi.ErrInvalidSQL, Message: content.Error, Content: content}
	}
	return content, nil
}

// runQuery runs a guarded query and shapes the answer as the spec shows.
func (s *service) runQuery(ctx context.Context, dbName, instance string, q *iql.Query, epoch string) (kodoapi.QueryResult, error) {
	results, err := s.execQuery(ctx, dbName, instance, q, epoch)
	if err != nil {
		return kodoapi.QueryResult{}, err
	}
	out := kodoapi.QueryResult{Results: make([]kodoapi.StatementResult, len(results))}
	for i, res := range results {
		out.Results[i] = kodoapi.StatementResult{StatementID: res.StatementID, Series: res.Series, Messages: res.Messages, Error: res.Err}
		if res.Err != "" && out.Error == "" {
			out.Error = res.Err
		}
	}
	return out, nil
}

// execQuery runs a guarded query on the database's engine under the
// configured query-time limit.
func (s *service) execQuery(ctx context.Context, dbName, instance string, q *iql.Query, epoch string) ([]tsengine.Result, error) {
	return s.execQueryOpts(ctx, dbName, instance, q, tsengine.QueryOptions{Epoch: epoch})
}

func (s *service) execQueryOpts(ctx context.Context, dbName, instance string, q *iql.Query, opt tsengine.QueryOptions) ([]tsengine.Result, error) {
	eng, ok := s.engines[instance]
	if !ok {
		return nil, Errorf(kodoapi.ErrUnavailable, "the database's instance %s is not configured on this gateway", instance)
	}
	if err := s.checkQueryCost(q); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, s.opts.Limits.QueryTimeout)
	defer cancel()
	start := time.Now()
	opt.MaxAnswerBytes = s.opts.Limits.MaxQueryAnswerBytes
	results, err := eng.Query(ctx, dbName, q, opt)
	s.metrics.querySeconds.Observe(time.Since(start).Seconds())
	if err != nil {
		if le := s.limitError(err); le != nil {
			return nil, le
		}
		if errors.Is(err, context.DeadlineExceeded) && mutates(q) {
			return nil, &stillRunningError{limit: s.opts.Limits.QueryTimeout.String()}
		}
		if errors.Is(err, context.DeadlineExceeded) {
			return nil, wrapErr(kodoapi.ErrQueryTimeout, err,
				"the query ran longer than the %s limit; narrow its time range or use GROUP BY time with a coarser interval", s.opts.Limits.QueryTimeout)
		}
		var ee *tsengine.EpochError
		if errors.As(err, &ee) {
			return nil, wrapErr(kodoapi.ErrBadRequest, err, "%v", err)
		}
		s.metrics.engineErrors.WithLabelValues("query").Inc()
		return nil, engineError(err, "running the query")
	}
	return results, nil
}

func allFailed(rs []kodoapi.StatementResult) bool {
	for _, r := range rs {
		if r.Error == "" {
			return false
		}
	}
	return len(rs) > 0
}

// checkQueryCost refuses, before any engine runs it, a query whose cost
// is known from its text to pass a limit: too many GROUP BY time buckets,
// or a continuous query outside the CQ rules.
func (s *service) checkQueryCost(q *iql.Query) error {
	if err := influxql.CheckBuckets(q, s.now(), s.opts.Limits.MaxSelectBuckets); err != nil {
		return wrapErr(kodoapi.ErrQueryLimit, err, "%v (flag -max-select-buckets)", err)
	}
	for i, st := range q.Statements {
		if cq, ok := st.(*iql.CreateContinuousQueryStatement); ok {
			if err := s.checkCQ(cq); err != nil {
				e := asError(err)
				return &Error{Code: e.Code, Message: fmt.Sprintf("statement %d: %s", i+1, e.Message), cause: err}
			}
		}
	}
	return nil
}

// limitFlags names the flag that sets each engine limit, for messages.
var limitFlags = map[string]string{
	tsengine.LimitSelectPoints:  "-max-select-points",
	tsengine.LimitSelectSeries:  "-max-select-series",
	tsengine.LimitSelectBuckets: "-max-select-buckets",
	tsengine.LimitAnswerBytes:   "-max-query-answer-bytes",
}

// limitError turns an engine's *tsengine.LimitError into a 400 that names
// the limit and what to do; nil for other errors.
func (s *service) limitError(err error) *Error {
	var le *tsengine.LimitError
	if !errors.As(err, &le) {
		return nil
	}
	l := s.opts.Limits
	var what string
	switch le.Limit {
	case tsengine.LimitSelectPoints:
		what = fmt.Sprintf("the query read more than %d points, the limit of one SELECT", l.MaxSelectPoints)
	case tsengine.LimitSelectSeries:
		what = fmt.Sprintf("the query reads more than %d series, the limit of one SELECT", l.MaxSelectSeries)
	case tsengine.LimitSelectBuckets:
		what = fmt.Sprintf("the query makes more than %d GROUP BY time buckets, the limit of one SELECT", l.MaxSelectBuckets)
	case tsengine.LimitAnswerBytes:
		what = fmt.Sprintf("the answer grew past %d bytes, the limit of one query", l.MaxQueryAnswerBytes)
	default:
		what = "the query passed an engine limit"
	}
	return wrapErr(kodoapi.ErrQueryLimit, err, "%s (%s, flag %s): narrow the time range, filter on tags, aggregate with a coarser GROUP BY time or add LIMIT",
		what, le.Limit, limitFlags[le.Limit])
}
