package tsdb

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/kodo-project/kodo/internal/bgdrop"
	"github.com/kodo-project/kodo/internal/httpx"
	"github.com/kodo-project/kodo/lineproto"
	"github.com/kodo-project/kodo/signer"
	"github.com/kodo-project/kodo/storage/tsengine"
)

// DefaultRegion is the region every service knows (华东, "nb").
const DefaultRegion = "nb"

// Defaults for zero Config fields.
const (
	DefaultQueryTimeout     = 60 * time.Second
	DefaultMaxSeriesPerRepo = 10000
)

// Config wires a Service. Store and Engine are required.
type Config struct {
	Store  Store
	Engine tsengine.Engine
	Logger *slog.Logger     // nil discards
	Now    func() time.Time // nil = time.Now; signatures and createTime use it
	// MaxSkew is the accepted Date distance (0 = signer.DefaultMaxSkew).
	MaxSkew time.Duration
	// Limits bound request bodies (zero = httpx.DefaultLimits()).
	Limits httpx.Limits
	// LineLimits bound a points body (zero fields = lineproto defaults).
	LineLimits lineproto.Limits
	// Regions are accepted besides "nb".
	Regions []string
	// QueryTimeout bounds one query; past it the answer is E7204
	// (0 = DefaultQueryTimeout, negative = no limit).
	QueryTimeout time.Duration
	// MaxSeriesPerRepo answers E6308 past it (0 = DefaultMaxSeriesPerRepo).
	MaxSeriesPerRepo int
	// SeenBefore, when set, is called with the Authorization header of
	// every request whose signature verified; true refuses it as a replay
	// (401 bad token). nil: no replay cache.
	SeenBefore func(ctx context.Context, authorization string) (bool, error)

	// MaxSelectBuckets refuses (E7200) a SELECT whose GROUP BY time makes
	// more buckets over its time range, before the engine runs it
	// (0 = no check).
	MaxSelectBuckets int
	// MaxAnswerBytes bounds the answer one query holds
	// (tsengine.QueryOptions.MaxAnswerBytes; 0 = none); past it E7212.
	MaxAnswerBytes int64
	// MaxFuture refuses (E6000) a body holding a point dated more than
	// this ahead of Now: each future time window opens a shard (0 = no bound).
	MaxFuture time.Duration
	// Admit, when set, admits a request to the embedding server's gates
	// once its signature is checked and before its body is read. It
	// returns the request to serve (its context carries the httpx.Lease
	// that ReadBody charges) and the release to call when done. A refusal
	// wrapping httpx.ErrBusy is answered 503 E9003 with Retry-After.
	Admit func(r *http.Request, w Work) (*http.Request, func(), error)
}

// Work names the gate a request is admitted to.
type Work string

// The gates of Config.Admit: queries go to WorkQuery; points writes and
// every other request with a body (repo, series, view and metadata
// changes: small bodies, but a decompressed body is charged wherever it
// comes from) to WorkWrite; requests without a body are not gated.
const (
	WorkWrite Work = "writes"
	WorkQuery Work = "queries"
)

// workOf classifies a request for Config.Admit ("" = not gated).
func workOf(r *http.Request) Work {
	segs := splitPath(r.URL.Path)
	switch {
	case len(segs) == 4 && segs[3] == "query":
		return WorkQuery
	case r.Body != nil && r.Body != http.NoBody && r.ContentLength != 0:
		return WorkWrite
	}
	return ""
}

// Service is the Pandora TSDB v4 API over a Store and an Engine.
type Service struct {
	cfg     Config
	log     *slog.Logger
	now     func() time.Time
	regions map[string]bool
	locks   lockTable

	// drops runs the background deletions of repos and series, retried
	// until done; Close stops them and the next NewService resumes them.
	drops *bgdrop.Runner
}

// NewService checks cfg and resumes the deletions a previous run left
// unfinished (in the background).
func NewService(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Engine == nil {
		return nil, errors.New("tsdb: Config.Store and Config.Engine are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Limits == (httpx.Limits{}) {
		cfg.Limits = httpx.DefaultLimits()
	}
	if cfg.QueryTimeout == 0 {
		cfg.QueryTimeout = DefaultQueryTimeout
	}
	if cfg.MaxSeriesPerRepo <= 0 {
		cfg.MaxSeriesPerRepo = DefaultMaxSeriesPerRepo
	}
	s := &Service{cfg: cfg, log: cfg.Logger, now: cfg.Now, regions: map[string]bool{DefaultRegion: true}}
	for _, r := range cfg.Regions {
		if r = strings.TrimSpace(r); r != "" {
			s.regions[r] = true
		}
	}
	s.locks.held = map[string]*lockState{}
	s.drops = bgdrop.New(s.log)

	repos, series, err := cfg.Store.PandoraDeleting(context.Background())
	if err != nil {
		return nil, fmt.Errorf("tsdb: listing unfinished deletions: %w", err)
	}
	for _, r := range repos {
		s.goDropRepo(r)
	}
	for _, se := range series {
		s.goDropSeries(se)
	}
	return s, nil
}

// Close stops the background deletions and waits for them; the ones cut
// short stay marked deleting and resume with the next NewService.
func (s *Service) Close() error {
	return s.drops.Close(context.Background())
}

// Wait blocks until the background deletions started so far are done.
func (s *Service) Wait() { s.drops.Wait() }

// DatabaseName is the engine database of ak's repo: the access key is
// hashed in so two key pairs' repos of the same name never collide.
func DatabaseName(ak, repo string) string {
	sum := sha256.Sum256([]byte(ak))
	return "pandora_" + hex.EncodeToString(sum[:8]) + "_" + repo
}

var nameRe = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]{0,127}$`)

// ValidName reports whether s follows the repo/series/metadata-key rule.
func ValidName(s string) bool { return nameRe.MatchString(s) }

// Handler serves the API under /v4/.
func (s *Service) Handler() http.Handler { return http.HandlerFunc(s.serve) }

// request is one authenticated call.
type request struct {
	w    http.ResponseWriter
	r    *http.Request
	ctx  context.Context
	ak   string
	body []byte // decoded (gunzipped) body
	segs []string
}

// serve authenticates from the headers (the Pandora signature never
// covers the body), then admits the request to its gate, then reads the
// body: an unsigned request is refused without a byte of its body read or
// decompressed, and never holds a gate slot.
func (s *Service) serve(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if v := recover(); v != nil {
			s.log.Error("tsdb: panic", "path", r.URL.Path, "panic", v)
			writeError(w, apiError(CodeInternal, ""))
		}
	}()
	ak, e := s.authenticate(r)
	if e != nil {
		w.Header().Set("Connection", "close") // hang up rather than drain the unread body
		writeError(w, e)
		return
	}
	if work := workOf(r); work != "" && s.cfg.Admit != nil {
		admitted, release, err := s.cfg.Admit(r, work)
		if err != nil {
			writeError(w, s.admitError(err))
			return
		}
		defer release()
		r = admitted
	}
	body, e := s.readBody(r)
	if e != nil {
		writeError(w, e)
		return
	}
	defer body.Release()
	if e := s.replayed(r); e != nil {
		writeError(w, e)
		return
	}
	req := &request{w: w, r: r, ctx: r.Context(), ak: ak, body: body.Data, segs: splitPath(r.URL.Path)}
	if e := s.route(req); e != nil {
		if e.Status >= 500 {
			s.log.Error("tsdb: request failed", "method", r.Method, "path", r.URL.Path, "err", e.Error())
		}
		writeError(w, e)
	}
}

// authenticate checks the Pandora signature from the headers alone; the
// Content-MD5 against the body, the one part that needs it, is readBody's.
func (s *Service) authenticate(r *http.Request) (string, *Error) {
	v := signer.PandoraVerifier{Now: s.now, MaxSkew: s.cfg.MaxSkew, SkipBodyDigest: true}
	ak, err := v.Verify(signer.FromHTTP(r, nil), func(ak string) (string, error) {
		kp, err := s.cfg.Store.PandoraKeyPair(r.Context(), ak)
		return kp.SecretKey, err
	})
	if err != nil {
		var se *signer.Error
		if errors.As(err, &se) && se.Code == signer.ErrUnknownKey && se.Err != nil && !errors.Is(se.Err, ErrNotFound) {
			// The store failed, not the client.
			s.log.Error("tsdb: key lookup", "err", err)
			return "", apiError(CodeInternal, "")
		}
		s.log.Debug("tsdb: signature rejected", "path", r.URL.Path, "err", err)
		return "", &Error{Status: http.StatusUnauthorized, Message: BadToken}
	}
	return ak, nil
}

// replayed asks the replay cache, once the whole request (body digest
// included) has verified, whether its signature was used before.
func (s *Service) replayed(r *http.Request) *Error {
	if s.cfg.SeenBefore == nil {
		return nil
	}
	seen, err := s.cfg.SeenBefore(r.Context(), r.Header.Get("Authorization"))
	if err != nil {
		s.log.Error("tsdb: replay cache", "err", err)
		return apiError(CodeInternal, "")
	}
	if seen {
		s.log.Debug("tsdb: signature replayed", "path", r.URL.Path)
		return &Error{Status: http.StatusUnauthorized, Message: BadToken}
	}
	return nil
}

// readBody reads the body under the limits, charged to the request's gate
// lease, and checks a Content-MD5 header against it.
func (s *Service) readBody(r *http.Request) (*httpx.Body, *Error) {
	body, err := httpx.ReadBody(r, s.cfg.Limits)
	if err != nil {
		var be *httpx.BodyError
		if errors.As(err, &be) {
			e := apiError(CodeBadRequest, "%s", be.Msg)
			e.Status = be.Status
			return nil, e
		}
		if errors.Is(err, httpx.ErrBusy) { // the gate refused the decompressed bytes
			return nil, s.admitError(err)
		}
		return nil, apiError(CodeBadRequest, "%v", err)
	}
	if err := signer.CheckPandoraBodyDigest(signer.FromHTTP(r, body.Raw)); err != nil {
		body.Release()
		s.log.Debug("tsdb: body digest rejected", "path", r.URL.Path, "err", err)
		return nil, &Error{Status: http.StatusUnauthorized, Message: BadToken}
	}
	return body, nil
}

// admitError answers a refused admission. The spec has no capacity code:
// E9003 is ours, 503 with Retry-After so clients back off and retry.
func (s *Service) admitError(err error) *Error {
	var busy *httpx.BusyError
	if !errors.As(err, &busy) {
		return s.internal("admission", err)
	}
	e := apiError(CodeBusy, "%v", busy)
	e.RetryAfter = 1
	return e
}

func splitPath(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// route dispatches on the path; handlers answer success themselves and
// return an *Error otherwise.
func (s *Service) route(q *request) *Error {
	g := q.segs
	m := q.r.Method
	if len(g) < 2 || g[0] != "v4" || g[1] != "repos" {
		return apiError(CodeNotFound, "no API at %s", q.r.URL.Path)
	}
	g = g[2:]
	switch {
	case len(g) == 0 && m == http.MethodGet:
		return s.listRepos(q)
	case len(g) == 1:
		switch m {
		case http.MethodPost:
			return s.createRepo(q, g[0])
		case http.MethodGet:
			return s.getRepo(q, g[0])
		case http.MethodDelete:
			return s.deleteRepo(q, g[0])
		}
	case len(g) == 2 && g[1] == "meta":
		switch m {
		case http.MethodPost:
			return s.updateRepoMeta(q, g[0])
		case http.MethodDelete:
			return s.deleteRepoMeta(q, g[0])
		}
	case len(g) == 2 && g[1] == "series" && m == http.MethodGet:
		return s.listSeries(q, g[0])
	case len(g) == 3 && g[1] == "series":
		switch m {
		case http.MethodPost:
			return s.createSeries(q, g[0], g[2])
		case http.MethodGet:
			return s.getSeries(q, g[0], g[2])
		case http.MethodDelete:
			return s.deleteSeries(q, g[0], g[2])
		}
	case len(g) == 4 && g[1] == "series" && g[3] == "meta":
		switch m {
		case http.MethodPost:
			return s.updateSeriesMeta(q, g[0], g[2])
		case http.MethodDelete:
			return s.deleteSeriesMeta(q, g[0], g[2])
		}
	case len(g) == 2 && g[1] == "views" && m == http.MethodGet:
		return s.listViews(q, g[0])
	case len(g) == 3 && g[1] == "views":
		switch m {
		case http.MethodPost:
			return s.createView(q, g[0], g[2])
		case http.MethodGet:
			return s.getView(q, g[0], g[2])
		case http.MethodDelete:
			return s.deleteView(q, g[0], g[2])
		}
	case len(g) == 2 && g[1] == "points" && m == http.MethodPost:
		return s.writePoints(q, g[0])
	case len(g) == 2 && g[1] == "query" && (m == http.MethodGet || m == http.MethodPost):
		return s.query(q, g[0])
	}
	return apiError(CodeNotFound, "no API for %s %s", m, q.r.URL.Path)
}

// internal logs err and returns the E9001 answer.
func (s *Service) internal(what string, err error) *Error {
	s.log.Error("tsdb: "+what, "err", err)
	return apiError(CodeInternal, "")
}

// lockTable answers "currently modifying" (E6110/E6307) instead of making
// a second modification of the same repo or series wait: a repo key may be
// held shared (series changes inside it) or exclusive (repo changes).
type lockTable struct {
	mu   sync.Mutex
	held map[string]*lockState
}

type lockState struct {
	shared    int
	exclusive bool
}

func (t *lockTable) try(key string, exclusive bool) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	st := t.held[key]
	if st == nil {
		st = &lockState{}
		t.held[key] = st
	}
	if st.exclusive || (exclusive && st.shared > 0) {
		return false
	}
	if exclusive {
		st.exclusive = true
	} else {
		st.shared++
	}
	return true
}

func (t *lockTable) release(key string, exclusive bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	st := t.held[key]
	if st == nil {
		return
	}
	if exclusive {
		st.exclusive = false
	} else if st.shared > 0 {
		st.shared--
	}
	if !st.exclusive && st.shared == 0 {
		delete(t.held, key)
	}
}

func repoKey(ak, repo string) string           { return "r\x00" + ak + "\x00" + repo }
func seriesKey(ak, repo, series string) string { return "s\x00" + ak + "\x00" + repo + "\x00" + series }

// lockRepo takes the repo key; the caller defers the returned release.
func (s *Service) lockRepo(ak, repo string, exclusive bool) (func(), *Error) {
	k := repoKey(ak, repo)
	if !s.locks.try(k, exclusive) {
		return nil, apiError(CodeRepoModifying, "repo %q", repo)
	}
	return func() { s.locks.release(k, exclusive) }, nil
}

// lockSeries takes the repo shared and the series exclusive.
func (s *Service) lockSeries(ak, repo, series string) (func(), *Error) {
	unlockRepo, e := s.lockRepo(ak, repo, false)
	if e != nil {
		return nil, e
	}
	k := seriesKey(ak, repo, series)
	if !s.locks.try(k, true) {
		unlockRepo()
		return nil, apiError(CodeSeriesModifying, "series %q", series)
	}
	return func() { s.locks.release(k, true); unlockRepo() }, nil
}
