package kodo

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/kodo-project/kodo/internal/httpx"
)

// metrics are the gateway's Prometheus metrics, on a registry of the
// Server's own (no global state: two servers in one process do not mix).
type metrics struct {
	reg            *prometheus.Registry
	requests       *prometheus.CounterVec
	requestSeconds *prometheus.HistogramVec
	points         *prometheus.CounterVec
	bytes          *prometheus.CounterVec
	rejectedLines  prometheus.Counter
	writeSeconds   prometheus.Histogram
	querySeconds   prometheus.Histogram
	engineErrors   *prometheus.CounterVec
	storeErrors    *prometheus.CounterVec
}

func newMetrics() *metrics {
	reg := prometheus.NewRegistry()
	m := &metrics{
		reg: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kodo_http_requests_total", Help: "HTTP requests by endpoint (route pattern) and status code.",
		}, []string{"endpoint", "code"}),
		requestSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "kodo_http_request_duration_seconds", Help: "HTTP request latency by endpoint.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}, []string{"endpoint"}),
		points: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kodo_points_written_total", Help: "Points stored, by API (kodo, influx, tsdb).",
		}, []string{"api"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kodo_write_bytes_total", Help: "Write request body bytes, as sent (wire) and decompressed (data).",
		}, []string{"form"}),
		rejectedLines: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kodo_rejected_lines_total", Help: "Line-protocol lines rejected as invalid.",
		}),
		writeSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "kodo_write_duration_seconds", Help: "Time to store one write batch in its engine (durable).",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}),
		querySeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "kodo_query_duration_seconds", Help: "Time an engine took to answer one query.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 18),
		}),
		engineErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kodo_engine_errors_total", Help: "Engine calls that failed (not bad input), by operation.",
		}, []string{"op"}),
		storeErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kodo_store_errors_total", Help: "Metadata / document store calls that failed, by store.",
		}, []string{"store"}),
	}
	reg.MustRegister(m.requests, m.requestSeconds, m.points, m.bytes, m.rejectedLines,
		m.writeSeconds, m.querySeconds, m.engineErrors, m.storeErrors,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// handler serves /metrics in the Prometheus text format.
func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// instrument counts and times requests under the route's pattern, so the
// label set stays bounded whatever paths clients send.
func (m *metrics) instrument(endpoint string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec, ok := w.(*httpx.Recorder)
		if !ok {
			rec = &httpx.Recorder{ResponseWriter: w}
			w = rec
		}
		h(w, r)
		status := rec.Status
		if status == 0 {
			status = http.StatusOK
		}
		m.requests.WithLabelValues(endpoint, strconv.Itoa(status)).Inc()
		m.requestSeconds.WithLabelValues(endpoint).Observe(time.Since(start).Seconds())
	}
}
