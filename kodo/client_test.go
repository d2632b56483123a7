package kodo_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kodo-project/kodo/influxql"
	"github.com/kodo-project/kodo/kodo"
	"github.com/kodo-project/kodo/kodo/kodoapi"
	"github.com/kodo-project/kodo/kodo/kodoclient"
	"github.com/kodo-project/kodo/lineproto"
	"github.com/kodo-project/kodo/signer"
	"github.com/kodo-project/kodo/tsdb/tsdbapi"
	"github.com/kodo-project/kodo/tsdb/tsdbclient"
)

// clServer is a gateway on the embedded engine behind httptest.
func clServer(t *testing.T, mod ...func(*kodo.Options)) string {
	t.Helper()
	return newHarness(t, mod...).ts.URL
}

func clNew(t *testing.T, url string, o kodoclient.Options) *kodoclient.Client {
	t.Helper()
	c, err := kodoclient.New(url, o)
	require.NoError(t, err)
	return c
}

func clCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// clCount runs SELECT count(field) and returns the single value (0 when no series).
func clCount(t *testing.T, c *kodoclient.Client, db, field, from string) int64 {
	t.Helper()
	res, err := c.Query(clCtx(t), db, fmt.Sprintf("SELECT count(%q) FROM %s", field, from))
	require.NoError(t, err)
	require.Len(t, res.Results, 1)
	require.Empty(t, res.Results[0].Error)
	if len(res.Results[0].Series) == 0 {
		return 0
	}
	s := res.Results[0].Series[0]
	n, err := s.Values[0][s.Column("count")].(json.Number).Int64()
	require.NoError(t, err)
	return n
}

func TestClientRoundTrip(t *testing.T) {
	url := clServer(t, func(o *kodo.Options) { o.Limits.MinCQEvery = time.Second })
	admin := clNew(t, url, kodoclient.Options{})
	ctx := clCtx(t)

	ping, err := admin.Ping(ctx)
	require.NoError(t, err)
	assert.Equal(t, kodoapi.Version, ping.Version)
	require.Len(t, ping.Engines, 1)

	ws, err := admin.CreateWorkspace(ctx, kodoapi.CreateWorkspaceRequest{Name: "client-test"})
	require.NoError(t, err)
	assert.Regexp(t, `^wksp_[0-9a-f]{32}$`, ws.WorkspaceUUID)
	assert.Regexp(t, `^tkn_[0-9a-f]{32}$`, ws.Token)
	assert.Regexp(t, `^ifdb_[0-9a-f]{32}$`, ws.DBUUID)
	assert.Equal(t, "rp3", ws.RP)
	assert.Equal(t, "autogen", ws.CQRP)
	assert.Contains(t, ws.RPList, "rp3")

	writer := clNew(t, url, kodoclient.Options{Token: ws.Token, Secret: ws.Secret, BatchSize: 7})
	base := time.Now().Add(-30 * time.Minute).Truncate(time.Minute)

	t.Run("check token", func(t *testing.T) {
		ok, err := admin.CheckToken(ctx, ws.Token)
		require.NoError(t, err)
		assert.True(t, ok)
		ok, err = admin.CheckToken(ctx, "tkn_00000000000000000000000000000000")
		require.NoError(t, err)
		assert.False(t, ok)
		ok, err = admin.CheckToken(ctx, "tkn_a/b?c")
		require.NoError(t, err, "path characters stay inside the token segment")
		assert.False(t, ok)
	})

	t.Run("write and query", func(t *testing.T) {
		var pts []kodoclient.Point
		for i := 0; i < 30; i++ { // 30 points in requests of 7
			pts = append(pts, kodoclient.Point{Measurement: "cpu", Tags: map[string]string{"host": fmt.Sprint("h", i%3)},
				Fields: map[string]any{"usage": float64(i), "n": i}, Time: base.Add(time.Duration(i) * time.Minute)})
		}
		require.NoError(t, writer.Write(ctx, pts...))
		res, err := writer.Query(ctx, ws.DBUUID, fmt.Sprintf(
			"SELECT count(usage), max(n) FROM cpu WHERE time >= %d AND time < %d GROUP BY host", base.UnixNano(), base.Add(time.Hour).UnixNano()))
		require.NoError(t, err)
		require.Len(t, res.Results, 1)
		require.Len(t, res.Results[0].Series, 3)
		s := res.Results[0].Series[2]
		assert.Equal(t, map[string]string{"host": "h2"}, s.Tags)
		assert.Equal(t, []string{"time", "count", "max"}, s.Columns)
		assert.Equal(t, json.Number("10"), s.Values[0][1])
		assert.Equal(t, json.Number("29"), s.Values[0][2])

		// Times come back in ms by default, or in the epoch asked for.
		res, err = writer.Query(ctx, ws.DBUUID, "SELECT usage FROM cpu WHERE host = 'h0' LIMIT 1", kodoclient.WithEpoch("s"))
		require.NoError(t, err)
		assert.Equal(t, json.Number(fmt.Sprint(base.Unix())), res.Results[0].Series[0].Values[0][0])
	})

	t.Run("write line protocol with precision", func(t *testing.T) {
		lp := fmt.Sprintf("mem,host=a used=1i %d\nmem,host=a used=2i %d\n", base.Unix(), base.Add(time.Second).Unix())
		require.NoError(t, writer.WriteLineProtocol(ctx, []byte(lp), lineproto.Second))
		assert.EqualValues(t, 2, clCount(t, writer, ws.DBUUID, "used", "mem"))
	})

	t.Run("query errors are typed", func(t *testing.T) {
		_, err := writer.Query(ctx, ws.DBUUID, "DROP MEASUREMENT cpu")
		var ce *kodoclient.Error
		require.ErrorAs(t, err, &ce)
		assert.Equal(t, 400, ce.Status)
		assert.Equal(t, "kodo.invalidSQL", ce.Code)
		assert.True(t, ce.HasCode(kodoapi.ErrInvalidSQL))
		assert.NotEmpty(t, ce.TraceID)
		assert.Equal(t, "/v1/read/metrics", ce.Path)

		_, err = writer.Query(ctx, "ifdb_00000000000000000000000000000000", "SELECT * FROM cpu")
		assert.True(t, kodoclient.IsErrorCode(err, kodoapi.ErrDBNotFound), "%v", err)
	})

	t.Run("manage", func(t *testing.T) {
		_, err := admin.Manage(ctx, ws.DBUUID, "DROP MEASUREMENT mem")
		require.NoError(t, err)
		assert.EqualValues(t, 0, clCount(t, writer, ws.DBUUID, "used", "mem"))
	})

	t.Run("query with rewrite", func(t *testing.T) {
		res, err := admin.Query(ctx, ws.DBUUID, "SELECT max(usage) FROM cpu GROUP BY time(1m)", kodoclient.WithRewrite(influxql.Item{
			Conditions: "host = 'h0'",
			TimeRange:  []int64{base.UnixMilli(), base.Add(30 * time.Minute).UnixMilli()},
			MaxPoint:   3, FillOpt: "none",
		}))
		require.NoError(t, err)
		require.Len(t, res.Rewritten, 1)
		assert.Contains(t, res.Rewritten[0].SQL, "time(10m)")
		assert.Equal(t, json.Number("600000000000"), res.Rewritten[0].RewriteResults[influxql.DownsampledTo])
		require.Len(t, res.Results[0].Series, 1)
		vals := res.Results[0].Series[0].Values
		assert.Contains(t, []int{3, 4}, len(vals), "30 minutes in 10m buckets (the first may be partial)")
		assert.Equal(t, json.Number("27"), vals[len(vals)-1][1], "max of host h0 in the last bucket")
	})

	t.Run("rewrite", func(t *testing.T) {
		out, err := admin.Rewrite(ctx, ws.DBUUID, []influxql.Item{
			{SQL: "SELECT max(v) FROM cpu WHERE time > now() - 6h GROUP BY time(1m)", MaxPoint: 100},
			{SQL: "SELECT v FROM other..cpu"},
		})
		require.NoError(t, err)
		require.Len(t, out, 2)
		require.Len(t, out[0], 1)
		assert.Contains(t, out[0][0].SQL, "GROUP BY time(5m)")
		assert.Empty(t, out[0][0].Error)
		require.Len(t, out[1], 1)
		assert.Contains(t, out[1][0].Error, "names database other")
	})

	t.Run("get rp and modify dbrp", func(t *testing.T) {
		rps, err := admin.GetRP(ctx, ws.DBUUID, "cpu", "never")
		require.NoError(t, err)
		assert.Equal(t, kodoapi.MeasurementRP{DB: ws.DB, RP: "", Duration: "2160h"}, rps["cpu"])
		assert.Equal(t, "2160h", rps["never"].Duration)

		rp := ws.CQRP
		dbrp, err := admin.ModifyDBRP(ctx, kodoapi.ModifyDBRPRequest{DBUUID: ws.DBUUID, DefaultRP: "rp1", CQRP: &rp})
		require.NoError(t, err)
		assert.Equal(t, "rp1", dbrp.DefaultRP)
		assert.Equal(t, ws.DB, dbrp.DB)

		_, err = admin.ModifyDBRP(ctx, kodoapi.ModifyDBRPRequest{DBUUID: ws.DBUUID, DefaultRP: "rp99"})
		assert.True(t, kodoclient.IsErrorCode(err, kodoapi.ErrRPNotFound), "%v", err)
		_, err = admin.GetRP(ctx, "ifdb_00000000000000000000000000000000", "cpu")
		assert.True(t, kodoclient.IsErrorCode(err, kodoapi.ErrDBNotFound), "%v", err)
	})

	t.Run("add db", func(t *testing.T) {
		db, err := admin.AddDB(ctx, kodoclient.AddDBRequest{WorkspaceUUID: ws.WorkspaceUUID, DefaultRP: "rp2"})
		require.NoError(t, err)
		assert.Regexp(t, `^ifdb_`, db.DBUUID)
		assert.Equal(t, "rp2", db.RP)
		assert.Equal(t, ws.WorkspaceUUID, db.WorkspaceUUID)
		assert.Empty(t, db.Token)

		db, err = admin.AddDB(ctx, kodoclient.AddDBRequest{Name: "fresh", RPList: []string{"rp0", "rp3"}, DefaultRP: "rp0"})
		require.NoError(t, err)
		assert.Regexp(t, `^tkn_`, db.Token, "a database without a workspace gets a new one")
		ok, err := admin.CheckToken(ctx, db.Token)
		require.NoError(t, err)
		assert.True(t, ok)
	})

	t.Run("key pair and DWAY writes", func(t *testing.T) {
		kp, err := admin.CreateKeyPair(ctx, ws.WorkspaceUUID)
		require.NoError(t, err)
		assert.Equal(t, ws.WorkspaceUUID, kp.WorkspaceUUID)
		dway := clNew(t, url, kodoclient.Options{AccessKey: kp.AccessKey, SecretKey: kp.SecretKey})
		require.NoError(t, dway.Write(ctx, kodoclient.Point{Measurement: "dway", Fields: map[string]any{"v": 1}, Time: base}))
		assert.EqualValues(t, 1, clCount(t, admin, ws.DBUUID, "v", "rp1.dway"), "written to the default RP, now rp1")

		_, err = admin.CreateKeyPair(ctx, "wksp_00000000000000000000000000000000")
		assert.True(t, kodoclient.IsErrorCode(err, kodoapi.ErrWorkspaceNotFound), "%v", err)
	})

	t.Run("series count", func(t *testing.T) {
		n, err := admin.SeriesCount(ctx, ws.DBUUID, "ifdb_00000000000000000000000000000000")
		require.NoError(t, err)
		require.Len(t, n, 2)
		assert.GreaterOrEqual(t, n[0], int64(3), "cpu has 3 series")
		assert.Zero(t, n[1])
	})

	t.Run("cache clean and datakit online", func(t *testing.T) {
		require.NoError(t, admin.CleanTokenCache(ctx, ws.Token))
		require.NoError(t, writer.DatakitOnline(ctx, "dkit_1", "dkit_2"))
		err := admin.DatakitOnline(ctx, "dkit_1")
		assert.ErrorIs(t, err, kodoclient.ErrNoCredentials)
		bad := clNew(t, url, kodoclient.Options{Token: "tkn_00000000000000000000000000000000"})
		err = bad.DatakitOnline(ctx, "dkit_1")
		assert.True(t, kodoclient.IsErrorCode(err, kodoapi.ErrTokenNotFound), "%v", err)
	})

	t.Run("drop measurement", func(t *testing.T) {
		require.NoError(t, admin.DropMeasurement(ctx, ws.DBUUID, "dway"))
		require.Eventually(t, func() bool {
			ms, err := admin.DroppingMeasurements(ctx, ws.DBUUID)
			return err == nil && len(ms) == 0
		}, 20*time.Second, 50*time.Millisecond)
		assert.EqualValues(t, 0, clCount(t, admin, ws.DBUUID, "v", "rp1.dway"))
		_, err := admin.DroppingMeasurements(ctx, "ifdb_00000000000000000000000000000000")
		assert.True(t, kodoclient.IsErrorCode(err, kodoapi.ErrDBNotFound), "%v", err)
	})

	t.Run("continuous queries", func(t *testing.T) {
		cqs, err := admin.CreateCQs(ctx, ws.WorkspaceUUID, ws.DBUUID,
			kodoapi.CQSpec{Measurement: "cpu", AggrFunc: "mean", AggrPeriod: "1m", AggrEvery: "1m"},
			kodoapi.CQSpec{Measurement: "disk", AggrFunc: "max", AggrPeriod: "5m", AggrEvery: "1m"})
		require.NoError(t, err)
		require.Len(t, cqs, 2)
		assert.Regexp(t, `^cq_`, cqs[0].CQUUID)
		assert.Equal(t, "autogen", cqs[0].CQRP)
		assert.Equal(t, ws.DBUUID, cqs[0].DBUUID)

		cq, err := admin.ModifyCQ(ctx, kodoapi.CQModifyRequest{WorkspaceUUID: ws.WorkspaceUUID, CQUUID: cqs[0].CQUUID, AggrFunc: "MAX", AggrPeriod: "2m"})
		require.NoError(t, err)
		assert.Equal(t, "max", cq.AggrFunc)
		assert.Equal(t, "2m", cq.AggrPeriod)
		assert.Equal(t, "1m", cq.AggrEvery, "unchanged")

		rep, err := admin.SyncCQs(ctx, ws.WorkspaceUUID)
		require.NoError(t, err)
		assert.ElementsMatch(t, []string{cqs[0].CQUUID, cqs[1].CQUUID}, rep.Unchanged)
		assert.Empty(t, rep.Created)

		require.NoError(t, admin.DeleteCQ(ctx, ws.WorkspaceUUID, cqs[1].CQUUID))
		err = admin.DeleteCQ(ctx, ws.WorkspaceUUID, cqs[1].CQUUID)
		assert.True(t, kodoclient.IsErrorCode(err, kodoapi.ErrCQNotFound), "%v", err)

		_, err = admin.CreateCQs(ctx, ws.WorkspaceUUID, ws.DBUUID, kodoapi.CQSpec{Measurement: "cpu", AggrFunc: "nope", AggrPeriod: "1m", AggrEvery: "1m"})
		var ce *kodoclient.Error
		require.ErrorAs(t, err, &ce)
		assert.Equal(t, 400, ce.Status)
		assert.Contains(t, ce.Message, "aggr_func")
	})

	t.Run("documents", func(t *testing.T) {
		objs := `[{"__name":"web01","__tags":{"__class":"host","os":"linux"},"__content":"nginx serving traffic"}]`
		require.NoError(t, writer.WriteDocuments(ctx, kodoapi.KindObject, "", []byte(objs), lineproto.Nanosecond))
		logs := fmt.Sprintf("app,level=error message=\"disk full on /var\" %d\napp,level=info message=\"all good\" %d\n", base.Unix(), base.Unix()+1)
		require.NoError(t, writer.WriteDocuments(ctx, kodoapi.KindLogging, "nginx", []byte(logs), lineproto.Second))

		res, err := admin.SearchDocuments(ctx, kodoapi.SearchRequest{DBUUID: ws.DBUUID, Kind: "logging", Query: "disk"})
		require.NoError(t, err)
		require.EqualValues(t, 1, res.Total)
		assert.Equal(t, "nginx", res.Docs[0].Source)
		assert.Equal(t, base.Unix()*1e9, res.Docs[0].Time)
		res, err = admin.SearchDocuments(ctx, kodoapi.SearchRequest{WorkspaceUUID: ws.WorkspaceUUID, Kind: "object", Filters: map[string]string{"__class": "host"}})
		require.NoError(t, err)
		require.EqualValues(t, 1, res.Total)
		assert.Equal(t, "web01", res.Docs[0].Name)

		err = writer.WriteDocuments(ctx, kodoapi.KindLogging, "", []byte("not line protocol\n"), lineproto.Nanosecond)
		var ce *kodoclient.Error
		require.ErrorAs(t, err, &ce)
		assert.Equal(t, 400, ce.Status)
		assert.Error(t, writer.WriteDocuments(ctx, "nope", "", nil, lineproto.Nanosecond))

		err = admin.SetLogPipeline(ctx, ws.WorkspaceUUID, "nginx", "")
		assert.True(t, kodoclient.IsErrorCode(err, kodoapi.ErrBadRequest), "a pipeline needs a url: %v", err)
		require.NoError(t, admin.DeleteLogPipeline(ctx, ws.WorkspaceUUID, "nginx"))
		err = admin.SetLogPipeline(ctx, ws.WorkspaceUUID, "nginx", "ftp://x")
		assert.True(t, kodoclient.IsErrorCode(err, kodoapi.ErrBadRequest), "%v", err)
	})

	t.Run("tsdb key pair", func(t *testing.T) {
		kp, err := admin.CreateTSDBKeyPair(ctx)
		require.NoError(t, err)
		tc, err := tsdbclient.NewClient(url, kp.AccessKey, kp.SecretKey, nil)
		require.NoError(t, err)
		require.NoError(t, tc.CreateRepo(ctx, "from_client", tsdbapi.CreateRepoInput{Region: "nb"}))
		repos, err := tc.ListRepos(ctx)
		require.NoError(t, err)
		require.Len(t, repos, 1)
		assert.Equal(t, "from_client", repos[0].Name)
	})

	t.Run("writer against the server", func(t *testing.T) {
		w, err := writer.NewWriter(kodoclient.WriterOptions{BatchSize: 50, FlushInterval: 20 * time.Millisecond})
		require.NoError(t, err)
		var wg sync.WaitGroup
		for g := 0; g < 4; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 100; i++ {
					assert.NoError(t, w.Add(ctx, kodoclient.Point{Measurement: "wr", Tags: map[string]string{"g": fmt.Sprint(g)},
						Fields: map[string]any{"i": i}, Time: base.Add(time.Duration(i) * time.Second)}))
				}
			}()
		}
		wg.Wait()
		require.NoError(t, w.Flush(ctx))
		assert.EqualValues(t, 400, clCount(t, admin, ws.DBUUID, "i", "wr"))
		require.NoError(t, w.Close(ctx))
		assert.ErrorIs(t, w.Add(ctx, kodoclient.Point{Measurement: "wr", Fields: map[string]any{"i": 1}}), kodoclient.ErrWriterClosed)
		assert.NoError(t, w.Close(ctx), "second Close is a no-op")
	})

	t.Run("write errors", func(t *testing.T) {
		err := writer.Write(ctx, kodoclient.Point{Measurement: "ok", Fields: map[string]any{"v": 1}}, kodoclient.Point{Measurement: "bad"})
		var ip *kodoclient.InvalidPointError
		require.ErrorAs(t, err, &ip)
		assert.Equal(t, 1, ip.Index)
		var pe *lineproto.PointError
		assert.ErrorAs(t, err, &pe)
		assert.EqualValues(t, 0, clCount(t, admin, ws.DBUUID, "v", "ok"), "nothing of the call was sent")

		bad := clNew(t, url, kodoclient.Options{Token: "tkn_00000000000000000000000000000000"})
		err = bad.Write(ctx, kodoclient.Point{Measurement: "m", Fields: map[string]any{"v": 1}})
		var we *kodoclient.WriteError
		require.ErrorAs(t, err, &we)
		assert.Equal(t, 1, we.Failed)
		assert.True(t, kodoclient.IsErrorCode(err, kodoapi.ErrTokenNotFound), "%v", err)

		rpc := clNew(t, url, kodoclient.Options{Token: ws.Token, Secret: ws.Secret, RP: "rp_nope"})
		err = rpc.Write(ctx, kodoclient.Point{Measurement: "m", Fields: map[string]any{"v": 1}})
		assert.True(t, kodoclient.IsErrorCode(err, kodoapi.ErrRPNotFound), "%v", err)

		err = admin.Write(ctx, kodoclient.Point{Measurement: "m", Fields: map[string]any{"v": 1}})
		assert.ErrorIs(t, err, kodoclient.ErrNoCredentials)
	})
}

func TestClientAdminKey(t *testing.T) {
	url := clServer(t, func(o *kodo.Options) { o.AdminKey = "s3cret" })
	ctx := clCtx(t)
	_, err := clNew(t, url, kodoclient.Options{}).CreateWorkspace(ctx, kodoapi.CreateWorkspaceRequest{})
	var ce *kodoclient.Error
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, 401, ce.Status)
	assert.Equal(t, "kodo.unauthorized", ce.Code)
	_, err = clNew(t, url, kodoclient.Options{AdminKey: "s3cret"}).CreateWorkspace(ctx, kodoapi.CreateWorkspaceRequest{})
	require.NoError(t, err)
}

// clFake records the requests of a scripted gateway.
type clFake struct {
	t       *testing.T
	mu      sync.Mutex
	reqs    []clReq
	answers []func(w http.ResponseWriter) // one per request; the last repeats
	srv     *httptest.Server
}

type clReq struct {
	at     time.Time
	path   string
	lines  string
	header http.Header
}

func newClFake(t *testing.T, answers ...func(w http.ResponseWriter)) *clFake {
	f := &clFake{t: t, answers: answers}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *clFake) serve(w http.ResponseWriter, r *http.Request) {
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	// Every attempt must carry a valid DATAFLUX signature of its own.
	if strings.HasPrefix(r.URL.Path, "/v1/write") {
		v := signer.DatafluxVerifier{}
		if _, err := v.Verify(signer.FromHTTP(r, raw), func(string) (string, error) { return "", nil }); err != nil {
			http.Error(w, "bad signature: "+err.Error(), 401)
			return
		}
	}
	body := raw
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err == nil {
			body, err = io.ReadAll(zr)
		}
		if err != nil {
			http.Error(w, "bad gzip", 400)
			return
		}
	}
	f.mu.Lock()
	f.reqs = append(f.reqs, clReq{at: time.Now(), path: r.URL.Path, lines: string(body), header: r.Header.Clone()})
	i := min(len(f.reqs), len(f.answers)) - 1
	f.mu.Unlock()
	f.answers[i](w)
}

func (f *clFake) requests() []clReq {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]clReq(nil), f.reqs...)
}

func clAnswer(status int, errorCode, message string, hdr ...string) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		for i := 0; i+1 < len(hdr); i += 2 {
			w.Header().Set(hdr[i], hdr[i+1])
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]any{"code": status, "content": nil, "errorCode": errorCode, "message": message})
	}
}

var clOK = clAnswer(200, "", "")

func clPoints(n int) []kodoclient.Point {
	t0 := time.Unix(1700000000, 0)
	out := make([]kodoclient.Point, n)
	for i := range out {
		out[i] = kodoclient.Point{Measurement: "m", Fields: map[string]any{"v": i}, Time: t0.Add(time.Duration(i) * time.Second)}
	}
	return out
}

func TestClientRetries(t *testing.T) {
	fast := kodoclient.Options{Token: "tkn_x", RetryBackoff: time.Millisecond, MaxBackoff: 2 * time.Second}

	t.Run("503 with Retry-After then 200", func(t *testing.T) {
		f := newClFake(t, clAnswer(503, "kodo.unavailable", "busy", "Retry-After", "1"), clOK)
		c := clNew(t, f.srv.URL, fast)
		require.NoError(t, c.Write(clCtx(t), clPoints(3)...))
		reqs := f.requests()
		require.Len(t, reqs, 2)
		assert.GreaterOrEqual(t, reqs[1].at.Sub(reqs[0].at), 900*time.Millisecond, "Retry-After honoured")
		assert.Equal(t, reqs[0].lines, reqs[1].lines, "the same points are sent again")
		assert.Equal(t, "m v=0i 1700000000000000000\nm v=1i 1700000001000000000\nm v=2i 1700000002000000000\n", reqs[1].lines)
		assert.Equal(t, "gzip", reqs[1].header.Get("Content-Encoding"))
		assert.Equal(t, "ns", reqs[1].header.Get("X-Precision"))
		assert.Equal(t, "tkn_x", reqs[1].header.Get("X-Token"))
	})

	t.Run("Retry-After as an HTTP date", func(t *testing.T) {
		when := time.Now().Add(2 * time.Second).UTC().Format(http.TimeFormat)
		f := newClFake(t, clAnswer(503, "kodo.unavailable", "busy", "Retry-After", when), clOK)
		c := clNew(t, f.srv.URL, fast)
		require.NoError(t, c.Write(clCtx(t), clPoints(1)...))
		reqs := f.requests()
		require.Len(t, reqs, 2)
		assert.GreaterOrEqual(t, reqs[1].at.Sub(reqs[0].at), 500*time.Millisecond)
	})

	t.Run("429 then 200", func(t *testing.T) {
		f := newClFake(t, clAnswer(429, "kodo.tooManyRequests", "slow down"), clAnswer(429, "kodo.tooManyRequests", "slow down"), clOK)
		c := clNew(t, f.srv.URL, fast)
		require.NoError(t, c.Write(clCtx(t), clPoints(2)...))
		assert.Len(t, f.requests(), 3)
	})

	t.Run("permanent 400 is not retried", func(t *testing.T) {
		f := newClFake(t, clAnswer(400, "kodo.invalidLineProtocol", "line 1: bad"))
		c := clNew(t, f.srv.URL, fast)
		err := c.Write(clCtx(t), clPoints(3)...)
		require.Len(t, f.requests(), 1)
		var we *kodoclient.WriteError
		require.ErrorAs(t, err, &we)
		assert.Equal(t, 3, we.Total)
		assert.Equal(t, 0, we.Stored)
		assert.Equal(t, 3, we.Failed)
		assert.Equal(t, f.requests()[0].lines, string(we.Lines), "the failed points come back")
		var ce *kodoclient.Error
		require.ErrorAs(t, err, &ce)
		assert.Equal(t, 400, ce.Status)
		assert.Equal(t, "kodo.invalidLineProtocol", ce.Code)
		assert.Equal(t, "line 1: bad", ce.Message)
		assert.False(t, ce.Temporary())
	})

	t.Run("retries run out", func(t *testing.T) {
		f := newClFake(t, clAnswer(500, "kodo.internal", "boom"))
		o := fast
		o.MaxRetries = 2
		c := clNew(t, f.srv.URL, o)
		err := c.Write(clCtx(t), clPoints(1)...)
		assert.Len(t, f.requests(), 3, "first attempt and two retries")
		assert.True(t, kodoclient.IsErrorCode(err, kodoapi.ErrInternal), "%v", err)
	})

	t.Run("no retries when disabled", func(t *testing.T) {
		f := newClFake(t, clAnswer(503, "kodo.unavailable", "busy"))
		o := fast
		o.MaxRetries = -1
		err := clNew(t, f.srv.URL, o).Write(clCtx(t), clPoints(1)...)
		assert.Len(t, f.requests(), 1)
		assert.Error(t, err)
	})

	t.Run("a later request fails: earlier ones are counted as stored", func(t *testing.T) {
		f := newClFake(t, clOK, clAnswer(413, "kodo.bodyTooLarge", "too big"))
		o := fast
		o.BatchSize = 2
		err := clNew(t, f.srv.URL, o).Write(clCtx(t), clPoints(5)...)
		var we *kodoclient.WriteError
		require.ErrorAs(t, err, &we)
		assert.Equal(t, kodoclient.WriteError{Total: 5, Stored: 2, Failed: 3}, kodoclient.WriteError{Total: we.Total, Stored: we.Stored, Failed: we.Failed})
		assert.Equal(t, 3, strings.Count(string(we.Lines), "\n"), "the points of the failed request and the ones never sent")
		assert.Len(t, f.requests(), 2, "stops at the failed request")
	})

	t.Run("batching by bytes", func(t *testing.T) {
		f := newClFake(t, clOK)
		o := fast
		o.BatchBytes = 70 // each line is ~30 bytes: two per request
		require.NoError(t, clNew(t, f.srv.URL, o).Write(clCtx(t), clPoints(5)...))
		reqs := f.requests()
		require.Len(t, reqs, 3)
		all := ""
		for _, r := range reqs {
			assert.LessOrEqual(t, len(r.lines), 70)
			all += r.lines
		}
		assert.Equal(t, 5, strings.Count(all, "\n"))
	})

	t.Run("context ends during backoff", func(t *testing.T) {
		f := newClFake(t, clAnswer(503, "kodo.unavailable", "busy", "Retry-After", "30"))
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		o := fast
		o.MaxBackoff = time.Minute
		start := time.Now()
		err := clNew(t, f.srv.URL, o).Write(ctx, clPoints(1)...)
		assert.Less(t, time.Since(start), 5*time.Second)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		var we *kodoclient.WriteError
		assert.ErrorAs(t, err, &we)
	})

	t.Run("creating calls are not retried on 500", func(t *testing.T) {
		f := newClFake(t, clAnswer(500, "kodo.internal", "boom"), clOK)
		_, err := clNew(t, f.srv.URL, fast).CreateWorkspace(clCtx(t), kodoapi.CreateWorkspaceRequest{})
		assert.Error(t, err)
		assert.Len(t, f.requests(), 1)

		f = newClFake(t, clAnswer(503, "kodo.unavailable", "busy"), clOK)
		_, err = clNew(t, f.srv.URL, fast).CreateWorkspace(clCtx(t), kodoapi.CreateWorkspaceRequest{})
		assert.NoError(t, err)
		assert.Len(t, f.requests(), 2, "503: the server did nothing")
	})

	t.Run("an answer that is not an envelope", func(t *testing.T) {
		f := newClFake(t, func(w http.ResponseWriter) {
			w.WriteHeader(502)
			_, _ = io.WriteString(w, "<html>bad gateway</html>")
		})
		o := fast
		o.MaxRetries = 1
		_, err := clNew(t, f.srv.URL, o).Ping(clCtx(t))
		var ce *kodoclient.Error
		require.ErrorAs(t, err, &ce)
		assert.Equal(t, 502, ce.Status)
		assert.Empty(t, ce.Code)
		assert.Contains(t, ce.Message, "bad gateway")
		assert.Len(t, f.requests(), 2, "502 is retried")
	})

	t.Run("connection refused is retried then returned", func(t *testing.T) {
		dead := httptest.NewServer(http.NotFoundHandler())
		url := dead.URL
		dead.Close()
		o := fast
		o.MaxRetries = 2
		_, err := clNew(t, url, o).Ping(clCtx(t))
		require.Error(t, err)
		assert.Contains(t, err.Error(), "refused")
	})
}

func TestNewClientValidates(t *testing.T) {
	for _, tc := range []struct {
		url  string
		opts kodoclient.Options
		want string
	}{
		{"127.0.0.1:9527", kodoclient.Options{}, "want http://"},
		{"ftp://x", kodoclient.Options{}, "want http://"},
		{"http://x", kodoclient.Options{AccessKey: "ak"}, "go together"},
		{"http://x", kodoclient.Options{Precision: 99}, "precision"},
	} {
		_, err := kodoclient.New(tc.url, tc.opts)
		assert.ErrorContains(t, err, tc.want, tc.url)
	}
	_, err := kodoclient.New("http://127.0.0.1:9527/", kodoclient.Options{})
	assert.NoError(t, err)
}

func TestClientWriter(t *testing.T) {
	fast := kodoclient.Options{Token: "tkn_x", RetryBackoff: time.Millisecond, MaxBackoff: 50 * time.Millisecond}
	lineCount := func(reqs []clReq) (n []int) {
		for _, r := range reqs {
			n = append(n, strings.Count(r.lines, "\n"))
		}
		return n
	}

	t.Run("flushes by size", func(t *testing.T) {
		f := newClFake(t, clOK)
		w, err := clNew(t, f.srv.URL, fast).NewWriter(kodoclient.WriterOptions{BatchSize: 10, FlushInterval: time.Hour})
		require.NoError(t, err)
		require.NoError(t, w.Add(clCtx(t), clPoints(25)...))
		require.Eventually(t, func() bool { return len(f.requests()) == 2 }, 5*time.Second, 5*time.Millisecond)
		assert.Equal(t, []int{10, 10}, lineCount(f.requests()), "the last 5 wait for more")
		require.NoError(t, w.Close(clCtx(t)))
		assert.Equal(t, []int{10, 10, 5}, lineCount(f.requests()))
	})

	t.Run("flushes by bytes", func(t *testing.T) {
		f := newClFake(t, clOK)
		w, err := clNew(t, f.srv.URL, fast).NewWriter(kodoclient.WriterOptions{BatchBytes: 70, FlushInterval: time.Hour})
		require.NoError(t, err)
		require.NoError(t, w.Add(clCtx(t), clPoints(5)...))
		require.NoError(t, w.Close(clCtx(t)))
		assert.Equal(t, []int{2, 2, 1}, lineCount(f.requests()))
	})

	t.Run("flushes by interval", func(t *testing.T) {
		f := newClFake(t, clOK)
		w, err := clNew(t, f.srv.URL, fast).NewWriter(kodoclient.WriterOptions{BatchSize: 1000, FlushInterval: 30 * time.Millisecond})
		require.NoError(t, err)
		defer w.Close(clCtx(t))
		require.NoError(t, w.Add(clCtx(t), clPoints(3)...))
		require.Eventually(t, func() bool { return len(f.requests()) == 1 }, 5*time.Second, 5*time.Millisecond)
		assert.Equal(t, []int{3}, lineCount(f.requests()))
	})

	t.Run("flush waits and reports", func(t *testing.T) {
		f := newClFake(t, clAnswer(503, "kodo.unavailable", "busy"), clOK)
		w, err := clNew(t, f.srv.URL, fast).NewWriter(kodoclient.WriterOptions{FlushInterval: time.Hour})
		require.NoError(t, err)
		require.NoError(t, w.Add(clCtx(t), clPoints(4)...))
		require.NoError(t, w.Flush(clCtx(t)), "the 503 was retried")
		assert.Equal(t, []int{4, 4}, lineCount(f.requests()))
		require.NoError(t, w.Flush(clCtx(t)), "nothing new")
		assert.Len(t, f.requests(), 2)
		require.NoError(t, w.Close(clCtx(t)))
		assert.ErrorIs(t, w.Flush(clCtx(t)), kodoclient.ErrWriterClosed)
	})

	t.Run("close returns permanent errors with the points", func(t *testing.T) {
		f := newClFake(t, clOK, clAnswer(400, "kodo.partialWrite", "line 2: bad"), clOK)
		var seen []*kodoclient.WriteError
		var mu sync.Mutex
		w, err := clNew(t, f.srv.URL, fast).NewWriter(kodoclient.WriterOptions{BatchSize: 2, FlushInterval: time.Hour,
			OnError: func(e *kodoclient.WriteError) { mu.Lock(); seen = append(seen, e); mu.Unlock() }})
		require.NoError(t, err)
		require.NoError(t, w.Add(clCtx(t), clPoints(6)...))
		err = w.Close(clCtx(t))
		var we *kodoclient.WriteError
		require.ErrorAs(t, err, &we)
		assert.Equal(t, 2, we.Failed)
		assert.Equal(t, "m v=2i 1700000002000000000\nm v=3i 1700000003000000000\n", string(we.Lines))
		assert.True(t, kodoclient.IsErrorCode(err, kodoapi.ErrPartialWrite))
		assert.Len(t, f.requests(), 3, "the requests after the failed one are still sent")
		mu.Lock()
		assert.Len(t, seen, 1)
		mu.Unlock()
	})

	t.Run("close with an expired context returns the unsent points", func(t *testing.T) {
		f := newClFake(t, clAnswer(503, "kodo.unavailable", "down"))
		o := fast
		o.MaxRetries = 1000
		w, err := clNew(t, f.srv.URL, o).NewWriter(kodoclient.WriterOptions{BatchSize: 2, FlushInterval: time.Hour})
		require.NoError(t, err)
		require.NoError(t, w.Add(clCtx(t), clPoints(5)...))
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		start := time.Now()
		err = w.Close(ctx)
		assert.Less(t, time.Since(start), 5*time.Second)
		var lines, failed int
		for _, e := range clUnjoin(err) {
			var we *kodoclient.WriteError
			require.ErrorAs(t, e, &we)
			assert.ErrorIs(t, e, context.DeadlineExceeded)
			failed += we.Failed
			lines += strings.Count(string(we.Lines), "\n")
		}
		assert.Equal(t, 5, failed, "every point is accounted for")
		assert.Equal(t, 5, lines)
	})

	t.Run("add blocks when the queue is full and honours its context", func(t *testing.T) {
		release := make(chan struct{})
		f := newClFake(t, func(w http.ResponseWriter) { <-release; clOK(w) })
		w, err := clNew(t, f.srv.URL, fast).NewWriter(kodoclient.WriterOptions{BatchSize: 1, MaxQueued: 1, FlushInterval: time.Hour})
		require.NoError(t, err)
		require.NoError(t, w.Add(clCtx(t), clPoints(1)...)) // sent, stuck in the server
		require.Eventually(t, func() bool { return len(f.requests()) == 1 }, 5*time.Second, time.Millisecond)
		require.NoError(t, w.Add(clCtx(t), clPoints(1)...)) // queued
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		err = w.Add(ctx, clPoints(1)...)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		close(release)
		require.NoError(t, w.Close(clCtx(t)))
		assert.Len(t, f.requests(), 2, "the refused point was not added")
	})

	t.Run("invalid points are refused whole", func(t *testing.T) {
		f := newClFake(t, clOK)
		w, err := clNew(t, f.srv.URL, fast).NewWriter(kodoclient.WriterOptions{})
		require.NoError(t, err)
		err = w.Add(clCtx(t), kodoclient.Point{Measurement: "m", Fields: map[string]any{"v": 1}}, kodoclient.Point{Measurement: "m", Fields: map[string]any{"v": struct{}{}}})
		var ip *kodoclient.InvalidPointError
		require.ErrorAs(t, err, &ip)
		assert.Equal(t, 1, ip.Index)
		require.NoError(t, w.Close(clCtx(t)))
		assert.Empty(t, f.requests())
	})

	t.Run("needs credentials", func(t *testing.T) {
		c := clNew(t, "http://127.0.0.1:1", kodoclient.Options{})
		_, err := c.NewWriter(kodoclient.WriterOptions{})
		assert.ErrorIs(t, err, kodoclient.ErrNoCredentials)
	})
}

// clUnjoin splits an errors.Join result.
func clUnjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	if err == nil {
		return nil
	}
	return []error{err}
}

func BenchmarkClientWrite(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		clOK(w)
	}))
	defer srv.Close()
	c, err := kodoclient.New(srv.URL, kodoclient.Options{Token: "tkn_x"})
	if err != nil {
		b.Fatal(err)
	}
	var batch lineproto.Batch
	t0 := time.Unix(1700000000, 0)
	for i := 0; i < 5000; i++ {
		if err := batch.AddPoint("cpu", map[string]string{"host": fmt.Sprint("h", i%10)},
			map[string]any{"usage": float64(i), "idle": i}, t0.Add(time.Duration(i)*time.Second)); err != nil {
			b.Fatal(err)
		}
	}
	size := len(batch.AppendLineProtocol(nil, lineproto.Nanosecond))
	b.SetBytes(int64(size))
	b.ReportAllocs()
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		if err := c.WriteBatch(ctx, &batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(batch.Len())*float64(b.N)/b.Elapsed().Seconds(), "points/s")
}

// FuzzClientAnswer feeds arbitrary answers to the client: it must never
// panic, must fail with a *Error on any non-200 status, and must
// decode only what it was sent.
func FuzzClientAnswer(f *testing.F) {
	f.Add(200, []byte(`{"code":200,"content":{"version":"1","engines":{}},"errorCode":"","message":""}`), "")
	f.Add(503, []byte(`{"code":503,"content":null,"errorCode":"kodo.unavailable","message":"busy"}`), "3")
	f.Add(429, []byte(`<html>`), "Wed, 21 Oct 2015 07:28:00 GMT")
	f.Add(200, []byte(`{"code":200,"content":[1,2]}`), "")
	f.Add(400, []byte(``), "-1")
	var mu sync.Mutex
	var status int
	var body []byte
	var retryAfter string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		w.WriteHeader(status)
		_, _ = w.Write(body)
	}))
	defer srv.Close()
	c, err := kodoclient.New(srv.URL, kodoclient.Options{MaxRetries: -1})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, st int, b []byte, ra string) {
		if st < 200 || st > 599 || st == 204 || st == 304 {
			return // statuses without a body are not answers the gateway gives
		}
		if !headerSafe(ra) {
			return
		}
		mu.Lock()
		status, body, retryAfter = st, b, ra
		mu.Unlock()
		_, err := c.Ping(context.Background())
		if st != 200 {
			var ce *kodoclient.Error
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, st, ce.Status)
			assert.GreaterOrEqual(t, ce.RetryAfter, time.Duration(0))
		}
	})
}

// headerSafe reports whether s can be sent as a header value as it is.
func headerSafe(s string) bool {
	for _, r := range s {
		if r == 0xFFFD || r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}
