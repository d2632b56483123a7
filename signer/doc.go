// Package signer signs and verifies the request signatures Kodo accepts:
//
//   - DATAFLUX: "Authorization: DATAFLUX <token>:<sig>", sig the standard
//     base64 of HMAC-SHA1 (28 chars) or HMAC-SHA256 (44 chars) over
//     METHOD\nContent-MD5\nContent-Type\nDate, keyed by the token's secret
//     or, for the agents that have none, by the hex MD5 of the body as sent.
//     [DatafluxVerifier.VerifyKeys] checks against a token's key set: the
//     secrets still valid (rotation overlap) and whether the body key, which
//     anyone who saw the token can compute, is accepted at all.
//   - DWAY: "Authorization: DWAY <id>:<sig>", HMAC-SHA1 over
//     METHOD\nbase64(MD5(body))\nContent-Type\nDate. The id is the access
//     key (JS SDK, keyed by the secret) or the secret key (Go SDK, keyed by
//     the access key).
//   - Pandora (Qiniu TSDB v4): "Authorization: Pandora <ak>:<sig>", sig the
//     URL-safe base64 of HMAC-SHA1(sk, Method\nContent-MD5\nContent-Type\n
//     Date\n + canonical X-Qiniu-* headers + URL path), and the token form
//     "Pandora <ak>:<sig>:<encodedDesc>" that carries its own scope and
//     expiry.
//
// The server side is split in two steps so an HTTP layer can dispatch:
// [SchemeOf] (or [ParseAuthorization]) names the scheme, then the matching
// verifier ([DatafluxVerifier], [DwayVerifier], [PandoraVerifier]) checks a
// [Request] holding the body bytes exactly as they arrived (still gzipped
// when Content-Encoding says so), because every scheme that covers the body
// hashes the bytes on the wire. Failures are [*Error] values whose
// [ErrorCode] says what failed; errors.Is(err, ErrClockSkew) and the like
// work on them.
//
// The client side is a set of [http.RoundTripper]s ([DatafluxTransport],
// [DwayTransport], [PandoraTransport]) that set Date (and Content-MD5 where
// the real clients do), sign a clone of the request and leave the caller's
// request untouched, plus [MakePandoraToken] for pre-signed tokens.
//
// The request vectors captured from the real clients live in
// testdata/vectors (a copy of the shared directory) and are replayed by the
// tests; testdata/vectors/dataflux-secret.json beside them holds generated
// secret-keyed DATAFLUX vectors (TestSecretVectors, -update regenerates).
package signer
