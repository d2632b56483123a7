package kodo

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	iql "github.com/influxdata/influxql"

	"github.com/kodo-project/kodo/influxql"
	"github.com/kodo-project/kodo/kodo/kodoapi"
	"github.com/kodo-project/kodo/storage/meta"
	"github.com/kodo-project/kodo/storage/tsengine"
)

// influxQuery is one /query request of the InfluxDB 1.x API, as parsed by
// parseInfluxQuery.
type influxQuery struct {
	text   string
	params map[string]any // params= (bound parameters); nil if absent
	allow  influxql.Allow
	// epoch is the engine's epoch ("" = RFC3339 strings); see influxEpoch.
	epoch string
	// rp is the RP of statements that name none (rp=).
	rp string
	// typed asks the engine for Go-typed values (see influxOut.typed).
	typed bool
}

// errNotExecuted is what influxd answers for the statements after a
// failed one.
const errNotExecuted = "not executed"

// influxParams decodes params= as influxd does: a JSON object whose numbers
// become int64, or float64 when they hold a '.'.
func influxParams(raw string) (map[string]any, error) {
	if raw == "" {
		return nil, nil
	}
	var params map[string]any
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&params); err != nil {
		return nil, Errorf(kodoapi.ErrBadRequest, "error parsing query parameters: %v", err)
	}
	for k, v := range params {
		n, ok := v.(json.Number)
		if !ok {
			continue
		}
		var err error
		if strings.Contains(string(n), ".") {
			params[k], err = n.Float64()
		} else {
			params[k], err = n.Int64()
		}
		if err != nil {
			return nil, Errorf(kodoapi.ErrBadRequest, "error parsing json value: %v", err)
		}
	}
	if params == nil {
		params = map[string]any{} // "null": bind nothing, as influxd
	}
	return params, nil
}

// influxEpoch maps /query's epoch= to the engine's: influxd divides by the
// unit of u, ms, s, m and h and answers nanoseconds for any other
// non-empty value (epoch=rfc3339 and epoch=x included).
func influxEpoch(epoch string) string {
	switch epoch = strings.TrimSpace(epoch); epoch {
	case "", "u", "ms", "s", "m", "h":
		return epoch
	}
	return "ns"
}

// runInfluxQL runs a /query request inside the token's database. It
// answers itself what influxd would answer for the whole server but a
// token must not see: SHOW DATABASES lists the token's database only and
// CREATE DATABASE of that database is a no-op (Telegraf sends it before
// writing). Everything else passes the scope guard and runs on the engine,
// in order; as influxd does, the statements after a failed one answer
// "not executed".
//
// selects[i] reports whether statement i is a SELECT (chunked answers
// split only those).
func (s *service) runInfluxQL(ctx context.Context, db meta.Database, req influxQuery) (results []tsengine.Result, selects []bool, err error) {
	parsed, err := influxql.ParseParams(req.text, req.params)
	if err != nil {
		return nil, nil, wrapErr(kodoapi.ErrInvalidSQL, err, "%s", influxql.InfluxMessage(err))
	}
	if n := len(parsed.Statements); n > s.opts.Limits.MaxQueryStatements {
		return nil, nil, Errorf(kodoapi.ErrInvalidSQL, "%d statements in one request; the limit is %d", n, s.opts.Limits.MaxQueryStatements)
	}
	selects = make([]bool, len(parsed.Statements))
	for i, st := range parsed.Statements {
		_, selects[i] = st.(*iql.SelectStatement)
	}
	// Check every statement before running any, as influxd authorizes the
	// whole query first.
	local := make([]*tsengine.Result, len(parsed.Statements))
	rpView := db
	for i, st := range parsed.Statements {
		res, err := s.localInfluxStatement(db, st, i, req.allow)
		if err != nil {
			return nil, nil, err
		}
		if res != nil {
			local[i] = res
			continue
		}
		if err := influxql.Check(st, i+1, db.Name, req.allow); err != nil {
			return nil, nil, wrapErr(kodoapi.ErrInvalidSQL, err, "%v", err)
		}
		if err := s.checkRPStatement(&rpView, st); err != nil {
			return nil, nil, err
		}
	}
	// Costs known from the text (buckets, CQ rules) refuse the whole
	// request before any statement runs.
	if err := s.checkQueryCost(parsed); err != nil {
		return nil, nil, err
	}
	// DROP MEASUREMENTs run as tracked background drops: a long one
	// answers "still running" instead of failing while it goes on.
	if res, _, ok, err := s.trackedDrops(ctx, db, parsed); ok {
		return res, selects, err
	}
	out := make([]tsengine.Result, 0, len(parsed.Statements))
	rpChanged := false
	failed := false
	for i := 0; i < len(parsed.Statements); {
		if failed {
			out = append(out, tsengine.Result{StatementID: i, Err: errNotExecuted})
			i++
			continue
		}
		if local[i] != nil {
			out = append(out, *local[i])
			i++
			continue
		}
		// A run of engine statements goes as one query.
		j := i
		for j < len(parsed.Statements) && local[j] == nil {
			j++
		}
		batch := &iql.Query{Statements: parsed.Statements[i:j]}
		batchRes, err := s.execQueryOpts(ctx, db.Name, db.InstanceUUID, batch, tsengine.QueryOptions{Epoch: req.epoch, RetentionPolicy: req.rp, Typed: req.typed})
		var running *stillRunningError
		if errors.As(err, &running) {
			// A DROP SERIES or DELETE past the query time goes on: say so.
			batchRes, err = asStillRunning(batch, running), nil
		}
		if err != nil {
			if rpChanged {
				s.syncRPs(ctx, db)
			}
			return nil, nil, err
		}
		for _, r := range batchRes {
			r.StatementID += i
			if r.Err != "" {
				failed = true
			} else if isRPStatement(parsed.Statements[r.StatementID]) {
				rpChanged = true
			}
			out = append(out, r)
		}
		i = j
	}
	if rpChanged {
		s.syncRPs(ctx, db)
	}
	return out, selects, nil
}

// localInfluxStatement answers the statements that concern the server as a
// whole; nil means the engine runs st.
func (s *service) localInfluxStatement(db meta.Database, st iql.Statement, i int, allow influxql.Allow) (*tsengine.Result, error) {
	switch st := st.(type) {
	case *iql.ShowDatabasesStatement:
		return &tsengine.Result{StatementID: i, Series: []tsengine.Row{{Name: "databases", Columns: []string{"name"}, Values: [][]any{{db.Name}}}}}, nil
	case *iql.CreateDatabaseStatement:
		if st.Name != db.Name {
			// influxd with auth on refuses the whole query the same way.
			return nil, Errorf(kodoapi.ErrForbidden, "error authorizing query: not authorized to execute statement '%s': a token may only use its own database (%s)", st, db.Name)
		}
		if st.RetentionPolicyCreate {
			return nil, Errorf(kodoapi.ErrInvalidSQL, "database %s exists; add retention policies with CREATE RETENTION POLICY ... ON %s", db.Name, db.Name)
		}
		if allow != influxql.AllowManage {
			return nil, Errorf(kodoapi.ErrInvalidSQL, "statement %d: CREATE DATABASE is not allowed with GET; use POST", i+1)
		}
		// The database exists (it is the token's): as influxd, a no-op.
		return &tsengine.Result{StatementID: i}, nil
	}
	return nil, nil
}

// serveInfluxQuery answers /query once the token is known: q, params,
// epoch, rp and the answer format as influxd reads them.
// serveInfluxQuery runs a /query request; its errors are answered in the
// format the client asked for (influxFormatted).
func (s *service) serveInfluxQuery(r *http.Request, db meta.Database) (any, error) {
	out := influxOutput(r)
	text := formValue(r, "q")
	if strings.TrimSpace(text) == "" {
		return nil, influxFormatted{out, Errorf(kodoapi.ErrBadRequest, `missing required parameter "q"`)}
	}
	params, err := influxParams(formValue(r, "params"))
	if err != nil {
		return nil, influxFormatted{out, err}
	}
	req := influxQuery{text: text, params: params, allow: influxql.AllowRead, rp: formValue(r, "rp")}
	// GET runs reads only, as InfluxDB 1.x does; POST may also manage.
	if r.Method == http.MethodPost {
		req.allow = influxql.AllowManage
	}
	epoch := influxEpoch(formValue(r, "epoch"))
	req.epoch = out.engineEpoch(epoch)
	req.typed = out.typed()
	results, selects, err := s.runInfluxQL(r.Context(), db, req)
	if err != nil {
		return nil, influxFormatted{out, err}
	}
	return influxResults{out, results, selects}, nil
}
