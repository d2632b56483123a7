package kodo

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/golang/snappy"
	"github.com/influxdata/influxdb/prometheus/remote"
	iql "github.com/influxdata/influxql"

	"github.com/kodo-project/kodo/influxql"
	"github.com/kodo-project/kodo/kodo/kodoapi"
	"github.com/kodo-project/kodo/lineproto"
	"github.com/kodo-project/kodo/storage/meta"
	"github.com/kodo-project/kodo/storage/tsengine"
)

// Prometheus remote write and read, as InfluxDB 1.8 serves them at
// /api/v1/prom/write and /api/v1/prom/read: snappy-compressed protobuf, a
// sample stored as field "value" of the measurement named by __name__ (the
// labels, __name__ included, as tags), read back with the label matchers
// as tag conditions. The credential is the workspace token (u/p, basic
// auth or Token); db= and rp= as on /write. Writes take the /write path
// with its limits; reads run under the query limits.

// promMeasurementDefault is influxd's measurement for samples without __name__.
const promMeasurementDefault = "prom_metric_not_specified"

// readSnappy reads a snappy-compressed body under the body limits: the
// compressed size as any body, the decoded size (known before decoding)
// as a decompressed body.
func (s *service) readSnappy(r *http.Request) ([]byte, error) {
	r2 := r.Clone(r.Context())
	r2.Header.Del("Content-Encoding") // snappy is decoded here, not by readBody
	body, err := s.readBody(r2)
	if err != nil {
		return nil, err
	}
	defer body.Release()
	n, err := snappy.DecodedLen(body.Data)
	if err != nil {
		return nil, Errorf(kodoapi.ErrBadRequest, "the body is not snappy-compressed protobuf: %v", err)
	}
	if int64(n) > s.limit.MaxDecompressedBytes {
		return nil, Errorf(kodoapi.ErrBodyTooLarge, "the body decompresses to %d bytes; the limit is %d", n, s.limit.MaxDecompressedBytes)
	}
	out, err := snappy.Decode(nil, body.Data)
	if err != nil {
		return nil, Errorf(kodoapi.ErrBadRequest, "the body is not snappy-compressed protobuf: %v", err)
	}
	return out, nil
}

func (s *service) handlePromWrite(r *http.Request) (any, error) {
	db, err := s.influxAuth(r)
	if err != nil {
		return nil, err
	}
	rp := r.URL.Query().Get("rp")
	if rp != "" && rp != db.DefaultRP && !s.hasRP(r.Context(), &db, rp) {
		return nil, Errorf(kodoapi.ErrRPNotFound, "retention policy not found: %s", rp)
	}
	raw, err := s.readSnappy(r)
	if err != nil {
		return nil, err
	}
	var req remote.WriteRequest
	if err := req.Unmarshal(raw); err != nil {
		return nil, Errorf(kodoapi.ErrBadRequest, "the body is not a Prometheus WriteRequest: %v", err)
	}
	lines, err := s.promLines(&req)
	if err != nil {
		return nil, err
	}
	s.metrics.bytes.WithLabelValues("data").Add(float64(len(lines)))
	if err := s.writeLines(r.Context(), db, rp, lineproto.Nanosecond, lines, "prom"); err != nil {
		return nil, influxWriteError(err)
	}
	return nil, nil
}

// promLines turns samples into line protocol, which then takes the /write
// path (its parser limits, bookkeeping and sinks). NaN and ±Inf samples
// are skipped, as influxd does. The text is bounded like a decompressed
// body: labels repeat on every sample, so it can outgrow the request.
func (s *service) promLines(req *remote.WriteRequest) ([]byte, error) {
	var out []byte
	var b lineproto.Batch
	tags := map[string]string{}
	for _, ts := range req.Timeseries {
		if ts == nil {
			continue
		}
		clear(tags)
		name := promMeasurementDefault
		for _, l := range ts.Labels {
			if l == nil || l.Value == "" {
				continue // an empty label is an absent one, in PromQL as in tags
			}
			tags[l.Name] = l.Value
			if l.Name == "__name__" {
				name = l.Value
			}
		}
		for _, smp := range ts.Samples {
			if smp == nil || math.IsNaN(smp.Value) || math.IsInf(smp.Value, 0) {
				continue
			}
			b.Reset()
			t := time.Unix(0, smp.TimestampMs*int64(time.Millisecond))
			if err := b.AddPoint(name, tags, map[string]any{"value": smp.Value}, t); err != nil {
				return nil, Errorf(kodoapi.ErrInvalidLine, "unable to parse points: series %s: %v", promSeriesName(ts), err)
			}
			out = b.AppendLineProtocol(out, lineproto.Nanosecond)
			if int64(len(out)) > s.limit.MaxDecompressedBytes {
				return nil, Errorf(kodoapi.ErrBodyTooLarge, "the samples make more than %d bytes of line protocol; send smaller batches (remote_write queue_config max_samples_per_send)", s.limit.MaxDecompressedBytes)
			}
		}
	}
	return out, nil
}

func promSeriesName(ts *remote.TimeSeries) string {
	var parts []string
	for _, l := range ts.Labels {
		if l != nil {
			parts = append(parts, l.Name+"="+strconv.Quote(l.Value))
		}
	}
	return "{" + strings.Join(parts, ",") + "}"
}

func (s *service) handlePromRead(r *http.Request) (any, error) {
	db, err := s.influxAuth(r)
	if err != nil {
		return nil, err
	}
	raw, err := s.readSnappy(r)
	if err != nil {
		return nil, err
	}
	var req remote.ReadRequest
	if err := req.Unmarshal(raw); err != nil {
		return nil, Errorf(kodoapi.ErrBadRequest, "the body is not a Prometheus ReadRequest: %v", err)
	}
	if n := len(req.Queries); n > s.opts.Limits.MaxQueryStatements {
		return nil, Errorf(kodoapi.ErrBadRequest, "%d queries in one read request; the limit is %d", n, s.opts.Limits.MaxQueryStatements)
	}
	resp := &remote.ReadResponse{Results: make([]*remote.QueryResult, 0, len(req.Queries))}
	for _, q := range req.Queries {
		if q == nil {
			resp.Results = append(resp.Results, &remote.QueryResult{})
			continue
		}
		res, err := s.promQuery(r.Context(), db, r.URL.Query().Get("rp"), q)
		if err != nil {
			return nil, err
		}
		resp.Results = append(resp.Results, res)
	}
	data, err := resp.Marshal()
	if err != nil {
		return nil, wrapErr(kodoapi.ErrInternal, err, "encoding the read response")
	}
	return influxRaw{contentType: "application/x-protobuf", contentEncoding: "snappy", body: snappy.Encode(nil, data)}, nil
}

// promQuery answers one remote-read query with an InfluxQL SELECT of
// field "value": __name__ matchers pick measurements, the others become
// tag conditions (regexes anchored, as PromQL's).
func (s *service) promQuery(ctx context.Context, db meta.Database, rp string, q *remote.Query) (*remote.QueryResult, error) {
	var conds []string
	var nameMatchers []*remote.LabelMatcher
	for _, m := range q.Matchers {
		if m == nil {
			continue
		}
		if m.Name == "__name__" {
			nameMatchers = append(nameMatchers, m)
			continue
		}
		c, err := promCondition(m)
		if err != nil {
			return nil, err
		}
		conds = append(conds, c)
	}
	from, err := s.promSources(ctx, db, rp, nameMatchers)
	if err != nil {
		return nil, err
	}
	if from == "" {
		return &remote.QueryResult{}, nil // no measurement matches
	}
	conds = append(conds, fmt.Sprintf("time >= %dms AND time <= %dms", q.StartTimestampMs, q.EndTimestampMs))
	text := fmt.Sprintf(`SELECT "value" FROM %s WHERE %s GROUP BY *`, from, strings.Join(conds, " AND "))
	parsed, err := influxql.Parse(text)
	if err != nil {
		return nil, wrapErr(kodoapi.ErrBadRequest, err, "the read request's matchers make no valid query: %v", err)
	}
	for i, st := range parsed.Statements {
		if err := influxql.Check(st, i+1, db.Name, influxql.AllowRead); err != nil {
			return nil, wrapErr(kodoapi.ErrBadRequest, err, "%v", err)
		}
	}
	results, err := s.execQueryOpts(ctx, db.Name, db.InstanceUUID, parsed, tsengine.QueryOptions{Epoch: "ms", RetentionPolicy: rp})
	if err != nil {
		return nil, err
	}
	out := &remote.QueryResult{}
	for _, res := range results {
		if res.Err != "" {
			return nil, Errorf(kodoapi.ErrBadRequest, "reading: %s", res.Err)
		}
		for _, row := range res.Series {
			ts := &remote.TimeSeries{}
			labels := map[string]string{}
			for k, v := range row.Tags {
				if v != "" {
					labels[k] = v
				}
			}
			labels["__name__"] = row.Name
			keys := slices.Sorted(maps.Keys(labels))
			for _, k := range keys {
				ts.Labels = append(ts.Labels, &remote.LabelPair{Name: k, Value: labels[k]})
			}
			for _, v := range row.Values {
				if len(v) < 2 {
					continue
				}
				t, ok1 := v[0].(json.Number)
				x, ok2 := v[1].(json.Number)
				if !ok1 || !ok2 {
					continue // a non-numeric "value" was not written by Prometheus
				}
				ms, err1 := t.Int64()
				f, err2 := x.Float64()
				if err1 != nil || err2 != nil {
					continue
				}
				ts.Samples = append(ts.Samples, &remote.Sample{TimestampMs: ms, Value: f})
			}
			if len(ts.Samples) > 0 {
				out.Timeseries = append(out.Timeseries, ts)
			}
		}
	}
	return out, nil
}

func promRegex(m *remote.LabelMatcher) (string, error) {
	re, err := regexp.Compile("^(?:" + m.Value + ")$")
	if err != nil {
		return "", Errorf(kodoapi.ErrBadRequest, "matcher %s: invalid regular expression: %v", m.Name, err)
	}
	return (&iql.RegexLiteral{Val: re}).String(), nil
}

func promCondition(m *remote.LabelMatcher) (string, error) {
	key := iql.QuoteIdent(m.Name)
	switch m.Type {
	case remote.MatchType_EQUAL:
		return key + " = " + iql.QuoteString(m.Value), nil
	case remote.MatchType_NOT_EQUAL:
		return key + " != " + iql.QuoteString(m.Value), nil
	case remote.MatchType_REGEX_MATCH, remote.MatchType_REGEX_NO_MATCH:
		re, err := promRegex(m)
		if err != nil {
			return "", err
		}
		op := " =~ "
		if m.Type == remote.MatchType_REGEX_NO_MATCH {
			op = " !~ "
		}
		return key + op + re, nil
	}
	return "", Errorf(kodoapi.ErrBadRequest, "unknown matcher type %d", m.Type)
}

// promSources is the FROM clause for the __name__ matchers: one
// measurement for a single equality, else the measurements that match
// them all (listed with SHOW MEASUREMENTS); "" when none does.
func (s *service) promSources(ctx context.Context, db meta.Database, rp string, ms []*remote.LabelMatcher) (string, error) {
	qualify := func(name string) string {
		if rp == "" {
			return iql.QuoteIdent(name)
		}
		return iql.QuoteIdent(rp) + "." + iql.QuoteIdent(name)
	}
	if len(ms) == 1 && ms[0].Type == remote.MatchType_EQUAL {
		return qualify(ms[0].Value), nil
	}
	type match func(string) bool
	var preds []match
	for _, m := range ms {
		switch m.Type {
		case remote.MatchType_EQUAL, remote.MatchType_NOT_EQUAL:
			v, eq := m.Value, m.Type == remote.MatchType_EQUAL
			preds = append(preds, func(n string) bool { return (n == v) == eq })
		case remote.MatchType_REGEX_MATCH, remote.MatchType_REGEX_NO_MATCH:
			re, err := regexp.Compile("^(?:" + m.Value + ")$")
			if err != nil {
				return "", Errorf(kodoapi.ErrBadRequest, "matcher __name__: invalid regular expression: %v", err)
			}
			want := m.Type == remote.MatchType_REGEX_MATCH
			preds = append(preds, func(n string) bool { return re.MatchString(n) == want })
		default:
			return "", Errorf(kodoapi.ErrBadRequest, "unknown matcher type %d", m.Type)
		}
	}
	q := &iql.Query{Statements: iql.Statements{&iql.ShowMeasurementsStatement{Database: db.Name}}}
	res, err := s.execQueryOpts(ctx, db.Name, db.InstanceUUID, q, tsengine.QueryOptions{})
	if err != nil {
		return "", err
	}
	var names []string
	for _, r := range res {
		for _, row := range r.Series {
			for _, v := range row.Values {
				n, _ := v[0].(string)
				ok := n != ""
				for _, p := range preds {
					ok = ok && p(n)
				}
				if ok {
					names = append(names, qualify(n))
				}
			}
		}
	}
	return strings.Join(names, ", "), nil
}
