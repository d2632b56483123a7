package httpx

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/kodo-project/kodo/internal/testkit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// countingLease grants up to limit bytes and records what was charged.
type countingLease struct {
	charged, limit int64
}

var errFull = errors.New("lease refused")

func (l *countingLease) Charge(n int64) error {
	if l.charged+n > l.limit {
		return errFull
	}
	l.charged += n
	return nil
}

// countingReader counts the bytes taken from a body.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func TestReadBodyChargesLease(t *testing.T) {
	lim := Limits{MaxBodyBytes: 1 << 20, MaxDecompressedBytes: 8 << 20}
	plain := bytes.Repeat([]byte("cpu,host=a v=1\n"), 10000) // 150 kB
	zipped := testkit.Gzip(t, plain)
	const slack = 1 << 20 // spare capacity of pooled buffers from earlier reads
	req := func(body []byte, gzip, chunked bool, l Lease) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		if gzip {
			r.Header.Set("Content-Encoding", "gzip")
		}
		if chunked {
			r.ContentLength = -1
		}
		return r.WithContext(WithLease(r.Context(), l))
	}

	t.Run("gzip with a length: every decompressed byte", func(t *testing.T) {
		l := &countingLease{limit: 1 << 30}
		b, err := ReadBody(req(zipped, true, false, l), lim)
		require.NoError(t, err)
		defer b.Release()
		// The declared raw length was charged at admission; the buffer the
		// body decompresses into is charged for each array it allocates (its doubling
		// slack included, a pooled buffer's spare capacity too).
		assert.GreaterOrEqual(t, l.charged, int64(len(plain)))
		assert.LessOrEqual(t, l.charged, int64(4*len(plain)+slack))
	})
	t.Run("chunked gzip: raw bytes and decompressed bytes", func(t *testing.T) {
		l := &countingLease{limit: 1 << 30}
		b, err := ReadBody(req(zipped, true, true, l), lim)
		require.NoError(t, err)
		defer b.Release()
		assert.GreaterOrEqual(t, l.charged, int64(len(zipped)+len(plain)))
		assert.LessOrEqual(t, l.charged, int64(4*(len(zipped)+len(plain))+slack))
	})
	t.Run("plain with a length: nothing more", func(t *testing.T) {
		l := &countingLease{limit: 1 << 30}
		b, err := ReadBody(req(plain, false, false, l), lim)
		require.NoError(t, err)
		defer b.Release()
		assert.Zero(t, l.charged)
	})
	t.Run("a refused charge stops the decompression", func(t *testing.T) {
		bomb := testkit.Gzip(t, make([]byte, 8<<20))
		l := &countingLease{limit: 256 << 10}
		_, err := ReadBody(req(bomb, true, false, l), lim)
		assert.ErrorIs(t, err, errFull, "the lease's error comes back unchanged")
		assert.LessOrEqual(t, l.charged, int64(256<<10))
	})
	t.Run("a refused charge stops reading a chunked body", func(t *testing.T) {
		big := bytes.Repeat([]byte("x"), 512<<10)
		src := &countingReader{r: bytes.NewReader(big)}
		r := httptest.NewRequest(http.MethodPost, "/", src)
		r.ContentLength = -1
		l := &countingLease{limit: 64 << 10}
		_, err := ReadBody(r.WithContext(WithLease(r.Context(), l)), lim)
		assert.ErrorIs(t, err, errFull)
		assert.Less(t, src.n, int64(len(big)), "reading stopped at the refusal")
	})
}
