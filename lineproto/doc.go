// Package lineproto reads and writes InfluxDB line protocol for Kodo's
// write path, with InfluxDB 1.x semantics and without per-point
// allocations.
//
// Parse decodes a body into a Batch: a reusable, sync.Pool-friendly
// container whose points share a few slices and a byte arena, so a
// Batch that has grown parses the next body without allocating. Points
// are read back with Batch.At; their byte slices alias the Batch and are
// valid until Reset.
//
// Parsing follows InfluxDB 1.8 (models.ParsePointsWithPrecision, which a
// test runs side by side on the corpus under testdata/): tags are sorted,
// a duplicate tag key rejects the line, a duplicate field key keeps the
// last value, empty tag values are an error, blank and '#' lines are
// skipped, string values may span lines, unsigned values (1u) are refused
// unless ParseOptions.AllowUnsigned, timestamps are converted to
// nanoseconds with overflow checks and must lie in [MinTime, MaxTime].
// Deliberate departures, listed in testdata/influx18-divergences.txt:
// CRLF line ends and trailing tabs are accepted; invalid UTF-8 is
// rejected; a "time" tag, or a "time" field that is a point's only
// field, rejects the line, where the 1.8 shard would drop the point
// later (a "time" field beside others is dropped silently, as there).
//
// A body with some bad lines keeps the good points and returns a
// *PartialError listing the bad lines as DecodeError values (line and
// column, 1-based), so an HTTP layer can answer 400 naming them as
// influxd does. Limits bound lines, tags, fields and points.
//
// Batch.AppendLineProtocol writes canonical line protocol (sorted tags,
// InfluxDB escaping, explicit timestamps in a chosen Precision) that this
// package reads back to the same points. AppendPoint is the same encoder
// with the checks InfluxDB 1.x needs (tests parse its output with 1.8's
// own parser); Kodo's engines write with it. Append and
// AddPoint build batches from Go values; Point.AppendSeriesKey gives the
// series key for counting distinct series.
//
// Values are github.com/influxdata/line-protocol/v2/lineprotocol Values.
// The scanner itself is ours: that package's Decoder follows InfluxDB 2.x
// rules (it rejects non-printable bytes in names and unescapes \n, \t and
// \r inside strings), which would change 1.x data.
package lineproto
