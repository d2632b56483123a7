// Package tsengine defines the time-series engine behind Kodo's InfluxQL
// databases and the types both implementations share.
//
// Two engines implement Engine and pass the same conformance suite
// (package tsenginetest):
//
//   - embedded: the InfluxDB 1.8 storage and query engine in-process, the
//     default, with nothing to install;
//   - remote: an InfluxDB 1.x instance over HTTP, for when one machine is
//     not enough.
//
// # Values in query results
//
// Row.Values hold, whatever the engine: json.Number for every number
// (integers, floats and epoch timestamps, written exactly as InfluxDB's
// /query JSON writes them), string for strings and RFC3339Nano timestamps
// (QueryOptions.Epoch ""), bool, and nil for empty cells. json.Number was
// chosen because the remote engine cannot tell a float 2.0 from an integer
// 2 in InfluxDB's JSON, so converting to int64/float64 would make the two
// engines disagree; json.Number is lossless and re-encodes verbatim.
//
// # Retention
//
// A finite retention policy lasts at least MinRetentionDuration (1h), as
// in InfluxDB 1.x; CreateDatabase reports shorter ones with a
// *RetentionPolicyError. Shard group durations follow ShardGroupDuration.
package tsengine
