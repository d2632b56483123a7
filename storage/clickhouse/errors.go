package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/proto"
)

// Error kinds. Every error this package returns wraps exactly one of them,
// so an HTTP layer maps it with errors.Is: ErrNotFound and ErrInvalid are
// the caller's fault (4xx), ErrUnavailable means the server could not be
// reached (503), ErrTimeout means a read hit the query-time limit.
// Anything else is a server-side failure.
var (
	ErrNotFound    = errors.New("not found")
	ErrInvalid     = errors.New("invalid argument")
	ErrUnavailable = errors.New("clickhouse unavailable")
	ErrTimeout     = errors.New("query time limit exceeded")
)

// Error is the error type of this package. Kind is one of the Err*
// sentinels (or nil for an unclassified server error), Op names the
// method, Database/Table/Column what it was about, and Err the cause:
// the driver's error, a *proto.Exception from the server, or a
// *CommandError from the read-command check.
type Error struct {
	Kind     error
	Op       string
	Database string
	Table    string
	Column   string
	Msg      string
	Err      error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("clickhouse: ")
	b.WriteString(e.Op)
	if e.Database != "" {
		fmt.Fprintf(&b, " database %q", e.Database)
	}
	if e.Table != "" {
		fmt.Fprintf(&b, " table %q", e.Table)
	}
	if e.Column != "" {
		fmt.Fprintf(&b, " column %q", e.Column)
	}
	if e.Msg != "" {
		b.WriteString(": ")
		b.WriteString(e.Msg)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(causeText(e.Err))
	}
	return b.String()
}

// Unwrap exposes both the kind and the cause to errors.Is / errors.As.
func (e *Error) Unwrap() []error {
	out := make([]error, 0, 2)
	if e.Kind != nil {
		out = append(out, e.Kind)
	}
	if e.Err != nil {
		out = append(out, e.Err)
	}
	return out
}

// causeText shortens a server exception to its code and message: the
// stack trace 18.16 attaches is noise for an API user.
func causeText(err error) string {
	var ex *proto.Exception
	if errors.As(err, &ex) {
		return fmt.Sprintf("server error %d: %s", ex.Code, strings.TrimSpace(ex.Message))
	}
	return err.Error()
}

// ServerCode returns the ClickHouse exception code carried by err, or 0.
func ServerCode(err error) int32 {
	var ex *proto.Exception
	if errors.As(err, &ex) {
		return ex.Code
	}
	return 0
}

// ClickHouse exception codes this package tells apart (ErrorCodes.cpp).
const (
	codeSyntaxError        = 62
	codeUnknownTable       = 60
	codeUnknownDatabase    = 81
	codeIllegalColumn      = 44
	codeDuplicateColumn    = 15
	codeTimeoutExceeded    = 159
	codeReadonly           = 164
	codeTableAlreadyExists = 57
	codeUnknownIdentifier  = 47
)

// isUnavailable reports whether err means the server could not be reached
// or the connection broke, as opposed to the server refusing a query.
func isUnavailable(err error) bool {
	if err == nil {
		return false
	}
	var ex *proto.Exception
	if errors.As(err, &ex) {
		return false
	}
	if errors.Is(err, ch.ErrAcquireConnTimeout) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, net.ErrClosed) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	var oe *net.OpError
	return errors.As(err, &oe)
}

// classify wraps a driver error into an *Error of the right kind. For
// reads (userQuery) any server exception is the query's fault, except the
// ones with their own kind.
func classify(err error, op, db, table string, userQuery bool) error {
	if err == nil {
		return nil
	}
	var own *Error
	if errors.As(err, &own) {
		return err
	}
	e := &Error{Op: op, Database: db, Table: table, Err: err}
	switch code := ServerCode(err); {
	case code == codeUnknownDatabase, code == codeUnknownTable:
		e.Kind = ErrNotFound
	case code == codeTimeoutExceeded:
		e.Kind = ErrTimeout
	case code == codeReadonly:
		e.Kind = ErrInvalid
		e.Msg = "only reads are allowed"
	case code != 0:
		if userQuery || code == codeSyntaxError {
			e.Kind = ErrInvalid
		}
	case errors.Is(err, context.DeadlineExceeded) && userQuery:
		e.Kind = ErrTimeout
		e.Msg = "query ran past its time limit and was cancelled"
	case userQuery && isNetTimeout(err):
		// The driver's read deadline (the query-time limit plus a margin)
		// fired before the server's own limit answered.
		e.Kind = ErrTimeout
		e.Msg = "query ran past its time limit and was cancelled"
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		// The caller gave up; not the server's fault. Keep the context
		// error reachable through Unwrap and leave Kind unset.
	case isUnavailable(err):
		e.Kind = ErrUnavailable
	}
	return e
}

// isNetTimeout reports a network read/write deadline that expired.
func isNetTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
