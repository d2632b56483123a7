package kodo

import (
	"errors"
	"fmt"
	"net/http"
)

// ErrorCode is a Kodo API error code; the wire form is "kodo." + the code.
type ErrorCode string

// The one table of API error codes and their HTTP status.
const (
	ErrBadRequest        ErrorCode = "badRequest"
	ErrInvalidJSON       ErrorCode = "invalidJson"
	ErrInvalidSQL        ErrorCode = "invalidSQL"
	ErrInvalidLine       ErrorCode = "invalidLineProtocol"
	ErrPartialWrite      ErrorCode = "partialWrite"
	ErrInvalidSignature  ErrorCode = "invalidSignature"
	ErrUnauthorized      ErrorCode = "unauthorized"
	ErrTokenNotFound     ErrorCode = "tokenNotFound"
	ErrForbidden         ErrorCode = "forbidden"
	ErrDBNotFound        ErrorCode = "dbNotFound"
	ErrWorkspaceNotFound ErrorCode = "workspaceNotFound"
	ErrNotFound          ErrorCode = "notFound"
	ErrCQNotFound        ErrorCode = "cqNotFound"
	ErrRPNotFound        ErrorCode = "rpNotFound"
	ErrConflict          ErrorCode = "conflict"
	ErrMethodNotAllowed  ErrorCode = "methodNotAllowed"
	ErrBodyTooLarge      ErrorCode = "bodyTooLarge"
	ErrUnsupportedMedia  ErrorCode = "unsupportedMediaType"
	ErrQueryTimeout      ErrorCode = "queryTimeout"
	ErrQueryLimit        ErrorCode = "queryLimit"
	ErrCQExists          ErrorCode = "cqExists"
	ErrTooManyRequests   ErrorCode = "tooManyRequests"
	ErrInternal          ErrorCode = "internal"
	ErrUnavailable       ErrorCode = "unavailable"
)

var statusOf = map[ErrorCode]int{
	ErrBadRequest:        http.StatusBadRequest,
	ErrInvalidJSON:       http.StatusBadRequest,
	ErrInvalidSQL:        http.StatusBadRequest,
	ErrInvalidLine:       http.StatusBadRequest,
	ErrPartialWrite:      http.StatusBadRequest,
	ErrInvalidSignature:  http.StatusUnauthorized,
	ErrUnauthorized:      http.StatusUnauthorized,
	ErrTokenNotFound:     http.StatusForbidden,
	ErrForbidden:         http.StatusForbidden,
	ErrDBNotFound:        http.StatusBadRequest,
	ErrWorkspaceNotFound: http.StatusBadRequest,
	ErrNotFound:          http.StatusNotFound,
	ErrCQNotFound:        http.StatusBadRequest,
	ErrRPNotFound:        http.StatusBadRequest,
	ErrConflict:          http.StatusConflict,
	ErrMethodNotAllowed:  http.StatusMethodNotAllowed,
	ErrBodyTooLarge:      http.StatusRequestEntityTooLarge,
	ErrUnsupportedMedia:  http.StatusUnsupportedMediaType,
	ErrQueryTimeout:      http.StatusBadRequest,
	ErrQueryLimit:        http.StatusBadRequest,
	ErrCQExists:          http.StatusConflict,
	ErrTooManyRequests:   http.StatusTooManyRequests,
	ErrInternal:          http.StatusInternalServerError,
	ErrUnavailable:       http.StatusServiceUnavailable,
}

// Status is the HTTP status answered for the code.
func (c ErrorCode) Status() int {
	if s, ok := statusOf[c]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// Wire is the errorCode as it appears in responses, e.g. "kodo.tokenNotFound".
func (c ErrorCode) Wire() string { return "kodo." + string(c) }

// Error is an API error: a code from the table, a message a user can act
// on, and optional content (e.g. the rejected lines of a partial write).
type Error struct {
	Code    ErrorCode
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
func Errorf(code ErrorCode, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// wrapErr builds an *Error that keeps cause for errors.Is/As.
func wrapErr(code ErrorCode, cause error, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), cause: cause}
}

// asError converts any error into an *Error; unknown errors become internal.
func asError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Code: ErrInternal, Message: "internal error", cause: err}
}
