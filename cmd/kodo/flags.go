package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/kodo-project/kodo/kodo"
)

type urls []string

func (u *urls) String() string { return strings.Join(*u, ",") }
func (u *urls) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*u = append(*u, s)
		}
	}
	return nil
}

// config is what the command line and the KODO_* environment say.
type config struct {
	opts            kodo.Options
	level           string
	shutdownTimeout time.Duration
	// Process runtime (perf): profiling, GC target, soft memory limit.
	pprofListen    string
	gcPercent      int
	gcPercentSet   bool
	memoryLimit    int64
	memoryLimitSet bool
}

// parseFlags reads args, with every flag's KODO_* environment twin as its
// default (a flag on the command line wins). The README's configuration
// table lists them.
func parseFlags(args []string, env func(string) (string, bool), stderr io.Writer) (config, error) {
	var c config
	o := &c.opts
	var influx, lookupd, origins, hosts urls
	level := &c.level
	fs := flag.NewFlagSet("kodo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.Listen, "listen", "127.0.0.1:9527", "address to serve on")
	fs.StringVar(&o.DataDir, "data", "./kodo-data", "directory for embedded data")
	fs.StringVar(&o.AdminKey, "admin-key", "", "bearer key for management endpoints (empty: loopback only)")
	fs.Var(&influx, "influx-url", "remote InfluxDB 1.x URL (repeatable)")
	fs.StringVar(&o.ClickHouseDSN, "clickhouse-dsn", "", "ClickHouse DSN (native protocol)")
	fs.StringVar(&o.ClickHouseCluster, "clickhouse-cluster", "", "ClickHouse cluster: tables ON CLUSTER, ReplicatedMergeTree")
	fs.StringVar(&o.ElasticURL, "elastic-url", "", "Elasticsearch URL for documents")
	fs.StringVar(&o.NSQDAddress, "nsqd-address", "", "nsqd (TCP host:port) carrying metrics to the sinks (default with -clickhouse-dsn: an nsqd in this process under <data>/nsq)")
	fs.Var(&lookupd, "nsqlookupd-address", "nsqlookupd HTTP host:port for consumers (repeatable)")
	fs.BoolVar(&o.DocumentsViaQueue, "documents-via-queue", false, "send document writes through the sink queue to the embedded store too (with -elastic-url they always go through it)")
	fs.StringVar(&o.Role, "role", "all", "all (API and sink consumers), gateway (API only) or indexer (sink consumers only)")
	fs.StringVar(&o.FunctionURL, "func-url", "", "function service base URL: log pipeline urls that are paths resolve against it")
	fs.StringVar(&o.MetaDSN, "meta-dsn", "", "metadata store: sqlite:PATH or postgres://... (default sqlite:<data>/meta.db)")
	fs.StringVar(&o.TSDBAccessKey, "tsdb-ak", "", "first Pandora TSDB access key")
	fs.StringVar(&o.TSDBSecretKey, "tsdb-sk", "", "first Pandora TSDB secret key")
	fs.BoolVar(&o.StrictDway, "strict-dway", false, "refuse DWAY signatures that send the secret key as the id")
	fs.DurationVar(&o.Limits.QueryTimeout, "query-timeout", 30*time.Second, "longest a query may run")
	fs.Int64Var(&o.Limits.MaxBodyBytes, "max-body-bytes", 32<<20, "largest request body as sent")
	fs.Int64Var(&o.Limits.MaxDecompressedBytes, "max-decompressed-bytes", 128<<20, "largest gzip body after decompression")
	fs.IntVar(&o.Limits.MaxConcurrentWrites, "max-concurrent-writes", 32, "writes served at once; more wait, then get 429")
	fs.IntVar(&o.Limits.MaxConcurrentQueries, "max-concurrent-queries", 32, "queries served at once; more wait, then get 429")
	// Query and CQ cost (h-query); reasons at kodo.DefaultMaxSelectBuckets.
	fs.IntVar(&o.Limits.MaxSelectBuckets, "max-select-buckets", kodo.DefaultMaxSelectBuckets, "GROUP BY time buckets one SELECT may make; refused up front when the time range shows it")
	fs.IntVar(&o.Limits.MaxSelectPoints, "max-select-points", kodo.DefaultMaxSelectPoints, "points one SELECT may read (embedded engine)")
	fs.IntVar(&o.Limits.MaxSelectSeries, "max-select-series", kodo.DefaultMaxSelectSeries, "series one SELECT may read (embedded engine)")
	fs.Int64Var(&o.Limits.MaxQueryAnswerBytes, "max-query-answer-bytes", kodo.DefaultMaxQueryAnswerBytes, "answer one query may hold in memory; the query gate reserves it per query")
	fs.DurationVar(&o.Limits.MinCQEvery, "min-cq-every", time.Minute, "shortest interval between two runs of a continuous query")
	fs.DurationVar(&o.Limits.MaxCQResampleFor, "max-cq-resample-for", kodo.DefaultMaxCQResampleFor, "longest time range one continuous query run reads (RESAMPLE FOR)")
	// Write path: future points, shards and cardinality (negative = no bound).
	fs.DurationVar(&o.Limits.MaxFuture, "max-future", kodo.DefaultMaxFuture, "refuse points dated more than this ahead of the server clock")
	fs.IntVar(&o.Limits.MaxShardsPerDatabase, "max-shards-per-db", kodo.DefaultMaxShardsPerDatabase, "live shard groups per database (embedded engine); points needing another are refused")
	fs.IntVar(&o.Limits.MaxSeriesPerDatabase, "max-series-per-db", kodo.DefaultMaxSeriesPerDatabase, "series per database; a workspace may override it")
	fs.IntVar(&o.Limits.MaxValuesPerTag, "max-values-per-tag", kodo.DefaultMaxValuesPerTag, "values of one tag key per measurement; a workspace may override it")
	// Admission gates: the bytes they hold include decompressed bodies.
	fs.Int64Var(&o.Limits.MaxInflightBytes, "max-inflight-bytes", 512<<20, "body bytes (decompressed included) that admitted writes, and admitted queries, may hold at once; more wait, then get 429")
	fs.DurationVar(&o.Limits.QueueWait, "queue-wait", 2*time.Second, "longest a request waits for a gate before 429 (503 on /v4)")
	// Slow clients: header and body read time.
	fs.DurationVar(&o.Limits.ReadHeaderTimeout, "read-header-timeout", 10*time.Second, "longest a client may take to send the request line and headers")
	fs.DurationVar(&o.Limits.BodyReadTimeout, "body-read-timeout", 10*time.Second, "time every request body gets before -body-min-rate applies")
	fs.Int64Var(&o.Limits.BodyMinRate, "body-min-rate", 64<<10, "bytes/s a request body must average after -body-read-timeout, or it is cut (408)")
	fs.StringVar(level, "log-level", "info", "debug, info, warn or error")
	// Trust: browsers, workspace secrets, replay, failed authentications.
	fs.Var(&origins, "allowed-origins", "browser origins (scheme://host[:port]) that may call management without an admin key (repeatable)")
	fs.Var(&hosts, "allowed-hosts", "Host names management answers without an admin key, besides loopback and the listen host (repeatable)")
	fs.BoolVar(&o.InsecureNoAdminKey, "insecure-no-admin-key", false, "allow a non-loopback -listen without -admin-key")
	fs.DurationVar(&o.ReplayWindow, "replay-cache", 0, "refuse a signature seen before within this window, shared through the metadata store (0: off; 30m covers the Date skew)")
	fs.DurationVar(&o.SecretOverlap, "secret-overlap", 24*time.Hour, "how long a rotated-out workspace secret still verifies, unless the rotate call says")
	fs.Float64Var(&o.Limits.AuthFailRate, "auth-fail-rate", 1, "failed authentications and token checks per second per client address (negative: no limit)")
	fs.IntVar(&o.Limits.AuthFailBurst, "auth-fail-burst", 30, "failed authentications per client address before -auth-fail-rate applies")
	// Faults: shutdown bound, disk reserve, idle shards.
	fs.DurationVar(&o.Limits.IdleShardTimeout, "idle-shard-timeout", 15*time.Minute, "close an embedded-engine shard unused this long (it reopens on use), bounding open files (negative: never)")
	fs.Int64Var(&o.Limits.CacheSnapshotBytes, "cache-snapshot-bytes", kodo.DefaultCacheSnapshotBytes, "size of an embedded-engine shard's cache of written points past which it is snapshotted to disk (InfluxDB's cache-snapshot-memory-size); every active shard's cache is in memory")
	fs.Int64Var(&o.Limits.MinFreeDiskBytes, "min-free-disk-bytes", 100<<20, "free space kept on the embedded engine's disk: below it writes get 507 before the engine can fail half-way (negative: off)")
	fs.DurationVar(&c.shutdownTimeout, "shutdown-timeout", 30*time.Second, "longest a shutdown may take (requests get 2/3, closing the rest; what is left is abandoned, the WAL keeps every acknowledged write)")
	// Limits of one request's text.
	fs.IntVar(&o.Limits.MaxLineBytes, "max-line-bytes", 1<<20, "longest line-protocol line; longer lines are refused with the line named")
	fs.IntVar(&o.Limits.MaxQueryStatements, "max-query-statements", 20, "InfluxQL statements in one request")
	// Process runtime (perf): profiling.
	fs.StringVar(&c.pprofListen, "pprof-listen", "", "loopback address to serve net/http/pprof on, e.g. 127.0.0.1:6060 (empty: off)")
	fs.IntVar(&c.gcPercent, "gc-percent", defaultGCPercent, "Go GC target: heap growth in percent over the live heap before a collection (negative: off); unset, GOGC applies if set")
	fs.Int64Var(&c.memoryLimit, "memory-limit", 0, "soft memory limit in bytes, past which the GC works harder (0: half the machine's or cgroup's memory; negative: none); unset, GOMEMLIMIT applies if set")
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		name := "KODO_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := env(name); ok && envErr == nil {
			if err := fs.Set(f.Name, v); err != nil {
				envErr = fmt.Errorf("%s: %w", name, err)
			}
		}
	})
	if envErr != nil {
		return c, envErr
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	fs.Visit(func(f *flag.Flag) { // set on the command line or by a KODO_* twin
		switch f.Name {
		case "gc-percent":
			c.gcPercentSet = true
		case "memory-limit":
			c.memoryLimitSet = true
		}
	})
	o.InfluxURLs = influx
	o.AllowedOrigins, o.AllowedHosts = origins, hosts
	o.NSQLookupdAddresses = lookupd
	return c, nil
}
