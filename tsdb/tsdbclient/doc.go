// Package tsdbclient is the Go client of the Pandora TSDB v4 API that
// package tsdb serves (and Kodo mounts at /v4/). It signs every call with
// the Pandora AK/SK scheme through signer.PandoraTransport and speaks the
// shapes of package tsdbapi; it imports nothing of the server, so a
// program that only calls the API does not link the storage engine.
//
// API failures are *tsdbapi.Error values: tsdbapi.CodeOf(err) == "E6303",
// or errors.Is(err, &tsdbapi.Error{Code: "E6303"}).
package tsdbclient
