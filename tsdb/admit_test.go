package tsdb

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kodo-project/kodo/internal/httpx"
	"github.com/kodo-project/kodo/tsdb/tsdbapi"
)

// trackedBody counts what the service reads of a body.
type trackedBody struct {
	r io.Reader
	n int
}

func (b *trackedBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.n += n
	return n, err
}

func (b *trackedBody) Close() error { return nil }

// The service checks the signature from the headers, then asks Config.Admit
// for the request's gate, then reads the body: an unsigned request reaches
// neither the gate nor its body, a signed one reaches the gate with its
// body unread, and a full gate answers 503 E9003 with Retry-After.
func TestAdmitOrder(t *testing.T) {
	type call struct {
		work     Work
		bodyRead int
	}
	var calls []call
	body := &trackedBody{r: bytes.NewReader(nil)} // replaced by each request of the test proper
	busy := false
	f := newFixture(t, openEngine(t), func(c *Config) {
		c.Admit = func(r *http.Request, w Work) (*http.Request, func(), error) {
			calls = append(calls, call{w, body.n})
			if busy {
				return nil, nil, fmt.Errorf("gate: %w", &httpx.BusyError{What: string(w)})
			}
			return r, func() {}, nil
		}
	})
	mustOK(t, f.call("POST", "/v4/repos/r_admit", map[string]string{"region": "nb"}))
	mustOK(t, f.call("POST", "/v4/repos/r_admit/series/cpu", map[string]string{"retention": "7d"}))
	calls = nil

	send := func(r *http.Request, payload []byte) answer {
		body = &trackedBody{r: bytes.NewReader(payload)}
		r.Body = body
		r.ContentLength = int64(len(payload))
		return serve(f.h, r)
	}
	points := []byte("cpu,host=a v=1\n")

	unsigned := httptest.NewRequest("POST", "/v4/repos/r_admit/points", nil)
	a := send(unsigned, points)
	assert.Equal(t, http.StatusUnauthorized, a.Status)
	assert.Zero(t, body.n, "the body of an unsigned request is never read")
	assert.Empty(t, calls, "nor does it reach a gate")

	a = send(f.signed("POST", "/v4/repos/r_admit/points", "text/plain", points, testAK, testSK), points)
	mustOK(t, a)
	assert.Equal(t, []call{{WorkWrite, 0}}, calls, "admitted to the write gate before the body is read")
	assert.Equal(t, len(points), body.n)

	calls = nil
	q := []byte(`{"sql":"SELECT count(v) FROM cpu"}`)
	mustOK(t, send(f.signed("POST", "/v4/repos/r_admit/query", "application/json", q, testAK, testSK), q))
	assert.Equal(t, []call{{WorkQuery, 0}}, calls)

	calls = nil
	mustOK(t, f.call("GET", "/v4/repos/r_admit", nil))
	assert.Empty(t, calls, "a request without a body is not gated")

	busy = true
	w := httptest.NewRecorder()
	r := f.signed("POST", "/v4/repos/r_admit/points", "text/plain", points, testAK, testSK)
	body = &trackedBody{r: bytes.NewReader(points)}
	r.Body = body
	f.h.ServeHTTP(w, r)
	a = answer{Status: w.Code, CType: w.Header().Get("Content-Type"), Body: w.Body.Bytes()}
	mustErr(t, a, tsdbapi.CodeBusy)
	assert.Contains(t, a.errText(t), "concurrent writes")
	assert.Equal(t, "1", w.Header().Get("Retry-After"))
	assert.Zero(t, body.n, "a refused request's body is not read")
	require.Len(t, calls, 1)
}
