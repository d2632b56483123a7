package remote

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/influxdata/influxql"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	kql "github.com/kodo-project/kodo/influxql"
	"github.com/kodo-project/kodo/lineproto"
	"github.com/kodo-project/kodo/storage/tsengine"
)

// fakeInflux answers like influxd with canned bodies; these tests cover
// the HTTP mapping without a real server (the conformance suite covers
// the behaviour against one).
func fakeInflux(t *testing.T, h http.HandlerFunc) *Engine {
	return fakeInfluxFields(t, `{"results":[{"statement_id":0}]}`, h)
}

// fakeInfluxFields is fakeInflux whose SHOW FIELD KEYS (asked before each
// write) answers fieldKeys.
func fakeInfluxFields(t *testing.T, fieldKeys string, h http.HandlerFunc) *Engine {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/query" && strings.HasPrefix(r.FormValue("q"), "SHOW FIELD KEYS") {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, fieldKeys)
			return
		}
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	e, err := New(srv.URL, Options{Username: "u", Password: "p", Timeout: 5 * time.Second})
	require.NoError(t, err)
	return e
}

func oneBatch(t *testing.T) *lineproto.Batch {
	var b lineproto.Batch
	require.NoError(t, b.AddPoint("cpu", map[string]string{"host": "a b"}, map[string]any{"v": 1.5, "n": int64(2)}, time.Unix(1, 5)))
	return &b
}

func TestWriteRequest(t *testing.T) {
	var got string
	e := fakeInflux(t, func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, http.MethodPost, r.Method)
		assert.Equal(t, "/write", r.URL.Path)
		assert.Equal(t, "db1", r.URL.Query().Get("db"))
		assert.Equal(t, "rp1", r.URL.Query().Get("rp"))
		assert.Equal(t, "n", r.URL.Query().Get("precision"))
		assert.Equal(t, "gzip", r.Header.Get("Content-Encoding"))
		u, p, ok := r.BasicAuth()
		assert.True(t, ok)
		assert.Equal(t, "u", u)
		assert.Equal(t, "p", p)
		zr, err := gzip.NewReader(r.Body)
		require.NoError(t, err)
		body, err := io.ReadAll(zr)
		require.NoError(t, err)
		got = string(body)
		w.WriteHeader(http.StatusNoContent)
	})
	require.NoError(t, e.WritePoints(context.Background(), "db1", "rp1", oneBatch(t)))
	assert.Equal(t, "cpu,host=a\\ b n=2i,v=1.5 1000000005\n", got)
}

func TestWriteErrors(t *testing.T) {
	cases := []struct {
		name   string
		status int
		body   string
		check  func(t *testing.T, err error)
	}{
		{"partial", 400, `{"error":"partial write: field type conflict: input field \"v\" on measurement \"cpu\" is type string, already exists as type float dropped=3"}`,
			func(t *testing.T, err error) {
				var pwe *tsengine.PartialWriteError
				require.ErrorAs(t, err, &pwe)
				assert.Equal(t, 3, pwe.Dropped)
				assert.Equal(t, `field type conflict: input field "v" on measurement "cpu" is type string, already exists as type float`, pwe.Reason)
			}},
		// influxd's cardinality refusals (inmem index) keep their text, so
		// the gateway names the limit whichever engine holds the database.
		{"max series", 400, `{"error":"partial write: max-series-per-database limit exceeded: (1000) dropped=2"}`,
			func(t *testing.T, err error) {
				var pwe *tsengine.PartialWriteError
				require.ErrorAs(t, err, &pwe)
				assert.Equal(t, 2, pwe.Dropped)
				assert.Equal(t, "max-series-per-database limit exceeded: (1000)", pwe.Reason)
			}},
		{"max values per tag", 400, `{"error":"partial write: max-values-per-tag limit exceeded (100000/100000): measurement=\"cpu\" tag=\"host\" value=\"h9\" dropped=1"}`,
			func(t *testing.T, err error) {
				var pwe *tsengine.PartialWriteError
				require.ErrorAs(t, err, &pwe)
				assert.Equal(t, 1, pwe.Dropped)
				assert.Equal(t, `max-values-per-tag limit exceeded (100000/100000): measurement="cpu" tag="host" value="h9"`, pwe.Reason)
			}},
		{"db not found", 404, `{"error":"database not found: \"db1\""}`,
			func(t *testing.T, err error) { assert.ErrorIs(t, err, tsengine.ErrDatabaseNotFound) }},
		{"rp not found", 500, `{"error":"retention policy not found: rp1"}`,
			func(t *testing.T, err error) { assert.ErrorIs(t, err, tsengine.ErrRetentionPolicyNotFound) }},
		{"server error", 500, `{"error":"timeout"}`,
			func(t *testing.T, err error) {
				assert.ErrorIs(t, err, tsengine.ErrUnavailable)
				assert.ErrorContains(t, err, "timeout")
			}},
		{"unavailable", 503, `busy`,
			func(t *testing.T, err error) { assert.ErrorIs(t, err, tsengine.ErrUnavailable) }},
		{"bad request", 400, `{"error":"unable to parse 'x': missing fields"}`,
			func(t *testing.T, err error) {
				assert.NotErrorIs(t, err, tsengine.ErrUnavailable)
				assert.ErrorContains(t, err, "missing fields")
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := fakeInflux(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.body)
			})
			err := e.WritePoints(context.Background(), "db1", "rp1", oneBatch(t))
			require.Error(t, err)
			tc.check(t, err)
		})
	}
}

func TestConnectionRefusedIsUnavailable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close()) // nothing listens there now
	e, err := New("http://"+addr, Options{})
	require.NoError(t, err)
	ctx := context.Background()
	assert.ErrorIs(t, e.Ping(ctx), tsengine.ErrUnavailable)
	assert.ErrorIs(t, e.WritePoints(ctx, "db", "", oneBatch(t)), tsengine.ErrUnavailable)
	_, err = e.Query(ctx, "db", &influxql.Query{Statements: influxql.Statements{&influxql.ShowDatabasesStatement{}}}, tsengine.QueryOptions{})
	assert.ErrorIs(t, err, tsengine.ErrUnavailable)
}

func TestQueryRequestAndDecoding(t *testing.T) {
	e := fakeInflux(t, func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, "/query", r.URL.Path)
		require.NoError(t, r.ParseForm())
		assert.Equal(t, "db1", r.PostForm.Get("db"))
		assert.Equal(t, "ms", r.PostForm.Get("epoch"))
		assert.Equal(t, "SELECT mean(v) FROM cpu GROUP BY time(1m)", r.PostForm.Get("q"))
		io.WriteString(w, `{"results":[{"statement_id":0,"series":[{"name":"cpu","tags":{"host":"a"},"columns":["time","mean"],"values":[[60000,2],[120000,2.5],[180000,null]]}],"messages":[{"level":"warning","text":"deprecated"}]}]}`)
	})
	q, err := influxql.ParseQuery("SELECT mean(v) FROM cpu GROUP BY time(1m)")
	require.NoError(t, err)
	res, err := e.Query(context.Background(), "db1", q, tsengine.QueryOptions{Epoch: "ms"})
	require.NoError(t, err)
	assert.Equal(t, []tsengine.Result{{
		StatementID: 0,
		Series: []tsengine.Row{{
			Name: "cpu", Tags: map[string]string{"host": "a"}, Columns: []string{"time", "mean"},
			Values: [][]any{{json.Number("60000"), json.Number("2")}, {json.Number("120000"), json.Number("2.5")}, {json.Number("180000"), nil}},
		}},
		Messages: []tsengine.Message{{Level: "warning", Text: "deprecated"}},
	}}, res)
}

func TestQueryDeadline(t *testing.T) {
	release := make(chan struct{})
	e := fakeInflux(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	q, err := influxql.ParseQuery("SELECT * FROM m")
	require.NoError(t, err)
	_, err = e.Query(ctx, "db", q, tsengine.QueryOptions{})
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.NotErrorIs(t, err, tsengine.ErrUnavailable, "the caller's deadline is not an outage")
}

func TestNewRejectsBadURLs(t *testing.T) {
	for _, u := range []string{"", "127.0.0.1:8086", "ftp://x", "http://", "http://[::1"} {
		_, err := New(u, Options{})
		assert.Error(t, err, u)
	}
	e, err := New("http://127.0.0.1:8086/", Options{})
	require.NoError(t, err)
	assert.Equal(t, "", e.base.Path)
}

func TestClosedEngine(t *testing.T) {
	e := fakeInflux(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	require.NoError(t, e.Ping(context.Background()))
	require.NoError(t, e.Close())
	assert.ErrorIs(t, e.Ping(context.Background()), tsengine.ErrUnavailable)
}

func TestOwnTimeoutIsUnavailable(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	e, err := New(srv.URL, Options{Timeout: 50 * time.Millisecond})
	require.NoError(t, err)
	err = e.Ping(context.Background())
	assert.ErrorIs(t, err, tsengine.ErrUnavailable)
	assert.ErrorContains(t, err, "no answer within 50ms")
}

// TestQueryLimits: InfluxDB's select-limit errors and an answer past
// MaxAnswerBytes come back as *tsengine.LimitError, not as a statement
// error to pass on or an unavailable engine.
func TestQueryLimits(t *testing.T) {
	big := `{"results":[{"statement_id":0,"series":[{"name":"m","columns":["time","v"],"values":[` +
		strings.Repeat(`[1,1],`, 1000) + `[1,1]]}]}]}`
	e := fakeInflux(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.FormValue("q") == "SELECT v FROM m" {
			_, _ = io.WriteString(w, big)
			return
		}
		_, _ = io.WriteString(w, `{"results":[{"statement_id":0,"error":"max-select-series limit exceeded: (3/2)"}]}`)
	})
	q := func(text string) *influxql.Query {
		pq, err := kql.Parse(text)
		require.NoError(t, err)
		return pq
	}
	var le *tsengine.LimitError
	_, err := e.Query(context.Background(), "d", q("SELECT v FROM m"), tsengine.QueryOptions{MaxAnswerBytes: 1000})
	require.True(t, errors.As(err, &le), "%v", err)
	assert.Equal(t, tsengine.LimitAnswerBytes, le.Limit)
	res, err := e.Query(context.Background(), "d", q("SELECT v FROM m"), tsengine.QueryOptions{MaxAnswerBytes: int64(len(big))})
	require.NoError(t, err, "an answer of exactly the bound is read")
	assert.Len(t, res[0].Series[0].Values, 1001)

	_, err = e.Query(context.Background(), "d", q("SELECT count(v) FROM m"), tsengine.QueryOptions{})
	require.True(t, errors.As(err, &le), "%v", err)
	assert.Equal(t, tsengine.LimitSelectSeries, le.Limit)
}

// TestWriteChecksFieldTypesAcrossShards: a point whose field type differs
// from the one influxd reports (from any shard) is not sent; the others are.
func TestWriteChecksFieldTypesAcrossShards(t *testing.T) {
	var sent string
	e := fakeInfluxFields(t, `{"results":[{"statement_id":0,"series":[{"name":"cpu","columns":["fieldKey","fieldType"],"values":[["v","float"],["n","integer"]]}]}]}`,
		func(w http.ResponseWriter, r *http.Request) {
			zr, err := gzip.NewReader(r.Body)
			require.NoError(t, err)
			body, _ := io.ReadAll(zr)
			sent = string(body)
			w.WriteHeader(http.StatusNoContent)
		})
	var b lineproto.Batch
	require.NoError(t, b.AddPoint("cpu", nil, map[string]any{"v": 1.5}, time.Unix(1, 0)))
	require.NoError(t, b.AddPoint("cpu", nil, map[string]any{"v": int64(2)}, time.Unix(2, 0)))
	require.NoError(t, b.AddPoint("cpu", nil, map[string]any{"w": "new"}, time.Unix(3, 0)))
	require.NoError(t, b.AddPoint("cpu", nil, map[string]any{"w": true}, time.Unix(4, 0)))
	err := e.WritePoints(context.Background(), "db1", "", &b)
	var pwe *tsengine.PartialWriteError
	require.ErrorAs(t, err, &pwe)
	assert.Equal(t, 2, pwe.Dropped)
	assert.Equal(t, []int{1, 3}, pwe.Refused)
	assert.Contains(t, pwe.Reason, `field type conflict: input field "v" on measurement "cpu" is type integer, already exists as type float`)
	assert.Contains(t, pwe.Reason, `input field "w" on measurement "cpu" is type boolean, already exists as type string`)
	assert.Equal(t, "cpu v=1.5 1000000000\ncpu w=\"new\" 3000000000\n", sent)
}
