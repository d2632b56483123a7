package kodo_test

import (
	"bytes"
	"encoding/binary"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/influxdata/influxdb/prometheus/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func promPost(t *testing.T, h *harness, path, token string, msg interface{ Marshal() ([]byte, error) }) (int, http.Header, []byte) {
	t.Helper()
	raw, err := msg.Marshal()
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, h.ts.URL+path, bytes.NewReader(snappy.Encode(nil, raw)))
	require.NoError(t, err)
	req.Header.Set("Content-Encoding", "snappy")
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("X-Prometheus-Remote-Write-Version", "0.1.0")
	req.SetBasicAuth("prometheus", token)
	resp, err := h.ts.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header, body
}

// TestPromRemoteWriteRead: samples written with Prometheus remote write
// read back through remote read with each matcher kind, in the token's
// database only.
func TestPromRemoteWriteRead(t *testing.T) { promRemote(t, newHarness(t)) }

func promRemote(t *testing.T, h *harness) {
	ws := h.createWorkspace()
	other := h.createWorkspace()
	now := time.Now().Add(-time.Minute).UnixMilli()
	series := func(name, job, inst string, vals ...float64) *remote.TimeSeries {
		ts := &remote.TimeSeries{Labels: []*remote.LabelPair{{Name: "__name__", Value: name}, {Name: "job", Value: job}, {Name: "instance", Value: inst}}}
		for i, v := range vals {
			ts.Samples = append(ts.Samples, &remote.Sample{Value: v, TimestampMs: now + int64(i)*1000})
		}
		return ts
	}
	wr := &remote.WriteRequest{Timeseries: []*remote.TimeSeries{
		series("up", "node", "a:9100", 1, 1),
		series("up", "api", "b:8080", 0),
		series("http_requests_total", "api", "b:8080", 10, 12.5),
	}}
	code, hdr, body := promPost(t, h, "/api/v1/prom/write?db="+ws.DB, ws.Token, wr)
	require.Equal(t, 204, code, string(body))
	assert.Equal(t, "1.8.10", hdr.Get("X-Influxdb-Version"))

	read := func(ms ...*remote.LabelMatcher) []*remote.TimeSeries {
		t.Helper()
		rr := &remote.ReadRequest{Queries: []*remote.Query{{StartTimestampMs: now - 1000, EndTimestampMs: now + 10000, Matchers: ms}}}
		code, hdr, body := promPost(t, h, "/api/v1/prom/read?db="+ws.DB, ws.Token, rr)
		require.Equal(t, 200, code, string(body))
		assert.Equal(t, "snappy", hdr.Get("Content-Encoding"))
		raw, err := snappy.Decode(nil, body)
		require.NoError(t, err)
		var resp remote.ReadResponse
		require.NoError(t, resp.Unmarshal(raw))
		require.Len(t, resp.Results, 1)
		return resp.Results[0].Timeseries
	}
	labels := func(ts *remote.TimeSeries) string {
		var parts []string
		for _, l := range ts.Labels {
			parts = append(parts, l.Name+"="+l.Value)
		}
		return strings.Join(parts, ",")
	}

	got := read(&remote.LabelMatcher{Type: remote.MatchType_EQUAL, Name: "__name__", Value: "up"}, &remote.LabelMatcher{Type: remote.MatchType_EQUAL, Name: "job", Value: "node"})
	require.Len(t, got, 1)
	assert.Equal(t, "__name__=up,instance=a:9100,job=node", labels(got[0]))
	require.Len(t, got[0].Samples, 2)
	assert.Equal(t, remote.Sample{Value: 1, TimestampMs: now}, *got[0].Samples[0])

	got = read(&remote.LabelMatcher{Type: remote.MatchType_REGEX_MATCH, Name: "__name__", Value: "http_.*"})
	require.Len(t, got, 1)
	assert.Equal(t, 12.5, got[0].Samples[1].Value)

	got = read(&remote.LabelMatcher{Type: remote.MatchType_NOT_EQUAL, Name: "__name__", Value: "up"}, &remote.LabelMatcher{Type: remote.MatchType_REGEX_NO_MATCH, Name: "job", Value: "no.*"})
	require.Len(t, got, 1)
	assert.Equal(t, "__name__=http_requests_total,instance=b:8080,job=api", labels(got[0]))

	got = read(&remote.LabelMatcher{Type: remote.MatchType_EQUAL, Name: "__name__", Value: "absent"})
	assert.Empty(t, got)

	// Another workspace's database, bad bodies and bad regexes are 4xx.
	code, _, _ = promPost(t, h, "/api/v1/prom/write?db="+other.DB, ws.Token, wr)
	assert.Equal(t, 403, code)
	req, _ := http.NewRequest(http.MethodPost, h.ts.URL+"/api/v1/prom/write", strings.NewReader("not snappy"))
	req.SetBasicAuth("p", ws.Token)
	resp, err := h.ts.Client().Do(req)
	require.NoError(t, err)
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, 400, resp.StatusCode, string(raw))
	// A body claiming to decode past the decompressed-body limit is
	// refused before any decoding.
	bomb := binary.AppendUvarint(nil, 1<<31)
	req, _ = http.NewRequest(http.MethodPost, h.ts.URL+"/api/v1/prom/write", bytes.NewReader(append(bomb, 0, 0, 0)))
	req.SetBasicAuth("p", ws.Token)
	req.Header.Set("Content-Encoding", "snappy")
	resp, err = h.ts.Client().Do(req)
	require.NoError(t, err)
	raw, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, 413, resp.StatusCode, string(raw))

	rr := &remote.ReadRequest{Queries: []*remote.Query{{EndTimestampMs: now, Matchers: []*remote.LabelMatcher{{Type: remote.MatchType_REGEX_MATCH, Name: "job", Value: "("}}}}}
	code, _, body = promPost(t, h, "/api/v1/prom/read", ws.Token, rr)
	assert.Equal(t, 400, code, string(body))
	assert.Contains(t, string(body), "invalid regular expression")
}
