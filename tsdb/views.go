package tsdb

import (
	"errors"

	iql "github.com/influxdata/influxql"

	kql "github.com/kodo-project/kodo/influxql"

	"github.com/kodo-project/kodo/tsdb/tsdbapi"
)

func viewInfo(v View) tsdbapi.ViewInfo {
	md := v.Metadata
	if md == nil {
		md = map[string]string{}
	}
	return tsdbapi.ViewInfo{Name: v.Name, SQL: v.SQL, Retention: v.Retention, Metadata: md, CreateTime: formatTime(v.CreatedAt)}
}

// createView stores a named SELECT. The view is computed when queried
// (FROM <view> reads the SELECT as a subquery), so it holds no data of its
// own; its retention is checked and kept for the record.
func (s *Service) createView(q *request, repo, name string) *tsdbapi.Error {
	if !ValidName(repo) {
		return tsdbapi.Errorf(tsdbapi.CodeInvalidRepoName, "got %q", repo)
	}
	if !ValidName(name) || isKeyword(name) {
		return tsdbapi.Errorf(tsdbapi.CodeInvalidViewName, "got %q", name)
	}
	var b tsdbapi.CreateViewInput
	if e := decodeJSON(q.body, &b, true); e != nil {
		return e
	}
	if _, err := ParseRetention(b.Retention); err != nil {
		return tsdbapi.Errorf(tsdbapi.CodeRetentionUnknown, "%v", err)
	}
	if e := checkMetadata(b.Metadata); e != nil {
		return e
	}
	unlock, e := s.lockSeries(q.ak, repo, name)
	if e != nil {
		return e
	}
	defer unlock()
	if _, e := s.loadRepo(q.ctx, q.ak, repo, false); e != nil {
		return e
	}
	parsed, err := kql.Guard(b.SQL, DatabaseName(q.ak, repo), kql.AllowRead)
	if err != nil {
		return tsdbapi.Errorf(tsdbapi.CodeInvalidViewSQL, "%v", err)
	}
	if len(parsed.Statements) != 1 {
		return tsdbapi.Errorf(tsdbapi.CodeInvalidViewSQL, "a view is one SELECT statement, got %d statements", len(parsed.Statements))
	}
	sel, isSelect := parsed.Statements[0].(*iql.SelectStatement)
	if !isSelect {
		return tsdbapi.Errorf(tsdbapi.CodeInvalidViewSQL, "a view is a SELECT statement")
	}
	list, err := s.cfg.Store.PandoraSeriesList(q.ctx, q.ak, repo)
	if err != nil {
		return s.internal("listing series", err)
	}
	known := map[string]bool{}
	for _, se := range list {
		known[se.Name] = !se.Deleting
	}
	if _, isSeries := known[name]; isSeries {
		return tsdbapi.Errorf(tsdbapi.CodeViewExists, "a series of repo %q is named %q", repo, name)
	}
	for _, src := range sel.Sources {
		m, isM := src.(*iql.Measurement)
		if !isM || m.Regex != nil || m.RetentionPolicy != "" || m.Database != "" {
			return tsdbapi.Errorf(tsdbapi.CodeInvalidViewSQL, "FROM must name series of the repo, bare, got %s", src.String())
		}
		if !known[m.Name] {
			return tsdbapi.Errorf(tsdbapi.CodeInvalidViewSQL, "FROM %q: no such series in repo %q", m.Name, repo)
		}
	}
	md := b.Metadata
	if md == nil {
		md = map[string]string{}
	}
	v := View{AccessKey: q.ak, Repo: repo, Name: name, SQL: sel.String(), Retention: b.Retention, Metadata: md, CreatedAt: s.now().UTC()}
	if err := s.cfg.Store.CreatePandoraView(q.ctx, v); err != nil {
		switch {
		case errors.Is(err, ErrConflict):
			return tsdbapi.Errorf(tsdbapi.CodeViewExists, "view %q in repo %q", name, repo)
		case errors.Is(err, ErrNotFound):
			return tsdbapi.Errorf(tsdbapi.CodeNotFound, "repo %q does not exist", repo)
		}
		return s.internal("storing view", err)
	}
	return ok(q, nil)
}

func (s *Service) loadView(q *request, repo, name string) (View, *tsdbapi.Error) {
	if !ValidName(name) {
		return View{}, tsdbapi.Errorf(tsdbapi.CodeInvalidViewName, "got %q", name)
	}
	v, err := s.cfg.Store.PandoraView(q.ctx, q.ak, repo, name)
	if errors.Is(err, ErrNotFound) {
		return View{}, tsdbapi.Errorf(tsdbapi.CodeViewNotFound, "view %q in repo %q", name, repo)
	}
	if err != nil {
		return View{}, s.internal("loading view", err)
	}
	return v, nil
}

func (s *Service) getView(q *request, repo, name string) *tsdbapi.Error {
	if _, e := s.loadRepo(q.ctx, q.ak, repo, true); e != nil {
		return e
	}
	v, e := s.loadView(q, repo, name)
	if e != nil {
		return e
	}
	return ok(q, viewInfo(v))
}

func (s *Service) listViews(q *request, repo string) *tsdbapi.Error {
	if _, e := s.loadRepo(q.ctx, q.ak, repo, true); e != nil {
		return e
	}
	vs, err := s.cfg.Store.PandoraViews(q.ctx, q.ak, repo)
	if err != nil {
		return s.internal("listing views", err)
	}
	out := make([]tsdbapi.ViewInfo, 0, len(vs))
	for _, v := range vs {
		out = append(out, viewInfo(v))
	}
	return ok(q, out)
}

func (s *Service) deleteView(q *request, repo, name string) *tsdbapi.Error {
	if !ValidName(repo) {
		return tsdbapi.Errorf(tsdbapi.CodeInvalidRepoName, "got %q", repo)
	}
	unlock, e := s.lockSeries(q.ak, repo, name)
	if e != nil {
		return e
	}
	defer unlock()
	if _, e := s.loadRepo(q.ctx, q.ak, repo, false); e != nil {
		return e
	}
	if _, e := s.loadView(q, repo, name); e != nil {
		return e
	}
	if err := s.cfg.Store.DeletePandoraView(q.ctx, q.ak, repo, name); err != nil {
		if errors.Is(err, ErrNotFound) {
			return tsdbapi.Errorf(tsdbapi.CodeViewNotFound, "view %q in repo %q", name, repo)
		}
		return s.internal("deleting view", err)
	}
	return ok(q, nil)
}
