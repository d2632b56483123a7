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
	"path"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/kodo-project/kodo/internal/bgdrop"
	"github.com/kodo-project/kodo/internal/httpx"
	"github.com/kodo-project/kodo/lineproto"
	"github.com/kodo-project/kodo/signer"
	"github.com/kodo-project/kodo/storage/tsengine"
	"github.com/kodo-project/kodo/tsdb/tsdbapi"
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
	p := strings.Trim(r.URL.Path, "/")
	switch {
	case strings.Count(p, "/") == 3 && strings.HasSuffix(p, "/query"): // /v4/repos/<repo>/query
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
	mux     *http.ServeMux // the routes, behind serve's authentication

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
	s.mux = s.routes()
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

// Handler serves the API under /v4/: the full path, as the Pandora
// signature covers it, so the embedding server mounts it at "/v4/"
// without stripping the prefix.
func (s *Service) Handler() http.Handler { return http.HandlerFunc(s.serve) }

// serve authenticates from the headers (the Pandora signature never
// covers the body), then admits the request to its gate, then reads the
// body: an unsigned request is refused without a byte of its body read or
// decompressed, and never holds a gate slot. The routes of s.mux answer
// what is left.
func (s *Service) serve(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if v := recover(); v != nil {
			s.log.Error("tsdb: panic", "path", r.URL.Path, "panic", v)
			writeError(w, tsdbapi.Errorf(tsdbapi.CodeInternal, ""))
		}
	}()
	ak, err := s.authenticate(r)
	if err != nil {
		w.Header().Set("Connection", "close") // hang up rather than drain the unread body
		s.fail(w, r, err)
		return
	}
	if work := workOf(r); work != "" && s.cfg.Admit != nil {
		admitted, release, err := s.cfg.Admit(r, work)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		defer release()
		r = admitted
	}
	body, err := s.readBody(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	defer body.Release()
	if err := s.replayed(r); err != nil {
		s.fail(w, r, err)
		return
	}
	r, err = routable(r.WithContext(context.WithValue(r.Context(), callKey{}, &call{ak: ak, body: body.Data})))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// routable returns r with the path the routes match: decoded, as the API
// always split it (an escaped "/" in a name is a separator, as before),
// and without the slashes around it ("/v4/repos/" is "/v4/repos"). A path
// that is not clean is not an API, nor is HEAD, which the GET patterns of
// a ServeMux would take: ServeMux would answer the first with a redirect.
func routable(r *http.Request) (*http.Request, error) {
	p := "/" + strings.Trim(r.URL.Path, "/")
	if path.Clean(p) != p || r.Method == http.MethodHead {
		return r, noAPIError(r)
	}
	if p != r.URL.Path || r.URL.RawPath != "" {
		u := *r.URL // the caller's URL stays as it was
		u.Path, u.RawPath = p, ""
		r.URL = &u
	}
	return r, nil
}

// authenticate checks the Pandora signature from the headers alone; the
// Content-MD5 against the body, the one part that needs it, is readBody's.
func (s *Service) authenticate(r *http.Request) (string, error) {
	v := signer.PandoraVerifier{Now: s.now, MaxSkew: s.cfg.MaxSkew, SkipBodyDigest: true}
	ak, err := v.Verify(signer.FromHTTP(r, nil), func(ak string) (string, error) {
		kp, err := s.cfg.Store.PandoraKeyPair(r.Context(), ak)
		return kp.SecretKey, err
	})
	if err != nil {
		var se *signer.Error
		if errors.As(err, &se) && se.Code == signer.ErrUnknownKey && se.Err != nil && !errors.Is(se.Err, ErrNotFound) {
			return "", fmt.Errorf("key lookup: %w", err) // the store failed, not the client
		}
		s.log.Debug("tsdb: signature rejected", "path", r.URL.Path, "err", err)
		return "", errBadToken
	}
	return ak, nil
}

// errBadToken is the answer to a signature that does not verify: the
// spec's 401 without a code.
var errBadToken = &tsdbapi.Error{Status: http.StatusUnauthorized, Message: tsdbapi.BadToken}

// replayed asks the replay cache, once the whole request (body digest
// included) has verified, whether its signature was used before.
func (s *Service) replayed(r *http.Request) error {
	if s.cfg.SeenBefore == nil {
		return nil
	}
	seen, err := s.cfg.SeenBefore(r.Context(), r.Header.Get("Authorization"))
	if err != nil {
		return fmt.Errorf("replay cache: %w", err)
	}
	if seen {
		s.log.Debug("tsdb: signature replayed", "path", r.URL.Path)
		return errBadToken
	}
	return nil
}

// readBody reads the body under the limits, charged to the request's gate
// lease, and checks a Content-MD5 header against it.
func (s *Service) readBody(r *http.Request) (*httpx.Body, error) {
	body, err := httpx.ReadBody(r, s.cfg.Limits)
	if err != nil {
		var be *httpx.BodyError
		if errors.As(err, &be) || errors.Is(err, httpx.ErrBusy) {
			return nil, err // answered by fail: over a limit, or the gate refused the decompressed bytes
		}
		return nil, tsdbapi.Errorf(tsdbapi.CodeBadRequest, "%v", err)
	}
	if err := signer.CheckPandoraBodyDigest(signer.FromHTTP(r, body.Raw)); err != nil {
		body.Release()
		s.log.Debug("tsdb: body digest rejected", "path", r.URL.Path, "err", err)
		return nil, errBadToken
	}
	return body, nil
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
func (s *Service) lockRepo(ak, repo string, exclusive bool) (func(), error) {
	k := repoKey(ak, repo)
	if !s.locks.try(k, exclusive) {
		return nil, tsdbapi.Errorf(tsdbapi.CodeRepoModifying, "repo %q", repo)
	}
	return func() { s.locks.release(k, exclusive) }, nil
}

// lockSeries takes the repo shared and the series exclusive.
func (s *Service) lockSeries(ak, repo, series string) (func(), error) {
	unlockRepo, e := s.lockRepo(ak, repo, false)
	if e != nil {
		return nil, e
	}
	k := seriesKey(ak, repo, series)
	if !s.locks.try(k, true) {
		unlockRepo()
		return nil, tsdbapi.Errorf(tsdbapi.CodeSeriesModifying, "series %q", series)
	}
	return func() { s.locks.release(k, true); unlockRepo() }, nil
}

// lockSeriesOfRepo takes the lock of a series (or view) name, then checks
// that the repo exists and is not being deleted; the caller defers the
// returned release.
func (s *Service) lockSeriesOfRepo(ctx context.Context, ak, repo, name string) (func(), error) {
	unlock, err := s.lockSeries(ak, repo, name)
	if err != nil {
		return nil, err
	}
	if _, err := s.loadRepo(ctx, ak, repo, false); err != nil {
		unlock()
		return nil, err
	}
	return unlock, nil
}
