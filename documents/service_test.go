package documents

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kodo-project/kodo/kodo/kodoapi"
	"github.com/kodo-project/kodo/lineproto"
	"github.com/kodo-project/kodo/storage/docs"
	"github.com/kodo-project/kodo/storage/docs/embedded"
)

type fixture struct {
	svc   *Service
	store *embedded.Store
}

func newFixture(t *testing.T, opt Options) fixture {
	dir := t.TempDir()
	st, err := embedded.Open(dir, embedded.Options{})
	require.NoError(t, err)
	pl, err := embedded.OpenPipelines(dir)
	require.NoError(t, err)
	t.Cleanup(func() { st.Close(); pl.Close() })
	opt.Store, opt.Pipelines = st, pl
	if opt.Now == nil {
		opt.Now = func() time.Time { return now }
	}
	svc, err := New(opt)
	require.NoError(t, err)
	return fixture{svc: svc, store: st}
}

func (f fixture) logs(t *testing.T, ws string) []kodoapi.Document {
	t.Helper()
	res, err := f.svc.Search(context.Background(), kodoapi.SearchRequest{WorkspaceUUID: ws, Kind: "logging", Sort: "time_asc"})
	require.NoError(t, err)
	return res.Docs
}

func contentsOf(ds []kodoapi.Document) []string {
	out := []string{}
	for _, d := range ds {
		out = append(out, d.Content)
	}
	return out
}

const logBody = "nginx,host=a message=\"one\" 1000\nnginx,host=b message=\"two\" 2000\n"

func TestPipelines(t *testing.T) {
	tests := []struct {
		name     string
		handler  http.HandlerFunc
		want     []string
		stats    PipelineStats
		wantSent string
	}{
		{"ok answer replaces the lines", func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "nginx,host=a,parsed=yes message=\"ONE\" 1000\n")
		}, []string{"ONE"}, PipelineStats{Calls: 1, OK: 1}, logBody},
		{"empty answer drops the lines", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusNoContent)
		}, []string{}, PipelineStats{Calls: 1, OK: 1}, logBody},
		{"timeout keeps the original", func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		}, []string{"one", "two"}, PipelineStats{Calls: 1, Failures: 1, Timeouts: 1}, logBody},
		{"500 keeps the original", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "boom", 500)
		}, []string{"one", "two"}, PipelineStats{Calls: 1, Failures: 1}, logBody},
		{"garbage answer keeps the original", func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "<html>not line protocol</html>\n")
		}, []string{"one", "two"}, PipelineStats{Calls: 1, Failures: 1}, logBody},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var sent, ctype string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				mu.Lock()
				sent, ctype = string(b), r.Header.Get("Content-Type")
				mu.Unlock()
				tc.handler(w, r)
			}))
			defer srv.Close()
			f := newFixture(t, Options{PipelineTimeout: 200 * time.Millisecond})
			ctx := context.Background()
			require.NoError(t, f.svc.SetPipeline(ctx, "wksp_1", "nginx", srv.URL))
			require.NoError(t, f.svc.Write(ctx, "wksp_1", docs.KindLogging, "nginx", []byte(logBody), lineproto.Nanosecond))
			assert.Equal(t, tc.want, contentsOf(f.logs(t, "wksp_1")))
			assert.Equal(t, tc.stats, f.svc.PipelineStats())
			mu.Lock()
			defer mu.Unlock()
			assert.Equal(t, tc.wantSent, sent)
			assert.Equal(t, "text/plain; charset=utf-8", ctype)
		})
	}
}

func TestPipelineOnlyForItsSource(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		b, _ := io.ReadAll(r.Body)
		assert.Equal(t, "redis message=\"r\" 5\n", string(b))
		io.WriteString(w, "redis message=\"R\" 5\n")
	}))
	defer srv.Close()
	f := newFixture(t, Options{})
	ctx := context.Background()
	require.NoError(t, f.svc.SetPipeline(ctx, "wksp_1", "redis", srv.URL))
	// No ?source=: every line's measurement is its source.
	require.NoError(t, f.svc.Write(ctx, "wksp_1", docs.KindLogging, "", []byte("nginx message=\"n\" 4\nredis message=\"r\" 5\n"), lineproto.Nanosecond))
	assert.Equal(t, []string{"n", "R"}, contentsOf(f.logs(t, "wksp_1")))
	assert.EqualValues(t, 1, calls.Load())
	// Another workspace has no pipeline.
	require.NoError(t, f.svc.Write(ctx, "wksp_2", docs.KindLogging, "redis", []byte("redis message=\"r\" 5\n"), lineproto.Nanosecond))
	assert.Equal(t, []string{"r"}, contentsOf(f.logs(t, "wksp_2")))
	assert.EqualValues(t, 1, calls.Load())
}

func TestSetPipelineValidates(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := context.Background()
	for _, c := range []struct{ ws, src, url string }{
		{"", "s", "http://x"}, {"w", "", "http://x"}, {"w", "s", "ftp://x"}, {"w", "s", "http://"},
		{"w", "s", ""},           // url is required; deleting is its own call
		{"w", "s", "/func/x"},    // a path needs a function service
		{"w", "s", "//host/x"},   // neither absolute nor a path
		{"w", "s", "http://a b"}, // not a URL
	} {
		assert.ErrorIs(t, f.svc.SetPipeline(ctx, c.ws, c.src, c.url), docs.ErrInvalid, "%+v", c)
	}
	assert.ErrorIs(t, f.svc.DeletePipeline(ctx, "w", ""), docs.ErrInvalid)
	require.NoError(t, f.svc.DeletePipeline(ctx, "w", "s"), "deleting a missing pipeline is not an error")
	svc, err := New(Options{Store: f.store})
	require.NoError(t, err)
	assert.Error(t, svc.SetPipeline(ctx, "w", "s", "http://x"))
}

// TestPipelinePathOnFunctionService: the API text's url is "the func url
// path"; it is called under the configured function service, with or
// without a leading slash, and an explicit delete stops the calls.
func TestPipelinePathOnFunctionService(t *testing.T) {
	var mu sync.Mutex
	var paths []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths = append(paths, r.URL.Path)
		mu.Unlock()
		io.WriteString(w, "nginx message=\"PARSED\" 1000\n")
	}))
	defer srv.Close()
	base, err := url.Parse(srv.URL + "/fn")
	require.NoError(t, err)
	f := newFixture(t, Options{FunctionURL: base})
	ctx := context.Background()
	for _, p := range []string{"parse/nginx", "/parse/nginx"} {
		require.NoError(t, f.svc.SetPipeline(ctx, "wksp_1", "nginx", p))
		require.NoError(t, f.svc.Write(ctx, "wksp_1", docs.KindLogging, "nginx", []byte(logBody), lineproto.Nanosecond))
	}
	require.NoError(t, f.svc.DeletePipeline(ctx, "wksp_1", "nginx"))
	require.NoError(t, f.svc.Write(ctx, "wksp_1", docs.KindLogging, "nginx", []byte(logBody), lineproto.Nanosecond))
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{"/fn/parse/nginx", "/fn/parse/nginx"}, paths)
	assert.EqualValues(t, 2, f.svc.PipelineStats().OK)
}

func TestWriteAndSearchEveryKind(t *testing.T) {
	f := newFixture(t, Options{ResolveDB: func(_ context.Context, db string) (string, error) {
		if db == "ifdb_1" {
			return "wksp_1", nil
		}
		return "", fmt.Errorf("%w: unknown db %s", docs.ErrInvalid, db)
	}})
	ctx := context.Background()
	require.NoError(t, f.svc.Write(ctx, "wksp_1", docs.KindObject, "", []byte(`[{"__name":"web-1","__tags":{"__class":"host","zone":"z1"},"__content":"ubuntu"}]`), 0))
	require.NoError(t, f.svc.Write(ctx, "wksp_1", docs.KindKeyEvent, "", []byte("deploy,env=prod __content=\"v2 rolled out\" 1700000000\n"), lineproto.Second))

	res, err := f.svc.Search(ctx, kodoapi.SearchRequest{DBUUID: "ifdb_1", Kind: "object", Filters: map[string]string{"__class": "host", "zone": "z1"}})
	require.NoError(t, err)
	assert.Equal(t, kodoapi.SearchResult{Total: 1, Docs: []kodoapi.Document{{Name: "web-1", Class: "host", Time: now.UnixNano(), Tags: map[string]string{"zone": "z1"}, Content: "ubuntu"}}}, res)

	res, err = f.svc.Search(ctx, kodoapi.SearchRequest{WorkspaceUUID: "wksp_1", Kind: "keyevent", Query: "ROLLED", TimeRange: []int64{1700000000000, 1700000000001}})
	require.NoError(t, err)
	assert.EqualValues(t, 1, res.Total)

	bad := []kodoapi.SearchRequest{
		{Kind: "logging"},
		{DBUUID: "ifdb_1", WorkspaceUUID: "wksp_1", Kind: "logging"},
		{DBUUID: "ifdb_9", Kind: "logging"},
		{WorkspaceUUID: "wksp_1", Kind: "metrics"},
		{WorkspaceUUID: "wksp_1", Kind: "logging", TimeRange: []int64{1}},
		{WorkspaceUUID: "wksp_1", Kind: "logging", Sort: "name"},
	}
	for _, r := range bad {
		_, err := f.svc.Search(ctx, r)
		assert.ErrorIs(t, err, docs.ErrInvalid, "%+v", r)
	}
}

func TestWriteRejectsBadBodiesAndStoresNothing(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := context.Background()
	err := f.svc.Write(ctx, "wksp_1", docs.KindLogging, "s", []byte("good message=\"x\" 1\nbad\n"), 0)
	var pe *ParseError
	require.True(t, errors.As(err, &pe))
	assert.Equal(t, 2, pe.Line)
	assert.Empty(t, f.logs(t, "wksp_1"))
	assert.ErrorIs(t, f.svc.Write(ctx, "wksp_1", "metric", "", nil, 0), docs.ErrInvalid)
	assert.ErrorIs(t, f.svc.Write(ctx, "", docs.KindLogging, "", nil, 0), docs.ErrInvalid)
}

// downStore refuses every write as an unreachable cluster would.
type downStore struct{ docs.Store }

func (downStore) Write(context.Context, string, docs.Kind, []docs.Document) error {
	return fmt.Errorf("elastic docs: bulk: %w: dial tcp: connection refused", docs.ErrUnavailable)
}

func TestWriteSurfacesUnavailable(t *testing.T) {
	svc, err := New(Options{Store: downStore{}})
	require.NoError(t, err)
	err = svc.Write(context.Background(), "wksp_1", docs.KindKeyEvent, "", []byte("e x=1 1\n"), 0)
	assert.ErrorIs(t, err, docs.ErrUnavailable, "the HTTP layer answers 503 with Retry-After")
}
