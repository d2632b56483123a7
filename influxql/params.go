package influxql

import (
	"fmt"

	iql "github.com/influxdata/influxql"
)

// ParseParams parses q within the limits Guard applies (MaxQueryBytes,
// MaxStatements, MaxParens, MaxDepth), binding the $name parameters of
// InfluxDB's params= from params (nil binds none). It checks no scope:
// callers that answer some statements themselves (the InfluxDB-compatible
// /query answers SHOW DATABASES) pass the rest to Check.
func ParseParams(q string, params map[string]any) (*iql.Query, error) {
	return parseQueryParams(q, params)
}

// Check applies Guard's scope rules to one parsed statement; n is its
// 1-based position, reported in the *ScopeError.
func Check(st iql.Statement, n int, db string, allow Allow) error {
	if db == "" {
		return &ScopeError{Reason: ReasonNoDatabase, Msg: "no database to run the query in"}
	}
	if allow != AllowRead && allow != AllowManage {
		return &ScopeError{Reason: ReasonStatementNotAllowed, Msg: fmt.Sprintf("unknown permission %v", allow)}
	}
	if msg, reason := (guard{db: db, allow: allow}).statement(st); msg != "" {
		return &ScopeError{Statement: n, Reason: reason, Msg: msg}
	}
	return nil
}

// InfluxMessage words err as InfluxDB's /query does, for clients that match
// on it: "error parsing query: found FROM, expected ) at line 1, char 21".
// Errors other than a *ParseError of a query keep their own text.
func InfluxMessage(err error) string {
	if pe, ok := err.(*ParseError); ok {
		if ie, ok := pe.Err.(*iql.ParseError); ok {
			return "error parsing query: " + ie.Error()
		}
		return fmt.Sprintf("error parsing query: %s at line %d, char %d", pe.Msg, pe.Line, pe.Char)
	}
	return err.Error()
}
