package influxql

import (
	"fmt"
	"strings"

	iql "github.com/influxdata/influxql"
)

// Limits on what Guard and Rewrite accept. They exist because influxql's
// parser recurses once per '(' (a deep enough nesting overflows the stack,
// which Go cannot recover from) and because printing and time-range
// extraction are quadratic in expression depth.
const (
	// MaxQueryBytes bounds the query text.
	MaxQueryBytes = 256 << 10
	// MaxStatements bounds the statements in one query.
	MaxStatements = 100
	// MaxParens bounds the '(' characters in one query, counted before
	// parsing (inside strings too: an upper bound on nesting is enough).
	MaxParens = 4096
	// MaxDepth bounds the nesting of the parsed tree (expressions,
	// subqueries).
	MaxDepth = 1000
)

// Parse parses an InfluxQL query within the limits above. It is the one
// entry into github.com/influxdata/influxql's parser for the whole module
// (TestOneParser enforces it): that parser recurses once per '(' and a
// stack overflow kills the process, so no text reaches it unchecked.
// Errors are a *ParseError or a *ScopeError (empty, too large).
func Parse(q string) (*iql.Query, error) { return parseQuery(q) }

// ParseStatement parses text holding exactly one statement, within the
// same limits as Parse.
func ParseStatement(text string) (iql.Statement, error) {
	q, err := parseQuery(text)
	if err != nil {
		return nil, err
	}
	if n := len(q.Statements); n != 1 {
		return nil, &ScopeError{Reason: ReasonTooLarge, Msg: fmt.Sprintf("expected one statement, got %d", n)}
	}
	return q.Statements[0], nil
}

// ParseExpr parses a whole expression within the same limits; trailing
// text is an error. input names the text in messages ("conditions").
func ParseExpr(input, s string) (iql.Expr, error) { return parseExpr(input, s) }

// parseQuery parses q within the limits above.
func parseQuery(q string) (*iql.Query, error) { return parseQueryParams(q, nil) }

// parseQueryParams parses q within the limits above, binding $name
// parameters from params (nil binds none).
func parseQueryParams(q string, params map[string]any) (*iql.Query, error) {
	if err := checkText("query", q); err != nil {
		return nil, err
	}
	p := iql.NewParser(strings.NewReader(q))
	if params != nil {
		p.SetParams(params)
	}
	query, err := p.ParseQuery()
	if err != nil {
		return nil, newParseError("query", err)
	}
	if len(query.Statements) == 0 {
		return nil, &ScopeError{Reason: ReasonEmpty, Msg: "the query holds no statement"}
	}
	if n := len(query.Statements); n > MaxStatements {
		return nil, &ScopeError{Reason: ReasonTooLarge,
			Msg: fmt.Sprintf("the query holds %d statements; at most %d are allowed, send the rest separately", n, MaxStatements)}
	}
	for i, st := range query.Statements {
		if tooDeep(st) {
			return nil, &ScopeError{Statement: i + 1, Reason: ReasonTooLarge,
				Msg: fmt.Sprintf("expressions or subqueries nested deeper than %d levels; simplify the statement", MaxDepth)}
		}
	}
	return query, nil
}

// parseExpr parses a whole expression; unlike influxql.ParseExpr it
// rejects trailing text, so "a > 0; DROP ..." is an error, not "a > 0".
func parseExpr(input, s string) (iql.Expr, error) {
	if err := checkText(input, s); err != nil {
		return nil, err
	}
	p := iql.NewParser(strings.NewReader(s))
	expr, err := p.ParseExpr()
	if err != nil {
		return nil, newParseError(input, err)
	}
	if tok, pos, lit := p.ScanIgnoreWhitespace(); tok != iql.EOF {
		found := lit
		if found == "" {
			found = tok.String()
		}
		return nil, &ParseError{Input: input, Line: pos.Line + 1, Char: pos.Char + 1,
			Msg: fmt.Sprintf("found %s, expected the end of the expression", found)}
	}
	if tooDeep(expr) {
		return nil, &ParseError{Input: input, Line: 1, Char: 1,
			Msg: fmt.Sprintf("expression nested deeper than %d levels", MaxDepth)}
	}
	return expr, nil
}

func checkText(input, s string) error {
	if len(s) > MaxQueryBytes {
		return &ScopeError{Reason: ReasonTooLarge,
			Msg: fmt.Sprintf("%s is %d bytes; at most %d are allowed", input, len(s), MaxQueryBytes)}
	}
	if n := strings.Count(s, "("); n > MaxParens {
		return &ScopeError{Reason: ReasonTooLarge,
			Msg: fmt.Sprintf("%s holds %d '('; at most %d are allowed", input, n, MaxParens)}
	}
	return nil
}

// depthVisitor carries its depth in its value, so influxql.Walk needs no
// exit callback; it stops descending once the limit is passed, which also
// bounds Walk's own recursion.
type depthVisitor struct {
	depth int
	over  *bool
}

func (v depthVisitor) Visit(iql.Node) iql.Visitor {
	if v.depth > MaxDepth {
		*v.over = true
	}
	if *v.over {
		return nil
	}
	return depthVisitor{depth: v.depth + 1, over: v.over}
}

func tooDeep(n iql.Node) bool {
	over := false
	iql.Walk(depthVisitor{depth: 0, over: &over}, n)
	return over
}
