package elastic

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	es "github.com/olivere/elastic/v7"

	"github.com/kodo-project/kodo/storage/docs"
)

// Options configure New.
type Options struct {
	// HTTPClient sends the requests; nil means a client with a 30s timeout.
	HTTPClient *http.Client
	Logger     *slog.Logger // nil discards
	// IndexPrefix starts every index name; default "kodo-". Tests use a
	// unique prefix to share a cluster.
	IndexPrefix string
	// Refresh is passed to bulk requests ("", "true", "wait_for"):
	// "wait_for" makes a write visible to Search before Write returns, at a
	// throughput cost. The default leaves it to the refresh interval.
	Refresh string
	// Username and Password enable HTTP basic auth.
	Username, Password string
}

// Store is the Elasticsearch docs.Store.
type Store struct {
	c       *es.Client
	log     *slog.Logger
	prefix  string
	refresh string
	created sync.Map // index name -> struct{}: created or found existing
}

var _ docs.Store = (*Store)(nil)

// New connects to the cluster at url (no request is made until the first
// write or search). Sniffing and health checks are off: the gateway talks
// to the URL it is given, typically a load balancer or a coordinating
// node, and an unreachable cluster shows up as ErrUnavailable on the
// request that needed it.
func New(url string, opt Options) (*Store, error) {
	hc := opt.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	log := opt.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	prefix := opt.IndexPrefix
	if prefix == "" {
		prefix = "kodo-"
	}
	if prefix != strings.ToLower(prefix) || strings.ContainsAny(prefix, `\/*?"<>| ,#:`) {
		return nil, fmt.Errorf("elastic docs: index prefix %q must be lowercase without \\ / * ? \" < > | , # : or spaces", prefix)
	}
	switch opt.Refresh {
	case "", "true", "false", "wait_for":
	default:
		return nil, fmt.Errorf("elastic docs: refresh %q must be empty, true, false or wait_for", opt.Refresh)
	}
	copts := []es.ClientOptionFunc{
		es.SetURL(url), es.SetSniff(false), es.SetHealthcheck(false), es.SetHttpClient(hc),
	}
	if opt.Username != "" || opt.Password != "" {
		copts = append(copts, es.SetBasicAuth(opt.Username, opt.Password))
	}
	c, err := es.NewClient(copts...)
	if err != nil {
		return nil, fmt.Errorf("elastic docs: %w", err)
	}
	return &Store{c: c, log: log, prefix: prefix, refresh: opt.Refresh}, nil
}

// Close stops the client.
func (s *Store) Close() error {
	s.c.Stop()
	return nil
}

// validWS keeps workspace uuids usable in index names.
func validWS(ws string) error {
	if ws == "" {
		return fmt.Errorf("%w: a workspace uuid is required", docs.ErrInvalid)
	}
	for _, r := range ws {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return fmt.Errorf("%w: workspace uuid %q may hold only a-z, 0-9, _ and -", docs.ErrInvalid, ws)
		}
	}
	return nil
}

// IndexName is the index holding a document: "<prefix><kind>-<ws>" for
// objects and key events, "<prefix>logging-<ws>-YYYY.MM.DD" (UTC day of
// the log line) for logs.
func (s *Store) IndexName(ws string, kind docs.Kind, t int64) string {
	name := s.prefix + string(kind) + "-" + ws
	if kind == docs.KindLogging {
		name += time.Unix(0, t).UTC().Format("-2006.01.02")
	}
	return name
}

// indexPattern names what a search reads: the one index, or every daily
// log index of the workspace.
func (s *Store) indexPattern(ws string, kind docs.Kind) string {
	name := s.prefix + string(kind) + "-" + ws
	if kind == docs.KindLogging {
		name += "-*"
	}
	return name
}

// DeleteWorkspace deletes the workspace's indices (one per kind, daily
// ones for logs); indices that do not exist are not an error.
func (s *Store) DeleteWorkspace(ctx context.Context, workspaceUUID string) error {
	if workspaceUUID == "" {
		return fmt.Errorf("%w: delete needs a workspace uuid", docs.ErrInvalid)
	}
	for _, kind := range []docs.Kind{docs.KindObject, docs.KindKeyEvent, docs.KindLogging} {
		_, err := s.c.DeleteIndex(s.indexPattern(workspaceUUID, kind)).Do(ctx)
		if err != nil && !es.IsNotFound(err) {
			return s.classify("delete workspace", err)
		}
	}
	return nil
}

// Mapping is the explicit mapping of every index: equality terms and
// builtins are keywords, content is text split into words exactly as the
// embedded store does (docs.Words: runs of letters and digits, lowercased;
// each Han ideograph and hiragana a word of its own and katakana runs
// apart, which the kodo_cjk character filter marks with spaces, as the
// standard analyzer would split them), tags and fields are kept in
// _source only so no value can cause a mapping conflict. An index keeps
// the analyzer it was created with: indices made before the CJK rule find
// Chinese and Japanese only by whole runs until they are rebuilt.
const Mapping = `{
  "settings": {
    "analysis": {
      "char_filter": {"kodo_cjk": {"type": "pattern_replace", "pattern": "([\\p{IsHan}\\p{IsHiragana}]|[\\p{IsKatakana}\\u30FC\\uFF70]+)", "replacement": " $1 "}},
      "tokenizer": {"kodo_words": {"type": "pattern", "pattern": "[^\\p{L}\\p{N}]+"}},
      "analyzer": {"kodo_words": {"type": "custom", "char_filter": ["kodo_cjk"], "tokenizer": "kodo_words", "filter": ["lowercase"]}}
    }
  },
  "mappings": {
    "dynamic": "strict",
    "properties": {
      "id":      {"type": "keyword"},
      "ws":      {"type": "keyword"},
      "kind":    {"type": "keyword"},
      "name":    {"type": "keyword"},
      "class":   {"type": "keyword"},
      "source":  {"type": "keyword"},
      "time":    {"type": "long"},
      "kv":      {"type": "keyword", "ignore_above": 8191},
      "tags":    {"type": "object", "enabled": false},
      "fields":  {"type": "object", "enabled": false},
      "content": {"type": "text", "analyzer": "kodo_words"}
    }
  }
}`

// source is the stored form of a document.
type source struct {
	ID      string            `json:"id"`
	WS      string            `json:"ws"`
	Kind    docs.Kind         `json:"kind"`
	Name    string            `json:"name"`
	Class   string            `json:"class"`
	Source  string            `json:"source"`
	Time    int64             `json:"time"`
	KV      []string          `json:"kv"`
	Tags    map[string]string `json:"tags"`
	Fields  json.RawMessage   `json:"fields"`
	Content string            `json:"content"`
}

// ensureIndex creates an index with Mapping once; an index that already
// exists (another replica made it) is fine.
func (s *Store) ensureIndex(ctx context.Context, name string) error {
	if _, ok := s.created.Load(name); ok {
		return nil
	}
	_, err := s.c.CreateIndex(name).BodyString(Mapping).Do(ctx)
	if err != nil {
		var e *es.Error
		if !(errors.As(err, &e) && e.Details != nil && e.Details.Type == "resource_already_exists_exception") {
			return s.classify("create index "+name, err)
		}
	}
	s.created.Store(name, struct{}{})
	return nil
}

// Write sends docs in one bulk request and succeeds only if every item
// was accepted. Document ids are deterministic (see docs.DocID), so
// retrying a batch after a partial failure stores nothing twice.
func (s *Store) Write(ctx context.Context, workspaceUUID string, kind docs.Kind, ds []docs.Document) error {
	if err := validWS(workspaceUUID); err != nil {
		return err
	}
	if !kind.Valid() {
		return fmt.Errorf("%w: unknown kind %q", docs.ErrInvalid, kind)
	}
	if len(ds) == 0 {
		return nil
	}
	bulk := s.c.Bulk()
	if s.refresh != "" {
		bulk = bulk.Refresh(s.refresh)
	}
	var indices []string
	seen := map[string]bool{}
	for i := range ds {
		d := &ds[i]
		if d.Kind != "" && d.Kind != kind {
			return fmt.Errorf("%w: document %d is a %s in a %s write", docs.ErrInvalid, i, d.Kind, kind)
		}
		fields, err := docs.AppendFieldsJSON(nil, d.Fields)
		if err != nil {
			return fmt.Errorf("document %d: %w", i, err)
		}
		id := hex.EncodeToString(docs.DocID(workspaceUUID, kind, d))
		tags := d.Tags
		if tags == nil {
			tags = map[string]string{}
		}
		src := source{ID: id, WS: workspaceUUID, Kind: kind, Name: d.Name, Class: d.Class, Source: d.Source,
			Time: d.Time, KV: docs.Terms(d), Tags: tags, Fields: fields, Content: d.Content}
		index := s.IndexName(workspaceUUID, kind, d.Time)
		if !seen[index] {
			seen[index] = true
			indices = append(indices, index)
		}
		bulk.Add(es.NewBulkIndexRequest().Index(index).Id(id).Doc(src))
	}
	for _, index := range indices {
		if err := s.ensureIndex(ctx, index); err != nil {
			return err
		}
	}
	resp, err := bulk.Do(ctx)
	if err != nil {
		return s.classify("bulk", err)
	}
	if failed := resp.Failed(); len(failed) > 0 {
		return s.bulkError(len(ds), failed)
	}
	return nil
}

// BulkError reports the items of a bulk request that Elasticsearch did
// not store. It wraps ErrUnavailable when any item was refused for load
// (429) or a server fault (5xx), else ErrInvalid.
type BulkError struct {
	Items, Failed int
	First         string // the first failure's type and reason
	Status        int    // the first failure's HTTP status
	retryable     bool
}

func (e *BulkError) Error() string {
	return fmt.Sprintf("elastic docs: %d of %d documents not stored; first: %d %s", e.Failed, e.Items, e.Status, e.First)
}

// Unwrap lets errors.Is find ErrUnavailable or ErrInvalid.
func (e *BulkError) Unwrap() error {
	if e.retryable {
		return docs.ErrUnavailable
	}
	return docs.ErrInvalid
}

func (s *Store) bulkError(n int, failed []*es.BulkResponseItem) error {
	e := &BulkError{Items: n, Failed: len(failed), Status: failed[0].Status}
	if d := failed[0].Error; d != nil {
		e.First = d.Type + ": " + d.Reason
	}
	for _, it := range failed {
		if it.Status == http.StatusTooManyRequests || it.Status >= 500 {
			e.retryable = true
		}
	}
	s.log.Warn("elastic bulk items failed", "failed", e.Failed, "items", n, "first", e.First, "status", e.Status)
	return e
}

// classify wraps a request failure: unreachable cluster, timeouts,
// overload and server faults are ErrUnavailable.
func (s *Store) classify(op string, err error) error {
	var e *es.Error
	if errors.As(err, &e) {
		if e.Status == http.StatusTooManyRequests || e.Status == http.StatusRequestTimeout || e.Status >= 500 {
			s.log.Warn("elasticsearch unavailable", "op", op, "status", e.Status, "err", err)
			return fmt.Errorf("elastic docs: %s: %w: %v", op, docs.ErrUnavailable, err)
		}
		if e.Status == http.StatusBadRequest {
			return fmt.Errorf("elastic docs: %s: %w: %v", op, docs.ErrInvalid, err)
		}
		return fmt.Errorf("elastic docs: %s: %w", op, err)
	}
	// No HTTP answer at all: connection refused, DNS, timeout, cancel.
	s.log.Warn("elasticsearch unreachable", "op", op, "err", err)
	return fmt.Errorf("elastic docs: %s: %w: %v", op, docs.ErrUnavailable, err)
}

// Query builds the search body for a normalized request; exported for
// tests and for operators who want to replay a search with curl.
func Query(req docs.SearchRequest) map[string]any {
	filter := []any{
		map[string]any{"term": map[string]any{"ws": req.WorkspaceUUID}},
		map[string]any{"term": map[string]any{"kind": string(req.Kind)}},
	}
	if req.TimeRange.Start != 0 || req.TimeRange.End != 0 {
		r := map[string]any{}
		if req.TimeRange.Start != 0 {
			r["gte"] = req.TimeRange.Start
		}
		if req.TimeRange.End != 0 {
			r["lt"] = req.TimeRange.End
		}
		filter = append(filter, map[string]any{"range": map[string]any{"time": r}})
	}
	for _, f := range req.Filters {
		field, value := "kv", f.Key+"="+f.Value
		switch f.Key {
		case docs.KeyName:
			field, value = "name", f.Value
		case docs.KeyClass:
			field, value = "class", f.Value
		case docs.KeySource:
			field, value = "source", f.Value
		}
		filter = append(filter, map[string]any{"term": map[string]any{field: value}})
	}
	boolQ := map[string]any{"filter": filter}
	if words := docs.Words(req.Query); len(words) > 0 {
		boolQ["must"] = []any{map[string]any{"match": map[string]any{"content": map[string]any{
			"query": strings.Join(words, " "), "operator": "and"}}}}
	}
	order := "desc"
	if req.Sort == docs.SortTimeAsc {
		order = "asc"
	}
	return map[string]any{
		"query":            map[string]any{"bool": boolQ},
		"sort":             []any{map[string]any{"time": order}, map[string]any{"id": order}},
		"from":             req.Offset,
		"size":             req.Limit,
		"track_total_hits": true,
	}
}

// Search runs one search over the workspace's index (or daily indices).
func (s *Store) Search(ctx context.Context, req docs.SearchRequest) (docs.SearchResult, error) {
	req, err := req.Normalize()
	if err != nil {
		return docs.SearchResult{}, err
	}
	if err := validWS(req.WorkspaceUUID); err != nil {
		return docs.SearchResult{}, err
	}
	resp, err := s.c.Search(s.indexPattern(req.WorkspaceUUID, req.Kind)).
		Source(Query(req)).IgnoreUnavailable(true).AllowNoIndices(true).Do(ctx)
	if err != nil {
		return docs.SearchResult{}, s.classify("search", err)
	}
	res := docs.SearchResult{Docs: []docs.Document{}}
	if resp.Hits == nil {
		return res, nil
	}
	if resp.Hits.TotalHits != nil {
		res.Total = resp.Hits.TotalHits.Value
	}
	for _, h := range resp.Hits.Hits {
		var src source
		if err := json.Unmarshal(h.Source, &src); err != nil {
			return res, fmt.Errorf("elastic docs: hit %s: %w", h.Id, err)
		}
		d := docs.Document{Kind: src.Kind, Name: src.Name, Class: src.Class, Source: src.Source, Time: src.Time, Tags: src.Tags, Content: src.Content}
		if len(src.Fields) > 0 {
			if d.Fields, err = docs.DecodeFields(src.Fields); err != nil {
				return res, fmt.Errorf("elastic docs: hit %s: %w", h.Id, err)
			}
		}
		if len(d.Tags) == 0 {
			d.Tags = nil // both stores answer nil for none
		}
		if len(d.Fields) == 0 {
			d.Fields = nil
		}
		res.Docs = append(res.Docs, d)
	}
	return res, nil
}
