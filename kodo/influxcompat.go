package kodo

import (
	"encoding/base64"
	"errors"
	"mime"
	"net/http"
	"strings"

	"github.com/kodo-project/kodo/internal/httpx"
	"github.com/kodo-project/kodo/kodo/kodoapi"
	"github.com/kodo-project/kodo/lineproto"
	"github.com/kodo-project/kodo/storage/meta"
	"github.com/kodo-project/kodo/storage/tsengine"
)

// InfluxDB 1.x compatible endpoints (/ping, /write, /query), so Telegraf,
// Grafana, the influx CLI and the official clients work unchanged. The
// workspace token is the credential: the password of u/p or basic auth,
// or "Authorization: Token <token>". A token reaches its own database only.

// influxVersion is what /ping reports; clients gate features on it.
const influxVersion = "1.8.10"

func setInfluxHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("X-Influxdb-Version", influxVersion)
	h.Set("X-Influxdb-Build", "OSS")
	h.Set("Request-Id", h.Get("X-Trace-Id"))
}

// influxFunc is the shape of an InfluxDB-compatible handler: decode the
// request, call the domain, return what to answer or an error; s.influx
// writes it as influxd would.
type influxFunc func(r *http.Request) (any, error)

// influxRaw is an answer already encoded (Prometheus protobuf, /health's
// exact bytes).
type influxRaw struct {
	contentType, contentEncoding string
	body                         []byte
}

// influxResults is a /query answer, written in the format and chunking
// the client asked for.
type influxResults struct {
	out     influxOut
	results []tsengine.Result
	selects []bool
}

// influxFormatted is a /query error, answered in the format the client
// asked for (JSON, CSV or MessagePack).
type influxFormatted struct {
	out influxOut
	err error
}

func (e influxFormatted) Error() string { return e.err.Error() }
func (e influxFormatted) Unwrap() error { return e.err }

// influx adapts an influxFunc to net/http: nil is 204 No Content (writes,
// /ping), influxRaw and influxResults write themselves, any other value
// is JSON, and an error goes through influxError.
func (s *service) influx(h influxFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		setInfluxHeaders(w)
		v, err := h(r)
		if err != nil {
			s.influxError(w, r, err)
			return
		}
		switch v := v.(type) {
		case nil:
			w.WriteHeader(http.StatusNoContent)
		case influxRaw:
			w.Header().Set("Content-Type", v.contentType)
			if v.contentEncoding != "" {
				w.Header().Set("Content-Encoding", v.contentEncoding)
			}
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write(v.body)
		case influxResults:
			writeInfluxResults(w, v.out, v.results, v.selects)
		default:
			writeJSON(w, http.StatusOK, v)
		}
	}
}

// influxError answers as InfluxDB does: {"error": "..."} with the status
// (in the client's format for /query).
func (s *service) influxError(w http.ResponseWriter, r *http.Request, err error) {
	e := s.apiError(err)
	noteAuthFailure(r, e.Code)
	status := e.Code.Status()
	if status >= 500 {
		s.log.Error("request failed", "path", r.URL.Path, "err", err)
	}
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", itoa(e.RetryAfter))
	}
	var f influxFormatted
	if errors.As(err, &f) {
		writeInfluxError(w, f.out, status, e.Message)
		return
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="kodo"`)
	}
	writeJSON(w, status, influxErrorBody{Error: e.Message})
}

// influxErrorBody is influxd's error answer.
type influxErrorBody struct {
	Error string `json:"error"`
}

// influxPing is /ping?verbose=true's answer.
type influxPing struct {
	Version string `json:"version"`
}

func (s *service) handleInfluxPing(r *http.Request) (any, error) {
	if r.URL.Query().Get("verbose") == "true" {
		return influxPing{Version: influxVersion}, nil
	}
	return nil, nil
}

// influxCredential finds the token of an InfluxDB-style request.
func influxCredential(r *http.Request) string {
	if auth := r.Header.Get("Authorization"); auth != "" {
		scheme, rest, _ := strings.Cut(auth, " ")
		switch strings.ToLower(scheme) {
		case "token":
			// InfluxDB 1.8's v2 API sends "Token <user>:<password>".
			rest = strings.TrimSpace(rest)
			if _, pass, ok := strings.Cut(rest, ":"); ok {
				return pass
			}
			return rest
		case "basic":
			raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(rest))
			if err == nil {
				user, pass, _ := strings.Cut(string(raw), ":")
				if pass != "" {
					return pass
				}
				return user
			}
		}
	}
	return formValue(r, "p")
}

// formValue reads a parameter from the URL, or from the parsed form when
// the handler parsed one (/query accepts form bodies; /write's body is line
// protocol even when a client labels it as a form, as curl -d does).
func formValue(r *http.Request, key string) string {
	if r.Form != nil {
		return r.Form.Get(key)
	}
	return r.URL.Query().Get(key)
}

// influxAuth resolves the request's token and checks that the db it names
// (by engine name or db_uuid) is the token's own.
func (s *service) influxAuth(r *http.Request) (meta.Database, error) {
	token := influxCredential(r)
	if token == "" {
		return meta.Database{}, Errorf(kodoapi.ErrUnauthorized, "unable to parse authentication credentials: send the workspace token as the password (u/p or basic auth) or as Authorization: Token <token>")
	}
	_, db, err := s.tokens.lookup(r.Context(), token)
	if err != nil {
		var e *Error
		if errors.As(err, &e) && e.Code == kodoapi.ErrTokenNotFound {
			return db, Errorf(kodoapi.ErrUnauthorized, "authorization failed")
		}
		return db, err
	}
	name := formValue(r, "db")
	if name != "" && name != db.Name && name != db.UUID {
		return db, Errorf(kodoapi.ErrForbidden, "database %q is not this token's database (%s)", name, db.Name)
	}
	return db, nil
}

// maxAnonymousForm bounds a /query form read before its request is
// authenticated, which happens only when the credential is inside it: a
// query form is small, and an anonymous client must not make the gateway
// read or hold more.
const maxAnonymousForm = 64 << 10

// influxAuthHeaders authenticates an InfluxDB API request before the gate
// and before its body is read (see admit): the token comes from the
// Authorization header or the URL. A /query form that carries the token
// itself is read first, up to maxAnonymousForm.
func (s *service) influxAuthHeaders(r *http.Request) error {
	if influxCredential(r) == "" && r.Method == http.MethodPost && r.URL.Path == "/query" && isForm(r) {
		tooBig := Errorf(kodoapi.ErrUnauthorized, "a form over %d bytes must not carry its credential: send the token as p= in the URL, with basic auth or as Authorization: Token <token>", maxAnonymousForm)
		if r.ContentLength > maxAnonymousForm {
			return tooBig
		}
		r.Body = http.MaxBytesReader(nil, r.Body, maxAnonymousForm)
		if err := r.ParseForm(); err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return tooBig
			}
			return formError(err)
		}
	}
	_, err := s.influxAuth(r)
	return err
}

func isForm(r *http.Request) bool {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return ct == "application/x-www-form-urlencoded"
}

// formError maps a failure to read a form body.
func formError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return Errorf(kodoapi.ErrBodyTooLarge, "the form exceeds the limit of %d bytes", mbe.Limit)
	}
	var e *Error
	var be *httpx.BodyError
	if errors.As(err, &e) || errors.As(err, &be) {
		return err
	}
	return Errorf(kodoapi.ErrBadRequest, "reading the query parameters: %v", err)
}

func (s *service) handleInfluxWrite(r *http.Request) (any, error) {
	db, err := s.influxAuth(r)
	if err != nil {
		return nil, err
	}
	q := r.URL.Query()
	rp := q.Get("rp")
	if rp != "" && rp != db.DefaultRP && !s.hasRP(r.Context(), &db, rp) {
		return nil, Errorf(kodoapi.ErrRPNotFound, "retention policy not found: %s", rp)
	}
	prec, err := lineproto.ParsePrecision(q.Get("precision"))
	if err != nil {
		return nil, wrapErr(kodoapi.ErrBadRequest, err, "invalid precision %q (use n, u, ms, s, m or h)", q.Get("precision"))
	}
	body, err := s.readBody(r)
	if err != nil {
		return nil, err
	}
	defer body.Release()
	s.metrics.bytes.WithLabelValues("wire").Add(float64(len(body.Raw)))
	s.metrics.bytes.WithLabelValues("data").Add(float64(len(body.Data)))
	if err := s.writeLines(r.Context(), db, rp, prec, body.Data, "influx"); err != nil {
		return nil, influxWriteError(err)
	}
	return nil, nil
}

// influxResult is a statement result shaped as InfluxDB's /query answers it.
type influxResult struct {
	StatementID int                `json:"statement_id"`
	Series      []tsengine.Row     `json:"series,omitempty"`
	Messages    []tsengine.Message `json:"messages,omitempty"`
	Partial     bool               `json:"partial,omitempty"`
	Err         string             `json:"error,omitempty"`
}

func (s *service) handleInfluxQuery(r *http.Request) (any, error) {
	if r.Method == http.MethodPost {
		// q, db, epoch may come as a form body; bound it like every body.
		r.Body = http.MaxBytesReader(nil, httpx.MeteredBody(r), s.limit.MaxBodyBytes)
	}
	if err := r.ParseForm(); err != nil {
		return nil, formError(err)
	}
	db, err := s.influxAuth(r)
	if err != nil {
		return nil, err
	}
	return s.serveInfluxQuery(r, db)
}
