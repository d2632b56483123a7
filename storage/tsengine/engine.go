package tsengine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/influxdata/influxql"

	"github.com/kodo-project/kodo/kodo/kodoapi"
	"github.com/kodo-project/kodo/lineproto"
)

// LineOptions is how both engines write points as InfluxDB 1.x line
// protocol: 1.x (the embedded engine and a stock server) reads no
// unsigned "5u", so unsigned values go as integers and those above
// MaxInt64 are refused.
var LineOptions = lineproto.EncodeOptions{UnsignedAsInt: true}

// Engine stores points and answers InfluxQL for the databases placed on it.
// The embedded engine (InfluxDB 1.8 in-process) and the remote one (an
// InfluxDB 1.x instance over HTTP) both implement it and pass the same
// conformance suite (package tsenginetest).
type Engine interface {
	// CreateDatabase creates db if needed and makes sure every listed
	// retention policy exists with its duration; the one marked Default
	// becomes the default. It is idempotent.
	CreateDatabase(ctx context.Context, db string, rps []RetentionPolicy) error
	// DropDatabase removes db and all its data; dropping a missing db is not an error.
	DropDatabase(ctx context.Context, db string) error
	// WritePoints stores the batch into db.rp (rp "" = the db's default).
	// It returns only once the points are durable (in the WAL, fsynced).
	// Points the engine refuses (older than the RP, field type conflicts)
	// are reported by a *PartialWriteError; the rest are stored.
	WritePoints(ctx context.Context, db, rp string, b *lineproto.Batch) error
	// Query runs q inside db. Scope checks are the caller's job: the engine
	// runs whatever it is given. ctx bounds the query time. A statement
	// stopped by a select limit (points, series, buckets) or an answer past
	// opt.MaxAnswerBytes fails the query with a *LimitError.
	Query(ctx context.Context, db string, q *influxql.Query, opt QueryOptions) ([]Result, error)
	// DropMeasurement removes a measurement and its series from db.
	DropMeasurement(ctx context.Context, db, measurement string) error
	// Ping reports whether the engine can take requests.
	Ping(ctx context.Context) error
	// Close releases the engine; in-flight calls finish first.
	Close() error
}

// RetentionPolicy is a named retention. Duration 0 means keep forever.
type RetentionPolicy struct {
	Name     string
	Duration time.Duration
	Default  bool
}

// QueryOptions shape a query's answer.
type QueryOptions struct {
	// Epoch is the unit for time values: "ns", "u", "ms", "s", "m", "h";
	// "" answers RFC3339 strings.
	Epoch string
	// RetentionPolicy is the RP of statements that name none ("" = the
	// database's default), as InfluxDB's /query rp= parameter.
	RetentionPolicy string
	// Typed asks for Go-typed values instead of json.Number: int64,
	// uint64 and float64 as stored (a float 2.0 stays a float), and
	// time.Time for times when Epoch is "". It serves answers that keep
	// types (MessagePack, CSV). The remote engine reads InfluxDB's
	// MessagePack answer for it.
	Typed bool
	// MaxAnswerBytes bounds the answer the engine holds for the caller
	// (0 = no bound): past it the query stops with a *LimitError for
	// LimitAnswerBytes. The embedded engine counts an estimate of the
	// answer's memory as rows arrive; the remote one counts the JSON it
	// reads from InfluxDB.
	MaxAnswerBytes int64
}

// Result is the answer to one statement, shaped like InfluxDB's /query.
type Result struct {
	StatementID int       `json:"statement_id"`
	Series      []Row     `json:"series,omitempty"`
	Messages    []Message `json:"messages,omitempty"`
	Err         string    `json:"error,omitempty"`
}

// Row is one series of a result, in InfluxDB 1.x's shape: the same shape
// the /v1 and /query answers carry, so it is defined once, in kodoapi.
// Values hold json.Number for every number (times too, when an epoch is
// set), string, bool or nil, from either engine: see the package doc.
type Row = kodoapi.Row

// Message is an informational message attached to a result.
type Message = kodoapi.Message

// PartialWriteError reports points that the engine refused while it stored
// the others.
type PartialWriteError struct {
	Dropped int
	Reason  string
	// Refused holds the batch indices of the refused points, ascending,
	// when the engine can tell them all (so the accepted points can be
	// handed on, e.g. to sinks); nil when it cannot.
	Refused []int
}

func (e *PartialWriteError) Error() string {
	return fmt.Sprintf("partial write: %s dropped=%d", e.Reason, e.Dropped)
}

// ErrDatabaseNotFound is returned when a database does not exist on the engine.
var ErrDatabaseNotFound = errors.New("database not found")

// ErrUnavailable wraps errors of an engine that cannot be reached; callers
// answer 503 with Retry-After.
var ErrUnavailable = errors.New("engine unavailable")

// WriteLimits are per-database write bounds, carried by a write's context
// (WithWriteLimits) so a caller can apply a database's own override. A
// zero field leaves the engine's default; a negative one lifts the bound.
// The embedded engine enforces them; a remote InfluxDB applies its own
// configuration (max-series-per-database, max-values-per-tag), whose
// refusals come back as a *PartialWriteError all the same.
type WriteLimits struct {
	MaxSeriesPerDatabase int
	MaxValuesPerTag      int
}

type writeLimitsKey struct{}

// WithWriteLimits returns ctx carrying l for the writes made with it.
func WithWriteLimits(ctx context.Context, l WriteLimits) context.Context {
	return context.WithValue(ctx, writeLimitsKey{}, l)
}

// WriteLimitsFrom returns the limits set by WithWriteLimits, if any.
func WriteLimitsFrom(ctx context.Context) (WriteLimits, bool) {
	l, ok := ctx.Value(writeLimitsKey{}).(WriteLimits)
	return l, ok
}

// Faults of the machine under the engine (item: faults). Both wrap
// ErrUnavailable too, so a caller that knows only that one still answers
// a retryable error.
var (
	// ErrDiskFull: the engine could not store a write for lack of disk
	// space. The write is not stored and not visible; retry once space is
	// freed.
	ErrDiskFull = fmt.Errorf("%w: no space left on the disk", ErrUnavailable)
	// ErrTooManyOpenFiles: the process hit its open-file limit (EMFILE).
	ErrTooManyOpenFiles = fmt.Errorf("%w: too many open files", ErrUnavailable)
)

// Deletes reports whether q may remove series, fields or shards, after
// which an engine forgets what it learnt of field types and tag values.
func Deletes(q *influxql.Query) bool {
	for _, st := range q.Statements {
		switch st.(type) {
		case *influxql.DropDatabaseStatement, *influxql.DropMeasurementStatement, *influxql.DropSeriesStatement,
			*influxql.DeleteSeriesStatement, *influxql.DeleteStatement, *influxql.DropShardStatement,
			*influxql.DropRetentionPolicyStatement:
			return true
		}
	}
	return false
}
