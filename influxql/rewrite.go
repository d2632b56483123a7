package influxql

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	iql "github.com/influxdata/influxql"
	"github.com/kodo-project/kodo/kodo/kodoapi"
)

// Item is one query to rewrite and its options, as /v1/rewrite receives
// it; the wire shape is defined in kodoapi.
type Item = kodoapi.RewriteItem

// Statement is one rewritten statement (or the reason an item could not
// be rewritten); the wire shape is defined in kodoapi.
type Statement = kodoapi.RewrittenStatement

// DownsampledTo is the RewriteResults key holding the bucket, in
// nanoseconds, that downsampling set or changed.
const DownsampledTo = "downsampled_to"

// aggregateFuncs are the functions that reduce a bucket to one value:
// the ones a rewrite's default_aggr_func and a CQ's aggr_func may name.
var aggregateFuncs = [...]string{"count", "mean", "median", "mode", "spread", "stddev", "sum", "first", "last", "max", "min"}

// AggregateFuncs returns the functions a rewrite's default_aggr_func and a
// continuous query's aggr_func may name, in the order messages list them.
func AggregateFuncs() []string { return slices.Clone(aggregateFuncs[:]) }

// IsAggregateFunc reports whether name is one of AggregateFuncs.
func IsAggregateFunc(name string) bool { return slices.Contains(aggregateFuncs[:], name) }

// ladder is the "nice" bucket ladder of rewrite.md.
var ladder = []time.Duration{
	time.Millisecond, 10 * time.Millisecond, 20 * time.Millisecond, 50 * time.Millisecond,
	100 * time.Millisecond, 200 * time.Millisecond, 500 * time.Millisecond,
	time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 15 * time.Second, 20 * time.Second, 30 * time.Second,
	time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 20 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour,
	24 * time.Hour, 7 * 24 * time.Hour, 30 * 24 * time.Hour,
}

const day = 24 * time.Hour

// niceCeil returns the first rung of the ladder >= x; above 30d, x rounded
// up to whole days.
func niceCeil(x time.Duration) time.Duration {
	for _, r := range ladder {
		if r >= x {
			return r
		}
	}
	days := x / day
	if x%day != 0 {
		days++
	}
	if days > time.Duration(math.MaxInt64/int64(day)) {
		return math.MaxInt64 / day * day
	}
	return days * day
}

// RewriteAll rewrites every item and puts, in place of an item that fails,
// the single error entry of rule 9.
func RewriteAll(db string, items []Item, now time.Time) [][]Statement {
	out := make([][]Statement, len(items))
	for i, it := range items {
		sts, err := Rewrite(db, it, now)
		if err != nil {
			sts = []Statement{ErrorStatement(it, err)}
		}
		out[i] = sts
	}
	return out
}

// ErrorStatement is the answer entry for an item that failed (rule 9).
func ErrorStatement(it Item, err error) Statement {
	return Statement{SQL: it.SQL, Error: err.Error(), RewriteResults: map[string]any{}}
}

// Rewrite applies the rules of spec/rewrite.md to one item. db is the
// database the statements are confined to; now resolves now() in time
// bounds. An error means the item failed (rule 9): a *ParseError, a
// *ScopeError (not a SELECT, another database, INTO) or a *RewriteError
// (a field of the item).
func Rewrite(db string, it Item, now time.Time) ([]Statement, error) {
	p, err := compile(it, now)
	if err != nil {
		return nil, err
	}
	query, err := parseQuery(it.SQL)
	if err != nil {
		return nil, err
	}
	g := guard{db: db, allow: AllowRead}
	for i, st := range query.Statements {
		sel, ok := st.(*iql.SelectStatement)
		if !ok {
			return nil, &ScopeError{Statement: i + 1, Reason: ReasonStatementNotAllowed,
				Msg: fmt.Sprintf("only SELECT statements can be rewritten, found %s", statementKind(st))}
		}
		if db == "" {
			return nil, &ScopeError{Reason: ReasonNoDatabase, Msg: "no database to confine the statements to"}
		}
		if msg, reason := g.selectStmt(sel, false, false); msg != "" {
			return nil, &ScopeError{Statement: i + 1, Reason: reason, Msg: msg}
		}
	}
	out := make([]Statement, len(query.Statements))
	for i, st := range query.Statements {
		sel := st.(*iql.SelectStatement)
		var top downsample
		p.statement(sel, 0, rangeInfo{}, false, &top)
		res := map[string]any{}
		if top.set {
			res[DownsampledTo] = int64(top.bucket)
		}
		out[i] = Statement{SQL: sel.String(), RewriteResults: res}
	}
	return out, nil
}

// plan is an Item checked and converted once for all its statements.
type plan struct {
	now        time.Time
	cond       iql.Expr // nil: no conditions
	hasRange   bool
	start, end int64 // ns, end exclusive
	maxPoint   int
	dimBucket  time.Duration // 0: none asked for
	aggr       string
	fillSet    bool
	fill       iql.FillOption
	fillVal    any
	limit      int
	offset     int
	slimit     int
	soffset    int
}

func compile(it Item, now time.Time) (*plan, error) {
	p := &plan{now: now, maxPoint: it.MaxPoint, limit: it.Limit, offset: it.Offset, slimit: it.SLimit, soffset: it.SOffset}
	for _, f := range []struct {
		name string
		v    int
	}{{"max_point", it.MaxPoint}, {"limit", it.Limit}, {"offset", it.Offset}, {"slimit", it.SLimit}, {"soffset", it.SOffset}} {
		if f.v < 0 {
			return nil, &RewriteError{Field: f.name, Msg: fmt.Sprintf("must be 0 or more, got %d", f.v)}
		}
	}

	if strings.TrimSpace(it.Conditions) != "" {
		cond, err := parseExpr("conditions", it.Conditions)
		if err != nil {
			return nil, &RewriteError{Field: "conditions", Msg: "not a valid InfluxQL expression", Err: err}
		}
		if !isBoolean(cond) {
			return nil, &RewriteError{Field: "conditions", Msg: fmt.Sprintf("%s is not a boolean expression; write a comparison such as host = 'a'", cond)}
		}
		p.cond = cond
	}

	switch len(it.TimeRange) {
	case 0:
	case 2:
		const maxMs = math.MaxInt64 / int64(time.Millisecond)
		s, e := it.TimeRange[0], it.TimeRange[1]
		if s < -maxMs || s > maxMs || e < -maxMs || e > maxMs {
			return nil, &RewriteError{Field: "time_range", Msg: "times must be milliseconds between years 1678 and 2262"}
		}
		if s > e {
			return nil, &RewriteError{Field: "time_range", Msg: fmt.Sprintf("start %d is after end %d", s, e)}
		}
		p.hasRange, p.start, p.end = true, s*int64(time.Millisecond), e*int64(time.Millisecond)
	default:
		return nil, &RewriteError{Field: "time_range", Msg: fmt.Sprintf("must be [start_ms, end_ms] or empty, got %d values", len(it.TimeRange))}
	}

	for _, d := range it.Dimensions {
		if strings.TrimSpace(d) == "" {
			continue
		}
		expr, err := parseExpr("dimensions", d)
		if err != nil {
			return nil, &RewriteError{Field: "dimensions", Msg: fmt.Sprintf("%q is not a valid GROUP BY term", d), Err: err}
		}
		call, ok := expr.(*iql.Call)
		if !ok || call.Name != "time" {
			continue // tag dimensions: accepted, no rule uses them
		}
		lit, ok := firstDuration(call)
		if !ok || lit <= 0 {
			return nil, &RewriteError{Field: "dimensions", Msg: fmt.Sprintf("%q: time() needs a positive duration such as time(5m)", d)}
		}
		if p.dimBucket != 0 {
			return nil, &RewriteError{Field: "dimensions", Msg: "holds more than one time(); give one bucket"}
		}
		p.dimBucket = lit
	}

	p.aggr = strings.ToLower(strings.TrimSpace(it.DefaultAggrFunc))
	if p.aggr == "" {
		p.aggr = "last"
	}
	if !IsAggregateFunc(p.aggr) {
		return nil, &RewriteError{Field: "default_aggr_func",
			Msg: fmt.Sprintf("%q is not one of %s", it.DefaultAggrFunc, strings.Join(aggregateFuncs[:], ", "))}
	}

	switch strings.ToLower(strings.TrimSpace(it.FillOpt)) {
	case "":
	case "null":
		p.fillSet, p.fill = true, iql.NullFill
	case "none":
		p.fillSet, p.fill = true, iql.NoFill
	case "previous":
		p.fillSet, p.fill = true, iql.PreviousFill
	case "linear":
		p.fillSet, p.fill = true, iql.LinearFill
	case "number", "number_fill":
		v, err := fillNumber(it.FillVal)
		if err != nil {
			return nil, err
		}
		p.fillSet, p.fill, p.fillVal = true, iql.NumberFill, v
	default:
		return nil, &RewriteError{Field: "fill_opt", Msg: fmt.Sprintf("%q is not one of null, none, number, previous, linear", it.FillOpt)}
	}
	return p, nil
}

// fillNumber converts fill_val to what influxql prints as fill(<n>) and
// parses back: an int64 when integral, else a float64 printed without an
// exponent (influxql has no exponent syntax).
func fillNumber(v any) (any, error) {
	bad := func(why string) error {
		return &RewriteError{Field: "fill_val", Msg: fmt.Sprintf("fill_opt number needs a number in fill_val: %s", why)}
	}
	var f float64
	switch x := v.(type) {
	case nil:
		return nil, bad("fill_val is missing")
	case float64:
		f = x
	case float32:
		f = float64(x)
	case int:
		return int64(x), nil
	case int64:
		return x, nil
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i, nil
		}
		g, err := x.Float64()
		if err != nil {
			return nil, bad(fmt.Sprintf("%q is not a number", x.String()))
		}
		f = g
	case string:
		s := strings.TrimSpace(x)
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return i, nil
		}
		g, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, bad(fmt.Sprintf("%q is not a number", x))
		}
		f = g
	default:
		return nil, bad(fmt.Sprintf("got %T", v))
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, bad("not a finite number")
	}
	if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
		return int64(f), nil
	}
	if strings.ContainsAny(fmt.Sprint(f), "eE") {
		return nil, bad(fmt.Sprintf("%v has too many digits to write without an exponent", f))
	}
	return f, nil
}

// isBoolean tells whether expr can stand in a WHERE clause.
func isBoolean(expr iql.Expr) bool {
	switch e := expr.(type) {
	case *iql.ParenExpr:
		return isBoolean(e.Expr)
	case *iql.BooleanLiteral:
		return true
	case *iql.BinaryExpr:
		switch e.Op {
		case iql.AND, iql.OR:
			return isBoolean(e.LHS) && isBoolean(e.RHS)
		case iql.EQ, iql.NEQ, iql.LT, iql.LTE, iql.GT, iql.GTE, iql.EQREGEX, iql.NEQREGEX:
			return true
		}
	}
	return false
}

// downsample records the top-most bucket that rule 4 or 5 set or changed.
type downsample struct {
	set    bool
	depth  int
	bucket time.Duration
}

func (d *downsample) note(depth int, b time.Duration) {
	if !d.set || depth < d.depth {
		*d = downsample{set: true, depth: depth, bucket: b}
	}
}

// rangeInfo is a statement's time span, when known.
type rangeInfo struct {
	known bool
	span  time.Duration
}

// statement rewrites s (depth 0: top level) and its subqueries in place.
// outer is the range of the enclosing statement, inherited when s writes
// no bounds of its own (InfluxDB applies the outer range to subqueries);
// limited says an enclosing statement has a LIMIT or SLIMIT in the SQL.
func (p *plan) statement(s *iql.SelectStatement, depth int, outer rangeInfo, limited bool, top *downsample) {
	// Rule 4's range, from the original WHERE.
	r := outer
	if p.hasRange {
		span := time.Duration(p.end - p.start)
		if span < 0 { // overflow across the whole int64 range
			span = math.MaxInt64
		}
		r = rangeInfo{known: true, span: span}
	} else if own, ok := p.ownRange(s.Condition); ok {
		r = own
	}
	var floor time.Duration
	if p.maxPoint > 0 && r.known && r.span > 0 {
		per := r.span / time.Duration(p.maxPoint)
		if r.span%time.Duration(p.maxPoint) != 0 {
			per++
		}
		floor = niceCeil(per)
	}

	// Written in the SQL: read before rule 7 sets limits.
	writtenLimit := s.Limit > 0 || s.SLimit > 0
	readsMeasurement := false
	var subs []*iql.SelectStatement
	for _, src := range s.Sources {
		switch src := src.(type) {
		case *iql.Measurement:
			readsMeasurement = true
		case *iql.SubQuery:
			if src.Statement != nil {
				subs = append(subs, src.Statement)
			}
		}
	}
	p.rules(s, depth, floor, readsMeasurement, limited || writtenLimit, top)
	// Children after their parent, in source order: the top-most bucket,
	// then the first, is the one reported.
	for _, sub := range subs {
		p.statement(sub, depth+1, r, limited || writtenLimit, top)
	}
}

// rules applies rules 3 to 7 to s itself; limited says s or an enclosing
// statement has a LIMIT or SLIMIT written in the SQL.
func (p *plan) rules(s *iql.SelectStatement, depth int, floor time.Duration, readsMeasurement, limited bool, top *downsample) {
	// Rule 3.
	if readsMeasurement {
		s.Condition = p.where(s.Condition)
	}

	aggregate := isAggregate(s)
	bucket, bucketCall := groupByTime(s)

	// Rule 4.
	if aggregate && bucketCall != nil {
		b := max(bucket, p.dimBucket, floor)
		if b != bucket {
			bucketCall.Args[0] = &iql.DurationLiteral{Val: b}
			top.note(depth, b)
		}
	}

	// Rule 5.
	if depth > 0 && !aggregate && readsMeasurement && bucketCall == nil && !limited && plainFields(s.Fields) {
		if b := max(p.dimBucket, floor); b > 0 {
			for _, f := range s.Fields {
				ref := f.Expr.(*iql.VarRef)
				if f.Alias == "" {
					f.Alias = ref.Val
				}
				f.Expr = &iql.Call{Name: p.aggr, Args: []iql.Expr{ref}}
			}
			s.Dimensions = append(s.Dimensions, &iql.Dimension{Expr: &iql.Call{Name: "time", Args: []iql.Expr{&iql.DurationLiteral{Val: b}}}})
			s.IsRawQuery = false
			top.note(depth, b)
		}
	}

	if depth > 0 {
		return
	}
	// Rule 6. NullFill is also what a statement without fill() has; a
	// written fill(null) is therefore indistinguishable and gets replaced.
	if p.fillSet && aggregate && bucketCall != nil && s.Fill == iql.NullFill {
		s.Fill, s.FillValue = p.fill, p.fillVal
	}
	// Rule 7.
	if s.Limit == 0 && s.Offset == 0 {
		s.Limit, s.Offset = p.limit, p.offset
	}
	if s.SLimit == 0 && s.SOffset == 0 {
		s.SLimit, s.SOffset = p.slimit, p.soffset
	}
}

// ownRange reads the time bounds written in cond. written is false when
// cond has no time term (the enclosing range then applies); the range is
// known when there is a lower bound, the upper one defaulting to now.
func (p *plan) ownRange(cond iql.Expr) (r rangeInfo, written bool) {
	if cond == nil || !iql.HasTimeExpr(cond) {
		return rangeInfo{}, false
	}
	if timeUnderOr(cond, false) {
		// "time > x OR v > 0" bounds nothing.
		return rangeInfo{}, true
	}
	_, tr, err := iql.ConditionExpr(cond, &iql.NowValuer{Now: p.now})
	if err != nil || tr.Min.IsZero() {
		// An invalid time condition (the engine reports it when the query
		// runs), or no lower bound: unknown.
		return rangeInfo{}, true
	}
	maxT := tr.Max
	if maxT.IsZero() {
		maxT = p.now
	}
	return rangeInfo{known: true, span: maxT.Sub(tr.Min)}, true
}

// timeUnderOr tells whether a time comparison sits below an OR.
func timeUnderOr(expr iql.Expr, underOr bool) bool {
	switch e := expr.(type) {
	case *iql.ParenExpr:
		return timeUnderOr(e.Expr, underOr)
	case *iql.BinaryExpr:
		switch e.Op {
		case iql.AND:
			return timeUnderOr(e.LHS, underOr) || timeUnderOr(e.RHS, underOr)
		case iql.OR:
			return timeUnderOr(e.LHS, true) || timeUnderOr(e.RHS, true)
		}
		return underOr && (isTimeRef(e.LHS) || isTimeRef(e.RHS))
	}
	return false
}

// where builds rule 3's condition from the statement's own.
func (p *plan) where(orig iql.Expr) iql.Expr {
	if p.cond == nil && !p.hasRange {
		return orig
	}
	var parts []iql.Expr
	if orig != nil {
		parts = append(parts, paren(orig))
	}
	if p.cond != nil {
		parts = append(parts, paren(iql.CloneExpr(p.cond)))
	}
	if p.hasRange {
		parts = append(parts,
			&iql.BinaryExpr{Op: iql.GTE, LHS: &iql.VarRef{Val: "time"}, RHS: &iql.IntegerLiteral{Val: p.start}},
			&iql.BinaryExpr{Op: iql.LT, LHS: &iql.VarRef{Val: "time"}, RHS: &iql.IntegerLiteral{Val: p.end}})
	}
	// Left-associated, the way the parser reads "a AND b AND c", so the
	// printed form parses back to the same tree.
	expr := parts[0]
	for _, e := range parts[1:] {
		expr = &iql.BinaryExpr{Op: iql.AND, LHS: expr, RHS: e}
	}
	return expr
}

func paren(e iql.Expr) iql.Expr {
	if _, ok := e.(*iql.ParenExpr); ok {
		return e
	}
	return &iql.ParenExpr{Expr: e}
}

// aggregateCalls are the aggregate and selector functions that make a
// statement aggregate; transformations (derivative, abs, ...) do not.
var aggregateCalls = map[string]bool{
	"count": true, "distinct": true, "integral": true, "mean": true, "median": true, "mode": true,
	"spread": true, "stddev": true, "sum": true, "first": true, "last": true, "max": true, "min": true,
	"percentile": true, "sample": true, "top": true, "bottom": true,
}

func isAggregate(s *iql.SelectStatement) bool {
	found := false
	iql.WalkFunc(s.Fields, func(n iql.Node) {
		switch n := n.(type) {
		case *iql.Call:
			if aggregateCalls[n.Name] {
				found = true
			}
		case *iql.Distinct:
			found = true
		}
	})
	return found
}

// groupByTime finds GROUP BY time(d[, offset]).
func groupByTime(s *iql.SelectStatement) (time.Duration, *iql.Call) {
	for _, d := range s.Dimensions {
		if call, ok := d.Expr.(*iql.Call); ok && call.Name == "time" {
			b, _ := firstDuration(call)
			return b, call
		}
	}
	return 0, nil
}

func firstDuration(call *iql.Call) (time.Duration, bool) {
	if len(call.Args) == 0 {
		return 0, false
	}
	lit, ok := call.Args[0].(*iql.DurationLiteral)
	if !ok {
		return 0, false
	}
	return lit.Val, true
}

// plainFields: every field is a bare reference to a field (no wildcard,
// regex, call, arithmetic, tag or time), so an aggregate can wrap it.
func plainFields(fields iql.Fields) bool {
	if len(fields) == 0 {
		return false
	}
	for _, f := range fields {
		ref, ok := f.Expr.(*iql.VarRef)
		if !ok || ref.Type == iql.Tag || strings.EqualFold(ref.Val, "time") {
			return false
		}
	}
	return true
}
