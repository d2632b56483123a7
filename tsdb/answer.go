package tsdb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/kodo-project/kodo/internal/httpx"
	"github.com/kodo-project/kodo/tsdb/tsdbapi"
)

// handler is the one shape of the API's handlers: decode q, call the
// domain, return the answer (nil for {}) or the error. answer writes
// both.
type handler func(q *call) (any, error)

// call is one authenticated request as the handlers see it.
type call struct {
	r    *http.Request // its path values are the route's
	ak   string
	body []byte // decoded (gunzipped) body
}

// ctx is the request's context.
func (q *call) ctx() context.Context { return q.r.Context() }

// callKey carries the *call from serve, which authenticates and reads the
// body, to answer, behind the routes.
type callKey struct{}

// answer adapts h to the routes: 200 with the JSON of its value ({} for
// nil), or the error as fail maps it.
func (s *Service) answer(h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q, _ := r.Context().Value(callKey{}).(*call)
		if q == nil { // not behind serve: HandleCreateKeyPair
			q = &call{}
		}
		q.r = r
		v, err := h(q)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if v == nil {
			v = struct{}{}
		}
		writeJSON(w, http.StatusOK, v)
	})
}

// fail answers err in the Pandora form.
func (s *Service) fail(w http.ResponseWriter, r *http.Request, err error) {
	writeError(w, s.apiError(r, err))
}

// apiError is the one mapping of errors to the API's answers: an
// *tsdbapi.Error is answered as it is, a full gate of Config.Admit is 503
// E9003 with Retry-After, a body over the limits E6000 with the limit's
// status (413, 415, 408); anything else is the server's fault, logged
// and answered E9001 without its detail.
func (s *Service) apiError(r *http.Request, err error) *tsdbapi.Error {
	var (
		e    *tsdbapi.Error
		busy *httpx.BusyError
		body *httpx.BodyError
	)
	switch {
	case errors.As(err, &e):
	case errors.As(err, &busy):
		// The spec has no capacity code: E9003 is ours, 503 with
		// Retry-After so clients back off and retry.
		e = tsdbapi.Errorf(tsdbapi.CodeBusy, "%v", busy)
		e.RetryAfter = 1
		return e
	case errors.As(err, &body):
		e = tsdbapi.Errorf(tsdbapi.CodeBadRequest, "%s", body.Msg)
		e.Status = body.Status
		return e
	default:
		e = tsdbapi.Errorf(tsdbapi.CodeInternal, "")
	}
	if e.Status >= 500 {
		s.log.Error("tsdb: request failed", "method", r.Method, "path", r.URL.Path, "err", err.Error())
	}
	return e
}

// writeJSON answers status with v as JSON; Content-Type is exactly
// application/json because the official SDK compares it.
func writeJSON(w http.ResponseWriter, status int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		data, _ = json.Marshal(tsdbapi.Errorf(tsdbapi.CodeInternal, "").Body())
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", fmt.Sprint(len(data)))
	w.WriteHeader(status)
	_, _ = w.Write(data)
}

func writeError(w http.ResponseWriter, e *tsdbapi.Error) {
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", fmt.Sprint(e.RetryAfter))
	}
	writeJSON(w, e.Status, e.Body())
}
