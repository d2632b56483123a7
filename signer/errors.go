package signer

import (
	"errors"
	"fmt"
)

// ErrorCode classifies why a request failed verification. It implements
// error so callers can write errors.Is(err, signer.ErrClockSkew).
type ErrorCode int

// The failure kinds a verifier reports.
const (
	// ErrMissingHeader: Authorization, Date or another required header is absent.
	ErrMissingHeader ErrorCode = iota + 1
	// ErrBadFormat: a header or token is present but malformed (unknown
	// scheme, missing colon, signature of the wrong length, bad base64...).
	ErrBadFormat
	// ErrClockSkew: the Date header is too far from the server clock.
	ErrClockSkew
	// ErrDigestMismatch: Content-MD5 does not match the body as received.
	ErrDigestMismatch
	// ErrSignatureMismatch: the HMAC does not match.
	ErrSignatureMismatch
	// ErrUnknownKey: the key id (token, access key) is not known, or is
	// used in an orientation the verifier does not accept.
	ErrUnknownKey
	// ErrTokenExpired: a Pandora token is past its expiry.
	ErrTokenExpired
	// ErrTokenScope: a Pandora token (or X-Token header) does not cover
	// this request's path, method, content type or headers.
	ErrTokenScope
)

var codeNames = map[ErrorCode]string{
	ErrMissingHeader:     "missing header",
	ErrBadFormat:         "bad format",
	ErrClockSkew:         "clock skew",
	ErrDigestMismatch:    "body digest mismatch",
	ErrSignatureMismatch: "signature mismatch",
	ErrUnknownKey:        "unknown key",
	ErrTokenExpired:      "token expired",
	ErrTokenScope:        "token scope mismatch",
}

// String returns the code's short name.
func (c ErrorCode) String() string {
	if s, ok := codeNames[c]; ok {
		return s
	}
	return fmt.Sprintf("ErrorCode(%d)", int(c))
}

// Error makes ErrorCode usable as an errors.Is target.
func (c ErrorCode) Error() string { return "signer: " + c.String() }

// Error is a verification failure. Scheme and Header locate it; Err is the
// underlying cause where there is one (for example the key lookup error).
type Error struct {
	Code   ErrorCode
	Scheme Scheme // "" when the scheme is not known yet
	Header string // the header at fault, "" if none
	Msg    string
	Err    error
}

func (e *Error) Error() string { return "signer: " + e.Reason() }

// Reason is the failure in words for the client that sent the request:
// Error without the package prefix, which means nothing to it.
func (e *Error) Reason() string {
	var s string
	if e.Scheme != "" {
		s += string(e.Scheme) + ": "
	}
	s += e.Code.String()
	if e.Header != "" {
		s += " (" + e.Header + ")"
	}
	if e.Msg != "" {
		s += ": " + e.Msg
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is this error's ErrorCode.
func (e *Error) Is(target error) bool {
	c, ok := target.(ErrorCode)
	return ok && c == e.Code
}

// CodeOf returns the ErrorCode carried by err, or 0 when err is nil or not
// a verification error.
func CodeOf(err error) ErrorCode {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return 0
}

func newErr(code ErrorCode, scheme Scheme, header, format string, args ...any) *Error {
	return &Error{Code: code, Scheme: scheme, Header: header, Msg: fmt.Sprintf(format, args...)}
}
