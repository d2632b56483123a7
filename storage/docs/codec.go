package docs

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
)

// AppendFieldsJSON appends fields as a JSON object whose numbers keep
// their Go type when read back by DecodeFields: floats always carry a '.'
// or an exponent, integers never do. Keys are sorted so equal maps encode
// to equal bytes. NaN and infinities, which JSON cannot hold, are an
// error, as are values that are not scalars.
func AppendFieldsJSON(dst []byte, fields map[string]any) ([]byte, error) {
	dst, _, err := appendObject(dst, fields, nil, appendFieldValue)
	return dst, err
}

func appendFieldValue(dst []byte, k string, v any) ([]byte, error) {
	switch x := v.(type) {
	case string:
		dst = appendJSONString(dst, x)
	case int64:
		dst = strconv.AppendInt(dst, x, 10)
	case int:
		dst = strconv.AppendInt(dst, int64(x), 10)
	case uint64:
		dst = strconv.AppendUint(dst, x, 10)
	case bool:
		dst = strconv.AppendBool(dst, x)
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return dst, fmt.Errorf("%w: field %q: %v cannot be stored", ErrInvalid, k, x)
		}
		n := len(dst)
		dst = strconv.AppendFloat(dst, x, 'g', -1, 64)
		if !bytes.ContainsAny(dst[n:], ".eE") {
			dst = append(dst, '.', '0')
		}
	default:
		return dst, fmt.Errorf("%w: field %q has a %T value; fields hold strings, numbers and booleans", ErrInvalid, k, x)
	}
	return dst, nil
}

// AppendTagsJSON appends tags as a JSON object with sorted keys, the
// bytes json.Marshal gives without its reflection; keys is scratch space,
// returned for the next call.
func AppendTagsJSON(dst []byte, tags map[string]string, keys []string) ([]byte, []string) {
	dst, keys, _ = appendObject(dst, tags, keys, func(dst []byte, _ string, v string) ([]byte, error) {
		return appendJSONString(dst, v), nil
	})
	return dst, keys
}

// appendObject appends m as a JSON object with sorted keys, each value
// written by value; keys is scratch space.
func appendObject[V any](dst []byte, m map[string]V, keys []string, value func([]byte, string, V) ([]byte, error)) ([]byte, []string, error) {
	keys = slices.AppendSeq(keys[:0], maps.Keys(m))
	slices.Sort(keys)
	dst = append(dst, '{')
	for i, k := range keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, k)
		dst = append(dst, ':')
		var err error
		if dst, err = value(dst, k, m[k]); err != nil {
			return dst, keys, err
		}
	}
	return append(dst, '}'), keys, nil
}

// appendJSONString quotes s as json.Marshal does; the common case of
// printable ASCII that needs no escape is copied as is.
func appendJSONString(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			b, _ := json.Marshal(s) // a string always marshals
			return append(dst, b...)
		}
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}

// DecodeFields reads what AppendFieldsJSON wrote (or any JSON object of
// scalars): integers become int64 (uint64 above MaxInt64), other numbers
// float64.
func DecodeFields(data []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var raw map[string]any
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("docs: decode fields: %w", err)
	}
	for k, v := range raw {
		n, ok := v.(json.Number)
		if !ok {
			continue
		}
		raw[k] = NumberValue(n)
	}
	return raw, nil
}

// NumberValue converts a JSON number: int64 when it is an integer in
// range, uint64 when only that holds it, else float64.
func NumberValue(n json.Number) any {
	s := n.String()
	if !strings.ContainsAny(s, ".eE") {
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return i
		}
		if u, err := strconv.ParseUint(s, 10, 64); err == nil {
			return u
		}
	}
	f, _ := n.Float64()
	return f
}
