package influxql

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	iql "github.com/influxdata/influxql"
)

// Time-zone offsets Pandora TSDB v4 accepts, in hours.
const (
	MinTimezone = -12
	MaxTimezone = 14
)

// ParseTimezone parses the timezone parameter of a Pandora TSDB v4 query:
// an hour offset from UTC with an optional sign, "+08", "8", "-05", "0",
// "+00", "-00", within [MinTimezone, MaxTimezone]. Surrounding spaces are
// ignored, which also accepts "+08" sent unescaped in a URL, where '+'
// decodes to a space.
func ParseTimezone(s string) (time.Duration, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, &TimezoneError{Input: s, Msg: "empty; give an hour offset from UTC such as +08, -05 or 0"}
	}
	digits := t
	if digits[0] == '+' || digits[0] == '-' {
		digits = digits[1:]
	}
	if len(digits) == 0 || len(digits) > 2 || strings.Trim(digits, "0123456789") != "" {
		return 0, &TimezoneError{Input: s, Msg: fmt.Sprintf("want whole hours from UTC with an optional sign, between %d and +%d, such as +08, -05 or 0", MinTimezone, MaxTimezone)}
	}
	h, _ := strconv.Atoi(digits) // at most two digits: cannot fail
	if t[0] == '-' {
		h = -h
	}
	if h < MinTimezone || h > MaxTimezone {
		return 0, &TimezoneError{Input: s, Msg: fmt.Sprintf("%d hours is outside [%d, +%d]", h, MinTimezone, MaxTimezone)}
	}
	return time.Duration(h) * time.Hour, nil
}

// ShiftTimezone makes the time literals of q's conditions mean local time
// in zone tz (see ParseTimezone), as Pandora TSDB v4 does: with "+08",
// time > '2016-06-21T12:00:00Z' selects from 2016-06-21 04:00:00 UTC.
//
// Every string or time literal compared with time is moved by the offset,
// whatever suffix it carries: the whole written range shifts. Epoch
// numbers and now() are absolute instants and stay as they are, as do
// statements with their own TZ() clause, which already says how to read
// their literals. Subqueries, EXPLAIN and DELETE are included. Strings
// that are not times are left for the engine to report.
func ShiftTimezone(q *iql.Query, tz string) error {
	offset, err := ParseTimezone(tz)
	if err != nil {
		return err
	}
	if offset == 0 || q == nil {
		return nil
	}
	iql.WalkFunc(q, func(n iql.Node) {
		switch s := n.(type) {
		case *iql.SelectStatement:
			if s.Location == nil {
				s.Condition = shiftCondition(s.Condition, offset)
			}
		case *iql.DeleteSeriesStatement:
			s.Condition = shiftCondition(s.Condition, offset)
		case *iql.DeleteStatement:
			s.Condition = shiftCondition(s.Condition, offset)
		case *iql.DropSeriesStatement:
			s.Condition = shiftCondition(s.Condition, offset)
		}
	})
	return nil
}

// shiftCondition shifts the literals that are compared with time; AND, OR
// and parentheses are followed, other comparisons are left alone.
func shiftCondition(expr iql.Expr, offset time.Duration) iql.Expr {
	switch e := expr.(type) {
	case *iql.ParenExpr:
		e.Expr = shiftCondition(e.Expr, offset)
	case *iql.BinaryExpr:
		switch e.Op {
		case iql.AND, iql.OR:
			e.LHS = shiftCondition(e.LHS, offset)
			e.RHS = shiftCondition(e.RHS, offset)
		case iql.EQ, iql.NEQ, iql.LT, iql.LTE, iql.GT, iql.GTE:
			if isTimeRef(e.LHS) {
				e.RHS = shiftLiterals(e.RHS, offset)
			} else if isTimeRef(e.RHS) {
				e.LHS = shiftLiterals(e.LHS, offset)
			}
		}
	}
	return expr
}

func isTimeRef(e iql.Expr) bool {
	ref, ok := e.(*iql.VarRef)
	return ok && strings.EqualFold(ref.Val, "time")
}

// shiftLiterals moves the time literals of the time side of a comparison,
// arithmetic included ('2016-06-21T12:00:00Z' - 1h).
func shiftLiterals(expr iql.Expr, offset time.Duration) iql.Expr {
	return iql.RewriteExpr(expr, func(e iql.Expr) iql.Expr {
		switch lit := e.(type) {
		case *iql.StringLiteral:
			if !lit.IsTimeLiteral() {
				return e
			}
			t, err := lit.ToTimeLiteral(time.UTC)
			if err != nil {
				return e
			}
			return &iql.StringLiteral{Val: t.Val.Add(-offset).UTC().Format(time.RFC3339Nano)}
		case *iql.TimeLiteral:
			return &iql.TimeLiteral{Val: lit.Val.Add(-offset)}
		}
		return e
	})
}
