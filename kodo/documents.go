package kodo

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"

	"github.com/kodo-project/kodo/documents"
	"github.com/kodo-project/kodo/internal/jsonbody"
	"github.com/kodo-project/kodo/kodo/kodoapi"
	"github.com/kodo-project/kodo/storage/docs"
	"github.com/kodo-project/kodo/storage/docs/elastic"
	"github.com/kodo-project/kodo/storage/docs/embedded"
	"github.com/kodo-project/kodo/storage/meta"
	"github.com/kodo-project/kodo/storage/queue"
)

// openDocuments opens the document store (embedded SQLite FTS5 under the
// data dir, or Elasticsearch with -elastic-url) and the documents service.
// Pipelines live in the metadata store, so replicas sharing it agree.
func (s *service) openDocuments() error {
	dir := filepath.Join(s.opts.DataDir, "docs")
	var store docs.Store
	if s.opts.ElasticURL != "" {
		es, err := elastic.New(s.opts.ElasticURL, elastic.Options{Logger: s.log.With("store", "elastic")})
		if err != nil {
			return fmt.Errorf("kodo: elasticsearch %s: %w", s.opts.ElasticURL, err)
		}
		store = es
	} else {
		emb, err := embedded.Open(dir, embedded.Options{Logger: s.log.With("store", "docs")})
		if err != nil {
			return fmt.Errorf("kodo: open document store: %w", err)
		}
		store = emb
	}
	var funcURL *url.URL
	if s.opts.FunctionURL != "" {
		u, err := url.Parse(s.opts.FunctionURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			store.Close()
			return fmt.Errorf("kodo: -func-url %q: want an absolute http:// or https:// URL", s.opts.FunctionURL)
		}
		funcURL = u
	}
	svc, err := documents.New(documents.Options{
		Store: store, Pipelines: metaPipelines{s.meta}, Logger: s.log.With("service", "documents"), Now: s.now,
		Limits: s.lineLimits(), FunctionURL: funcURL,
		ResolveDB: func(ctx context.Context, dbUUID string) (string, error) {
			db, err := s.database(ctx, dbUUID)
			if err != nil {
				return "", err
			}
			return db.WorkspaceUUID, nil
		},
	})
	if err != nil {
		store.Close()
		return err
	}
	s.docs, s.docStore = svc, store
	return nil
}

func (s *service) closeDocuments() error {
	if s.docStore == nil {
		return nil
	}
	return s.docStore.Close()
}

// metaPipelines keeps log pipelines in the metadata store.
type metaPipelines struct{ store meta.Store }

func (p metaPipelines) SetPipeline(ctx context.Context, pl docs.Pipeline) error {
	err := p.store.SetLogPipeline(ctx, pl.WorkspaceUUID, pl.Source, pl.URL)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, meta.ErrInvalid), errors.Is(err, meta.ErrNotFound):
		return fmt.Errorf("%w: %v", docs.ErrInvalid, err)
	}
	return fmt.Errorf("%w: %v", docs.ErrUnavailable, err)
}

func (p metaPipelines) Pipeline(ctx context.Context, workspaceUUID, source string) (docs.Pipeline, bool, error) {
	url, err := p.store.LogPipeline(ctx, workspaceUUID, source)
	switch {
	case errors.Is(err, meta.ErrNotFound):
		return docs.Pipeline{}, false, nil
	case err != nil:
		return docs.Pipeline{}, false, fmt.Errorf("%w: %v", docs.ErrUnavailable, err)
	}
	return docs.Pipeline{WorkspaceUUID: workspaceUUID, Source: source, URL: url}, true, nil
}

// writeDocs serves /v1/write/object, /v1/write/keyevent, /v1/write/logging.
func (s *service) writeDocs(kind docs.Kind) apiFunc {
	return func(r *http.Request) (any, error) {
		body, err := s.readBody(r)
		if err != nil {
			return nil, err
		}
		defer body.Release()
		ws, _, err := s.authenticateWrite(r, body.Raw)
		if err != nil {
			return nil, err
		}
		prec, err := requestPrecision(r)
		if err != nil {
			return nil, err
		}
		s.metrics.bytes.WithLabelValues("wire").Add(float64(len(body.Raw)))
		source := r.URL.Query().Get("source")
		if !s.queuesDocuments() {
			if err := s.docs.Write(r.Context(), ws.UUID, kind, source, body.Data, prec); err != nil {
				return nil, inStore("docs", err)
			}
			return nil, nil
		}
		// Checked here, applied by a consumer: the answer waits for nsqd,
		// never for the document store.
		lines, lprec, err := s.docs.Prepare(kind, source, body.Data, prec)
		if err != nil {
			return nil, inStore("docs", err)
		}
		if err := s.publish(r.Context(), queue.Message{Op: queue.OpWriteDocuments, DB: ws.UUID, Kind: string(kind),
			Source: source, Precision: lprec.String(), Lines: lines}); err != nil {
			return nil, err
		}
		return nil, nil
	}
}

// setPipeline routes a workspace's log source through a pipeline.
func (s *service) setPipeline(ctx context.Context, req kodoapi.PipelineRequest) error {
	if req.WorkspaceUUID != "" {
		if _, err := s.meta.Workspace(ctx, req.WorkspaceUUID); err != nil {
			return notFoundAs(err, kodoapi.ErrWorkspaceNotFound, "workspace %s not found", req.WorkspaceUUID)
		}
	}
	if err := s.docs.SetPipeline(ctx, req.WorkspaceUUID, req.Source, req.URL); err != nil {
		return inStore("docs", err)
	}
	return nil
}

// deletePipeline removes a pipeline: an explicit request, so that a
// set request that forgot its url cannot delete one by accident.
func (s *service) deletePipeline(ctx context.Context, req kodoapi.PipelineRequest) error {
	if err := s.docs.DeletePipeline(ctx, req.WorkspaceUUID, req.Source); err != nil {
		return inStore("docs", err)
	}
	return nil
}

func (s *service) handleReadDocs(r *http.Request) (any, error) {
	body, err := s.readBody(r)
	if err != nil {
		return nil, err
	}
	defer body.Release()
	// Unknown keys are refused: a misspelt filter would widen the search.
	var req kodoapi.SearchRequest
	if err := decodeJSONBody(body.Data, &req, false, jsonbody.Options{DisallowUnknownFields: true}); err != nil {
		return nil, err
	}
	res, err := s.docs.Search(r.Context(), req)
	if err != nil {
		return nil, inStore("docs", err)
	}
	return res, nil
}
