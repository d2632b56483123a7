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
// the error codes and their HTTP statuses are the table in errors.go.
package kodo
