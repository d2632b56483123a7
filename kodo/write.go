package kodo

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/kodo-project/kodo/kodo/kodoapi"
	"github.com/kodo-project/kodo/lineproto"
	"github.com/kodo-project/kodo/signer"
	"github.com/kodo-project/kodo/storage/meta"
	"github.com/kodo-project/kodo/storage/tsengine"
)

// authenticateWriteHeaders is the first half of a /v1/write* request's
// authentication, run before the gate and before any body byte is read
// (see admit): the Authorization shape, Date, the token or key id, and for
// a DATAFLUX token with a secret the signature itself. An MD5-keyed
// DATAFLUX signature and every DWAY signature cover the body, so
// authenticateWrite completes them once the body is read.
func (s *service) authenticateWriteHeaders(r *http.Request) error {
	_, _, err := s.verifyWrite(r, nil, false)
	return err
}

// authenticateWrite checks the signature of a /v1/write* request against
// the raw body and returns the workspace and database it writes to.
func (s *service) authenticateWrite(r *http.Request, raw []byte) (meta.Workspace, meta.Database, error) {
	return s.verifyWrite(r, raw, true)
}

// verifyWrite runs the header checks only (withBody false: raw is unread)
// or the whole verification.
func (s *service) verifyWrite(r *http.Request, raw []byte, withBody bool) (meta.Workspace, meta.Database, error) {
	ctx := r.Context()
	req := signer.FromHTTP(r, raw)
	auth := r.Header.Get("Authorization")
	switch signer.SchemeOf(auth) {
	case signer.SchemeDataflux:
		var ws meta.Workspace
		var db meta.Database
		v := signer.DatafluxVerifier{Now: s.now}
		keysFor := func(token string) (signer.DatafluxKeys, error) {
			var err error
			ws, db, err = s.tokens.lookup(ctx, token)
			return s.datafluxKeys(ws), err
		}
		var err error
		if withBody {
			_, err = v.VerifyKeys(req, keysFor)
		} else {
			_, _, err = v.VerifyKeysHeader(req, keysFor)
		}
		if err != nil {
			return ws, db, signatureError(err)
		}
		if !withBody {
			return ws, db, nil // the replay check waits for the whole verification
		}
		return ws, db, s.checkReplay(r)
	case signer.SchemeDway:
		var kp meta.KeyPair
		v := signer.DwayVerifier{Now: s.now, DenySecretAsID: s.opts.StrictDway}
		lookup := func(id string) (signer.KeyPair, error) {
			var err error
			kp, err = s.meta.KeyPairByID(ctx, id)
			if errors.Is(err, meta.ErrNotFound) {
				return signer.KeyPair{}, Errorf(kodoapi.ErrInvalidSignature, "unknown DWAY key")
			}
			return signer.KeyPair{AccessKey: kp.AccessKey, SecretKey: kp.SecretKey}, err
		}
		var err error
		if withBody {
			_, err = v.Verify(req, lookup)
		} else {
			_, err = v.VerifyHeader(req, lookup)
		}
		if err != nil {
			return meta.Workspace{}, meta.Database{}, signatureError(err)
		}
		if withBody {
			if err := s.checkReplay(r); err != nil {
				return meta.Workspace{}, meta.Database{}, err
			}
		}
		ws, err := s.meta.Workspace(ctx, kp.WorkspaceUUID)
		if err != nil {
			return ws, meta.Database{}, notFoundAs(err, kodoapi.ErrTokenNotFound, "the key's workspace no longer exists")
		}
		// A DWAY write may name its workspace by token; it must be the key's.
		if token := requestToken(r); token != "" && token != ws.Token {
			return ws, meta.Database{}, Errorf(kodoapi.ErrForbidden, "the DWAY key belongs to another workspace than the token")
		}
		_, db, err := s.tokens.lookup(ctx, ws.Token)
		return ws, db, err
	case "":
		if auth == "" {
			return meta.Workspace{}, meta.Database{}, Errorf(kodoapi.ErrInvalidSignature, "missing Authorization header; sign the request with DATAFLUX <token>:<signature> or DWAY <key>:<signature>")
		}
		return meta.Workspace{}, meta.Database{}, Errorf(kodoapi.ErrInvalidSignature, "unsupported Authorization scheme; use DATAFLUX or DWAY")
	default:
		return meta.Workspace{}, meta.Database{}, Errorf(kodoapi.ErrInvalidSignature, "writes are signed with DATAFLUX or DWAY, not %s", signer.SchemeOf(auth))
	}
}

// signatureError keeps API errors raised by lookups (unknown token: 403)
// and turns signer errors into 401s that say what failed.
func signatureError(err error) error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	msg := err.Error()
	var se *signer.Error
	var code signer.ErrorCode
	switch {
	case errors.As(err, &se):
		msg = se.Reason()
	case errors.As(err, &code):
		msg = code.String()
	}
	return wrapErr(kodoapi.ErrInvalidSignature, err, "%s", msg)
}

// writeOptions reads the RP and precision of a write request.
func (s *service) writeOptions(r *http.Request, db meta.Database) (rp string, prec lineproto.Precision, err error) {
	q := r.URL.Query()
	rp = r.Header.Get("X-RP")
	if rp == "" {
		rp = q.Get("rp")
	}
	if rp == "" {
		// The DataWay SDK names the RP in shortrp= (empty: the default).
		rp = q.Get("shortrp")
	}
	if rp != "" && !s.hasRP(r.Context(), &db, rp) {
		return "", 0, Errorf(kodoapi.ErrRPNotFound, "retention policy %q is not one of this database's: %s", rp, strings.Join(db.RPs, ", "))
	}
	prec, err = requestPrecision(r)
	return rp, prec, err
}

func (s *service) handleWriteMetrics(r *http.Request) (any, error) {
	body, err := s.readBody(r)
	if err != nil {
		return nil, err
	}
	defer body.Release()
	_, db, err := s.authenticateWrite(r, body.Raw)
	if err != nil {
		return nil, err
	}
	rp, prec, err := s.writeOptions(r, db)
	if err != nil {
		return nil, err
	}
	s.metrics.bytes.WithLabelValues("wire").Add(float64(len(body.Raw)))
	s.metrics.bytes.WithLabelValues("data").Add(float64(len(body.Data)))
	if err := s.writeLines(r.Context(), db, rp, prec, body.Data, "kodo"); err != nil {
		return nil, err
	}
	return nil, nil
}

// writeLines parses line protocol and stores the good points durably. Bad
// lines answer 400 naming each (the good ones are kept, as InfluxDB does).
func (s *service) writeLines(ctx context.Context, db meta.Database, rp string, prec lineproto.Precision, data []byte, api string) error {
	batch := s.getBatch()
	defer s.putBatch(batch)
	perr := lineproto.Parse(data, lineproto.ParseOptions{
		Precision: prec, Now: s.now(), Limits: s.lineLimits(), MaxFuture: positive(s.opts.Limits.MaxFuture),
	}, batch)
	var partial *lineproto.PartialError
	switch {
	case perr == nil:
	case errors.As(perr, &partial):
	default:
		return wrapErr(kodoapi.ErrInvalidLine, perr, "%v", perr)
	}
	if batch.Len() > 0 {
		if err := s.storePoints(ctx, db, rp, batch, api); err != nil {
			return err
		}
	}
	if partial != nil {
		s.metrics.rejectedLines.Add(float64(partial.Rejected))
		code := kodoapi.ErrPartialWrite
		if batch.Len() == 0 {
			code = kodoapi.ErrInvalidLine // nothing was stored: the body as a whole is bad
		}
		le := kodoapi.PartialWrite{Accepted: batch.Len(), Rejected: partial.Rejected}
		for _, e := range partial.Errors {
			le.Errors = append(le.Errors, e.Error())
		}
		return &Error{Code: code, Content: le, Message: partialMessage(partial, batch.Len())}
	}
	return nil
}

func partialMessage(p *lineproto.PartialError, accepted int) string {
	msg := p.Error()
	if accepted > 0 {
		return msg + "; the other lines were stored"
	}
	return msg
}

// storePoints writes a batch to the database's engine and updates the
// bookkeeping that reads rely on (measurement -> RP, series counts).
func (s *service) storePoints(ctx context.Context, db meta.Database, rp string, batch *lineproto.Batch, api string) error {
	eng, err := s.engineFor(db)
	if err != nil {
		return err
	}
	start := time.Now()
	werr := eng.WritePoints(withWriteLimits(ctx, db), db.Name, rp, batch)
	s.metrics.writeSeconds.Observe(time.Since(start).Seconds())
	var pw *tsengine.PartialWriteError
	if werr != nil && !errors.As(werr, &pw) {
		s.metrics.engineErrors.WithLabelValues("write").Inc()
		return engineError(werr, "writing points")
	}
	stored, effective := batch.Len(), rp
	if effective == "" {
		effective = db.DefaultRP
	}
	if pw != nil {
		stored -= pw.Dropped
	}
	// The sinks get what the engine accepted, through the queue; the
	// answer waits for nsqd to have it, never for a sink.
	if err := s.publishAccepted(ctx, db.Name, s.opts.RetentionPolicies[effective], batch, pw); err != nil {
		return err
	}
	s.metrics.points.WithLabelValues(api).Add(float64(max(stored, 0)))
	measurements := make(map[string]struct{}, 4)
	// Hashes go to the sketch in fixed chunks and keys are built in one
	// reused buffer, both on the stack: no allocation per request.
	var hashes [512]uint64
	var keyBuf [256]byte
	key := keyBuf[:0]
	var last []byte
	n := 0
	for i := 0; i < batch.Len(); i++ {
		p := batch.At(i)
		if string(p.Measurement) != string(last) {
			measurements[string(p.Measurement)] = struct{}{}
			last = p.Measurement
		}
		key = p.AppendSeriesKey(key[:0])
		hashes[n] = s.series.hash(key)
		if n++; n == len(hashes) {
			s.series.observe(db.UUID, hashes[:n])
			n = 0
		}
	}
	s.series.observe(db.UUID, hashes[:n])
	if err := s.mrp.record(ctx, db.UUID, effective, measurements); err != nil {
		// The points are stored; only get_rp's answer may lag.
		s.log.Warn("recording measurement RPs", "db_uuid", db.UUID, "err", err)
	}
	if pw != nil {
		rest := "; the others were stored"
		if pw.Dropped >= batch.Len() {
			rest = "; no point was stored"
		}
		code := kodoapi.ErrPartialWrite
		if strings.Contains(pw.Reason, "field type conflict") {
			code = kodoapi.ErrFieldTypeConflict
		}
		return &Error{Code: code, cause: werr,
			Message: "the engine refused " + itoa(pw.Dropped) + " point(s): " + pw.Reason + rest + refusalHint(pw.Reason),
			Content: kodoapi.PartialWrite{Accepted: batch.Len() - pw.Dropped, Rejected: pw.Dropped, Errors: []string{pw.Reason}}}
	}
	return nil
}

func (s *service) lineLimits() lineproto.Limits {
	l := lineproto.DefaultLimits()
	l.MaxLineBytes = s.opts.Limits.MaxLineBytes
	return l
}

func (s *service) getBatch() *lineproto.Batch {
	if b, ok := s.batches.Get().(*lineproto.Batch); ok {
		return b
	}
	return new(lineproto.Batch)
}

func (s *service) putBatch(b *lineproto.Batch) {
	if b.Len() > 1_000_000 { // don't pool a batch that holds a huge body's memory
		return
	}
	b.Reset()
	s.batches.Put(b)
}

// requestPrecision is a write's timestamp precision: X-Precision, else
// precision=, else nanoseconds.
func requestPrecision(r *http.Request) (lineproto.Precision, error) {
	p := r.Header.Get("X-Precision")
	if p == "" {
		p = r.URL.Query().Get("precision")
	}
	prec, err := lineproto.ParsePrecision(p)
	if err != nil {
		return prec, wrapErr(kodoapi.ErrBadRequest, err, "precision %q (X-Precision header or precision= parameter) is not one of n, ns, u, us, ms, s, m, h", p)
	}
	return prec, nil
}
