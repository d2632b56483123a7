package signer

import (
	"crypto/md5"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"time"
)

// DefaultMaxSkew is the largest accepted distance between the Date header
// and the server clock when a verifier's MaxSkew is zero.
const DefaultMaxSkew = 15 * time.Minute

// Request is what a verifier needs of an HTTP request. Body is the body
// exactly as received: still gzipped when Content-Encoding is gzip, because
// the clients hash the bytes they put on the wire.
type Request struct {
	Method string
	Path   string // URL path, decoded (url.URL.Path); Pandora signs it
	Header http.Header
	Body   []byte
}

// FromHTTP builds a Request from a server-side *http.Request and the body
// the caller has already read from it.
func FromHTTP(r *http.Request, body []byte) Request {
	path := ""
	if r.URL != nil {
		path = r.URL.Path
	}
	return Request{Method: r.Method, Path: path, Header: r.Header, Body: body}
}

// header returns the first value of name; nil maps are fine.
func (r Request) header(name string) string {
	return r.Header.Get(name)
}

// clock holds the parts every verifier shares.
type clock struct {
	now     func() time.Time
	maxSkew time.Duration
}

func (c clock) Now() time.Time {
	if c.now == nil {
		return time.Now()
	}
	return c.now()
}

// checkDate requires a parseable Date header within the skew window.
func (c clock) checkDate(scheme Scheme, r Request) error {
	v := r.header("Date")
	if v == "" {
		return newErr(ErrMissingHeader, scheme, "Date", "the Date header is required and signed")
	}
	t, err := parseDate(v)
	if err != nil {
		return &Error{Code: ErrBadFormat, Scheme: scheme, Header: "Date",
			Msg: "want an HTTP date such as \"Mon, 02 Jan 2006 15:04:05 GMT\", got " + quote(v), Err: err}
	}
	skew := c.maxSkew
	if skew <= 0 {
		skew = DefaultMaxSkew
	}
	now := c.Now()
	d := now.Sub(t)
	if d > skew || d < -skew {
		return newErr(ErrClockSkew, scheme, "Date",
			"request date %s is %s from server time %s; the limit is %s, check the client clock",
			t.UTC().Format(time.RFC3339), d.Round(time.Second).String(), now.UTC().Format(time.RFC3339), skew)
	}
	return nil
}

func parseDate(v string) (time.Time, error) {
	t, err := http.ParseTime(v)
	if err == nil {
		return t, nil
	}
	// Some clients send a numeric zone (RFC 1123 with "+0000").
	if t2, err2 := time.Parse(time.RFC1123Z, v); err2 == nil {
		return t2, nil
	}
	return time.Time{}, err
}

func quote(s string) string {
	return "\"" + truncate(s, 64) + "\""
}

// contentMD5Matches reports whether a Content-MD5 header value names sum.
// DATAFLUX clients send lowercase hex, Qiniu clients the RFC 1864 base64
// form; both are accepted (hex in any case) since the value is compared
// with the body, not trusted.
func contentMD5Matches(v string, sum *[md5.Size]byte) bool {
	switch len(v) {
	case 2 * md5.Size:
		var got [md5.Size]byte
		if _, err := hex.Decode(got[:], []byte(v)); err != nil {
			return false
		}
		return subtle.ConstantTimeCompare(got[:], sum[:]) == 1
	case base64.StdEncoding.EncodedLen(md5.Size):
		var got [md5.Size + 2]byte
		n, err := base64.StdEncoding.Strict().Decode(got[:], []byte(v))
		if err != nil || n != md5.Size {
			return false
		}
		return subtle.ConstantTimeCompare(got[:n], sum[:]) == 1
	}
	return false
}

// decodeSig decodes an encoded signature that must hold exactly n raw
// bytes, rejecting non-canonical encodings so one HMAC has one spelling.
func decodeSig(enc *base64.Encoding, sig string, n int) ([]byte, bool) {
	if len(sig) != enc.EncodedLen(n) {
		return nil, false
	}
	buf := make([]byte, enc.DecodedLen(len(sig)))
	got, err := enc.Strict().Decode(buf, []byte(sig))
	if err != nil || got != n {
		return nil, false
	}
	return buf[:n], true
}
