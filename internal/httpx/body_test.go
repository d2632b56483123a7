package httpx

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/kodo-project/kodo/internal/testkit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReadBody(t *testing.T) {
	lim := Limits{MaxBodyBytes: 1000, MaxDecompressedBytes: 2000}
	plain := []byte("cpu f=1\n")
	zipped := testkit.Gzip(t, plain)
	bomb := testkit.Gzip(t, make([]byte, 5000))
	cases := []struct {
		name     string
		body     []byte
		encoding string
		data     []byte
		status   int
		msg      string
	}{
		{"plain", plain, "", plain, 0, ""},
		{"gzip", zipped, "gzip", plain, 0, ""},
		{"x-gzip, any case", zipped, " X-GZIP ", plain, 0, ""},
		{"identity", plain, "identity", plain, 0, ""},
		{"truncated gzip", zipped[:len(zipped)-5], "gzip", nil, 400, "truncated or corrupt"},
		{"not gzip", plain, "gzip", nil, 400, "not valid gzip"},
		{"bomb", bomb, "gzip", nil, 413, "decompressed request body exceeds the limit of 2000 bytes"},
		{"too large", bytes.Repeat([]byte("x"), 1001), "", nil, 413, "request body exceeds the limit of 1000 bytes"},
		{"exactly at the limit", bytes.Repeat([]byte("x"), 1000), "", bytes.Repeat([]byte("x"), 1000), 0, ""},
		{"deflate", plain, "deflate", nil, 415, "unsupported Content-Encoding"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(c.body))
			if c.encoding != "" {
				r.Header.Set("Content-Encoding", c.encoding)
			}
			b, err := ReadBody(r, lim)
			if c.status != 0 {
				var be *BodyError
				require.True(t, errors.As(err, &be), "%v", err)
				assert.Equal(t, c.status, be.Status)
				assert.Contains(t, be.Msg, c.msg)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, c.body, b.Raw, "Raw is the body as sent")
			assert.Equal(t, c.data, b.Data)
			b.Release()
			assert.Nil(t, b.Raw)
		})
	}
	t.Run("no body", func(t *testing.T) {
		b, err := ReadBody(httptest.NewRequest(http.MethodGet, "/", nil), lim)
		require.NoError(t, err)
		assert.Empty(t, b.Data)
	})
	t.Run("declared length over the limit is refused before reading", func(t *testing.T) {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader("x"))
		r.ContentLength = 5000
		_, err := ReadBody(r, lim)
		var be *BodyError
		require.True(t, errors.As(err, &be))
		assert.Equal(t, 413, be.Status)
	})
}

func TestWrap(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	h := Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/panic" {
			panic("boom")
		}
		assert.NotEmpty(t, TraceID(r.Context()))
		w.WriteHeader(http.StatusTeapot)
	}), log, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusInternalServerError) })

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/x", nil))
	assert.Equal(t, http.StatusTeapot, rec.Code)
	assert.Regexp(t, `^trace_[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, rec.Header().Get("X-Trace-Id"))
	assert.Empty(t, rec.Header().Get("Access-Control-Allow-Origin"), "CORS is the caller's policy")

	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/panic", nil))
	assert.Equal(t, http.StatusInternalServerError, rec.Code, "a panic answers instead of dropping the connection")
}

// TestReadBodyReusesGzipReaders decodes different bodies, good and bad,
// from several goroutines: a pooled reader must never leak one body's
// bytes or error into another.
func TestReadBodyReusesGzipReaders(t *testing.T) {
	lim := DefaultLimits()
	bodies := make([][]byte, 8)
	zips := make([][]byte, len(bodies))
	for i := range bodies {
		bodies[i] = bytes.Repeat([]byte{byte('a' + i)}, 1000*(i+1))
		zips[i] = testkit.Gzip(t, bodies[i])
	}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				want, zipped := bodies[(g+i)%len(bodies)], zips[(g+i)%len(bodies)]
				if i%5 == 0 {
					zipped = zipped[:len(zipped)/2] // truncated: must fail, then the next must work
				}
				r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(zipped))
				r.Header.Set("Content-Encoding", "gzip")
				b, err := ReadBody(r, lim)
				if i%5 == 0 {
					assert.Error(t, err)
					continue
				}
				if assert.NoError(t, err) {
					assert.Equal(t, want, b.Data)
					b.Release()
				}
			}
		}()
	}
	wg.Wait()
}

func BenchmarkReadBodyGzip(b *testing.B) {
	plain := bytes.Repeat([]byte("cpu,host=a,region=eu usage_user=1.5,usage_idle=90i 1700000000000000000\n"), 5000)
	zipped := testkit.Gzip(b, plain)
	lim := DefaultLimits()
	b.SetBytes(int64(len(plain)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(zipped))
		r.Header.Set("Content-Encoding", "gzip")
		body, err := ReadBody(r, lim)
		if err != nil {
			b.Fatal(err)
		}
		body.Release()
	}
}
