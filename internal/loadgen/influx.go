package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// InfluxTarget loads a stock InfluxDB 1.x server with the same data:
// CREATE DATABASE per workspace, gzipped /write?db=&precision=ns, /query.
type InfluxTarget struct {
	base   *url.URL
	client *http.Client
	prefix string
	// RPDuration is the default RP of each database, 90 days like Kodo's
	// rp3 so both servers use the same shard-group length (1 day).
	rpDuration time.Duration
}

// NewInfluxTarget checks that target is loopback and returns an
// InfluxTarget.
func NewInfluxTarget(target string, opt TargetOptions) (*InfluxTarget, error) {
	u, err := CheckLoopback(target)
	if err != nil {
		return nil, err
	}
	opt.defaults()
	return &InfluxTarget{
		base:       u,
		client:     &http.Client{Transport: opt.Transport, Timeout: opt.Timeout, CheckRedirect: noRedirect},
		prefix:     opt.NamePrefix,
		rpDuration: 90 * 24 * time.Hour,
	}, nil
}

// Name is "influxdb".
func (t *InfluxTarget) Name() string { return "influxdb" }

func (t *InfluxTarget) endpoint(path string, q url.Values) string {
	return strings.TrimSuffix(t.base.String(), "/") + path + "?" + q.Encode()
}

// influxOutcome classifies an answer: 2xx without a JSON "error" is OK;
// errors are grouped by the text before the first colon (influxd puts the
// specifics after it).
func influxOutcome(status int, body []byte) Outcome {
	o := Outcome{Status: status}
	var e struct {
		Error string `json:"error"`
	}
	if len(bytes.TrimSpace(body)) > 0 && json.Unmarshal(body, &e) == nil && e.Error != "" {
		class, _, _ := strings.Cut(e.Error, ":")
		o.Code = shorten(class, 60)
		o.Message = shorten(e.Error, 200)
		return o
	}
	if status < 200 || status >= 300 {
		o.Code = fmt.Sprintf("http-%d", status)
		o.Message = shorten(string(body), 200)
	}
	return o
}

func (t *InfluxTarget) query(ctx context.Context, db, q string) (Outcome, *queryAnswer) {
	v := url.Values{"q": {q}, "epoch": {"ms"}}
	if db != "" {
		v.Set("db", db)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.endpoint("/query", v), nil)
	if err != nil {
		return transportOutcome(err), nil
	}
	status, body, err := do(t.client, req)
	if err != nil {
		return transportOutcome(err), nil
	}
	o := influxOutcome(status, body)
	if !o.OK() {
		return o, nil
	}
	c, err := decodeAnswer(body)
	if err != nil {
		return Outcome{Status: status, Code: "unparsable-answer", Message: shorten(err.Error(), 200)}, nil
	}
	return c.check(o), c
}

// Setup creates n databases <prefix>_<i>, each with a 90-day default RP.
func (t *InfluxTarget) Setup(ctx context.Context, n int) ([]Workspace, error) {
	out := make([]Workspace, 0, n)
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("%s_%d", t.prefix, i)
		q := fmt.Sprintf(`CREATE DATABASE "%s" WITH DURATION %dh REPLICATION 1 NAME "rp3"`, name, int(t.rpDuration.Hours()))
		o, _ := t.query(ctx, "", q)
		if !o.OK() {
			return nil, &SetupError{Target: "influxdb", Step: q, Err: fmt.Errorf("HTTP %d %s: %s", o.Status, o.Code, o.Message)}
		}
		out = append(out, Workspace{Name: name, DB: name})
	}
	return out, nil
}

// Write posts one gzipped body to /write.
func (t *InfluxTarget) Write(ctx context.Context, ws Workspace, body []byte) Outcome {
	status, answer, err := postGzipLines(ctx, t.client, t.endpoint("/write", url.Values{"db": {ws.DB}, "precision": {"ns"}}), body, nil)
	if err != nil {
		return transportOutcome(err)
	}
	return influxOutcome(status, answer)
}

// Query runs q in the workspace's database.
func (t *InfluxTarget) Query(ctx context.Context, ws Workspace, q string) Outcome {
	o, _ := t.query(ctx, ws.DB, q)
	return o
}

// Count runs count(*) in the workspace's database.
func (t *InfluxTarget) Count(ctx context.Context, ws Workspace, measurement string) (int64, error) {
	return countOf(ws)(t.query(ctx, ws.DB, countQuery(measurement)))
}
