package tsdb

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	iql "github.com/influxdata/influxql"

	kql "github.com/kodo-project/kodo/influxql"
	"github.com/kodo-project/kodo/storage/tsengine"
	"github.com/kodo-project/kodo/tsdb/tsdbapi"
)

// query runs sql, naming series and views bare, in ak's repo; tz is the
// caller's time zone ("" = UTC), in which the time literals are read.
func (s *Service) query(reqCtx context.Context, ak, repo, sql, tz string) (*tsdbapi.QueryRet, error) {
	if _, err := s.loadRepo(reqCtx, ak, repo, false); err != nil {
		return nil, err
	}
	if strings.TrimSpace(sql) == "" {
		return nil, tsdbapi.Errorf(tsdbapi.CodeInvalidSQL, "the query is empty: send it as ?q=, {\"sql\":...} or a text/plain body")
	}
	if tz != "" { // "timezone=" is UTC, like no parameter
		if _, err := kql.ParseTimezone(tz); err != nil {
			return nil, tsdbapi.Errorf(tsdbapi.CodeInvalidTimezone, "%v", err)
		}
	}
	db := DatabaseName(ak, repo)
	parsed, err := kql.Guard(sql, db, kql.AllowRead)
	if err != nil {
		return nil, tsdbapi.Errorf(tsdbapi.CodeInvalidSQL, "%v", err)
	}
	rw, err := s.newResolver(reqCtx, ak, repo)
	if err != nil {
		return nil, err
	}
	viewNames := make([]string, len(parsed.Statements))
	for i, st := range parsed.Statements {
		name, err := rw.statement(st)
		if err != nil {
			return nil, tsdbapi.Errorf(tsdbapi.CodeInvalidSQL, "statement %d: %v", i+1, err)
		}
		viewNames[i] = name
	}
	if tz != "" {
		// After the sources are resolved, so view subqueries shift too.
		if err := kql.ShiftTimezone(parsed, tz); err != nil {
			return nil, tsdbapi.Errorf(tsdbapi.CodeInvalidTimezone, "%v", err)
		}
	}
	if err := kql.CheckBuckets(parsed, s.now(), s.cfg.MaxSelectBuckets); err != nil {
		return nil, tsdbapi.Errorf(tsdbapi.CodeInvalidSQL, "%v", err)
	}
	ctx := reqCtx
	if s.cfg.QueryTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.cfg.QueryTimeout)
		defer cancel()
	}
	results, err := s.cfg.Engine.Query(ctx, db, parsed, tsengine.QueryOptions{MaxAnswerBytes: s.cfg.MaxAnswerBytes})
	var limit *tsengine.LimitError
	switch {
	case errors.As(err, &limit):
		return nil, tsdbapi.Errorf(tsdbapi.CodeExecuteSQL, "%v: narrow the time range, filter on tags, aggregate with a coarser GROUP BY time or add LIMIT", err)
	case errors.Is(err, context.DeadlineExceeded) || (err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded)):
		return nil, tsdbapi.Errorf(tsdbapi.CodeQueryTimeout, "the limit is %s", s.cfg.QueryTimeout)
	case errors.Is(err, tsengine.ErrDatabaseNotFound):
		return nil, tsdbapi.Errorf(tsdbapi.CodeRepoDeleting, "repo %q", repo)
	case errors.Is(err, tsengine.ErrUnavailable):
		return nil, fmt.Errorf("query: %w", err)
	case err != nil && reqCtx.Err() != nil:
		return nil, tsdbapi.Errorf(tsdbapi.CodeQueryInterrupted, "the request was cancelled")
	case err != nil:
		return nil, tsdbapi.Errorf(tsdbapi.CodeExecuteSQL, "%v", err)
	}
	if len(results) == 0 {
		return nil, tsdbapi.Errorf(tsdbapi.CodeQueryInterrupted, "")
	}
	out := tsdbapi.QueryRet{Results: make([]tsdbapi.QueryResult, 0, len(results))}
	for i, r := range results {
		if r.Err != "" {
			if strings.Contains(r.Err, "timeout") || strings.Contains(r.Err, "query killed") || strings.Contains(r.Err, "interrupted") {
				if ctx.Err() != nil {
					return nil, tsdbapi.Errorf(tsdbapi.CodeQueryTimeout, "the limit is %s", s.cfg.QueryTimeout)
				}
			}
			return nil, tsdbapi.Errorf(tsdbapi.CodeExecuteSQL, "statement %d: %s", i+1, r.Err)
		}
		qr := tsdbapi.QueryResult{}
		for _, row := range r.Series {
			name := row.Name
			if i < len(viewNames) && viewNames[i] != "" {
				name = viewNames[i]
			}
			qr.Series = append(qr.Series, tsdbapi.Serie{Name: name, Tags: row.Tags, Columns: row.Columns, Values: row.Values})
		}
		out.Results = append(out.Results, qr)
	}
	return &out, nil
}

// resolver rewrites the sources of a query: a series named bare is read
// from the RP of its retention, a view becomes its SELECT as a subquery,
// and a regex expands to the matching series.
type resolver struct {
	series map[string]Series
	names  []string // series names, sorted by the store
	views  map[string]View
}

func (s *Service) newResolver(ctx context.Context, ak, repo string) (*resolver, error) {
	list, err := s.cfg.Store.PandoraSeriesList(ctx, ak, repo)
	if err != nil {
		return nil, fmt.Errorf("listing series: %w", err)
	}
	views, err := s.cfg.Store.PandoraViews(ctx, ak, repo)
	if err != nil {
		return nil, fmt.Errorf("listing views: %w", err)
	}
	r := &resolver{series: map[string]Series{}, views: map[string]View{}}
	for _, se := range list {
		if !se.Deleting {
			r.series[se.Name] = se
			r.names = append(r.names, se.Name)
		}
	}
	for _, v := range views {
		r.views[v.Name] = v
	}
	return r, nil
}

// statement rewrites st in place. It returns the view name when st reads
// a single view, so the answer is named for the view.
func (r *resolver) statement(st iql.Statement) (string, error) {
	switch st := st.(type) {
	case *iql.SelectStatement:
		view := ""
		if len(st.Sources) == 1 {
			if m, ok := st.Sources[0].(*iql.Measurement); ok && m.Regex == nil && m.RetentionPolicy == "" {
				if _, isView := r.views[m.Name]; isView {
					view = m.Name
				}
			}
		}
		return view, r.selectStmt(st, 0)
	case *iql.ExplainStatement:
		return "", r.selectStmt(st.Statement, 0)
	case *iql.ShowFieldKeysStatement:
		st.Sources = r.seriesSources(st.Sources)
	case *iql.ShowTagKeysStatement:
		st.Sources = r.seriesSources(st.Sources)
	case *iql.ShowTagValuesStatement:
		st.Sources = r.seriesSources(st.Sources)
	case *iql.ShowSeriesStatement:
		st.Sources = r.seriesSources(st.Sources)
	}
	return "", nil
}

// maxViewDepth stops a view that (through an edit of the store) names
// itself from recursing forever.
const maxViewDepth = 4

func (r *resolver) selectStmt(st *iql.SelectStatement, depth int) error {
	out := make(iql.Sources, 0, len(st.Sources))
	for _, src := range st.Sources {
		switch src := src.(type) {
		case *iql.SubQuery:
			if err := r.selectStmt(src.Statement, depth); err != nil {
				return err
			}
			out = append(out, src)
		case *iql.Measurement:
			if src.Regex == nil && src.RetentionPolicy == "" {
				if v, isView := r.views[src.Name]; isView {
					if depth >= maxViewDepth {
						return errors.New("views nest too deeply")
					}
					vst, err := kql.ParseStatement(v.SQL)
					if err != nil {
						return errors.New("view " + strconv.Quote(v.Name) + " no longer parses: " + err.Error())
					}
					sel, ok := vst.(*iql.SelectStatement)
					if !ok {
						return errors.New("view " + strconv.Quote(v.Name) + " is not a SELECT")
					}
					if err := r.selectStmt(sel, depth+1); err != nil {
						return err
					}
					out = append(out, &iql.SubQuery{Statement: sel})
					continue
				}
			}
			out = append(out, r.measurement(src)...)
		default:
			out = append(out, src)
		}
	}
	st.Sources = out
	return nil
}

func (r *resolver) seriesSources(srcs iql.Sources) iql.Sources {
	out := make(iql.Sources, 0, len(srcs))
	for _, src := range srcs {
		if m, ok := src.(*iql.Measurement); ok {
			out = append(out, r.measurement(m)...)
			continue
		}
		out = append(out, src)
	}
	return out
}

// measurement puts a series in its RP; a regex becomes the list of
// matching series (each in its own RP), or stays as it is when none match.
func (r *resolver) measurement(m *iql.Measurement) []iql.Source {
	if m.RetentionPolicy != "" {
		return []iql.Source{m}
	}
	if m.Regex != nil {
		var out []iql.Source
		for _, name := range r.names {
			if m.Regex.Val.MatchString(name) {
				out = append(out, &iql.Measurement{Database: m.Database, RetentionPolicy: RPName(r.series[name].Retention), Name: name})
			}
		}
		if len(out) == 0 {
			return []iql.Source{m}
		}
		return out
	}
	if se, ok := r.series[m.Name]; ok {
		c := *m
		c.RetentionPolicy = RPName(se.Retention)
		return []iql.Source{&c}
	}
	return []iql.Source{m}
}
