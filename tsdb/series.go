package tsdb

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/influxdata/influxql"

	"github.com/kodo-project/kodo/storage/tsengine"
	"github.com/kodo-project/kodo/tsdb/tsdbapi"
)

// MinRetentionDays and MaxRetentionDays bound a series' retention ("1d".."30d").
const (
	MinRetentionDays = 1
	MaxRetentionDays = 30
)

// ParseRetention reads "1d".."30d" and returns the days.
func ParseRetention(s string) (int, error) {
	num, found := strings.CutSuffix(s, "d")
	n, err := strconv.Atoi(num)
	if !found || err != nil || num == "" || num[0] == '+' || num[0] == '-' || n < MinRetentionDays || n > MaxRetentionDays {
		return 0, fmt.Errorf("retention %q is not one of %dd to %dd", s, MinRetentionDays, MaxRetentionDays)
	}
	return n, nil
}

// RPName is the engine retention policy holding series of a retention:
// "7d" -> "r7d".
func RPName(retention string) string { return "r" + retention }

func rpFor(retention string) (tsengine.RetentionPolicy, error) {
	n, err := ParseRetention(retention)
	if err != nil {
		return tsengine.RetentionPolicy{}, err
	}
	return tsengine.RetentionPolicy{Name: RPName(retention), Duration: time.Duration(n) * 24 * time.Hour}, nil
}

// isKeyword reports names InfluxQL reads as keywords (and "time", which
// names the time column), which a series may not take.
func isKeyword(name string) bool {
	return influxql.Lookup(name) != influxql.IDENT || strings.EqualFold(name, "time")
}

func seriesInfo(se Series, showMeta bool) tsdbapi.SeriesInfo {
	out := tsdbapi.SeriesInfo{Name: se.Name, Retention: se.Retention, CreateTime: formatTime(se.CreatedAt),
		Type: strconv.Itoa(se.Type), Deleting: boolString(se.Deleting)}
	if showMeta {
		out.Metadata = se.Metadata
		if out.Metadata == nil {
			out.Metadata = map[string]string{}
		}
	}
	return out
}

// checkRecord validates the retention and the metadata of a new series
// or view.
func checkRecord(retention string, md map[string]string) error {
	if _, err := ParseRetention(retention); err != nil {
		return tsdbapi.Errorf(tsdbapi.CodeRetentionUnknown, "%v", err)
	}
	return checkMetadata(md)
}

func (s *Service) loadSeries(ctx context.Context, ak, repo, name string, allowDeleting bool) (Series, error) {
	if !ValidName(name) {
		return Series{}, tsdbapi.Errorf(tsdbapi.CodeInvalidSeriesName, "got %q", name)
	}
	se, err := s.cfg.Store.PandoraSeries(ctx, ak, repo, name)
	if errors.Is(err, ErrNotFound) {
		return Series{}, tsdbapi.Errorf(tsdbapi.CodeSeriesNotFound, "series %q in repo %q", name, repo)
	}
	if err != nil {
		return Series{}, fmt.Errorf("loading series: %w", err)
	}
	if se.Deleting && !allowDeleting {
		return Series{}, tsdbapi.Errorf(tsdbapi.CodeSeriesDeleting, "series %q", name)
	}
	return se, nil
}

// checkSeriesNames validates the names of a change to a series.
func checkSeriesNames(repo, name string) error {
	if !ValidName(repo) {
		return tsdbapi.Errorf(tsdbapi.CodeInvalidRepoName, "got %q", repo)
	}
	if !ValidName(name) {
		return tsdbapi.Errorf(tsdbapi.CodeInvalidSeriesName, "got %q", name)
	}
	return nil
}

func (s *Service) createSeries(ctx context.Context, ak, repo, name string, in tsdbapi.CreateSeriesInput) error {
	if err := checkSeriesNames(repo, name); err != nil {
		return err
	}
	if isKeyword(name) {
		return tsdbapi.Errorf(tsdbapi.CodeSeriesKeyword, "%q is an InfluxQL keyword", name)
	}
	if err := checkRecord(in.Retention, in.Metadata); err != nil {
		return err
	}
	rp, err := rpFor(in.Retention)
	if err != nil {
		return err // checked above
	}
	unlock, err := s.lockSeriesOfRepo(ctx, ak, repo, name)
	if err != nil {
		return err
	}
	defer unlock()
	list, err := s.cfg.Store.PandoraSeriesList(ctx, ak, repo)
	if err != nil {
		return fmt.Errorf("listing series: %w", err)
	}
	for _, se := range list {
		if se.Name == name {
			if se.Deleting {
				return tsdbapi.Errorf(tsdbapi.CodeSeriesDeleting, "series %q", name)
			}
			return tsdbapi.Errorf(tsdbapi.CodeSeriesExists, "series %q in repo %q", name, repo)
		}
	}
	if _, err := s.cfg.Store.PandoraView(ctx, ak, repo, name); err == nil {
		return tsdbapi.Errorf(tsdbapi.CodeSeriesExists, "a view of repo %q is named %q", repo, name)
	}
	if len(list) >= s.cfg.MaxSeriesPerRepo {
		// Cheap early answer; the store checks again atomically below.
		return tsdbapi.Errorf(tsdbapi.CodeSeriesLimit, "repo %q has %d series, the most allowed", repo, len(list))
	}
	// The RP first, so a series on record can always be written.
	if err := s.cfg.Engine.CreateDatabase(ctx, DatabaseName(ak, repo), []tsengine.RetentionPolicy{rp}); err != nil {
		return fmt.Errorf("creating retention policy: %w", err)
	}
	md := in.Metadata
	if md == nil {
		md = map[string]string{}
	}
	se := Series{AccessKey: ak, Repo: repo, Name: name, Retention: in.Retention, Metadata: md, Type: 1, CreatedAt: s.now().UTC()}
	if err := s.cfg.Store.CreatePandoraSeries(ctx, se, s.cfg.MaxSeriesPerRepo); err != nil {
		switch {
		case errors.Is(err, ErrLimit):
			// Another creation took the last place since the list above.
			return tsdbapi.Errorf(tsdbapi.CodeSeriesLimit, "repo %q has %d series, the most allowed", repo, s.cfg.MaxSeriesPerRepo)
		case errors.Is(err, ErrConflict):
			return tsdbapi.Errorf(tsdbapi.CodeSeriesExists, "series %q in repo %q", name, repo)
		case errors.Is(err, ErrNotFound):
			return tsdbapi.Errorf(tsdbapi.CodeNotFound, "repo %q does not exist", repo)
		}
		return fmt.Errorf("storing series: %w", err)
	}
	return nil
}

func (s *Service) getSeries(ctx context.Context, ak, repo, name string) (tsdbapi.SeriesInfo, error) {
	if _, err := s.loadRepo(ctx, ak, repo, true); err != nil {
		return tsdbapi.SeriesInfo{}, err
	}
	se, err := s.loadSeries(ctx, ak, repo, name, true)
	if err != nil {
		return tsdbapi.SeriesInfo{}, err
	}
	return seriesInfo(se, true), nil
}

func (s *Service) listSeries(ctx context.Context, ak, repo string, showMeta bool) ([]tsdbapi.SeriesInfo, error) {
	if _, err := s.loadRepo(ctx, ak, repo, true); err != nil {
		return nil, err
	}
	list, err := s.cfg.Store.PandoraSeriesList(ctx, ak, repo)
	if err != nil {
		return nil, fmt.Errorf("listing series: %w", err)
	}
	out := make([]tsdbapi.SeriesInfo, 0, len(list))
	for _, se := range list {
		out = append(out, seriesInfo(se, showMeta))
	}
	return out, nil
}

// setSeriesMeta replaces a series' metadata (nil clears it).
func (s *Service) setSeriesMeta(ctx context.Context, ak, repo, name string, md map[string]string) error {
	if md == nil {
		md = map[string]string{}
	}
	_, err := s.updateSeries(ctx, ak, repo, name, func(se *Series) { se.Metadata = md })
	return err
}

// deleteSeries marks the series deleting and drops its points in the
// background; the record goes once the data is gone.
func (s *Service) deleteSeries(ctx context.Context, ak, repo, name string) error {
	se, err := s.updateSeries(ctx, ak, repo, name, func(se *Series) { se.Deleting = true })
	if err != nil {
		return err
	}
	s.goDropSeries(se)
	return nil
}

// updateSeries applies change to a series that is not being deleted, in a
// repo that is not either, under the series' lock, and stores it.
func (s *Service) updateSeries(ctx context.Context, ak, repo, name string, change func(*Series)) (Series, error) {
	if err := checkSeriesNames(repo, name); err != nil {
		return Series{}, err
	}
	unlock, err := s.lockSeriesOfRepo(ctx, ak, repo, name)
	if err != nil {
		return Series{}, err
	}
	defer unlock()
	se, err := s.loadSeries(ctx, ak, repo, name, false)
	if err != nil {
		return Series{}, err
	}
	change(&se)
	if err := s.cfg.Store.UpdatePandoraSeries(ctx, se); err != nil {
		if errors.Is(err, ErrNotFound) {
			return Series{}, tsdbapi.Errorf(tsdbapi.CodeSeriesNotFound, "series %q in repo %q", name, repo)
		}
		return Series{}, fmt.Errorf("updating series: %w", err)
	}
	return se, nil
}

func (s *Service) goDropSeries(se Series) {
	s.drops.Start("series "+se.AccessKey+" "+se.Repo+" "+se.Name, func(ctx context.Context) error {
		db := DatabaseName(se.AccessKey, se.Repo)
		err := s.cfg.Engine.DropMeasurement(ctx, db, se.Name)
		if err != nil && !errors.Is(err, tsengine.ErrDatabaseNotFound) {
			if r, rerr := s.cfg.Store.PandoraRepo(ctx, se.AccessKey, se.Repo); errors.Is(rerr, ErrNotFound) || (rerr == nil && r.Deleting) {
				return nil // the repo's deletion takes the series with it
			}
			return fmt.Errorf("tsdb: dropping series %s of repo %s: %w", se.Name, se.Repo, err)
		}
		if err := s.cfg.Store.DeletePandoraSeries(ctx, se.AccessKey, se.Repo, se.Name); err != nil && !errors.Is(err, ErrNotFound) {
			return fmt.Errorf("tsdb: removing the record of series %s of repo %s: %w", se.Name, se.Repo, err)
		}
		s.log.Info("tsdb: series deleted", "repo", se.Repo, "series", se.Name)
		return nil
	})
}
