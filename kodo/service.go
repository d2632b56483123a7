package kodo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/kodo-project/kodo/documents"
	"github.com/kodo-project/kodo/internal/bgdrop"
	"github.com/kodo-project/kodo/internal/httpx"
	"github.com/kodo-project/kodo/kodo/kodoapi"
	"github.com/kodo-project/kodo/signer"
	"github.com/kodo-project/kodo/storage/clickhouse"
	"github.com/kodo-project/kodo/storage/docs"
	"github.com/kodo-project/kodo/storage/meta"
	"github.com/kodo-project/kodo/storage/tsengine"
	"github.com/kodo-project/kodo/storage/tsengine/embedded"
	"github.com/kodo-project/kodo/storage/tsengine/remote"
	"github.com/kodo-project/kodo/tsdb"
)

// service is the /v1 API: handlers plus the domain logic they call.
type service struct {
	opts  *Options
	log   *slog.Logger
	meta  meta.Store
	now   func() time.Time
	limit httpx.Limits

	engines   map[string]tsengine.Engine // by instance uuid
	placeable []string                   // instance uuids new databases may go to

	metrics *metrics
	writes  *gate
	queries *gate
	tokens  *tokenCache

	// Trust: nil when -auth-fail-rate is negative / -replay-cache is 0.
	authFails *authLimiter
	replay    *replayGuard
	mrp       *measurementRPCache
	series    *seriesCounter
	batches   sync.Pool

	ck       *clickhouse.Store
	sinks    *sinkQueue // nil without an external sink
	tsdb     *tsdb.Service
	docs     *documents.Service
	docStore docs.Store

	cqMu sync.Mutex // serialises CQ create/modify for the duplicate check

	// InfluxDB compatibility: rate limit of RP re-reads (influxrp.go).
	rpRefresh rpRefresh

	// drops runs the background measurement drops (item: faults): a drop
	// asked for twice runs once, and a caller can wait for one.
	drops      *bgdrop.Runner
	health     instanceHealth // placement skips instances that fail a ping (item: faults)
	seriesStop context.CancelFunc
	seriesDone chan struct{}
}

// DefaultCacheSnapshotBytes (Limits.CacheSnapshotBytes) is the embedded
// engine's: a sixth of InfluxDB's 25 MB, for the same CPU per point at
// half the peak RSS.
const DefaultCacheSnapshotBytes = embedded.DefaultCacheSnapshotBytes

func newService(ctx context.Context, opts *Options, store meta.Store) (*service, error) {
	s := &service{
		opts:    opts,
		log:     opts.Logger,
		meta:    store,
		now:     opts.Now,
		limit:   httpx.Limits{MaxBodyBytes: opts.Limits.MaxBodyBytes, MaxDecompressedBytes: opts.Limits.MaxDecompressedBytes},
		engines: map[string]tsengine.Engine{},
		metrics: newMetrics(),
		writes:  newGate("writes", opts.Limits.MaxConcurrentWrites, opts.Limits.MaxInflightBytes, opts.Limits.QueueWait),
		queries: newGate("queries", opts.Limits.MaxConcurrentQueries, opts.Limits.MaxInflightBytes, opts.Limits.QueueWait),
		tokens:  newTokenCache(store, time.Minute),
		mrp:     newMeasurementRPCache(store),
		series:  newSeriesCounter(5*time.Minute, opts.Now),
	}
	if opts.ReplayWindow > 0 {
		s.replay = newReplayGuard(store, opts.ReplayWindow, opts.Now)
		if opts.ReplayWindow < 2*signer.DefaultMaxSkew {
			s.log.Warn("replay cache window is shorter than the time a signature stays valid; a replay after the window but within the Date skew still passes",
				"replay_cache", opts.ReplayWindow, "signature_valid_for", 2*signer.DefaultMaxSkew)
		}
	}
	if err := s.openEngines(ctx); err != nil {
		s.closeEngines()
		return nil, err
	}
	s.disableBadCQs(ctx)
	if err := s.openClickHouse(ctx); err != nil {
		s.closeServices()
		return nil, err
	}
	if err := s.openTSDB(ctx); err != nil {
		s.closeServices()
		return nil, err
	}
	if err := s.openDocuments(); err != nil {
		s.closeServices()
		return nil, err
	}
	// After the stores, so a consumer's first message finds them.
	if err := s.openSinks(); err != nil {
		s.closeServices()
		return nil, err
	}
	s.startSeriesPersistence()
	s.drops = bgdrop.New(s.log)
	if err := s.resumeDrops(ctx); err != nil {
		s.log.Warn("could not resume pending measurement drops", "err", err)
	}
	return s, nil
}

// openEngines opens the embedded engine (always: databases placed on it
// earlier stay reachable) and each remote instance, recording every one in
// the metadata store so placement survives restarts and is shared by
// replicas.
func (s *service) openEngines(ctx context.Context) error {
	known, err := s.meta.Instances(ctx)
	if err != nil {
		return fmt.Errorf("kodo: list instances: %w", err)
	}
	byURL := map[string]string{}
	for _, in := range known {
		byURL[in.URL] = in.UUID
	}
	instance := func(url string) (string, error) {
		if id, ok := byURL[url]; ok {
			return id, nil
		}
		id := newID("iflx_")
		if err := s.meta.UpsertInstance(ctx, meta.Instance{UUID: id, URL: url}); err != nil {
			return "", fmt.Errorf("kodo: record instance %q: %w", url, err)
		}
		return id, nil
	}

	l := s.opts.Limits
	emb, err := embedded.Open(filepath.Join(s.opts.DataDir, "influxdb"), embedded.Options{
		Logger: s.log.With("engine", "embedded"),
		// The engine's own bounds hold for what Kodo does not run itself:
		// continuous query runs get the query time and select limits.
		SelectTimeout:     l.QueryTimeout,
		MaxSelectPointN:   l.MaxSelectPoints,
		MaxSelectSeriesN:  l.MaxSelectSeries,
		MaxSelectBucketsN: l.MaxSelectBuckets,
		// Write-path bounds (future points are refused before the engine).
		MaxShardsPerDatabase: positive(l.MaxShardsPerDatabase),
		MaxSeriesPerDatabase: positive(l.MaxSeriesPerDatabase),
		MaxValuesPerTag:      positive(l.MaxValuesPerTag),
		// Faults: disk reserve, idle shards.
		MinFreeBytes:     l.MinFreeDiskBytes,
		IdleShardTimeout: l.IdleShardTimeout,
		// Memory.
		CacheSnapshotBytes: l.CacheSnapshotBytes,
	})
	if err != nil {
		return fmt.Errorf("kodo: open embedded engine: %w", err)
	}
	id, err := instance("")
	if err != nil {
		emb.Close()
		return err
	}
	s.engines[id] = emb
	if len(s.opts.InfluxURLs) == 0 {
		s.placeable = []string{id}
	}
	for _, u := range s.opts.InfluxURLs {
		eng, err := remote.New(u, remote.Options{Logger: s.log.With("engine", "remote", "url", u)})
		if err != nil {
			return fmt.Errorf("kodo: remote engine %s: %w", u, err)
		}
		id, err := instance(u)
		if err != nil {
			eng.Close()
			return err
		}
		s.engines[id] = eng
		s.placeable = append(s.placeable, id)
	}
	return nil
}

func (s *service) closeEngines() error {
	var errs []error
	for id, e := range s.engines {
		if err := e.Close(); err != nil {
			errs = append(errs, fmt.Errorf("engine %s: %w", id, err))
		}
	}
	return errors.Join(errs...)
}

func (s *service) close(ctx context.Context) error {
	if s.drops != nil {
		_ = s.drops.Close(ctx) // past ctx, unfinished drops resume on the next start
	}
	s.stopSeriesPersistence(ctx)
	return s.closeServices()
}

// closeServices closes what newService opened, users before engines.
func (s *service) closeServices() error {
	var errs []error
	if s.tsdb != nil {
		errs = append(errs, s.tsdb.Close())
	}
	errs = append(errs, s.sinks.close())
	if s.ck != nil {
		errs = append(errs, s.ck.Close())
	}
	errs = append(errs, s.closeDocuments(), s.closeEngines())
	return errors.Join(errs...)
}

// engineFor returns the engine a database is placed on.
func (s *service) engineFor(db meta.Database) (tsengine.Engine, error) {
	e, ok := s.engines[db.InstanceUUID]
	if !ok {
		return nil, Errorf(kodoapi.ErrUnavailable, "database %s is placed on instance %s, which this gateway is not configured with (-influx-url)", db.UUID, db.InstanceUUID)
	}
	return e, nil
}

// route registers h for path under the given methods; other methods get a
// 405 envelope (the stock mux would answer plain text).
func (s *service) route(mux *http.ServeMux, path string, h http.HandlerFunc, methods ...string) {
	s.routeFailing(mux, path, h, s.fail, methods...)
}

// routeFailing is route with the API's own error answer for the 405.
func (s *service) routeFailing(mux *http.ServeMux, path string, h http.HandlerFunc, fail func(http.ResponseWriter, *http.Request, error), methods ...string) {
	mux.HandleFunc(path, s.metrics.instrument(path, func(w http.ResponseWriter, r *http.Request) {
		for _, m := range methods {
			if r.Method == m || (m == http.MethodGet && r.Method == http.MethodHead) {
				h(w, r)
				return
			}
		}
		allow := strings.Join(methods, ", ")
		w.Header().Set("Allow", allow)
		fail(w, r, Errorf(kodoapi.ErrMethodNotAllowed, "%s %s is not supported; use %s", r.Method, r.URL.Path, allow))
	}))
}

func (s *service) fail(w http.ResponseWriter, r *http.Request, err error) {
	s.respondError(w, r, err)
}

const (
	get  = http.MethodGet
	post = http.MethodPost
)

func (s *service) routes() http.Handler {
	mux := http.NewServeMux()
	s.route(mux, "/v1/ping", s.api(s.handlePing), get, post)
	if s.opts.Role == RoleIndexer {
		// An indexer only consumes the sink queue: health and metrics.
		mux.Handle("GET /metrics", s.metrics.handler())
		mux.HandleFunc("/", s.metrics.instrument("other", func(w http.ResponseWriter, r *http.Request) {
			s.fail(w, r, Errorf(kodoapi.ErrNotFound, "this process is an indexer (-role indexer): it consumes the sink queue and serves no API; send %s %s to a gateway", r.Method, r.URL.Path))
		}))
		return mux
	}

	// Signed writes (workspace token + signature).
	// Each write: credentials from the headers, then the gate, then the body.
	signed := func(h apiFunc) http.HandlerFunc {
		return s.admit(s.writes, s.authenticateWriteHeaders, s.api(h), s.fail)
	}
	write := signed(s.handleWriteMetrics)
	s.route(mux, "/v1/write", write, post)
	s.route(mux, "/v1/write/metrics", write, post)
	s.route(mux, "/v1/write/object", signed(s.writeDocs(docs.KindObject)), post)
	s.route(mux, "/v1/write/keyevent", signed(s.writeDocs(docs.KindKeyEvent)), post)
	s.route(mux, "/v1/write/logging", signed(s.writeDocs(docs.KindLogging)), post)
	s.route(mux, "/v1/datakit/online", s.api(s.handleDatakitOnline), post)
	s.route(mux, "/v1/check/token/{token}", s.api(s.handleCheckToken), get)

	// Management (admin key).
	m := func(path string, h apiFunc, methods ...string) { s.route(mux, path, s.admin(s.api(h)), methods...) }
	// Reads also take a query slot after the admin check: InfluxQL ones
	// are charged their answer bound (admitQuery), the others a body.
	mq := func(path string, admit func(http.HandlerFunc) http.HandlerFunc, h apiFunc, methods ...string) {
		s.route(mux, path, s.admin(admit(s.api(h))), methods...)
	}
	querySlot := func(h http.HandlerFunc) http.HandlerFunc { return s.admitQuery(nil, h, s.fail) }
	readSlot := func(h http.HandlerFunc) http.HandlerFunc { return s.admit(s.queries, nil, h, s.fail) }
	m("/v1/workspace/create", s.handleWorkspaceCreate, post)
	m("/v1/workspace/delete", decoded(s, s.deleteWorkspace), post)
	m("/v1/workspace/keypair/create", decoded(s, s.createKeyPair), post)
	m("/v1/workspace/limits", decoded(s, s.setWorkspaceLimits), post) // write limits (series, tag values)
	m("/v1/workspace/secret/rotate", decoded(s, s.rotateSecret), post)
	m("/v1/workspace/signing", decoded(s, s.setSigning), post)
	mq("/v1/read/metrics", querySlot, s.handleReadMetrics, post)
	m("/v1/rewrite", decoded(s, s.rewrite), post)
	m("/v1/cq/create", decoded(s, s.createCQs), post)
	m("/v1/cq/modify", decoded(s, s.modifyCQ), post)
	m("/v1/cq/delete", decodedDo(s, s.deleteCQ), post)
	m("/v1/cq/syncupdate", s.handleCQSync, post)
	mq("/v1/manage/metrics", querySlot, s.handleManageMetrics, post)
	m("/v1/influx/add_db", s.handleAddDB, post)
	m("/v1/modify/dbrp", decoded(s, s.modifyDBRP), post)
	m("/v1/measurement/get_rp", decoded(s, s.measurementRPs), post)
	m("/v1/drop/metrics", decodedDo(s, s.dropMetrics), post)
	m("/v1/droppingmetrics/{db_uuid}", s.handleDroppingMetrics, get)
	m("/v1/tscnt", s.handleTSCount, get, post)
	m("/v1/cache/dataway/clean", s.handleCacheClean, post)
	m("/v1/cache/logging/set", decodedDo(s, s.setPipeline), post)
	m("/v1/cache/logging/delete", decodedDo(s, s.deletePipeline), post)
	mq("/v1/read/docs", readSlot, s.handleReadDocs, post)
	m("/v1/tsdb/keypair/create", s.handleTSDBKeyPair, post)
	m("/v1/ck/status", s.handleCKStatus, get)
	m("/v1/ck/create_db", s.handleCKCreateDB, post)
	m("/v1/ck/tablelist", s.handleCKTableList, get)
	m("/v1/ck/tableinfo", s.handleCKTableInfo, get)
	m("/v1/ck/drop/metrics", decodedDo(s, s.dropCKTable), post)
	mq("/v1/ck/read/metrics", readSlot, s.handleCKRead, post)

	// Pandora TSDB v4: the full path is signed, so no prefix stripping.
	mux.Handle("/v4/", s.metrics.instrument("/v4/", s.tsdb.Handler().ServeHTTP))

	// InfluxDB 1.x compatible API: answers (405s included) in influxd's shape.
	ir := func(path string, h http.HandlerFunc, methods ...string) {
		s.routeFailing(mux, path, h, s.influxError, methods...)
	}
	iw := func(h influxFunc) http.HandlerFunc {
		return s.admit(s.writes, s.influxAuthHeaders, s.influx(h), s.influxError)
	}
	iq := func(h influxFunc) http.HandlerFunc {
		return s.admitQuery(s.influxAuthHeaders, s.influx(h), s.influxError)
	}
	ir("/ping", s.influx(s.handleInfluxPing), get)
	ir("/write", iw(s.handleInfluxWrite), post)
	ir("/query", iq(s.handleInfluxQuery), get, post)
	// InfluxDB 1.8's v2 compatibility API (influxv2.go).
	ir("/api/v2/write", iw(s.handleInfluxV2Write), post)
	ir("/api/v2/buckets", iq(s.handleInfluxV2Buckets), get)
	ir("/api/v2/query", s.influx(s.handleInfluxV2Query), post)
	ir("/health", s.influx(s.handleInfluxHealth), get)
	// Prometheus remote storage, as InfluxDB 1.8 (promremote.go).
	ir("/api/v1/prom/write", iw(s.handlePromWrite), post)
	ir("/api/v1/prom/read", iq(s.handlePromRead), post)

	mux.Handle("GET /metrics", s.metrics.handler())
	mux.HandleFunc("/", s.metrics.instrument("other", func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, Errorf(kodoapi.ErrNotFound, "no endpoint %s %s; see the README for the API", r.Method, r.URL.Path))
	}))
	return mux
}

func (s *service) handlePing(r *http.Request) (any, error) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	status, overall := map[string]string{}, "ok"
	for id, e := range s.engines {
		if err := e.Ping(ctx); err != nil {
			status[id], overall = err.Error(), "degraded"
		} else {
			status[id] = "ok"
		}
	}
	// 200 either way: one unreachable remote instance leaves the others
	// (and the databases on them) serving; "degraded" tells the operator.
	return kodoapi.Ping{Version: kodoapi.Version, Status: overall, Engines: status}, nil
}
