package kodo

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/kodo-project/kodo/internal/httpx"
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
	data := bytes.TrimSpace(b.Data)
	if len(data) == 0 {
		if allowEmpty {
			return nil
		}
		return Errorf(kodoapi.ErrInvalidJSON, "request body is empty; send a JSON document")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return Errorf(kodoapi.ErrInvalidJSON, "invalid JSON body: %s", jsonErrorText(err, data))
	}
	if _, err := dec.Token(); err != io.EOF {
		return Errorf(kodoapi.ErrInvalidJSON, "invalid JSON body: unexpected data after the JSON document")
	}
	return nil
}

// jsonErrorText explains a decode error with the byte offset where useful.
func jsonErrorText(err error, data []byte) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("syntax error at byte %d: %v", se.Offset, se)
	case errors.As(err, &te):
		if te.Field != "" {
			return fmt.Sprintf("field %q must be %s, not JSON %s", te.Field, te.Type, te.Value)
		}
		return fmt.Sprintf("expected %s, got JSON %s", te.Type, te.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Sprintf("document ends early after %d bytes", len(data))
	default:
		return err.Error()
	}
}
