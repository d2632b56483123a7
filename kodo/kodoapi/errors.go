package kodoapi

import "net/http"

// ErrorCode is a Kodo API error code; the wire form is "kodo." + the code.
type ErrorCode string

// The one table of API error codes. Each says what happened, so a client
// can act on the code alone; the message adds the details.
const (
	ErrBadRequest        ErrorCode = "badRequest"
	ErrInvalidJSON       ErrorCode = "invalidJson"
	ErrInvalidSQL        ErrorCode = "invalidSQL"
	ErrInvalidLine       ErrorCode = "invalidLineProtocol"
	ErrPartialWrite      ErrorCode = "partialWrite"
	ErrFieldTypeConflict ErrorCode = "fieldTypeConflict"
	ErrInvalidSignature  ErrorCode = "invalidSignature"
	ErrUnauthorized      ErrorCode = "unauthorized"
	ErrTokenNotFound     ErrorCode = "tokenNotFound"
	ErrForbidden         ErrorCode = "forbidden"
	ErrDBNotFound        ErrorCode = "dbNotFound"
	ErrWorkspaceNotFound ErrorCode = "workspaceNotFound"
	ErrNotFound          ErrorCode = "notFound"
	ErrCQNotFound        ErrorCode = "cqNotFound"
	ErrRPNotFound        ErrorCode = "rpNotFound"
	ErrTableNotFound     ErrorCode = "tableNotFound"
	ErrConflict          ErrorCode = "conflict"
	ErrMethodNotAllowed  ErrorCode = "methodNotAllowed"
	ErrBodyTooLarge      ErrorCode = "bodyTooLarge"
	ErrUnsupportedMedia  ErrorCode = "unsupportedMediaType"
	ErrQueryTimeout      ErrorCode = "queryTimeout"
	ErrQueryLimit        ErrorCode = "queryLimit"
	ErrCQExists          ErrorCode = "cqExists"
	ErrTooManyRequests   ErrorCode = "tooManyRequests"
	ErrRequestTimeout    ErrorCode = "requestTimeout" // body slower than -body-min-rate
	ErrInternal          ErrorCode = "internal"
	ErrUnavailable       ErrorCode = "unavailable"
	// The disk holding the data is full (507 + Retry-After).
	ErrInsufficientStorage ErrorCode = "insufficientStorage"
)

var statusOf = map[ErrorCode]int{
	ErrBadRequest:          http.StatusBadRequest,
	ErrInvalidJSON:         http.StatusBadRequest,
	ErrInvalidSQL:          http.StatusBadRequest,
	ErrInvalidLine:         http.StatusBadRequest,
	ErrPartialWrite:        http.StatusBadRequest,
	ErrFieldTypeConflict:   http.StatusBadRequest,
	ErrInvalidSignature:    http.StatusUnauthorized,
	ErrUnauthorized:        http.StatusUnauthorized,
	ErrTokenNotFound:       http.StatusForbidden,
	ErrForbidden:           http.StatusForbidden,
	ErrDBNotFound:          http.StatusBadRequest,
	ErrWorkspaceNotFound:   http.StatusBadRequest,
	ErrNotFound:            http.StatusNotFound,
	ErrCQNotFound:          http.StatusBadRequest,
	ErrRPNotFound:          http.StatusBadRequest,
	ErrTableNotFound:       http.StatusBadRequest,
	ErrConflict:            http.StatusConflict,
	ErrMethodNotAllowed:    http.StatusMethodNotAllowed,
	ErrBodyTooLarge:        http.StatusRequestEntityTooLarge,
	ErrUnsupportedMedia:    http.StatusUnsupportedMediaType,
	ErrQueryTimeout:        http.StatusBadRequest,
	ErrQueryLimit:          http.StatusBadRequest,
	ErrCQExists:            http.StatusConflict,
	ErrTooManyRequests:     http.StatusTooManyRequests,
	ErrRequestTimeout:      http.StatusRequestTimeout,
	ErrInternal:            http.StatusInternalServerError,
	ErrUnavailable:         http.StatusServiceUnavailable,
	ErrInsufficientStorage: http.StatusInsufficientStorage,
}

// Status is the HTTP status answered for the code.
func (c ErrorCode) Status() int {
	if s, ok := statusOf[c]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// Wire is the errorCode as it appears in answers, e.g. "kodo.tokenNotFound".
func (c ErrorCode) Wire() string { return "kodo." + string(c) }
