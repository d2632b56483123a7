// Package tsdb is the Pandora TSDB v4 service of Kodo: the HTTP API of
// Qiniu's time-series database (repos, series, views, points, queries)
// over a tsengine.Engine.
//
// # Model
//
// A repo belongs to the access key that created it and is one engine
// database, named by DatabaseName ("pandora_<hash of the AK>_<repo>"), so
// two key pairs may use the same repo names. A series is a measurement
// whose points live in the retention policy of its retention: "7d" is RP
// "r7d" with a 7×24h duration, created on demand. Queries name series
// bare; the service rewrites every FROM source on the syntax tree to
// "rp".series (a regex becomes the list of matching series), after the
// scope guard of package influxql has confined the query to the repo's
// database and before the time-zone shift reads time literals in the
// caller's zone.
//
// Deleting a repo or a series is asynchronous: the record is marked
// deleting ("deleting":"true" in listings, E6106/E6305 for changes and
// writes), a goroutine drops the data, then the record. Close stops those
// goroutines; an unfinished deletion resumes at the next NewService.
//
// # Answers
//
// Success is 200 with JSON ({} when there is nothing to return). Errors are
// {"error":"E6303: Series does not exist: <detail>"} with
// Content-Type: application/json exactly and the status of the spec's
// tables (see tsdbapi.Code and its Status); a bad signature is 401
// {"error":"bad token"}. The documented text is kept verbatim, typos
// included, and a detail naming the culprit follows it.
//
// A body over Config.Limits is 413 (a gzip body with an unknown encoding
// 415, one arriving too slowly for the server 408), still with an E6000
// error, rather than the table's 400.
//
// The signature is checked from the headers before the body is read (it
// never covers the body; Content-MD5, when sent, is checked against the
// body after), so an unsigned request is answered 401 without a byte of
// its body read or decompressed. Config.Admit then puts the request behind
// the embedding server's gates. The spec has no capacity answer; a full
// gate is 503 {"error":"E9003: Server is busy, please retry after the
// Retry-After delay: <which gate>"} with Retry-After: 503 says the
// condition is the server's and temporary, where a 4xx would tell an SDK
// that the request itself is wrong.
//
// Readings of the spec this package chose:
//   - An unknown repo, or one of another key pair, is 404 E6004 (the spec's
//     "resource not found"; it has no repo-specific code).
//   - Metadata updates replace the whole map; DELETE .../meta empties it.
//   - A points body is all or nothing for syntax and unknown series: a
//     line that does not parse, or a measurement that is not a series of
//     the repo (E6303, naming it), rejects the body and nothing is written.
//     Points the engine refuses are 400 E6000 naming the cause, the other
//     points being stored (InfluxDB's partial write): a point older than
//     its series' retention (it would expire at once), a field type other
//     than the one stored in any shard, a series or tag-value limit, the
//     shard limit. The spec has no code for these; E6000 ("data format not
//     supplied as expected") is its generic 400, and the official SDK
//     reports any non-2xx as an error, where the 200 {"dropped":n}
//     answered before read as success. A point more than Config.MaxFuture
//     ahead of the clock is a bad line (E6000, nothing written).
//   - Views (not in the spec; the official SDK has them) are stored SELECTs
//     over the repo's series, read as a subquery when a query names them.
//     Their codes are the SDK's: E6400 bad name, E6403 bad SQL, E6410 not
//     found, E6411 exists. A view's retention is validated and reported
//     only: the view holds no data.
//   - GET /v4/repos/<repo>/series/<name> (not in the spec) describes one
//     series, metadata included.
//
// # Packages
//
// The wire shapes and the error codes are package tsdbapi's, which the
// service and the Go client (package tsdbclient) share; neither of those
// imports this package, so a program that only calls the API does not
// link the engine.
//
// Inside, serve authenticates, admits and reads the body; the routes (Go
// 1.22 ServeMux patterns over the full /v4/ path) lead to handlers of one
// shape, func(*call) (any, error), which decode the request, call the
// domain (repos.go, series.go, views.go, points.go, query.go) and return;
// answer writes the value or, through apiError, the one mapping of errors
// to codes, the error.
package tsdb
