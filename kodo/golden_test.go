package kodo_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/golang/snappy"
	"github.com/influxdata/influxdb/prometheus/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kodo-project/kodo/internal/testkit"
	"github.com/kodo-project/kodo/signer"
)

// updateGolden rewrites testdata/golden from the current answers:
// go test ./kodo -run TestGolden -update
var updateGolden = flag.Bool("update", false, "rewrite kodo/testdata/golden/*.json from the current answers")

// goldenDir holds one file per endpoint: the exact answers (status,
// Content-Type, body) to a success case and to its error cases. They are
// the safety net of handler refactors that must not change behaviour.
const goldenDir = "testdata/golden"

// goldenBase is the time of every point the golden cases write: fixed, so
// that query answers are byte-stable (the data goes to the autogen RP,
// which keeps it forever).
var goldenBase = time.Date(2023, 11, 14, 22, 13, 20, 0, time.UTC)

// goldenCase is one request and its recorded answer.
type goldenCase struct {
	Name    string          `json:"name"`
	Request goldenRequest   `json:"request"`
	Answer  goldenAnswer    `json:"answer"`
	raw     *goldenExchange // before normalisation
}

type goldenRequest struct {
	Method string `json:"method"`
	Path   string `json:"path"`
	Body   string `json:"body,omitempty"`
}

type goldenAnswer struct {
	Status          int    `json:"status"`
	ContentType     string `json:"content_type"`
	ContentEncoding string `json:"content_encoding,omitempty"`
	Allow           string `json:"allow,omitempty"`
	RetryAfter      string `json:"retry_after,omitempty"`
	Body            string `json:"body"`
	// BodyBase64 replaces Body for an answer that is not UTF-8 (the
	// snappy-compressed protobuf of Prometheus remote read).
	BodyBase64 string `json:"body_base64,omitempty"`
}

type goldenExchange struct {
	method, path, reqBody string
	status                int
	contentType, encoding string
	allow, retryAfter     string
	body                  []byte
}

type goldenEndpointFile struct {
	Endpoint string       `json:"endpoint"`
	Cases    []goldenCase `json:"cases"`
}

// goldenRecorder sends raw requests and keeps the answers per endpoint.
type goldenRecorder struct {
	t     *testing.T
	h     *harness
	files map[string]*goldenEndpointFile // by endpoint pattern
	order []string
}

// goldenReq is one request to send.
type goldenReq struct {
	endpoint string // the pattern routes() registers, e.g. /v1/cq/create
	name     string
	method   string
	path     string // with its query string
	body     []byte
	// shown is what the golden file says the body was ("" = body itself).
	shown  string
	header map[string]string
	// token and secret sign the request (DATAFLUX, SHA-256) when set.
	token, secret string
	basicAuth     string // password for basic auth (InfluxDB APIs)
}

func newGoldenRecorder(t *testing.T, h *harness) *goldenRecorder {
	return &goldenRecorder{t: t, h: h, files: map[string]*goldenEndpointFile{}}
}

func (g *goldenRecorder) send(q goldenReq) *goldenExchange {
	g.t.Helper()
	req, err := http.NewRequest(q.method, g.h.ts.URL+q.path, bytes.NewReader(q.body))
	require.NoError(g.t, err)
	if q.body == nil {
		req.Body, req.ContentLength = http.NoBody, 0
	}
	for k, v := range q.header {
		req.Header.Set(k, v)
	}
	if q.basicAuth != "" {
		req.SetBasicAuth("golden", q.basicAuth)
	}
	client := g.h.ts.Client()
	if q.token != "" {
		client = &http.Client{Transport: signer.NewDatafluxTransport(g.h.ts.Client().Transport, q.token, q.secret, signer.AlgoSHA256)}
	}
	resp, err := client.Do(req)
	require.NoError(g.t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(g.t, err)
	shown := q.shown
	if shown == "" {
		shown = string(q.body)
	}
	return &goldenExchange{method: q.method, path: q.path, reqBody: shown, status: resp.StatusCode,
		contentType: resp.Header.Get("Content-Type"), encoding: resp.Header.Get("Content-Encoding"),
		allow: resp.Header.Get("Allow"), retryAfter: resp.Header.Get("Retry-After"), body: body}
}

// record sends q and keeps its answer in q.endpoint's file.
func (g *goldenRecorder) record(q goldenReq) *goldenExchange {
	g.t.Helper()
	x := g.send(q)
	f := g.files[q.endpoint]
	if f == nil {
		f = &goldenEndpointFile{Endpoint: q.endpoint}
		g.files[q.endpoint] = f
		g.order = append(g.order, q.endpoint)
	}
	for _, c := range f.Cases {
		require.NotEqual(g.t, q.name, c.Name, "case names are unique per endpoint")
	}
	f.Cases = append(f.Cases, goldenCase{Name: q.name, raw: x})
	return x
}

// jsonBody marshals v, or takes a string as the raw body (bad JSON cases).
func jsonBody(t *testing.T, v any) []byte {
	if s, ok := v.(string); ok {
		return []byte(s)
	}
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

// post records a JSON POST to a management endpoint.
func (g *goldenRecorder) post(endpoint, name, path string, body any) *goldenExchange {
	g.t.Helper()
	var b []byte
	if body != nil {
		b = jsonBody(g.t, body)
	}
	return g.record(goldenReq{endpoint: endpoint, name: name, method: http.MethodPost, path: path, body: b,
		header: map[string]string{"Content-Type": "application/json"}})
}

func (g *goldenRecorder) get(endpoint, name, path string) *goldenExchange {
	g.t.Helper()
	return g.record(goldenReq{endpoint: endpoint, name: name, method: http.MethodGet, path: path})
}

// content decodes the content of a 200 envelope (setup steps).
func (x *goldenExchange) content(t *testing.T, v any) {
	t.Helper()
	require.Equal(t, 200, x.status, "%s", x.body)
	var env struct {
		Content json.RawMessage `json:"content"`
	}
	require.NoError(t, json.Unmarshal(x.body, &env))
	require.NoError(t, json.Unmarshal(env.Content, v))
}

// normaliser replaces volatile values with stable placeholders numbered
// by order of first appearance within one file.
type normaliser struct {
	start time.Time
	seen  map[string]string
	next  map[string]int
}

var (
	// Kodo identifiers (newID), database names and workspace secrets.
	goldenIDRe = regexp.MustCompile(`\b(wksp|tkn|ifdb|iflx|cq|ak|sk|db|wsec)_[0-9a-f]{32,64}\b`)
	// Pandora key pairs: 40 URL-safe base64 characters.
	goldenPandoraKeyRe = regexp.MustCompile(`"(access_key|secret_key)":"([A-Za-z0-9_-]{40})"`)
	goldenTimeRe       = regexp.MustCompile(`\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?`)
	// Measured durations as Go prints them (a fraction of a unit): a
	// configured duration such as "2160h" or "1s" has none.
	goldenDurationRe = regexp.MustCompile(`\b\d+\.\d+(ns|µs|us|ms|s|m|h)\b`)
	goldenTraceRe    = regexp.MustCompile(`("trace_?[iI]d":\s*")[^"]*(")`)
	// InfluxDB v2 bucket and org ids: 16 hex digits derived from the
	// random database ids.
	// They are strings, alone or ending a path (links.self).
	goldenV2IDRe = regexp.MustCompile(`(["/])([0-9a-f]{16})"`)
	// Epoch numbers (s, ms, µs, ns): volatile when they are this run's.
	goldenEpochRe = regexp.MustCompile(`\b1\d{9}(\d{3}){0,3}\b`)
)

func newNormaliser(start time.Time) *normaliser {
	return &normaliser{start: start, seen: map[string]string{}, next: map[string]int{}}
}

func (n *normaliser) placeholder(kind, v string) string {
	if p, ok := n.seen[v]; ok {
		return p
	}
	n.next[kind]++
	p := fmt.Sprintf("%s_#%d", kind, n.next[kind])
	n.seen[v] = p
	return p
}

func (n *normaliser) apply(s string) string {
	s = goldenIDRe.ReplaceAllStringFunc(s, func(v string) string {
		kind, _, _ := strings.Cut(v, "_")
		return n.placeholder(kind, v)
	})
	s = goldenPandoraKeyRe.ReplaceAllStringFunc(s, func(v string) string {
		m := goldenPandoraKeyRe.FindStringSubmatch(v)
		return `"` + m[1] + `":"` + n.placeholder("pandora_"+m[1], m[2]) + `"`
	})
	// Only times of this run (the server's clock) are volatile: the
	// points the cases write carry fixed 2023 times.
	s = goldenTimeRe.ReplaceAllStringFunc(s, func(v string) string {
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999 -0700", "2006-01-02 15:04:05"} {
			if tm, err := time.Parse(layout, v); err == nil {
				if d := tm.Sub(n.start); d > -48*time.Hour && d < 48*time.Hour {
					return "<now>"
				}
				return v
			}
		}
		return v
	})
	s = goldenV2IDRe.ReplaceAllStringFunc(s, func(v string) string {
		m := goldenV2IDRe.FindStringSubmatch(v)
		return m[1] + n.placeholder("v2id", m[2]) + `"`
	})
	s = goldenEpochRe.ReplaceAllStringFunc(s, func(v string) string {
		x, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return v
		}
		var tm time.Time
		switch len(v) {
		case 10:
			tm = time.Unix(x, 0)
		case 13:
			tm = time.UnixMilli(x)
		case 16:
			tm = time.UnixMicro(x)
		default:
			tm = time.Unix(0, x)
		}
		if d := tm.Sub(n.start); d > -48*time.Hour && d < 48*time.Hour {
			return "<now_epoch" + strconv.Itoa(len(v)) + ">"
		}
		return v
	})
	s = goldenDurationRe.ReplaceAllString(s, "<duration>")
	s = goldenTraceRe.ReplaceAllString(s, "${1}<trace>${2}")
	return s
}

// goldenFileName maps an endpoint to its file: /v1/cq/create ->
// v1_cq_create.json, /ping -> ping.json, /v1/droppingmetrics/{db_uuid}
// -> v1_droppingmetrics_db_uuid.json.
func goldenFileName(endpoint, suffix string) string {
	r := strings.NewReplacer("{", "", "}", "")
	name := strings.ReplaceAll(strings.Trim(r.Replace(endpoint), "/"), "/", "_")
	return name + suffix + ".json"
}

// check compares (or with -update writes) the files recorded.
func (g *goldenRecorder) check(start time.Time, suffix string) {
	g.t.Helper()
	for _, ep := range g.order {
		f := g.files[ep]
		n := newNormaliser(start)
		for i := range f.Cases {
			c := &f.Cases[i]
			x := c.raw
			c.Request = goldenRequest{Method: x.method, Path: n.apply(x.path), Body: n.apply(x.reqBody)}
			c.Answer = goldenAnswer{Status: x.status, ContentType: x.contentType, ContentEncoding: x.encoding, Allow: x.allow, RetryAfter: x.retryAfter}
			if utf8.Valid(x.body) {
				c.Answer.Body = n.apply(string(x.body))
			} else {
				c.Answer.BodyBase64 = base64.StdEncoding.EncodeToString(x.body)
			}
		}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		require.NoError(g.t, enc.Encode(f))
		path := filepath.Join(goldenDir, goldenFileName(ep, suffix))
		if *updateGolden {
			require.NoError(g.t, os.MkdirAll(goldenDir, 0o755))
			require.NoError(g.t, os.WriteFile(path, buf.Bytes(), 0o644))
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			g.t.Errorf("%s: golden file missing (%v); run go test ./kodo -run TestGolden -update", ep, err)
			continue
		}
		if !bytes.Equal(want, buf.Bytes()) {
			g.t.Errorf("%s: answers differ from %s (run with -update if the change is meant):\n%s", ep, path, goldenDiff(want, buf.Bytes()))
		}
	}
}

// goldenDiff says, per case, which recorded member changed, with the
// first differing byte of a body.
func goldenDiff(wantRaw, gotRaw []byte) string {
	var want, got goldenEndpointFile
	if err := json.Unmarshal(wantRaw, &want); err != nil {
		return fmt.Sprintf("the golden file does not parse (%v)", err)
	}
	_ = json.Unmarshal(gotRaw, &got)
	var b strings.Builder
	byName := map[string]goldenCase{}
	for _, c := range want.Cases {
		byName[c.Name] = c
	}
	for _, c := range got.Cases {
		w, ok := byName[c.Name]
		if !ok {
			fmt.Fprintf(&b, "  case %q: new (not in the golden file)\n", c.Name)
			continue
		}
		delete(byName, c.Name)
		if w.Request != c.Request {
			fmt.Fprintf(&b, "  case %q: request\n    want %+v\n    got  %+v\n", c.Name, w.Request, c.Request)
		}
		wa, ga := w.Answer, c.Answer
		if wa.Status != ga.Status {
			fmt.Fprintf(&b, "  case %q: status: want %d, got %d\n", c.Name, wa.Status, ga.Status)
		}
		if wa.ContentType != ga.ContentType || wa.ContentEncoding != ga.ContentEncoding || wa.Allow != ga.Allow || wa.RetryAfter != ga.RetryAfter {
			fmt.Fprintf(&b, "  case %q: headers (Content-Type, Content-Encoding, Allow, Retry-After):\n    want %q %q %q %q\n    got  %q %q %q %q\n", c.Name,
				wa.ContentType, wa.ContentEncoding, wa.Allow, wa.RetryAfter, ga.ContentType, ga.ContentEncoding, ga.Allow, ga.RetryAfter)
		}
		for _, p := range [][3]string{{"body", wa.Body, ga.Body}, {"body_base64", wa.BodyBase64, ga.BodyBase64}} {
			if p[1] == p[2] {
				continue
			}
			i := 0
			for i < len(p[1]) && i < len(p[2]) && p[1][i] == p[2][i] {
				i++
			}
			from := max(0, i-60)
			fmt.Fprintf(&b, "  case %q: %s differs at byte %d:\n    want …%s\n    got  …%s\n", c.Name, p[0], i,
				p[1][from:min(len(p[1]), i+120)], p[2][from:min(len(p[2]), i+120)])
		}
	}
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(&b, "  case %q: gone (in the golden file, not sent)\n", n)
	}
	if b.Len() == 0 {
		return "  (same cases and answers; the file's formatting differs: rewrite it with -update)"
	}
	return b.String()
}

// goldenWorkspace creates a workspace whose default RP is autogen (the
// fixed-time points stay forever) and returns it.
func goldenWorkspace(t *testing.T, g *goldenRecorder, name string) workspace {
	t.Helper()
	x := g.send(goldenReq{method: http.MethodPost, path: "/v1/workspace/create",
		body: jsonBody(t, map[string]any{"name": name, "default_rp": "autogen", "cqrp": "rp6"})})
	var ws workspace
	x.content(t, &ws)
	return ws
}

// goldenLines is line protocol at goldenBase.
func goldenLines(lines ...string) string {
	var b strings.Builder
	for i, l := range lines {
		fmt.Fprintf(&b, "%s %d\n", l, goldenBase.Add(time.Duration(i)*time.Second).UnixNano())
	}
	return b.String()
}

// goldenEndpoints is every endpoint routes() registers, but /v4/ (the
// Pandora API has its own tests) and /metrics (Prometheus text, volatile
// by nature). The /v1/ck/ ones also have a file of ClickHouse answers.
var goldenEndpoints = []string{
	"/v1/ping", "/v1/write", "/v1/write/metrics", "/v1/write/object", "/v1/write/keyevent", "/v1/write/logging",
	"/v1/datakit/online", "/v1/check/token/{token}",
	"/v1/workspace/create", "/v1/workspace/delete", "/v1/workspace/keypair/create", "/v1/workspace/limits",
	"/v1/workspace/secret/rotate", "/v1/workspace/signing", "/v1/read/metrics", "/v1/rewrite",
	"/v1/cq/create", "/v1/cq/modify", "/v1/cq/delete", "/v1/cq/syncupdate", "/v1/manage/metrics",
	"/v1/influx/add_db", "/v1/modify/dbrp", "/v1/measurement/get_rp", "/v1/drop/metrics",
	"/v1/droppingmetrics/{db_uuid}", "/v1/tscnt", "/v1/cache/dataway/clean", "/v1/cache/logging/set",
	"/v1/cache/logging/delete", "/v1/read/docs", "/v1/tsdb/keypair/create",
	"/v1/ck/status", "/v1/ck/create_db", "/v1/ck/tablelist", "/v1/ck/tableinfo", "/v1/ck/drop/metrics", "/v1/ck/read/metrics",
	"/ping", "/write", "/query", "/api/v2/write", "/api/v2/buckets", "/api/v2/query", "/health",
	"/api/v1/prom/write", "/api/v1/prom/read",
}

// checkCoverage fails unless each endpoint has a success and an error case.
func (g *goldenRecorder) checkCoverage(endpoints []string, needSuccess func(endpoint string) bool) {
	g.t.Helper()
	for _, ep := range endpoints {
		f := g.files[ep]
		if !assert.NotNil(g.t, f, "%s has no golden case", ep) {
			continue
		}
		var ok, bad bool
		for _, c := range f.Cases {
			ok = ok || c.raw.status < 300
			bad = bad || c.raw.status >= 400
		}
		assert.True(g.t, ok || !needSuccess(ep), "%s has no success case", ep)
		assert.True(g.t, bad, "%s has no error case", ep)
	}
	for _, ep := range g.order {
		assert.Contains(g.t, endpoints, ep, "a case recorded for an endpoint missing from goldenEndpoints")
	}
}

// TestGolden drives every endpoint of routes() (but /v4/ and /metrics)
// with raw HTTP and compares the exact answers with testdata/golden.
func TestGolden(t *testing.T) {
	start := time.Now()
	h := newHarness(t)
	g := newGoldenRecorder(t, h)
	goldenV1(t, g)
	goldenInflux(t, g)
	goldenCKUnconfigured(t, g)
	// Without ClickHouse every /v1/ck/ case is an error; the successes
	// are in TestGoldenClickHouse's files. /api/v2/query refuses Flux,
	// always.
	g.checkCoverage(goldenEndpoints, func(ep string) bool { return !strings.HasPrefix(ep, "/v1/ck/") && ep != "/api/v2/query" })
	g.check(start, "")
	// A file no case writes any more is stale: an endpoint renamed or
	// removed must take its golden file with it.
	files, err := filepath.Glob(filepath.Join(goldenDir, "*.json"))
	require.NoError(t, err)
	want := map[string]bool{}
	for _, ep := range goldenEndpoints {
		want[goldenFileName(ep, "")] = true
		if strings.HasPrefix(ep, "/v1/ck/") {
			want[goldenFileName(ep, ".clickhouse")] = true
		}
	}
	for _, f := range files {
		assert.True(t, want[filepath.Base(f)], "%s belongs to no endpoint of goldenEndpoints: delete it", f)
	}
}

func goldenV1(t *testing.T, g *goldenRecorder) {
	ws := goldenWorkspace(t, g, "golden")
	other := goldenWorkspace(t, g, "other")

	// /v1/ping
	g.get("/v1/ping", "get", "/v1/ping")
	g.record(goldenReq{endpoint: "/v1/ping", name: "wrong method", method: http.MethodPut, path: "/v1/ping"})

	// Metric writes: signed, gzipped line protocol.
	signedWrite := func(ep, name, path, body string, gzipped bool, hdr map[string]string, token, secret string) *goldenExchange {
		q := goldenReq{endpoint: ep, name: name, method: http.MethodPost, path: path, body: []byte(body), header: map[string]string{"Content-Type": "text/plain"}, token: token, secret: secret}
		if gzipped {
			q.body, q.shown = testkit.Gzip(t, []byte(body)), "gzip("+body+")"
			q.header["Content-Encoding"] = "gzip"
		}
		for k, v := range hdr {
			q.header[k] = v
		}
		return g.record(q)
	}
	for _, ep := range []string{"/v1/write", "/v1/write/metrics"} {
		signedWrite(ep, "ok", ep, goldenLines("cpu,host=a usage=1.5,count=3i", "cpu,host=b usage=2.5,count=4i"), true, nil, ws.Token, ws.Secret)
		signedWrite(ep, "unsigned", ep, goldenLines("cpu,host=a usage=1"), true, nil, "", "")
		signedWrite(ep, "wrong secret", ep, goldenLines("cpu,host=a usage=1"), true, nil, ws.Token, strings.Repeat("0", 64))
		signedWrite(ep, "bad line protocol", ep, "cpu,host=a usage=\n", true, nil, ws.Token, ws.Secret)
		signedWrite(ep, "unknown rp", ep, goldenLines("cpu,host=a usage=1"), true, map[string]string{"X-RP": "nope"}, ws.Token, ws.Secret)
		signedWrite(ep, "bad precision", ep, goldenLines("cpu,host=a usage=1"), true, map[string]string{"X-Precision": "weeks"}, ws.Token, ws.Secret)
		signedWrite(ep, "field type conflict", ep, goldenLines(`cpu,host=a usage="text"`), true, nil, ws.Token, ws.Secret)
		signedWrite(ep, "gzip header on a plain body", ep, "not gzip", false, map[string]string{"Content-Encoding": "gzip"}, ws.Token, ws.Secret)
	}
	g.record(goldenReq{endpoint: "/v1/write", name: "wrong method", method: http.MethodGet, path: "/v1/write"})

	// Documents.
	signedWrite("/v1/write/object", "ok", "/v1/write/object", `[{"__name":"web-01","__tags":{"__class":"host","os":"linux"},"__content":"nginx frontend"}]`, false, nil, ws.Token, ws.Secret)
	signedWrite("/v1/write/object", "not a JSON array", "/v1/write/object", `{"__name":"web-01"}`, false, nil, ws.Token, ws.Secret)
	signedWrite("/v1/write/object", "wrong field type", "/v1/write/object", `[{"__name":5}]`, false, nil, ws.Token, ws.Secret)
	signedWrite("/v1/write/object", "unsigned", "/v1/write/object", `[]`, false, nil, "", "")
	signedWrite("/v1/write/keyevent", "ok", "/v1/write/keyevent", goldenLines(`deploy,service=api title="release v2",__content="rolled out v2"`), false, nil, ws.Token, ws.Secret)
	signedWrite("/v1/write/keyevent", "bad line protocol", "/v1/write/keyevent", "deploy title=\n", false, nil, ws.Token, ws.Secret)
	signedWrite("/v1/write/keyevent", "bad precision", "/v1/write/keyevent?precision=weeks", goldenLines(`deploy title="x"`), false, nil, ws.Token, ws.Secret)
	signedWrite("/v1/write/logging", "ok", "/v1/write/logging?source=app", goldenLines(`app,host=bastion message="login failed for root"`), false, nil, ws.Token, ws.Secret)
	signedWrite("/v1/write/logging", "bad line protocol", "/v1/write/logging?source=app", "not line protocol\n", false, nil, ws.Token, ws.Secret)
	signedWrite("/v1/write/logging", "unsigned", "/v1/write/logging", goldenLines(`app message="x"`), false, nil, "", "")

	// /v1/read/docs: the embedded store indexes asynchronously, so wait
	// (unrecorded) until the object is found.
	docsQuery := map[string]any{"workspace_uuid": ws.WorkspaceUUID, "kind": "object", "query": "nginx"}
	logQuery := map[string]any{"workspace_uuid": ws.WorkspaceUUID, "kind": "logging", "filters": map[string]string{"host": "bastion"},
		"time_range": []int64{goldenBase.Add(-time.Minute).UnixMilli(), goldenBase.Add(time.Minute).UnixMilli()}}
	for _, q := range []map[string]any{docsQuery, logQuery} {
		eventually(t, "the documents are searchable", func() bool {
			x := g.send(goldenReq{method: http.MethodPost, path: "/v1/read/docs", body: jsonBody(t, q)})
			var env struct {
				Content struct {
					Total int64 `json:"total"`
				} `json:"content"`
			}
			return x.status == 200 && json.Unmarshal(x.body, &env) == nil && env.Content.Total == 1
		})
	}
	g.post("/v1/read/docs", "ok", "/v1/read/docs", docsQuery)
	g.post("/v1/read/docs", "logging by time and tag", "/v1/read/docs", logQuery)
	g.post("/v1/read/docs", "unknown field", "/v1/read/docs", map[string]any{"workspace_uuid": ws.WorkspaceUUID, "kind": "logging", "start": 0})
	g.post("/v1/read/docs", "unknown kind", "/v1/read/docs", map[string]any{"workspace_uuid": ws.WorkspaceUUID, "kind": "nope"})
	g.post("/v1/read/docs", "wrong field type", "/v1/read/docs", `{"workspace_uuid":5,"kind":"object"}`)
	g.post("/v1/read/docs", "missing workspace", "/v1/read/docs", map[string]any{"kind": "object"})
	g.post("/v1/read/docs", "bad JSON", "/v1/read/docs", `{"kind":`)

	// /v1/datakit/online
	g.record(goldenReq{endpoint: "/v1/datakit/online", name: "ok", method: http.MethodPost, path: "/v1/datakit/online",
		body: []byte(`["dk_1","dk_2"]`), header: map[string]string{"X-Token": ws.Token}})
	g.record(goldenReq{endpoint: "/v1/datakit/online", name: "uuid parameter", method: http.MethodPost, path: "/v1/datakit/online?token=" + ws.Token + "&uuid=dk_3"})
	g.record(goldenReq{endpoint: "/v1/datakit/online", name: "no token", method: http.MethodPost, path: "/v1/datakit/online", body: []byte(`["dk_1"]`)})
	g.record(goldenReq{endpoint: "/v1/datakit/online", name: "unknown token", method: http.MethodPost, path: "/v1/datakit/online", body: []byte(`["dk_1"]`),
		header: map[string]string{"X-Token": "tkn_" + strings.Repeat("0", 32)}})
	g.record(goldenReq{endpoint: "/v1/datakit/online", name: "wrong body type", method: http.MethodPost, path: "/v1/datakit/online", body: []byte(`{"uuid":"dk_1"}`),
		header: map[string]string{"X-Token": ws.Token}})
	g.record(goldenReq{endpoint: "/v1/datakit/online", name: "empty list", method: http.MethodPost, path: "/v1/datakit/online", body: []byte(`[]`),
		header: map[string]string{"X-Token": ws.Token}})

	// /v1/check/token/{token}
	g.get("/v1/check/token/{token}", "ok", "/v1/check/token/"+ws.Token)
	g.get("/v1/check/token/{token}", "unknown token", "/v1/check/token/tkn_"+strings.Repeat("0", 32))
	g.post("/v1/check/token/{token}", "wrong method", "/v1/check/token/"+ws.Token, nil)

	// /v1/workspace/create
	g.post("/v1/workspace/create", "ok", "/v1/workspace/create", map[string]any{"name": "created"})
	g.post("/v1/workspace/create", "empty body", "/v1/workspace/create", nil)
	g.post("/v1/workspace/create", "rps and limits", "/v1/workspace/create", map[string]any{"name": "x", "default_rp": "rp1", "cqrp": "rp5", "rp_list": []string{"rp1", "rp5"}, "max_series_per_db": 1000, "max_values_per_tag": 10})
	g.post("/v1/workspace/create", "wrong field type", "/v1/workspace/create", `{"name":5}`)
	g.post("/v1/workspace/create", "wrong limit type", "/v1/workspace/create", `{"name":"x","max_series_per_db":"many"}`)
	g.post("/v1/workspace/create", "negative limit", "/v1/workspace/create", map[string]any{"name": "x", "max_series_per_db": -1})
	g.post("/v1/workspace/create", "unknown rp", "/v1/workspace/create", map[string]any{"name": "x", "default_rp": "forever"})
	g.post("/v1/workspace/create", "bad JSON", "/v1/workspace/create", `{"name":`)
	g.post("/v1/workspace/create", "trailing data", "/v1/workspace/create", `{"name":"x"} {}`)
	g.get("/v1/workspace/create", "wrong method", "/v1/workspace/create")

	// /v1/workspace/keypair/create
	g.post("/v1/workspace/keypair/create", "ok", "/v1/workspace/keypair/create", map[string]any{"workspace_uuid": ws.WorkspaceUUID})
	g.post("/v1/workspace/keypair/create", "unknown workspace", "/v1/workspace/keypair/create", map[string]any{"workspace_uuid": "wksp_" + strings.Repeat("0", 32)})
	g.post("/v1/workspace/keypair/create", "missing workspace", "/v1/workspace/keypair/create", map[string]any{})
	g.post("/v1/workspace/keypair/create", "wrong field type", "/v1/workspace/keypair/create", `{"workspace_uuid":["x"]}`)

	// /v1/workspace/limits
	g.post("/v1/workspace/limits", "read", "/v1/workspace/limits", map[string]any{"workspace_uuid": ws.WorkspaceUUID})
	g.post("/v1/workspace/limits", "set", "/v1/workspace/limits", map[string]any{"workspace_uuid": ws.WorkspaceUUID, "max_series_per_db": 100000, "max_values_per_tag": 1000})
	g.post("/v1/workspace/limits", "negative", "/v1/workspace/limits", map[string]any{"workspace_uuid": ws.WorkspaceUUID, "max_values_per_tag": -5})
	g.post("/v1/workspace/limits", "wrong field type", "/v1/workspace/limits", `{"workspace_uuid":"`+ws.WorkspaceUUID+`","max_series_per_db":1.5}`)
	g.post("/v1/workspace/limits", "unknown workspace", "/v1/workspace/limits", map[string]any{"workspace_uuid": "wksp_" + strings.Repeat("0", 32)})

	// /v1/workspace/signing
	g.post("/v1/workspace/signing", "allow md5", "/v1/workspace/signing", map[string]any{"workspace_uuid": other.WorkspaceUUID, "allow_md5_key": true})
	g.post("/v1/workspace/signing", "missing allow_md5_key", "/v1/workspace/signing", map[string]any{"workspace_uuid": ws.WorkspaceUUID})
	g.post("/v1/workspace/signing", "unknown workspace", "/v1/workspace/signing", map[string]any{"workspace_uuid": "wksp_" + strings.Repeat("0", 32), "allow_md5_key": false})
	g.post("/v1/workspace/signing", "wrong field type", "/v1/workspace/signing", `{"workspace_uuid":"`+ws.WorkspaceUUID+`","allow_md5_key":"yes"}`)
	g.post("/v1/workspace/signing", "missing workspace", "/v1/workspace/signing", map[string]any{"allow_md5_key": false})

	// /v1/workspace/secret/rotate: on a workspace of its own, since the
	// other cases sign with ws's secret.
	rot := goldenWorkspace(t, g, "rotate")
	g.post("/v1/workspace/secret/rotate", "ok", "/v1/workspace/secret/rotate", map[string]any{"workspace_uuid": rot.WorkspaceUUID, "overlap": "1h"})
	g.post("/v1/workspace/secret/rotate", "bad overlap", "/v1/workspace/secret/rotate", map[string]any{"workspace_uuid": rot.WorkspaceUUID, "overlap": "soon"})
	g.post("/v1/workspace/secret/rotate", "wrong field type", "/v1/workspace/secret/rotate", `{"workspace_uuid":"`+rot.WorkspaceUUID+`","overlap":3600}`)
	g.post("/v1/workspace/secret/rotate", "unknown workspace", "/v1/workspace/secret/rotate", map[string]any{"workspace_uuid": "wksp_" + strings.Repeat("0", 32)})

	// /v1/read/metrics
	g.post("/v1/read/metrics", "ok", "/v1/read/metrics", map[string]any{"db": ws.DBUUID, "command": "SELECT usage, count FROM cpu ORDER BY time"})
	g.post("/v1/read/metrics", "group by tag", "/v1/read/metrics", map[string]any{"db_uuid": ws.DBUUID, "command": "SELECT last(usage) FROM cpu GROUP BY host"})
	g.post("/v1/read/metrics", "with rewrite", "/v1/read/metrics", map[string]any{"db": ws.DBUUID, "command": "SELECT usage FROM cpu", "rewrite": map[string]any{"limit": 1}})
	g.post("/v1/read/metrics", "two statements, one failing", "/v1/read/metrics", map[string]any{"db": ws.DBUUID, "command": "SELECT usage FROM cpu; SELECT nope( FROM cpu"})
	g.post("/v1/read/metrics", "statement error", "/v1/read/metrics", map[string]any{"db": ws.DBUUID, "command": "SELECT usage FROM cpu GROUP BY time(1m)"})
	g.post("/v1/read/metrics", "bad InfluxQL", "/v1/read/metrics", map[string]any{"db": ws.DBUUID, "command": "SELEC usage FROM cpu"})
	g.post("/v1/read/metrics", "management refused", "/v1/read/metrics", map[string]any{"db": ws.DBUUID, "command": "DROP MEASUREMENT cpu"})
	g.post("/v1/read/metrics", "unknown db", "/v1/read/metrics", map[string]any{"db": "ifdb_" + strings.Repeat("0", 32), "command": "SELECT * FROM cpu"})
	g.post("/v1/read/metrics", "missing db", "/v1/read/metrics", map[string]any{"command": "SELECT * FROM cpu"})
	g.post("/v1/read/metrics", "wrong field type", "/v1/read/metrics", `{"db":"`+ws.DBUUID+`","command":5}`)
	g.post("/v1/read/metrics", "empty body", "/v1/read/metrics", nil)

	// /v1/manage/metrics
	g.post("/v1/manage/metrics", "show measurements", "/v1/manage/metrics", map[string]any{"db": ws.DBUUID, "command": "SHOW MEASUREMENTS"})
	g.post("/v1/manage/metrics", "show retention policies", "/v1/manage/metrics", map[string]any{"db": ws.DBUUID, "command": "SHOW RETENTION POLICIES"})
	g.post("/v1/manage/metrics", "drop database refused", "/v1/manage/metrics", map[string]any{"db": ws.DBUUID, "command": "DROP DATABASE x"})
	g.post("/v1/manage/metrics", "unknown db", "/v1/manage/metrics", map[string]any{"db": "ifdb_" + strings.Repeat("0", 32), "command": "SHOW MEASUREMENTS"})
	g.post("/v1/manage/metrics", "wrong field type", "/v1/manage/metrics", `{"db":1,"command":"SHOW MEASUREMENTS"}`)

	// /v1/rewrite
	g.post("/v1/rewrite", "ok", "/v1/rewrite", map[string]any{"db_uuid": ws.DBUUID, "sqls": []map[string]any{
		{"sql": "SELECT usage FROM cpu", "limit": 10}, {"sql": "SELEC x"}}})
	g.post("/v1/rewrite", "unknown db", "/v1/rewrite", map[string]any{"db_uuid": "ifdb_" + strings.Repeat("0", 32), "sqls": []map[string]any{{"sql": "SELECT 1"}}})
	g.post("/v1/rewrite", "wrong field type", "/v1/rewrite", `{"db_uuid":"`+ws.DBUUID+`","sqls":"SELECT usage FROM cpu"}`)
	g.post("/v1/rewrite", "wrong item field type", "/v1/rewrite", `{"db_uuid":"`+ws.DBUUID+`","sqls":[{"sql":"SELECT usage FROM cpu","limit":"ten"}]}`)

	// /v1/cq/create, modify, delete, syncupdate
	cq := g.post("/v1/cq/create", "ok", "/v1/cq/create", map[string]any{"db_uuid": ws.DBUUID, "workspace_uuid": ws.WorkspaceUUID, "measurements": []map[string]any{
		{"measurement": "cpu", "aggr_func": "mean", "aggr_period": "5m", "aggr_every": "1m"}, {"measurement": "cpu", "aggr_func": "max", "aggr_period": "5m", "aggr_every": "1m"}}})
	var cqs []cqRecordGolden
	cq.content(t, &cqs)
	require.Len(t, cqs, 2)
	g.post("/v1/cq/create", "duplicate", "/v1/cq/create", map[string]any{"db_uuid": ws.DBUUID, "workspace_uuid": ws.WorkspaceUUID, "measurements": []map[string]any{
		{"measurement": "cpu", "aggr_func": "mean", "aggr_period": "5m", "aggr_every": "1m"}}})
	g.post("/v1/cq/create", "unknown function", "/v1/cq/create", map[string]any{"db_uuid": ws.DBUUID, "workspace_uuid": ws.WorkspaceUUID, "measurements": []map[string]any{
		{"measurement": "cpu", "aggr_func": "frobnicate", "aggr_period": "5m", "aggr_every": "1m"}}})
	g.post("/v1/cq/create", "bad period", "/v1/cq/create", map[string]any{"db_uuid": ws.DBUUID, "workspace_uuid": ws.WorkspaceUUID, "measurements": []map[string]any{
		{"measurement": "cpu", "aggr_func": "min", "aggr_period": "five minutes", "aggr_every": "1m"}}})
	g.post("/v1/cq/create", "wrong field type", "/v1/cq/create", `{"db_uuid":"`+ws.DBUUID+`","workspace_uuid":"`+ws.WorkspaceUUID+`","measurements":[{"measurement":"cpu","aggr_func":"min","aggr_period":"5m","aggr_every":60}]}`)
	g.post("/v1/cq/create", "empty measurements", "/v1/cq/create", map[string]any{"db_uuid": ws.DBUUID, "workspace_uuid": ws.WorkspaceUUID, "measurements": []any{}})
	g.post("/v1/cq/create", "missing workspace", "/v1/cq/create", map[string]any{"db_uuid": ws.DBUUID, "measurements": []map[string]any{
		{"measurement": "cpu", "aggr_func": "min", "aggr_period": "5m", "aggr_every": "1m"}}})
	g.post("/v1/cq/create", "unknown db", "/v1/cq/create", map[string]any{"db_uuid": "ifdb_" + strings.Repeat("0", 32), "workspace_uuid": ws.WorkspaceUUID, "measurements": []map[string]any{
		{"measurement": "cpu", "aggr_func": "min", "aggr_period": "5m", "aggr_every": "1m"}}})
	g.post("/v1/cq/create", "db of another workspace", "/v1/cq/create", map[string]any{"db_uuid": other.DBUUID, "workspace_uuid": ws.WorkspaceUUID, "measurements": []map[string]any{
		{"measurement": "cpu", "aggr_func": "min", "aggr_period": "5m", "aggr_every": "1m"}}})

	g.post("/v1/cq/modify", "ok", "/v1/cq/modify", map[string]any{"cq_uuid": cqs[0].CQUUID, "workspace_uuid": ws.WorkspaceUUID, "aggr_period": "10m"})
	g.post("/v1/cq/modify", "to a duplicate function", "/v1/cq/modify", map[string]any{"cq_uuid": cqs[0].CQUUID, "workspace_uuid": ws.WorkspaceUUID, "aggr_func": "max"})
	g.post("/v1/cq/modify", "unknown cq", "/v1/cq/modify", map[string]any{"cq_uuid": "cq_" + strings.Repeat("0", 32), "workspace_uuid": ws.WorkspaceUUID, "aggr_period": "10m"})
	g.post("/v1/cq/modify", "missing cq_uuid", "/v1/cq/modify", map[string]any{"workspace_uuid": ws.WorkspaceUUID})
	g.post("/v1/cq/modify", "wrong field type", "/v1/cq/modify", `{"cq_uuid":"`+cqs[0].CQUUID+`","workspace_uuid":"`+ws.WorkspaceUUID+`","aggr_period":600}`)
	g.post("/v1/cq/modify", "bad every", "/v1/cq/modify", map[string]any{"cq_uuid": cqs[0].CQUUID, "workspace_uuid": ws.WorkspaceUUID, "aggr_every": "-1m"})

	g.post("/v1/cq/syncupdate", "ok", "/v1/cq/syncupdate?workspace_uuid="+ws.WorkspaceUUID, nil)
	g.post("/v1/cq/syncupdate", "missing workspace", "/v1/cq/syncupdate", nil)
	g.post("/v1/cq/syncupdate", "unknown workspace", "/v1/cq/syncupdate?workspace_uuid=wksp_"+strings.Repeat("0", 32), nil)

	g.post("/v1/cq/delete", "ok", "/v1/cq/delete", map[string]any{"cq_uuid": cqs[1].CQUUID, "workspace_uuid": ws.WorkspaceUUID})
	g.post("/v1/cq/delete", "again", "/v1/cq/delete", map[string]any{"cq_uuid": cqs[1].CQUUID, "workspace_uuid": ws.WorkspaceUUID})
	g.post("/v1/cq/delete", "other workspace", "/v1/cq/delete", map[string]any{"cq_uuid": cqs[0].CQUUID, "workspace_uuid": other.WorkspaceUUID})
	g.post("/v1/cq/delete", "wrong field type", "/v1/cq/delete", `{"cq_uuid":true}`)

	// /v1/influx/add_db (query parameters)
	g.post("/v1/influx/add_db", "ok", "/v1/influx/add_db?workspace_uuid="+ws.WorkspaceUUID+"&default_rp=rp2&rp_list=rp2,rp5", nil)
	g.post("/v1/influx/add_db", "without workspace", "/v1/influx/add_db?name=adhoc", nil)
	g.post("/v1/influx/add_db", "unknown rp", "/v1/influx/add_db?workspace_uuid="+ws.WorkspaceUUID+"&default_rp=forever", nil)
	g.post("/v1/influx/add_db", "unknown workspace", "/v1/influx/add_db?workspace_uuid=wksp_"+strings.Repeat("0", 32), nil)

	// /v1/modify/dbrp
	g.post("/v1/modify/dbrp", "ok", "/v1/modify/dbrp", map[string]any{"db_uuid": ws.DBUUID, "rp_list": []string{"rp6"}})
	g.post("/v1/modify/dbrp", "unknown rp", "/v1/modify/dbrp", map[string]any{"db_uuid": ws.DBUUID, "default_rp": "forever"})
	g.post("/v1/modify/dbrp", "unknown db", "/v1/modify/dbrp", map[string]any{"db_uuid": "ifdb_" + strings.Repeat("0", 32), "default_rp": "rp1"})
	g.post("/v1/modify/dbrp", "wrong field type", "/v1/modify/dbrp", `{"db_uuid":"`+ws.DBUUID+`","rp_list":"rp6"}`)

	// /v1/measurement/get_rp
	g.post("/v1/measurement/get_rp", "ok", "/v1/measurement/get_rp", map[string]any{"db_uuid": ws.DBUUID, "measurements": []string{"cpu", "unseen"}})
	g.post("/v1/measurement/get_rp", "unknown db", "/v1/measurement/get_rp", map[string]any{"db": "ifdb_" + strings.Repeat("0", 32), "measurements": []string{"cpu"}})
	g.post("/v1/measurement/get_rp", "wrong field type", "/v1/measurement/get_rp", `{"db_uuid":"`+ws.DBUUID+`","measurements":"cpu"}`)

	// /v1/tscnt: a database without writes, whose count is settled.
	g.get("/v1/tscnt", "get", "/v1/tscnt?db_uuid="+other.DBUUID)
	g.post("/v1/tscnt", "post", "/v1/tscnt", []string{other.DBUUID, "ifdb_" + strings.Repeat("0", 32)})
	g.post("/v1/tscnt", "wrong body type", "/v1/tscnt", `{"db_uuid":"x"}`)

	// /v1/cache/dataway/clean
	g.post("/v1/cache/dataway/clean", "ok", "/v1/cache/dataway/clean?token="+ws.Token, nil)
	g.post("/v1/cache/dataway/clean", "missing token", "/v1/cache/dataway/clean", nil)

	// /v1/cache/logging/set and delete: the pipeline is stored, not called.
	g.post("/v1/cache/logging/set", "ok", "/v1/cache/logging/set", map[string]any{"workspace_uuid": ws.WorkspaceUUID, "source": "sshd", "url": "http://127.0.0.1:9/parse"})
	g.post("/v1/cache/logging/set", "unknown workspace", "/v1/cache/logging/set", map[string]any{"workspace_uuid": "wksp_" + strings.Repeat("0", 32), "source": "sshd", "url": "http://127.0.0.1:9/parse"})
	g.post("/v1/cache/logging/set", "missing url", "/v1/cache/logging/set", map[string]any{"workspace_uuid": ws.WorkspaceUUID, "source": "sshd"})
	g.post("/v1/cache/logging/set", "wrong field type", "/v1/cache/logging/set", `{"workspace_uuid":"`+ws.WorkspaceUUID+`","source":1,"url":"x"}`)
	g.post("/v1/cache/logging/delete", "ok", "/v1/cache/logging/delete", map[string]any{"workspace_uuid": ws.WorkspaceUUID, "source": "sshd"})
	g.post("/v1/cache/logging/delete", "missing source", "/v1/cache/logging/delete", map[string]any{"workspace_uuid": ws.WorkspaceUUID})
	g.post("/v1/cache/logging/delete", "wrong field type", "/v1/cache/logging/delete", `{"workspace_uuid":[],"source":"sshd"}`)

	// /v1/tsdb/keypair/create
	g.post("/v1/tsdb/keypair/create", "ok", "/v1/tsdb/keypair/create", nil)
	g.get("/v1/tsdb/keypair/create", "wrong method", "/v1/tsdb/keypair/create")

	// /v1/drop/metrics and /v1/droppingmetrics/{db_uuid}, on a database
	// of its own (the drop goes on in the background).
	drop := goldenWorkspace(t, g, "drop")
	g.get("/v1/droppingmetrics/{db_uuid}", "none", "/v1/droppingmetrics/"+drop.DBUUID)
	g.get("/v1/droppingmetrics/{db_uuid}", "unknown db", "/v1/droppingmetrics/ifdb_"+strings.Repeat("0", 32))
	g.post("/v1/drop/metrics", "ok", "/v1/drop/metrics", map[string]any{"db_uuid": drop.DBUUID, "measurement": "cpu"})
	g.post("/v1/drop/metrics", "missing measurement", "/v1/drop/metrics", map[string]any{"db_uuid": drop.DBUUID})
	g.post("/v1/drop/metrics", "unknown db", "/v1/drop/metrics", map[string]any{"db_uuid": "ifdb_" + strings.Repeat("0", 32), "measurement": "cpu"})
	g.post("/v1/drop/metrics", "wrong field type", "/v1/drop/metrics", `{"db_uuid":"`+drop.DBUUID+`","measurement":["cpu"]}`)

	// /v1/workspace/delete, last: a workspace of its own.
	del := goldenWorkspace(t, g, "delete")
	g.post("/v1/workspace/delete", "ok", "/v1/workspace/delete", map[string]any{"workspace_uuid": del.WorkspaceUUID})
	g.post("/v1/workspace/delete", "again", "/v1/workspace/delete", map[string]any{"workspace_uuid": del.WorkspaceUUID})
	g.post("/v1/workspace/delete", "missing workspace", "/v1/workspace/delete", map[string]any{})
	g.post("/v1/workspace/delete", "wrong field type", "/v1/workspace/delete", `{"workspace_uuid":7}`)
}

// cqRecordGolden is the part of a CQ answer the cases reuse.
type cqRecordGolden struct {
	CQUUID string `json:"cq_uuid"`
}

func goldenInflux(t *testing.T, g *goldenRecorder) {
	ws := goldenWorkspace(t, g, "influx")
	other := goldenWorkspace(t, g, "influx-other")
	lines := goldenLines("mem,host=a used=10i,free=2.5", "mem,host=b used=20i,free=1.5")
	infl := func(ep, name, method, path, body, password string, hdr map[string]string) *goldenExchange {
		q := goldenReq{endpoint: ep, name: name, method: method, path: path, basicAuth: password, header: hdr}
		if body != "" {
			q.body = []byte(body)
		}
		return g.record(q)
	}

	// /ping and /health
	infl("/ping", "get", http.MethodGet, "/ping", "", "", nil)
	infl("/ping", "verbose", http.MethodGet, "/ping?verbose=true", "", "", nil)
	infl("/ping", "wrong method", http.MethodPost, "/ping", "", "", nil)
	infl("/health", "get", http.MethodGet, "/health", "", "", nil)
	infl("/health", "wrong method", http.MethodPost, "/health", "", "", nil)

	// /write
	infl("/write", "ok", http.MethodPost, "/write?db="+ws.DB, lines, ws.Token, nil)
	infl("/write", "u and p", http.MethodPost, "/write?db="+ws.DB+"&u=x&p="+ws.Token+"&precision=s", fmt.Sprintf("mem,host=c used=5i %d\n", goldenBase.Unix()), "", nil)
	infl("/write", "no credentials", http.MethodPost, "/write?db="+ws.DB, lines, "", nil)
	infl("/write", "unknown token", http.MethodPost, "/write?db="+ws.DB, lines, "tkn_"+strings.Repeat("0", 32), nil)
	infl("/write", "other database", http.MethodPost, "/write?db="+other.DB, lines, ws.Token, nil)
	infl("/write", "bad line protocol", http.MethodPost, "/write?db="+ws.DB, "mem used=\n", ws.Token, nil)
	infl("/write", "partial write", http.MethodPost, "/write?db="+ws.DB, goldenLines("mem,host=a used=1i", "mem used=", "mem,host=z used=3i"), ws.Token, nil)
	infl("/write", "field type conflict", http.MethodPost, "/write?db="+ws.DB, goldenLines(`mem,host=a used="x"`), ws.Token, nil)
	infl("/write", "unknown rp", http.MethodPost, "/write?db="+ws.DB+"&rp=nope", lines, ws.Token, nil)
	infl("/write", "bad precision", http.MethodPost, "/write?db="+ws.DB+"&precision=weeks", lines, ws.Token, nil)
	infl("/write", "wrong method", http.MethodGet, "/write?db="+ws.DB, "", ws.Token, nil)

	// /query
	form := func(kv ...string) string {
		v := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v.Encode()
	}
	qs := func(kv ...string) string { return "/query?" + form(kv...) }
	infl("/query", "select", http.MethodGet, qs("db", ws.DB, "q", "SELECT used, free FROM mem"), "", ws.Token, nil)
	infl("/query", "epoch ms", http.MethodGet, qs("db", ws.DB, "q", "SELECT used FROM mem", "epoch", "ms"), "", ws.Token, nil)
	infl("/query", "csv", http.MethodGet, qs("db", ws.DB, "q", "SELECT used FROM mem WHERE host = 'a'"), "", ws.Token, map[string]string{"Accept": "application/csv"})
	infl("/query", "pretty", http.MethodGet, qs("db", ws.DB, "q", "SHOW MEASUREMENTS", "pretty", "true"), "", ws.Token, nil)
	infl("/query", "chunked", http.MethodGet, qs("db", ws.DB, "q", "SELECT used FROM mem", "chunked", "true", "chunk_size", "1"), "", ws.Token, nil)
	infl("/query", "form post", http.MethodPost, "/query", form("db", ws.DB, "q", "SHOW TAG KEYS FROM mem", "p", ws.Token), "", map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	infl("/query", "statement error", http.MethodGet, qs("db", ws.DB, "q", "SELECT used FROM mem GROUP BY time(1m)"), "", ws.Token, nil)
	infl("/query", "parse error", http.MethodGet, qs("db", ws.DB, "q", "SELEC used FROM mem"), "", ws.Token, nil)
	infl("/query", "missing q", http.MethodGet, qs("db", ws.DB), "", ws.Token, nil)
	infl("/query", "no credentials", http.MethodGet, qs("db", ws.DB, "q", "SHOW MEASUREMENTS"), "", "", nil)
	infl("/query", "unknown token", http.MethodGet, qs("db", ws.DB, "q", "SHOW MEASUREMENTS"), "", "tkn_"+strings.Repeat("0", 32), nil)
	infl("/query", "other database", http.MethodGet, qs("db", other.DB, "q", "SHOW MEASUREMENTS"), "", ws.Token, nil)
	infl("/query", "drop database refused", http.MethodPost, qs("db", ws.DB, "q", "DROP DATABASE "+ws.DB), "", ws.Token, nil)
	infl("/query", "wrong method", http.MethodPut, qs("db", ws.DB, "q", "SHOW MEASUREMENTS"), "", ws.Token, nil)

	// /api/v2/write, /api/v2/buckets, /api/v2/query
	tok := map[string]string{"Authorization": "Token " + ws.Token}
	infl("/api/v2/write", "ok", http.MethodPost, "/api/v2/write?org=x&bucket="+ws.DB+"/autogen", goldenLines("disk,host=a used=7i"), "", tok)
	infl("/api/v2/write", "precision s", http.MethodPost, "/api/v2/write?bucket="+ws.DB+"&precision=s", fmt.Sprintf("disk,host=b used=8i %d\n", goldenBase.Unix()), "", tok)
	infl("/api/v2/write", "missing bucket", http.MethodPost, "/api/v2/write?org=x", goldenLines("disk used=1i"), "", tok)
	infl("/api/v2/write", "other bucket", http.MethodPost, "/api/v2/write?bucket="+other.DB, goldenLines("disk used=1i"), "", tok)
	infl("/api/v2/write", "unknown rp", http.MethodPost, "/api/v2/write?bucket="+ws.DB+"/nope", goldenLines("disk used=1i"), "", tok)
	infl("/api/v2/write", "no credentials", http.MethodPost, "/api/v2/write?bucket="+ws.DB, goldenLines("disk used=1i"), "", nil)
	infl("/api/v2/write", "bad line protocol", http.MethodPost, "/api/v2/write?bucket="+ws.DB, "disk used=\n", "", tok)
	infl("/api/v2/buckets", "ok", http.MethodGet, "/api/v2/buckets", "", "", tok)
	infl("/api/v2/buckets", "by name", http.MethodGet, "/api/v2/buckets?name="+ws.DB+"/autogen", "", "", tok)
	infl("/api/v2/buckets", "no credentials", http.MethodGet, "/api/v2/buckets", "", "", nil)
	infl("/api/v2/buckets", "wrong method", http.MethodPost, "/api/v2/buckets", "", "", tok)
	infl("/api/v2/query", "flux", http.MethodPost, "/api/v2/query?org=x", `from(bucket:"`+ws.DB+`") |> range(start: -1h)`, "", tok)
	infl("/api/v2/query", "json flux", http.MethodPost, "/api/v2/query?org=x", `{"query":"from(bucket:\"x\")","type":"flux"}`, "", map[string]string{"Authorization": "Token " + ws.Token, "Content-Type": "application/json"})
	infl("/api/v2/query", "wrong method", http.MethodGet, "/api/v2/query", "", "", tok)

	// Prometheus remote write and read: snappy-compressed protobuf.
	wr := &remote.WriteRequest{Timeseries: []*remote.TimeSeries{
		{Labels: []*remote.LabelPair{{Name: "__name__", Value: "up"}, {Name: "job", Value: "node"}},
			Samples: []*remote.Sample{{Value: 1, TimestampMs: goldenBase.UnixMilli()}, {Value: 0, TimestampMs: goldenBase.UnixMilli() + 1000}}},
	}}
	prom := func(ep, name, path string, msg interface{ Marshal() ([]byte, error) }, shown, password string) *goldenExchange {
		raw, err := msg.Marshal()
		require.NoError(t, err)
		return g.record(goldenReq{endpoint: ep, name: name, method: http.MethodPost, path: path, body: snappy.Encode(nil, raw),
			shown: "snappy(protobuf " + shown + ")", basicAuth: password,
			header: map[string]string{"Content-Encoding": "snappy", "Content-Type": "application/x-protobuf", "X-Prometheus-Remote-Write-Version": "0.1.0"}})
	}
	prom("/api/v1/prom/write", "ok", "/api/v1/prom/write?db="+ws.DB+"&rp=autogen", wr, "up{job=node} 1, 0", ws.Token)
	prom("/api/v1/prom/write", "other database", "/api/v1/prom/write?db="+other.DB, wr, "up{job=node} 1, 0", ws.Token)
	prom("/api/v1/prom/write", "no credentials", "/api/v1/prom/write?db="+ws.DB, wr, "up{job=node} 1, 0", "")
	prom("/api/v1/prom/write", "unknown rp", "/api/v1/prom/write?db="+ws.DB+"&rp=nope", wr, "up{job=node} 1, 0", ws.Token)
	g.record(goldenReq{endpoint: "/api/v1/prom/write", name: "not snappy", method: http.MethodPost, path: "/api/v1/prom/write", body: []byte("not snappy"),
		basicAuth: ws.Token, header: map[string]string{"Content-Encoding": "snappy"}})
	rr := func(ms ...*remote.LabelMatcher) *remote.ReadRequest {
		return &remote.ReadRequest{Queries: []*remote.Query{{StartTimestampMs: goldenBase.UnixMilli() - 1000, EndTimestampMs: goldenBase.UnixMilli() + 10000, Matchers: ms}}}
	}
	x := prom("/api/v1/prom/read", "ok", "/api/v1/prom/read?db="+ws.DB+"&rp=autogen", rr(&remote.LabelMatcher{Type: remote.MatchType_EQUAL, Name: "__name__", Value: "up"}), `read __name__="up"`, ws.Token)
	if x.status == 200 {
		// The golden file keeps the bytes; check here that they decode.
		raw, err := snappy.Decode(nil, x.body)
		require.NoError(t, err)
		var resp remote.ReadResponse
		require.NoError(t, resp.Unmarshal(raw))
		require.Len(t, resp.Results, 1)
		require.Len(t, resp.Results[0].Timeseries, 1, "the samples written above")
	}
	prom("/api/v1/prom/read", "bad regex", "/api/v1/prom/read?db="+ws.DB, rr(&remote.LabelMatcher{Type: remote.MatchType_REGEX_MATCH, Name: "job", Value: "("}), `read job=~"("`, ws.Token)
	prom("/api/v1/prom/read", "no credentials", "/api/v1/prom/read?db="+ws.DB, rr(&remote.LabelMatcher{Type: remote.MatchType_EQUAL, Name: "__name__", Value: "up"}), `read __name__="up"`, "")
	g.record(goldenReq{endpoint: "/api/v1/prom/read", name: "not snappy", method: http.MethodPost, path: "/api/v1/prom/read?db=" + ws.DB, body: []byte("not snappy"),
		basicAuth: ws.Token, header: map[string]string{"Content-Encoding": "snappy"}})
}

// goldenCK sends the /v1/ck/ cases; without ClickHouse they record the
// answer of a gateway that has none configured.
func goldenCK(t *testing.T, g *goldenRecorder, ws workspace) {
	g.get("/v1/ck/status", "get", "/v1/ck/status")
	g.post("/v1/ck/status", "wrong method", "/v1/ck/status", nil)
	g.post("/v1/ck/create_db", "ok", "/v1/ck/create_db?db_uuid="+ws.DBUUID, nil)
	g.post("/v1/ck/create_db", "unknown db", "/v1/ck/create_db?db_uuid=ifdb_"+strings.Repeat("0", 32), nil)
	g.post("/v1/ck/create_db", "missing db_uuid", "/v1/ck/create_db", nil)
	g.post("/v1/ck/read/metrics", "ok", "/v1/ck/read/metrics", []map[string]any{{"db_uuid": ws.DBUUID, "command": "SELECT host, usage FROM cpu ORDER BY host"}})
	g.post("/v1/ck/read/metrics", "refused statement", "/v1/ck/read/metrics", []map[string]any{{"db_uuid": ws.DBUUID, "command": "DROP TABLE cpu"}})
	g.post("/v1/ck/read/metrics", "unknown db", "/v1/ck/read/metrics", []map[string]any{{"db_uuid": "ifdb_" + strings.Repeat("0", 32), "command": "SELECT 1"}})
	g.post("/v1/ck/read/metrics", "one object, not an array", "/v1/ck/read/metrics", map[string]any{"db_uuid": ws.DBUUID, "command": "SELECT 1"})
	g.post("/v1/ck/read/metrics", "bad JSON", "/v1/ck/read/metrics", `[{"db_uuid":`)
	g.post("/v1/ck/read/metrics", "wrong field type", "/v1/ck/read/metrics", `[{"db_uuid":"`+ws.DBUUID+`","command":1}]`)
	g.get("/v1/ck/tablelist", "ok", "/v1/ck/tablelist?db_uuid="+ws.DBUUID+"&type=table")
	g.get("/v1/ck/tablelist", "bad type", "/v1/ck/tablelist?db_uuid="+ws.DBUUID+"&type=nope")
	g.get("/v1/ck/tablelist", "unknown db", "/v1/ck/tablelist?db_uuid=ifdb_"+strings.Repeat("0", 32))
	g.get("/v1/ck/tableinfo", "ok", "/v1/ck/tableinfo?db_uuid="+ws.DBUUID+"&table_name=cpu")
	g.get("/v1/ck/tableinfo", "unknown table", "/v1/ck/tableinfo?db_uuid="+ws.DBUUID+"&table_name=nope")
	g.get("/v1/ck/tableinfo", "missing table_name", "/v1/ck/tableinfo?db_uuid="+ws.DBUUID)
	g.post("/v1/ck/drop/metrics", "ok", "/v1/ck/drop/metrics", map[string]any{"db_uuid": ws.DBUUID, "table_name": "cpu"})
	g.post("/v1/ck/drop/metrics", "unknown db", "/v1/ck/drop/metrics", map[string]any{"db_uuid": "ifdb_" + strings.Repeat("0", 32), "table_name": "cpu"})
	g.post("/v1/ck/drop/metrics", "wrong field type", "/v1/ck/drop/metrics", `{"db_uuid":"`+ws.DBUUID+`","table_name":5}`)
}

func goldenCKUnconfigured(t *testing.T, g *goldenRecorder) {
	goldenCK(t, g, goldenWorkspace(t, g, "ck"))
}

// TestGoldenClickHouse records the /v1/ck/ answers of a gateway with
// ClickHouse (KODO_TEST_CLICKHOUSE_DSN, set by .ci/run) in
// testdata/golden/*.clickhouse.json.
func TestGoldenClickHouse(t *testing.T) {
	start := time.Now()
	h, _ := clickHouseHarness(t)
	g := newGoldenRecorder(t, h)
	ws := goldenWorkspace(t, g, "ck")
	// Points for the table cases: written through the queue, so wait
	// (unrecorded) until ClickHouse has them.
	x := g.send(goldenReq{method: http.MethodPost, path: "/v1/ck/create_db?db_uuid=" + ws.DBUUID})
	require.Equal(t, 200, x.status, "%s", x.body)
	x = g.send(goldenReq{method: http.MethodPost, path: "/v1/write", body: []byte(goldenLines("cpu,host=a usage=1.5,count=3i", "cpu,host=b usage=2.5,count=4i")),
		token: ws.Token, secret: ws.Secret})
	require.Equal(t, 200, x.status, "%s", x.body)
	eventually(t, "ClickHouse has the points", func() bool {
		x := g.send(goldenReq{method: http.MethodPost, path: "/v1/ck/read/metrics", body: jsonBody(t, []map[string]any{{"db_uuid": ws.DBUUID, "command": "SELECT count() AS n FROM cpu"}})})
		return x.status == 200 && bytes.Contains(x.body, []byte(`[2]`))
	})
	goldenCK(t, g, ws)
	ck := make([]string, 0, 6)
	for _, ep := range goldenEndpoints {
		if strings.HasPrefix(ep, "/v1/ck/") {
			ck = append(ck, ep)
		}
	}
	g.checkCoverage(ck, func(string) bool { return true })
	g.check(start, ".clickhouse")
}
