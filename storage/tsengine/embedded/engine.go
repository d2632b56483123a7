package embedded

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/influxdata/influxdb/coordinator"
	"github.com/influxdata/influxdb/models"
	"github.com/influxdata/influxdb/monitor"
	"github.com/influxdata/influxdb/query"
	"github.com/influxdata/influxdb/services/continuous_querier"
	"github.com/influxdata/influxdb/services/meta"
	"github.com/influxdata/influxdb/services/retention"
	"github.com/influxdata/influxdb/toml"
	"github.com/influxdata/influxdb/tsdb"
	"github.com/influxdata/influxql"
	"go.uber.org/zap"

	// Register the storage engine and both indexes with tsdb.
	_ "github.com/influxdata/influxdb/tsdb/engine"
	_ "github.com/influxdata/influxdb/tsdb/index"

	"github.com/kodo-project/kodo/storage/tsengine"
)

// Options tune the embedded engine. The zero value is a sound default.
type Options struct {
	// Logger receives InfluxDB's logs (its info level arrives as debug).
	// nil discards them.
	Logger *slog.Logger
	// WALFsyncDelay lets concurrent writes share one WAL fsync. Every
	// WritePoints still waits for the fsync that covers it, so a delay
	// trades latency for throughput, never durability. 0 fsyncs at once.
	WALFsyncDelay time.Duration
	// Index is the series index of new shards: "tsi1" (default, on disk,
	// suits many databases) or "inmem".
	Index string
	// CQRunInterval is how often continuous queries are checked (default 1s).
	CQRunInterval time.Duration
	// DisableContinuousQueries stops the continuous query service.
	DisableContinuousQueries bool
	// RetentionCheckInterval is how often expired shards are dropped
	// (default 30m).
	RetentionCheckInterval time.Duration
	// QueryTimeout bounds every query on top of its context (0 = none),
	// DROP and DELETE included, which InfluxDB does not stop when killed.
	QueryTimeout time.Duration
	// SelectTimeout bounds every SELECT the engine runs, the continuous
	// querier's runs included, which no caller's context covers
	// (0 = none). It is checked once a second.
	SelectTimeout time.Duration
	// MaxConcurrentQueries, MaxSelectPointN, MaxSelectSeriesN and
	// MaxSelectBucketsN are InfluxDB's query limits (0 = unlimited).
	MaxConcurrentQueries int
	MaxSelectPointN      int
	MaxSelectSeriesN     int
	MaxSelectBucketsN    int

	// Write-path bounds (0 = unlimited). MaxShardsPerDatabase caps the
	// live shard groups of one database, over all its policies: each keeps
	// files open, so points spread over many time windows would exhaust
	// descriptors. MaxSeriesPerDatabase and MaxValuesPerTag are InfluxDB's
	// cardinality limits (its tsi1 index does not enforce them, so the
	// engine does); a write may lower or raise them for its database with
	// tsengine.WithWriteLimits.
	MaxShardsPerDatabase int
	MaxSeriesPerDatabase int
	MaxValuesPerTag      int

	// Faults.
	// MinFreeBytes is the free space kept in reserve on the data and WAL
	// directories: writes are refused with tsengine.ErrDiskFull below it,
	// so InfluxDB never fails for lack of space half-way through a write
	// (see diskfull.go). 0 means DefaultMinFreeBytes; negative disables
	// the check.
	MinFreeBytes int64
	// IdleShardTimeout closes a shard no call used for this long, to bound
	// open file descriptors; it opens again on use (see idle.go). 0 means
	// DefaultIdleShardTimeout; negative keeps every shard open.
	IdleShardTimeout time.Duration

	// Memory. CacheSnapshotBytes is the size of a shard's cache of
	// written points past which it is snapshotted to a TSM file
	// (InfluxDB's cache-snapshot-memory-size). Every active shard's cache
	// is in the heap, boxed value by value. 0 means
	// DefaultCacheSnapshotBytes.
	CacheSnapshotBytes int64
}

// DefaultCacheSnapshotBytes is a sixth of InfluxDB's 25 MB: under the
// 4-client write benchmark it took peak RSS from 1.7 to 0.8 GiB at the
// same CPU per point (BENCHMARKS.md), and a gateway holds the caches of
// every active workspace's shard.
const DefaultCacheSnapshotBytes = 4 << 20

// DefaultMinFreeBytes leaves room for a WAL segment (10 MiB), cache
// snapshots and the metadata files once writes are refused.
const DefaultMinFreeBytes = 100 << 20

// Engine is InfluxDB 1.8 running in-process. It implements tsengine.Engine.
type Engine struct {
	dir  string
	log  *slog.Logger
	lock *dirLock

	meta     *meta.Client
	store    *tsdb.Store
	writer   *coordinator.PointsWriter
	executor *query.Executor
	monitor  *monitor.Monitor
	services []service
	stopDog  chan struct{}
	dogDone  chan struct{}

	maxShards int
	shardMu   sync.Mutex // serialises shard group creation under maxShards

	maxSeries, maxValues int // defaults of tsengine.WriteLimits
	guardMu              sync.Mutex
	guards               map[string]*dbGuard // by database

	// mu is read-held by every call, so Close (which takes it for writing)
	// waits for calls in flight and later calls see closed.
	mu     sync.RWMutex
	closed bool

	walDir, dataDir string
	minFree         int64
	// reopen is set when InfluxDB failed for lack of space: the data store
	// must be reopened before it is used again (diskfull.go).
	reopen atomic.Bool
	// storeDown: the store was closed for a reopen that has not succeeded
	// yet; shardsBefore lists its shards. Both under mu.
	storeDown    bool
	shardsBefore map[uint64]struct{ db, rp string }

	// trustedWrites counts the shard writes that took the trusted path
	// (trusted.go).
	trustedWrites atomic.Int64
	knownSeries   knownCounter // over every dbGuard (trusted.go)

	// Idle shards (idle.go).
	idleTimeout  time.Duration
	useMu        sync.Mutex
	lastUse      map[uint64]time.Time
	closedShards map[uint64]shardLoc
	sweepStop    chan struct{}
	sweepDone    chan struct{}
}

var _ tsengine.Engine = (*Engine)(nil)

type service interface {
	Open() error
	Close() error
}

// Open starts the engine on dir, creating dir/meta, dir/data and dir/wal
// as needed. The directory is locked: a second Open of the same dir, in
// this process or another, fails until Close.
func Open(dir string, opts Options) (*Engine, error) {
	if dir == "" {
		return nil, errors.New("embedded: data directory is empty")
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("embedded: %w", err)
	}
	if opts.Index == "" {
		opts.Index = tsdb.TSI1IndexName
	}
	if opts.Index != tsdb.TSI1IndexName && opts.Index != tsdb.InmemIndexName {
		return nil, fmt.Errorf("embedded: unknown index %q: use %q or %q", opts.Index, tsdb.TSI1IndexName, tsdb.InmemIndexName)
	}
	if opts.CQRunInterval <= 0 {
		opts.CQRunInterval = time.Second
	}
	if opts.RetentionCheckInterval <= 0 {
		opts.RetentionCheckInterval = 30 * time.Minute
	}
	if opts.CacheSnapshotBytes < 0 {
		return nil, fmt.Errorf("embedded: negative CacheSnapshotBytes %d", opts.CacheSnapshotBytes)
	}
	if opts.WALFsyncDelay < 0 {
		return nil, fmt.Errorf("embedded: negative WALFsyncDelay %s", opts.WALFsyncDelay)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	metaDir, dataDir, walDir := filepath.Join(dir, "meta"), filepath.Join(dir, "data"), filepath.Join(dir, "wal")
	for _, d := range []string{metaDir, dataDir, walDir} {
		// The meta client fails on a missing dir; create all three up front.
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("embedded: %w", err)
		}
	}
	lock, err := lockDir(filepath.Join(dir, "LOCK"))
	if err != nil {
		return nil, fmt.Errorf("embedded: %s is in use by another engine: %w", dir, err)
	}
	e := &Engine{dir: dir, log: log, lock: lock, maxShards: opts.MaxShardsPerDatabase,
		maxSeries: opts.MaxSeriesPerDatabase, maxValues: opts.MaxValuesPerTag,
		walDir: walDir, dataDir: dataDir, minFree: opts.MinFreeBytes}
	if e.minFree == 0 {
		e.minFree = DefaultMinFreeBytes
	}
	e.idleTimeout = opts.IdleShardTimeout
	if e.idleTimeout == 0 {
		e.idleTimeout = DefaultIdleShardTimeout
	}
	e.lastUse, e.closedShards = map[uint64]time.Time{}, map[uint64]shardLoc{}
	// A write that failed for lack of space (before this engine, or in a
	// crash) may have left a partial WAL entry: cut it off before the WAL
	// appends after it.
	if err := repairWAL(walDir, log.Warn); err != nil {
		log.Warn("repairing WAL segments", "err", err)
	}
	zl := newZapLogger(log)
	if err := e.open(opts, metaDir, dataDir, walDir, zl); err != nil {
		e.shutdown()
		return nil, err
	}
	if e.idleTimeout > 0 {
		e.sweepStop, e.sweepDone = make(chan struct{}), make(chan struct{})
		go e.runSweeper(e.sweepStop, e.sweepDone)
	}
	log.Info("embedded time-series engine open", "dir", dir, "index", opts.Index)
	return e, nil
}

func (e *Engine) open(opts Options, metaDir, dataDir, walDir string, zlog *zap.Logger) error {
	mc := meta.NewConfig()
	mc.Dir = metaDir
	mc.LoggingEnabled = false
	e.meta = meta.NewClient(mc)
	e.meta.WithLogger(zlog)
	if err := e.meta.Open(); err != nil {
		e.meta = nil
		return fmt.Errorf("embedded: open meta store: %w", err)
	}

	dc := tsdb.NewConfig()
	dc.Dir = dataDir
	dc.WALDir = walDir
	dc.WALFsyncDelay = toml.Duration(opts.WALFsyncDelay)
	dc.Index = opts.Index
	dc.TraceLoggingEnabled = false
	dc.CacheSnapshotMemorySize = toml.Size(DefaultCacheSnapshotBytes)
	if opts.CacheSnapshotBytes > 0 {
		dc.CacheSnapshotMemorySize = toml.Size(opts.CacheSnapshotBytes)
	}
	if opts.IdleShardTimeout > 0 && time.Duration(dc.CacheSnapshotWriteColdDuration) > opts.IdleShardTimeout/2 {
		// Snapshot a shard's cache before it counts as idle, so it can close.
		dc.CacheSnapshotWriteColdDuration = toml.Duration(opts.IdleShardTimeout / 2)
	}
	if err := dc.Validate(); err != nil {
		return fmt.Errorf("embedded: %w", err)
	}
	store := tsdb.NewStore(dataDir)
	store.EngineOptions.Config = dc
	store.EngineOptions.EngineVersion = dc.Engine
	store.EngineOptions.IndexVersion = dc.Index
	// InfluxDB's shard monitor (freeing idle shards' caches, logging
	// cardinality warnings) is off: its goroutine outlives Store.Close
	// (1.8.10 marks it done as it starts), so reopening the store after a
	// full disk would race with it. Idle shards are closed by Kodo instead
	// (Options.IdleShardTimeout), and the cardinality limits are Kodo's.
	store.EngineOptions.MonitorDisabled = true
	store.WithLogger(zlog)
	if err := store.Open(); err != nil {
		return fmt.Errorf("embedded: open data store: %w", err)
	}
	e.store = store

	e.writer = coordinator.NewPointsWriter()
	e.writer.TSDBStore = idleWriterStore{e}
	e.writer.MetaClient = e.meta
	e.writer.WithLogger(zlog)
	if err := e.writer.Open(); err != nil {
		e.writer = nil
		return fmt.Errorf("embedded: open points writer: %w", err)
	}

	e.monitor = monitor.New(statsReporter{e}, monitor.Config{StoreEnabled: false})
	e.monitor.WithLogger(zlog)
	e.monitor.Version = "1.8.10"

	e.executor = query.NewExecutor()
	e.executor.StatementExecutor = &coordinator.StatementExecutor{
		MetaClient:  e.meta,
		TaskManager: e.executor.TaskManager,
		TSDBStore:   deletingStore{store, e},
		ShardMapper: &coordinator.LocalShardMapper{
			MetaClient: e.meta,
			TSDBStore:  idleShardGroups{e, coordinator.LocalTSDBStore{Store: store}},
		},
		Monitor:           e.monitor,
		PointsWriter:      e.writer,
		MaxSelectPointN:   opts.MaxSelectPointN,
		MaxSelectSeriesN:  opts.MaxSelectSeriesN,
		MaxSelectBucketsN: opts.MaxSelectBucketsN,
	}
	e.executor.TaskManager.QueryTimeout = opts.QueryTimeout
	e.executor.TaskManager.MaxConcurrentQueries = opts.MaxConcurrentQueries
	e.executor.WithLogger(zlog)
	if err := e.monitor.Open(); err != nil {
		return fmt.Errorf("embedded: open monitor: %w", err)
	}

	if !opts.DisableContinuousQueries {
		cq := continuous_querier.NewService(continuous_querier.Config{
			Enabled:     true,
			LogEnabled:  true,
			RunInterval: toml.Duration(opts.CQRunInterval),
		})
		cq.MetaClient = e.meta
		cq.QueryExecutor = e.executor
		cq.WithLogger(zlog)
		e.services = append(e.services, cq)
	}
	rs := retention.NewService(retention.Config{Enabled: true, CheckInterval: toml.Duration(opts.RetentionCheckInterval)})
	rs.MetaClient = e.meta
	rs.TSDBStore = idleRetentionStore{e}
	rs.WithLogger(zlog)
	e.services = append(e.services, rs)
	for i, s := range e.services {
		if err := s.Open(); err != nil {
			e.services = e.services[:i]
			return fmt.Errorf("embedded: open service: %w", err)
		}
	}
	if opts.SelectTimeout > 0 {
		e.stopDog, e.dogDone = make(chan struct{}), make(chan struct{})
		go func() { defer close(e.dogDone); e.selectWatchdog(opts.SelectTimeout, time.Second, e.stopDog) }()
	}
	return nil
}

// Close stops the engine after the calls in flight: services first, then
// the points writer, the query executor, the data store and the meta store.
func (e *Engine) Close() error {
	// Kill the running queries first (continuous query runs included,
	// which hold up the continuous querier's Close, and the calls in
	// flight that Lock waits for), so Close is not held up by a long
	// query. Later queries fail as the engine shutting down.
	if e.executor != nil {
		_ = e.executor.TaskManager.Close()
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil
	}
	e.closed = true
	if e.sweepStop != nil {
		close(e.sweepStop)
		e.mu.Unlock() // a sweep in progress holds the shared lock
		<-e.sweepDone
		e.mu.Lock()
	}
	err := e.shutdown()
	e.log.Info("embedded time-series engine closed", "dir", e.dir)
	return err
}

func (e *Engine) shutdown() error {
	var errs []error
	if e.stopDog != nil {
		close(e.stopDog)
		<-e.dogDone
	}
	for i := len(e.services) - 1; i >= 0; i-- {
		errs = append(errs, e.services[i].Close())
	}
	if e.monitor != nil {
		errs = append(errs, e.monitor.Close())
	}
	if e.writer != nil {
		errs = append(errs, e.writer.Close())
	}
	if e.executor != nil {
		errs = append(errs, e.executor.Close())
	}
	if e.store != nil {
		errs = append(errs, e.store.Close())
	}
	if e.meta != nil {
		errs = append(errs, e.meta.Close())
	}
	if e.lock != nil {
		errs = append(errs, e.lock.release())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("embedded: close: %w", err)
	}
	return nil
}

// enter marks a call in flight; it fails once the engine is closed.
func (e *Engine) enter() error {
	e.mu.RLock()
	if e.closed {
		e.mu.RUnlock()
		return fmt.Errorf("%w: embedded engine at %s is closed", tsengine.ErrUnavailable, e.dir)
	}
	return nil
}

func (e *Engine) leave() { e.mu.RUnlock() }

// Ping reports whether the engine is open.
func (e *Engine) Ping(ctx context.Context) error {
	if err := e.enter(); err != nil {
		return err
	}
	defer e.leave()
	return ctx.Err()
}

// CreateDatabase creates db (with InfluxDB's "autogen" policy) if needed
// and makes every listed retention policy exist with its duration.
func (e *Engine) CreateDatabase(ctx context.Context, db string, rps []tsengine.RetentionPolicy) error {
	if err := tsengine.ValidateRetentionPolicies(db, rps); err != nil {
		return err
	}
	if err := e.enterSound(); err != nil {
		return err
	}
	defer e.leave()
	if err := ctx.Err(); err != nil {
		return err
	}
	dbi := e.meta.Database(db)
	if dbi == nil {
		if err := e.checkSpace(); err != nil {
			return err
		}
		var err error
		if dbi, err = e.meta.CreateDatabase(db); err != nil {
			if f := faultError("create database "+db, err); f != nil {
				return f
			}
			return fmt.Errorf("embedded: create database %q: %w", db, err)
		}
	}
	for _, rp := range rps {
		d, sgd := rp.Duration, tsengine.ShardGroupDuration(rp.Duration)
		cur := dbi.RetentionPolicy(rp.Name)
		var err error
		switch {
		case cur == nil:
			replicas := 1
			_, err = e.meta.CreateRetentionPolicy(db, &meta.RetentionPolicySpec{
				Name: rp.Name, Duration: &d, ShardGroupDuration: sgd, ReplicaN: &replicas,
			}, rp.Default)
		case cur.Duration != d || cur.ShardGroupDuration != sgd:
			err = e.meta.UpdateRetentionPolicy(db, rp.Name, &meta.RetentionPolicyUpdate{Duration: &d, ShardGroupDuration: &sgd}, rp.Default)
		case rp.Default && dbi.DefaultRetentionPolicy != rp.Name:
			err = e.meta.UpdateRetentionPolicy(db, rp.Name, &meta.RetentionPolicyUpdate{}, true)
		}
		if f := faultError("create retention policy "+rp.Name, err); f != nil {
			return f
		}
		if err != nil {
			return &tsengine.RetentionPolicyError{Database: db, Name: rp.Name, Reason: err.Error()}
		}
	}
	return nil
}

// DropDatabase removes db, its data and its continuous queries.
func (e *Engine) DropDatabase(ctx context.Context, db string) error {
	if db == "" {
		return errors.New("embedded: database name is empty")
	}
	if err := e.enter(); err != nil {
		return err
	}
	err := e.ensureOpen(db) // the store drops open shards cleanly
	e.leave()
	if err != nil {
		return err
	}
	_, err = e.run(ctx, "", &influxql.Query{Statements: influxql.Statements{&influxql.DropDatabaseStatement{Name: db}}}, tsengine.QueryOptions{})
	return err
}

// DropMeasurement removes measurement and its series from every retention
// policy of db. Dropping a measurement that does not exist is not an error.
func (e *Engine) DropMeasurement(ctx context.Context, db, measurement string) error {
	if measurement == "" {
		return errors.New("embedded: measurement name is empty")
	}
	if err := e.enter(); err != nil {
		return err
	}
	exists := e.meta.Database(db) != nil
	e.leave()
	if !exists {
		return fmt.Errorf("%w: %q", tsengine.ErrDatabaseNotFound, db)
	}
	res, err := e.run(ctx, db, &influxql.Query{Statements: influxql.Statements{&influxql.DropMeasurementStatement{Name: measurement}}}, tsengine.QueryOptions{})
	if err != nil {
		return err
	}
	if len(res) > 0 && res[0].Err != "" && !strings.Contains(res[0].Err, "measurement not found") {
		return fmt.Errorf("embedded: drop measurement %q on %q: %s", measurement, db, res[0].Err)
	}
	return nil
}

// statsReporter feeds SHOW STATS without exposing InfluxDB types on Engine.
type statsReporter struct{ e *Engine }

func (r statsReporter) Statistics(tags map[string]string) []models.Statistic {
	var s []models.Statistic
	s = append(s, r.e.executor.Statistics(tags)...)
	s = append(s, r.e.store.Statistics(tags)...)
	s = append(s, r.e.writer.Statistics(tags)...)
	return s
}
