package signer

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// prepare clones req for signing and sets Date. With buffer it also reads
// the body, so the signer can hash it and the base transport (and any
// retry through GetBody) can still send it. The caller's request is not modified; its body is consumed and
// closed, as the RoundTripper contract allows.
func prepare(req *http.Request, now func() time.Time, buffer bool) (*http.Request, []byte, error) {
	var body []byte
	if buffer && req.Body != nil && req.Body != http.NoBody {
		b, err := readBody(req.Body, req.ContentLength)
		cerr := req.Body.Close()
		if err != nil {
			return nil, nil, fmt.Errorf("signer: reading the request body to sign it: %w", err)
		}
		if cerr != nil {
			return nil, nil, fmt.Errorf("signer: closing the request body: %w", cerr)
		}
		body = b
	}
	out := req.Clone(req.Context())
	if out.Header == nil {
		out.Header = make(http.Header)
	}
	switch {
	case !buffer:
		// The clone shares the caller's body, which the base transport
		// consumes; nothing here reads it.
	case len(body) > 0:
		out.Body = io.NopCloser(bytes.NewReader(body))
		out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		out.ContentLength = int64(len(body))
	default:
		out.Body = http.NoBody
		out.GetBody = func() (io.ReadCloser, error) { return http.NoBody, nil }
		out.ContentLength = 0
	}
	if now == nil {
		now = time.Now
	}
	out.Header.Set("Date", now().UTC().Format(http.TimeFormat))
	return out, body, nil
}

// readBody reads r whole, sizing the buffer from Content-Length when it is
// known so a large body is read in one allocation.
func readBody(r io.Reader, n int64) ([]byte, error) {
	const maxPrealloc = 64 << 20 // a hint, not a limit
	if n <= 0 || n > maxPrealloc {
		return io.ReadAll(r)
	}
	buf := make([]byte, n)
	got, err := io.ReadFull(r, buf)
	switch {
	case err == io.ErrUnexpectedEOF || err == io.EOF:
		return buf[:got], nil // shorter than announced; send what there is
	case err != nil:
		return nil, err
	}
	// Longer than announced: keep the rest too.
	rest, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	return append(buf, rest...), nil
}

func base(rt http.RoundTripper) http.RoundTripper {
	if rt == nil {
		return http.DefaultTransport
	}
	return rt
}

// closeBody honours the RoundTripper duty to close the body on every path.
func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

// DatafluxTransport signs requests with the DATAFLUX scheme, as the Kodo
// agents do: it sets Date, Content-MD5 (hex MD5 of the body as sent), X-Token
// and Authorization. Compress the body before it reaches the transport, and
// set Content-Encoding yourself, so the hash covers the bytes on the wire.
type DatafluxTransport struct {
	Base   http.RoundTripper // nil = http.DefaultTransport
	Token  string
	Secret string // "" = key with the hex MD5 of the body (agents without a secret)
	Algo   Algo
	Now    func() time.Time // nil = time.Now
}

// NewDatafluxTransport returns a DatafluxTransport over base.
func NewDatafluxTransport(base http.RoundTripper, token, secret string, algo Algo) *DatafluxTransport {
	return &DatafluxTransport{Base: base, Token: token, Secret: secret, Algo: algo}
}

// RoundTrip signs a clone of req and sends it through Base.
func (t *DatafluxTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.Token == "" {
		closeBody(req)
		return nil, errors.New("signer: DatafluxTransport has no token")
	}
	if _, _, ok := t.Algo.hash(); !ok {
		closeBody(req)
		return nil, fmt.Errorf("signer: DatafluxTransport: unknown algorithm %s", t.Algo)
	}
	out, body, err := prepare(req, t.Now, true)
	if err != nil {
		return nil, err
	}
	sum := md5.Sum(body)
	md5hex := hex.EncodeToString(sum[:])
	key := t.Secret
	if key == "" {
		key = md5hex
	}
	h := out.Header
	h.Set("Content-MD5", md5hex)
	h.Set("X-Token", t.Token)
	sts := DatafluxStringToSign(out.Method, md5hex, h.Get("Content-Type"), h.Get("Date"))
	h.Set("Authorization", "DATAFLUX "+t.Token+":"+SignDataflux(key, sts, t.Algo))
	return base(t.Base).RoundTrip(out)
}

// DwayTransport signs requests with the DWAY scheme. By default it uses the
// conventional orientation (id = access key, HMAC keyed by the secret);
// GoSDKOrientation reproduces the DataWay Go SDK, which sends the secret as
// the id and keys the HMAC with the access key.
type DwayTransport struct {
	Base             http.RoundTripper // nil = http.DefaultTransport
	AccessKey        string
	SecretKey        string
	GoSDKOrientation bool
	Now              func() time.Time // nil = time.Now
}

// NewDwayTransport returns a DwayTransport over base in the conventional
// orientation.
func NewDwayTransport(base http.RoundTripper, accessKey, secretKey string) *DwayTransport {
	return &DwayTransport{Base: base, AccessKey: accessKey, SecretKey: secretKey}
}

// RoundTrip signs a clone of req and sends it through Base.
func (t *DwayTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.AccessKey == "" || t.SecretKey == "" {
		closeBody(req)
		return nil, errors.New("signer: DwayTransport needs both keys")
	}
	out, body, err := prepare(req, t.Now, true)
	if err != nil {
		return nil, err
	}
	id, key := t.AccessKey, t.SecretKey
	if t.GoSDKOrientation {
		id, key = key, id
	}
	h := out.Header
	sts := DwayStringToSign(out.Method, body, h.Get("Content-Type"), h.Get("Date"))
	h.Set("Authorization", "DWAY "+id+":"+SignDway(key, sts))
	return base(t.Base).RoundTrip(out)
}

// PandoraTransport signs requests with the Pandora AK/SK scheme as the
// official SDK does: it sets Date and Authorization, and signs any
// Content-MD5 and X-Qiniu-* headers the caller set. The body is not signed,
// so it is streamed untouched.
type PandoraTransport struct {
	Base http.RoundTripper // nil = http.DefaultTransport
	AK   string
	SK   string
	Now  func() time.Time // nil = time.Now
}

// NewPandoraTransport returns a PandoraTransport over base.
func NewPandoraTransport(base http.RoundTripper, ak, sk string) *PandoraTransport {
	return &PandoraTransport{Base: base, AK: ak, SK: sk}
}

// RoundTrip signs a clone of req and sends it through Base.
func (t *PandoraTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.AK == "" || t.SK == "" {
		closeBody(req)
		return nil, errors.New("signer: PandoraTransport needs an access key and a secret key")
	}
	out, _, err := prepare(req, t.Now, false)
	if err != nil {
		return nil, err
	}
	sts := PandoraStringToSign(out.Method, out.Header, out.URL.Path)
	out.Header.Set("Authorization", "Pandora "+t.AK+":"+SignPandora(t.SK, sts))
	return base(t.Base).RoundTrip(out)
}
