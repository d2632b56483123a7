package kodo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/kodo-project/kodo/internal/httpx"
	"github.com/kodo-project/kodo/kodo/kodoapi"
	"github.com/kodo-project/kodo/storage/meta"
	"github.com/kodo-project/kodo/storage/meta/postgres"
	"github.com/kodo-project/kodo/storage/meta/sqlite"
)

// Options configure a Server. The zero value (plus defaults applied by New)
// runs everything embedded under ./kodo-data on 127.0.0.1:9527.
type Options struct {
	Listen  string // default 127.0.0.1:9527
	DataDir string // default ./kodo-data
	// AdminKey guards management endpoints (Authorization: Bearer <key>).
	// Empty: management answers loopback clients only.
	AdminKey string
	// InfluxURLs are remote InfluxDB 1.x instances; new databases are
	// placed on the least-loaded one. Empty: the embedded engine.
	InfluxURLs    []string
	ClickHouseDSN string
	// ClickHouseCluster, when set, creates metric tables ON CLUSTER with
	// ReplicatedMergeTree.
	ClickHouseCluster string
	ElasticURL        string
	// NSQDAddress is the nsqd (TCP host:port) that carries metrics to the
	// external sinks. Empty with an external sink: an nsqd runs in this
	// process with its queue under <DataDir>/nsq.
	NSQDAddress string
	// NSQLookupdAddresses (HTTP host:port) let consumers find every nsqd
	// that gateways publish to; empty: consume from NSQDAddress.
	NSQLookupdAddresses []string
	// DocumentsViaQueue sends document writes through the sink queue to
	// the embedded document store too (with ElasticURL they always go
	// through it): indexing leaves the write path, at the cost of a
	// delay before the documents are searchable.
	DocumentsViaQueue bool
	// Role is RoleAll (default), RoleGateway (API and publishing, no
	// consumers) or RoleIndexer (consumers of the sink queue).
	Role string
	// FunctionURL is the function service's base URL: a log pipeline's
	// url that is a path (/v1/cache/logging/set) is resolved against it.
	FunctionURL string
	// MetaDSN is "sqlite:PATH" or "postgres://..."; default
	// sqlite:<DataDir>/meta.db.
	MetaDSN string
	// TSDBAccessKey / TSDBSecretKey: a first Pandora key pair.
	TSDBAccessKey, TSDBSecretKey string
	// RetentionPolicies name the RPs a database may use and their
	// durations (0 = forever). Default: DefaultRetentionPolicies().
	RetentionPolicies map[string]time.Duration
	// DefaultRP is the default RP of new databases (default "rp3").
	DefaultRP string
	// StrictDway refuses DWAY signatures that carry the secret key as the
	// id (the DataWay Go SDK's orientation, which exposes the secret).
	StrictDway bool
	Limits     Limits
	Logger     *slog.Logger     // nil: discard
	Now        func() time.Time // clock for signatures; nil: time.Now

	// Trust (browsers, workspace secrets, replay, failed authentications).
	// AllowedOrigins: browser origins (scheme://host[:port]) that may call
	// management while no admin key is set; others are refused.
	AllowedOrigins []string
	// AllowedHosts: Host names management answers under loopback trust,
	// besides loopback and the listen host (DNS-rebinding guard).
	AllowedHosts []string
	// InsecureNoAdminKey lets New accept a non-loopback Listen without an
	// admin key; management then still answers loopback clients only.
	InsecureNoAdminKey bool
	// SecretOverlap is how long a rotated-out workspace secret still
	// verifies when the rotate call names no overlap (default 24h).
	SecretOverlap time.Duration
	// ReplayWindow > 0 refuses a signature seen before within the window
	// (remembered in the metadata store, so replicas share it). 0: off.
	// 30m covers the whole ±15-minute Date window of a signature.
	ReplayWindow time.Duration
}

// Limits bound the cost of one request.
type Limits struct {
	MaxBodyBytes         int64         // body as sent; default 32 MiB
	MaxDecompressedBytes int64         // gzip body after decompression; default 128 MiB
	MaxLineBytes         int           // one line-protocol line; default 1 MiB
	QueryTimeout         time.Duration // one query; default 30s
	MaxQueryStatements   int           // statements per query; default 20
	MinCQEvery           time.Duration // shortest aggr_every of a CQ; default 1m
	// Backpressure: past these bounds requests wait QueueWait, then get
	// 429 with Retry-After.
	MaxConcurrentWrites  int           // default 32
	MaxConcurrentQueries int           // default 32
	MaxInflightBytes     int64         // body bytes (decompressed included) held by admitted writes, and apart by queries; default 512 MiB
	QueueWait            time.Duration // default 2s

	// Trust: failed authentications and /v1/check/token calls per client
	// address: AuthFailRate per second refill a bucket of AuthFailBurst;
	// an empty bucket answers 429 with Retry-After before authenticating.
	AuthFailRate  float64 // default 1; negative: no limit
	AuthFailBurst int     // default 30

	// Query and CQ cost (h-query). The select limits are InfluxDB's, set
	// on the embedded engine (CQ runs included); the buckets are also
	// checked up front for every engine. Defaults: DefaultQueryLimits.
	MaxSelectBuckets int // GROUP BY time buckets per SELECT
	MaxSelectPoints  int // points one SELECT may read
	MaxSelectSeries  int // series one SELECT may read
	// MaxQueryAnswerBytes bounds the answer one query holds in the
	// gateway (an estimate of its memory); the query gate reserves it
	// from MaxInflightBytes for each query it admits.
	MaxQueryAnswerBytes int64
	// MaxCQResampleFor bounds the time range one CQ run reads (RESAMPLE
	// FOR, or the GROUP BY interval without it).
	MaxCQResampleFor time.Duration
	// Write path (future points, shards, cardinality). Negative disables.
	MaxFuture            time.Duration // how far ahead of the clock a point may be; default 48h
	MaxShardsPerDatabase int           // live shard groups of one database (embedded engine); default 1000
	MaxSeriesPerDatabase int           // default 1,000,000; a workspace may override it
	MaxValuesPerTag      int           // per measurement and tag key; default 100,000; overridable
	// Slow clients (header and body read time). A body gets
	// BodyReadTimeout from the handler's start plus one second per
	// BodyMinRate bytes received, as Apache's mod_reqtimeout does, so a
	// socket that trickles bytes is cut instead of holding a connection.
	ReadHeaderTimeout time.Duration // request line and headers (the server Start runs); default 10s
	BodyReadTimeout   time.Duration // grace for every body; default 10s
	BodyMinRate       int64         // bytes/s owed after the grace; default 64 KiB/s

	// Faults. MinFreeDiskBytes is the free space kept on the embedded
	// engine's disk: below it writes get 507 before the engine can fail
	// half-way; default 100 MiB, negative disables the check.
	MinFreeDiskBytes int64
	// IdleShardTimeout closes an embedded-engine shard unused this long,
	// bounding open file descriptors (a shard holds ~10); default 15m,
	// negative keeps every shard open.
	IdleShardTimeout time.Duration

	// Memory. CacheSnapshotBytes is the size past which an embedded-engine
	// shard's cache of written points is snapshotted to disk; every
	// active shard's cache is in the heap. Default 4 MiB
	// (DefaultCacheSnapshotBytes).
	CacheSnapshotBytes int64
}

// Defaults of the query and CQ cost limits, and why:
//   - 100,000 buckets: a day at 1s, two months at 1m, a year at 10m; each
//     bucket is a row per series in the answer, and fill() makes it even
//     without data.
//   - 50,000,000 points read: a few seconds of one core's scan; what a
//     SELECT reads streams through aggregates, so this bounds work, not
//     memory (the answer bound does that).
//   - 10,000 series: InfluxDB holds iterator state per series read,
//     measured at 2 KB (count over all) to 4 KB (GROUP BY *) a series on
//     the embedded engine: 40 MB for one query, 1.3 GB for the 32 that
//     may run at once. Pandora caps a repo at the same 10,000 series.
//   - 16 MiB of answer: about 100k rows; 32 concurrent queries (the
//     default) then reserve 512 MiB, the default gate budget.
//   - 31 days of RESAMPLE FOR: a monthly rollup, re-read at most every
//     MinCQEvery.
const (
	DefaultMaxSelectBuckets    = 100_000
	DefaultMaxSelectPoints     = 50_000_000
	DefaultMaxSelectSeries     = 10_000
	DefaultMaxQueryAnswerBytes = 16 << 20
	DefaultMaxCQResampleFor    = 31 * 24 * time.Hour
)

// DefaultRetentionPolicies is the RP table used when Options names none.
func DefaultRetentionPolicies() map[string]time.Duration {
	const day = 24 * time.Hour
	return map[string]time.Duration{
		"autogen": 0,
		"rp0":     1 * day,
		"rp1":     7 * day,
		"rp2":     30 * day,
		"rp3":     90 * day,
		"rp4":     180 * day,
		"rp5":     365 * day,
		"rp6":     1080 * day,
	}
}

func (o *Options) applyDefaults() {
	if o.Listen == "" {
		o.Listen = "127.0.0.1:9527"
	}
	if o.DataDir == "" {
		o.DataDir = "kodo-data"
	}
	if o.MetaDSN == "" {
		o.MetaDSN = "sqlite:" + filepath.Join(o.DataDir, "meta.db")
	}
	if o.RetentionPolicies == nil {
		o.RetentionPolicies = DefaultRetentionPolicies()
	}
	if o.DefaultRP == "" {
		o.DefaultRP = "rp3"
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.Role == "" {
		o.Role = RoleAll
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	l := &o.Limits
	def := httpx.DefaultLimits()
	if l.MaxBodyBytes <= 0 {
		l.MaxBodyBytes = def.MaxBodyBytes
	}
	if l.MaxDecompressedBytes <= 0 {
		l.MaxDecompressedBytes = def.MaxDecompressedBytes
	}
	if l.MaxLineBytes <= 0 {
		l.MaxLineBytes = 1 << 20
	}
	if l.QueryTimeout <= 0 {
		l.QueryTimeout = 30 * time.Second
	}
	if l.MaxQueryStatements <= 0 {
		l.MaxQueryStatements = 20
	}
	if l.MinCQEvery <= 0 {
		l.MinCQEvery = time.Minute
	}
	if l.MaxConcurrentWrites <= 0 {
		l.MaxConcurrentWrites = 32
	}
	if l.MaxConcurrentQueries <= 0 {
		l.MaxConcurrentQueries = 32
	}
	if l.MaxInflightBytes <= 0 {
		l.MaxInflightBytes = 512 << 20
	}
	if l.QueueWait <= 0 {
		l.QueueWait = 2 * time.Second
	}
	if l.AuthFailRate == 0 {
		l.AuthFailRate = 1
	}
	if l.AuthFailBurst <= 0 {
		l.AuthFailBurst = 30
	}
	if o.SecretOverlap <= 0 {
		o.SecretOverlap = 24 * time.Hour
	}
	if l.MaxSelectBuckets <= 0 {
		l.MaxSelectBuckets = DefaultMaxSelectBuckets
	}
	if l.MaxSelectPoints <= 0 {
		l.MaxSelectPoints = DefaultMaxSelectPoints
	}
	if l.MaxSelectSeries <= 0 {
		l.MaxSelectSeries = DefaultMaxSelectSeries
	}
	if l.MaxQueryAnswerBytes <= 0 {
		l.MaxQueryAnswerBytes = DefaultMaxQueryAnswerBytes
	}
	if l.MaxCQResampleFor <= 0 {
		l.MaxCQResampleFor = DefaultMaxCQResampleFor
	}
	// Write path: 0 takes the default, a negative value means no bound.
	if l.MaxFuture == 0 {
		l.MaxFuture = DefaultMaxFuture
	}
	if l.MaxShardsPerDatabase == 0 {
		l.MaxShardsPerDatabase = DefaultMaxShardsPerDatabase
	}
	if l.MaxSeriesPerDatabase == 0 {
		l.MaxSeriesPerDatabase = DefaultMaxSeriesPerDatabase
	}
	if l.MaxValuesPerTag == 0 {
		l.MaxValuesPerTag = DefaultMaxValuesPerTag
	}
	if l.ReadHeaderTimeout <= 0 {
		l.ReadHeaderTimeout = 10 * time.Second
	}
	if l.BodyReadTimeout <= 0 {
		l.BodyReadTimeout = 10 * time.Second
	}
	if l.BodyMinRate <= 0 {
		l.BodyMinRate = 64 << 10
	}
}

// Defaults of the write-path limits. MaxFuture follows VictoriaMetrics
// (two days ahead); the cardinality limits are InfluxDB 1.x's; 1000 shard
// groups hold decades of weekly groups or a year of daily ones per policy.
const (
	DefaultMaxFuture            = 48 * time.Hour
	DefaultMaxShardsPerDatabase = 1000
	DefaultMaxSeriesPerDatabase = 1_000_000
	DefaultMaxValuesPerTag      = 100_000
)

// positive maps the "negative disables" convention of Limits onto the
// engines' "0 = unlimited".
func positive[T int | time.Duration](v T) T { return max(v, 0) }

// Server is an embeddable Kodo gateway: New opens its stores and engines,
// Handler serves it on any listener, Start serves it on Options.Listen.
type Server struct {
	opts    Options
	log     *slog.Logger
	meta    meta.Store
	svc     *service
	handler http.Handler

	mu       sync.Mutex
	httpSrv  *http.Server
	listener net.Listener
	closed   bool
}

// New opens the metadata store and the engines named by opts. Nothing
// listens until Start.
func New(opts Options) (*Server, error) {
	opts.applyDefaults()
	switch opts.Role {
	case RoleAll, RoleGateway:
	case RoleIndexer:
		if opts.ClickHouseDSN == "" && opts.ElasticURL == "" && !opts.DocumentsViaQueue {
			return nil, errors.New("kodo: -role indexer consumes for a sink: give -clickhouse-dsn or -elastic-url")
		}
		if opts.NSQDAddress == "" && len(opts.NSQLookupdAddresses) == 0 {
			return nil, errors.New("kodo: -role indexer consumes the gateways' queue: give -nsqd-address or -nsqlookupd-address")
		}
	default:
		return nil, fmt.Errorf("kodo: role %q: want %s, %s or %s", opts.Role, RoleAll, RoleGateway, RoleIndexer)
	}
	if opts.DefaultRP != "" {
		if _, ok := opts.RetentionPolicies[opts.DefaultRP]; !ok {
			return nil, fmt.Errorf("kodo: default RP %q is not among the configured retention policies", opts.DefaultRP)
		}
	}
	if opts.AdminKey == "" && !opts.InsecureNoAdminKey && !loopbackListen(opts.Listen) {
		return nil, fmt.Errorf("kodo: refusing to listen on %s without an admin key: management (creating workspaces, reading every database) would be guarded by the client address alone; set -admin-key, listen on a loopback address, or pass -insecure-no-admin-key to accept this", opts.Listen)
	}
	browsers, err := newBrowserPolicy(&opts)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(opts.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("kodo: data dir: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	store, err := openMeta(ctx, opts.MetaDSN, opts.Logger)
	if err != nil {
		return nil, err
	}
	s := &Server{opts: opts, log: opts.Logger, meta: store}
	svc, err := newService(ctx, &s.opts, store)
	if err != nil {
		store.Close()
		return nil, err
	}
	s.svc = svc
	routes := httpx.LimitBodyRate(svc.routes(), httpx.BodyRate{Grace: opts.Limits.BodyReadTimeout, MinRate: opts.Limits.BodyMinRate})
	s.handler = httpx.Wrap(browsers.wrap(svc.fail, svc.authLimit(svc.replayRelease(routes))), s.log, func(w http.ResponseWriter, r *http.Request) {
		svc.respondError(w, r, Errorf(kodoapi.ErrInternal, "internal error; the trace id identifies it in the server log"))
	})
	return s, nil
}

func openMeta(ctx context.Context, dsn string, log *slog.Logger) (meta.Store, error) {
	switch {
	case strings.HasPrefix(dsn, "sqlite:"):
		path := strings.TrimPrefix(dsn, "sqlite:")
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, fmt.Errorf("kodo: meta dir: %w", err)
		}
		st, err := sqlite.Open(ctx, path, log)
		if err != nil {
			return nil, fmt.Errorf("kodo: open sqlite metadata %s: %w", path, err)
		}
		return st, nil
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		st, err := postgres.Open(ctx, dsn, log)
		if err != nil {
			return nil, fmt.Errorf("kodo: open postgres metadata: %w", err)
		}
		return st, nil
	default:
		return nil, fmt.Errorf("kodo: -meta-dsn %q: want sqlite:PATH or postgres://...", dsn)
	}
}

// Handler serves the whole API (/v1, /v4 and operations endpoints).
func (s *Server) Handler() http.Handler { return s.handler }

// Start listens on Options.Listen and serves in the background. It returns
// once the listener is bound, or the bind error.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("kodo: server is shut down")
	}
	if s.httpSrv != nil {
		return errors.New("kodo: server already started")
	}
	ln, err := net.Listen("tcp", s.opts.Listen)
	if err != nil {
		return fmt.Errorf("kodo: listen %s: %w", s.opts.Listen, err)
	}
	s.listener = ln
	s.httpSrv = &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: s.opts.Limits.ReadHeaderTimeout,
		MaxHeaderBytes:    64 << 10,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	go func() {
		if err := s.httpSrv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("http server stopped", "err", err)
		}
	}()
	s.log.Info("kodo listening", "addr", ln.Addr().String(), "data", s.opts.DataDir)
	return nil
}

// Addr is the bound address after Start (useful with port 0), else nil.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.listener == nil {
		return nil
	}
	return s.listener.Addr()
}

// ErrShutdownAbandoned is returned by Shutdown when its context ended
// before the engines and stores closed (e.g. the engine was in the middle
// of dropping a large measurement). The process may exit: every
// acknowledged write is in the WAL and the drop resumes at the next start.
var ErrShutdownAbandoned = errors.New("kodo: shutdown bound reached; engines and stores left unclosed")

// Shutdown stops accepting requests, lets in-flight ones (writes included)
// finish, then closes engines and stores, all within ctx: requests get two
// thirds of the time left, the rest is kept for closing. What has not
// closed when ctx ends is abandoned (an engine mid-way through a large
// measurement drop does not close until the drop is done) and Shutdown
// returns an error saying so; nothing acknowledged is lost, since every
// acknowledged write is in the engine's WAL, and pending drops resume at
// the next start.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	srv := s.httpSrv
	s.mu.Unlock()
	var errs []error
	if srv != nil {
		httpCtx := ctx
		if dl, ok := ctx.Deadline(); ok {
			var cancel context.CancelFunc
			httpCtx, cancel = context.WithDeadline(ctx, time.Now().Add(time.Until(dl)*2/3))
			defer cancel()
		}
		if err := srv.Shutdown(httpCtx); err != nil {
			errs = append(errs, fmt.Errorf("http shutdown: %w", err))
			_ = srv.Close() // cut the connections of requests that did not finish
		}
	}
	done := make(chan error, 1)
	go func() {
		err := s.svc.close(ctx)
		if cerr := s.meta.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("meta close: %w", cerr))
		}
		done <- err
	}()
	select {
	case err := <-done:
		errs = append(errs, err)
	case <-ctx.Done():
		s.log.Error("shutdown bound reached: engines and stores left unclosed; acknowledged writes are in the WAL and pending drops resume at the next start", "err", ctx.Err())
		errs = append(errs, fmt.Errorf("%w: %w", ErrShutdownAbandoned, ctx.Err()))
	}
	return errors.Join(errs...)
}
