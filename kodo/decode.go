package kodo

import (
	"bytes"
	"net/http"

	"github.com/kodo-project/kodo/internal/httpx"
	"github.com/kodo-project/kodo/internal/jsonbody"
	"github.com/kodo-project/kodo/kodo/kodoapi"
)

// readBody reads the request body under the service's limits, charged to
// the request's gate lease when it has one (see admit).
func (s *service) readBody(r *http.Request) (*httpx.Body, error) {
	b, err := httpx.ReadBody(r, s.limit)
	if err != nil {
		return nil, err
	}
	return b, nil
}

// decodeJSON reads a JSON body into v. An empty body leaves v as it is
// when allowEmpty; unknown fields are accepted (clients send extras).
func (s *service) decodeJSON(r *http.Request, v any, allowEmpty bool) error {
	b, err := s.readBody(r)
	if err != nil {
		return err
	}
	defer b.Release()
	return decodeJSONBody(b.Data, v, allowEmpty, jsonbody.Options{UseNumber: true})
}

// decodeJSONBody decodes one JSON document; a bad one is kodo.invalidJson
// with a message naming the field as the user wrote it.
func decodeJSONBody(data []byte, v any, allowEmpty bool, o jsonbody.Options) error {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		if allowEmpty {
			return nil
		}
		return Errorf(kodoapi.ErrInvalidJSON, "request body is empty; send a JSON document")
	}
	if err := jsonbody.Decode(data, v, o); err != nil {
		return wrapErr(kodoapi.ErrInvalidJSON, err, "invalid JSON body: %v", err)
	}
	return nil
}
