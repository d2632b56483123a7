package kodo

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"maps"
	"mime"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tinylib/msgp/msgp"

	"github.com/kodo-project/kodo/storage/tsengine"
)

// Answer formats of the InfluxDB 1.x /query, as influxd 1.8's
// services/httpd writes them: JSON (pretty=true indents it), CSV and
// MessagePack chosen by Accept, and chunked=true streaming one document per
// chunk of at most chunk_size rows.

type influxFormat int

const (
	influxJSON influxFormat = iota
	influxCSV
	influxMsgpack
)

// defaultChunkSize is influxd's chunk_size when chunked=true names none.
const defaultChunkSize = 10000

type influxOut struct {
	format      influxFormat
	contentType string
	pretty      bool
	chunked     bool
	chunkSize   int
}

// influxOutput reads the answer format of a /query request as influxd
// does: the first Accept clause (by q) it can serve, else JSON; pretty=
// from the URL; chunked= and chunk_size= from the URL or form.
func influxOutput(r *http.Request) influxOut {
	out := influxOut{format: influxJSON, contentType: "application/json", pretty: r.URL.Query().Get("pretty") == "true"}
	type clause struct {
		typ, sub string
		q        float64
	}
	var cs []clause
	for _, h := range r.Header["Accept"] {
		for _, part := range strings.Split(h, ",") {
			mt, params, err := mime.ParseMediaType(part)
			if err != nil {
				continue
			}
			c := clause{q: 1}
			switch t := strings.Split(mt, "/"); {
			case len(t) == 1 && t[0] == "*":
				c.typ, c.sub = "*", "*"
			case len(t) == 2:
				c.typ, c.sub = t[0], t[1]
			default:
				continue
			}
			if q, ok := params["q"]; ok {
				c.q, _ = strconv.ParseFloat(q, 64)
			}
			cs = append(cs, c)
		}
	}
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].q > cs[j].q })
	types := []struct {
		full, typ, sub string
		f              influxFormat
	}{
		{"application/json", "application", "json", influxJSON},
		{"application/csv", "application", "csv", influxCSV},
		{"text/csv", "text", "csv", influxCSV},
		{"application/x-msgpack", "application", "x-msgpack", influxMsgpack},
	}
found:
	for _, c := range cs {
		for _, t := range types {
			if (c.typ == "*" || c.typ == t.typ) && (c.sub == "*" || c.sub == t.sub) {
				out.format, out.contentType = t.f, t.full
				break found
			}
		}
	}
	out.chunked = formValue(r, "chunked") == "true"
	out.chunkSize = defaultChunkSize
	if n, err := strconv.Atoi(formValue(r, "chunk_size")); err == nil && n > 0 {
		out.chunkSize = n
	}
	return out
}

// engineEpoch is the epoch to ask the engine for: CSV writes times as
// integers (nanoseconds unless epoch= says otherwise), as influxd does.
func (o influxOut) engineEpoch(epoch string) string {
	if epoch == "" && o.format == influxCSV {
		return "ns"
	}
	return epoch
}

// typed says whether the format keeps value types (a float 2.0 is a float
// in MessagePack, and CSV prints times as integers): the engine is then
// asked for Go-typed values (tsengine.QueryOptions.Typed).
func (o influxOut) typed() bool { return o.format != influxJSON }

// influxResponse is the document influxd writes: results, or an error.
type influxResponse struct {
	Results []influxResult `json:"results,omitempty"`
	Err     string         `json:"error,omitempty"`
}

// writeInfluxResults writes the answer with status 200. selects[i] says
// whether statement i is a SELECT: influxd chunks only those (its SHOW
// statements answer in one piece).
func writeInfluxResults(w http.ResponseWriter, out influxOut, results []tsengine.Result, selects []bool) {
	w.Header().Set("Content-Type", out.contentType)
	w.WriteHeader(http.StatusOK)
	f := out.formatter()
	if !out.chunked {
		doc := influxResponse{Results: make([]influxResult, len(results))}
		for i, res := range results {
			doc.Results[i] = influxResult{StatementID: res.StatementID, Series: res.Series, Messages: res.Messages, Err: res.Err}
		}
		if doc.Results == nil {
			doc.Results = []influxResult{}
		}
		_ = f.write(w, doc)
		return
	}
	fl, _ := w.(http.Flusher)
	for _, res := range results {
		sel := res.StatementID < len(selects) && selects[res.StatementID]
		for _, chunk := range chunkResult(res, sel, out.chunkSize) {
			if f.write(w, influxResponse{Results: []influxResult{chunk}}) != nil {
				return // the client went away
			}
			if fl != nil {
				fl.Flush()
			}
		}
	}
}

// writeInfluxError writes a whole-request error in the answer's format.
func writeInfluxError(w http.ResponseWriter, out influxOut, status int, msg string) {
	w.Header().Set("Content-Type", out.contentType)
	w.WriteHeader(status)
	_ = out.formatter().write(w, influxResponse{Err: msg})
}

// chunkResult splits a SELECT's result as influxd's emitter does: one
// result per series piece of at most size rows; a piece whose series goes
// on in the next is "partial", and every result but the statement's last
// is "partial" too.
func chunkResult(res tsengine.Result, sel bool, size int) []influxResult {
	base := influxResult{StatementID: res.StatementID, Messages: res.Messages, Err: res.Err}
	if !sel || len(res.Series) == 0 || res.Err != "" {
		base.Series = res.Series
		return []influxResult{base}
	}
	var out []influxResult
	for _, row := range res.Series {
		vals := row.Values
		for {
			piece := row
			n := min(len(vals), size)
			piece.Values = vals[:n]
			vals = vals[n:]
			piece.Partial = len(vals) > 0 || row.Partial
			r := influxResult{StatementID: res.StatementID, Series: []tsengine.Row{piece}, Partial: true}
			out = append(out, r)
			if len(vals) == 0 {
				break
			}
		}
	}
	out[0].Messages = res.Messages
	out[len(out)-1].Partial = false
	return out
}

type influxFormatter interface {
	write(w io.Writer, doc influxResponse) error
}

func (o influxOut) formatter() influxFormatter {
	switch o.format {
	case influxCSV:
		return &csvFormatter{statementID: -1}
	case influxMsgpack:
		return msgpackFormatter{}
	}
	return jsonFormatter{pretty: o.pretty}
}

type jsonFormatter struct{ pretty bool }

// write marshals as influxd does (json.Marshal, HTML escaped, four-space
// indent when pretty) with a trailing newline.
func (f jsonFormatter) write(w io.Writer, doc influxResponse) error {
	var b []byte
	var err error
	if f.pretty {
		b, err = json.MarshalIndent(doc, "", "    ")
	} else {
		b, err = json.Marshal(doc)
	}
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// csvFormatter follows influxd's: a "name,tags,<columns>" header per
// statement (again when the columns change), tags as k=v,k=v, a blank
// line between statements, and "error\n<msg>" for a request error. It
// keeps its state across the chunks of one answer.
type csvFormatter struct {
	statementID int
	columns     []string
}

func (f *csvFormatter) write(w io.Writer, doc influxResponse) error {
	cw := csv.NewWriter(w)
	if doc.Err != "" {
		_ = cw.Write([]string{"error"})
		_ = cw.Write([]string{doc.Err})
		cw.Flush()
		return cw.Error()
	}
	header := func(cols []string) {
		f.columns = make([]string, 2+len(cols))
		f.columns[0], f.columns[1] = "name", "tags"
		copy(f.columns[2:], cols)
		_ = cw.Write(f.columns)
	}
	newline := func() error {
		cw.Flush()
		if err := cw.Error(); err != nil {
			return err
		}
		_, err := io.WriteString(w, "\n")
		return err
	}
	for _, res := range doc.Results {
		if res.StatementID != f.statementID {
			if len(res.Series) == 0 {
				continue
			}
			if f.statementID >= 0 {
				if err := newline(); err != nil {
					return err
				}
			}
			f.statementID = res.StatementID
			header(res.Series[0].Columns)
		}
		for i, row := range res.Series {
			if i > 0 && !equalStrings(res.Series[i-1].Columns, row.Columns) {
				if err := newline(); err != nil {
					return err
				}
				header(row.Columns)
			}
			f.columns[0], f.columns[1] = row.Name, csvTags(row.Tags)
			for _, vals := range row.Values {
				for j, v := range vals {
					if j+2 < len(f.columns) {
						f.columns[j+2] = csvValue(v)
					}
				}
				_ = cw.Write(f.columns)
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// csvTags writes tags sorted by key as k=v,k=v, escaped as line protocol
// series keys are (influxd prints models.Tags.HashKey without its comma).
func csvTags(tags map[string]string) string {
	if len(tags) == 0 {
		return ""
	}
	keys := slices.Sorted(maps.Keys(tags))
	esc := strings.NewReplacer(",", `\,`, " ", `\ `, "=", `\=`)
	var b strings.Builder
	for _, k := range keys {
		v := tags[k]
		if k == "" || v == "" {
			continue // HashKey skips empty keys and values
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(esc.Replace(k))
		b.WriteByte('=')
		b.WriteString(esc.Replace(v))
	}
	return b.String()
}

// csvValue writes a cell as influxd does: numbers as they are (floats
// without exponent), times as nanoseconds, true/false, and "" for empty
// cells.
func csvValue(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case int64:
		return strconv.FormatInt(v, 10)
	case uint64:
		return strconv.FormatUint(v, 10)
	case time.Time:
		return strconv.FormatInt(v.UnixNano(), 10)
	case json.Number:
		s := string(v)
		if strings.ContainsAny(s, "eE") {
			if f, err := v.Float64(); err == nil {
				return strconv.FormatFloat(f, 'f', -1, 64)
			}
		}
		return s
	case string:
		return v
	case bool:
		if v {
			return "true"
		}
		return "false"
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// msgpackFormatter follows influxd's MessagePack answer: the same maps as
// the JSON, times as the msgp time extension (when no epoch was asked),
// values with their types.
type msgpackFormatter struct{}

func (f msgpackFormatter) write(w io.Writer, doc influxResponse) error {
	enc := msgp.NewWriter(w)
	_ = enc.WriteMapHeader(1)
	if doc.Err != "" {
		_ = enc.WriteString("error")
		_ = enc.WriteString(doc.Err)
		return enc.Flush()
	}
	_ = enc.WriteString("results")
	_ = enc.WriteArrayHeader(uint32(len(doc.Results)))
	for _, res := range doc.Results {
		if res.Err != "" {
			_ = enc.WriteMapHeader(1)
			_ = enc.WriteString("error")
			_ = enc.WriteString(res.Err)
			continue
		}
		sz := uint32(2)
		if len(res.Messages) > 0 {
			sz++
		}
		if res.Partial {
			sz++
		}
		_ = enc.WriteMapHeader(sz)
		_ = enc.WriteString("statement_id")
		_ = enc.WriteInt(res.StatementID)
		if len(res.Messages) > 0 {
			_ = enc.WriteString("messages")
			_ = enc.WriteArrayHeader(uint32(len(res.Messages)))
			for _, m := range res.Messages {
				_ = enc.WriteMapHeader(2)
				_ = enc.WriteString("level")
				_ = enc.WriteString(m.Level)
				_ = enc.WriteString("text")
				_ = enc.WriteString(m.Text)
			}
		}
		_ = enc.WriteString("series")
		_ = enc.WriteArrayHeader(uint32(len(res.Series)))
		for _, row := range res.Series {
			sz := uint32(2)
			if row.Name != "" {
				sz++
			}
			if len(row.Tags) > 0 {
				sz++
			}
			if row.Partial {
				sz++
			}
			_ = enc.WriteMapHeader(sz)
			if row.Name != "" {
				_ = enc.WriteString("name")
				_ = enc.WriteString(row.Name)
			}
			if len(row.Tags) > 0 {
				_ = enc.WriteString("tags")
				_ = enc.WriteMapHeader(uint32(len(row.Tags)))
				for k, v := range row.Tags {
					_ = enc.WriteString(k)
					_ = enc.WriteString(v)
				}
			}
			_ = enc.WriteString("columns")
			_ = enc.WriteArrayHeader(uint32(len(row.Columns)))
			for _, c := range row.Columns {
				_ = enc.WriteString(c)
			}
			_ = enc.WriteString("values")
			_ = enc.WriteArrayHeader(uint32(len(row.Values)))
			timeCol := len(row.Columns) > 0 && row.Columns[0] == "time"
			for _, vals := range row.Values {
				_ = enc.WriteArrayHeader(uint32(len(vals)))
				for j, v := range vals {
					if str, ok := v.(string); ok && j == 0 && timeCol {
						// An engine without typed values (remote) gives
						// RFC3339 text where influxd sends a time.
						if t, err := time.Parse(time.RFC3339Nano, str); err == nil {
							_ = enc.WriteTime(t)
							continue
						}
					}
					_ = enc.WriteIntf(msgpackValue(v))
				}
			}
			if row.Partial {
				_ = enc.WriteString("partial")
				_ = enc.WriteBool(true)
			}
		}
		if res.Partial {
			_ = enc.WriteString("partial")
			_ = enc.WriteBool(true)
		}
	}
	return enc.Flush()
}

// msgpackValue gives a json.Number (from an engine without typed values)
// a MessagePack type: an integer when it is written as one, else float64.
// Only there does a float with a whole value go out as an integer.
func msgpackValue(v any) any {
	n, ok := v.(json.Number)
	if !ok {
		return v
	}
	if !strings.ContainsAny(string(n), ".eE") {
		if i, err := n.Int64(); err == nil {
			return i
		}
		if u, err := strconv.ParseUint(string(n), 10, 64); err == nil {
			return u
		}
	}
	f, _ := n.Float64()
	return f
}
