package tsdb

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
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
func checkMetadata(md map[string]string) *tsdbapi.Error {
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

// decodeJSON reads a JSON object body into v; an empty body is rejected
// when required.
func decodeJSON(body []byte, v any, required bool) *tsdbapi.Error {
	if len(bytes.TrimSpace(body)) == 0 {
		if required {
			return tsdbapi.Errorf(tsdbapi.CodeBadRequest, "the body must be a JSON object")
		}
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		return tsdbapi.Errorf(tsdbapi.CodeBadRequest, "body is not the expected JSON: %s", jsonProblem(err))
	}
	if dec.More() {
		return tsdbapi.Errorf(tsdbapi.CodeBadRequest, "body holds more than one JSON value")
	}
	return nil
}

// jsonProblem says what is wrong with a body in the caller's terms: the
// member as it is written in JSON, never the Go type it decodes into.
func jsonProblem(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		where := "the body"
		if te.Field != "" {
			// Field names the member, also when the value at fault is one
			// of its elements (a metadata value).
			where = fmt.Sprintf("in %q", te.Field)
		}
		return fmt.Sprintf("%s: expected %s, got a JSON %s", where, jsonKind(te.Type), te.Value)
	}
	return err.Error()
}

// jsonKind names the JSON value that decodes into t.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return "a number"
	}
	return "another JSON value"
}

func ok(q *request, v any) *tsdbapi.Error {
	if v == nil {
		v = struct{}{}
	}
	writeJSON(q.w, http.StatusOK, v)
	return nil
}

// loadRepo finds ak's repo; a repo being deleted is refused unless
// allowDeleting (reads may still see it).
func (s *Service) loadRepo(ctx context.Context, ak, name string, allowDeleting bool) (Repo, *tsdbapi.Error) {
	if !ValidName(name) {
		return Repo{}, tsdbapi.Errorf(tsdbapi.CodeInvalidRepoName, "got %q", name)
	}
	r, err := s.cfg.Store.PandoraRepo(ctx, ak, name)
	if errors.Is(err, ErrNotFound) {
		return Repo{}, tsdbapi.Errorf(tsdbapi.CodeNotFound, "repo %q does not exist", name)
	}
	if err != nil {
		return Repo{}, s.internal("loading repo", err)
	}
	if r.Deleting && !allowDeleting {
		return Repo{}, tsdbapi.Errorf(tsdbapi.CodeRepoDeleting, "repo %q", name)
	}
	return r, nil
}

func (s *Service) createRepo(q *request, name string) *tsdbapi.Error {
	if !ValidName(name) {
		return tsdbapi.Errorf(tsdbapi.CodeInvalidRepoName, "got %q", name)
	}
	var b tsdbapi.CreateRepoInput
	if e := decodeJSON(q.body, &b, true); e != nil {
		return e
	}
	if b.Region == "" {
		return tsdbapi.Errorf(tsdbapi.CodeRegionEmpty, "")
	}
	if !s.regions[b.Region] {
		return tsdbapi.Errorf(tsdbapi.CodeRegionUnknown, "region %q", b.Region)
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
			return tsdbapi.Errorf(tsdbapi.CodeRepoDeleting, "repo %q", name)
		}
		return tsdbapi.Errorf(tsdbapi.CodeRepoExists, "repo %q", name)
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
			return tsdbapi.Errorf(tsdbapi.CodeRepoExists, "repo %q", name)
		}
		return s.internal("storing repo", err)
	}
	return ok(q, nil)
}

func (s *Service) getRepo(q *request, name string) *tsdbapi.Error {
	r, e := s.loadRepo(q.ctx, q.ak, name, true)
	if e != nil {
		return e
	}
	return ok(q, repoInfo(r))
}

func (s *Service) listRepos(q *request) *tsdbapi.Error {
	rs, err := s.cfg.Store.PandoraRepos(q.ctx, q.ak)
	if err != nil {
		return s.internal("listing repos", err)
	}
	out := make([]tsdbapi.RepoInfo, 0, len(rs))
	for _, r := range rs {
		out = append(out, repoInfo(r))
	}
	return ok(q, out)
}

// readMetadata decodes {"metadata":{...}}, which must be present.
func readMetadata(body []byte) (map[string]string, *tsdbapi.Error) {
	var b tsdbapi.MetadataInput
	if e := decodeJSON(body, &b, true); e != nil {
		return nil, e
	}
	if b.Metadata == nil {
		return nil, tsdbapi.Errorf(tsdbapi.CodeBadRequest, `"metadata" must be a JSON object of strings`)
	}
	if e := checkMetadata(b.Metadata); e != nil {
		return nil, e
	}
	return b.Metadata, nil
}

// setRepoMeta replaces a repo's metadata (nil clears it).
func (s *Service) setRepoMeta(q *request, name string, md map[string]string) *tsdbapi.Error {
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
			return tsdbapi.Errorf(tsdbapi.CodeNotFound, "repo %q does not exist", name)
		}
		return s.internal("updating repo", err)
	}
	return ok(q, nil)
}

func (s *Service) updateRepoMeta(q *request, name string) *tsdbapi.Error {
	if !ValidName(name) {
		return tsdbapi.Errorf(tsdbapi.CodeInvalidRepoName, "got %q", name)
	}
	md, e := readMetadata(q.body)
	if e != nil {
		return e
	}
	return s.setRepoMeta(q, name, md)
}

func (s *Service) deleteRepoMeta(q *request, name string) *tsdbapi.Error {
	return s.setRepoMeta(q, name, nil)
}

// deleteRepo marks the repo deleting and drops its database in the
// background; the record goes once the data is gone.
func (s *Service) deleteRepo(q *request, name string) *tsdbapi.Error {
	if !ValidName(name) {
		return tsdbapi.Errorf(tsdbapi.CodeInvalidRepoName, "got %q", name)
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
	s.goBackground(func(ctx context.Context) {
		db := DatabaseName(r.AccessKey, r.Name)
		if err := s.cfg.Engine.DropDatabase(ctx, db); err != nil {
			s.log.Error("tsdb: dropping repo database (will resume on restart)", "repo", r.Name, "db", db, "err", err)
			return
		}
		if err := s.cfg.Store.DeletePandoraRepo(ctx, r.AccessKey, r.Name); err != nil && !errors.Is(err, ErrNotFound) {
			s.log.Error("tsdb: removing repo record (will resume on restart)", "repo", r.Name, "err", err)
			return
		}
		s.log.Info("tsdb: repo deleted", "repo", r.Name, "db", db)
	})
}
