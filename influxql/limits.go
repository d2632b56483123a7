package influxql

import (
	"fmt"
	"math/big"
	"time"

	iql "github.com/influxdata/influxql"
)

// LimitError reports a statement that would pass a cost limit, known
// before it runs. Limit names the limit as the operator sets it.
type LimitError struct {
	Statement int    // 1-based; 0 = the query as a whole
	Limit     string // e.g. "max-select-buckets"
	Msg       string
}

func (e *LimitError) Error() string {
	if e.Statement > 0 {
		return fmt.Sprintf("statement %d: %s", e.Statement, e.Msg)
	}
	return e.Msg
}

// LimitSelectBuckets names the bucket limit in LimitError.
const LimitSelectBuckets = "max-select-buckets"

// CheckBuckets refuses a SELECT (subqueries and EXPLAIN included) whose
// GROUP BY time makes more than max buckets over its WHERE time range: a
// bucket is a row per series, and fill() makes it even where there is no
// data, so the count bounds the answer before the engine sees the query.
// An open upper bound is now, as InfluxDB reads it; a SELECT with no
// lower bound takes its outer query's, and with none at all it is left
// to the engine (which then only maps the last max buckets' shards).
// max <= 0 disables the check.
func CheckBuckets(q *iql.Query, now time.Time, max int) error {
	if max <= 0 || q == nil {
		return nil
	}
	for i, st := range q.Statements {
		var sel *iql.SelectStatement
		switch st := st.(type) {
		case *iql.SelectStatement:
			sel = st
		case *iql.ExplainStatement:
			sel = st.Statement
		}
		if sel == nil {
			continue
		}
		if err := checkSelectBuckets(sel, now, max, time.Time{}, 0); err != nil {
			err.Statement = i + 1
			return err
		}
	}
	return nil
}

func checkSelectBuckets(s *iql.SelectStatement, now time.Time, max int, outerMin time.Time, depth int) *LimitError {
	if s == nil || depth > MaxDepth {
		return nil
	}
	lo, hi := outerMin, time.Time{}
	if s.Condition != nil {
		// A condition the engine will refuse anyway is not ours to judge.
		if _, tr, err := iql.ConditionExpr(s.Condition, &iql.NowValuer{Now: now}); err == nil {
			if !tr.Min.IsZero() {
				lo = tr.Min
			}
			hi = tr.Max
		}
	}
	if hi.IsZero() {
		hi = now
	}
	if interval, err := s.GroupByInterval(); err == nil && interval > 0 && !lo.IsZero() && hi.After(lo) {
		n := Buckets(lo, hi, interval)
		if n.Cmp(big.NewInt(int64(max))) > 0 {
			return &LimitError{Limit: LimitSelectBuckets, Msg: fmt.Sprintf(
				"GROUP BY time(%s) over %s makes %s buckets; the limit (%s) is %d: use a coarser GROUP BY time interval or a shorter time range",
				iql.FormatDuration(interval), hi.Sub(lo).Round(time.Second), n, LimitSelectBuckets, max)}
		}
	}
	for _, src := range s.Sources {
		if sub, ok := src.(*iql.SubQuery); ok {
			if err := checkSelectBuckets(sub.Statement, now, max, lo, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

// Buckets counts the GROUP BY time(interval) windows that [lo, hi] touches.
// It is exact in big integers, since a nanosecond interval over centuries
// overflows int64.
func Buckets(lo, hi time.Time, interval time.Duration) *big.Int {
	if interval <= 0 || !hi.After(lo) {
		return big.NewInt(0)
	}
	d := big.NewInt(interval.Nanoseconds())
	first := new(big.Int).Div(nanos(lo), d)
	last := new(big.Int).Div(nanos(hi), d)
	return last.Sub(last, first).Add(last, big.NewInt(1))
}

// nanos is t in nanoseconds since 1970, beyond int64's range too.
func nanos(t time.Time) *big.Int {
	n := new(big.Int).Mul(big.NewInt(t.Unix()), big.NewInt(int64(time.Second)))
	return n.Add(n, big.NewInt(int64(t.Nanosecond())))
}
