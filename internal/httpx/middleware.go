package httpx

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"
)

type traceKey struct{}

// TraceID returns the request's trace id set by Trace.
func TraceID(ctx context.Context) string {
	s, _ := ctx.Value(traceKey{}).(string)
	return s
}

// NewTraceID returns a fresh "trace_" + UUIDv4-shaped id, as the Kodo API shows.
func NewTraceID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:], b[10:])
	return "trace_" + string(out[:])
}

// CORS headers as the Kodo API shows them on every response.
const (
	corsHeaders = "Content-Type, Content-Length, Accept-Encoding, X-CSRF-Token, Authorization, accept, origin, Cache-Control, X-Requested-With, X-Token, X-DatakitUUID, X-RP, X-Precision"
	corsMethods = "POST, OPTIONS, GET, PUT"
)

// Recorder captures the status and size of a response for logs and metrics.
type Recorder struct {
	http.ResponseWriter
	Status int
	Bytes  int64
}

func (r *Recorder) WriteHeader(code int) {
	if r.Status == 0 {
		r.Status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *Recorder) Write(p []byte) (int, error) {
	if r.Status == 0 {
		r.Status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(p)
	r.Bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *Recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// SetCORS sets the CORS headers the Kodo API shows on its answers. origin
// is "*" for answers any page may read, or one allowed origin, which then
// varies the answer by Origin.
func SetCORS(h http.Header, origin string) {
	h.Set("Access-Control-Allow-Origin", origin)
	if origin != "*" {
		h.Add("Vary", "Origin")
	}
	h.Set("Access-Control-Allow-Credentials", "true")
	h.Set("Access-Control-Allow-Headers", corsHeaders)
	h.Set("Access-Control-Allow-Methods", corsMethods)
}

// Wrap adds, outermost first: trace id, an access log line per request,
// and panic recovery (a 500 and a logged stack rather than a dropped
// connection). onPanic writes the error answer. CORS is the caller's
// policy (SetCORS): which answers a browser page may read depends on the
// endpoint and on how the server is protected.
func Wrap(h http.Handler, log *slog.Logger, onPanic func(http.ResponseWriter, *http.Request)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := NewTraceID()
		w.Header().Set("X-Trace-Id", id)
		rec := &Recorder{ResponseWriter: w}
		r = r.WithContext(context.WithValue(r.Context(), traceKey{}, id))
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				log.Error("panic serving request", "trace_id", id, "path", r.URL.Path, "panic", p, "stack", string(debug.Stack()))
				if rec.Status == 0 {
					onPanic(rec, r)
				}
			}
			log.LogAttrs(r.Context(), levelFor(rec.Status), "request",
				slog.String("trace_id", id), slog.String("method", r.Method), slog.String("path", r.URL.Path),
				slog.Int("status", rec.Status), slog.Int64("bytes", rec.Bytes),
				slog.Duration("duration", time.Since(start)), slog.String("remote", r.RemoteAddr))
		}()
		h.ServeHTTP(rec, r)
	})
}

func levelFor(status int) slog.Level {
	switch {
	case status >= 500:
		return slog.LevelError
	case status >= 400:
		return slog.LevelInfo
	default:
		return slog.LevelDebug
	}
}
