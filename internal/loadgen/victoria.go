package loadgen

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// VictoriaTarget loads a single-node VictoriaMetrics through its InfluxDB
// line-protocol endpoint, /write?db=, with the same gzipped bodies. It is
// a write-only target: VictoriaMetrics has no InfluxQL, so mixes with
// queries are refused. It stores field f of measurement m as the metric
// m_f with the label db, and Count reads it back with MetricsQL.
//
// VictoriaMetrics answers a write before it fsyncs it (it flushes every
// second or so); Kodo and influxd answer after. Reports should say so.
type VictoriaTarget struct {
	base   *url.URL
	client *http.Client
	prefix string
	fields []string
	window time.Duration // how far back Count looks
}

// NewVictoriaTarget checks that target is loopback and returns a
// VictoriaTarget; fields are the shape's field keys, window a duration
// that covers every generated point (the run's span and some margin).
func NewVictoriaTarget(target string, opt TargetOptions, fields []string, window time.Duration) (*VictoriaTarget, error) {
	u, err := CheckLoopback(target)
	if err != nil {
		return nil, err
	}
	opt.defaults()
	return &VictoriaTarget{
		base:   u,
		client: &http.Client{Transport: opt.Transport, Timeout: opt.Timeout, CheckRedirect: noRedirect},
		prefix: opt.NamePrefix, fields: fields, window: window,
	}, nil
}

// Name is "victoriametrics".
func (t *VictoriaTarget) Name() string { return "victoriametrics" }

func (t *VictoriaTarget) endpoint(path string, q url.Values) string {
	u := strings.TrimSuffix(t.base.String(), "/") + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u
}

// Setup names n databases: VictoriaMetrics creates nothing up front, the
// db= of a write becomes a label.
func (t *VictoriaTarget) Setup(ctx context.Context, n int) ([]Workspace, error) {
	out := make([]Workspace, 0, n)
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("%s_%d", t.prefix, i)
		out = append(out, Workspace{Name: name, DB: name})
	}
	return out, nil
}

// Write posts one gzipped body to /write.
func (t *VictoriaTarget) Write(ctx context.Context, ws Workspace, body []byte) Outcome {
	status, answer, err := postGzipLines(ctx, t.client, t.endpoint("/write", url.Values{"db": {ws.DB}, "precision": {"ns"}}), body, nil)
	if err != nil {
		return transportOutcome(err)
	}
	o := Outcome{Status: status}
	if status < 200 || status >= 300 {
		o.Code = fmt.Sprintf("http-%d", status)
		o.Message = shorten(string(answer), 200)
	}
	return o
}

// Query is not supported: VictoriaMetrics has no InfluxQL.
func (t *VictoriaTarget) Query(ctx context.Context, ws Workspace, q string) Outcome {
	return Outcome{Code: "unsupported", Message: "victoriametrics has no InfluxQL: run it with -mix write=1"}
}

// Count flushes VictoriaMetrics' in-memory buffers and returns the
// smallest number of samples of the measurement's fields in the
// workspace, asking until two answers agree (searches see flushed data
// with a short delay), for at most 30 s.
func (t *VictoriaTarget) Count(ctx context.Context, ws Workspace, measurement string) (int64, error) {
	if req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.endpoint("/internal/force_flush", nil), nil); err == nil {
		_, _, _ = do(t.client, req) // older servers lack it: the polling below still converges
	}
	deadline := time.Now().Add(30 * time.Second)
	last := int64(-1)
	for {
		n, err := t.countOnce(ctx, ws, measurement)
		if err != nil {
			return 0, &VerifyError{Workspace: ws.Name, Err: err}
		}
		if n == last || time.Now().After(deadline) {
			return n, nil
		}
		last = n
		select {
		case <-ctx.Done():
			return 0, &VerifyError{Workspace: ws.Name, Err: ctx.Err()}
		case <-time.After(time.Second):
		}
	}
}

func (t *VictoriaTarget) countOnce(ctx context.Context, ws Workspace, measurement string) (int64, error) {
	least := int64(-1)
	for _, f := range t.fields {
		q := fmt.Sprintf(`sum(count_over_time(%s{db=%q}[%ds]))`, measurement+"_"+f, ws.DB, int64(t.window.Seconds()))
		v := url.Values{"query": {q}, "time": {strconv.FormatInt(time.Now().Unix(), 10)}, "nocache": {"1"}}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.endpoint("/api/v1/query", v), nil)
		if err != nil {
			return 0, err
		}
		status, body, err := do(t.client, req)
		if err != nil {
			return 0, err
		}
		if status != http.StatusOK {
			return 0, fmt.Errorf("%s: HTTP %d: %s", q, status, shorten(string(body), 200))
		}
		var a struct {
			Data struct {
				Result []struct {
					Value []any `json:"value"`
				} `json:"result"`
			} `json:"data"`
		}
		if err := json.Unmarshal(body, &a); err != nil {
			return 0, fmt.Errorf("%s: %w", q, err)
		}
		var n int64
		if len(a.Data.Result) > 0 && len(a.Data.Result[0].Value) == 2 {
			s, _ := a.Data.Result[0].Value[1].(string)
			x, err := strconv.ParseFloat(s, 64)
			if err != nil {
				return 0, fmt.Errorf("%s: value %q: %w", q, s, err)
			}
			n = int64(x)
		}
		if least < 0 || n < least {
			least = n
		}
	}
	return max(least, 0), nil
}
