package kodo

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"syscall"

	"github.com/kodo-project/kodo/internal/httpx"
	"github.com/kodo-project/kodo/kodo/kodoapi"
	"github.com/kodo-project/kodo/storage/clickhouse"
	"github.com/kodo-project/kodo/storage/docs"
	"github.com/kodo-project/kodo/storage/meta"
	"github.com/kodo-project/kodo/storage/tsengine"
)

// Error is an API error: a code from kodoapi's table, a message a user
// can act on, and optional content (e.g. the rejected lines of a partial
// write).
type Error struct {
	Code    kodoapi.ErrorCode
	Message string
	Content any
	// RetryAfter, when > 0, is sent as Retry-After (seconds) with 429/503.
	RetryAfter int
	cause      error
	// store names the backend that failed ("docs", "clickhouse"), for
	// the kodo_store_errors_total metric.
	store string
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

// during adds what the gateway was doing to a backend's error, so the
// message says where it failed; asError still maps the cause.
type during struct {
	doing, store string
	meta         bool // the metadata store failed (a timeout is then ours, not the query's)
	err          error
}

func (d *during) Error() string { return d.doing + ": " + d.err.Error() }
func (d *during) Unwrap() error { return d.err }

// metaError and engineError wrap an error of the metadata store or a
// time-series engine with what was being done.
func metaError(err error, doing string) error   { return &during{doing: doing, meta: true, err: err} }
func engineError(err error, doing string) error { return &during{doing: doing, err: err} }

// inStore marks an error of the document store or ClickHouse.
func inStore(store string, err error) error { return &during{store: store, err: err} }

// notFoundAs answers code when err is the metadata store's "not found":
// the caller knows what was missing (a db, a workspace).
func notFoundAs(err error, code kodoapi.ErrorCode, format string, args ...any) error {
	if errors.Is(err, meta.ErrNotFound) {
		return &Error{Code: code, Message: fmt.Sprintf(format, args...), cause: err}
	}
	return metaError(err, "metadata lookup")
}

// The faults a client can only wait out, wherever they arise.
const (
	diskFull   = "the server's disk is full; nothing of this request was stored; retry once space is freed"
	outOfFiles = "the server has reached its open-file limit (EMFILE); retry later, or ask the operator to raise the limit or delete unused workspaces"
)

// kindCodes is the one table from the backends' error kinds to API codes.
// msg "" uses the error's own text, which for these kinds is the
// client's to act on; retry > 0 is sent as Retry-After.
var kindCodes = []struct {
	kind  error
	code  kodoapi.ErrorCode
	retry int
	msg   string
}{
	{tsengine.ErrDiskFull, kodoapi.ErrInsufficientStorage, 30, "the disk holding the time-series data is full; nothing of this request was stored; retry once space is freed"},
	{tsengine.ErrTooManyOpenFiles, kodoapi.ErrUnavailable, 30, outOfFiles},
	{tsengine.ErrUnavailable, kodoapi.ErrUnavailable, 5, "the time-series engine is unavailable; retry later"},
	// The tenant dropped the policy with InfluxQL (maybe on another
	// replica) after the request's RP check: its mistake, and one it can
	// repair.
	{tsengine.ErrRetentionPolicyNotFound, kodoapi.ErrRPNotFound, 0, "retention policy not found; create it again (CREATE RETENTION POLICY) or write to another of the database's policies"},
	{tsengine.ErrDatabaseNotFound, kodoapi.ErrDBNotFound, 0, "database not found on its engine"},
	{meta.ErrConflict, kodoapi.ErrConflict, 0, ""},
	{meta.ErrInvalid, kodoapi.ErrBadRequest, 0, ""},
	{docs.ErrInvalid, kodoapi.ErrBadRequest, 0, ""},
	{docs.ErrUnavailable, kodoapi.ErrUnavailable, 5, "the document store is unavailable; nothing was stored, retry after the Retry-After delay"},
	{clickhouse.ErrInvalid, kodoapi.ErrInvalidSQL, 0, ""},
	{clickhouse.ErrNotFound, kodoapi.ErrNotFound, 0, ""},
	{clickhouse.ErrTimeout, kodoapi.ErrQueryTimeout, 0, ""},
	{clickhouse.ErrUnavailable, kodoapi.ErrUnavailable, 5, "ClickHouse is unavailable; retry later"},
	{syscall.ENOSPC, kodoapi.ErrInsufficientStorage, 30, diskFull},
	{syscall.EDQUOT, kodoapi.ErrInsufficientStorage, 30, diskFull},
	{syscall.EMFILE, kodoapi.ErrUnavailable, 30, outOfFiles},
	{syscall.ENFILE, kodoapi.ErrUnavailable, 30, outOfFiles},
}

// asError is the one function from an error to an API error: an *Error
// as it is, a backend's error by its kind (kindCodes), and anything else
// as internal. A nil error is nil.
func asError(err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var d *during
	doing, store, cause, inMeta := "", "", err, false
	if errors.As(err, &d) {
		doing, store, cause, inMeta = d.doing, d.store, d.err, d.meta
	}
	say := func(code kodoapi.ErrorCode, retry int, msg string) *Error {
		if doing != "" {
			msg = doing + ": " + msg
		}
		return &Error{Code: code, Message: msg, RetryAfter: retry, cause: err, store: store}
	}
	for _, k := range kindCodes {
		if errors.Is(cause, k.kind) {
			if k.code == kodoapi.ErrNotFound {
				if ce := (*clickhouse.Error)(nil); errors.As(cause, &ce) && ce.Table != "" {
					// The server's own text names its internals; say it plainly.
					return say(kodoapi.ErrTableNotFound, 0, fmt.Sprintf("table %q does not exist in this workspace's ClickHouse database", ce.Table))
				}
			}
			if k.msg == "" {
				return say(k.code, k.retry, cause.Error())
			}
			return say(k.code, k.retry, k.msg)
		}
	}
	var le *tsengine.LimitError
	var be *httpx.BodyError
	switch {
	case errors.As(cause, &le):
		return say(kodoapi.ErrQueryLimit, 0, cause.Error())
	case errors.As(cause, &be):
		code, ok := bodyCodes[be.Status]
		if !ok {
			code = kodoapi.ErrBadRequest // every refusal of a body is the sender's
		}
		return say(code, 0, be.Msg)
	case inMeta && (errors.Is(cause, context.DeadlineExceeded) || errors.Is(cause, context.Canceled)):
		return say(kodoapi.ErrUnavailable, 0, "the metadata store did not answer in time")
	case errors.Is(cause, context.DeadlineExceeded) && doing != "":
		return say(kodoapi.ErrQueryTimeout, 0, "timed out")
	}
	// Faults a layer did not name (a driver's text only).
	msg := cause.Error()
	switch {
	case strings.Contains(msg, "no space left on device"):
		return asError(&during{doing: doing, store: store, meta: inMeta, err: syscall.ENOSPC})
	case strings.Contains(msg, "too many open files"):
		return asError(&during{doing: doing, store: store, meta: inMeta, err: syscall.EMFILE})
	}
	switch {
	case store == "docs":
		return say(kodoapi.ErrInternal, 0, "document store failed")
	case store == "clickhouse":
		return say(kodoapi.ErrInternal, 0, "ClickHouse failed")
	case doing != "":
		return &Error{Code: kodoapi.ErrInternal, Message: doing + " failed", cause: err}
	}
	return &Error{Code: kodoapi.ErrInternal, Message: "internal error", cause: err}
}

// bodyCodes maps the body reader's refusals (an HTTP status) to codes.
var bodyCodes = map[int]kodoapi.ErrorCode{
	400: kodoapi.ErrBadRequest,
	408: kodoapi.ErrRequestTimeout,
	413: kodoapi.ErrBodyTooLarge,
	415: kodoapi.ErrUnsupportedMedia,
}
