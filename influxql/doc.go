// Package influxql confines, rewrites and time-shifts InfluxQL queries for
// Kodo, working on the syntax tree of github.com/influxdata/influxql and
// never on query text.
//
//   - Guard parses a query and checks that every statement and subquery
//     stays inside one database and is of a kind the caller may run
//     (AllowRead for /v1/read/metrics and /query, AllowManage for
//     /v1/manage/metrics). Every query path calls it before executing.
//   - Rewrite implements /v1/rewrite as specified in spec/rewrite.md:
//     conditions and time range ANDed in, downsampling to a nice bucket,
//     raw subqueries aggregated, fill and limits applied.
//   - ShiftTimezone and ParseTimezone implement the timezone parameter of
//     Pandora TSDB v4 queries: time literals are read in the caller's zone.
//
// Errors are typed: *ParseError (with line and column), *ScopeError (with
// the 1-based statement and a Reason), *RewriteError (with the item
// field) and *TimezoneError. Their messages are meant for the end user.
package influxql
