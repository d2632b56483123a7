package signer

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"time"
)

// Algo is the HMAC hash of a DATAFLUX signature.
type Algo int

// The DATAFLUX algorithms. The verifier tells them apart by the length of
// the encoded signature: 28 characters for SHA-1, 44 for SHA-256.
const (
	AlgoSHA256 Algo = iota // the default of the DATAFLUX signing helper
	AlgoSHA1
)

func (a Algo) String() string {
	switch a {
	case AlgoSHA256:
		return "HMAC-SHA256"
	case AlgoSHA1:
		return "HMAC-SHA1"
	}
	return fmt.Sprintf("Algo(%d)", int(a))
}

func (a Algo) hash() (func() hash.Hash, int, bool) {
	switch a {
	case AlgoSHA256:
		return sha256.New, sha256.Size, true
	case AlgoSHA1:
		return sha1.New, sha1.Size, true
	}
	return nil, 0, false
}

// algoForSig picks the algorithm from the encoded signature length.
func algoForSig(sig string) (Algo, bool) {
	switch len(sig) {
	case base64.StdEncoding.EncodedLen(sha1.Size): // 28
		return AlgoSHA1, true
	case base64.StdEncoding.EncodedLen(sha256.Size): // 44
		return AlgoSHA256, true
	}
	return 0, false
}

// DatafluxStringToSign is METHOD\nContent-MD5\nContent-Type\nDate, the
// header values verbatim ("" where absent). Neither path nor query is signed.
func DatafluxStringToSign(method, contentMD5, contentType, date string) string {
	return method + "\n" + contentMD5 + "\n" + contentType + "\n" + date
}

// DatafluxBodyKey is the key agents without a secret use: the lowercase hex
// MD5 of the body as sent.
func DatafluxBodyKey(body []byte) string {
	sum := md5.Sum(body)
	return hex.EncodeToString(sum[:])
}

// SignDataflux returns the standard base64 HMAC of stringToSign under key.
// An unknown algo signs with SHA-256.
func SignDataflux(key, stringToSign string, algo Algo) string {
	h, _, ok := algo.hash()
	if !ok {
		h = sha256.New
	}
	return base64.StdEncoding.EncodeToString(macOf(h, key, stringToSign))
}

func macOf(h func() hash.Hash, key, msg string) []byte {
	m := hmac.New(h, []byte(key))
	m.Write([]byte(msg))
	return m.Sum(nil)
}

// DatafluxVerifier checks "Authorization: DATAFLUX <token>:<sig>" requests.
// The zero value is ready: real clock, DefaultMaxSkew.
type DatafluxVerifier struct {
	Now     func() time.Time // nil = time.Now
	MaxSkew time.Duration    // 0 = DefaultMaxSkew
	// RequireContentMD5 rejects secret-keyed requests without Content-MD5.
	// Under a secret the string-to-sign covers the body only through that
	// header, so without it a captured signature could carry another body
	// for as long as its Date is fresh. Off by default for compatibility.
	RequireContentMD5 bool
}

// Verify checks r and returns the workspace token. The token is X-Token
// when present (it must then equal the Authorization id) and the
// Authorization id otherwise. secretFor maps the token to its secret; an
// error from it is reported as ErrUnknownKey wrapping that error, and ""
// selects the compatibility key, the hex MD5 of the body.
//
// Whatever the key, a Content-MD5 header must match the body: with the MD5
// key the server derives the key from the body it received, so a wrong
// header would otherwise be signed verbatim and go unnoticed.
func (v *DatafluxVerifier) Verify(r Request, secretFor func(token string) (string, error)) (string, error) {
	return v.VerifyKeys(r, func(token string) (DatafluxKeys, error) {
		secret, err := secretFor(token)
		if secret == "" {
			return DatafluxKeys{AllowBodyKey: true, RequireContentMD5: false}, err
		}
		return DatafluxKeys{Secrets: []string{secret}, RequireContentMD5: v.RequireContentMD5}, err
	})
}

// DatafluxKeys are the keys a token's signatures may be made with.
type DatafluxKeys struct {
	// Secrets are the token's secrets: the current one, then any still in
	// their rotation overlap. Each is tried (constant-time comparison).
	Secrets []string
	// AllowBodyKey also accepts the compatibility key, the hex MD5 of the
	// body, which anyone who has seen the token can compute.
	AllowBodyKey bool
	// RequireContentMD5 refuses secret-keyed requests without Content-MD5:
	// the string-to-sign covers the body only through that header.
	RequireContentMD5 bool
}

// VerifyKeys is Verify with the full key set of a token: several secrets
// (rotation) and whether the MD5-of-body key is accepted. A signature made
// with the body key where it is refused says so in its error, so an agent
// that lacks the secret learns what to configure.
func (v *DatafluxVerifier) VerifyKeys(r Request, keysFor func(token string) (DatafluxKeys, error)) (string, error) {
	const s = SchemeDataflux
	auth := r.header("Authorization")
	if auth == "" {
		return "", newErr(ErrMissingHeader, s, "Authorization", "want DATAFLUX <token>:<signature>")
	}
	c, err := ParseAuthorization(auth)
	if err != nil {
		return "", err
	}
	if c.Scheme != s {
		return "", newErr(ErrBadFormat, s, "Authorization", "scheme is %s, not DATAFLUX", c.Scheme)
	}
	algo, ok := algoForSig(c.Signature)
	if !ok {
		return "", newErr(ErrBadFormat, s, "Authorization",
			"signature has %d characters; want 28 (HMAC-SHA1) or 44 (HMAC-SHA256) of standard base64", len(c.Signature))
	}
	h, size, _ := algo.hash()
	sig, ok := decodeSig(base64.StdEncoding, c.Signature, size)
	if !ok {
		return "", newErr(ErrBadFormat, s, "Authorization", "signature is not canonical standard base64")
	}
	token := c.ID
	if xt := r.header("X-Token"); xt != "" && xt != token {
		return "", newErr(ErrTokenScope, s, "X-Token", "X-Token %s differs from the Authorization token %s",
			quote(xt), quote(token))
	}
	if err := (clock{v.Now, v.MaxSkew}).checkDate(s, r); err != nil {
		return "", err
	}
	keys, err := keysFor(token)
	if err != nil {
		return "", &Error{Code: ErrUnknownKey, Scheme: s, Header: "X-Token", Msg: "token " + quote(token), Err: err}
	}
	sum := md5.Sum(r.Body)
	contentMD5 := r.header("Content-MD5")
	if contentMD5 != "" && !contentMD5Matches(contentMD5, &sum) {
		return "", newErr(ErrDigestMismatch, s, "Content-MD5",
			"header %s does not match the body received (md5 %x, %d bytes)", quote(contentMD5), sum, len(r.Body))
	}
	if len(keys.Secrets) == 0 && !keys.AllowBodyKey {
		return "", newErr(ErrUnknownKey, s, "Authorization", "the workspace has no secret and refuses MD5-keyed signatures; rotate its secret and sign with it")
	}
	sts := DatafluxStringToSign(r.Method, contentMD5, r.header("Content-Type"), r.header("Date"))
	var bodyKey [2 * md5.Size]byte
	hex.Encode(bodyKey[:], sum[:])
	bodyKeyed := hmac.Equal(sig, macOf(h, string(bodyKey[:]), sts))
	if bodyKeyed && keys.AllowBodyKey {
		return token, nil
	}
	if contentMD5 == "" && keys.RequireContentMD5 && len(keys.Secrets) > 0 {
		return "", newErr(ErrMissingHeader, s, "Content-MD5", "required with a token secret: send the hex MD5 of the body, which the signature then covers")
	}
	for _, secret := range keys.Secrets {
		if secret != "" && hmac.Equal(sig, macOf(h, secret, sts)) {
			return token, nil
		}
	}
	if bodyKeyed {
		return "", newErr(ErrSignatureMismatch, s, "Authorization",
			"the signature is keyed by the body's MD5, which this workspace refuses; sign with the workspace secret (shown when the workspace was created or its secret rotated)")
	}
	return "", newErr(ErrSignatureMismatch, s, "Authorization", "%s over method, Content-MD5, Content-Type and Date does not match", algo)
}
