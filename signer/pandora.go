package signer

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/textproto"
	"sort"
	"strings"
	"time"
)

const qiniuHeaderPrefix = "X-Qiniu-"

// CanonicalQiniuHeaders is the X-Qiniu-* part of a Pandora string-to-sign:
// for each such header, sorted by its canonical Go name (so "X-Qiniu-A-B"
// sorts before "X-Qiniu-A-_z", vector pandora-23), "\n" + lower(name) +
// ":" + first value. It is "" when there is none.
func CanonicalQiniuHeaders(h http.Header) string {
	type kv struct{ canon, lower, value string }
	var hs []kv
	for k, vs := range h {
		// net/http stores received names canonically; canonicalize anyway
		// so hand-built maps sort and match the same way.
		ck := textproto.CanonicalMIMEHeaderKey(k)
		if len(ck) > len(qiniuHeaderPrefix) && strings.HasPrefix(ck, qiniuHeaderPrefix) && len(vs) > 0 {
			hs = append(hs, kv{ck, strings.ToLower(k), vs[0]})
		}
	}
	if len(hs) == 0 {
		return ""
	}
	sort.Slice(hs, func(i, j int) bool { return hs[i].canon < hs[j].canon })
	var b strings.Builder
	for _, x := range hs {
		b.WriteByte('\n')
		b.WriteString(x.lower)
		b.WriteByte(':')
		b.WriteString(x.value)
	}
	return b.String()
}

// PandoraStringToSign is Method\nContent-MD5\nContent-Type\nDate\n, then
// CanonicalQiniuHeaders, then the URL path with no separator. Neither the
// query string nor the body is signed.
func PandoraStringToSign(method string, h http.Header, path string) string {
	return method + "\n" + h.Get("Content-MD5") + "\n" + h.Get("Content-Type") + "\n" +
		h.Get("Date") + "\n" + CanonicalQiniuHeaders(h) + path
}

// SignPandora returns the URL-safe (padded) base64 HMAC-SHA1 of
// stringToSign under sk.
func SignPandora(sk, stringToSign string) string {
	return base64.URLEncoding.EncodeToString(macOf(sha1.New, sk, stringToSign))
}

// PandoraToken is the description a Pandora token carries, with the JSON
// names and field order of the official SDK (the HMAC covers the encoded
// JSON as sent, so the order matters only when making tokens).
type PandoraToken struct {
	Resource    string `json:"resource"`    // URL path the token is good for
	Expires     int64  `json:"expires"`     // Unix seconds
	ContentMD5  string `json:"contentMD5"`  // "" = any
	ContentType string `json:"contentType"` // "" = any
	Headers     string `json:"headers"`     // CanonicalQiniuHeaders of the request; "" = any
	Method      string `json:"method"`
}

// MakePandoraToken signs t and returns the whole Authorization value,
// "Pandora <ak>:<sig>:<encodedDesc>", as the SDK's MakeToken does.
func MakePandoraToken(ak, sk string, t PandoraToken) (string, error) {
	if ak == "" || sk == "" {
		return "", errors.New("signer: MakePandoraToken needs a non-empty access key and secret key")
	}
	if t.Resource == "" || !strings.HasPrefix(t.Resource, "/") {
		return "", errors.New("signer: PandoraToken.Resource must be a URL path starting with /")
	}
	if t.Method == "" || strings.ToUpper(t.Method) != t.Method {
		return "", errors.New("signer: PandoraToken.Method must be an upper-case HTTP method")
	}
	if t.Expires <= 0 {
		return "", errors.New("signer: PandoraToken.Expires must be a Unix time in seconds")
	}
	js, err := json.Marshal(t)
	if err != nil {
		return "", err
	}
	desc := base64.URLEncoding.EncodeToString(js)
	return "Pandora " + ak + ":" + SignPandora(sk, desc) + ":" + desc, nil
}

// DecodePandoraToken decodes an encoded token description (the third part
// of a token) without checking its signature.
func DecodePandoraToken(encodedDesc string) (PandoraToken, error) {
	enc := base64.URLEncoding
	if len(encodedDesc)%4 != 0 {
		enc = base64.RawURLEncoding // tolerate clients that strip padding
	}
	js, err := enc.DecodeString(encodedDesc)
	if err != nil {
		return PandoraToken{}, &Error{Code: ErrBadFormat, Scheme: SchemePandora, Header: "Authorization",
			Msg: "token description is not URL-safe base64", Err: err}
	}
	var t PandoraToken
	if err := json.Unmarshal(js, &t); err != nil {
		return PandoraToken{}, &Error{Code: ErrBadFormat, Scheme: SchemePandora, Header: "Authorization",
			Msg: "token description is not the JSON object {resource,expires,contentMD5,contentType,headers,method}", Err: err}
	}
	switch {
	case t.Resource == "":
		return PandoraToken{}, newErr(ErrBadFormat, SchemePandora, "Authorization", "token description has no resource")
	case t.Method == "":
		return PandoraToken{}, newErr(ErrBadFormat, SchemePandora, "Authorization", "token description has no method")
	case t.Expires <= 0:
		return PandoraToken{}, newErr(ErrBadFormat, SchemePandora, "Authorization", "token description has no expiry")
	}
	return t, nil
}

// PandoraVerifier checks "Authorization: Pandora ..." requests in both the
// AK/SK form and the token form. The zero value is ready: real clock,
// DefaultMaxSkew, Content-MD5 checked against the body.
type PandoraVerifier struct {
	Now     func() time.Time // nil = time.Now
	MaxSkew time.Duration    // 0 = DefaultMaxSkew; AK/SK form only
	// SkipBodyDigest turns off the Content-MD5 versus body check, for a
	// caller that verifies before reading the body. The signature covers
	// the header, never the body, so the check is the only body integrity
	// there is (vector pandora-32).
	SkipBodyDigest bool
}

// Verify checks r and returns the access key. secretFor maps an access key
// to its secret; its error is reported as ErrUnknownKey wrapping it.
//
// A token is checked for its HMAC, then its expiry against the verifier's
// clock, then its scope: the resource must equal the request path, the
// method must match, and contentType, contentMD5 and headers, where set,
// must equal the request's. Tokens carry their own expiry, so the Date
// header is not required for them.
func (v *PandoraVerifier) Verify(r Request, secretFor func(ak string) (string, error)) (string, error) {
	const s = SchemePandora
	auth := r.header("Authorization")
	if auth == "" {
		return "", newErr(ErrMissingHeader, s, "Authorization", "want Pandora <ak>:<sig> or Pandora <ak>:<sig>:<token description>")
	}
	c, err := ParseAuthorization(auth)
	if err != nil {
		return "", err
	}
	if c.Scheme != s {
		return "", newErr(ErrBadFormat, s, "Authorization", "scheme is %s, not Pandora", c.Scheme)
	}
	sig, ok := decodeSig(base64.URLEncoding, c.Signature, sha1.Size)
	if !ok {
		return "", newErr(ErrBadFormat, s, "Authorization",
			"signature must be 28 characters of URL-safe base64 (HMAC-SHA1), got %d characters", len(c.Signature))
	}
	clk := clock{v.Now, v.MaxSkew}
	var tok PandoraToken
	if c.TokenDesc != "" {
		if tok, err = DecodePandoraToken(c.TokenDesc); err != nil {
			return "", err
		}
	} else if err := clk.checkDate(s, r); err != nil {
		return "", err
	}
	sk, err := secretFor(c.ID)
	if err != nil {
		return "", &Error{Code: ErrUnknownKey, Scheme: s, Header: "Authorization", Msg: "access key " + quote(c.ID), Err: err}
	}
	if sk == "" {
		return "", newErr(ErrUnknownKey, s, "Authorization", "access key %s has an empty secret", quote(c.ID))
	}
	if c.TokenDesc != "" {
		if !hmac.Equal(sig, macOf(sha1.New, sk, c.TokenDesc)) {
			return "", newErr(ErrSignatureMismatch, s, "Authorization", "token HMAC-SHA1 over the token description does not match")
		}
		if err := checkTokenScope(tok, r, clk.Now()); err != nil {
			return "", err
		}
	} else if !hmac.Equal(sig, macOf(sha1.New, sk, PandoraStringToSign(r.Method, r.Header, r.Path))) {
		return "", newErr(ErrSignatureMismatch, s, "Authorization",
			"HMAC-SHA1 over method, Content-MD5, Content-Type, Date, X-Qiniu-* headers and path %s does not match", quote(r.Path))
	}
	if !v.SkipBodyDigest {
		if err := CheckPandoraBodyDigest(r); err != nil {
			return "", err
		}
	}
	return c.ID, nil
}

// CheckPandoraBodyDigest checks a Content-MD5 header, when there is one,
// against r.Body: the second half of a verification done with
// SkipBodyDigest before the body was read.
func CheckPandoraBodyDigest(r Request) error {
	cm := r.header("Content-MD5")
	if cm == "" {
		return nil
	}
	sum := md5.Sum(r.Body)
	if !contentMD5Matches(cm, &sum) {
		return newErr(ErrDigestMismatch, SchemePandora, "Content-MD5",
			"header %s does not match the body received (%d bytes)", quote(cm), len(r.Body))
	}
	return nil
}

func checkTokenScope(t PandoraToken, r Request, now time.Time) error {
	const s = SchemePandora
	if exp := time.Unix(t.Expires, 0); now.After(exp) {
		return newErr(ErrTokenExpired, s, "Authorization", "token expired at %s, server time is %s",
			exp.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	if t.Resource != r.Path {
		return newErr(ErrTokenScope, s, "Authorization", "token is for resource %s, request path is %s", quote(t.Resource), quote(r.Path))
	}
	if t.Method != r.Method {
		return newErr(ErrTokenScope, s, "Authorization", "token is for method %s, request method is %s", quote(t.Method), quote(r.Method))
	}
	if ct := r.header("Content-Type"); t.ContentType != "" && t.ContentType != ct {
		return newErr(ErrTokenScope, s, "Content-Type", "token requires %s, request has %s", quote(t.ContentType), quote(ct))
	}
	if cm := r.header("Content-MD5"); t.ContentMD5 != "" && t.ContentMD5 != cm {
		return newErr(ErrTokenScope, s, "Content-MD5", "token requires %s, request has %s", quote(t.ContentMD5), quote(cm))
	}
	if t.Headers != "" {
		if got := CanonicalQiniuHeaders(r.Header); got != t.Headers {
			return newErr(ErrTokenScope, s, "X-Qiniu-*", "token requires X-Qiniu headers %q, request has %q", truncate(t.Headers, 128), truncate(got, 128))
		}
	}
	return nil
}
