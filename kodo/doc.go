// Package kodo is the Kodo gateway: an embeddable Server that serves the
// Kodo /v1 API (signed line-protocol writes, InfluxQL reads and rewriting,
// retention policies, continuous queries), the InfluxDB 1.x compatible
// /ping, /write and /query, Prometheus /metrics, and the Pandora TSDB v4
// API under /v4/, on an in-process InfluxDB 1.8 engine by default or on
// remote InfluxDB instances.
//
// Embed it like any http.Handler:
//
//	srv, err := kodo.New(kodo.Options{DataDir: "kodo-data"})
//	...
//	mux.Handle("/", srv.Handler())   // or srv.Start() to listen on Options.Listen
//	...
//	srv.Shutdown(ctx)
//
// The library never reads flags, exits the process or touches globals; the
// logger is injected through Options.Logger.
//
// Every /v1 answer is the envelope {"code","content","errorCode","message"};
// the error codes and their HTTP statuses are the table in kodoapi, and
// asError (errors.go) is the one function from an error to a code. The Go
// client is kodoclient; it shares the wire types (kodoapi) with this package.
//
// # Admission
//
// Signed requests are served in three steps, so that a client without
// credentials costs neither memory nor a slot: the credentials the headers
// carry are checked first (nothing of the body is read: a refusal answers
// with Connection: close), then the request takes its gate (writes or
// queries: Limits.MaxConcurrentWrites/Queries slots and MaxInflightBytes),
// then the body is read. What the headers establish depends on the scheme:
// a Pandora signature and a DATAFLUX signature keyed by a token secret
// never cover the body and are verified in full; a DATAFLUX signature keyed
// by the body's MD5 and a DWAY signature cover it, so only the token or key
// id, the header's shape and Date are checked before the body and the
// signature after it. The InfluxDB API takes its token from the
// Authorization header or the URL (a /query form carrying p= is read first,
// up to 64 KiB). The gate is charged the declared Content-Length at
// admission and then every array the body's buffers allocate while they
// are read and decompressed, so a gzip body holds budget for what it
// expands to; a full gate answers 429 (503 E9003 on /v4) with Retry-After.
// Bodies must arrive within Limits.BodyReadTimeout plus one second per
// BodyMinRate bytes, or the request is answered 408 and its connection
// closed.
package kodo
