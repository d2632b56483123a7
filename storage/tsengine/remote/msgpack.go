package remote

import (
	"errors"
	"fmt"
	"time"

	"github.com/tinylib/msgp/msgp"

	"github.com/kodo-project/kodo/storage/tsengine"
)

// QueryOptions.Typed: InfluxDB's JSON cannot tell a float 2.0 from an
// integer 2, its MessagePack answer (Accept: application/x-msgpack, served
// since 1.4) can, so typed queries read that. Values come back as int64,
// uint64, float64, string, bool, nil and time.Time, as the embedded
// engine's typed values.

const msgpackType = "application/x-msgpack"

// decodeMsgpackResults reads influxd's MessagePack /query answer.
func decodeMsgpackResults(data []byte) ([]tsengine.Result, string, error) {
	v, _, err := msgp.ReadIntfBytes(data)
	if err != nil {
		return nil, "", fmt.Errorf("remote: decoding MessagePack query answer: %w", err)
	}
	doc, ok := v.(map[string]any)
	if !ok {
		return nil, "", errors.New("remote: MessagePack query answer is not a map")
	}
	if e, ok := doc["error"].(string); ok {
		return nil, e, nil
	}
	list, _ := doc["results"].([]any)
	out := make([]tsengine.Result, 0, len(list))
	for i, item := range list {
		m, _ := item.(map[string]any)
		// influxd writes a failed statement as {"error": ...} alone: its
		// id is its position.
		r := tsengine.Result{StatementID: i}
		if id, ok := msgpackInt(m["statement_id"]); ok {
			r.StatementID = int(id)
		}
		r.Err, _ = m["error"].(string)
		msgs, _ := m["messages"].([]any)
		for _, x := range msgs {
			mm, _ := x.(map[string]any)
			lvl, _ := mm["level"].(string)
			txt, _ := mm["text"].(string)
			r.Messages = append(r.Messages, tsengine.Message{Level: lvl, Text: txt})
		}
		series, _ := m["series"].([]any)
		for _, x := range series {
			sm, _ := x.(map[string]any)
			row := tsengine.Row{}
			row.Name, _ = sm["name"].(string)
			if tags, ok := sm["tags"].(map[string]any); ok && len(tags) > 0 {
				row.Tags = make(map[string]string, len(tags))
				for k, tv := range tags {
					row.Tags[k], _ = tv.(string)
				}
			}
			cols, _ := sm["columns"].([]any)
			for _, c := range cols {
				s, _ := c.(string)
				row.Columns = append(row.Columns, s)
			}
			vals, _ := sm["values"].([]any)
			for _, rv := range vals {
				cells, _ := rv.([]any)
				conv := make([]any, len(cells))
				for j, c := range cells {
					conv[j] = msgpackValue(c)
				}
				row.Values = append(row.Values, conv)
			}
			row.Partial, _ = sm["partial"].(bool)
			r.Series = append(r.Series, row)
		}
		out = append(out, r)
	}
	return out, "", nil
}

func msgpackInt(v any) (int64, bool) {
	switch v := v.(type) {
	case int64:
		return v, true
	case uint64:
		return int64(v), true
	}
	return 0, false
}

// msgpackValue normalises a decoded cell to the typed representation.
func msgpackValue(v any) any {
	switch v := v.(type) {
	case float32:
		return float64(v)
	case time.Time:
		return v.UTC()
	}
	return v
}

// msgpackError reads the message of a MessagePack error answer, or
// returns raw as it is.
func msgpackError(raw string) string {
	v, _, err := msgp.ReadIntfBytes([]byte(raw))
	if err != nil {
		return raw
	}
	if m, ok := v.(map[string]any); ok {
		if e, ok := m["error"].(string); ok {
			return e
		}
	}
	return raw
}
