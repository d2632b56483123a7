package httpx

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

// BodyRate bounds the time a request body may take to arrive, as the big
// proxies do (Apache mod_reqtimeout's body=20,MinRate=500): Grace from the
// moment the handler starts, plus one second for every MinRate bytes
// received. A client that trickles a byte at a time, or stops after the
// headers, is cut when it falls behind, so it cannot hold a connection, a
// goroutine or a gate slot for longer than that.
type BodyRate struct {
	Grace   time.Duration // <= 0: no bound
	MinRate int64         // bytes/s owed after Grace; <= 0: the whole body within Grace
}

// deadline is when a body with n bytes received so far must be complete.
func (b BodyRate) deadline(start time.Time, n int64) time.Time {
	d := start.Add(b.Grace)
	if b.MinRate > 0 {
		d = d.Add(time.Duration(float64(n) / float64(b.MinRate) * float64(time.Second)))
	}
	return d
}

// LimitBodyRate enforces rate on every request body through the
// connection's read deadline (http.ResponseController), so the bound also
// covers what net/http reads after the handler returns: a refused request's
// unread body is not drained from a slow client forever. A handler reading
// past the deadline gets a *BodyError with status 408.
func LimitBodyRate(next http.Handler, rate BodyRate) http.Handler {
	if rate.Grace <= 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Only requests with a body: net/http reads the connection in the
		// background once the body is consumed (or absent) to notice a
		// client that goes away, and a deadline there would cancel the
		// request's context instead of bounding a body.
		if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
			next.ServeHTTP(w, r)
			return
		}
		rc := http.NewResponseController(w)
		start := time.Now()
		if err := rc.SetReadDeadline(rate.deadline(start, 0)); err != nil {
			next.ServeHTTP(w, r) // a writer without deadlines (httptest.ResponseRecorder)
			return
		}
		r2 := new(http.Request)
		*r2 = *r // the server's own request keeps its body for its post-handler logic
		r2.Body = &rateReader{ReadCloser: r.Body, rc: rc, rate: rate, start: start}
		next.ServeHTTP(w, r2)
	})
}

type rateReader struct {
	io.ReadCloser
	rc    *http.ResponseController
	rate  BodyRate
	start time.Time
	n     int64
	done  bool
}

func (b *rateReader) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n += int64(n)
	switch {
	case err == nil:
		if n > 0 && b.rate.MinRate > 0 {
			_ = b.rc.SetReadDeadline(b.rate.deadline(b.start, b.n))
		}
	case errors.Is(err, os.ErrDeadlineExceeded):
		allowed := b.rate.Grace.String()
		if b.rate.MinRate > 0 {
			allowed += fmt.Sprintf(" plus one second per %d bytes", b.rate.MinRate)
		}
		return n, &BodyError{Status: http.StatusRequestTimeout, Msg: fmt.Sprintf(
			"the request body arrived too slowly: %d bytes in %s; the server allows %s, send it faster or in smaller batches",
			b.n, time.Since(b.start).Round(time.Millisecond), allowed)}
	default:
		if !b.done {
			// The body is complete (or failed): lift the deadline so the
			// server's background read of the connection is not cut.
			b.done = true
			_ = b.rc.SetReadDeadline(time.Time{})
		}
	}
	return n, err
}
