package tsdb

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"time"
	"unicode/utf8"
)

// RepoInfo is the JSON form of a repo.
type RepoInfo struct {
	Name       string            `json:"name"`
	Region     string            `json:"region"`
	Metadata   map[string]string `json:"metadata"`
	CreateTime string            `json:"createTime"`
	Deleting   string            `json:"deleting"` // "true" or "false"
}

func repoInfo(r Repo) RepoInfo {
	md := r.Metadata
	if md == nil {
		md = map[string]string{}
	}
	return RepoInfo{Name: r.Name, Region: r.Region, Metadata: md, CreateTime: formatTime(r.CreatedAt), Deleting: boolString(r.Deleting)}
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
func checkMetadata(md map[string]string) *Error {
	keys := make([]string, 0, len(md))
	for k := range md {
		keys = append(keys, k)
	}
	sort.Strings(keys) // report the same key every time
	for _, k := range keys {
		if !ValidName(k) {
			return apiError(CodeBadRequest, "metadata key %q must match ^[a-zA-Z_][a-zA-Z0-9_]{0,127}$", k)
		}
		v := md[k]
		if !utf8.ValidString(v) {
			return apiError(CodeBadRequest, "metadata value of %q is not valid UTF-8", k)
		}
		if n := utf8.RuneCountInString(v); n < 1 || n > MaxMetadataValue {
			return apiError(CodeBadRequest, "metadata value of %q has %d characters, want 1 to %d", k, n, MaxMetadataValue)
		}
	}
	return nil
}

// decodeJSON reads a JSON object body into v; an empty body is rejected
// when required.
func decodeJSON(body []byte, v any, required bool) *Error {
	if len(bytes.TrimSpace(body)) == 0 {
		if required {
			return apiError(CodeBadRequest, "the body must be a JSON object")
		}
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		return apiError(CodeBadRequest, "body is not the expected JSON: %v", err)
	}
	if dec.More() {
		return apiError(CodeBadRequest, "body holds more than one JSON value")
	}
	return nil
}

func ok(q *request, v any) *Error {
	if v == nil {
		v = struct{}{}
	}
	writeJSON(q.w, http.StatusOK, v)
	return nil
}

// loadRepo finds ak's repo; a repo being deleted is refused unless
// allowDeleting (reads may still see it).
func (s *Service) loadRepo(ctx context.Context, ak, name string, allowDeleting bool) (Repo, *Error) {
	if !ValidName(name) {
		return Repo{}, apiError(CodeInvalidRepoName, "got %q", name)
	}
	r, err := s.cfg.Store.PandoraRepo(ctx, ak, name)
	if errors.Is(err, ErrNotFound) {
		return Repo{}, apiError(CodeNotFound, "repo %q does not exist", name)
	}
	if err != nil {
		return Repo{}, s.internal("loading repo", err)
	}
	if r.Deleting && !allowDeleting {
		return Repo{}, apiError(CodeRepoDeleting, "repo %q", name)
	}
	return r, nil
}

type createRepoBody struct {
	Region   string            `json:"region"`
	Metadata map[string]string `json:"metadata"`
}

func (s *Service) createRepo(q *request, name string) *Error {
	if !ValidName(name) {
		return apiError(CodeInvalidRepoName, "got %q", name)
	}
	var b createRepoBody
	if e := decodeJSON(q.body, &b, true); e != nil {
		return e
	}
	if b.Region == "" {
		return apiError(CodeRegionEmpty, "")
	}
	if !s.regions[b.Region] {
		return apiError(CodeRegionUnknown, "region %q", b.Region)
	}
	if e := checkMetadata(b.Metadata); e != nil {
		return e
	}
	unlock, e := s.lockRepo(q.ak, name, true)
	if e != nil {
		return e
	}
	defer unlock()
	if r, err := s.cfg.Store.PandoraRepo(q.ctx, q.ak, name); err == nil {
		if r.Deleting {
			return apiError(CodeRepoDeleting, "repo %q", name)
		}
		return apiError(CodeRepoExists, "repo %q", name)
	} else if !errors.Is(err, ErrNotFound) {
		return s.internal("loading repo", err)
	}
	// The database first: a repo on record always has one.
	if err := s.cfg.Engine.CreateDatabase(q.ctx, DatabaseName(q.ak, name), nil); err != nil {
		return s.internal("creating database", err)
	}
	md := b.Metadata
	if md == nil {
		md = map[string]string{}
	}
	r := Repo{AccessKey: q.ak, Name: name, Region: b.Region, Metadata: md, CreatedAt: s.now().UTC()}
	if err := s.cfg.Store.CreatePandoraRepo(q.ctx, r); err != nil {
		if errors.Is(err, ErrConflict) {
			return apiError(CodeRepoExists, "repo %q", name)
		}
		return s.internal("storing repo", err)
	}
	return ok(q, nil)
}

func (s *Service) getRepo(q *request, name string) *Error {
	r, e := s.loadRepo(q.ctx, q.ak, name, true)
	if e != nil {
		return e
	}
	return ok(q, repoInfo(r))
}

func (s *Service) listRepos(q *request) *Error {
	rs, err := s.cfg.Store.PandoraRepos(q.ctx, q.ak)
	if err != nil {
		return s.internal("listing repos", err)
	}
	out := make([]RepoInfo, 0, len(rs))
	for _, r := range rs {
		out = append(out, repoInfo(r))
	}
	return ok(q, out)
}

type metadataBody struct {
	Metadata map[string]string `json:"metadata"`
}

// readMetadata decodes {"metadata":{...}}, which must be present.
func readMetadata(body []byte) (map[string]string, *Error) {
	var b metadataBody
	if e := decodeJSON(body, &b, true); e != nil {
		return nil, e
	}
	if b.Metadata == nil {
		return nil, apiError(CodeBadRequest, `"metadata" must be a JSON object of strings`)
	}
	if e := checkMetadata(b.Metadata); e != nil {
		return nil, e
	}
	return b.Metadata, nil
}

// setRepoMeta replaces a repo's metadata (nil clears it).
func (s *Service) setRepoMeta(q *request, name string, md map[string]string) *Error {
	unlock, e := s.lockRepo(q.ak, name, true)
	if e != nil {
		return e
	}
	defer unlock()
	r, e := s.loadRepo(q.ctx, q.ak, name, false)
	if e != nil {
		return e
	}
	if md == nil {
		md = map[string]string{}
	}
	r.Metadata = md
	if err := s.cfg.Store.UpdatePandoraRepo(q.ctx, r); err != nil {
		if errors.Is(err, ErrNotFound) {
			return apiError(CodeNotFound, "repo %q does not exist", name)
		}
		return s.internal("updating repo", err)
	}
	return ok(q, nil)
}

func (s *Service) updateRepoMeta(q *request, name string) *Error {
	if !ValidName(name) {
		return apiError(CodeInvalidRepoName, "got %q", name)
	}
	md, e := readMetadata(q.body)
	if e != nil {
		return e
	}
	return s.setRepoMeta(q, name, md)
}

func (s *Service) deleteRepoMeta(q *request, name string) *Error {
	return s.setRepoMeta(q, name, nil)
}

// deleteRepo marks the repo deleting and drops its database in the
// background; the record goes once the data is gone.
func (s *Service) deleteRepo(q *request, name string) *Error {
	if !ValidName(name) {
		return apiError(CodeInvalidRepoName, "got %q", name)
	}
	unlock, e := s.lockRepo(q.ak, name, true)
	if e != nil {
		return e
	}
	defer unlock()
	r, e := s.loadRepo(q.ctx, q.ak, name, false)
	if e != nil {
		return e
	}
	r.Deleting = true
	if err := s.cfg.Store.UpdatePandoraRepo(q.ctx, r); err != nil {
		return s.internal("marking repo deleting", err)
	}
	s.goDropRepo(r)
	return ok(q, nil)
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
