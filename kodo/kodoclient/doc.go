// Package kodoclient is the Go client of the Kodo /v1 API.
//
// A Client makes every /v1 call: writes signed with the workspace token
// (DATAFLUX, keyed by the workspace secret) or a key pair (DWAY), gzipped,
// split into requests by size and retried with backoff on 429 and 5xx;
// reads, rewrites, retention policies, continuous queries, workspaces and
// documents. A Writer batches points in the background and hands back,
// from Flush and Close, every point it could not store.
//
//	c, err := kodoclient.New("http://127.0.0.1:9527", kodoclient.Options{Token: token, Secret: secret})
//	...
//	err = c.Write(ctx, kodoclient.Point{Measurement: "cpu", Fields: map[string]any{"usage": 12.5}})
//
// The request and answer shapes are kodoapi's, shared with the gateway.
// The package imports only kodoapi, signer, lineproto and the standard
// library, so a program that talks to a gateway does not link the server.
package kodoclient
