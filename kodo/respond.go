package kodo

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/kodo-project/kodo/internal/httpx"
	"github.com/kodo-project/kodo/kodo/kodoapi"
)

// apiFunc is the one shape of a /v1 handler: decode the request, call the
// domain, and return the answer's content or an error. The adapter
// (service.api) writes either, so no handler writes to the connection.
type apiFunc func(r *http.Request) (any, error)

// decoded is the handler of an endpoint whose request is one JSON body:
// it decodes the body into the domain call's request type and answers
// what the call returns.
func decoded[Req, Res any](s *service, call func(context.Context, Req) (Res, error)) apiFunc {
	return func(r *http.Request) (any, error) {
		var req Req
		if err := s.decodeJSON(r, &req, false); err != nil {
			return nil, err
		}
		return call(r.Context(), req)
	}
}

// decodedDo is decoded for a call that answers no content.
func decodedDo[Req any](s *service, call func(context.Context, Req) error) apiFunc {
	return decoded(s, func(ctx context.Context, req Req) (any, error) { return nil, call(ctx, req) })
}

// stillRunning is an answer for work that goes on after the request (a
// drop that outlived it): 202 with the content and a message saying what
// is still running.
type stillRunning struct {
	content any
	message string
}

// api adapts an apiFunc to net/http: content is answered in a 200
// envelope, a stillRunning in a 202 one, and an error through
// respondError.
func (s *service) api(h apiFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v, err := h(r)
		if err != nil {
			s.respondError(w, r, err)
			return
		}
		if sr, ok := v.(stillRunning); ok {
			writeJSON(w, http.StatusAccepted, kodoapi.Envelope[any]{Code: http.StatusAccepted, Content: sr.content, Message: sr.message})
			return
		}
		writeJSON(w, http.StatusOK, kodoapi.Envelope[any]{Code: http.StatusOK, Content: v})
	}
}

// respondError writes err as an envelope; the one error path of /v1.
func (s *service) respondError(w http.ResponseWriter, r *http.Request, err error) {
	e := s.apiError(err)
	noteAuthFailure(r, e.Code)
	status := e.Code.Status()
	if status >= 500 {
		s.log.Error("request failed", "trace_id", httpx.TraceID(r.Context()), "path", r.URL.Path, "err", err)
	}
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(e.RetryAfter))
	}
	writeJSON(w, status, kodoapi.Envelope[any]{Code: status, Content: e.Content, ErrorCode: e.Code.Wire(), Message: e.Message})
}

// apiError is asError, counted in kodo_store_errors_total when a backend
// failed.
func (s *service) apiError(err error) *Error {
	e := asError(err)
	if e.store != "" && e.Code.Status() >= 500 {
		s.metrics.storeErrors.WithLabelValues(e.store).Inc()
	}
	return e
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // the client went away; nothing left to tell it
}
