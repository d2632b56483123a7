package loadgen

import (
	"context"
	"io"
	"log/slog"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Stop reasons of a run.
const (
	StopDuration    = "duration"
	StopRequests    = "requests"
	StopExhausted   = "pool exhausted" // every pre-generated body was sent to every workspace
	StopInterrupted = "interrupted"
)

// Run generates the bodies, prepares the target, runs the load and
// verifies it. The returned Report is complete even when the run saw
// request errors or loss (see Report.Failed); err is for runs that could
// not take place (bad config, setup failure, interruption before the load).
func Run(ctx context.Context, cfg Config, t Target) (*Report, error) {
	cfg.applyDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	var rewriter Rewriter
	if cfg.Mix.Weights[OpRewrite] > 0 {
		rw, ok := t.(Rewriter)
		if !ok {
			return nil, &ConfigError{Field: "mix", Value: cfg.Mix.String(), Msg: "target " + t.Name() + " does not implement the rewrite operation yet"}
		}
		rewriter = rw
	}
	sched := cfg.Mix.Schedule()
	shape := cfg.Shape
	W := cfg.Workspaces

	// Phase 1: bodies, before the clock.
	nBodies := poolSize(cfg, sched)
	L, S := int64(shape.LinesPerBody), int64(shape.Series)
	steps := max((int64(nBodies)*L+S-1)/S, 1)
	interval := max(cfg.Span/time.Duration(steps), 1)
	now := cfg.Now()
	base := now.Add(-time.Minute - cfg.Span).Truncate(time.Second)
	gen, err := NewGenerator(shape, base, interval, cfg.Seed)
	if err != nil {
		return nil, err
	}
	log.Info("generating bodies", "bodies", nBodies, "lines_per_body", L, "series", S, "interval", interval)
	genStart := time.Now()
	pool, err := gen.Generate(ctx, nBodies, cfg.GzipLevel, cfg.MaxPoolBytes)
	if err != nil {
		return nil, err
	}
	rep := &Report{
		Target:  t.Name(),
		Started: now.UTC(),
		Config:  reportConfig(cfg),
		Generation: Generation{
			Bodies: pool.Len(), Seconds: time.Since(genStart).Seconds(),
			RawBytes: pool.RawBytes, WireBytes: pool.WireBytes,
			FirstTime: base.UTC(), Interval: interval,
		},
	}
	if pool.Len() < nBodies {
		log.Warn("pool capped by -max-pool-bytes", "bodies", pool.Len(), "wanted", nBodies)
	}

	// Phase 2: workspaces.
	wss, err := t.Setup(ctx, W)
	if err != nil {
		return nil, err
	}
	query := expandQuery(cfg.Query, shape, base, base.Add(cfg.QueryWindow))

	var sampler *rssSampler
	if cfg.ServerPID > 0 {
		if sampler, err = startRSSSampler(cfg.ServerPID, cfg.SampleInterval); err != nil {
			return nil, err
		}
	}

	// Phase 3: the timed load.
	log.Info("running", "target", t.Name(), "workspaces", W, "concurrency", cfg.Concurrency,
		"duration", cfg.Duration, "requests", cfg.Requests, "mix", cfg.Mix.String())
	var (
		nextReq, nextWrite, nextQuery atomic.Int64
		stopped                       atomic.Bool
		reasonOnce                    sync.Once
		reason                        string
		acked                         = make([]atomic.Int64, W)
	)
	stop := func(why string) {
		reasonOnce.Do(func() { reason = why })
		stopped.Store(true)
	}
	start := time.Now()
	if cfg.Duration > 0 {
		// The deadline stops new requests; those in flight finish so the
		// acknowledged totals are exact.
		timer := time.AfterFunc(cfg.Duration, func() { stop(StopDuration) })
		defer timer.Stop()
	}
	all := make([]*workerStats, cfg.Concurrency)
	var wg sync.WaitGroup
	for w := range all {
		st := newWorkerStats()
		all[w] = st
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stopped.Load() {
				if ctx.Err() != nil {
					stop(StopInterrupted)
					return
				}
				n := nextReq.Add(1) - 1
				if cfg.Requests > 0 && n >= cfg.Requests {
					stop(StopRequests)
					return
				}
				op := sched[n%int64(len(sched))]
				switch op {
				case OpWrite:
					wi := nextWrite.Add(1) - 1
					k := int(wi / int64(W))
					if k >= pool.Len() {
						stop(StopExhausted)
						return
					}
					ws := int(wi % int64(W))
					b := &pool.Bodies[k]
					t0 := time.Now()
					o := t.Write(ctx, wss[ws], b.Gzip)
					st.record(op, time.Since(t0), o)
					st.sentWire += int64(len(b.Gzip))
					if o.OK() {
						acked[ws].Add(int64(b.Lines))
						st.points += int64(b.Lines)
						st.rawBytes += int64(b.RawBytes)
						st.wireBytes += int64(len(b.Gzip))
					}
				case OpQuery, OpRewrite:
					qi := nextQuery.Add(1) - 1
					ws := wss[qi%int64(W)]
					t0 := time.Now()
					var o Outcome
					if op == OpQuery {
						o = t.Query(ctx, ws, query)
					} else {
						o = rewriter.Rewrite(ctx, ws, query)
					}
					st.record(op, time.Since(t0), o)
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if ctx.Err() != nil {
		stop(StopInterrupted)
	}
	if sampler != nil {
		m := sampler.stop()
		rep.Server = &m
	}
	rep.Elapsed = elapsed
	rep.StopReason = reason
	fillLoad(rep, mergeStats(all), elapsed)

	// Phase 4: verification.
	if cfg.Verify && ctx.Err() == nil {
		rep.Verify = verify(ctx, t, wss, acked, shape.Measurement)
	}
	log.Info("done", "stop", reason, "elapsed", elapsed.Round(time.Millisecond), "points_per_sec", int64(rep.PointsPerSec))
	return rep, nil
}

// poolSize is the number of bodies to pre-generate: exactly what the
// requests bound needs, else enough for RateHint points/s for Duration.
func poolSize(cfg Config, sched []OpKind) int {
	if cfg.Mix.Weights[OpWrite] == 0 {
		return 0
	}
	W := int64(cfg.Workspaces)
	var writes int64
	if cfg.Requests > 0 {
		cycle := int64(len(sched))
		per := int64(cfg.Mix.Weights[OpWrite])
		writes = cfg.Requests / cycle * per
		for i := int64(0); i < cfg.Requests%cycle; i++ {
			if sched[i] == OpWrite {
				writes++
			}
		}
	} else {
		pts := float64(cfg.RateHint) * cfg.Duration.Seconds()
		writes = int64(math.Ceil(pts / float64(cfg.Shape.LinesPerBody)))
	}
	n := (writes + W - 1) / W
	return int(min(max(n, 1), 1<<24))
}

// expandQuery fills a query template.
func expandQuery(tmpl string, s Shape, start, end time.Time) string {
	return strings.NewReplacer(
		"{measurement}", s.Measurement,
		"{field}", s.FieldKeys[0],
		"{start}", start.UTC().Format(time.RFC3339Nano),
		"{end}", end.UTC().Format(time.RFC3339Nano),
	).Replace(tmpl)
}

func verify(ctx context.Context, t Target, wss []Workspace, acked []atomic.Int64, measurement string) *Verification {
	v := &Verification{}
	for i, ws := range wss {
		a := acked[i].Load()
		cctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
		found, err := t.Count(cctx, ws, measurement)
		cancel()
		c := WorkspaceCheck{Name: ws.Name, Acked: a, Found: found}
		if err != nil {
			c.Error = err.Error()
			v.Errors++
		}
		v.Workspaces = append(v.Workspaces, c)
		v.Acked += a
		v.Found += found
		if err == nil && found < a {
			v.Lost += a - found
		}
	}
	return v
}

func fillLoad(rep *Report, st *workerStats, elapsed time.Duration) {
	sec := elapsed.Seconds()
	for _, op := range knownOps {
		d := st.lat[op]
		if len(d) == 0 {
			continue
		}
		r := OpReport{Op: op, Requests: int64(len(d)), OK: st.ok[op], Failed: st.failed[op], Latency: Summarize(d)}
		if sec > 0 {
			r.PerSec = float64(r.Requests) / sec
		}
		rep.Ops = append(rep.Ops, r)
	}
	rep.PointsAcked = st.points
	rep.RawBytes = st.rawBytes
	rep.WireBytes = st.wireBytes
	rep.SentWireBytes = st.sentWire
	if sec > 0 {
		rep.PointsPerSec = float64(st.points) / sec
		rep.RawBytesPerSec = float64(st.rawBytes) / sec
		rep.WireBytesPerSec = float64(st.wireBytes) / sec
	}
	rep.Errors = st.errorCounts()
}
