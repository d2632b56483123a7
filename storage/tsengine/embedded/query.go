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
	"github.com/kodo-project/kodo/storage/tsengine/internal/influxlp"
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

func (e *Engine) run(ctx context.Context, db string, q *influxql.Query, opt tsengine.QueryOptions) ([]tsengine.Result, error) {
	unit, err := tsengine.EpochUnit(opt.Epoch)
	if err != nil {
		return nil, fmt.Errorf("embedded: %w", err)
	}
	if err := e.enter(); err != nil {
		return nil, err
	}
	defer e.leave()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("embedded: query not started: %w", err)
	}

	// Closing `closing` makes the task manager kill the query; AbortCh
	// stops the executor from blocking on results nobody reads.
	closing := make(chan struct{})
	stop := context.AfterFunc(ctx, func() { close(closing) })
	defer stop()
	ch := e.executor.ExecuteQuery(q, query.ExecutionOptions{
		Database:         db,
		RetentionPolicy:  opt.RetentionPolicy,
		Authorizer:       query.OpenAuthorizer,
		CoarseAuthorizer: query.OpenCoarseAuthorizer,
		AbortCh:          ctx.Done(),
	}, closing)

	var out []tsengine.Result
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
				// SHOW MEASUREMENTS and the like answer nothing, not an
				// error, on a missing database: make it one, so callers
				// (and both engines) treat every statement alike.
				if db != "" && tsengine.HasEmptyResult(out) && e.meta.Database(db) == nil {
					return nil, fmt.Errorf("embedded: %w: %s", tsengine.ErrDatabaseNotFound, db)
				}
				return out, nil
			}
			out = merge(out, r, unit, opt.Typed)
		case <-ctx.Done():
			go func() {
				for range ch { // let the executor finish its sends and exit
				}
			}()
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

// merge appends r to out; InfluxDB sends one Result per series of a
// statement, the API answers one Result per statement.
func merge(out []tsengine.Result, r *query.Result, unit time.Duration, typed bool) []tsengine.Result {
	if len(out) == 0 || out[len(out)-1].StatementID != r.StatementID {
		out = append(out, tsengine.Result{StatementID: r.StatementID})
	}
	cur := &out[len(out)-1]
	for _, row := range r.Series {
		cur.Series = append(cur.Series, convertRow(row, unit, typed))
	}
	for _, m := range r.Messages {
		cur.Messages = append(cur.Messages, tsengine.Message{Level: m.Level, Text: m.Text})
	}
	if r.Err != nil && cur.Err == "" {
		cur.Err = r.Err.Error()
	}
	return out
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

// typedValue gives v the representation of QueryOptions.Typed: Go's
// numeric types as the engine has them, times as time.Time.
func typedValue(v any, unit time.Duration) any {
	switch v := v.(type) {
	case time.Time:
		if unit == 0 {
			if v.Location() == time.Local {
				v = v.UTC()
			}
			return v
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
	switch v := v.(type) {
	case time.Time:
		if unit == 0 {
			// The engine gives times in the statement's tz() location;
			// keep it, as influxd's answer does ("...T00:00:00-08:00").
			if v.Location() == time.Local {
				v = v.UTC()
			}
			return v.Format(time.RFC3339Nano)
		}
		return json.Number(strconv.FormatInt(v.UnixNano()/int64(unit), 10))
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil // JSON has no NaN; InfluxDB's HTTP API cannot send it either
		}
		return json.Number(influxlp.AppendJSONFloat(nil, v))
	case int64:
		return json.Number(strconv.FormatInt(v, 10))
	case int:
		return json.Number(strconv.Itoa(v))
	case int32:
		return json.Number(strconv.FormatInt(int64(v), 10))
	case uint64:
		return json.Number(strconv.FormatUint(v, 10))
	case uint32:
		return json.Number(strconv.FormatUint(uint64(v), 10))
	case float32:
		return convertValue(float64(v), unit)
	case time.Duration:
		return v.String()
	default:
		return v
	}
}
