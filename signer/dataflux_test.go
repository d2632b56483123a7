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

func TestDatafluxVerifyFailures(t *testing.T) {
	body := []byte("cpu,host=a usage=1 1600000000000000000\n")
	mk := func(secret string, algo Algo) func(http.RoundTripper) http.RoundTripper {
		return datafluxAtT0("tkn_a", secret, algo)
	}
	md5Key := signed(t, mk("", AlgoSHA256), "POST", "/v1/write/metrics?precision=ns", body, map[string]string{"Content-Type": "text/plain"})
	sha1Req := signed(t, mk("", AlgoSHA1), "POST", "/v1/write/metrics", body, nil)
	withSecret := signed(t, mk("s3cret", AlgoSHA256), "POST", "/v1/write/metrics", body, nil)
	sum := md5.Sum(body)
	// A client that sends no Content-MD5: the key still binds the body.
	noMD5 := with(md5Key, "Content-MD5", "")
	noMD5 = with(noMD5, "Authorization", "DATAFLUX tkn_a:"+SignDataflux(DatafluxBodyKey(body),
		DatafluxStringToSign("POST", "", "text/plain", t0.Format(http.TimeFormat)), AlgoSHA256))
	// Content-MD5 in the RFC 1864 base64 form is accepted when it matches.
	b64MD5 := base64.StdEncoding.EncodeToString(sum[:])
	b64Req := with(md5Key, "Content-MD5", b64MD5)
	b64Req = with(b64Req, "Authorization", "DATAFLUX tkn_a:"+SignDataflux(DatafluxBodyKey(body),
		DatafluxStringToSign("POST", b64MD5, "text/plain", t0.Format(http.TimeFormat)), AlgoSHA256))

	secrets := map[string]string{"tkn_a": "", "tkn_s": "s3cret"}
	secretFor := func(tok string) (string, error) {
		s, ok := secrets[tok]
		if !ok {
			return "", errNoKey
		}
		return s, nil
	}
	// withSecret was signed for token tkn_a; serve it as tkn_s.
	withSecret = with(withSecret, "X-Token", "tkn_s")
	withSecret = with(withSecret, "Authorization", strings.Replace(withSecret.Header.Get("Authorization"), "tkn_a", "tkn_s", 1))
	md5KeyAsSecretTok := with(with(md5Key, "X-Token", "tkn_s"), "Authorization", strings.Replace(md5Key.Header.Get("Authorization"), "tkn_a", "tkn_s", 1))

	tampered := withBody(md5Key, "cpu,host=a usage=9 1600000000000000000\n")
	tamperedNoMD5 := noMD5
	tamperedNoMD5.Body = tampered.Body
	auth := md5Key.Header.Get("Authorization")

	tests := []struct {
		name    string
		r       Request
		now     time.Time
		maxSkew time.Duration
		reqMD5  bool
		code    ErrorCode
	}{
		{name: "ok secret with Content-MD5 required", r: withSecret, now: t0, reqMD5: true},
		{name: "ok md5 key without Content-MD5 required", r: noMD5, now: t0, reqMD5: true},
		{name: "secret without Content-MD5 required", r: with(withSecret, "Content-MD5", ""), now: t0, reqMD5: true, code: ErrMissingHeader},
		{name: "secret without Content-MD5 not required", r: with(withSecret, "Content-MD5", ""), now: t0, code: ErrSignatureMismatch},
		{name: "ok sha256 md5 key", r: md5Key, now: t0},
		{name: "ok sha1", r: sha1Req, now: t0},
		{name: "ok with secret", r: withSecret, now: t0},
		{name: "ok without Content-MD5", r: noMD5, now: t0},
		{name: "ok base64 Content-MD5", r: b64Req, now: t0},
		{name: "ok no X-Token", r: with(md5Key, "X-Token", ""), now: t0},
		{name: "skew just inside past", r: md5Key, now: t0.Add(15 * time.Minute)},
		{name: "skew just inside future", r: md5Key, now: t0.Add(-15 * time.Minute)},
		{name: "skew just outside past", r: md5Key, now: t0.Add(15*time.Minute + time.Second), code: ErrClockSkew},
		{name: "skew just outside future", r: md5Key, now: t0.Add(-15*time.Minute - time.Second), code: ErrClockSkew},
		{name: "custom skew", r: md5Key, now: t0.Add(2 * time.Minute), maxSkew: time.Minute, code: ErrClockSkew},
		{name: "custom skew inside", r: md5Key, now: t0.Add(30 * time.Second), maxSkew: time.Minute},
		{name: "missing Authorization", r: with(md5Key, "Authorization", ""), now: t0, code: ErrMissingHeader},
		{name: "missing Date", r: with(md5Key, "Date", ""), now: t0, code: ErrMissingHeader},
		{name: "garbage Date", r: with(md5Key, "Date", "yesterday"), now: t0, code: ErrBadFormat},
		{name: "garbage header", r: with(md5Key, "Authorization", "garbage"), now: t0, code: ErrBadFormat},
		{name: "other scheme", r: with(md5Key, "Authorization", "DWAY tkn_a:"+auth[len(auth)-44:]), now: t0, code: ErrBadFormat},
		{name: "wrong algo length", r: with(md5Key, "Authorization", auth[:len(auth)-2]), now: t0, code: ErrBadFormat},
		{name: "not base64", r: with(md5Key, "Authorization", auth[:len(auth)-44]+strings.Repeat("*", 44)), now: t0, code: ErrBadFormat},
		{name: "url-safe alphabet", r: with(md5Key, "Authorization", auth[:len(auth)-44]+strings.Repeat("_", 43)+"="), now: t0, code: ErrBadFormat},
		{name: "X-Token differs", r: with(md5Key, "X-Token", "tkn_b"), now: t0, code: ErrTokenScope},
		{name: "unknown token", r: with(with(md5Key, "X-Token", "tkn_x"), "Authorization", strings.Replace(auth, "tkn_a", "tkn_x", 1)), now: t0, code: ErrUnknownKey},
		{name: "Content-MD5 wrong", r: with(md5Key, "Content-MD5", strings.Repeat("0", 32)), now: t0, code: ErrDigestMismatch},
		{name: "Content-MD5 garbage", r: with(md5Key, "Content-MD5", "xyz"), now: t0, code: ErrDigestMismatch},
		{name: "body tampered", r: tampered, now: t0, code: ErrDigestMismatch},
		{name: "body tampered no Content-MD5", r: tamperedNoMD5, now: t0, code: ErrSignatureMismatch},
		{name: "method changed", r: func() Request { r := md5Key; r.Method = "PUT"; return r }(), now: t0, code: ErrSignatureMismatch},
		{name: "Content-Type changed", r: with(md5Key, "Content-Type", "application/json"), now: t0, code: ErrSignatureMismatch},
		{name: "md5 key where a secret is set", r: md5KeyAsSecretTok, now: t0, code: ErrSignatureMismatch},
		{name: "nil header", r: Request{Method: "POST"}, now: t0, code: ErrMissingHeader},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := &DatafluxVerifier{Now: fixed(tc.now), MaxSkew: tc.maxSkew, RequireContentMD5: tc.reqMD5}
			tok, err := v.Verify(tc.r, secretFor)
			if verified(t, err, tc.code) {
				assert.NotEmpty(t, tok)
				return
			}
		})
	}

	t.Run("lookup error is wrapped", func(t *testing.T) {
		v := &DatafluxVerifier{Now: fixed(t0)}
		_, err := v.Verify(with(with(md5Key, "X-Token", "tkn_x"), "Authorization", strings.Replace(auth, "tkn_a", "tkn_x", 1)), secretFor)
		assert.ErrorIs(t, err, errNoKey)
		assert.Contains(t, err.Error(), "tkn_x")
	})
}

func TestSignDataflux(t *testing.T) {
	sts := DatafluxStringToSign("POST", "3cd640ae1a6cbd98983675e2cfd6529a", "", "Mon, 23 Nov 2026 00:11:36 GMT")
	// Values from vectors dataflux-01 and -05.
	assert.Equal(t, "vzjoYIULtrMZgOLZOMyU2gNaBiocSPepj7Z8pmbLUlo=", SignDataflux("3cd640ae1a6cbd98983675e2cfd6529a", sts, AlgoSHA256))
	assert.Equal(t, "PbcIcAK1yrzGzKgxxvTGTxNLwRA=", SignDataflux("3cd640ae1a6cbd98983675e2cfd6529a", sts, AlgoSHA1))
	assert.Equal(t, SignDataflux("k", sts, AlgoSHA256), SignDataflux("k", sts, Algo(7)), "unknown algo falls back to SHA-256")
	assert.Equal(t, "HMAC-SHA1", AlgoSHA1.String())
	assert.Equal(t, "HMAC-SHA256", AlgoSHA256.String())
	assert.Equal(t, "Algo(7)", Algo(7).String())
	assert.Equal(t, "d41d8cd98f00b204e9800998ecf8427e", DatafluxBodyKey(nil))
}

// verified reports whether a verification that should fail with code
// (0: should pass) passed, after checking that it did what it should.
func verified(t *testing.T, err error, code ErrorCode) bool {
	t.Helper()
	if code == 0 {
		require.NoError(t, err)
		return true
	}
	require.Error(t, err)
	assert.ErrorIs(t, err, code, "%v", err)
	return false
}

// datafluxAtT0 wraps a transport in a DatafluxTransport whose clock reads t0.
func datafluxAtT0(token, secret string, algo Algo) func(http.RoundTripper) http.RoundTripper {
	return func(b http.RoundTripper) http.RoundTripper {
		tr := NewDatafluxTransport(b, token, secret, algo)
		tr.Now = fixed(t0)
		return tr
	}
}
