package signer

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"time"
)

// KeyPair is a DWAY credential pair.
type KeyPair struct {
	AccessKey string
	SecretKey string
}

// DwayStringToSign is METHOD\nbase64(MD5(body))\nContent-Type\nDate, with
// the MD5 over the body bytes as sent (gzipped when compressed).
func DwayStringToSign(method string, body []byte, contentType, date string) string {
	sum := md5.Sum(body)
	return method + "\n" + base64.StdEncoding.EncodeToString(sum[:]) + "\n" + contentType + "\n" + date
}

// SignDway returns the standard base64 HMAC-SHA1 of stringToSign under key.
func SignDway(key, stringToSign string) string {
	return base64.StdEncoding.EncodeToString(macOf(sha1.New, key, stringToSign))
}

// DwayVerifier checks "Authorization: DWAY <id>:<sig>" requests. The zero
// value is ready: real clock, DefaultMaxSkew, both key orientations.
type DwayVerifier struct {
	Now     func() time.Time // nil = time.Now
	MaxSkew time.Duration    // 0 = DefaultMaxSkew
	// DenySecretAsID refuses the DataWay Go SDK orientation, where the
	// header carries the secret key in the clear and the HMAC is keyed by
	// the access key. It is accepted by default because deployed agents
	// use that SDK.
	DenySecretAsID bool
}

// Verify checks r and returns the key pair that signed it. lookup must find
// a pair by either of its keys (the id is the access key for JS SDK
// clients and the secret key for Go SDK clients); its error is reported as
// ErrUnknownKey wrapping it.
func (v *DwayVerifier) Verify(r Request, lookup func(id string) (KeyPair, error)) (KeyPair, error) {
	const s = SchemeDway
	auth := r.header("Authorization")
	if auth == "" {
		return KeyPair{}, newErr(ErrMissingHeader, s, "Authorization", "want DWAY <key id>:<signature>")
	}
	c, err := ParseAuthorization(auth)
	if err != nil {
		return KeyPair{}, err
	}
	if c.Scheme != s {
		return KeyPair{}, newErr(ErrBadFormat, s, "Authorization", "scheme is %s, not DWAY", c.Scheme)
	}
	sig, ok := decodeSig(base64.StdEncoding, c.Signature, sha1.Size)
	if !ok {
		return KeyPair{}, newErr(ErrBadFormat, s, "Authorization",
			"signature must be 28 characters of standard base64 (HMAC-SHA1), got %d characters", len(c.Signature))
	}
	if err := (clock{v.Now, v.MaxSkew}).checkDate(s, r); err != nil {
		return KeyPair{}, err
	}
	kp, err := lookup(c.ID)
	if err != nil {
		return KeyPair{}, &Error{Code: ErrUnknownKey, Scheme: s, Header: "Authorization", Msg: "key id not found", Err: err}
	}
	// The id picks the orientation, and with it the one key that may have
	// signed; trying both keys would let a secret-keyed signature pass
	// under the Go SDK orientation (vector dataway-06).
	var key string
	switch {
	case subtle.ConstantTimeCompare([]byte(c.ID), []byte(kp.AccessKey)) == 1:
		key = kp.SecretKey
	case subtle.ConstantTimeCompare([]byte(c.ID), []byte(kp.SecretKey)) == 1:
		if v.DenySecretAsID {
			return KeyPair{}, newErr(ErrUnknownKey, s, "Authorization",
				"the id is the pair's secret key (DataWay Go SDK orientation), which this server refuses; send the access key as id and key the HMAC with the secret")
		}
		key = kp.AccessKey
	default:
		return KeyPair{}, newErr(ErrUnknownKey, s, "Authorization", "lookup returned a pair that holds neither key id")
	}
	if key == "" {
		return KeyPair{}, newErr(ErrUnknownKey, s, "Authorization", "the key pair has an empty signing key")
	}
	// The HMAC covers the body through its own MD5; a Content-MD5 header
	// the client sends must agree too, as with every scheme, so no
	// component downstream can trust a header that names another body.
	if cm := r.header("Content-MD5"); cm != "" {
		sum := md5.Sum(r.Body)
		if !contentMD5Matches(cm, &sum) {
			return KeyPair{}, newErr(ErrDigestMismatch, s, "Content-MD5",
				"header %s does not match the body received (%d bytes)", quote(cm), len(r.Body))
		}
	}
	want := macOf(sha1.New, key, DwayStringToSign(r.Method, r.Body, r.header("Content-Type"), r.header("Date")))
	if !hmac.Equal(sig, want) {
		return KeyPair{}, newErr(ErrSignatureMismatch, s, "Authorization",
			"HMAC-SHA1 over method, body MD5 (%d bytes), Content-Type and Date does not match", len(r.Body))
	}
	return kp, nil
}
