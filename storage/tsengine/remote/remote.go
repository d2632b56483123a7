package remote

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/influxdata/influxql"

	"github.com/kodo-project/kodo/lineproto"
	"github.com/kodo-project/kodo/storage/tsengine"
)

// Options configure a remote engine. The zero value works against an
// InfluxDB without authentication.
type Options struct {
	// HTTPClient sends the requests (nil = a client of its own).
	HTTPClient *http.Client
	// Username and Password are sent as basic auth when Username is set.
	Username, Password string
	// Logger receives one debug line per failed request (nil = discard).
	Logger *slog.Logger
	// Timeout bounds each request on top of its context (0 = 30s).
	Timeout time.Duration
}

// Engine talks to one InfluxDB 1.x instance over its HTTP API. It
// implements tsengine.Engine and is safe for concurrent use.
type Engine struct {
	base    *url.URL
	client  *http.Client
	user    string
	pass    string
	log     *slog.Logger
	timeout time.Duration
	owned   bool // client was made here, so Close may drop its connections
	fields  fieldCache

	mu     sync.RWMutex
	closed bool
}

var _ tsengine.Engine = (*Engine)(nil)

// New returns an engine for the InfluxDB at baseURL (e.g.
// "http://127.0.0.1:8086"). It does not contact the server; use Ping.
func New(baseURL string, opts Options) (*Engine, error) {
	u, err := url.Parse(baseURL)
	if err != nil {
		return nil, fmt.Errorf("remote: bad InfluxDB URL %q: %w", baseURL, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("remote: bad InfluxDB URL %q: want http(s)://host:port", baseURL)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	e := &Engine{base: u, client: opts.HTTPClient, user: opts.Username, pass: opts.Password, log: opts.Logger, timeout: opts.Timeout}
	if e.client == nil {
		e.client, e.owned = &http.Client{}, true
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	if e.timeout <= 0 {
		e.timeout = 30 * time.Second
	}
	return e, nil
}

// Close stops the engine from taking new calls once those in flight end.
func (e *Engine) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.closed = true
	if e.owned {
		e.client.CloseIdleConnections()
	}
	return nil
}

func (e *Engine) enter() error {
	e.mu.RLock()
	if e.closed {
		e.mu.RUnlock()
		return fmt.Errorf("%w: remote engine %s is closed", tsengine.ErrUnavailable, e.base.Redacted())
	}
	return nil
}

func (e *Engine) leave() { e.mu.RUnlock() }

// apiError is a non-2xx answer from InfluxDB.
type apiError struct {
	Status int
	Msg    string
}

func (a *apiError) Error() string { return fmt.Sprintf("influxdb answered %d: %s", a.Status, a.Msg) }

// do sends a request and returns the body of a 2xx answer. Transport
// errors and 5xx answers wrap tsengine.ErrUnavailable; other answers are
// an *apiError; a done ctx wins over both.
func (e *Engine) do(parent context.Context, method, path string, params url.Values, body io.Reader, hdr http.Header) ([]byte, error) {
	return e.doMax(parent, method, path, params, body, hdr, 0)
}

// doMax is do reading at most max bytes of a 2xx answer (0 = no bound);
// past it the answer is a *tsengine.LimitError.
func (e *Engine) doMax(parent context.Context, method, path string, params url.Values, body io.Reader, hdr http.Header, max int64) ([]byte, error) {
	ctx, cancel := context.WithTimeout(parent, e.timeout)
	defer cancel()
	u := *e.base
	u.Path += path
	u.RawQuery = params.Encode()
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, fmt.Errorf("remote: %w", err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	if e.user != "" {
		req.SetBasicAuth(e.user, e.pass)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		// The caller's deadline is the caller's business; Options.Timeout
		// running out means InfluxDB is too slow: unavailable.
		if ctxErr := parent.Err(); ctxErr != nil {
			return nil, fmt.Errorf("remote: %s %s: %w", method, path, ctxErr)
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%w: %s %s: no answer within %s", tsengine.ErrUnavailable, method, path, e.timeout)
		}
		e.log.Debug("influxdb request failed", "method", method, "path", path, "err", err)
		return nil, fmt.Errorf("%w: %s %s: %v", tsengine.ErrUnavailable, method, path, err)
	}
	defer resp.Body.Close()
	rd := io.Reader(resp.Body)
	if max > 0 && resp.StatusCode/100 == 2 {
		rd = io.LimitReader(resp.Body, max+1)
	}
	data, err := io.ReadAll(rd)
	if max > 0 && int64(len(data)) > max {
		return nil, tsengine.AnswerTooLarge(max)
	}
	if err != nil {
		if ctxErr := parent.Err(); ctxErr != nil {
			return nil, fmt.Errorf("remote: %s %s: %w", method, path, ctxErr)
		}
		return nil, fmt.Errorf("%w: %s %s: reading answer: %v", tsengine.ErrUnavailable, method, path, err)
	}
	if resp.StatusCode/100 == 2 {
		return data, nil
	}
	msg := strings.TrimSpace(string(data))
	var body1 struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(data, &body1) == nil && body1.Error != "" {
		msg = body1.Error
	}
	e.log.Debug("influxdb request refused", "method", method, "path", path, "status", resp.StatusCode, "msg", msg)
	if resp.StatusCode >= 500 {
		return nil, fmt.Errorf("%w: %s %s: %w", tsengine.ErrUnavailable, method, path, &apiError{resp.StatusCode, msg})
	}
	return nil, &apiError{resp.StatusCode, msg}
}

// Ping checks that InfluxDB answers /ping.
func (e *Engine) Ping(ctx context.Context) error {
	if err := e.enter(); err != nil {
		return err
	}
	defer e.leave()
	_, err := e.do(ctx, http.MethodGet, "/ping", nil, nil, nil)
	return err
}

var gzipPool = sync.Pool{New: func() any { return gzip.NewWriter(nil) }}

// partialRe reads InfluxDB's partial write answer ("partial write: <reason> dropped=<n>").
var partialRe = regexp.MustCompile(`(?s)^partial write: (.*) dropped=(\d+)$`)

// WritePoints sends b as gzipped line protocol to /write and returns once
// InfluxDB acknowledged it with 204 (InfluxDB answers after its WAL
// fsync). Points InfluxDB 1.x cannot express (see the embedded engine) are
// not sent and are counted in the *tsengine.PartialWriteError.
func (e *Engine) WritePoints(ctx context.Context, db, rp string, b *lineproto.Batch) error {
	if err := e.enter(); err != nil {
		return err
	}
	defer e.leave()
	if db == "" {
		return fmt.Errorf("remote: %w: empty database name", tsengine.ErrDatabaseNotFound)
	}
	// Field types are checked against every shard (influxd checks only
	// the one a point lands in).
	refused, dropped, drops := e.checkFields(ctx, db, b)
	var idx []int // batch indices of the points not sent
	for i, r := range refused {
		if r {
			idx = append(idx, i)
		}
	}
	var body bytes.Buffer
	zw := gzipPool.Get().(*gzip.Writer)
	defer gzipPool.Put(zw)
	zw.Reset(&body)
	var line []byte
	sent := 0
	for i := 0; b != nil && i < b.Len(); i++ {
		if refused != nil && refused[i] {
			continue
		}
		var err error
		line, err = lineproto.AppendPoint(line[:0], b.At(i), tsengine.LineOptions)
		if err != nil {
			dropped++
			drops = appendReason(drops, err.Error())
			idx = append(idx, i)
			continue
		}
		_, _ = zw.Write(line) // writes to a bytes.Buffer cannot fail
		sent++
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("remote: gzip: %w", err)
	}
	if sent == 0 {
		// Nothing to send, but a write to a missing database or policy
		// must still fail like the embedded engine's.
		if err := e.checkTarget(ctx, db, rp); err != nil {
			return err
		}
		return partialErr(dropped, drops, idx)
	}
	params := url.Values{"db": {db}, "precision": {"n"}}
	if rp != "" {
		params.Set("rp", rp)
	}
	hdr := http.Header{"Content-Encoding": {"gzip"}, "Content-Type": {"text/plain; charset=utf-8"}}
	_, err := e.do(ctx, http.MethodPost, "/write", params, &body, hdr)
	if err != nil {
		// What this write reserved may not be stored: read the types again.
		e.forgetFields(db)
	}
	var ae *apiError
	if errors.As(err, &ae) {
		// influxd answers 404 for a missing database but 500 for a missing
		// policy: look at the message before the status.
		switch {
		case ae.Status == http.StatusNotFound || strings.HasPrefix(ae.Msg, "database not found"):
			return fmt.Errorf("remote: %w: %q", tsengine.ErrDatabaseNotFound, db)
		case strings.HasPrefix(ae.Msg, "retention policy not found"):
			return fmt.Errorf("remote: %w: %q on database %q", tsengine.ErrRetentionPolicyNotFound, rp, db)
		}
	}
	if ae != nil && ae.Status < 500 {
		if m := partialRe.FindStringSubmatch(ae.Msg); m != nil {
			n, _ := strconv.Atoi(m[2])
			// influxd does not say which points it refused.
			return partialErr(dropped+n, appendReason(drops, m[1]), nil)
		}
		return fmt.Errorf("remote: write to %q: %w", db, err)
	}
	if err != nil {
		return err
	}
	return partialErr(dropped, drops, idx)
}

func appendReason(rs []string, r string) []string {
	if slices.Contains(rs, r) {
		return rs
	}
	return append(rs, r)
}

// partialErr reports n refused points; refused names them (ascending
// batch indices) when it holds them all.
func partialErr(n int, reasons []string, refused []int) error {
	if n == 0 {
		return nil
	}
	pwe := &tsengine.PartialWriteError{Dropped: n, Reason: strings.Join(reasons, "; ")}
	if len(refused) == n {
		pwe.Refused = slices.Sorted(slices.Values(refused))
	}
	return pwe
}

// checkTarget fails when db or rp does not exist.
func (e *Engine) checkTarget(ctx context.Context, db, rp string) error {
	res, err := e.query(ctx, "", fmt.Sprintf("SHOW RETENTION POLICIES ON %s", influxql.QuoteIdent(db)), "", 0)
	if err != nil {
		return err
	}
	if rp == "" {
		return nil
	}
	for _, r := range res {
		for _, row := range r.Series {
			for _, v := range row.Values {
				if len(v) > 0 && v[0] == rp {
					return nil
				}
			}
		}
	}
	return fmt.Errorf("remote: %w: %q on database %q", tsengine.ErrRetentionPolicyNotFound, rp, db)
}

// Query runs q on InfluxDB with db as the default database. Statement
// errors come back in Result.Err, except "database not found", returned as
// an error wrapping tsengine.ErrDatabaseNotFound.
func (e *Engine) Query(ctx context.Context, db string, q *influxql.Query, opt tsengine.QueryOptions) ([]tsengine.Result, error) {
	if q == nil || len(q.Statements) == 0 {
		return nil, errors.New("remote: empty query")
	}
	if _, err := tsengine.EpochUnit(opt.Epoch); err != nil {
		return nil, fmt.Errorf("remote: %w", err)
	}
	if err := e.enter(); err != nil {
		return nil, err
	}
	defer e.leave()
	if tsengine.Deletes(q) {
		defer e.forgetFields("") // field types may have gone with the data
	}
	res, err := e.queryRP(ctx, db, q.String(), opt.Epoch, opt.RetentionPolicy, opt.Typed, opt.MaxAnswerBytes)
	if err != nil || db == "" || !tsengine.HasEmptyResult(res) {
		return res, err
	}
	// SHOW MEASUREMENTS and the like answer nothing, not an error, on a
	// missing database; tell the two apart like the embedded engine does.
	dbs, err := e.query(ctx, "", "SHOW DATABASES", "", 0)
	if err != nil {
		return nil, err
	}
	for _, r := range dbs {
		for _, row := range r.Series {
			for _, v := range row.Values {
				if len(v) > 0 && v[0] == db {
					return res, nil
				}
			}
		}
	}
	return nil, fmt.Errorf("remote: %w: %s", tsengine.ErrDatabaseNotFound, db)
}

func (e *Engine) query(ctx context.Context, db, q, epoch string, maxAnswer int64) ([]tsengine.Result, error) {
	return e.queryRP(ctx, db, q, epoch, "", false, maxAnswer)
}

// queryRP is query with rp= set (the RP of statements that name none),
// reading the MessagePack answer when typed (see msgpack.go).
func (e *Engine) queryRP(ctx context.Context, db, q, epoch, rp string, typed bool, maxAnswer int64) ([]tsengine.Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("remote: query not started: %w", err)
	}
	form := url.Values{"q": {q}}
	if db != "" {
		form.Set("db", db)
	}
	if epoch != "" {
		form.Set("epoch", epoch)
	}
	if rp != "" {
		form.Set("rp", rp)
	}
	hdr := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	if typed {
		hdr.Set("Accept", msgpackType)
	}
	data, err := e.doMax(ctx, http.MethodPost, "/query", nil, strings.NewReader(form.Encode()), hdr, maxAnswer)
	var ae *apiError
	if typed && errors.As(err, &ae) {
		ae.Msg = msgpackError(ae.Msg)
	}
	if errors.As(err, &ae) && ae.Status < 500 {
		if name, ok := strings.CutPrefix(ae.Msg, "database not found: "); ok {
			return nil, fmt.Errorf("remote: %w: %s", tsengine.ErrDatabaseNotFound, name)
		}
		return nil, fmt.Errorf("remote: query: %w", err)
	}
	if err != nil {
		return nil, err
	}
	var resp struct {
		Results []tsengine.Result `json:"results"`
		Err     string            `json:"error"`
	}
	if typed {
		resp.Results, resp.Err, err = decodeMsgpackResults(data)
		if err != nil {
			return nil, err
		}
	} else {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber() // numbers stay json.Number, as the embedded engine gives them
		if err := dec.Decode(&resp); err != nil {
			return nil, fmt.Errorf("remote: decoding query answer: %w", err)
		}
	}
	if resp.Err != "" {
		return nil, fmt.Errorf("remote: query: %s", resp.Err)
	}
	for _, r := range resp.Results {
		if name, ok := strings.CutPrefix(r.Err, "database not found: "); ok {
			return nil, fmt.Errorf("remote: %w: %s", tsengine.ErrDatabaseNotFound, name)
		}
	}
	if err := tsengine.LimitFromResults(resp.Results); err != nil {
		return nil, err
	}
	return resp.Results, nil
}

// exec runs statements that must all succeed.
func (e *Engine) exec(ctx context.Context, db string, stmts ...influxql.Statement) ([]tsengine.Result, error) {
	res, err := e.query(ctx, db, (&influxql.Query{Statements: stmts}).String(), "", 0)
	if err != nil {
		return nil, err
	}
	for _, r := range res {
		if r.Err != "" {
			return res, fmt.Errorf("remote: %s: %s", stmts[min(r.StatementID, len(stmts)-1)], r.Err)
		}
	}
	return res, nil
}

// CreateDatabase creates db and makes every listed retention policy exist
// with its duration, creating or altering as needed.
func (e *Engine) CreateDatabase(ctx context.Context, db string, rps []tsengine.RetentionPolicy) error {
	if err := tsengine.ValidateRetentionPolicies(db, rps); err != nil {
		return err
	}
	if err := e.enter(); err != nil {
		return err
	}
	defer e.leave()
	res, err := e.exec(ctx, "",
		&influxql.CreateDatabaseStatement{Name: db},
		&influxql.ShowRetentionPoliciesStatement{Database: db})
	if err != nil {
		return err
	}
	type cur struct {
		duration, shard string
		isDefault       bool
	}
	existing := map[string]cur{}
	if len(res) == 2 {
		for _, row := range res[1].Series {
			for _, v := range row.Values {
				if len(v) >= 5 {
					name, _ := v[0].(string)
					d, _ := v[1].(string)
					s, _ := v[2].(string)
					def, _ := v[4].(bool)
					existing[name] = cur{d, s, def}
				}
			}
		}
	}
	var stmts []influxql.Statement
	for _, rp := range rps {
		d, sgd := rp.Duration, tsengine.ShardGroupDuration(rp.Duration)
		c, ok := existing[rp.Name]
		switch {
		case !ok:
			stmts = append(stmts, &influxql.CreateRetentionPolicyStatement{
				Name: rp.Name, Database: db, Duration: d, Replication: 1, ShardGroupDuration: sgd, Default: rp.Default,
			})
		case c.duration != d.String() || c.shard != sgd.String() || (rp.Default && !c.isDefault):
			stmts = append(stmts, &influxql.AlterRetentionPolicyStatement{
				Name: rp.Name, Database: db, Duration: &d, ShardGroupDuration: &sgd, Default: rp.Default,
			})
		}
	}
	if len(stmts) == 0 {
		return nil
	}
	res, err = e.query(ctx, "", (&influxql.Query{Statements: stmts}).String(), "", 0)
	if err != nil {
		return err
	}
	for _, r := range res {
		if r.Err != "" && r.StatementID < len(stmts) {
			name := ""
			switch s := stmts[r.StatementID].(type) {
			case *influxql.CreateRetentionPolicyStatement:
				name = s.Name
			case *influxql.AlterRetentionPolicyStatement:
				name = s.Name
			}
			return &tsengine.RetentionPolicyError{Database: db, Name: name, Reason: r.Err}
		}
	}
	return nil
}

// DropDatabase drops db; a missing db is not an error.
func (e *Engine) DropDatabase(ctx context.Context, db string) error {
	if db == "" {
		return errors.New("remote: database name is empty")
	}
	if err := e.enter(); err != nil {
		return err
	}
	defer e.leave()
	defer e.forgetFields(db)
	_, err := e.exec(ctx, "", &influxql.DropDatabaseStatement{Name: db})
	return err
}

// DropMeasurement drops measurement from db; a missing measurement is not
// an error, a missing database is tsengine.ErrDatabaseNotFound.
func (e *Engine) DropMeasurement(ctx context.Context, db, measurement string) error {
	if measurement == "" {
		return errors.New("remote: measurement name is empty")
	}
	if err := e.enter(); err != nil {
		return err
	}
	defer e.leave()
	defer e.forgetFields(db)
	res, err := e.query(ctx, db, (&influxql.DropMeasurementStatement{Name: measurement}).String(), "", 0)
	if err != nil {
		return err
	}
	for _, r := range res {
		if r.Err != "" && !strings.Contains(r.Err, "measurement not found") {
			return fmt.Errorf("remote: drop measurement %q on %q: %s", measurement, db, r.Err)
		}
	}
	return nil
}
