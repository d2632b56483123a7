package tsdb

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"
	"unicode/utf8"

	"github.com/kodo-project/kodo/tsdb/tsdbapi"
)

func repoInfo(r Repo) tsdbapi.RepoInfo {
	md := r.Metadata
	if md == nil {
		md = map[string]string{}
	}
	return tsdbapi.RepoInfo{Name: r.Name, Region: r.Region, Metadata: md, CreateTime: formatTime(r.CreatedAt), Deleting: boolString(r.Deleting)}
}

func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// MaxMetadataValue is the longest metadata value, in characters.
const MaxMetadataValue = 500

// checkMetadata applies the spec's key rule and 1–500-character values.
func checkMetadata(md map[string]string) error {
	keys := make([]string, 0, len(md))
	for k := range md {
		keys = append(keys, k)
	}
	sort.Strings(keys) // report the same key every time
	for _, k := range keys {
		if !ValidName(k) {
			return tsdbapi.Errorf(tsdbapi.CodeBadRequest, "metadata key %q must match ^[a-zA-Z_][a-zA-Z0-9_]{0,127}$", k)
		}
		v := md[k]
		if !utf8.ValidString(v) {
			return tsdbapi.Errorf(tsdbapi.CodeBadRequest, "metadata value of %q is not valid UTF-8", k)
		}
		if n := utf8.RuneCountInString(v); n < 1 || n > MaxMetadataValue {
			return tsdbapi.Errorf(tsdbapi.CodeBadRequest, "metadata value of %q has %d characters, want 1 to %d", k, n, MaxMetadataValue)
		}
	}
	return nil
}

// loadRepo finds ak's repo; a repo being deleted is refused unless
// allowDeleting (reads may still see it).
func (s *Service) loadRepo(ctx context.Context, ak, name string, allowDeleting bool) (Repo, error) {
	if !ValidName(name) {
		return Repo{}, tsdbapi.Errorf(tsdbapi.CodeInvalidRepoName, "got %q", name)
	}
	r, err := s.cfg.Store.PandoraRepo(ctx, ak, name)
	if errors.Is(err, ErrNotFound) {
		return Repo{}, tsdbapi.Errorf(tsdbapi.CodeNotFound, "repo %q does not exist", name)
	}
	if err != nil {
		return Repo{}, fmt.Errorf("loading repo: %w", err)
	}
	if r.Deleting && !allowDeleting {
		return Repo{}, tsdbapi.Errorf(tsdbapi.CodeRepoDeleting, "repo %q", name)
	}
	return r, nil
}

func (s *Service) createRepo(ctx context.Context, ak, name string, in tsdbapi.CreateRepoInput) error {
	if !ValidName(name) {
		return tsdbapi.Errorf(tsdbapi.CodeInvalidRepoName, "got %q", name)
	}
	if in.Region == "" {
		return tsdbapi.Errorf(tsdbapi.CodeRegionEmpty, "")
	}
	if !s.regions[in.Region] {
		return tsdbapi.Errorf(tsdbapi.CodeRegionUnknown, "region %q", in.Region)
	}
	if err := checkMetadata(in.Metadata); err != nil {
		return err
	}
	unlock, err := s.lockRepo(ak, name, true)
	if err != nil {
		return err
	}
	defer unlock()
	if r, err := s.cfg.Store.PandoraRepo(ctx, ak, name); err == nil {
		if r.Deleting {
			return tsdbapi.Errorf(tsdbapi.CodeRepoDeleting, "repo %q", name)
		}
		return tsdbapi.Errorf(tsdbapi.CodeRepoExists, "repo %q", name)
	} else if !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("loading repo: %w", err)
	}
	// The database first: a repo on record always has one.
	if err := s.cfg.Engine.CreateDatabase(ctx, DatabaseName(ak, name), nil); err != nil {
		return fmt.Errorf("creating database: %w", err)
	}
	md := in.Metadata
	if md == nil {
		md = map[string]string{}
	}
	r := Repo{AccessKey: ak, Name: name, Region: in.Region, Metadata: md, CreatedAt: s.now().UTC()}
	if err := s.cfg.Store.CreatePandoraRepo(ctx, r); err != nil {
		if errors.Is(err, ErrConflict) {
			return tsdbapi.Errorf(tsdbapi.CodeRepoExists, "repo %q", name)
		}
		return fmt.Errorf("storing repo: %w", err)
	}
	return nil
}

func (s *Service) getRepo(ctx context.Context, ak, name string) (tsdbapi.RepoInfo, error) {
	r, err := s.loadRepo(ctx, ak, name, true)
	if err != nil {
		return tsdbapi.RepoInfo{}, err
	}
	return repoInfo(r), nil
}

func (s *Service) listRepos(ctx context.Context, ak string) ([]tsdbapi.RepoInfo, error) {
	rs, err := s.cfg.Store.PandoraRepos(ctx, ak)
	if err != nil {
		return nil, fmt.Errorf("listing repos: %w", err)
	}
	out := make([]tsdbapi.RepoInfo, 0, len(rs))
	for _, r := range rs {
		out = append(out, repoInfo(r))
	}
	return out, nil
}

// setRepoMeta replaces a repo's metadata (nil clears it).
func (s *Service) setRepoMeta(ctx context.Context, ak, name string, md map[string]string) error {
	if md == nil {
		md = map[string]string{}
	}
	_, err := s.updateRepo(ctx, ak, name, "updating repo", func(r *Repo) { r.Metadata = md })
	return err
}

// deleteRepo marks the repo deleting and drops its database in the
// background; the record goes once the data is gone.
func (s *Service) deleteRepo(ctx context.Context, ak, name string) error {
	r, err := s.updateRepo(ctx, ak, name, "marking repo deleting", func(r *Repo) { r.Deleting = true })
	if err != nil {
		return err
	}
	s.goDropRepo(r)
	return nil
}

// updateRepo changes a repo's record under its lock.
func (s *Service) updateRepo(ctx context.Context, ak, name, doing string, change func(*Repo)) (Repo, error) {
	if !ValidName(name) {
		return Repo{}, tsdbapi.Errorf(tsdbapi.CodeInvalidRepoName, "got %q", name)
	}
	unlock, err := s.lockRepo(ak, name, true)
	if err != nil {
		return Repo{}, err
	}
	defer unlock()
	r, err := s.loadRepo(ctx, ak, name, false)
	if err != nil {
		return Repo{}, err
	}
	change(&r)
	if err := s.cfg.Store.UpdatePandoraRepo(ctx, r); err != nil {
		if errors.Is(err, ErrNotFound) {
			return Repo{}, tsdbapi.Errorf(tsdbapi.CodeNotFound, "repo %q does not exist", name)
		}
		return Repo{}, fmt.Errorf("%s: %w", doing, err)
	}
	return r, nil
}

func (s *Service) goDropRepo(r Repo) {
	s.drops.Start("repo "+r.AccessKey+" "+r.Name, func(ctx context.Context) error {
		db := DatabaseName(r.AccessKey, r.Name)
		if err := s.cfg.Engine.DropDatabase(ctx, db); err != nil {
			return fmt.Errorf("tsdb: dropping the database %s of repo %s: %w", db, r.Name, err)
		}
		if err := s.cfg.Store.DeletePandoraRepo(ctx, r.AccessKey, r.Name); err != nil && !errors.Is(err, ErrNotFound) {
			return fmt.Errorf("tsdb: removing the record of repo %s: %w", r.Name, err)
		}
		s.log.Info("tsdb: repo deleted", "repo", r.Name, "db", db)
		return nil
	})
}
