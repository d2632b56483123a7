package signer

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDwayVerifyFailures(t *testing.T) {
	body := []byte("cpu,host=a usage=1 1600000000000000000\n")
	mk := func(goSDK bool) func(http.RoundTripper) http.RoundTripper {
		return func(b http.RoundTripper) http.RoundTripper {
			tr := NewDwayTransport(b, "ak1", "sk1")
			tr.GoSDKOrientation = goSDK
			tr.Now = fixed(t0)
			return tr
		}
	}
	hdr := map[string]string{"Content-Type": "text/plain"}
	js := signed(t, mk(false), "POST", "/v1/write/metrics?token=x", body, hdr)
	goSDK := signed(t, mk(true), "POST", "/v1/write/metrics", body, hdr)
	require.True(t, strings.HasPrefix(js.Header.Get("Authorization"), "DWAY ak1:"))
	require.True(t, strings.HasPrefix(goSDK.Header.Get("Authorization"), "DWAY sk1:"))

	pairs := map[string]KeyPair{"ak1": {"ak1", "sk1"}, "sk1": {"ak1", "sk1"}, "odd": {"ak9", "sk9"}, "half": {"half", ""}}
	lookup := func(id string) (KeyPair, error) {
		kp, ok := pairs[id]
		if !ok {
			return KeyPair{}, errNoKey
		}
		return kp, nil
	}
	auth := js.Header.Get("Authorization")
	sig := auth[len(auth)-28:]
	tampered := withBody(js, "cpu,host=a usage=2 1600000000000000000\n")

	tests := []struct {
		name string
		r    Request
		now  time.Time
		deny bool
		code ErrorCode
	}{
		{name: "ok js orientation", r: js, now: t0},
		{name: "ok matching Content-MD5 hex", r: with(js, "Content-MD5", DatafluxBodyKey(body)), now: t0},
		{name: "Content-MD5 of another body", r: with(js, "Content-MD5", DatafluxBodyKey([]byte("x"))), now: t0, code: ErrDigestMismatch},
		{name: "Content-MD5 garbage", r: with(js, "Content-MD5", "nope"), now: t0, code: ErrDigestMismatch},
		{name: "ok go sdk orientation", r: goSDK, now: t0},
		{name: "ok js orientation with deny", r: js, now: t0, deny: true},
		{name: "go sdk orientation denied", r: goSDK, now: t0, deny: true, code: ErrUnknownKey},
		{name: "skew just inside", r: js, now: t0.Add(15 * time.Minute)},
		{name: "skew just outside", r: js, now: t0.Add(15*time.Minute + time.Second), code: ErrClockSkew},
		{name: "missing Authorization", r: with(js, "Authorization", ""), now: t0, code: ErrMissingHeader},
		{name: "missing Date", r: with(js, "Date", ""), now: t0, code: ErrMissingHeader},
		{name: "garbage", r: with(js, "Authorization", "DWAY"), now: t0, code: ErrBadFormat},
		{name: "other scheme", r: with(js, "Authorization", "Pandora ak1:"+sig), now: t0, code: ErrBadFormat},
		{name: "sha256 length", r: with(js, "Authorization", "DWAY ak1:"+strings.Repeat("A", 43)+"="), now: t0, code: ErrBadFormat},
		{name: "unknown id", r: with(js, "Authorization", "DWAY nobody:"+sig), now: t0, code: ErrUnknownKey},
		{name: "lookup returns foreign pair", r: with(js, "Authorization", "DWAY odd:"+sig), now: t0, code: ErrUnknownKey},
		{name: "pair without secret", r: with(js, "Authorization", "DWAY half:"+sig), now: t0, code: ErrUnknownKey},
		{name: "swapped id", r: with(js, "Authorization", "DWAY sk1:"+sig), now: t0, code: ErrSignatureMismatch},
		{name: "body tampered", r: tampered, now: t0, code: ErrSignatureMismatch},
		{name: "Content-Type changed", r: with(js, "Content-Type", "application/json"), now: t0, code: ErrSignatureMismatch},
		{name: "Date changed", r: with(js, "Date", t0.Add(time.Second).Format(http.TimeFormat)), now: t0, code: ErrSignatureMismatch},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := &DwayVerifier{Now: fixed(tc.now), DenySecretAsID: tc.deny}
			kp, err := v.Verify(tc.r, lookup)
			if verified(t, err, tc.code) {
				assert.Equal(t, KeyPair{"ak1", "sk1"}, kp)
				return
			}
		})
	}
	t.Run("lookup error is wrapped", func(t *testing.T) {
		_, err := (&DwayVerifier{Now: fixed(t0)}).Verify(with(js, "Authorization", "DWAY nobody:"+sig), lookup)
		assert.ErrorIs(t, err, errNoKey)
	})
}

func TestDwayStringToSign(t *testing.T) {
	// MD5 of the empty body, base64.
	assert.Equal(t, "POST\n1B2M2Y8AsgTpgAmY7PhCfg==\ntext/plain\nMon, 23 Nov 2026 00:11:36 GMT",
		DwayStringToSign("POST", nil, "text/plain", "Mon, 23 Nov 2026 00:11:36 GMT"))
	assert.Len(t, SignDway("k", "x"), 28)
}
