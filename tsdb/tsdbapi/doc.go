// Package tsdbapi is the wire contract of the Pandora TSDB v4 API: the
// JSON shapes of requests and answers, and the error codes with their
// HTTP status and documented text. The service (package tsdb) and the Go
// client (package tsdbclient) both use these types, so a shape is defined
// once. It imports the standard library only, so a program that speaks
// the API pays for nothing else.
//
// # Answers
//
// Success is 200 with JSON ({} when there is nothing to return). An error
// is {"error":"E6303: Series does not exist: <detail>"} with the status of
// the spec's tables (Code.Status) and Content-Type: application/json
// exactly; a bad signature is 401 {"error":"bad token"}. The documented
// text is kept verbatim, typos included, because clients match on it.
package tsdbapi
