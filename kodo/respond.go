package kodo

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/kodo-project/kodo/internal/httpx"
)

// envelope is the Kodo response body for every /v1 answer.
type envelope struct {
	Code      int    `json:"code"`
	Content   any    `json:"content"`
	ErrorCode string `json:"errorCode"`
	Message   string `json:"message"`
}

// respond writes a 200 envelope around content.
func respond(w http.ResponseWriter, content any) {
	writeJSON(w, http.StatusOK, envelope{Code: http.StatusOK, Content: content})
}

// respondError writes err as an envelope; the one error path of /v1.
func respondError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	e := asError(err)
	noteAuthFailure(r, e.Code)
	status := e.Code.Status()
	if status >= 500 {
		log.Error("request failed", "trace_id", httpx.TraceID(r.Context()), "path", r.URL.Path, "err", err)
	}
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(e.RetryAfter))
	}
	writeJSON(w, status, envelope{Code: status, Content: e.Content, ErrorCode: e.Code.Wire(), Message: e.Message})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // the client went away; nothing left to tell it
}
