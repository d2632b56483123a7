package jsonbody

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
)

// Options say how strict Decode is.
type Options struct {
	// DisallowUnknownFields refuses keys the target does not have.
	DisallowUnknownFields bool
	// UseNumber decodes numbers into any as json.Number.
	UseNumber bool
}

// Error is a body that is not the JSON document expected. Its message
// is meant for the user who sent it.
type Error struct {
	// Path is where the problem is, as the user wrote it ("" for the
	// document itself).
	Path string
	// Offset is the byte offset in the body where decoding stopped.
	Offset int64
	msg    string
}

func (e *Error) Error() string { return e.msg }

// Decode reads exactly one JSON document from data into v.
func Decode(data []byte, v any, o Options) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if o.UseNumber {
		dec.UseNumber()
	}
	if o.DisallowUnknownFields {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		return explain(err, data, dec.InputOffset())
	}
	if _, err := dec.Token(); err != io.EOF {
		return &Error{Offset: dec.InputOffset(), msg: "unexpected data after the JSON document"}
	}
	return nil
}

func explain(err error, data []byte, stop int64) *Error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return &Error{Offset: se.Offset, msg: fmt.Sprintf("syntax error at byte %d: %v", se.Offset, se)}
	case errors.As(err, &te):
		// The value's start: the decoder reports the offset after it.
		path := PathAt(data, te.Offset)
		what := fmt.Sprintf("must be %s, not JSON %s", kindOf(te.Type), te.Value)
		if path == "" {
			return &Error{Offset: te.Offset, msg: "the body " + what}
		}
		return &Error{Path: path, Offset: te.Offset, msg: fmt.Sprintf("field %q %s", path, what)}
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return &Error{Offset: int64(len(data)), msg: fmt.Sprintf("document ends early after %d bytes", len(data))}
	}
	if key, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		name, _ := strconv.Unquote(key)
		path := PathAt(data, stop)
		if path == "" {
			path = name
		}
		return &Error{Path: path, Offset: stop, msg: fmt.Sprintf("unknown field %q", path)}
	}
	return &Error{Offset: stop, msg: strings.TrimPrefix(err.Error(), "json: ")}
}

// kindOf names the JSON kind a Go type decodes from.
func kindOf(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return "another kind of value"
}

// PathAt is the path, as the user wrote it, of the value that ends at
// byte offset in data: object keys joined by ".", array elements as
// "[i]". It walks the document's tokens, so it needs no Go type names.
func PathAt(data []byte, offset int64) string {
	type frame struct {
		array bool
		key   string
		index int
		// expectKey: in an object, the next string token is a key.
		expectKey bool
	}
	var stack []frame
	path := func() string {
		var b strings.Builder
		for _, f := range stack {
			if f.array {
				fmt.Fprintf(&b, "[%d]", f.index)
				continue
			}
			if f.key == "" {
				continue
			}
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(f.key)
		}
		return b.String()
	}
	// valueDone moves the enclosing container past one value.
	valueDone := func() {
		if n := len(stack); n > 0 {
			if stack[n-1].array {
				stack[n-1].index++
			} else {
				stack[n-1].expectKey = true
			}
		}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	for {
		before := path()
		tok, err := dec.Token()
		if err != nil {
			return before
		}
		if dec.InputOffset() >= offset {
			if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
				stack = stack[:len(stack)-1]
				return path()
			}
			return before
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{':
				stack = append(stack, frame{expectKey: true})
			case '[':
				stack = append(stack, frame{array: true})
			default:
				stack = stack[:len(stack)-1]
				valueDone()
			}
		case string:
			if n := len(stack); n > 0 && !stack[n-1].array && stack[n-1].expectKey {
				stack[n-1].key, stack[n-1].expectKey = t, false
				continue
			}
			valueDone()
		default:
			valueDone()
		}
	}
}
