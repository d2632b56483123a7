package influxql

import (
	"fmt"
	"strings"

	iql "github.com/influxdata/influxql"
)

// ParseError reports a query or expression that does not parse. Line and
// Char are 1-based, as in InfluxDB's own messages, so a user can find the
// spot in what they sent.
type ParseError struct {
	// What was being parsed: "query", "conditions", "dimensions", ...
	Input string
	Line  int
	Char  int
	// Msg is the parser's message without its position suffix.
	Msg string
	// Err is the *influxql.ParseError this came from, if any.
	Err error
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("%s: parse error at line %d, char %d: %s", e.Input, e.Line, e.Char, e.Msg)
}

func (e *ParseError) Unwrap() error { return e.Err }

// newParseError converts influxql's error, keeping its position.
func newParseError(input string, err error) *ParseError {
	pe := &ParseError{Input: input, Line: 1, Char: 1, Msg: err.Error(), Err: err}
	if ie, ok := err.(*iql.ParseError); ok {
		pe.Line, pe.Char = ie.Pos.Line+1, ie.Pos.Char+1
		if ie.Message != "" {
			pe.Msg = ie.Message
		} else {
			pe.Msg = fmt.Sprintf("found %s, expected %s", ie.Found, strings.Join(ie.Expected, ", "))
		}
	}
	return pe
}

// Reason classifies a ScopeError so that callers can map it to their own
// error codes without matching on text.
type Reason int

const (
	ReasonEmpty               Reason = iota + 1 // no statement at all
	ReasonTooLarge                              // query text, statement count or nesting over a limit
	ReasonForeignDatabase                       // a source, ON clause or INTO names another database
	ReasonInto                                  // INTO where writing is not allowed
	ReasonStatementNotAllowed                   // statement kind not allowed for this caller
	ReasonNoDatabase                            // the caller gave no database to confine the query to
)

func (r Reason) String() string {
	switch r {
	case ReasonEmpty:
		return "empty query"
	case ReasonTooLarge:
		return "query too large"
	case ReasonForeignDatabase:
		return "foreign database"
	case ReasonInto:
		return "INTO not allowed"
	case ReasonStatementNotAllowed:
		return "statement not allowed"
	case ReasonNoDatabase:
		return "no database"
	}
	return fmt.Sprintf("Reason(%d)", int(r))
}

// ScopeError reports a query that parses but may not run: it leaves its
// database, writes where it may not, or is of a kind the caller may not
// run. Statement is 1-based; 0 means the query as a whole.
type ScopeError struct {
	Statement int
	Reason    Reason
	Msg       string
}

func (e *ScopeError) Error() string {
	if e.Statement > 0 {
		return fmt.Sprintf("statement %d: %s", e.Statement, e.Msg)
	}
	return e.Msg
}

// RewriteError reports a request field of a rewrite item that cannot be
// used (rule 9 of rewrite.md). Parse errors inside the field are wrapped.
type RewriteError struct {
	Field string // JSON name of the item field, e.g. "fill_opt"
	Msg   string
	Err   error
}

func (e *RewriteError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Field, e.Msg, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Field, e.Msg)
}

func (e *RewriteError) Unwrap() error { return e.Err }

// TimezoneError reports a time-zone parameter outside the accepted forms.
type TimezoneError struct {
	Input string
	Msg   string
}

func (e *TimezoneError) Error() string {
	return fmt.Sprintf("invalid time zone %q: %s", e.Input, e.Msg)
}
