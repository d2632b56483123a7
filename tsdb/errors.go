package tsdb

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/kodo-project/kodo/tsdb/tsdbapi"
)

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
