package tsdbapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Error is a Pandora API error: the server answers with them and the
// client returns them. Code is empty for a 401 "bad token" and for
// answers that carry no E-code.
type Error struct {
	Status  int    // HTTP status
	Code    string // "E6101"; "" when the body had none
	Message string // the text after "E....: " (or the whole error text)
	// Detail is what the server adds after the documented text; it is part
	// of Message on the wire.
	Detail string `json:"-"`
	// RetryAfter, when > 0, is sent as Retry-After (seconds).
	RetryAfter int `json:"-"`
}

func (e *Error) Error() string {
	if e.Code == "" {
		return fmt.Sprintf("tsdb: %d %s", e.Status, e.Message)
	}
	return fmt.Sprintf("tsdb: %d %s: %s", e.Status, e.Code, e.Message)
}

// Is makes errors.Is(err, &tsdbapi.Error{Code: "E6303"}) match on the code
// (and on the status when the target sets one).
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok {
		return false
	}
	return (t.Code == "" || t.Code == e.Code) && (t.Status == 0 || t.Status == e.Status)
}

// Errorf builds the error answered for code: its status, its documented
// text and, when format is not empty, a detail after it naming the culprit.
func Errorf(code Code, format string, args ...any) *Error {
	e := &Error{Status: code.Status(), Code: string(code), Message: code.Text()}
	if format != "" {
		e.Detail = fmt.Sprintf(format, args...)
		e.Message += ": " + e.Detail
	}
	return e
}

// CodeOf returns the E-code of err when it is (or wraps) an *Error.
func CodeOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// ErrorBody is the wire form of an error.
type ErrorBody struct {
	Error string `json:"error"`
}

// Body is the wire form of e: {"error":"E6100: text[: detail]"}.
func (e *Error) Body() ErrorBody {
	if e.Code == "" {
		return ErrorBody{Error: e.Message}
	}
	return ErrorBody{Error: e.Code + ": " + e.Message}
}

// maxErrorText bounds the text kept of an answer that is not an ErrorBody.
const maxErrorText = 512

// ParseError turns an error answer (status and body) back into an *Error.
// A body that is not an ErrorBody is kept as the message, shortened.
func ParseError(status int, data []byte) *Error {
	e := &Error{Status: status}
	var b ErrorBody
	if err := json.Unmarshal(data, &b); err != nil || b.Error == "" {
		e.Message = strings.TrimSpace(string(data))
		if len(e.Message) > maxErrorText {
			e.Message = e.Message[:maxErrorText]
		}
		if e.Message == "" {
			e.Message = http.StatusText(status)
		}
		return e
	}
	msg := b.Error
	if code, rest, found := strings.Cut(msg, ":"); found && len(code) >= 2 && code[0] == 'E' && isDigits(code[1:]) && len(msg) >= 6 {
		e.Code = code
		msg = strings.TrimSpace(rest)
	}
	e.Message = msg
	return e
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
