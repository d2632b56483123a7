package documents

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/kodo-project/kodo/kodo/kodoapi"
	"github.com/kodo-project/kodo/lineproto"
	"github.com/kodo-project/kodo/storage/docs"
)

// PipelineStore keeps log pipelines durably; embedded.Pipelines is the
// SQLite implementation and serves either document store.
type PipelineStore interface {
	// SetPipeline stores p, replacing the one of the same workspace and
	// source; an empty URL removes it.
	SetPipeline(ctx context.Context, p docs.Pipeline) error
	// Pipeline returns the pipeline of a workspace and source, ok false
	// when there is none.
	Pipeline(ctx context.Context, workspaceUUID, source string) (p docs.Pipeline, ok bool, err error)
}

// Options configure New.
type Options struct {
	Store     docs.Store    // required
	Pipelines PipelineStore // nil disables pipelines (SetPipeline fails)
	// HTTPClient calls pipelines; nil means a plain client. The per-call
	// PipelineTimeout applies on top of it.
	HTTPClient *http.Client
	// PipelineTimeout bounds one pipeline call; default 5s.
	PipelineTimeout time.Duration
	// MaxPipelineAnswer bounds a pipeline's answer; default 32 MiB.
	MaxPipelineAnswer int64
	// FunctionURL is the base URL of the function service: a pipeline url
	// that is a path ("func/parse", "/func/parse", as the API text has
	// it) is resolved against it when called, so moving the service
	// means changing one flag. Empty: pipelines need absolute URLs.
	FunctionURL *url.URL
	// ResolveDB maps a db_uuid to its workspace_uuid for searches that
	// name a database; nil refuses them.
	ResolveDB func(ctx context.Context, dbUUID string) (workspaceUUID string, err error)
	Logger    *slog.Logger     // nil discards
	Now       func() time.Time // nil means time.Now
	Limits    lineproto.Limits // line-protocol limits of write bodies
}

// Service is the documents domain logic behind /v1/write/object,
// /v1/write/keyevent, /v1/write/logging, /v1/cache/logging/set and
// document reads. It is safe for concurrent use.
type Service struct {
	opt   Options
	log   *slog.Logger
	stats struct {
		calls, ok, failures, timeouts atomic.Uint64
	}
}

// PipelineStats counts pipeline calls since the service started.
type PipelineStats struct {
	Calls    uint64 `json:"calls"`    // calls made
	OK       uint64 `json:"ok"`       // answers stored in place of the original lines
	Failures uint64 `json:"failures"` // calls that failed (timeouts included): the original lines were stored
	Timeouts uint64 `json:"timeouts"` // failures that were timeouts
}

// New builds a Service.
func New(opt Options) (*Service, error) {
	if opt.Store == nil {
		return nil, errors.New("documents: Options.Store is required")
	}
	if opt.HTTPClient == nil {
		opt.HTTPClient = &http.Client{}
	}
	if opt.PipelineTimeout <= 0 {
		opt.PipelineTimeout = 5 * time.Second
	}
	if opt.MaxPipelineAnswer <= 0 {
		opt.MaxPipelineAnswer = 32 << 20
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	log := opt.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Service{opt: opt, log: log}, nil
}

// PipelineStats returns the pipeline counters.
func (s *Service) PipelineStats() PipelineStats {
	return PipelineStats{Calls: s.stats.calls.Load(), OK: s.stats.ok.Load(), Failures: s.stats.failures.Load(), Timeouts: s.stats.timeouts.Load()}
}

// Write parses body as the given kind and stores it for the workspace.
// source is the ?source= of a log write (ignored for other kinds);
// precision applies to line-protocol timestamps. A *ParseError (400)
// means nothing was stored; an error wrapping docs.ErrUnavailable (503)
// means the store did not accept the batch. nil means every document is
// stored.
func (s *Service) Write(ctx context.Context, workspaceUUID string, kind docs.Kind, source string, body []byte, precision lineproto.Precision) error {
	if workspaceUUID == "" {
		return fmt.Errorf("%w: a workspace uuid is required", docs.ErrInvalid)
	}
	opt := ParseOptions{Precision: precision, Now: s.opt.Now(), Limits: s.opt.Limits}
	var ds []docs.Document
	var err error
	switch kind {
	case docs.KindObject:
		ds, err = ParseObjects(body, opt)
	case docs.KindKeyEvent:
		ds, err = ParseKeyEvents(body, opt)
	case docs.KindLogging:
		var batch lineproto.Batch
		if ds, err = parseLines(body, kind, source, opt, &batch); err == nil {
			ds, err = s.runPipelines(ctx, workspaceUUID, ds, &batch, opt)
		}
	default:
		return fmt.Errorf("%w: unknown kind %q", docs.ErrInvalid, kind)
	}
	if err != nil {
		return err
	}
	return s.opt.Store.Write(ctx, workspaceUUID, kind, ds)
}

// Prepare checks a write body as Write would (bad input is refused here,
// where the client can be told) and returns what to hand to Write later,
// on a consumer of the sink queue: line protocol with every timestamp
// explicit in nanoseconds, so that applying it later, or twice, stores the
// same documents; objects as they came (an object replaces the one of its
// class and name, so a second apply changes nothing). Pipelines run in
// Write, on the consumer.
func (s *Service) Prepare(kind docs.Kind, source string, body []byte, precision lineproto.Precision) ([]byte, lineproto.Precision, error) {
	opt := ParseOptions{Precision: precision, Now: s.opt.Now(), Limits: s.opt.Limits}
	switch kind {
	case docs.KindObject:
		_, err := ParseObjects(body, opt)
		return body, precision, err
	case docs.KindKeyEvent, docs.KindLogging:
		var batch lineproto.Batch
		if _, err := parseLines(body, kind, source, opt, &batch); err != nil {
			return nil, 0, err
		}
		return batch.AppendLineProtocol(nil, lineproto.Nanosecond), lineproto.Nanosecond, nil
	}
	return nil, 0, fmt.Errorf("%w: unknown kind %q", docs.ErrInvalid, kind)
}

// runPipelines replaces, per source with a pipeline, the documents of
// that source by what the pipeline answers. Lines are sent as canonical
// line protocol with nanosecond timestamps.
func (s *Service) runPipelines(ctx context.Context, ws string, ds []docs.Document, batch *lineproto.Batch, opt ParseOptions) ([]docs.Document, error) {
	if s.opt.Pipelines == nil || len(ds) == 0 {
		return ds, nil
	}
	// Group line indices by source, keeping first-seen order.
	var order []string
	groups := map[string][]int{}
	for i := range ds {
		src := ds[i].Source
		if _, ok := groups[src]; !ok {
			order = append(order, src)
		}
		groups[src] = append(groups[src], i)
	}
	out := make([]docs.Document, 0, len(ds))
	for _, src := range order {
		idx := groups[src]
		pl, ok, err := s.opt.Pipelines.Pipeline(ctx, ws, src)
		if err != nil {
			return nil, fmt.Errorf("documents: look up pipeline for source %q: %w", src, err)
		}
		if !ok {
			for _, i := range idx {
				out = append(out, ds[i])
			}
			continue
		}
		var lp []byte
		for _, i := range idx {
			lp = batch.At(i).AppendLineProtocol(lp, lineproto.Nanosecond) // ends with '\n'
		}
		got, err := s.callPipeline(ctx, pl, lp, src, opt)
		if err != nil {
			for _, i := range idx {
				out = append(out, ds[i])
			}
			continue
		}
		out = append(out, got...)
	}
	return out, nil
}

// PipelineError is logged (and counted) when a pipeline call fails; the
// original lines are stored instead.
type PipelineError struct {
	URL     string
	Status  int // HTTP status, 0 when there was no answer
	Timeout bool
	Err     error
}

func (e *PipelineError) Error() string {
	switch {
	case e.Timeout:
		return fmt.Sprintf("pipeline %s: timed out: %v", e.URL, e.Err)
	case e.Status != 0 && e.Err == nil:
		return fmt.Sprintf("pipeline %s: answered HTTP %d", e.URL, e.Status)
	}
	return fmt.Sprintf("pipeline %s: %v", e.URL, e.Err)
}

func (e *PipelineError) Unwrap() error { return e.Err }

// callPipeline posts lines to the pipeline and parses its answer. An
// empty 2xx answer means the pipeline dropped every line.
func (s *Service) callPipeline(ctx context.Context, pl docs.Pipeline, lines []byte, source string, opt ParseOptions) ([]docs.Document, error) {
	s.stats.calls.Add(1)
	ds, err := s.doPipeline(ctx, pl, lines, source, opt)
	if err != nil {
		s.stats.failures.Add(1)
		var pe *PipelineError
		if errors.As(err, &pe) && pe.Timeout {
			s.stats.timeouts.Add(1)
		}
		s.log.Warn("log pipeline failed; storing the original lines", "workspace", pl.WorkspaceUUID, "source", pl.Source, "url", pl.URL, "err", err)
		return nil, err
	}
	s.stats.ok.Add(1)
	return ds, nil
}

func (s *Service) doPipeline(ctx context.Context, pl docs.Pipeline, lines []byte, source string, opt ParseOptions) ([]docs.Document, error) {
	ctx, cancel := context.WithTimeout(ctx, s.opt.PipelineTimeout)
	defer cancel()
	target, err := s.pipelineURL(pl.URL)
	if err != nil {
		return nil, &PipelineError{URL: pl.URL, Err: err}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(lines))
	if err != nil {
		return nil, &PipelineError{URL: pl.URL, Err: err}
	}
	req.Header.Set("Content-Type", "text/plain; charset=utf-8")
	req.Header.Set("X-Workspace-Uuid", pl.WorkspaceUUID)
	req.Header.Set("X-Source", pl.Source)
	resp, err := s.opt.HTTPClient.Do(req)
	if err != nil {
		return nil, &PipelineError{URL: pl.URL, Timeout: errors.Is(err, context.DeadlineExceeded) || isTimeout(err), Err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, s.opt.MaxPipelineAnswer+1))
	if err != nil {
		return nil, &PipelineError{URL: pl.URL, Status: resp.StatusCode, Timeout: errors.Is(err, context.DeadlineExceeded) || isTimeout(err), Err: err}
	}
	if resp.StatusCode/100 != 2 {
		return nil, &PipelineError{URL: pl.URL, Status: resp.StatusCode}
	}
	if int64(len(body)) > s.opt.MaxPipelineAnswer {
		return nil, &PipelineError{URL: pl.URL, Status: resp.StatusCode, Err: fmt.Errorf("answer exceeds %d bytes", s.opt.MaxPipelineAnswer)}
	}
	// Lines the pipeline returns without a timestamp get the write's time.
	ds, err := parseLines(body, docs.KindLogging, source, ParseOptions{Precision: lineproto.Nanosecond, Now: opt.Now, Limits: opt.Limits}, nil)
	if err != nil {
		return nil, &PipelineError{URL: pl.URL, Status: resp.StatusCode, Err: fmt.Errorf("answer is not line protocol: %w", err)}
	}
	return ds, nil
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// SetPipeline stores the pipeline of a workspace's log source
// (/v1/cache/logging/set). rawURL is required: an absolute http or https
// URL, or a path on the function service (Options.FunctionURL).
func (s *Service) SetPipeline(ctx context.Context, workspaceUUID, source, rawURL string) error {
	if err := s.pipelineKey(workspaceUUID, source); err != nil {
		return err
	}
	if rawURL == "" {
		return fmt.Errorf("%w: url is required: the function's path (or an absolute http:// or https:// URL); to remove a pipeline, POST /v1/cache/logging/delete", docs.ErrInvalid)
	}
	if _, err := s.pipelineURL(rawURL); err != nil {
		return fmt.Errorf("%w: %v", docs.ErrInvalid, err)
	}
	return s.opt.Pipelines.SetPipeline(ctx, docs.Pipeline{WorkspaceUUID: workspaceUUID, Source: source, URL: rawURL})
}

// DeletePipeline removes the pipeline of a workspace's log source
// (/v1/cache/logging/delete); removing a missing one is not an error.
func (s *Service) DeletePipeline(ctx context.Context, workspaceUUID, source string) error {
	if err := s.pipelineKey(workspaceUUID, source); err != nil {
		return err
	}
	return s.opt.Pipelines.SetPipeline(ctx, docs.Pipeline{WorkspaceUUID: workspaceUUID, Source: source})
}

func (s *Service) pipelineKey(workspaceUUID, source string) error {
	if s.opt.Pipelines == nil {
		return errors.New("documents: no pipeline store is configured")
	}
	if workspaceUUID == "" || source == "" {
		return fmt.Errorf("%w: workspace_uuid and source are required", docs.ErrInvalid)
	}
	return nil
}

// pipelineURL is the URL a pipeline is called at: raw itself when
// absolute, else raw resolved against the function service.
func (s *Service) pipelineURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("url %q: %v", raw, err)
	}
	if u.IsAbs() {
		if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return "", fmt.Errorf("url %q: an absolute url must be http:// or https:// with a host", raw)
		}
		return u.String(), nil
	}
	if u.Host != "" || u.Path == "" {
		return "", fmt.Errorf("url %q is neither an absolute URL nor a path on the function service", raw)
	}
	if s.opt.FunctionURL == nil {
		return "", fmt.Errorf("url %q is a path, but no function service is configured (-func-url); send an absolute http:// or https:// URL or configure one", raw)
	}
	// A path is relative to the service's base, with or without a
	// leading slash: "func/x" and "/func/x" both land under the base.
	base := *s.opt.FunctionURL
	if !strings.HasSuffix(base.Path, "/") {
		base.Path += "/"
	}
	rel := *u
	rel.Path = strings.TrimLeft(u.Path, "/")
	rel.RawPath = ""
	return base.ResolveReference(&rel).String(), nil
}

// Search resolves the request's workspace and runs it on the store.
func (s *Service) Search(ctx context.Context, r kodoapi.SearchRequest) (kodoapi.SearchResult, error) {
	ws := r.WorkspaceUUID
	switch {
	case ws != "" && r.DBUUID != "":
		return kodoapi.SearchResult{}, fmt.Errorf("%w: give db_uuid or workspace_uuid, not both", docs.ErrInvalid)
	case ws == "" && r.DBUUID == "":
		return kodoapi.SearchResult{}, fmt.Errorf("%w: db_uuid or workspace_uuid is required", docs.ErrInvalid)
	case ws == "":
		if s.opt.ResolveDB == nil {
			return kodoapi.SearchResult{}, fmt.Errorf("%w: searching by db_uuid is not configured; use workspace_uuid", docs.ErrInvalid)
		}
		var err error
		if ws, err = s.opt.ResolveDB(ctx, r.DBUUID); err != nil {
			return kodoapi.SearchResult{}, err
		}
	}
	kind, err := docs.ParseKind(r.Kind)
	if err != nil {
		return kodoapi.SearchResult{}, fmt.Errorf("%w: %v", docs.ErrInvalid, err)
	}
	sort, err := docs.ParseSort(r.Sort)
	if err != nil {
		return kodoapi.SearchResult{}, err
	}
	req := docs.SearchRequest{WorkspaceUUID: ws, Kind: kind, Query: r.Query, Limit: r.Limit, Offset: r.Offset, Sort: sort}
	switch len(r.TimeRange) {
	case 0:
	case 2:
		const ms = int64(time.Millisecond)
		req.TimeRange = docs.TimeRange{Start: r.TimeRange[0] * ms, End: r.TimeRange[1] * ms}
	default:
		return kodoapi.SearchResult{}, fmt.Errorf("%w: time_range must be [start_ms, end_ms]", docs.ErrInvalid)
	}
	for k, v := range r.Filters {
		req.Filters = append(req.Filters, docs.Filter{Key: k, Value: v})
	}
	res, err := s.opt.Store.Search(ctx, req)
	if err != nil {
		return kodoapi.SearchResult{}, err
	}
	out := kodoapi.SearchResult{Total: res.Total, Docs: make([]kodoapi.Document, len(res.Docs))}
	for i, d := range res.Docs {
		out.Docs[i] = kodoapi.Document{Name: d.Name, Class: d.Class, Source: d.Source, Time: d.Time, Tags: d.Tags, Fields: d.Fields, Content: d.Content}
	}
	return out, nil
}
