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

// influxError answers as InfluxDB does: {"error": "..."} with the status.
func (s *service) influxError(w http.ResponseWriter, r *http.Request, err error) {
	e := asError(err)
	noteAuthFailure(r, e.Code)
	status := e.Code.Status()
	if status >= 500 {
		s.log.Error("request failed", "path", r.URL.Path, "err", err)
	}
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", itoa(e.RetryAfter))
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="kodo"`)
	}
	writeJSON(w, status, map[string]string{"error": e.Message})
}

func (s *service) handleInfluxPing(w http.ResponseWriter, r *http.Request) {
	setInfluxHeaders(w)
	if r.URL.Query().Get("verbose") == "true" {
		writeJSON(w, http.StatusOK, map[string]string{"version": influxVersion})
		return
	}
	w.WriteHeader(http.StatusNoContent)
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
		return bodyError(err)
	}
	return Errorf(kodoapi.ErrBadRequest, "reading the query parameters: %v", err)
}

func (s *service) handleInfluxWrite(w http.ResponseWriter, r *http.Request) {
	setInfluxHeaders(w)
	db, err := s.influxAuth(r)
	if err != nil {
		s.influxError(w, r, err)
		return
	}
	q := r.URL.Query()
	rp := q.Get("rp")
	if rp != "" && rp != db.DefaultRP && !s.hasRP(r.Context(), &db, rp) {
		s.influxError(w, r, Errorf(kodoapi.ErrRPNotFound, "retention policy not found: %s", rp))
		return
	}
	prec, err := lineproto.ParsePrecision(q.Get("precision"))
	if err != nil {
		s.influxError(w, r, wrapErr(kodoapi.ErrBadRequest, err, "invalid precision %q (use n, u, ms, s, m or h)", q.Get("precision")))
		return
	}
	body, err := s.readBody(r)
	if err != nil {
		s.influxError(w, r, err)
		return
	}
	defer body.Release()
	s.metrics.bytes.WithLabelValues("wire").Add(float64(len(body.Raw)))
	s.metrics.bytes.WithLabelValues("data").Add(float64(len(body.Data)))
	if err := s.writeLines(r.Context(), db, rp, prec, body.Data, "influx"); err != nil {
		s.influxError(w, r, influxWriteError(err))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// influxResult is a statement result shaped as InfluxDB's /query answers it.
type influxResult struct {
	StatementID int                `json:"statement_id"`
	Series      []tsengine.Row     `json:"series,omitempty"`
	Messages    []tsengine.Message `json:"messages,omitempty"`
	Partial     bool               `json:"partial,omitempty"`
	Err         string             `json:"error,omitempty"`
}

func (s *service) handleInfluxQuery(w http.ResponseWriter, r *http.Request) {
	setInfluxHeaders(w)
	if r.Method == http.MethodPost {
		// q, db, epoch may come as a form body; bound it like every body.
		r.Body = http.MaxBytesReader(w, httpx.MeteredBody(r), s.limit.MaxBodyBytes)
	}
	if err := r.ParseForm(); err != nil {
		s.influxError(w, r, formError(err))
		return
	}
	db, err := s.influxAuth(r)
	if err != nil {
		s.influxError(w, r, err)
		return
	}
	s.serveInfluxQuery(w, r, db)
}
