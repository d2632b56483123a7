package documents

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/influxdata/line-protocol/v2/lineprotocol"

	"github.com/kodo-project/kodo/lineproto"
	"github.com/kodo-project/kodo/storage/docs"
)

// ParseError says why a write body was refused, naming the item (object
// writes, 0-based index into the array) or the line (line protocol,
// 1-based). Nothing of a refused body is stored. For line protocol, Err
// is the *lineproto.PartialError or *lineproto.DecodeError listing every
// bad line.
type ParseError struct {
	Kind   docs.Kind
	Item   int    // object index, or -1
	Name   string // the object's __name when known
	Line   int    // first bad line, 0 for objects
	Column int
	Msg    string
	Err    error
}

func (e *ParseError) Error() string {
	switch {
	case e.Line > 0:
		return fmt.Sprintf("%s: line %d, column %d: %s", e.Kind, e.Line, e.Column, e.Msg)
	case e.Item >= 0 && e.Name != "":
		return fmt.Sprintf("%s %d (__name %q): %s", e.Kind, e.Item, e.Name, e.Msg)
	case e.Item >= 0:
		return fmt.Sprintf("%s %d: %s", e.Kind, e.Item, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.Kind, e.Msg)
}

// Unwrap returns the line-protocol error, if any.
func (e *ParseError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, docs.ErrInvalid) true: the caller's body is bad.
func (e *ParseError) Is(target error) bool { return target == docs.ErrInvalid }

// ParseOptions control the parsers.
type ParseOptions struct {
	// Precision of line-protocol timestamps.
	Precision lineproto.Precision
	// Now stamps objects and lines without a timestamp; zero means
	// time.Now().
	Now time.Time
	// Limits bound line-protocol bodies (see lineproto.Limits).
	Limits lineproto.Limits
	// MaxItems bounds the objects in one body; 0 means DefaultMaxItems.
	MaxItems int
}

// DefaultMaxItems is the object count limit of one write.
const DefaultMaxItems = 100000

func (o ParseOptions) now() time.Time {
	if o.Now.IsZero() {
		return time.Now()
	}
	return o.Now
}

// Object keys with a meaning; everything else in an object becomes a
// field.
const (
	keyName    = "__name"
	keyTags    = "__tags"
	keyClass   = "__class"
	keyContent = "__content"
)

// ParseObjects reads a /v1/write/object body: a JSON array of
// {"__name", "__tags": {"__class", ...}, "__content", ...}. __name and
// __tags.__class are required non-empty strings; __class becomes
// Document.Class and the other tags Tags (numbers and booleans are
// accepted as their text); __content, when not a string, is kept as its
// JSON text; other top-level keys become Fields (nested values as JSON
// text). Every object is stamped with opt.Now.
func ParseObjects(body []byte, opt ParseOptions) ([]docs.Document, error) {
	perr := func(item int, name, msg string) error {
		return &ParseError{Kind: docs.KindObject, Item: item, Name: name, Msg: msg}
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, perr(-1, "", "body is empty: want a JSON array of objects")
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return nil, perr(-1, "", fmt.Sprintf("body is not valid JSON at byte %d: %v", se.Offset, se))
		case errors.As(err, &te):
			return nil, perr(-1, "", "body must be a JSON array of objects, got "+te.Value)
		}
		return nil, perr(-1, "", "body must be a JSON array of objects: "+err.Error())
	}
	max := opt.MaxItems
	if max == 0 {
		max = DefaultMaxItems
	}
	if len(raw) > max {
		return nil, perr(-1, "", fmt.Sprintf("%d objects exceed the limit of %d per write", len(raw), max))
	}
	now := opt.now().UnixNano()
	out := make([]docs.Document, 0, len(raw))
	for i, r := range raw {
		dec := json.NewDecoder(bytes.NewReader(r))
		dec.UseNumber()
		var m map[string]any
		if err := dec.Decode(&m); err != nil || m == nil {
			return nil, perr(i, "", "must be a JSON object with __name and __tags")
		}
		name, ok := m[keyName].(string)
		if !ok || name == "" {
			return nil, perr(i, "", "__name is required and must be a non-empty string")
		}
		tagsRaw, ok := m[keyTags].(map[string]any)
		if !ok {
			return nil, perr(i, name, "__tags is required and must be an object holding __class")
		}
		class, ok := tagsRaw[keyClass].(string)
		if !ok || class == "" {
			return nil, perr(i, name, "__tags.__class is required and must be a non-empty string")
		}
		d := docs.Document{Kind: docs.KindObject, Name: name, Class: class, Time: now}
		for k, v := range tagsRaw {
			if k == keyClass {
				continue
			}
			if k == "" {
				return nil, perr(i, name, "__tags has an empty key")
			}
			s, ok := scalarText(v)
			if !ok {
				return nil, perr(i, name, fmt.Sprintf("tag %q must be a string, number or boolean", k))
			}
			if d.Tags == nil {
				d.Tags = map[string]string{}
			}
			d.Tags[k] = s
		}
		for k, v := range m {
			switch k {
			case keyName, keyTags:
				continue
			case keyContent:
				if s, ok := v.(string); ok {
					d.Content = s
				} else if v != nil {
					b, _ := json.Marshal(v)
					d.Content = string(b)
				}
				continue
			}
			if d.Fields == nil {
				d.Fields = map[string]any{}
			}
			switch x := v.(type) {
			case json.Number:
				d.Fields[k] = docs.NumberValue(x)
			case string, bool:
				d.Fields[k] = x
			case nil:
				delete(d.Fields, k)
			default:
				b, _ := json.Marshal(x)
				d.Fields[k] = string(b)
			}
		}
		out = append(out, d)
	}
	return out, nil
}

func scalarText(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case json.Number:
		return x.String(), true
	case bool:
		return strconv.FormatBool(x), true
	}
	return "", false
}

// Line-protocol fields with a meaning.
const (
	// FieldMessage is the log line's text: it becomes Content.
	FieldMessage = "message"
	// FieldContent is a key event's text (and a log's when it has no
	// message): it becomes Content.
	FieldContent = "__content"
)

// ParseKeyEvents reads a /v1/write/keyevent line-protocol body. Each
// line becomes a document: measurement -> Name, tags -> Tags, the
// __content field (or message) -> Content, other fields -> Fields, the
// timestamp (opt.Precision; opt.Now when absent) -> Time.
func ParseKeyEvents(body []byte, opt ParseOptions) ([]docs.Document, error) {
	return parseLines(body, docs.KindKeyEvent, "", opt, nil)
}

// ParseLogs reads a /v1/write/logging line-protocol body. As for key
// events, except that the message field (or __content) becomes Content
// and Source is the source parameter, or the measurement when source is
// empty.
func ParseLogs(body []byte, source string, opt ParseOptions) ([]docs.Document, error) {
	return parseLines(body, docs.KindLogging, source, opt, nil)
}

// parseLines parses body into documents; when batch is not nil the
// parsed points stay in it for re-encoding.
func parseLines(body []byte, kind docs.Kind, source string, opt ParseOptions, batch *lineproto.Batch) ([]docs.Document, error) {
	var b lineproto.Batch
	if batch == nil {
		batch = &b
	}
	err := lineproto.Parse(body, lineproto.ParseOptions{Precision: opt.Precision, Now: opt.now(), Limits: opt.Limits}, batch)
	if err != nil {
		pe := &ParseError{Kind: kind, Item: -1, Err: err}
		var part *lineproto.PartialError
		var de *lineproto.DecodeError
		switch {
		case errors.As(err, &part) && len(part.Errors) > 0:
			first := part.Errors[0]
			pe.Line, pe.Column = first.Line, first.Column
			pe.Msg = first.Msg
			if part.Rejected > 1 {
				pe.Msg += fmt.Sprintf(" (and %d more bad lines; nothing was stored)", part.Rejected-1)
			}
		case errors.As(err, &de):
			pe.Line, pe.Column, pe.Msg = de.Line, de.Column, de.Msg
		default:
			pe.Msg = err.Error()
		}
		return nil, pe
	}
	return batchDocs(batch, kind, source), nil
}

// batchDocs maps parsed points to documents (see ParseKeyEvents and
// ParseLogs for the mapping).
func batchDocs(batch *lineproto.Batch, kind docs.Kind, source string) []docs.Document {
	out := make([]docs.Document, batch.Len())
	primary, secondary := FieldContent, FieldMessage
	if kind == docs.KindLogging {
		primary, secondary = FieldMessage, FieldContent
	}
	for i := range out {
		p := batch.At(i)
		d := docs.Document{Kind: kind, Name: string(p.Measurement), Time: p.Time}
		if kind == docs.KindLogging {
			d.Source = source
			if d.Source == "" {
				d.Source = d.Name
			}
		}
		if len(p.Tags) > 0 {
			d.Tags = make(map[string]string, len(p.Tags))
			for _, t := range p.Tags {
				d.Tags[string(t.Key)] = string(t.Value)
			}
		}
		contentKey := ""
		for _, f := range p.Fields {
			if k := string(f.Key); k == primary && f.Value.Kind() == lineprotocol.String {
				contentKey = primary
				break
			}
		}
		if contentKey == "" {
			for _, f := range p.Fields {
				if string(f.Key) == secondary && f.Value.Kind() == lineprotocol.String {
					contentKey = secondary
				}
			}
		}
		for _, f := range p.Fields {
			k := string(f.Key)
			if k == contentKey {
				d.Content = f.Value.StringV()
				continue
			}
			if d.Fields == nil {
				d.Fields = make(map[string]any, len(p.Fields))
			}
			d.Fields[k] = f.Value.Interface()
		}
		out[i] = d
	}
	return out
}
