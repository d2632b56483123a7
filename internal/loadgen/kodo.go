package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/kodo-project/kodo/signer"
)

// KodoTarget loads a Kodo gateway: workspaces through
// /v1/workspace/create, DATAFLUX-signed gzipped writes to
// /v1/write/metrics (or, from NewKodoInfluxTarget, InfluxDB-style writes
// to /write with the workspace token), reads through /v1/read/metrics.
type KodoTarget struct {
	base     *url.URL
	adminKey string
	rt       http.RoundTripper // shared loopback transport
	plain    *http.Client      // management and reads
	timeout  time.Duration
	prefix   string
	// influxWrite: writes go to /write?db=&precision=ns with
	// Authorization: Token, the path InfluxDB clients use.
	influxWrite bool
}

// TargetOptions tune a target's HTTP client.
type TargetOptions struct {
	// Transport is the shared transport; nil = LoopbackTransport(Conns).
	// Tests may pass another, but the target URL is still checked.
	Transport http.RoundTripper
	Conns     int           // idle connections kept, default 8
	Timeout   time.Duration // per request, default 60s
	AdminKey  string        // Kodo: Authorization: Bearer for management
	// NamePrefix names what Setup creates (workspaces, databases); default
	// "kodobench_<unix seconds>" so runs never collide.
	NamePrefix string
}

func (o *TargetOptions) defaults() {
	if o.Conns <= 0 {
		o.Conns = 8
	}
	if o.Transport == nil {
		o.Transport = LoopbackTransport(o.Conns)
	}
	if o.Timeout <= 0 {
		o.Timeout = 60 * time.Second
	}
	if o.NamePrefix == "" {
		o.NamePrefix = fmt.Sprintf("kodobench_%d", time.Now().Unix())
	}
}

// NewKodoTarget checks that target is loopback and returns a KodoTarget.
func NewKodoTarget(target string, opt TargetOptions) (*KodoTarget, error) {
	u, err := CheckLoopback(target)
	if err != nil {
		return nil, err
	}
	opt.defaults()
	return &KodoTarget{
		base: u, adminKey: opt.AdminKey, rt: opt.Transport, timeout: opt.Timeout, prefix: opt.NamePrefix,
		plain: &http.Client{Transport: opt.Transport, Timeout: opt.Timeout, CheckRedirect: noRedirect},
	}, nil
}

// NewKodoInfluxTarget is NewKodoTarget writing through Kodo's InfluxDB
// 1.x /write endpoint instead of the signed /v1/write/metrics, with the
// same bodies: the comparison with influxd on the same endpoint.
func NewKodoInfluxTarget(target string, opt TargetOptions) (*KodoTarget, error) {
	t, err := NewKodoTarget(target, opt)
	if err != nil {
		return nil, err
	}
	t.influxWrite = true
	return t, nil
}

// Name is "kodo", or "kodo-influx" when writes go to /write.
func (t *KodoTarget) Name() string {
	if t.influxWrite {
		return "kodo-influx"
	}
	return "kodo"
}

func (t *KodoTarget) url(path string) string {
	return strings.TrimSuffix(t.base.String(), "/") + path
}

// kodoEnvelope is the /v1 answer.
type kodoEnvelope struct {
	Code      int             `json:"code"`
	Content   json.RawMessage `json:"content"`
	ErrorCode string          `json:"errorCode"`
	Message   string          `json:"message"`
}

// outcome turns an HTTP answer into an Outcome.
func kodoOutcome(status int, body []byte) (Outcome, kodoEnvelope) {
	var env kodoEnvelope
	jerr := json.Unmarshal(body, &env)
	o := Outcome{Status: status}
	switch {
	case status >= 200 && status < 300 && jerr == nil && (env.Code == 0 || env.Code == 200):
	case jerr != nil:
		o.Code = "unparsable-answer"
		o.Message = shorten(string(body), 200)
	default:
		o.Code = env.ErrorCode
		if o.Code == "" {
			o.Code = fmt.Sprintf("code-%d", env.Code)
		}
		o.Message = shorten(env.Message, 200)
	}
	return o, env
}

func (t *KodoTarget) manage(ctx context.Context, path string, payload any) (Outcome, kodoEnvelope, error) {
	b, err := json.Marshal(payload)
	if err != nil {
		return Outcome{}, kodoEnvelope{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url(path), bytes.NewReader(b))
	if err != nil {
		return Outcome{}, kodoEnvelope{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	if t.adminKey != "" {
		req.Header.Set("Authorization", "Bearer "+t.adminKey)
	}
	status, body, err := do(t.plain, req)
	if err != nil {
		return transportOutcome(err), kodoEnvelope{}, err
	}
	o, env := kodoOutcome(status, body)
	return o, env, nil
}

// Setup creates n workspaces named <prefix>_<i>.
func (t *KodoTarget) Setup(ctx context.Context, n int) ([]Workspace, error) {
	out := make([]Workspace, 0, n)
	for i := 0; i < n; i++ {
		o, env, err := t.manage(ctx, "/v1/workspace/create", map[string]string{"name": fmt.Sprintf("%s_%d", t.prefix, i)})
		if err != nil {
			return nil, &SetupError{Target: "kodo", Step: "POST /v1/workspace/create", Err: err}
		}
		if !o.OK() {
			return nil, &SetupError{Target: "kodo", Step: "POST /v1/workspace/create",
				Err: fmt.Errorf("HTTP %d %s: %s", o.Status, o.Code, o.Message)}
		}
		var c struct {
			Token  string `json:"token"`
			Secret string `json:"secret"`
			DBUUID string `json:"db_uuid"`
			DB     string `json:"db"`
		}
		if err := json.Unmarshal(env.Content, &c); err != nil || c.Token == "" || c.DBUUID == "" {
			return nil, &SetupError{Target: "kodo", Step: "POST /v1/workspace/create",
				Err: fmt.Errorf("answer without token/db_uuid: %s", shorten(string(env.Content), 200))}
		}
		tr := signer.NewDatafluxTransport(t.rt, c.Token, c.Secret, signer.AlgoSHA256)
		out = append(out, Workspace{
			Name: c.DB, DB: c.DBUUID, Token: c.Token,
			client: &http.Client{Transport: tr, Timeout: t.timeout, CheckRedirect: noRedirect},
		})
	}
	return out, nil
}

// Write posts one signed gzipped body (or an unsigned one to /write,
// authenticated by the workspace token).
func (t *KodoTarget) Write(ctx context.Context, ws Workspace, body []byte) Outcome {
	if t.influxWrite {
		return t.writeInflux(ctx, ws, body)
	}
	if ws.client == nil {
		return Outcome{Code: "no-client", Message: "workspace was not created by Setup"}
	}
	status, answer, err := postGzipLines(ctx, ws.client, t.url("/v1/write/metrics"), body, nil)
	if err != nil {
		return transportOutcome(err)
	}
	o, _ := kodoOutcome(status, answer)
	return o
}

func (t *KodoTarget) writeInflux(ctx context.Context, ws Workspace, body []byte) Outcome {
	u := t.url("/write") + "?" + url.Values{"db": {ws.Name}, "precision": {"ns"}}.Encode()
	status, answer, err := postGzipLines(ctx, t.plain, u, body, http.Header{"Authorization": {"Token " + ws.Token}})
	if err != nil {
		return transportOutcome(err)
	}
	return influxOutcome(status, answer)
}

// querySeries is one series of a query answer.
type querySeries struct {
	Columns []string `json:"columns"`
	Values  [][]any  `json:"values"`
}

// queryAnswer is the content of /v1/read/metrics and the body of
// InfluxDB's /query (encoding/json matches "Series" and "series" alike).
type queryAnswer struct {
	Error   string `json:"error"`
	Results []struct {
		Error  string        `json:"error"`
		Series []querySeries `json:"series"`
	} `json:"results"`
}

// check turns statement errors into an Outcome and counts result rows.
func (c *queryAnswer) check(o Outcome) Outcome {
	if c.Error != "" {
		return Outcome{Status: o.Status, Code: "query-error", Message: shorten(c.Error, 200)}
	}
	for _, r := range c.Results {
		if r.Error != "" {
			return Outcome{Status: o.Status, Code: "query-error", Message: shorten(r.Error, 200)}
		}
		for _, s := range r.Series {
			o.Rows += len(s.Values)
		}
	}
	return o
}

// count reads the smallest count_<field> of a count(*) answer: a point
// missing any field counts as missing. No series means zero points.
func (c *queryAnswer) count() (int64, error) {
	if len(c.Results) == 0 {
		return 0, errors.New("count(*) answered no result")
	}
	series := c.Results[0].Series
	if len(series) == 0 {
		return 0, nil
	}
	var least int64 = -1
	for _, s := range series {
		for _, row := range s.Values {
			for i, col := range s.Columns {
				if !strings.HasPrefix(col, "count") || i >= len(row) {
					continue
				}
				n, err := asInt(row[i])
				if err != nil {
					return 0, fmt.Errorf("count(*) column %s: %w", col, err)
				}
				if least < 0 || n < least {
					least = n
				}
			}
		}
	}
	if least < 0 {
		return 0, errors.New("count(*) answered no count column")
	}
	return least, nil
}

func decodeAnswer(b []byte) (*queryAnswer, error) {
	var c queryAnswer
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&c); err != nil {
		return nil, err
	}
	return &c, nil
}

func (t *KodoTarget) read(ctx context.Context, ws Workspace, q string) (Outcome, *queryAnswer) {
	o, env, err := t.manage(ctx, "/v1/read/metrics", map[string]string{"db": ws.DB, "command": q})
	if err != nil || !o.OK() {
		return o, nil
	}
	c, err := decodeAnswer(env.Content)
	if err != nil {
		return Outcome{Status: o.Status, Code: "unparsable-answer", Message: shorten(err.Error(), 200)}, nil
	}
	return c.check(o), c
}

// Query runs q through /v1/read/metrics.
func (t *KodoTarget) Query(ctx context.Context, ws Workspace, q string) Outcome {
	o, _ := t.read(ctx, ws, q)
	return o
}

// Count runs count(*) through /v1/read/metrics.
func (t *KodoTarget) Count(ctx context.Context, ws Workspace, measurement string) (int64, error) {
	return countOf(ws)(t.read(ctx, ws, countQuery(measurement)))
}

func countQuery(measurement string) string {
	return `SELECT count(*) FROM "` + measurement + `"`
}

// countOf reads the answer to countQuery in ws, for both targets.
func countOf(ws Workspace) func(Outcome, *queryAnswer) (int64, error) {
	return func(o Outcome, c *queryAnswer) (int64, error) {
		if !o.OK() {
			return 0, &VerifyError{Workspace: ws.Name, Err: fmt.Errorf("HTTP %d %s: %s", o.Status, o.Code, o.Message)}
		}
		n, err := c.count()
		if err != nil {
			return 0, &VerifyError{Workspace: ws.Name, Err: err}
		}
		return n, nil
	}
}

func asInt(v any) (int64, error) {
	switch x := v.(type) {
	case json.Number:
		return x.Int64()
	case float64:
		return int64(x), nil
	case nil:
		return 0, nil
	}
	return 0, fmt.Errorf("not a number: %v", v)
}

// Rewrite sends q to /v1/rewrite with downsampling and fill options, as a
// dashboard does before it queries; an item answered with an error entry
// counts as a failed request.
func (t *KodoTarget) Rewrite(ctx context.Context, ws Workspace, q string) Outcome {
	o, env, err := t.manage(ctx, "/v1/rewrite", map[string]any{
		"db_uuid": ws.DB,
		"sqls": []map[string]any{{
			"sql": q, "max_point": 120, "dimensions": []string{"time(1m)"}, "fill_opt": "null", "limit": 1000,
		}},
	})
	if err != nil || !o.OK() {
		return o
	}
	var items [][]struct {
		SQL   string `json:"sql"`
		Error string `json:"error"`
	}
	if err := json.Unmarshal(env.Content, &items); err != nil {
		return Outcome{Status: o.Status, Code: "unparsable-answer", Message: shorten(err.Error(), 200)}
	}
	for _, it := range items {
		for _, st := range it {
			if st.Error != "" {
				return Outcome{Status: o.Status, Code: "rewrite-error", Message: shorten(st.Error, 200)}
			}
			o.Rows++
		}
	}
	return o
}
