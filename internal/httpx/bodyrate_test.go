package httpx

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// slowRequest opens a connection, sends the headers of a POST declaring
// length bytes and only the first byte of its body.
func slowRequest(t *testing.T, addr string, length int) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	_, err = fmt.Fprintf(c, "POST /x HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n\r\nx", addr, length)
	require.NoError(t, err)
	return c
}

// closedWithin reads the connection until the server closes it, failing
// the test when it stays open past bound. It returns what was read.
func closedWithin(t *testing.T, c net.Conn, bound time.Duration) string {
	t.Helper()
	require.NoError(t, c.SetReadDeadline(time.Now().Add(bound)))
	b, err := io.ReadAll(c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		require.Failf(t, "the server kept a slow connection open", "past %s", bound)
	}
	return string(b)
}

func TestLimitBodyRate(t *testing.T) {
	rate := BodyRate{Grace: 200 * time.Millisecond, MinRate: 1 << 20}
	bodyErr := make(chan error, 1)
	ctxErr := make(chan error, 1)
	h := LimitBodyRate(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("mode") {
		case "ignore": // refuses without reading, as an unauthenticated request is
			w.WriteHeader(http.StatusUnauthorized)
		case "linger": // reads the body, then works past the grace
			_, err := io.ReadAll(r.Body)
			require.NoError(t, err)
			<-time.After(3 * rate.Grace) // the scenario: time passes, no synchronisation
			ctxErr <- r.Context().Err()
			w.WriteHeader(http.StatusNoContent)
		default:
			_, err := ReadBody(r, DefaultLimits())
			bodyErr <- err
			var be *BodyError
			if errors.As(err, &be) {
				w.WriteHeader(be.Status)
				return
			}
			w.WriteHeader(http.StatusNoContent)
		}
	}), rate)
	srv := httptest.NewServer(h)
	defer srv.Close()
	addr := srv.Listener.Addr().String()

	t.Run("a stalled body is cut with 408", func(t *testing.T) {
		c := slowRequest(t, addr, 1000)
		out := closedWithin(t, c, 10*time.Second)
		assert.True(t, strings.HasPrefix(out, "HTTP/1.1 408"), out)
		err := <-bodyErr
		var be *BodyError
		require.True(t, errors.As(err, &be), "%v", err)
		assert.Contains(t, be.Msg, "arrived too slowly")
	})
	t.Run("an unread body is not drained from a slow client forever", func(t *testing.T) {
		// 100 bytes is under net/http's post-handler drain threshold, so
		// without the deadline the server would wait for the rest.
		c, err := net.Dial("tcp", addr)
		require.NoError(t, err)
		defer c.Close()
		_, err = fmt.Fprintf(c, "POST /x?mode=ignore HTTP/1.1\r\nHost: %s\r\nContent-Length: 100\r\n\r\nx", addr)
		require.NoError(t, err)
		br := bufio.NewReader(c)
		resp, err := http.ReadResponse(br, nil)
		require.NoError(t, err)
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		closedWithin(t, c, 10*time.Second)
	})
	t.Run("a complete body keeps its request alive past the grace", func(t *testing.T) {
		resp, err := http.Post(srv.URL+"?mode=linger", "text/plain", strings.NewReader("cpu v=1\n"))
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusNoContent, resp.StatusCode)
		assert.NoError(t, <-ctxErr, "the lifted deadline did not cancel the request")
	})
	t.Run("a body at the rate passes", func(t *testing.T) {
		resp, err := http.Post(srv.URL, "text/plain", strings.NewReader(strings.Repeat("cpu v=1\n", 10000)))
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusNoContent, resp.StatusCode)
		assert.NoError(t, <-bodyErr)
	})
}
