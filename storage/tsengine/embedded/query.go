package embedded

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/influxdata/influxdb/models"
	"github.com/influxdata/influxdb/query"
	"github.com/influxdata/influxql"

	"github.com/kodo-project/kodo/storage/tsengine"
)

// Query runs q with db as the default database. Statement errors come back
// in Result.Err as with InfluxDB's /query, except "database not found",
// which is returned as an error wrapping tsengine.ErrDatabaseNotFound. When
// ctx ends first, the query is killed and the error wraps ctx.Err().
func (e *Engine) Query(ctx context.Context, db string, q *influxql.Query, opt tsengine.QueryOptions) ([]tsengine.Result, error) {
	if q == nil || len(q.Statements) == 0 {
		return nil, errors.New("embedded: empty query")
	}
	return e.run(ctx, db, q, opt)
}

// answerChunk is the most values one row carries out of the executor.
// Without it InfluxDB's emitter gathers a series' whole answer in one row
// before handing it over, out of reach of MaxAnswerBytes.
const answerChunk = 10000

func (e *Engine) run(ctx context.Context, db string, q *influxql.Query, opt tsengine.QueryOptions) ([]tsengine.Result, error) {
	unit, err := tsengine.EpochUnit(opt.Epoch)
	if err != nil {
		return nil, fmt.Errorf("embedded: %w", err)
	}
	if err := e.enterSound(); err != nil {
		return nil, err
	}
	defer e.leave()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("embedded: query not started: %w", err)
	}
	if !selectsOnly(q) {
		// SELECTs open just the shards they read (idleShardGroups); other
		// statements go through the store over all of db's shards.
		if err := e.ensureOpen(db); err != nil {
			return nil, err
		}
	}
	dropped := e.cqTargets(db, q)
	defer e.stopCQRuns(dropped)
	if tsengine.Deletes(q) {
		// Field types and tag values the write guards learnt may be gone.
		defer e.forgetGuards()
	}

	// Closing `closing` makes the task manager kill the query; AbortCh
	// stops the executor from blocking on results nobody reads. stopQuery
	// does both, for a done ctx or an answer past its bound.
	qctx, stopQuery := context.WithCancel(ctx)
	defer stopQuery()
	closing := make(chan struct{})
	stop := context.AfterFunc(qctx, func() { close(closing) })
	defer stop()
	ch := e.executor.ExecuteQuery(q, query.ExecutionOptions{
		Database:         db,
		RetentionPolicy:  opt.RetentionPolicy,
		Authorizer:       query.OpenAuthorizer,
		CoarseAuthorizer: query.OpenCoarseAuthorizer,
		AbortCh:          qctx.Done(),
		ChunkSize:        answerChunk,
	}, closing)
	abandon := func() {
		stopQuery()
		go func() {
			for range ch { // let the executor finish its sends and exit
			}
		}()
	}

	var out []tsengine.Result
	var held int64
	for {
		select {
		case r, ok := <-ch:
			if !ok {
				if err := ctx.Err(); err != nil {
					return nil, fmt.Errorf("embedded: query interrupted: %w", err)
				}
				if err := dbNotFound(out); err != nil {
					return nil, err
				}
				if err := tsengine.LimitFromResults(out); err != nil {
					return nil, err
				}
				// SHOW MEASUREMENTS and the like answer nothing, not an
				// error, on a missing database: make it one, so callers
				// (and both engines) treat every statement alike.
				if db != "" && tsengine.HasEmptyResult(out) && e.meta.Database(db) == nil {
					return nil, fmt.Errorf("embedded: %w: %s", tsengine.ErrDatabaseNotFound, db)
				}
				return out, nil
			}
			var n int64
			out, n = merge(out, r, unit, opt.Typed)
			held += n
			if opt.MaxAnswerBytes > 0 && held > opt.MaxAnswerBytes {
				abandon()
				return nil, tsengine.AnswerTooLarge(opt.MaxAnswerBytes)
			}
		case <-ctx.Done():
			abandon()
			return nil, fmt.Errorf("embedded: query interrupted: %w", ctx.Err())
		}
	}
}

// dbNotFound turns InfluxDB's per-statement "database not found: x" into
// an error, so callers can answer "no such database" without parsing text.
func dbNotFound(res []tsengine.Result) error {
	for _, r := range res {
		if name, ok := strings.CutPrefix(r.Err, "database not found: "); ok {
			return fmt.Errorf("embedded: %w: %s", tsengine.ErrDatabaseNotFound, name)
		}
	}
	return nil
}

// merge appends r to out and returns the estimated bytes it added;
// InfluxDB sends one Result per series of a statement (or per chunk of a
// series, marked Partial), the API answers one Result per statement with
// one row per series.
func merge(out []tsengine.Result, r *query.Result, unit time.Duration, typed bool) ([]tsengine.Result, int64) {
	if len(out) == 0 || out[len(out)-1].StatementID != r.StatementID {
		out = append(out, tsengine.Result{StatementID: r.StatementID})
	}
	cur := &out[len(out)-1]
	var n int64
	for _, row := range r.Series {
		conv := convertRow(row, unit, typed)
		if k := len(cur.Series) - 1; k >= 0 && cur.Series[k].Partial && sameSeries(cur.Series[k], conv) {
			last := &cur.Series[k]
			last.Values = append(last.Values, conv.Values...)
			last.Partial = conv.Partial
			n += valuesBytes(conv.Values)
			continue
		}
		cur.Series = append(cur.Series, conv)
		n += rowBytes(conv)
	}
	for _, m := range r.Messages {
		cur.Messages = append(cur.Messages, tsengine.Message{Level: m.Level, Text: m.Text})
	}
	if r.Err != nil && cur.Err == "" {
		cur.Err = r.Err.Error()
	}
	return out, n
}

func sameSeries(a, b tsengine.Row) bool {
	if a.Name != b.Name || len(a.Tags) != len(b.Tags) {
		return false
	}
	for k, v := range a.Tags {
		if w, ok := b.Tags[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// rowBytes estimates the memory a converted row holds: headers, strings
// and one interface per value. An estimate, so MaxAnswerBytes is a bound
// on the order of the answer's size, not to the byte.
func rowBytes(r tsengine.Row) int64 {
	n := int64(96 + len(r.Name))
	for k, v := range r.Tags {
		n += int64(48 + len(k) + len(v))
	}
	for _, c := range r.Columns {
		n += int64(16 + len(c))
	}
	return n + valuesBytes(r.Values)
}

func valuesBytes(vals [][]any) int64 {
	var n int64
	for _, vs := range vals {
		n += 24 + 16*int64(len(vs))
		for _, v := range vs {
			switch v := v.(type) {
			case string:
				n += int64(len(v))
			case json.Number:
				n += int64(len(v))
			case nil, bool:
			default:
				n += 8
			}
		}
	}
	return n
}

func convertRow(row *models.Row, unit time.Duration, typed bool) tsengine.Row {
	out := tsengine.Row{Name: row.Name, Tags: row.Tags, Columns: row.Columns, Partial: row.Partial}
	if len(row.Values) > 0 {
		out.Values = make([][]any, len(row.Values))
		for i, vals := range row.Values {
			conv := make([]any, len(vals))
			for j, v := range vals {
				if typed {
					conv[j] = typedValue(v, unit)
				} else {
					conv[j] = convertValue(v, unit)
				}
			}
			out.Values[i] = conv
		}
	}
	return out
}

// inLocation is t in the statement's tz() location, which the engine
// gives, kept as influxd's answer keeps it ("...T00:00:00-08:00"); the
// engine's Local means no tz(): UTC.
func inLocation(t time.Time) time.Time {
	if t.Location() == time.Local {
		return t.UTC()
	}
	return t
}

// typedValue gives v the representation of QueryOptions.Typed: Go's
// numeric types as the engine has them, times as time.Time.
func typedValue(v any, unit time.Duration) any {
	switch v := v.(type) {
	case time.Time:
		if unit == 0 {
			return inLocation(v)
		}
		return v.UnixNano() / int64(unit)
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil
		}
		return v
	case float32:
		return typedValue(float64(v), unit)
	case int:
		return int64(v)
	case int32:
		return int64(v)
	case uint32:
		return uint64(v)
	case time.Duration:
		return v.String()
	}
	return v
}

// convertValue gives v the representation documented in package tsengine:
// the one the remote engine decodes from InfluxDB's JSON with UseNumber.
func convertValue(v any, unit time.Duration) any {
	// typedValue settles the Go type; what is left is the JSON form.
	switch v := typedValue(v, unit).(type) {
	case time.Time:
		return v.Format(time.RFC3339Nano)
	case float64:
		return json.Number(appendJSONFloat(nil, v)) // NaN and Inf are nil already
	case int64:
		return json.Number(strconv.FormatInt(v, 10))
	case uint64:
		return json.Number(strconv.FormatUint(v, 10))
	default:
		return v
	}
}

func selectsOnly(q *influxql.Query) bool {
	for _, st := range q.Statements {
		if _, ok := st.(*influxql.SelectStatement); !ok {
			return false
		}
	}
	return true
}
