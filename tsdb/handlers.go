package tsdb

import (
	"bytes"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/kodo-project/kodo/internal/jsonbody"
	"github.com/kodo-project/kodo/tsdb/tsdbapi"
)

// routes maps the API onto the handlers. The patterns hold the full path
// (the signature covers it); anything else, an unknown path or a method a
// path does not take, is the Pandora 404 of noAPI rather than ServeMux's
// plain-text 404 or 405.
func (s *Service) routes() *http.ServeMux {
	m := http.NewServeMux()
	for pattern, h := range map[string]handler{
		"GET /v4/repos":                                s.handleListRepos,
		"POST /v4/repos/{repo}":                        s.handleCreateRepo,
		"GET /v4/repos/{repo}":                         s.handleGetRepo,
		"DELETE /v4/repos/{repo}":                      s.handleDeleteRepo,
		"POST /v4/repos/{repo}/meta":                   s.handleUpdateRepoMeta,
		"DELETE /v4/repos/{repo}/meta":                 s.handleDeleteRepoMeta,
		"GET /v4/repos/{repo}/series":                  s.handleListSeries,
		"POST /v4/repos/{repo}/series/{series}":        s.handleCreateSeries,
		"GET /v4/repos/{repo}/series/{series}":         s.handleGetSeries,
		"DELETE /v4/repos/{repo}/series/{series}":      s.handleDeleteSeries,
		"POST /v4/repos/{repo}/series/{series}/meta":   s.handleUpdateSeriesMeta,
		"DELETE /v4/repos/{repo}/series/{series}/meta": s.handleDeleteSeriesMeta,
		"GET /v4/repos/{repo}/views":                   s.handleListViews,
		"POST /v4/repos/{repo}/views/{view}":           s.handleCreateView,
		"GET /v4/repos/{repo}/views/{view}":            s.handleGetView,
		"DELETE /v4/repos/{repo}/views/{view}":         s.handleDeleteView,
		"POST /v4/repos/{repo}/points":                 s.handleWritePoints,
		"GET /v4/repos/{repo}/query":                   s.handleQuery,
		"POST /v4/repos/{repo}/query":                  s.handleQuery,
		"/":                                            noAPI,
	} {
		m.Handle(pattern, s.answer(h))
	}
	return m
}

func noAPI(q *call) (any, error) { return nil, noAPIError(q.r) }

// noAPIError is the 404 of a request no route takes.
func noAPIError(r *http.Request) error {
	if p := r.URL.Path; p != "/v4/repos" && !strings.HasPrefix(p, "/v4/repos/") {
		return tsdbapi.Errorf(tsdbapi.CodeNotFound, "no API at %s", p)
	}
	return tsdbapi.Errorf(tsdbapi.CodeNotFound, "no API for %s %s", r.Method, r.URL.Path)
}

func (s *Service) handleListRepos(q *call) (any, error) {
	return s.listRepos(q.ctx(), q.ak)
}

func (s *Service) handleCreateRepo(q *call) (any, error) {
	var in tsdbapi.CreateRepoInput
	if err := decodeJSON(q.body, &in, true); err != nil {
		return nil, err
	}
	return nil, s.createRepo(q.ctx(), q.ak, q.r.PathValue("repo"), in)
}

func (s *Service) handleGetRepo(q *call) (any, error) {
	return s.getRepo(q.ctx(), q.ak, q.r.PathValue("repo"))
}

func (s *Service) handleDeleteRepo(q *call) (any, error) {
	return nil, s.deleteRepo(q.ctx(), q.ak, q.r.PathValue("repo"))
}

func (s *Service) handleUpdateRepoMeta(q *call) (any, error) {
	md, err := readMetadata(q.body)
	if err != nil {
		return nil, err
	}
	return nil, s.setRepoMeta(q.ctx(), q.ak, q.r.PathValue("repo"), md)
}

func (s *Service) handleDeleteRepoMeta(q *call) (any, error) {
	return nil, s.setRepoMeta(q.ctx(), q.ak, q.r.PathValue("repo"), nil)
}

func (s *Service) handleListSeries(q *call) (any, error) {
	showMeta := false
	if v := q.r.URL.Query().Get("showMeta"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, tsdbapi.Errorf(tsdbapi.CodeBadRequest, "showMeta=%q: want true or false", v)
		}
		showMeta = b
	}
	return s.listSeries(q.ctx(), q.ak, q.r.PathValue("repo"), showMeta)
}

func (s *Service) handleCreateSeries(q *call) (any, error) {
	var in tsdbapi.CreateSeriesInput
	if err := decodeJSON(q.body, &in, true); err != nil {
		return nil, err
	}
	return nil, s.createSeries(q.ctx(), q.ak, q.r.PathValue("repo"), q.r.PathValue("series"), in)
}

func (s *Service) handleGetSeries(q *call) (any, error) {
	return s.getSeries(q.ctx(), q.ak, q.r.PathValue("repo"), q.r.PathValue("series"))
}

func (s *Service) handleDeleteSeries(q *call) (any, error) {
	return nil, s.deleteSeries(q.ctx(), q.ak, q.r.PathValue("repo"), q.r.PathValue("series"))
}

func (s *Service) handleUpdateSeriesMeta(q *call) (any, error) {
	md, err := readMetadata(q.body)
	if err != nil {
		return nil, err
	}
	return nil, s.setSeriesMeta(q.ctx(), q.ak, q.r.PathValue("repo"), q.r.PathValue("series"), md)
}

func (s *Service) handleDeleteSeriesMeta(q *call) (any, error) {
	return nil, s.setSeriesMeta(q.ctx(), q.ak, q.r.PathValue("repo"), q.r.PathValue("series"), nil)
}

func (s *Service) handleListViews(q *call) (any, error) {
	return s.listViews(q.ctx(), q.ak, q.r.PathValue("repo"))
}

func (s *Service) handleCreateView(q *call) (any, error) {
	var in tsdbapi.CreateViewInput
	if err := decodeJSON(q.body, &in, true); err != nil {
		return nil, err
	}
	return nil, s.createView(q.ctx(), q.ak, q.r.PathValue("repo"), q.r.PathValue("view"), in)
}

func (s *Service) handleGetView(q *call) (any, error) {
	return s.getView(q.ctx(), q.ak, q.r.PathValue("repo"), q.r.PathValue("view"))
}

func (s *Service) handleDeleteView(q *call) (any, error) {
	return nil, s.deleteView(q.ctx(), q.ak, q.r.PathValue("repo"), q.r.PathValue("view"))
}

func (s *Service) handleWritePoints(q *call) (any, error) {
	if err := s.writePoints(q.ctx(), q.ak, q.r.PathValue("repo"), q.body); err != nil {
		return nil, err
	}
	return tsdbapi.WriteResult{}, nil
}

// handleQuery takes the SQL from ?q= (GET), a JSON {"sql"} body or a
// text/plain body (POST, ?q= when the body is empty), and the caller's
// time zone from ?timezone= ("" = UTC).
func (s *Service) handleQuery(q *call) (any, error) {
	sql := q.r.URL.Query().Get("q")
	if body := bytes.TrimSpace(q.body); q.r.Method == http.MethodPost && len(body) > 0 {
		mt, _, _ := mime.ParseMediaType(q.r.Header.Get("Content-Type"))
		if mt == "application/json" || (mt != "text/plain" && body[0] == '{') {
			var in tsdbapi.QueryInput
			if err := decodeJSON(body, &in, true); err != nil {
				return nil, err
			}
			sql = in.SQL
		} else {
			sql = string(body)
		}
	}
	return s.query(q.ctx(), q.ak, q.r.PathValue("repo"), sql, q.r.URL.Query().Get("timezone"))
}

// decodeJSON reads a JSON object body into v; an empty body is rejected
// when required. Problems name the member as the user wrote it.
func decodeJSON(body []byte, v any, required bool) error {
	if len(bytes.TrimSpace(body)) == 0 {
		if required {
			return tsdbapi.Errorf(tsdbapi.CodeBadRequest, "the body must be a JSON object")
		}
		return nil
	}
	if err := jsonbody.Decode(body, v, jsonbody.Options{}); err != nil {
		return tsdbapi.Errorf(tsdbapi.CodeBadRequest, "body is not the expected JSON: %v", err)
	}
	return nil
}

// readMetadata decodes {"metadata":{...}}, which must be present.
func readMetadata(body []byte) (map[string]string, error) {
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
