package kodoclient

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kodo-project/kodo/kodo/kodoapi"
	"github.com/kodo-project/kodo/lineproto"
	"github.com/kodo-project/kodo/signer"
	"github.com/kodo-project/kodo/tsdb/tsdbapi"
)

// Options configure a Client. Only the credentials of the calls you
// make are needed: Token (or AccessKey/SecretKey) for writes, AdminKey for
// management calls on a gateway that has one.
type Options struct {
	// Token is the workspace token (tkn_...) writes are signed with
	// (Authorization: DATAFLUX, X-Token).
	Token string
	// Secret is the token's secret; empty signs with the hex MD5 of the
	// body, as agents without a secret do.
	Secret string
	// Algo is the DATAFLUX HMAC (default signer.AlgoSHA256).
	Algo signer.Algo
	// AccessKey/SecretKey, when set, sign writes with DWAY instead (a key
	// pair from CreateKeyPair). Token, if also set, is sent as X-Token.
	AccessKey, SecretKey string
	// AdminKey is sent as Authorization: Bearer on management calls.
	AdminKey string
	// HTTPClient is the base client; nil uses a client over
	// http.DefaultTransport. Writes go through its Transport wrapped in a
	// signing transport.
	HTTPClient *http.Client
	// Logger receives retry and drop notices; nil discards.
	Logger *slog.Logger

	// BatchSize is the most points per write request (default 5000).
	BatchSize int
	// BatchBytes is the most line-protocol bytes per write request before
	// compression (default 4 MiB); a single larger point goes alone.
	BatchBytes int
	// FlushInterval is how long a Writer holds points before sending
	// them (default 1s).
	FlushInterval time.Duration
	// Precision of the timestamps the client sends (default nanoseconds).
	// Coarser precisions truncate times.
	Precision lineproto.Precision
	// RP names the retention policy writes go to (X-RP); empty: the
	// database's default.
	RP string
	// DisableGzip sends write bodies uncompressed.
	DisableGzip bool

	// MaxRetries is how many times a failed request is retried (default
	// 5; negative: never). Retried: 429, 5xx and transport errors for
	// idempotent calls (writes, reads, drops, modifications); only 429
	// and 503 and refused connections for calls that create something.
	MaxRetries int
	// RetryBackoff is the first wait between attempts (default 200ms); it
	// doubles per attempt with jitter, up to MaxBackoff (default 30s). A
	// Retry-After answer is honoured, up to MaxBackoff.
	RetryBackoff, MaxBackoff time.Duration
	// AttemptTimeout bounds one HTTP attempt (default 60s), so a hung
	// connection is retried rather than waited on forever.
	AttemptTimeout time.Duration
	// MaxResponseBytes caps the body read from one answer (default 256 MiB).
	MaxResponseBytes int64
	// UserAgent is sent with every request (default "kodo-go/<Version>").
	UserAgent string
}

// Client calls a Kodo /v1 gateway. It is safe for concurrent use.
//
// Writes (Write, WriteBatch, WriteLineProtocol, a Writer, WriteDocuments)
// are signed with the workspace token (DATAFLUX) or a key pair (DWAY),
// gzipped, and split into BatchSize / BatchBytes requests. Every call
// takes a context and is retried with backoff on 429 and 5xx (honouring
// Retry-After) as Options.MaxRetries says. A gateway's error answer
// is a *Error carrying the status and the errorCode
// ("kodo.tokenNotFound": test it with IsErrorCode); a write that fails is
// a *WriteError that says how many points were stored and holds the rest.
type Client struct {
	base   *url.URL
	opts   Options
	log    *slog.Logger
	plain  *http.Client // management and reads
	signed *http.Client // writes
	gz     sync.Pool    // *gzip.Writer
	bufs   sync.Pool    // *[]byte for bodies
}

// ErrNoCredentials is returned by calls that need a token or key pair the
// Client was not given.
var ErrNoCredentials = errors.New("kodo: this call needs Options.Token or AccessKey/SecretKey")

// New returns a Client for the gateway at baseURL (for example
// "http://127.0.0.1:9527").
func New(baseURL string, opts Options) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil {
		return nil, fmt.Errorf("kodo: base URL %q: %w; want http://host:port or https://host", baseURL, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("kodo: base URL %q: want http://host:port or https://host", baseURL)
	}
	if !opts.Precision.Valid() {
		return nil, fmt.Errorf("kodo: Options.Precision %d is not a lineproto precision", opts.Precision)
	}
	if (opts.AccessKey == "") != (opts.SecretKey == "") {
		return nil, errors.New("kodo: Options.AccessKey and SecretKey go together")
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 5000
	}
	if opts.BatchBytes <= 0 {
		opts.BatchBytes = 4 << 20
	}
	if opts.FlushInterval <= 0 {
		opts.FlushInterval = time.Second
	}
	if opts.MaxRetries == 0 {
		opts.MaxRetries = 5
	} else if opts.MaxRetries < 0 {
		opts.MaxRetries = 0
	}
	if opts.RetryBackoff <= 0 {
		opts.RetryBackoff = 200 * time.Millisecond
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 30 * time.Second
	}
	if opts.AttemptTimeout <= 0 {
		opts.AttemptTimeout = 60 * time.Second
	}
	if opts.MaxResponseBytes <= 0 {
		opts.MaxResponseBytes = 256 << 20
	}
	if opts.UserAgent == "" {
		opts.UserAgent = "kodo-go/" + kodoapi.Version
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	plain := opts.HTTPClient
	if plain == nil {
		plain = &http.Client{}
	}
	c := &Client{base: u, opts: opts, log: log, plain: plain}
	signed := *plain
	switch {
	case opts.AccessKey != "":
		signed.Transport = signer.NewDwayTransport(plain.Transport, opts.AccessKey, opts.SecretKey)
		c.signed = &signed
	case opts.Token != "":
		signed.Transport = signer.NewDatafluxTransport(plain.Transport, opts.Token, opts.Secret, opts.Algo)
		c.signed = &signed
	}
	return c, nil
}

// Error is an error answer of the gateway: the HTTP status and the
// envelope's errorCode ("kodo.tokenNotFound"), message and content (for a
// partial write, the accepted/rejected counts and each bad line).
type Error struct {
	Method, Path string
	Status       int
	Code         string // "" when the answer was not a Kodo envelope (a proxy's page)
	Message      string
	Content      json.RawMessage
	RetryAfter   time.Duration // from Retry-After, 0 when absent
	TraceID      string        // X-Trace-Id: find the request in the gateway's log
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "kodo: %s %s: %d", e.Method, e.Path, e.Status)
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.TraceID != "" {
		b.WriteString(" (trace " + e.TraceID + ")")
	}
	return b.String()
}

// HasCode reports whether the answer carried code, e.g. kodoapi.ErrTokenNotFound.
func (e *Error) HasCode(code kodoapi.ErrorCode) bool { return e.Code == code.Wire() }

// Temporary reports whether the same request may succeed later (429, 5xx).
func (e *Error) Temporary() bool {
	return e.Status == http.StatusTooManyRequests || e.Status >= 500
}

// IsErrorCode reports whether err is (or wraps) a *Error with code.
func IsErrorCode(err error, code kodoapi.ErrorCode) bool {
	var ce *Error
	return errors.As(err, &ce) && ce.HasCode(code)
}

// call is one API request: everything needed to build it again per attempt.
type call struct {
	method, path string
	query        url.Values
	body         []byte
	contentType  string
	header       http.Header
	signed       bool
	// create marks calls that make something (a workspace, a key pair):
	// they are retried only where the server cannot have acted.
	create bool
}

// do runs c with retries and decodes the envelope's content into out
// (when out is non-nil and content is not null).
func (c *Client) do(ctx context.Context, cl call, out any) error {
	hc := c.plain
	if cl.signed {
		if c.signed == nil {
			return ErrNoCredentials
		}
		hc = c.signed
	}
	// cl.path is escaped (path segments from callers go through
	// url.PathEscape), so a token holding "/" stays one segment.
	u := *c.base
	u.RawPath = c.base.EscapedPath() + cl.path
	p, err := url.PathUnescape(u.RawPath)
	if err != nil {
		return fmt.Errorf("kodo: %s %s: %w", cl.method, cl.path, err)
	}
	u.Path = p
	u.RawQuery = cl.query.Encode()
	target := u.String()

	var lastErr error
	for attempt := 0; ; attempt++ {
		env, err := c.attempt(ctx, hc, cl, target)
		if err == nil {
			if out != nil && len(env.Content) > 0 && string(env.Content) != "null" {
				dec := json.NewDecoder(bytes.NewReader(env.Content))
				dec.UseNumber()
				if err := dec.Decode(out); err != nil {
					return fmt.Errorf("kodo: %s %s: decoding the answer's content: %w", cl.method, cl.path, err)
				}
			}
			return nil
		}
		lastErr = err
		if ctx.Err() != nil {
			return lastErr
		}
		if attempt >= c.opts.MaxRetries || !c.retryable(cl, err) {
			return lastErr
		}
		wait := c.backoff(attempt, err)
		c.log.Warn("kodo client: retrying", "method", cl.method, "path", cl.path, "attempt", attempt+1, "wait", wait, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (gave up waiting to retry: %w)", lastErr, ctx.Err())
		}
	}
}

// attempt sends one request and reads its envelope.
func (c *Client) attempt(ctx context.Context, hc *http.Client, cl call, target string) (kodoapi.Envelope[json.RawMessage], error) {
	ctx, cancel := context.WithTimeout(ctx, c.opts.AttemptTimeout)
	defer cancel()
	var body io.Reader
	if cl.body != nil {
		body = bytes.NewReader(cl.body)
	}
	req, err := http.NewRequestWithContext(ctx, cl.method, target, body)
	if err != nil {
		return kodoapi.Envelope[json.RawMessage]{}, fmt.Errorf("kodo: building %s %s: %w", cl.method, cl.path, err)
	}
	for k, v := range cl.header {
		req.Header[k] = v
	}
	if cl.contentType != "" {
		req.Header.Set("Content-Type", cl.contentType)
	}
	req.Header.Set("User-Agent", c.opts.UserAgent)
	req.Header.Set("Accept", "application/json")
	if !cl.signed && c.opts.AdminKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.opts.AdminKey)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return kodoapi.Envelope[json.RawMessage]{}, fmt.Errorf("kodo: %s %s: %w", cl.method, cl.path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, c.opts.MaxResponseBytes+1))
	if err != nil {
		return kodoapi.Envelope[json.RawMessage]{}, fmt.Errorf("kodo: %s %s: reading the answer: %w", cl.method, cl.path, err)
	}
	if int64(len(raw)) > c.opts.MaxResponseBytes {
		return kodoapi.Envelope[json.RawMessage]{}, fmt.Errorf("kodo: %s %s: answer larger than Options.MaxResponseBytes (%d)", cl.method, cl.path, c.opts.MaxResponseBytes)
	}
	var env kodoapi.Envelope[json.RawMessage]
	jerr := json.Unmarshal(raw, &env)
	if resp.StatusCode == http.StatusOK && jerr == nil && (env.Code == 0 || env.Code == http.StatusOK) {
		return env, nil
	}
	ce := &Error{Method: cl.method, Path: cl.path, Status: resp.StatusCode,
		RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()), TraceID: resp.Header.Get("X-Trace-Id")}
	if jerr == nil && (env.ErrorCode != "" || env.Message != "") {
		ce.Code, ce.Message, ce.Content = env.ErrorCode, env.Message, env.Content
	} else {
		ce.Message = strings.TrimSpace(truncateText(string(raw), 512))
		if resp.StatusCode == http.StatusOK {
			ce.Message = "the answer is not a Kodo JSON envelope: " + ce.Message
		}
	}
	return kodoapi.Envelope[json.RawMessage]{}, ce
}

func truncateText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// retryable decides whether err may go away if the request is sent again.
func (c *Client) retryable(cl call, err error) bool {
	var ce *Error
	if errors.As(err, &ce) {
		switch {
		case ce.Status == http.StatusTooManyRequests || ce.Status == http.StatusServiceUnavailable:
			return true
		case ce.Status >= 500:
			return !cl.create // a 500 may come after the work was done
		}
		return false
	}
	var ne *net.OpError
	if errors.As(err, &ne) && ne.Op == "dial" {
		return true // nothing reached the server
	}
	// Other transport errors (reset, timeout of one attempt): the request
	// may have been processed; safe to repeat only when idempotent.
	return !cl.create && !errors.Is(err, context.Canceled)
}

// backoff is the wait before retry number attempt+1: Retry-After when the
// server sent one, else exponential with full jitter; both capped.
func (c *Client) backoff(attempt int, err error) time.Duration {
	var ce *Error
	if errors.As(err, &ce) && ce.RetryAfter > 0 {
		return min(ce.RetryAfter, c.opts.MaxBackoff)
	}
	d := c.opts.RetryBackoff << min(attempt, 20)
	if d <= 0 || d > c.opts.MaxBackoff {
		d = c.opts.MaxBackoff
	}
	// Half fixed, half random: spreads clients that failed together.
	return d/2 + rand.N(d/2+1)
}

// parseRetryAfter reads delay-seconds or an HTTP date; 0 when absent or bad.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil {
		if n < 0 {
			return 0
		}
		// A day is more than any server means; it also keeps n seconds
		// from overflowing a Duration (found by FuzzClientAnswer).
		return time.Duration(min(n, 86400)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return min(d, 24*time.Hour)
		}
	}
	return 0
}

func jsonBody(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("kodo: encoding the request: %w", err)
	}
	return b, nil
}

// postJSON is the common shape of the management calls.
func (c *Client) postJSON(ctx context.Context, path string, create bool, in, out any) error {
	body, err := jsonBody(in)
	if err != nil {
		return err
	}
	return c.do(ctx, call{method: http.MethodPost, path: path, body: body, contentType: "application/json", create: create}, out)
}

// ---- Writes ----

// Point is one point for Write and Writer.Add. A zero Time means the time
// of the call. Field values are the types lineproto.Batch.AddPoint takes.
type Point struct {
	Measurement string
	Tags        map[string]string
	Fields      map[string]any
	Time        time.Time
}

// InvalidPointError reports a point that cannot be written as line
// protocol; nothing of the call was sent.
type InvalidPointError struct {
	Index int // position in the call's points
	Err   error
}

func (e *InvalidPointError) Error() string {
	return fmt.Sprintf("kodo: point %d: %v", e.Index, e.Err)
}

func (e *InvalidPointError) Unwrap() error { return e.Err }

// WriteError reports points that were not confirmed stored. The points of
// a failed request are never dropped silently: Lines holds them, as line
// protocol in the client's precision, ready to be resent or spooled.
type WriteError struct {
	Total  int // points in the call, or in the Writer's failed request
	Stored int // points confirmed stored (earlier requests of the call)
	// Failed = Total - Stored. Some of them may be stored after all: the
	// accepted lines of a partial write (see the *Error's Content)
	// or a request whose answer was lost.
	Failed int
	Lines  []byte
	Err    error // *Error, a transport error or a context error
}

func (e *WriteError) Error() string {
	return fmt.Sprintf("kodo: %d of %d point(s) not confirmed stored: %v", e.Failed, e.Total, e.Err)
}

func (e *WriteError) Unwrap() error { return e.Err }

// toBatch validates points into a batch.
func toBatch(b *lineproto.Batch, points []Point) error {
	now := time.Now()
	for i, p := range points {
		t := p.Time
		if t.IsZero() {
			t = now
		}
		if err := b.AddPoint(p.Measurement, p.Tags, p.Fields, t); err != nil {
			return &InvalidPointError{Index: i, Err: err}
		}
	}
	return nil
}

// Write stores points synchronously: it returns nil once every point is
// stored durably, sending BatchSize / BatchBytes sized requests in order.
// An invalid point fails the call before anything is sent
// (*InvalidPointError); a failed request stops the call with a
// *WriteError that counts what was stored and holds the rest.
func (c *Client) Write(ctx context.Context, points ...Point) error {
	var b lineproto.Batch
	if err := toBatch(&b, points); err != nil {
		return err
	}
	return c.WriteBatch(ctx, &b)
}

// WriteBatch is Write for a lineproto.Batch (built with AddPoint or Parse).
func (c *Client) WriteBatch(ctx context.Context, b *lineproto.Batch) error {
	if c.signed == nil {
		return ErrNoCredentials
	}
	bp := c.getBuf()
	defer c.putBuf(bp)
	stored := 0
	for start := 0; start < b.Len(); {
		buf := (*bp)[:0]
		end := start
		for end < b.Len() && end-start < c.opts.BatchSize {
			n := len(buf)
			buf = b.At(end).AppendLineProtocol(buf, c.opts.Precision)
			if len(buf) > c.opts.BatchBytes && end > start {
				buf = buf[:n] // this point starts the next request
				break
			}
			end++
		}
		*bp = buf
		if err := c.sendLines(ctx, buf); err != nil {
			rest := append([]byte(nil), buf...)
			for i := end; i < b.Len(); i++ {
				rest = b.At(i).AppendLineProtocol(rest, c.opts.Precision)
			}
			return &WriteError{Total: b.Len(), Stored: stored, Failed: b.Len() - stored, Lines: rest, Err: err}
		}
		stored += end - start
		start = end
	}
	return nil
}

// WriteLineProtocol sends line protocol as it is, in precision prec (one
// request; bodies larger than the gateway's limit are refused with 413).
func (c *Client) WriteLineProtocol(ctx context.Context, lines []byte, prec lineproto.Precision) error {
	return c.sendLinesPrec(ctx, lines, prec)
}

func (c *Client) sendLines(ctx context.Context, lines []byte) error {
	return c.sendLinesPrec(ctx, lines, c.opts.Precision)
}

// sendLinesPrec sends one write request (gzipped unless disabled) with
// retries. Writes are idempotent: a point written twice is stored once.
func (c *Client) sendLinesPrec(ctx context.Context, lines []byte, prec lineproto.Precision) error {
	h := http.Header{}
	h.Set("X-Precision", prec.String())
	if c.opts.RP != "" {
		h.Set("X-RP", c.opts.RP)
	}
	return c.sendSigned(ctx, "/v1/write/metrics", nil, lines, "text/plain; charset=utf-8", h)
}

// sendSigned sends a signed write body, gzipped unless disabled.
func (c *Client) sendSigned(ctx context.Context, path string, q url.Values, data []byte, contentType string, h http.Header) error {
	if c.signed == nil {
		return ErrNoCredentials
	}
	if c.opts.Token != "" {
		h.Set("X-Token", c.opts.Token)
	}
	body := data
	if !c.opts.DisableGzip {
		zp := c.getBuf()
		defer c.putBuf(zp)
		z, err := c.gzip(data, (*zp)[:0])
		if err != nil {
			return err
		}
		*zp = z
		body = z
		h.Set("Content-Encoding", "gzip")
	}
	return c.do(ctx, call{method: http.MethodPost, path: path, query: q, body: body,
		contentType: contentType, header: h, signed: true}, nil)
}

func (c *Client) gzip(src, dst []byte) ([]byte, error) {
	buf := bytes.NewBuffer(dst)
	zw, _ := c.gz.Get().(*gzip.Writer)
	if zw == nil {
		zw, _ = gzip.NewWriterLevel(buf, gzip.BestSpeed) // valid level: no error
	} else {
		zw.Reset(buf)
	}
	if _, err := zw.Write(src); err != nil {
		return nil, fmt.Errorf("kodo: gzip: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("kodo: gzip: %w", err)
	}
	c.gz.Put(zw)
	return buf.Bytes(), nil
}

func (c *Client) getBuf() *[]byte {
	if p, ok := c.bufs.Get().(*[]byte); ok {
		return p
	}
	b := make([]byte, 0, 64<<10)
	return &b
}

func (c *Client) putBuf(p *[]byte) {
	if cap(*p) > 4*c.opts.BatchBytes+(1<<20) {
		return // an outsized body: let it go
	}
	c.bufs.Put(p)
}

// ---- Reads ----

// QueryOption changes one Query or Manage call.
type QueryOption func(*kodoapi.QueryRequest)

// WithEpoch sets the unit of returned times: ns, u, ms (default), s, m, h.
func WithEpoch(epoch string) QueryOption {
	return func(q *kodoapi.QueryRequest) { q.Epoch = epoch }
}

// WithRewrite rewrites the command first with its options (conditions,
// time_range, max_point, fill, ...); it.SQL is ignored.
func WithRewrite(it kodoapi.RewriteItem) QueryOption {
	return func(q *kodoapi.QueryRequest) { q.Rewrite = &it }
}

// Query runs SELECT / SHOW statements inside the database dbUUID
// (/v1/read/metrics).
func (c *Client) Query(ctx context.Context, dbUUID, command string, opts ...QueryOption) (*kodoapi.QueryResult, error) {
	return c.query(ctx, "/v1/read/metrics", dbUUID, command, opts)
}

// Manage runs statements that may also create, alter and drop inside the
// database dbUUID (/v1/manage/metrics).
func (c *Client) Manage(ctx context.Context, dbUUID, command string, opts ...QueryOption) (*kodoapi.QueryResult, error) {
	return c.query(ctx, "/v1/manage/metrics", dbUUID, command, opts)
}

func (c *Client) query(ctx context.Context, path, dbUUID, command string, opts []QueryOption) (*kodoapi.QueryResult, error) {
	req := kodoapi.QueryRequest{DB: dbUUID, Command: command}
	for _, o := range opts {
		o(&req)
	}
	var out kodoapi.QueryResult
	if err := c.postJSON(ctx, path, false, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Rewrite rewrites InfluxQL items for the database dbUUID (/v1/rewrite):
// one entry per item, in order; an item that cannot be rewritten answers
// one Statement with Error set.
func (c *Client) Rewrite(ctx context.Context, dbUUID string, items []kodoapi.RewriteItem) ([][]kodoapi.RewrittenStatement, error) {
	var out [][]kodoapi.RewrittenStatement
	if err := c.postJSON(ctx, "/v1/rewrite", false, kodoapi.RewriteRequest{DBUUID: dbUUID, SQLs: items}, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// ---- Management ----

// CreateWorkspace creates a workspace, its token and its database.
func (c *Client) CreateWorkspace(ctx context.Context, req kodoapi.CreateWorkspaceRequest) (*kodoapi.Workspace, error) {
	var out kodoapi.Workspace
	if err := c.postJSON(ctx, "/v1/workspace/create", true, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// RotateSecret gives a workspace a new secret. The replaced one keeps
// verifying for overlap (0: the gateway's -secret-overlap; use a tiny
// positive value such as time.Nanosecond to end it at once). Not retried:
// a second rotation would replace the secret this call answers.
func (c *Client) RotateSecret(ctx context.Context, workspaceUUID string, overlap time.Duration) (*kodoapi.Secret, error) {
	in := kodoapi.RotateSecretRequest{WorkspaceUUID: workspaceUUID}
	if overlap > 0 {
		in.Overlap = overlap.String()
	}
	var out kodoapi.Secret
	if err := c.postJSON(ctx, "/v1/workspace/secret/rotate", true, in, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// SetAllowMD5Key switches a workspace's acceptance of DATAFLUX signatures
// keyed by the body's MD5 (agents without the secret). New workspaces
// refuse them; workspaces older than secrets accept them until switched off.
func (c *Client) SetAllowMD5Key(ctx context.Context, workspaceUUID string, allow bool) error {
	in := kodoapi.SigningRequest{WorkspaceUUID: workspaceUUID, AllowMD5Key: &allow}
	return c.postJSON(ctx, "/v1/workspace/signing", false, in, nil)
}

// CreateKeyPair issues a DWAY key pair for a workspace.
func (c *Client) CreateKeyPair(ctx context.Context, workspaceUUID string) (*kodoapi.KeyPair, error) {
	var out kodoapi.KeyPair
	if err := c.postJSON(ctx, "/v1/workspace/keypair/create", true, kodoapi.WorkspaceRef{WorkspaceUUID: workspaceUUID}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// AddDBRequest are the parameters of AddDB. Without WorkspaceUUID a new
// workspace is created for the database and its token answered.
type AddDBRequest struct {
	WorkspaceUUID string
	Name          string // name of the new workspace, without WorkspaceUUID
	DefaultRP     string
	CQRP          *string
	RPList        []string
}

// AddDB creates a database (/v1/influx/add_db).
func (c *Client) AddDB(ctx context.Context, req AddDBRequest) (*kodoapi.AddedDatabase, error) {
	q := url.Values{}
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	set("workspace_uuid", req.WorkspaceUUID)
	set("name", req.Name)
	set("default_rp", req.DefaultRP)
	set("rp_list", strings.Join(req.RPList, ","))
	if req.CQRP != nil {
		q.Set("cqrp", *req.CQRP)
	}
	var out kodoapi.AddedDatabase
	if err := c.do(ctx, call{method: http.MethodPost, path: "/v1/influx/add_db", query: q, create: true}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ModifyDBRP changes a database's retention policies (/v1/modify/dbrp).
func (c *Client) ModifyDBRP(ctx context.Context, req kodoapi.ModifyDBRPRequest) (*kodoapi.DBRP, error) {
	var out kodoapi.DBRP
	if err := c.postJSON(ctx, "/v1/modify/dbrp", false, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// GetRP answers the RP of each measurement (/v1/measurement/get_rp).
func (c *Client) GetRP(ctx context.Context, dbUUID string, measurements ...string) (map[string]kodoapi.MeasurementRP, error) {
	if measurements == nil {
		measurements = []string{}
	}
	out := map[string]kodoapi.MeasurementRP{}
	if err := c.postJSON(ctx, "/v1/measurement/get_rp", false, kodoapi.GetRPRequest{DB: dbUUID, Measurements: measurements}, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// DropMeasurement starts dropping a measurement; the gateway finishes in
// the background (see DroppingMeasurements).
func (c *Client) DropMeasurement(ctx context.Context, dbUUID, measurement string) error {
	return c.postJSON(ctx, "/v1/drop/metrics", false, kodoapi.DropMetricsRequest{DBUUID: dbUUID, Measurement: measurement}, nil)
}

// DroppingMeasurements lists the measurements of a database still being
// dropped.
func (c *Client) DroppingMeasurements(ctx context.Context, dbUUID string) ([]string, error) {
	out := []string{}
	err := c.do(ctx, call{method: http.MethodGet, path: "/v1/droppingmetrics/" + url.PathEscape(dbUUID)}, &out)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// SeriesCount answers, per database, the approximate number of series
// written in the last five minutes (/v1/tscnt), in the order asked.
func (c *Client) SeriesCount(ctx context.Context, dbUUIDs ...string) ([]int64, error) {
	if dbUUIDs == nil {
		dbUUIDs = []string{}
	}
	var out []int64
	if err := c.postJSON(ctx, "/v1/tscnt", false, dbUUIDs, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// CheckToken reports whether token names a workspace. An unknown token is
// (false, nil); other failures are errors.
func (c *Client) CheckToken(ctx context.Context, token string) (bool, error) {
	if token == "" {
		return false, errors.New("kodo: CheckToken: empty token")
	}
	err := c.do(ctx, call{method: http.MethodGet, path: "/v1/check/token/" + url.PathEscape(token)}, nil)
	if IsErrorCode(err, kodoapi.ErrTokenNotFound) {
		return false, nil
	}
	return err == nil, err
}

// CleanTokenCache makes the gateway forget a cached token, so a change to
// the token's workspace is seen at once (/v1/cache/dataway/clean).
func (c *Client) CleanTokenCache(ctx context.Context, token string) error {
	return c.do(ctx, call{method: http.MethodPost, path: "/v1/cache/dataway/clean", query: url.Values{"token": {token}}}, nil)
}

// DatakitOnline reports datakits (by UUID) of the Client's workspace as
// online (/v1/datakit/online). It needs Options.Token.
func (c *Client) DatakitOnline(ctx context.Context, datakitUUIDs ...string) error {
	if c.opts.Token == "" || c.signed == nil {
		return ErrNoCredentials
	}
	if datakitUUIDs == nil {
		datakitUUIDs = []string{}
	}
	body, err := jsonBody(datakitUUIDs)
	if err != nil {
		return err
	}
	h := http.Header{}
	h.Set("X-Token", c.opts.Token)
	return c.do(ctx, call{method: http.MethodPost, path: "/v1/datakit/online", body: body,
		contentType: "application/json", header: h, signed: true}, nil)
}

// Ping checks the gateway (/v1/ping).
func (c *Client) Ping(ctx context.Context) (*kodoapi.Ping, error) {
	var out kodoapi.Ping
	if err := c.do(ctx, call{method: http.MethodGet, path: "/v1/ping"}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// SetWorkspaceLimits sets (or, with both members nil, reads) the series
// and tag-value limits of a workspace's databases (/v1/workspace/limits).
func (c *Client) SetWorkspaceLimits(ctx context.Context, workspaceUUID string, l kodoapi.CardinalityLimits) (*kodoapi.WorkspaceLimits, error) {
	var out kodoapi.WorkspaceLimits
	if err := c.postJSON(ctx, "/v1/workspace/limits", false, kodoapi.WorkspaceLimitsRequest{WorkspaceUUID: workspaceUUID, CardinalityLimits: l}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ---- Continuous queries ----

// CreateCQs creates CQs in a workspace's database (dbUUID "" = its
// first); either all are created or, on a bad entry, none.
func (c *Client) CreateCQs(ctx context.Context, workspaceUUID, dbUUID string, specs ...kodoapi.CQSpec) ([]kodoapi.CQ, error) {
	var out []kodoapi.CQ
	if specs == nil {
		specs = []kodoapi.CQSpec{}
	}
	in := kodoapi.CQCreateRequest{WorkspaceUUID: workspaceUUID, DBUUID: dbUUID, Measurements: specs}
	if err := c.postJSON(ctx, "/v1/cq/create", true, in, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// ModifyCQ changes a CQ's function, period or interval (the fields of
// req that are set; CQUUID and WorkspaceUUID name the CQ).
func (c *Client) ModifyCQ(ctx context.Context, req kodoapi.CQModifyRequest) (*kodoapi.CQ, error) {
	var out kodoapi.CQ
	if err := c.postJSON(ctx, "/v1/cq/modify", false, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteCQ deletes a CQ.
func (c *Client) DeleteCQ(ctx context.Context, workspaceUUID, cqUUID string) error {
	return c.postJSON(ctx, "/v1/cq/delete", false, kodoapi.CQRef{CQUUID: cqUUID, WorkspaceUUID: workspaceUUID}, nil)
}

// SyncCQs makes the engines hold exactly the workspace's recorded CQs
// (/v1/cq/syncupdate).
func (c *Client) SyncCQs(ctx context.Context, workspaceUUID string) (*kodoapi.CQSyncReport, error) {
	var out kodoapi.CQSyncReport
	err := c.do(ctx, call{method: http.MethodPost, path: "/v1/cq/syncupdate", query: url.Values{"workspace_uuid": {workspaceUUID}}}, &out)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// ---- Asynchronous writer ----

// ErrWriterClosed is returned by Add and Flush after Close.
var ErrWriterClosed = errors.New("kodo: Writer is closed")

// WriterOptions tune a Writer; zero fields take the Client's options.
type WriterOptions struct {
	BatchSize     int           // points per request (Options.BatchSize)
	BatchBytes    int           // bytes per request (Options.BatchBytes)
	FlushInterval time.Duration // longest a point waits (Options.FlushInterval)
	// MaxQueued is how many full requests may wait to be sent before Add
	// blocks (default 8): memory stays bounded when the gateway is slow.
	MaxQueued int
	// OnError, when set, is called (from the Writer's goroutine) with each
	// failed request as it fails, in addition to Flush/Close returning it.
	OnError func(*WriteError)
}

// Writer batches points in the background: Add buffers them, a request
// goes out when BatchSize points or BatchBytes bytes are buffered, or
// FlushInterval after the previous send, one request at a time in Add
// order, each with the Client's retries.
//
// Nothing is dropped silently. A request that still fails after its
// retries becomes a *WriteError holding the request's points (Lines):
// OnError sees it at once, and the next Flush or Close returns it (all of
// them, joined with errors.Join). When Close's context ends before every
// point is sent, the unsent requests are returned the same way, with the
// context's error as cause.
type Writer struct {
	c    *Client
	opts WriterOptions

	mu      sync.Mutex
	cur     []byte // line protocol not yet sealed into a request
	curN    int
	queue   []writerChunk
	sealed  uint64        // sequence number of the last sealed request
	done    uint64        // sequence number of the last finished request
	changed chan struct{} // closed and replaced whenever done advances
	errs    []error
	closed  bool
	spare   []byte // the buffer of a sent request, reused by the next seal

	wake   chan struct{} // a request was sealed
	stop   chan struct{} // Close was called
	exited chan struct{}
	ctx    context.Context // the sender's; Close cancels it when its own ctx ends
	cancel context.CancelCauseFunc

	scratch sync.Pool // *lineproto.Batch for validating Add's points
}

type writerChunk struct {
	lines []byte
	n     int
	seq   uint64
}

// NewWriter starts a Writer over c. Close it to send what it holds.
func (c *Client) NewWriter(opts WriterOptions) (*Writer, error) {
	if c.signed == nil {
		return nil, ErrNoCredentials
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = c.opts.BatchSize
	}
	if opts.BatchBytes <= 0 {
		opts.BatchBytes = c.opts.BatchBytes
	}
	if opts.FlushInterval <= 0 {
		opts.FlushInterval = c.opts.FlushInterval
	}
	if opts.MaxQueued <= 0 {
		opts.MaxQueued = 8
	}
	w := &Writer{c: c, opts: opts, changed: make(chan struct{}),
		wake: make(chan struct{}, 1), stop: make(chan struct{}), exited: make(chan struct{})}
	w.ctx, w.cancel = context.WithCancelCause(context.Background())
	go w.run()
	return w, nil
}

// Add buffers points. It validates all of them first: an invalid point
// returns *InvalidPointError and none of the call's points is added. It
// blocks while MaxQueued requests wait to be sent; when ctx ends first the
// points are not added and ctx's error is returned.
func (w *Writer) Add(ctx context.Context, points ...Point) error {
	b, _ := w.scratch.Get().(*lineproto.Batch)
	if b == nil {
		b = new(lineproto.Batch)
	}
	defer func() { b.Reset(); w.scratch.Put(b) }()
	if err := toBatch(b, points); err != nil {
		return err
	}
	return w.AddBatch(ctx, b)
}

// AddBatch is Add for the points of a lineproto.Batch (copied).
func (w *Writer) AddBatch(ctx context.Context, b *lineproto.Batch) error {
	if err := w.waitRoom(ctx); err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrWriterClosed
	}
	sealed := false
	for i := 0; i < b.Len(); i++ {
		n := len(w.cur)
		w.cur = b.At(i).AppendLineProtocol(w.cur, w.c.opts.Precision)
		if w.curN > 0 && len(w.cur) > w.opts.BatchBytes {
			// This point would make the request too big: it starts the next.
			line := append([]byte(nil), w.cur[n:]...)
			w.cur = w.cur[:n]
			w.sealLocked()
			w.cur = append(w.cur, line...)
			sealed = true
		}
		w.curN++
		if w.curN >= w.opts.BatchSize || len(w.cur) >= w.opts.BatchBytes {
			w.sealLocked()
			sealed = true
		}
	}
	if sealed {
		w.signal()
	}
	return nil
}

// waitRoom blocks while the queue is full.
func (w *Writer) waitRoom(ctx context.Context) error {
	for {
		w.mu.Lock()
		if w.closed {
			w.mu.Unlock()
			return ErrWriterClosed
		}
		if len(w.queue) < w.opts.MaxQueued {
			w.mu.Unlock()
			return nil
		}
		ch := w.changed
		w.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("kodo: Writer.Add: waiting for the queue to drain: %w", ctx.Err())
		}
	}
}

// sealLocked turns the buffered points into a queued request.
func (w *Writer) sealLocked() {
	if w.curN == 0 {
		return
	}
	w.sealed++
	w.queue = append(w.queue, writerChunk{lines: w.cur, n: w.curN, seq: w.sealed})
	if w.spare != nil {
		w.cur, w.spare = w.spare, nil
	} else {
		w.cur = make([]byte, 0, min(cap(w.cur), w.opts.BatchBytes+(64<<10)))
	}
	w.curN = 0
}

func (w *Writer) signal() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Flush sends everything added so far and waits for it. It returns the
// requests that failed since the last Flush (as *WriteError, joined). If
// ctx ends first, the points stay queued and are still sent.
func (w *Writer) Flush(ctx context.Context) error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return ErrWriterClosed
	}
	w.sealLocked()
	target := w.sealed
	w.mu.Unlock()
	w.signal()
	for {
		w.mu.Lock()
		if w.done >= target {
			errs := w.errs
			w.errs = nil
			w.mu.Unlock()
			return errors.Join(errs...)
		}
		ch := w.changed
		w.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("kodo: Writer.Flush: %w (the points stay queued)", ctx.Err())
		}
	}
}

// Close sends what the Writer holds, stops it and returns every failed
// request not yet returned by Flush. When ctx ends first, sending stops
// and the unsent requests are returned as *WriteError (with their Lines).
// Calling Close again returns nil.
func (w *Writer) Close(ctx context.Context) error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.closed = true
	w.mu.Unlock()
	close(w.stop)
	select {
	case <-w.exited:
	case <-ctx.Done():
		w.cancel(fmt.Errorf("kodo: Writer.Close: %w", ctx.Err()))
		<-w.exited
	}
	w.cancel(nil)
	w.mu.Lock()
	defer w.mu.Unlock()
	errs := w.errs
	w.errs = nil
	return errors.Join(errs...)
}

// run is the Writer's sender: it seals on the interval and sends queued
// requests one at a time, so they reach the gateway in Add order.
func (w *Writer) run() {
	defer close(w.exited)
	t := time.NewTicker(w.opts.FlushInterval)
	defer t.Stop()
	for {
		stopping := false
		select {
		case <-w.wake:
		case <-t.C:
			w.mu.Lock()
			w.sealLocked()
			w.mu.Unlock()
		case <-w.stop:
			stopping = true
			w.mu.Lock()
			w.sealLocked()
			w.mu.Unlock()
		}
		w.drain()
		if stopping {
			return
		}
	}
}

func (w *Writer) drain() {
	for {
		w.mu.Lock()
		if len(w.queue) == 0 {
			w.mu.Unlock()
			return
		}
		ch := w.queue[0]
		w.queue[0] = writerChunk{}
		w.queue = w.queue[1:]
		w.mu.Unlock()

		var err error
		if cause := context.Cause(w.ctx); cause != nil {
			err = cause // Close gave up: report the request unsent
		} else if err = w.c.sendLines(w.ctx, ch.lines); err != nil && w.ctx.Err() != nil {
			err = fmt.Errorf("%w (%w)", err, context.Cause(w.ctx))
		}
		var werr *WriteError
		if err != nil {
			werr = &WriteError{Total: ch.n, Failed: ch.n, Lines: ch.lines, Err: err}
			w.c.log.Error("kodo writer: request failed; its points are returned by Flush/Close", "points", ch.n, "err", err)
			if w.opts.OnError != nil {
				w.opts.OnError(werr)
			}
		}
		w.mu.Lock()
		if werr != nil {
			w.errs = append(w.errs, werr) // keeps ch.lines: the points go back to the caller
		} else if w.spare == nil {
			w.spare = ch.lines[:0]
		}
		w.done = ch.seq
		close(w.changed)
		w.changed = make(chan struct{})
		w.mu.Unlock()
	}
}

// ---- Documents and Pandora keys ----

// WriteDocuments stores documents of a kind (signed like metric writes,
// with retries; the store keeps a document written twice once):
// kodoapi.KindObject takes a JSON array of objects, kodoapi.KindKeyEvent and
// kodoapi.KindLogging take line protocol in precision prec. source names
// the log source of logging lines ("" = each line's measurement). A body
// with a bad item is refused whole (*Error 400).
func (c *Client) WriteDocuments(ctx context.Context, kind kodoapi.DocumentKind, source string, body []byte, prec lineproto.Precision) error {
	ctype := "text/plain; charset=utf-8"
	switch kind {
	case kodoapi.KindObject:
		ctype = "application/json"
	case kodoapi.KindKeyEvent, kodoapi.KindLogging:
	default:
		return fmt.Errorf("kodo: WriteDocuments: unknown kind %q; use object, keyevent or logging", kind)
	}
	var q url.Values
	if source != "" {
		q = url.Values{"source": {source}}
	}
	h := http.Header{}
	h.Set("X-Precision", prec.String())
	return c.sendSigned(ctx, "/v1/write/"+string(kind), q, body, ctype, h)
}

// SearchDocuments searches documents (/v1/read/docs).
func (c *Client) SearchDocuments(ctx context.Context, req kodoapi.SearchRequest) (*kodoapi.SearchResult, error) {
	var out kodoapi.SearchResult
	if err := c.postJSON(ctx, "/v1/read/docs", false, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// SetLogPipeline routes the logging lines of a workspace's source through
// a pipeline before they are stored: an absolute URL, or a path on the
// gateway's function service (/v1/cache/logging/set).
func (c *Client) SetLogPipeline(ctx context.Context, workspaceUUID, source, pipelineURL string) error {
	return c.postJSON(ctx, "/v1/cache/logging/set", false,
		kodoapi.PipelineRequest{WorkspaceUUID: workspaceUUID, Source: source, URL: pipelineURL}, nil)
}

// DeleteLogPipeline removes the pipeline of a workspace's log source
// (/v1/cache/logging/delete).
func (c *Client) DeleteLogPipeline(ctx context.Context, workspaceUUID, source string) error {
	return c.postJSON(ctx, "/v1/cache/logging/delete", false,
		kodoapi.PipelineRequest{WorkspaceUUID: workspaceUUID, Source: source}, nil)
}

// CreateTSDBKeyPair issues a Pandora TSDB v4 key pair, for tsdbclient.NewClient
// (/v1/tsdb/keypair/create).
func (c *Client) CreateTSDBKeyPair(ctx context.Context) (*tsdbapi.KeyPair, error) {
	var out tsdbapi.KeyPair
	if err := c.do(ctx, call{method: http.MethodPost, path: "/v1/tsdb/keypair/create", create: true}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
