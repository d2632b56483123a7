package tsdb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/influxdata/influxql"

	"github.com/kodo-project/kodo/storage/tsengine"
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

// SeriesInfo is the JSON form of a series. Metadata is shown only when
// asked (showMeta=true) or for a single series.
type SeriesInfo struct {
	Name       string            `json:"name"`
	Retention  string            `json:"retention"`
	Metadata   map[string]string `json:"metadata,omitempty"`
	CreateTime string            `json:"createTime"`
	Type       string            `json:"type"`
	Deleting   string            `json:"deleting"`
}

// MarshalJSON writes "metadata" whenever it is set, even empty, so
// showMeta=true always shows the member.
func (si SeriesInfo) MarshalJSON() ([]byte, error) {
	type plain SeriesInfo
	out := struct {
		plain
		Metadata *map[string]string `json:"metadata,omitempty"`
	}{plain: plain(si)}
	if si.Metadata != nil {
		out.Metadata = &si.Metadata
	}
	return json.Marshal(out)
}

func seriesInfo(se Series, showMeta bool) SeriesInfo {
	out := SeriesInfo{Name: se.Name, Retention: se.Retention, CreateTime: formatTime(se.CreatedAt),
		Type: strconv.Itoa(se.Type), Deleting: boolString(se.Deleting)}
	if showMeta {
		out.Metadata = se.Metadata
		if out.Metadata == nil {
			out.Metadata = map[string]string{}
		}
	}
	return out
}

func (s *Service) loadSeries(ctx context.Context, ak, repo, name string, allowDeleting bool) (Series, *Error) {
	if !ValidName(name) {
		return Series{}, apiError(CodeInvalidSeriesName, "got %q", name)
	}
	se, err := s.cfg.Store.PandoraSeries(ctx, ak, repo, name)
	if errors.Is(err, ErrNotFound) {
		return Series{}, apiError(CodeSeriesNotFound, "series %q in repo %q", name, repo)
	}
	if err != nil {
		return Series{}, s.internal("loading series", err)
	}
	if se.Deleting && !allowDeleting {
		return Series{}, apiError(CodeSeriesDeleting, "series %q", name)
	}
	return se, nil
}

type createSeriesBody struct {
	Retention string            `json:"retention"`
	Metadata  map[string]string `json:"metadata"`
}

func (s *Service) createSeries(q *request, repo, name string) *Error {
	if !ValidName(repo) {
		return apiError(CodeInvalidRepoName, "got %q", repo)
	}
	if !ValidName(name) {
		return apiError(CodeInvalidSeriesName, "got %q", name)
	}
	if isKeyword(name) {
		return apiError(CodeSeriesKeyword, "%q is an InfluxQL keyword", name)
	}
	var b createSeriesBody
	if e := decodeJSON(q.body, &b, true); e != nil {
		return e
	}
	rp, err := rpFor(b.Retention)
	if err != nil {
		return apiError(CodeRetentionUnknown, "%v", err)
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
	list, err := s.cfg.Store.PandoraSeriesList(q.ctx, q.ak, repo)
	if err != nil {
		return s.internal("listing series", err)
	}
	for _, se := range list {
		if se.Name == name {
			if se.Deleting {
				return apiError(CodeSeriesDeleting, "series %q", name)
			}
			return apiError(CodeSeriesExists, "series %q in repo %q", name, repo)
		}
	}
	if _, err := s.cfg.Store.PandoraView(q.ctx, q.ak, repo, name); err == nil {
		return apiError(CodeSeriesExists, "a view of repo %q is named %q", repo, name)
	}
	if len(list) >= s.cfg.MaxSeriesPerRepo {
		// Cheap early answer; the store checks again atomically below.
		return apiError(CodeSeriesLimit, "repo %q has %d series, the most allowed", repo, len(list))
	}
	// The RP first, so a series on record can always be written.
	if err := s.cfg.Engine.CreateDatabase(q.ctx, DatabaseName(q.ak, repo), []tsengine.RetentionPolicy{rp}); err != nil {
		return s.internal("creating retention policy", err)
	}
	md := b.Metadata
	if md == nil {
		md = map[string]string{}
	}
	se := Series{AccessKey: q.ak, Repo: repo, Name: name, Retention: b.Retention, Metadata: md, Type: 1, CreatedAt: s.now().UTC()}
	if err := s.cfg.Store.CreatePandoraSeries(q.ctx, se, s.cfg.MaxSeriesPerRepo); err != nil {
		switch {
		case errors.Is(err, ErrLimit):
			// Another creation took the last place since the list above.
			return apiError(CodeSeriesLimit, "repo %q has %d series, the most allowed", repo, s.cfg.MaxSeriesPerRepo)
		case errors.Is(err, ErrConflict):
			return apiError(CodeSeriesExists, "series %q in repo %q", name, repo)
		case errors.Is(err, ErrNotFound):
			return apiError(CodeNotFound, "repo %q does not exist", repo)
		}
		return s.internal("storing series", err)
	}
	return ok(q, nil)
}

func (s *Service) getSeries(q *request, repo, name string) *Error {
	if _, e := s.loadRepo(q.ctx, q.ak, repo, true); e != nil {
		return e
	}
	se, e := s.loadSeries(q.ctx, q.ak, repo, name, true)
	if e != nil {
		return e
	}
	return ok(q, seriesInfo(se, true))
}

func (s *Service) listSeries(q *request, repo string) *Error {
	if _, e := s.loadRepo(q.ctx, q.ak, repo, true); e != nil {
		return e
	}
	showMeta := false
	if v := q.r.URL.Query().Get("showMeta"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return apiError(CodeBadRequest, "showMeta=%q: want true or false", v)
		}
		showMeta = b
	}
	list, err := s.cfg.Store.PandoraSeriesList(q.ctx, q.ak, repo)
	if err != nil {
		return s.internal("listing series", err)
	}
	out := make([]SeriesInfo, 0, len(list))
	for _, se := range list {
		out = append(out, seriesInfo(se, showMeta))
	}
	return ok(q, out)
}

func (s *Service) setSeriesMeta(q *request, repo, name string, md map[string]string) *Error {
	unlock, e := s.lockSeries(q.ak, repo, name)
	if e != nil {
		return e
	}
	defer unlock()
	if _, e := s.loadRepo(q.ctx, q.ak, repo, false); e != nil {
		return e
	}
	se, e := s.loadSeries(q.ctx, q.ak, repo, name, false)
	if e != nil {
		return e
	}
	if md == nil {
		md = map[string]string{}
	}
	se.Metadata = md
	if err := s.cfg.Store.UpdatePandoraSeries(q.ctx, se); err != nil {
		if errors.Is(err, ErrNotFound) {
			return apiError(CodeSeriesNotFound, "series %q in repo %q", name, repo)
		}
		return s.internal("updating series", err)
	}
	return ok(q, nil)
}

func (s *Service) updateSeriesMeta(q *request, repo, name string) *Error {
	if !ValidName(repo) {
		return apiError(CodeInvalidRepoName, "got %q", repo)
	}
	if !ValidName(name) {
		return apiError(CodeInvalidSeriesName, "got %q", name)
	}
	md, e := readMetadata(q.body)
	if e != nil {
		return e
	}
	return s.setSeriesMeta(q, repo, name, md)
}

func (s *Service) deleteSeriesMeta(q *request, repo, name string) *Error {
	if !ValidName(repo) {
		return apiError(CodeInvalidRepoName, "got %q", repo)
	}
	if !ValidName(name) {
		return apiError(CodeInvalidSeriesName, "got %q", name)
	}
	return s.setSeriesMeta(q, repo, name, nil)
}

func (s *Service) deleteSeries(q *request, repo, name string) *Error {
	if !ValidName(repo) {
		return apiError(CodeInvalidRepoName, "got %q", repo)
	}
	if !ValidName(name) {
		return apiError(CodeInvalidSeriesName, "got %q", name)
	}
	unlock, e := s.lockSeries(q.ak, repo, name)
	if e != nil {
		return e
	}
	defer unlock()
	if _, e := s.loadRepo(q.ctx, q.ak, repo, false); e != nil {
		return e
	}
	se, e := s.loadSeries(q.ctx, q.ak, repo, name, false)
	if e != nil {
		return e
	}
	se.Deleting = true
	if err := s.cfg.Store.UpdatePandoraSeries(q.ctx, se); err != nil {
		return s.internal("marking series deleting", err)
	}
	s.goDropSeries(se)
	return ok(q, nil)
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
