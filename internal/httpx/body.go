package httpx

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	// klauspost's inflate reads these bodies about 1.5x as fast as
	// compress/gzip, the same format and API (already a dependency).
	"github.com/klauspost/compress/gzip"
)

// Limits bound what one request body may cost.
type Limits struct {
	// MaxBodyBytes caps the body as sent (compressed or not).
	MaxBodyBytes int64
	// MaxDecompressedBytes caps a gzip body after decompression, so a small
	// gzip bomb cannot expand into memory.
	MaxDecompressedBytes int64
}

// DefaultLimits are generous for agents (a 5,000-line batch is ~1 MB) and
// still bounded.
func DefaultLimits() Limits {
	return Limits{MaxBodyBytes: 32 << 20, MaxDecompressedBytes: 128 << 20}
}

// BodyError says why a body could not be read. Status is the HTTP status to
// answer with (always 4xx).
type BodyError struct {
	Status int
	Msg    string
}

func (e *BodyError) Error() string { return e.Msg }

// Body is a request body read whole: Raw is the bytes as sent (what
// signatures cover), Data the decoded payload (Raw itself when not gzipped).
type Body struct {
	Raw  []byte
	Data []byte
	bufs [2]*bytes.Buffer
}

// maxPooledBuffer bounds the buffers kept for reuse (a 5,000-line batch
// is about 1 MB decompressed).
const maxPooledBuffer = 4 << 20

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// Release returns the body's buffers to the pool; Raw and Data must not be
// used afterwards.
func (b *Body) Release() {
	for i, buf := range b.bufs {
		// Only buffers of everyday bodies are kept: a pooled buffer is
		// memory no gate accounts for until a request takes it again.
		if buf != nil && buf.Cap() <= maxPooledBuffer {
			buf.Reset()
			bufPool.Put(buf)
		}
		b.bufs[i] = nil
	}
	b.Raw, b.Data = nil, nil
}

// ReadBody reads r's body under lim and decodes Content-Encoding gzip.
// Errors are *BodyError with a 4xx status and a message a client can act on,
// or the refusal of the Lease in r's context (see Lease), returned as is.
func ReadBody(r *http.Request, lim Limits) (*Body, error) {
	b := &Body{}
	if r.Body == nil || r.Body == http.NoBody {
		return b, nil
	}
	if r.ContentLength > lim.MaxBodyBytes && lim.MaxBodyBytes > 0 {
		return nil, tooLarge("request body", lim.MaxBodyBytes)
	}
	lease := LeaseFrom(r.Context())
	rawLease := lease
	if r.ContentLength >= 0 {
		rawLease = nil // admission charged the declared length
	}
	raw := bufPool.Get().(*bytes.Buffer)
	b.bufs[0] = raw
	if r.ContentLength > 0 {
		// Exactly the declared size (what admission charged), instead of
		// doubling up to it; MinRead is the room ReadFrom needs to see EOF.
		raw.Grow(int(r.ContentLength) + bytes.MinRead)
	}
	if err := readLimited(raw, r.Body, lim.MaxBodyBytes, rawLease); err != nil {
		b.Release()
		var be *BodyError
		var rf *refused
		switch {
		case errors.As(err, &rf):
			return nil, rf.err
		case errors.Is(err, errLimit):
			return nil, tooLarge("request body", lim.MaxBodyBytes)
		case errors.As(err, &be): // e.g. the body arrived too slowly
			return nil, be
		}
		return nil, &BodyError{Status: http.StatusBadRequest, Msg: "reading request body: " + err.Error()}
	}
	b.Raw = raw.Bytes()
	b.Data = b.Raw
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip", "x-gzip":
		data, err := gunzip(b, lim.MaxDecompressedBytes, lease)
		if err != nil {
			b.Release()
			return nil, err
		}
		b.Data = data
	default:
		b.Release()
		return nil, &BodyError{Status: http.StatusUnsupportedMediaType,
			Msg: fmt.Sprintf("unsupported Content-Encoding %q: send the body plain or gzip", enc)}
	}
	return b, nil
}

// gzipPool keeps gzip readers: a new one allocates its inflate state
// (tens of KiB) per request; Reset makes one ready for the next body.
var gzipPool sync.Pool

// gunzip decompresses b.Raw under max, charging lease (when not nil) for
// every decompressed byte as it is produced: a small body that expands
// holds gate bytes for what it expands to, not for what was sent.
func gunzip(b *Body, max int64, lease Lease) ([]byte, error) {
	src := bytes.NewReader(b.Raw)
	zr, _ := gzipPool.Get().(*gzip.Reader)
	var err error
	if zr == nil {
		zr, err = gzip.NewReader(src)
	} else {
		err = zr.Reset(src)
	}
	if err != nil {
		return nil, &BodyError{Status: http.StatusBadRequest, Msg: "Content-Encoding is gzip but the body is not valid gzip: " + err.Error()}
	}
	// A pooled reader still points at this body until its next Reset;
	// the body's buffer is pooled too, so that pins nothing extra.
	defer gzipPool.Put(zr)
	out := bufPool.Get().(*bytes.Buffer)
	b.bufs[1] = out
	if err := readLimited(out, zr, max, lease); err != nil {
		var rf *refused
		if errors.As(err, &rf) {
			return nil, rf.err
		}
		if errors.Is(err, errLimit) {
			return nil, tooLarge("decompressed request body", max)
		}
		return nil, &BodyError{Status: http.StatusBadRequest, Msg: "gzip body is truncated or corrupt: " + err.Error()}
	}
	return out.Bytes(), nil
}

var errLimit = errors.New("limit exceeded")

// readLimited copies src into dst and fails with errLimit past max bytes
// (max <= 0: no limit). With a lease, dst's growth is charged to it as it
// reads (see meteredReader), and a refusal comes back as *refused.
func readLimited(dst *bytes.Buffer, src io.Reader, max int64, lease Lease) error {
	if max > 0 {
		src = io.LimitReader(src, max+1)
	}
	var meter *meteredReader
	if lease != nil {
		// Outside the LimitReader, so it sees the buffer's whole free space.
		meter = &meteredReader{r: src, l: lease}
		src = meter
	}
	n, err := dst.ReadFrom(src)
	if meter != nil && meter.err != nil {
		return &refused{meter.err}
	}
	if err != nil {
		return err
	}
	if max > 0 && n > max {
		return errLimit
	}
	return nil
}

// refused carries a lease's refusal out of a read, apart from read errors.
type refused struct{ err error }

func (r *refused) Error() string { return r.err.Error() }
func (r *refused) Unwrap() error { return r.err }

func tooLarge(what string, max int64) error {
	return &BodyError{Status: http.StatusRequestEntityTooLarge,
		Msg: fmt.Sprintf("%s exceeds the limit of %d bytes: split it into smaller batches", what, max)}
}
