package queue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	gonsq "github.com/nsqio/go-nsq"
	"github.com/nsqio/nsq/nsqd"
)

// slogOutput adapts a *slog.Logger to the Output method that nsqd and
// go-nsq log through. Their lines start with their own level word (nsqd:
// ERROR, WARN; go-nsq: ERR, WRN); info and below arrive at debug, so an
// idle queue does not fill the log.
type slogOutput struct{ log *slog.Logger }

func (o slogOutput) Output(_ int, s string) error {
	head, _, _ := strings.Cut(strings.TrimSpace(s), " ")
	switch {
	case strings.Contains(head, "ERR") || strings.Contains(head, "FATAL"):
		o.log.Error(s)
	case strings.Contains(head, "WARN") || strings.Contains(head, "WRN"):
		o.log.Warn(s)
	default:
		o.log.Debug(s)
	}
	return nil
}

// DaemonOptions are the nsqd settings Kodo runs (in-process, or as the
// kodo-nsqd command) and recommends for an external nsqd:
//
//   - mem-queue-size 0: every message goes to the disk queue before nsqd
//     answers the publish, so a crash or SIGKILL of nsqd loses no
//     acknowledged message (the write is in the OS page cache);
//   - sync-every and sync-timeout at nsqd's defaults (2500 messages, 2s):
//     the queue's read position is written to disk at most every 2s, so
//     after a crash the messages nsqd was handing to consumers are
//     delivered again (the sinks are idempotent) rather than lost in
//     transit. What this does not cover is a crash of the machine: the
//     messages of the last sync-timeout may be lost with the page cache
//     (the engine keeps those points durably).
func DaemonOptions(dataPath, tcpAddr, httpAddr string) *nsqd.Options {
	opts := nsqd.NewOptions()
	opts.DataPath = dataPath
	opts.TCPAddress = tcpAddr
	opts.HTTPAddress = httpAddr
	opts.HTTPSAddress = ""
	opts.MemQueueSize = 0
	opts.SyncEvery = 1
	opts.LogLevel = nsqd.LOG_WARN
	return opts
}

// Daemon is nsqd running in this process.
type Daemon struct {
	n    *nsqd.NSQD
	done chan error
}

// StartDaemon runs nsqd with its queue under dir, listening on a free
// loopback port (the gateway and in-process consumers are its only
// clients), with DaemonOptions.
func StartDaemon(dir string, log *slog.Logger) (*Daemon, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("queue: nsqd data dir: %w", err)
	}
	opts := DaemonOptions(dir, "127.0.0.1:0", "127.0.0.1:0")
	opts.Logger = slogOutput{log}
	n, err := nsqd.New(opts)
	if err != nil {
		return nil, fmt.Errorf("queue: start nsqd: %w", err)
	}
	if err := n.LoadMetadata(); err != nil {
		n.Exit()
		return nil, fmt.Errorf("queue: nsqd metadata: %w", err)
	}
	d := &Daemon{n: n, done: make(chan error, 1)}
	go func() { d.done <- n.Main() }()
	return d, nil
}

// Addr is the nsqd TCP address (host:port) for publishers and consumers.
func (d *Daemon) Addr() string { return d.n.RealTCPAddr().String() }

// Close stops nsqd, writing in-flight and queued messages to disk.
func (d *Daemon) Close() error {
	d.n.Exit()
	select {
	case err := <-d.done:
		if err != nil && !errors.Is(err, net.ErrClosed) && !strings.Contains(err.Error(), "use of closed network connection") {
			return err
		}
	case <-time.After(10 * time.Second):
		return errors.New("queue: nsqd did not stop within 10s")
	}
	return nil
}

// Publisher publishes messages to one nsqd.
//
// nsqd keeps every published message on disk, but a message it is handing
// from its disk queue to a consumer at the moment it is killed is lost
// (its read position is already saved). Publisher covers that hop for
// recent writes: it keeps the write messages of the last ReplayWindow
// and publishes them again once nsqd answers after an outage (a failed
// publish or ping). The sinks are idempotent, so a message that did
// arrive is not applied twice.
type Publisher struct {
	p      *gonsq.Producer
	log    *slog.Logger
	window time.Duration

	mu      sync.Mutex
	recent  []sent // write messages of the last window, oldest first
	bytes   int
	outage  bool // a publish or ping failed since the last replay
	replays sync.WaitGroup
	stop    chan struct{}
	stopped sync.Once
}

type sent struct {
	at    time.Time
	topic string
	db    string
	body  []byte
}

// ReplayWindow is how long a published write is kept for a replay after
// an nsqd outage, and maxReplayBytes bounds what is kept.
const (
	ReplayWindow   = time.Minute
	maxReplayBytes = 64 << 20
)

// NewPublisher connects (lazily) to the nsqd at addr.
func NewPublisher(addr string, log *slog.Logger) (*Publisher, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg := gonsq.NewConfig()
	p, err := gonsq.NewProducer(addr, cfg)
	if err != nil {
		return nil, fmt.Errorf("queue: producer for %s: %w", addr, err)
	}
	p.SetLogger(slogOutput{log}, gonsq.LogLevelWarning)
	pub := &Publisher{p: p, log: log, window: ReplayWindow, stop: make(chan struct{})}
	go pub.watch()
	return pub, nil
}

// ErrUnavailable wraps a publish that nsqd did not acknowledge; the
// caller answers 503 (the points are in the engine: a retry is harmless,
// the sinks are idempotent).
var ErrUnavailable = errors.New("queue unavailable")

// Publish sends m to topic and returns once nsqd acknowledged it, or
// when ctx ends.
func (p *Publisher) Publish(ctx context.Context, topic string, m Message) error {
	body, err := Encode(m)
	if err != nil {
		return err
	}
	if err := p.send(ctx, topic, body); err != nil {
		p.mu.Lock()
		p.outage = true
		p.mu.Unlock()
		return fmt.Errorf("%w: publish to nsqd: %v", ErrUnavailable, err)
	}
	p.remember(topic, m, body)
	return nil
}

func (p *Publisher) send(ctx context.Context, topic string, body []byte) error {
	done := make(chan *gonsq.ProducerTransaction, 1)
	if err := p.p.PublishAsync(topic, body, done); err != nil {
		return err
	}
	select {
	case t := <-done:
		return t.Error
	case <-ctx.Done():
		return ctx.Err()
	}
}

// remember keeps a published write for a replay, and starts the replay
// when this publish is the first to succeed after an outage. A delete
// forgets the writes of its database kept so far: replaying them after it
// would bring back what it deleted.
func (p *Publisher) remember(topic string, m Message, body []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if m.Op == OpWrite {
		p.recent = append(p.recent, sent{at: now, topic: topic, db: m.DB, body: body})
		p.bytes += len(body)
	} else {
		kept := p.recent[:0]
		p.bytes = 0
		for _, e := range p.recent {
			if e.db != m.DB {
				kept = append(kept, e)
				p.bytes += len(e.body)
			}
		}
		clear(p.recent[len(kept):])
		p.recent = kept
	}
	drop := 0
	for drop < len(p.recent) && (now.Sub(p.recent[drop].at) > p.window || p.bytes > maxReplayBytes) {
		p.bytes -= len(p.recent[drop].body)
		drop++
	}
	clear(p.recent[:drop])
	p.recent = p.recent[drop:]
	if p.outage {
		p.outage = false
		p.startReplay()
	}
}

// startReplay publishes again every kept write; p.mu is held.
func (p *Publisher) startReplay() {
	batch := append([]sent(nil), p.recent...)
	p.replays.Add(1)
	go func() {
		defer p.replays.Done()
		n := 0
		for _, e := range batch {
			select {
			case <-p.stop:
				return
			default:
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			err := p.send(ctx, e.topic, e.body)
			cancel()
			if err != nil {
				p.mu.Lock()
				p.outage = true // nsqd went away again: replay once more later
				p.mu.Unlock()
				p.log.Warn("queue: replay after an nsqd outage stopped", "sent", n, "kept", len(batch), "err", err)
				return
			}
			n++
		}
		if n > 0 {
			p.log.Info("queue: writes of the last minute published again after an nsqd outage", "messages", n)
		}
	}()
}

// watch pings nsqd every second, so an outage between two publishes (a
// restart of nsqd while no write came) still leads to a replay.
func (p *Publisher) watch() {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
		}
		err := p.p.Ping()
		p.mu.Lock()
		switch {
		case err != nil:
			p.outage = true
		case p.outage:
			p.outage = false
			p.startReplay()
		}
		p.mu.Unlock()
	}
}

// Ping checks the connection to nsqd.
func (p *Publisher) Ping() error { return p.p.Ping() }

// Close stops the producer after in-flight publishes.
func (p *Publisher) Close() {
	p.stopped.Do(func() { close(p.stop) })
	p.replays.Wait()
	p.p.Stop()
}

// Apply applies one message to a sink. It must be idempotent: a message
// may arrive more than once. An error is retried, with back-off.
type Apply func(ctx context.Context, m Message) error

// ConsumerOptions configure NewConsumer.
type ConsumerOptions struct {
	// NSQDAddrs and LookupdAddrs name where the topic lives: nsqd TCP
	// addresses, or nsqlookupd HTTP addresses that list them.
	NSQDAddrs    []string
	LookupdAddrs []string
	// Concurrency is how many messages are applied at once (default 2).
	Concurrency int
	// ApplyTimeout bounds one attempt at a message (default 30s); a
	// failed or timed-out attempt is retried with back-off.
	ApplyTimeout time.Duration
	Logger       *slog.Logger
}

// Consumer applies the messages of one topic to a sink.
type Consumer struct {
	c   *gonsq.Consumer
	log *slog.Logger
}

// NewConsumer starts consuming topic on channel (one channel per sink:
// every sink gets every message) and applies each message with apply. A
// message the sink refuses for its content (it cannot be decoded) is
// logged and dropped; any other failure is retried without limit, with
// back-off, so an outage delays the sink and loses nothing.
func NewConsumer(topic, channel string, apply Apply, opt ConsumerOptions) (*Consumer, error) {
	if opt.Concurrency <= 0 {
		opt.Concurrency = 2
	}
	if opt.ApplyTimeout <= 0 {
		opt.ApplyTimeout = 30 * time.Second
	}
	log := opt.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg := gonsq.NewConfig()
	cfg.MaxInFlight = opt.Concurrency
	cfg.MaxAttempts = 0 // retry for as long as the sink is down
	cfg.DefaultRequeueDelay = time.Second
	cfg.MaxRequeueDelay = 30 * time.Second
	cfg.MaxBackoffDuration = 30 * time.Second
	cfg.LookupdPollInterval = 5 * time.Second
	c, err := gonsq.NewConsumer(topic, channel, cfg)
	if err != nil {
		return nil, fmt.Errorf("queue: consumer %s/%s: %w", topic, channel, err)
	}
	c.SetLogger(slogOutput{log}, gonsq.LogLevelWarning)
	cons := &Consumer{c: c, log: log}
	c.AddConcurrentHandlers(gonsq.HandlerFunc(func(m *gonsq.Message) error {
		return cons.apply(m, apply, opt.ApplyTimeout)
	}), opt.Concurrency)
	if len(opt.LookupdAddrs) > 0 {
		err = c.ConnectToNSQLookupds(opt.LookupdAddrs)
	} else {
		err = c.ConnectToNSQDs(opt.NSQDAddrs)
	}
	if err != nil {
		c.Stop()
		return nil, fmt.Errorf("queue: consumer %s/%s: connect: %w", topic, channel, err)
	}
	return cons, nil
}

func (c *Consumer) apply(m *gonsq.Message, apply Apply, timeout time.Duration) error {
	msg, err := Decode(m.Body)
	if err != nil {
		c.log.Error("queue: dropping a message that cannot be decoded", "id", string(m.ID[:]), "err", err)
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := apply(ctx, msg); err != nil {
		c.log.Warn("queue: sink failed; the message will be retried", "op", msg.Op, "db", msg.DB, "attempt", m.Attempts, "err", err)
		return err
	}
	return nil
}

// Close stops consuming; messages in flight are requeued by nsqd.
func (c *Consumer) Close() {
	c.c.Stop()
	<-c.c.StopChan
}
