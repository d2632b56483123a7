package signer

import (
	"crypto/md5"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCanonicalQiniuHeaders(t *testing.T) {
	// Hand-built maps may hold non-canonical names; they sort and match by
	// their canonical form, as net/http would have stored them.
	h := http.Header{
		"x-qiniu-zz":   {"3"},
		"X-Qiniu-A-_z": {"2"},
		"X-Qiniu-A-B":  {"1", "ignored second value"},
		"X-Qiniu-":     {"prefix only, not a qiniu header"},
		"X-Qiniuabc":   {"no dash"},
		"Content-Type": {"text/plain"},
		"X-Qiniu-Nil":  {},
	}
	assert.Equal(t, "\nx-qiniu-a-b:1\nx-qiniu-a-_z:2\nx-qiniu-zz:3", CanonicalQiniuHeaders(h))
	assert.Equal(t, "", CanonicalQiniuHeaders(nil))
	assert.Equal(t, "GET\n\n\n\n/p", PandoraStringToSign("GET", nil, "/p"))
}

func TestPandoraVerifyAKSK(t *testing.T) {
	body := []byte("cpu,host=a usage=1 1600000000000000000")
	sum := md5.Sum(body)
	mk := func(b http.RoundTripper) http.RoundTripper {
		tr := NewPandoraTransport(b, "AK1", "SK1")
		tr.Now = fixed(t0)
		return tr
	}
	plain := signed(t, mk, "POST", "/v4/repos/r1/points?ignored=1", body, map[string]string{"Content-Type": "text/plain"})
	full := signed(t, mk, "POST", "/v4/repos/r1/points", body, map[string]string{
		"Content-Type":             "text/plain",
		"Content-MD5":              base64.StdEncoding.EncodeToString(sum[:]),
		"X-Qiniu-Pipeline-Timeout": "20",
		"X-Qiniu-Request-Tag":      "vec",
	})
	get := signed(t, mk, "GET", "/v4/repos", nil, nil)
	secretFor := func(ak string) (string, error) {
		switch ak {
		case "AK1":
			return "SK1", nil
		case "AKEMPTY":
			return "", nil
		}
		return "", errNoKey
	}
	auth := plain.Header.Get("Authorization")
	sig := auth[len("Pandora AK1:"):]
	otherBody := withBody(full, "changed")
	plainOtherBody := withBody(plain, "changed")

	tests := []struct {
		name   string
		r      Request
		now    time.Time
		skip   bool
		code   ErrorCode
		header string
	}{
		{name: "ok plain", r: plain, now: t0},
		{name: "ok with Content-MD5 and X-Qiniu", r: full, now: t0},
		{name: "ok GET", r: get, now: t0},
		{name: "ok body changed, body not signed", r: plainOtherBody, now: t0},
		{name: "skew just inside", r: plain, now: t0.Add(-15 * time.Minute)},
		{name: "skew just outside", r: plain, now: t0.Add(-15*time.Minute - time.Second), code: ErrClockSkew, header: "Date"},
		{name: "missing Authorization", r: with(plain, "Authorization", ""), now: t0, code: ErrMissingHeader},
		{name: "missing Date", r: with(plain, "Date", ""), now: t0, code: ErrMissingHeader, header: "Date"},
		{name: "ANSI C date", r: with(plain, "Date", "Mon Nov 23 00:11:36 2026"), now: t0, code: ErrSignatureMismatch},
		{name: "garbage", r: with(plain, "Authorization", "Pandora"), now: t0, code: ErrBadFormat},
		{name: "other scheme", r: with(plain, "Authorization", "DATAFLUX AK1:"+sig), now: t0, code: ErrBadFormat},
		{name: "std base64 alphabet", r: with(plain, "Authorization", "Pandora AK1:"+strings.Repeat("+", 27)+"="), now: t0, code: ErrBadFormat},
		{name: "unpadded signature", r: with(plain, "Authorization", "Pandora AK1:"+strings.TrimRight(sig, "=")), now: t0, code: ErrBadFormat},
		{name: "four parts", r: with(plain, "Authorization", "Pandora AK1:"+sig+":a:b"), now: t0, code: ErrBadFormat},
		{name: "unknown ak", r: with(plain, "Authorization", "Pandora AK2:"+sig), now: t0, code: ErrUnknownKey},
		{name: "empty secret", r: with(plain, "Authorization", "Pandora AKEMPTY:"+sig), now: t0, code: ErrUnknownKey},
		{name: "path changed", r: func() Request { r := plain; r.Path = "/v4/repos/r2/points"; return r }(), now: t0, code: ErrSignatureMismatch},
		{name: "X-Qiniu added", r: with(plain, "X-Qiniu-Extra", "1"), now: t0, code: ErrSignatureMismatch},
		{name: "X-Qiniu changed", r: with(full, "X-Qiniu-Request-Tag", "other"), now: t0, code: ErrSignatureMismatch},
		{name: "Content-MD5 vs body", r: otherBody, now: t0, code: ErrDigestMismatch, header: "Content-MD5"},
		{name: "Content-MD5 vs body skipped", r: otherBody, now: t0, skip: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := &PandoraVerifier{Now: fixed(tc.now), SkipBodyDigest: tc.skip}
			ak, err := v.Verify(tc.r, secretFor)
			if verified(t, err, tc.code) {
				assert.Equal(t, "AK1", ak)
				return
			}
			if tc.header != "" {
				var se *Error
				require.ErrorAs(t, err, &se)
				assert.Equal(t, tc.header, se.Header)
			}
		})
	}
}

func TestPandoraVerifyToken(t *testing.T) {
	exp := t0.Add(time.Hour).Unix()
	body := []byte("cpu v=1 1")
	sum := md5.Sum(body)
	cm := base64.StdEncoding.EncodeToString(sum[:])
	req := func(auth string, hdr map[string]string) Request {
		h := http.Header{"Authorization": {auth}, "Content-Type": {"text/plain"}}
		for k, v := range hdr {
			h.Set(k, v)
		}
		return Request{Method: "POST", Path: "/v4/repos/r1/points", Header: h, Body: body}
	}
	tok := func(d PandoraToken) string {
		if d.Resource == "" {
			d.Resource = "/v4/repos/r1/points"
		}
		if d.Method == "" {
			d.Method = "POST"
		}
		if d.Expires == 0 {
			d.Expires = exp
		}
		s, err := MakePandoraToken("AK1", "SK1", d)
		require.NoError(t, err)
		return s
	}
	basic := tok(PandoraToken{})
	parts := strings.Split(basic, ":")
	// Re-sign a description by hand, to craft unusual encodings.
	handMade := func(descJSON string, enc *base64.Encoding) string {
		d := enc.EncodeToString([]byte(descJSON))
		return "Pandora AK1:" + SignPandora("SK1", d) + ":" + d
	}
	qh := http.Header{"X-Qiniu-Tag": {"a"}}
	secretFor := func(ak string) (string, error) {
		if ak == "AK1" {
			return "SK1", nil
		}
		return "", errNoKey
	}
	forged := "Pandora AK1:" + parts[1] + ":" + base64.URLEncoding.EncodeToString(
		[]byte(`{"resource":"/v4/repos/r2/points","expires":4102444800,"contentMD5":"","contentType":"","headers":"","method":"POST"}`))

	tests := []struct {
		name string
		r    Request
		now  time.Time
		code ErrorCode
	}{
		{name: "ok", r: req(basic, nil), now: t0},
		{name: "ok without Date header", r: with(req(basic, nil), "Date", ""), now: t0},
		{name: "ok at expiry", r: req(basic, nil), now: time.Unix(exp, 0)},
		{name: "expired one second later", r: req(basic, nil), now: time.Unix(exp+1, 0), code: ErrTokenExpired},
		{name: "ok pinned content type", r: req(tok(PandoraToken{ContentType: "text/plain"}), nil), now: t0},
		{name: "pinned content type differs", r: req(tok(PandoraToken{ContentType: "application/json"}), nil), now: t0, code: ErrTokenScope},
		{name: "ok pinned Content-MD5", r: req(tok(PandoraToken{ContentMD5: cm}), map[string]string{"Content-MD5": cm}), now: t0},
		{name: "pinned Content-MD5 absent", r: req(tok(PandoraToken{ContentMD5: cm}), nil), now: t0, code: ErrTokenScope},
		{name: "Content-MD5 header vs body", r: req(basic, map[string]string{"Content-MD5": "1B2M2Y8AsgTpgAmY7PhCfg=="}), now: t0, code: ErrDigestMismatch},
		{name: "ok pinned headers", r: req(tok(PandoraToken{Headers: CanonicalQiniuHeaders(qh)}), map[string]string{"X-Qiniu-Tag": "a"}), now: t0},
		{name: "pinned headers differ", r: req(tok(PandoraToken{Headers: CanonicalQiniuHeaders(qh)}), map[string]string{"X-Qiniu-Tag": "b"}), now: t0, code: ErrTokenScope},
		{name: "method differs", r: req(tok(PandoraToken{Method: "GET"}), nil), now: t0, code: ErrTokenScope},
		{name: "resource differs", r: req(tok(PandoraToken{Resource: "/v4/repos/r1"}), nil), now: t0, code: ErrTokenScope},
		{name: "ok unpadded description", r: req(handMade(`{"resource":"/v4/repos/r1/points","expires":4102444800,"method":"POST"}`, base64.RawURLEncoding), nil), now: t0},
		{name: "description forged", r: req(forged, nil), now: t0, code: ErrSignatureMismatch},
		{name: "description not base64", r: req("Pandora AK1:"+parts[1]+":***", nil), now: t0, code: ErrBadFormat},
		{name: "description not JSON", r: req(handMade("not json", base64.URLEncoding), nil), now: t0, code: ErrBadFormat},
		{name: "description without expiry", r: req(handMade(`{"resource":"/x","method":"POST"}`, base64.URLEncoding), nil), now: t0, code: ErrBadFormat},
		{name: "description without method", r: req(handMade(`{"resource":"/x","expires":5}`, base64.URLEncoding), nil), now: t0, code: ErrBadFormat},
		{name: "description without resource", r: req(handMade(`{"method":"GET","expires":5}`, base64.URLEncoding), nil), now: t0, code: ErrBadFormat},
		{name: "unknown ak", r: req(strings.Replace(basic, "AK1", "AK2", 1), nil), now: t0, code: ErrUnknownKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ak, err := (&PandoraVerifier{Now: fixed(tc.now)}).Verify(tc.r, secretFor)
			if verified(t, err, tc.code) {
				assert.Equal(t, "AK1", ak)
				return
			}
		})
	}
}

func TestMakePandoraTokenErrors(t *testing.T) {
	good := PandoraToken{Resource: "/v4/repos", Method: "GET", Expires: 1}
	_, err := MakePandoraToken("AK", "SK", good)
	require.NoError(t, err)
	for name, tc := range map[string]struct {
		ak, sk string
		t      PandoraToken
	}{
		"no ak":           {"", "SK", good},
		"no sk":           {"AK", "", good},
		"relative path":   {"AK", "SK", PandoraToken{Resource: "v4", Method: "GET", Expires: 1}},
		"lower-case verb": {"AK", "SK", PandoraToken{Resource: "/v4", Method: "get", Expires: 1}},
		"no method":       {"AK", "SK", PandoraToken{Resource: "/v4", Expires: 1}},
		"no expiry":       {"AK", "SK", PandoraToken{Resource: "/v4", Method: "GET"}},
		"negative expiry": {"AK", "SK", PandoraToken{Resource: "/v4", Method: "GET", Expires: -5}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := MakePandoraToken(tc.ak, tc.sk, tc.t)
			assert.Error(t, err)
		})
	}
}
