// Package elastic is the Elasticsearch 7 docs.Store, on
// github.com/olivere/elastic/v7 with sniffing and health checks off.
//
// Indices: "<prefix><kind>-<workspace>" for objects and key events,
// "<prefix>logging-<workspace>-YYYY.MM.DD" (UTC) for logs, each created on
// first use with the explicit Mapping (strict: keywords for builtins and
// "key=value" equality terms, content analysed into the same words as the
// embedded store, tags and fields kept in _source only so no value can
// cause a mapping conflict). Searches read the workspace's index or
// daily-index pattern with ignore_unavailable.
//
// Writes are one bulk request with deterministic ids (docs.DocID), so a
// retried batch overwrites instead of duplicating. Write returns nil only
// if every bulk item succeeded; failed items give a *BulkError, and an
// unreachable cluster, a timeout, 429 or 5xx wrap docs.ErrUnavailable so
// the HTTP layer answers 503 with Retry-After. Options.Refresh="wait_for"
// makes writes visible to Search before Write returns.
//
// Unit tests run the real client against an httptest server that checks
// the exact requests and answers as Elasticsearch 7 does; the shared
// conformance suite runs against a real cluster when
// KODO_TEST_ELASTIC_URL is set.
package elastic
