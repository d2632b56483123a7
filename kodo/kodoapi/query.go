package kodoapi

// QueryRequest is the body of /v1/read/metrics and /v1/manage/metrics.
// DB holds the db_uuid (as the API text shows); DBUUID is accepted too.
type QueryRequest struct {
	DB      string `json:"db"`
	DBUUID  string `json:"db_uuid,omitempty"`
	Command string `json:"command"`
	// Epoch of time values: ns, u, ms (default, as the API text shows),
	// s, m, h.
	Epoch string `json:"epoch,omitempty"`
	// Rewrite, when set, rewrites the command first with the options of
	// /v1/rewrite (conditions, time_range, max_point, fill, ...); its SQL
	// is ignored.
	Rewrite *RewriteItem `json:"rewrite,omitempty"`
}

// QueryResult is the content of a /v1/read|manage/metrics answer.
type QueryResult struct {
	// Error is the first statement error, "" when none failed. When
	// every statement fails the answer is kodo.invalidSQL with this
	// content.
	Error string `json:"error"`
	// Results has one entry per statement.
	Results []StatementResult `json:"results"`
	// Rewritten lists the statements that ran, when the request asked
	// for a rewrite.
	Rewritten []RewrittenStatement `json:"rewritten,omitempty"`
}

// StatementResult is one statement's answer.
type StatementResult struct {
	StatementID int       `json:"statement_id"`
	Series      []Row     `json:"Series"`
	Messages    []Message `json:"Messages"`
	Error       string    `json:"error,omitempty"`
}

// Row is one series of a statement's answer, in InfluxDB 1.x's shape.
// Numbers (times included) decode as json.Number in the client; times are
// in the epoch asked for.
type Row struct {
	Name    string            `json:"name,omitempty"`
	Tags    map[string]string `json:"tags,omitempty"`
	Columns []string          `json:"columns,omitempty"`
	Values  [][]any           `json:"values,omitempty"`
	Partial bool              `json:"partial,omitempty"`
}

// Column returns the index of the named column, or -1.
func (r Row) Column(name string) int {
	for i, c := range r.Columns {
		if c == name {
			return i
		}
	}
	return -1
}

// Message is an informational message of a statement.
type Message struct {
	Level string `json:"level"`
	Text  string `json:"text"`
}

// RewriteRequest is the body of /v1/rewrite; the answer holds, per item
// in order, its rewritten statements ([][]RewrittenStatement).
type RewriteRequest struct {
	DBUUID string        `json:"db_uuid"`
	SQLs   []RewriteItem `json:"sqls"`
}

// RewriteItem is one query to rewrite and its options (see the rewrite
// rules in the README).
type RewriteItem struct {
	// SQL holds one or more statements separated by ';'; comments allowed.
	SQL string `json:"sql"`
	// Conditions is an InfluxQL boolean expression ANDed into every
	// statement that reads a measurement.
	Conditions string `json:"conditions"`
	// TimeRange is [start_ms, end_ms] or empty.
	TimeRange []int64 `json:"time_range"`
	// MaxPoint is the most points per series the caller wants; 0: no limit.
	MaxPoint int `json:"max_point"`
	// Dimensions may hold one "time(<duration>)": the bucket asked for.
	// Other entries are accepted and ignored.
	Dimensions []string `json:"dimensions"`
	// Measurements is accepted for compatibility; no rule uses it.
	Measurements []string `json:"measurements"`
	// DefaultAggrFunc downsamples raw subqueries; default "last".
	DefaultAggrFunc string `json:"default_aggr_func"`
	// FillOpt is null, none, number (alias number_fill), previous or linear.
	FillOpt string `json:"fill_opt"`
	// FillVal is the number for FillOpt number.
	FillVal any `json:"fill_val"`
	Limit   int `json:"limit"`
	Offset  int `json:"offset"`
	SLimit  int `json:"slimit"`
	SOffset int `json:"soffset"`
}

// RewrittenStatement is one statement a rewrite produced: its InfluxQL,
// or the reason the item could not be rewritten, and what the rules
// changed (for example "downsampled_to", the bucket in nanoseconds).
type RewrittenStatement struct {
	SQL            string         `json:"sql"`
	Error          string         `json:"error,omitempty"`
	RewriteResults map[string]any `json:"rewrite_results"`
}
