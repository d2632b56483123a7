package tsengine

import (
	"fmt"
	"strings"
)

// Names of the query limits an engine enforces. The first three are
// InfluxDB's own (its configuration names, which its errors carry); the
// last is QueryOptions.MaxAnswerBytes.
const (
	LimitSelectPoints  = "max-select-point"
	LimitSelectSeries  = "max-select-series"
	LimitSelectBuckets = "max-select-buckets"
	LimitAnswerBytes   = "max-answer-bytes"
)

// LimitError reports a query stopped by a query limit: the client asked
// for more than the engine will do, so callers answer 4xx and name Limit.
type LimitError struct {
	Limit string // one of the Limit* names
	Msg   string // the engine's words, e.g. "(120001/100000)"
}

func (e *LimitError) Error() string { return e.Limit + " limit exceeded: " + e.Msg }

// LimitFromResults finds a statement that InfluxDB stopped at one of its
// select limits. Such an error is the client's doing, not a partial
// answer to pass on, so both engines turn it into a *LimitError.
func LimitFromResults(res []Result) error {
	for _, r := range res {
		for _, l := range []string{LimitSelectPoints, LimitSelectSeries, LimitSelectBuckets} {
			if rest, ok := strings.CutPrefix(r.Err, l+" limit "); ok {
				// InfluxDB writes "exceeded: (n/max)" (and, for points,
				// "exceeed: (n/max)"): keep the numbers.
				if _, nums, ok := strings.Cut(rest, ":"); ok {
					rest = strings.TrimSpace(nums)
				}
				return &LimitError{Limit: l, Msg: rest}
			}
		}
	}
	return nil
}

// AnswerTooLarge is the *LimitError for an answer past max bytes.
func AnswerTooLarge(max int64) *LimitError {
	return &LimitError{Limit: LimitAnswerBytes, Msg: fmt.Sprintf("the answer passed %d bytes", max)}
}
