package kodo

import (
	"bytes"
	"errors"
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
		return nil, bodyError(err)
	}
	return b, nil
}

// bodyError maps a failure to read a body: the gate's refusal as it is,
// the body reader's 4xx to the code of its status.
func bodyError(err error) error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var be *httpx.BodyError
	if errors.As(err, &be) {
		code := kodoapi.ErrBadRequest
		switch be.Status {
		case http.StatusRequestEntityTooLarge:
			code = kodoapi.ErrBodyTooLarge
		case http.StatusUnsupportedMediaType:
			code = kodoapi.ErrUnsupportedMedia
		case http.StatusRequestTimeout:
			code = kodoapi.ErrRequestTimeout
		}
		return &Error{Code: code, Message: be.Msg, cause: err}
	}
	return wrapErr(kodoapi.ErrBadRequest, err, "reading request body: %v", err)
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
