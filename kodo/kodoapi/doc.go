// Package kodoapi defines the Kodo /v1 API on the wire: every JSON
// request and answer shape, the answer envelope, and the table of error
// codes with their HTTP statuses.
//
// It is shared by the gateway (package kodo) and the Go client (package
// kodoclient), so the two cannot drift apart, and it imports nothing but
// the standard library, so a program that only talks to a gateway does
// not pay for the server.
//
// Where an answer is shown in the API text, field order follows it; the
// answers that were historically written from maps keep their keys in
// alphabetical order, which is what encoding/json gave them.
package kodoapi
