package kodo

import (
	"errors"
	"fmt"

	"github.com/kodo-project/kodo/kodo/kodoapi"
)

// Error is an API error: a code from the table, a message a user can act
// on, and optional content (e.g. the rejected lines of a partial write).
type Error struct {
	Code    kodoapi.ErrorCode
	Message string
	Content any
	// RetryAfter, when > 0, is sent as Retry-After (seconds) with 429/503.
	RetryAfter int
	cause      error
}

func (e *Error) Error() string { return e.Code.Wire() + ": " + e.Message }

// Unwrap returns the underlying cause, if any.
func (e *Error) Unwrap() error { return e.cause }

// Errorf builds an *Error with a formatted message.
func Errorf(code kodoapi.ErrorCode, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// wrapErr builds an *Error that keeps cause for errors.Is/As.
func wrapErr(code kodoapi.ErrorCode, cause error, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), cause: cause}
}

// asError converts any error into an *Error; unknown errors become internal.
func asError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	if f := faultAPIError(err); f != nil {
		return f
	}
	return &Error{Code: kodoapi.ErrInternal, Message: "internal error", cause: err}
}
