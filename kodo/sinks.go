package kodo

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/kodo-project/kodo/kodo/kodoapi"
	"github.com/kodo-project/kodo/lineproto"
	"github.com/kodo-project/kodo/storage/clickhouse"
	"github.com/kodo-project/kodo/storage/docs"
	"github.com/kodo-project/kodo/storage/queue"
	"github.com/kodo-project/kodo/storage/tsengine"
	"github.com/kodo-project/kodo/tsdb"
)

// Metrics reach the external sinks through NSQ (package queue): the
// write path stores into the engine, then publishes exactly what the
// engine accepted; consumers (in this process, or `kodo -role indexer`
// elsewhere) apply it to ClickHouse. A slow or dead sink delays its copy
// and never blocks or fails ingest.

// metricsTopic is the NSQ topic of metric writes and deletes; each sink
// consumes it on a channel of its own. documentsTopic carries document
// writes to an external document store.
const (
	metricsTopic   = "kodo_metrics"
	documentsTopic = "kodo_documents"
)

// queuesDocuments reports whether document writes go through the queue:
// with an external document store (-elastic-url), or when asked
// (-documents-via-queue) for the embedded one.
func (s *service) queuesDocuments() bool {
	return s.opts.ElasticURL != "" || s.opts.DocumentsViaQueue
}

// Roles of a process (Options.Role).
const (
	RoleAll     = "all"     // gateway and consumers (default)
	RoleGateway = "gateway" // serve the API and publish; no consumers
	RoleIndexer = "indexer" // consumers only
)

// sinkQueue is the publishing side and, with the consumer roles, the
// consumers of this process.
type sinkQueue struct {
	daemon    *queue.Daemon // nil with an external nsqd
	pub       *queue.Publisher
	consumers []*queue.Consumer
}

// openSinks starts the queue when an external sink is configured: an
// in-process nsqd under <data>/nsq unless Options.NSQDAddress names one,
// the publisher, and this process's consumers.
func (s *service) openSinks() error {
	if s.ck == nil && !s.queuesDocuments() {
		return nil
	}
	q := &sinkQueue{}
	addr := s.opts.NSQDAddress
	if addr == "" {
		d, err := queue.StartDaemon(filepath.Join(s.opts.DataDir, "nsq"), s.log.With("component", "nsqd"))
		if err != nil {
			return fmt.Errorf("kodo: %w", err)
		}
		q.daemon, addr = d, d.Addr()
	}
	s.sinks = q
	if s.opts.Role != RoleIndexer {
		pub, err := queue.NewPublisher(addr, s.log.With("component", "nsq-publisher"))
		if err != nil {
			return fmt.Errorf("kodo: %w", err)
		}
		q.pub = pub
	}
	if s.opts.Role == RoleGateway {
		return nil
	}
	consume := func(topic, channel string, apply queue.Apply) error {
		c, err := queue.NewConsumer(topic, channel, apply, queue.ConsumerOptions{
			NSQDAddrs: []string{addr}, LookupdAddrs: s.opts.NSQLookupdAddresses,
			Logger: s.log.With("component", channel+"-consumer"),
		})
		if err != nil {
			return fmt.Errorf("kodo: %w", err)
		}
		q.consumers = append(q.consumers, c)
		return nil
	}
	if s.ck != nil {
		if err := consume(metricsTopic, "clickhouse", ckSink{s.ck, s}.apply); err != nil {
			return err
		}
	}
	if s.queuesDocuments() {
		if err := consume(documentsTopic, "documents", s.applyDocuments); err != nil {
			return err
		}
	}
	return nil
}

// applyDocuments is the documents consumer: the whole write path of
// documents.Service (pipelines included) on a prepared write.
func (s *service) applyDocuments(ctx context.Context, m queue.Message) error {
	if m.Op != queue.OpWriteDocuments {
		s.log.Error("queue: not a document write on the documents topic; dropped", "op", m.Op)
		return nil
	}
	prec, err := lineproto.ParsePrecision(m.Precision)
	if err == nil {
		err = s.docs.Write(ctx, m.DB, docs.Kind(m.Kind), m.Source, m.Lines, prec)
	}
	if err != nil && errors.Is(err, docs.ErrInvalid) {
		// Checked at the gateway: only a store that changed could refuse
		// it now, and no retry will help.
		s.log.Error("queue: a document write was refused; dropped", "workspace", m.DB, "kind", m.Kind, "err", err)
		return nil
	}
	return err
}

func (q *sinkQueue) close() error {
	if q == nil {
		return nil
	}
	for _, c := range q.consumers {
		c.Close()
	}
	if q.pub != nil {
		q.pub.Close()
	}
	if q.daemon != nil {
		return q.daemon.Close()
	}
	return nil
}

// publish hands a message to the sinks. It answers 503 when nsqd does
// not take it: the engine has the points, and the sinks are idempotent,
// so the client's retry is harmless.
func (s *service) publish(ctx context.Context, m queue.Message) error {
	if s.sinks == nil || s.sinks.pub == nil || (s.ck == nil && m.Op != queue.OpWriteDocuments) {
		return nil
	}
	topic := metricsTopic
	if m.Op == queue.OpWriteDocuments {
		topic = documentsTopic
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := s.sinks.pub.Publish(ctx, topic, m); err != nil {
		s.metrics.storeErrors.WithLabelValues("nsq").Inc()
		return &Error{Code: kodoapi.ErrUnavailable, RetryAfter: 1, cause: err,
			Message: "the queue to the sinks (nsqd) did not take the request; retry it: nothing is applied twice"}
	}
	return nil
}

// publishAccepted publishes the points of batch the engine accepted. pw
// is the engine's partial write, if any: when it names the refused points
// (Refused) exactly those are left out. Otherwise the points older than
// their retention policy (retention, 0 for none) are left out by the
// engine's rule; if it refused others without saying which, nothing of
// the batch is published (a sink must never hold a point the engine
// refused) and the gap is logged.
func (s *service) publishAccepted(ctx context.Context, db string, retention time.Duration, batch *lineproto.Batch, pw *tsengine.PartialWriteError) error {
	if s.sinks == nil || s.sinks.pub == nil || s.ck == nil || batch.Len() == 0 {
		return nil
	}
	exact := pw != nil && pw.Refused != nil // the engine named the refused points
	var oldest int64 = -1 << 63
	if retention > 0 {
		oldest = s.now().Add(-retention).UnixNano()
	}
	lines := make([]byte, 0, batch.Len()*64)
	skipped, r := 0, 0
	for i := 0; i < batch.Len(); i++ {
		p := batch.At(i)
		var refused bool
		if exact {
			if refused = r < len(pw.Refused) && pw.Refused[r] == i; refused {
				r++
			}
		} else {
			refused = p.Time < oldest
		}
		if refused {
			skipped++
			continue
		}
		lines = p.AppendLineProtocol(lines, lineproto.Nanosecond)
	}
	if !exact && pw != nil && pw.Dropped > skipped {
		s.metrics.storeErrors.WithLabelValues("sink-skipped").Inc()
		s.log.Warn("a partial write is not copied to the sinks: the engine did not say which points it refused",
			"db", db, "points", batch.Len(), "dropped", pw.Dropped)
		return nil
	}
	if len(lines) == 0 {
		return nil
	}
	return s.publish(ctx, queue.Message{Op: queue.OpWrite, DB: db, Lines: lines})
}

// sinkEngine is the engine the Pandora service writes through: it stores
// into the engine, then hands what the engine accepted, and deletes, to
// the sinks, as the /v1 and InfluxDB write paths do.
type sinkEngine struct {
	tsengine.Engine
	s *service
}

func (e sinkEngine) WritePoints(ctx context.Context, db, rp string, b *lineproto.Batch) error {
	err := e.Engine.WritePoints(ctx, db, rp, b)
	var pw *tsengine.PartialWriteError
	if err != nil && !errors.As(err, &pw) {
		return err
	}
	var retention time.Duration
	if days, ok := strings.CutPrefix(rp, "r"); ok {
		if n, perr := tsdb.ParseRetention(days); perr == nil {
			retention = time.Duration(n) * 24 * time.Hour
		}
	}
	if perr := e.s.publishAccepted(ctx, db, retention, b, pw); perr != nil {
		return perr
	}
	return err
}

func (e sinkEngine) DropMeasurement(ctx context.Context, db, m string) error {
	if err := e.s.publish(ctx, queue.Message{Op: queue.OpDropMeasurement, DB: db, Measurement: m}); err != nil {
		return err
	}
	return e.Engine.DropMeasurement(ctx, db, m)
}

func (e sinkEngine) DropDatabase(ctx context.Context, db string) error {
	if err := e.s.publish(ctx, queue.Message{Op: queue.OpDropDatabase, DB: db}); err != nil {
		return err
	}
	return e.Engine.DropDatabase(ctx, db)
}

// ckSink applies queue messages to ClickHouse.
type ckSink struct {
	ck *clickhouse.Store
	s  *service
}

// apply is the ClickHouse consumer.
func (k ckSink) apply(ctx context.Context, m queue.Message) error {
	switch m.Op {
	case queue.OpWrite:
		return k.WritePoints(ctx, m.DB, m.Lines)
	case queue.OpDropMeasurement:
		return k.DropMeasurement(ctx, m.DB, m.Measurement)
	case queue.OpDropDatabase:
		return k.DropMeasurement(ctx, m.DB, "")
	}
	k.s.log.Error("queue: not a metric operation on the metrics topic; dropped", "op", m.Op)
	return nil
}

func (k ckSink) WritePoints(ctx context.Context, db string, lines []byte) error {
	var b lineproto.Batch
	if err := lineproto.Parse(lines, lineproto.ParseOptions{AllowUnsigned: true,
		Limits: lineproto.Limits{MaxLineBytes: -1, MaxTags: -1, MaxFields: -1}}, &b); err != nil {
		k.s.log.Error("queue: a message's points do not parse; dropped", "db", db, "err", err)
		return nil
	}
	return k.permanent(k.ck.WritePoints(ctx, db, &b), "write", db)
}

func (k ckSink) DropMeasurement(ctx context.Context, db, m string) error {
	err := k.ck.DropTable(ctx, db, m)
	if errors.Is(err, clickhouse.ErrNotFound) {
		return nil // dropped already: deletes are idempotent
	}
	return k.permanent(err, "drop", db)
}

// permanent turns an error no retry can fix (the table's schema refuses
// the data) into a logged drop, so one bad message cannot stall the
// queue behind it; outages and timeouts stay errors and are retried.
func (k ckSink) permanent(err error, op, db string) error {
	if err != nil && errors.Is(err, clickhouse.ErrInvalid) {
		k.s.metrics.storeErrors.WithLabelValues("clickhouse").Inc()
		k.s.log.Error("clickhouse refused a queued "+op+"; it is dropped", "db", db, "err", err)
		return nil
	}
	return err
}
