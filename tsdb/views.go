package tsdb

import (
	"context"
	"errors"
	"fmt"

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
func (s *Service) createView(ctx context.Context, ak, repo, name string, in tsdbapi.CreateViewInput) error {
	if !ValidName(repo) {
		return tsdbapi.Errorf(tsdbapi.CodeInvalidRepoName, "got %q", repo)
	}
	if !ValidName(name) || isKeyword(name) {
		return tsdbapi.Errorf(tsdbapi.CodeInvalidViewName, "got %q", name)
	}
	if err := checkRecord(in.Retention, in.Metadata); err != nil {
		return err
	}
	unlock, err := s.lockSeriesOfRepo(ctx, ak, repo, name)
	if err != nil {
		return err
	}
	defer unlock()
	parsed, err := kql.Guard(in.SQL, DatabaseName(ak, repo), kql.AllowRead)
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
	list, err := s.cfg.Store.PandoraSeriesList(ctx, ak, repo)
	if err != nil {
		return fmt.Errorf("listing series: %w", err)
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
	md := in.Metadata
	if md == nil {
		md = map[string]string{}
	}
	v := View{AccessKey: ak, Repo: repo, Name: name, SQL: sel.String(), Retention: in.Retention, Metadata: md, CreatedAt: s.now().UTC()}
	if err := s.cfg.Store.CreatePandoraView(ctx, v); err != nil {
		switch {
		case errors.Is(err, ErrConflict):
			return tsdbapi.Errorf(tsdbapi.CodeViewExists, "view %q in repo %q", name, repo)
		case errors.Is(err, ErrNotFound):
			return tsdbapi.Errorf(tsdbapi.CodeNotFound, "repo %q does not exist", repo)
		}
		return fmt.Errorf("storing view: %w", err)
	}
	return nil
}

func (s *Service) loadView(ctx context.Context, ak, repo, name string) (View, error) {
	if !ValidName(name) {
		return View{}, tsdbapi.Errorf(tsdbapi.CodeInvalidViewName, "got %q", name)
	}
	v, err := s.cfg.Store.PandoraView(ctx, ak, repo, name)
	if errors.Is(err, ErrNotFound) {
		return View{}, tsdbapi.Errorf(tsdbapi.CodeViewNotFound, "view %q in repo %q", name, repo)
	}
	if err != nil {
		return View{}, fmt.Errorf("loading view: %w", err)
	}
	return v, nil
}

func (s *Service) getView(ctx context.Context, ak, repo, name string) (tsdbapi.ViewInfo, error) {
	if _, err := s.loadRepo(ctx, ak, repo, true); err != nil {
		return tsdbapi.ViewInfo{}, err
	}
	v, err := s.loadView(ctx, ak, repo, name)
	if err != nil {
		return tsdbapi.ViewInfo{}, err
	}
	return viewInfo(v), nil
}

func (s *Service) listViews(ctx context.Context, ak, repo string) ([]tsdbapi.ViewInfo, error) {
	if _, err := s.loadRepo(ctx, ak, repo, true); err != nil {
		return nil, err
	}
	vs, err := s.cfg.Store.PandoraViews(ctx, ak, repo)
	if err != nil {
		return nil, fmt.Errorf("listing views: %w", err)
	}
	out := make([]tsdbapi.ViewInfo, 0, len(vs))
	for _, v := range vs {
		out = append(out, viewInfo(v))
	}
	return out, nil
}

func (s *Service) deleteView(ctx context.Context, ak, repo, name string) error {
	if !ValidName(repo) {
		return tsdbapi.Errorf(tsdbapi.CodeInvalidRepoName, "got %q", repo)
	}
	unlock, err := s.lockSeriesOfRepo(ctx, ak, repo, name)
	if err != nil {
		return err
	}
	defer unlock()
	if _, err := s.loadView(ctx, ak, repo, name); err != nil {
		return err
	}
	if err := s.cfg.Store.DeletePandoraView(ctx, ak, repo, name); err != nil {
		if errors.Is(err, ErrNotFound) {
			return tsdbapi.Errorf(tsdbapi.CodeViewNotFound, "view %q in repo %q", name, repo)
		}
		return fmt.Errorf("deleting view: %w", err)
	}
	return nil
}
