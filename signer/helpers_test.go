package signer

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// t0 is the fixed signing time of the table tests.
var t0 = time.Date(2026, 11, 23, 0, 11, 36, 0, time.UTC)

func fixed(t time.Time) func() time.Time { return func() time.Time { return t } }

// captureRT records the request a signing transport sends and answers 200.
type captureRT struct {
	req  *http.Request
	body []byte
}

func (c *captureRT) RoundTrip(r *http.Request) (*http.Response, error) {
	c.req = r
	if r.Body != nil {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, err
		}
		r.Body.Close()
		c.body = b
	}
	return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader("{}")), Request: r, Header: http.Header{}}, nil
}

// signed sends a request through the transport made by mk and returns what
// a server would receive, as a Request.
func signed(t testing.TB, mk func(base http.RoundTripper) http.RoundTripper, method, target string, body []byte, hdr map[string]string) Request {
	t.Helper()
	c := &captureRT{}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, "http://kodo.test"+target, rd)
	require.NoError(t, err)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := mk(c).RoundTrip(req)
	require.NoError(t, err)
	resp.Body.Close()
	return Request{Method: c.req.Method, Path: c.req.URL.Path, Header: c.req.Header.Clone(), Body: c.body}
}

// with returns a copy of r with header k set to v ("" deletes it).
func with(r Request, k, v string) Request {
	r.Header = r.Header.Clone()
	if v == "" {
		r.Header.Del(k)
	} else {
		r.Header.Set(k, v)
	}
	return r
}

var errNoKey = errors.New("key not on file")

func lineBody(lines int) []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < lines*100 || i < lines; i++ {
		b.WriteString("cpu,host=web-01,region=cn-east,role=frontend usage_user=12.5,usage_system=3.25,usage_idle=84.25,count=42i 1600000000")
		b.WriteString(strings.Repeat("0", 9))
		b.WriteByte('\n')
		if i+1 >= lines {
			break
		}
	}
	return b.Bytes()
}

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }
