package httpx

import (
	"context"
	"errors"
	"io"
	"net/http"
)

// Lease is a request's admission to a gate (the server's bound on
// concurrent work and the body bytes it holds). The gate charged the
// declared Content-Length when it admitted the request; ReadBody charges
// what that could not know: the raw bytes of a body of unknown length and
// every byte a gzip body decompresses to, as they are produced. Charge
// fails when the gate cannot grant the bytes in time, and ReadBody then
// stops reading and returns that error unchanged.
type Lease interface {
	Charge(n int64) error
}

type leaseKey struct{}

// WithLease returns ctx carrying l, for ReadBody to charge.
func WithLease(ctx context.Context, l Lease) context.Context {
	return context.WithValue(ctx, leaseKey{}, l)
}

// LeaseFrom returns the lease in ctx, or nil.
func LeaseFrom(ctx context.Context) Lease {
	l, _ := ctx.Value(leaseKey{}).(Lease)
	return l
}

// ErrBusy matches (errors.Is) the refusal of a full gate, so a service
// that does not own the gate still recognises a capacity answer.
var ErrBusy = errors.New("the gateway is at its limit of concurrent work")

// BusyError is a full gate's refusal; gates wrap it in their own errors.
type BusyError struct {
	What string // "writes", "queries"
}

func (e *BusyError) Error() string {
	return "the gateway is at its limit of concurrent " + e.What
}

// Is makes errors.Is(err, ErrBusy) hold.
func (e *BusyError) Is(target error) bool { return target == ErrBusy }

// meteredReader charges a lease for the memory a body takes as it is read.
// A bytes.Buffer reads into its free capacity, so before each Read the
// bytes read so far plus len(p) is the buffer's capacity. Each time that
// grows, the buffer has allocated a new array and the old one is garbage
// until the next GC, so the whole new capacity is charged: the lease holds
// what the body's buffers allocated, doubling included, and it is charged
// before the read fills it.
type meteredReader struct {
	r       io.Reader
	l       Lease
	n       int64 // bytes read
	cap     int64 // largest buffer capacity seen
	charged int64
	err     error // the lease's refusal, kept apart from read errors
}

func (m *meteredReader) Read(p []byte) (int, error) {
	if c := m.n + int64(len(p)); c > m.cap {
		if err := m.l.Charge(c); err != nil {
			m.err = err
			return 0, err
		}
		m.cap = c
		m.charged += c
	}
	n, err := m.r.Read(p)
	m.n += int64(n)
	return n, err
}

// MeteredBody returns r's body, wrapped so that every byte read is charged
// to the Lease in r's context when the body declared no length (admission
// charged a declared one). It serves readers other than ReadBody, such as
// ParseForm; a refused charge surfaces as the lease's error.
func MeteredBody(r *http.Request) io.ReadCloser {
	l := LeaseFrom(r.Context())
	if l == nil || r.ContentLength >= 0 || r.Body == nil || r.Body == http.NoBody {
		return r.Body
	}
	return struct {
		io.Reader
		io.Closer
	}{&meteredReader{r: r.Body, l: l}, r.Body}
}
