package loadgen

import (
	"math"
	"slices"
	"sort"
	"time"
)

// Percentile returns the nearest-rank p-th percentile (0 < p <= 100) of
// sorted: the smallest value with at least p% of the values at or below
// it. It returns 0 for an empty slice; p outside (0, 100] is clamped.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	if math.IsNaN(p) || p <= 0 {
		return sorted[0]
	}
	if p >= 100 {
		return sorted[n-1]
	}
	// The epsilon keeps 99% of 100 values at rank 99, not 100, despite
	// float rounding (0.99*100 = 99.00000000000001).
	rank := int(math.Ceil(p/100*float64(n) - 1e-9))
	return sorted[max(rank, 1)-1]
}

// Latency summarises one operation's latencies.
type Latency struct {
	Count int           `json:"count"`
	P50   time.Duration `json:"p50_ns"`
	P99   time.Duration `json:"p99_ns"`
	Max   time.Duration `json:"max_ns"`
	Mean  time.Duration `json:"mean_ns"`
}

// Summarize sorts d in place and returns its summary.
func Summarize(d []time.Duration) Latency {
	if len(d) == 0 {
		return Latency{}
	}
	slices.Sort(d)
	var sum time.Duration
	for _, v := range d {
		sum += v
	}
	return Latency{
		Count: len(d),
		P50:   Percentile(d, 50),
		P99:   Percentile(d, 99),
		Max:   d[len(d)-1],
		Mean:  sum / time.Duration(len(d)),
	}
}

// errKey groups failures: an HTTP status with the server's error code, or
// status 0 with a transport failure class.
type errKey struct {
	Op     OpKind
	Status int
	Code   string
}

// workerStats is one worker's tally; merged after the run so the hot loop
// takes no lock.
type workerStats struct {
	lat       map[OpKind][]time.Duration
	ok        map[OpKind]int64
	failed    map[OpKind]int64
	errs      map[errKey]int64
	samples   map[errKey]string
	points    int64 // acknowledged
	rawBytes  int64 // of acknowledged writes
	wireBytes int64 // of acknowledged writes
	sentWire  int64 // every write attempted, acknowledged or not
}

func newWorkerStats() *workerStats {
	return &workerStats{
		lat: map[OpKind][]time.Duration{}, ok: map[OpKind]int64{}, failed: map[OpKind]int64{},
		errs: map[errKey]int64{}, samples: map[errKey]string{},
	}
}

func (w *workerStats) record(op OpKind, d time.Duration, o Outcome) {
	w.lat[op] = append(w.lat[op], d)
	if o.OK() {
		w.ok[op]++
		return
	}
	w.failed[op]++
	k := errKey{Op: op, Status: o.Status, Code: o.Code}
	w.errs[k]++
	if _, ok := w.samples[k]; !ok {
		w.samples[k] = o.Message
	}
}

func mergeStats(all []*workerStats) *workerStats {
	m := newWorkerStats()
	for _, w := range all {
		for op, d := range w.lat {
			m.lat[op] = append(m.lat[op], d...)
		}
		for op, n := range w.ok {
			m.ok[op] += n
		}
		for op, n := range w.failed {
			m.failed[op] += n
		}
		for k, n := range w.errs {
			m.errs[k] += n
			if _, ok := m.samples[k]; !ok {
				m.samples[k] = w.samples[k]
			}
		}
		m.points += w.points
		m.rawBytes += w.rawBytes
		m.wireBytes += w.wireBytes
		m.sentWire += w.sentWire
	}
	return m
}

// errorCounts lists the failures, most frequent first.
func (w *workerStats) errorCounts() []ErrorCount {
	out := make([]ErrorCount, 0, len(w.errs))
	for k, n := range w.errs {
		out = append(out, ErrorCount{Op: k.Op, Status: k.Status, Code: k.Code, Count: n, Sample: w.samples[k]})
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Count != b.Count {
			return a.Count > b.Count
		}
		if a.Op != b.Op {
			return a.Op < b.Op
		}
		if a.Status != b.Status {
			return a.Status < b.Status
		}
		return a.Code < b.Code
	})
	return out
}
