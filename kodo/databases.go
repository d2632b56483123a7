package kodo

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/kodo-project/kodo/storage/meta"
	"github.com/kodo-project/kodo/storage/queue"
	"github.com/kodo-project/kodo/storage/tsengine"
)

// workspaceCreateRequest is the body of POST /v1/workspace/create.
type workspaceCreateRequest struct {
	Name      string   `json:"name"`
	DefaultRP string   `json:"default_rp"`
	CQRP      *string  `json:"cqrp"`
	RPList    []string `json:"rp_list"`
	CardinalityLimits
}

// dbPlan is a validated database RP layout (and write limits).
type dbPlan struct {
	defaultRP, cqrp string
	rps             []string
	limits          meta.DatabaseLimits
}

// planRPs validates an RP layout against the configured RP table; missing
// parts get the defaults (every configured RP, the configured default RP,
// autogen as CQ RP).
// RPs listed in known (made with InfluxQL on an existing database) are
// accepted though not configured.
func (s *service) planRPs(defaultRP string, cqrp *string, rpList []string, known ...string) (dbPlan, error) {
	p := dbPlan{defaultRP: defaultRP, rps: slices.Clone(rpList)}
	if p.defaultRP == "" {
		p.defaultRP = s.opts.DefaultRP
	}
	if cqrp == nil {
		p.cqrp = "autogen"
	} else {
		p.cqrp = *cqrp
	}
	if len(p.rps) == 0 {
		p.rps = s.configuredRPs()
	}
	for _, rp := range []string{p.defaultRP, p.cqrp} {
		if rp != "" && !slices.Contains(p.rps, rp) {
			p.rps = append(p.rps, rp)
		}
	}
	for _, rp := range p.rps {
		if _, ok := s.opts.RetentionPolicies[rp]; !ok && !slices.Contains(known, rp) {
			return dbPlan{}, Errorf(ErrRPNotFound, "retention policy %q is not configured; use one of %s", rp, strings.Join(s.configuredRPs(), ", "))
		}
	}
	return p, nil
}

func (s *service) configuredRPs() []string {
	return slices.Sorted(maps.Keys(s.opts.RetentionPolicies))
}

// enginePolicies turns a database's RP names into engine policies.
func (s *service) enginePolicies(db meta.Database) []tsengine.RetentionPolicy {
	out := make([]tsengine.RetentionPolicy, 0, len(db.RPs))
	for _, rp := range db.RPs {
		d, ok := s.opts.RetentionPolicies[rp]
		if !ok {
			continue // made with InfluxQL: the engine keeps its duration
		}
		out = append(out, tsengine.RetentionPolicy{Name: rp, Duration: d, Default: rp == db.DefaultRP})
	}
	return out
}

// createDatabase places a new database, creates it on its engine, and only
// then records it, so a recorded database always exists on its engine.
// An instance that fails the creation as unavailable is marked down and
// the next healthy one is tried.
func (s *service) createDatabase(ctx context.Context, wsUUID string, p dbPlan) (meta.Database, error) {
	id := newID("ifdb_")
	for attempt := 0; ; attempt++ {
		inst, err := s.placeDatabase(ctx)
		if err != nil {
			return meta.Database{}, err
		}
		db := meta.Database{
			UUID: id, WorkspaceUUID: wsUUID, Name: "db_" + strings.TrimPrefix(id, "ifdb_"),
			InstanceUUID: inst, DefaultRP: p.defaultRP, CQRP: p.cqrp, RPs: p.rps, CreatedAt: s.now().UTC(),
			Limits: p.limits,
		}
		eng, err := s.engineFor(db)
		if err != nil {
			return meta.Database{}, err
		}
		err = eng.CreateDatabase(ctx, db.Name, s.enginePolicies(db))
		if err == nil {
			return db, nil
		}
		if errors.Is(err, tsengine.ErrUnavailable) && ctx.Err() == nil && attempt+1 < len(s.placeable) {
			s.health.markDown(inst, err)
			continue
		}
		return meta.Database{}, engineError(err, "creating database")
	}
}

// createWorkspace makes a workspace with a new token and its database.
func (s *service) createWorkspace(ctx context.Context, name string, p dbPlan) (meta.Workspace, meta.Database, error) {
	// New workspaces refuse MD5-keyed signatures: their agents sign with
	// the secret, which only the create answer shows.
	ws := meta.Workspace{UUID: newID("wksp_"), Name: name, Token: newID("tkn_"), Secret: newSecret(), CreatedAt: s.now().UTC()}
	db, err := s.createDatabase(ctx, ws.UUID, p)
	if err != nil {
		return ws, db, err
	}
	if err := s.meta.CreateWorkspace(ctx, ws, db); err != nil {
		return ws, db, metaError(err, "creating workspace")
	}
	return ws, db, nil
}

func (s *service) handleWorkspaceCreate(w http.ResponseWriter, r *http.Request) {
	var req workspaceCreateRequest
	if err := s.decodeJSON(r, &req, true); err != nil {
		s.fail(w, r, err)
		return
	}
	plan, err := s.planRPs(req.DefaultRP, req.CQRP, req.RPList)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if plan.limits, err = req.apply(plan.limits); err != nil {
		s.fail(w, r, err)
		return
	}
	ws, db, err := s.createWorkspace(r.Context(), req.Name, plan)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	respond(w, map[string]any{
		"workspace_uuid": ws.UUID, "token": ws.Token, "secret": ws.Secret, "db_uuid": db.UUID,
		"db": db.Name, "rp": db.DefaultRP, "cqrp": db.CQRP, "rp_list": db.RPs, "uuid": db.InstanceUUID,
		"limits": s.limitsAnswer(db),
	})
}

func (s *service) handleAddDB(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var cqrp *string
	if q.Has("cqrp") {
		v := q.Get("cqrp")
		cqrp = &v
	}
	var rpList []string
	for _, rp := range strings.Split(q.Get("rp_list"), ",") {
		if rp = strings.TrimSpace(rp); rp != "" {
			rpList = append(rpList, rp)
		}
	}
	plan, err := s.planRPs(q.Get("default_rp"), cqrp, rpList)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ctx := r.Context()
	wsUUID := q.Get("workspace_uuid")
	if wsUUID == "" {
		// Every database belongs to a workspace (its token is how agents
		// write to it): without one, add_db creates it and answers its token.
		ws, db, err := s.createWorkspace(ctx, q.Get("name"), plan)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		respond(w, map[string]any{"db": db.Name, "rp": db.DefaultRP, "uuid": db.InstanceUUID, "dbUUID": db.UUID,
			"workspace_uuid": ws.UUID, "token": ws.Token, "secret": ws.Secret})
		return
	}
	if _, err := s.meta.Workspace(ctx, wsUUID); err != nil {
		s.fail(w, r, notFoundAs(err, ErrWorkspaceNotFound, "workspace %s not found", wsUUID))
		return
	}
	db, err := s.createDatabase(ctx, wsUUID, plan)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.meta.CreateDatabase(ctx, db); err != nil {
		s.fail(w, r, metaError(err, "recording database"))
		return
	}
	respond(w, map[string]any{"db": db.Name, "rp": db.DefaultRP, "uuid": db.InstanceUUID, "dbUUID": db.UUID, "workspace_uuid": wsUUID})
}

// database loads a database by uuid, answering kodo.dbNotFound.
func (s *service) database(ctx context.Context, uuid string) (meta.Database, error) {
	if uuid == "" {
		return meta.Database{}, Errorf(ErrBadRequest, "db_uuid is required")
	}
	db, err := s.meta.Database(ctx, uuid)
	if err != nil {
		return meta.Database{}, notFoundAs(err, ErrDBNotFound, "db not found")
	}
	return db, nil
}

type modifyDBRPRequest struct {
	DBUUID    string   `json:"db_uuid"`
	DefaultRP string   `json:"default_rp"`
	CQRP      *string  `json:"cqrp"`
	RPList    []string `json:"rp_list"`
}

func (s *service) handleModifyDBRP(w http.ResponseWriter, r *http.Request) {
	var req modifyDBRPRequest
	if err := s.decodeJSON(r, &req, false); err != nil {
		s.fail(w, r, err)
		return
	}
	db, err := s.database(r.Context(), req.DBUUID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rps := slices.Clone(db.RPs)
	for _, rp := range req.RPList {
		if !slices.Contains(rps, rp) {
			rps = append(rps, rp)
		}
	}
	def := req.DefaultRP
	if def == "" {
		def = db.DefaultRP
	}
	cqrp := db.CQRP
	if req.CQRP != nil {
		cqrp = *req.CQRP
	}
	plan, err := s.planRPs(def, &cqrp, rps, db.RPs...)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	db.DefaultRP, db.CQRP, db.RPs = plan.defaultRP, plan.cqrp, plan.rps
	eng, err := s.engineFor(db)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := eng.CreateDatabase(r.Context(), db.Name, s.enginePolicies(db)); err != nil {
		s.fail(w, r, engineError(err, "updating retention policies"))
		return
	}
	if err := s.meta.UpdateDatabase(r.Context(), db); err != nil {
		s.fail(w, r, metaError(err, "updating database"))
		return
	}
	s.tokens.evict("", db.UUID)
	respond(w, map[string]any{"db_uuid": db.UUID, "db": db.Name, "default_rp": db.DefaultRP, "cqrp": db.CQRP, "rp_list": db.RPs})
}

type getRPRequest struct {
	Measurements []string `json:"measurements"`
	DB           string   `json:"db"`
	DBUUID       string   `json:"db_uuid"`
}

type rpInfo struct {
	DB       string `json:"db"`
	RP       string `json:"rp"`
	Duration string `json:"duration"`
}

func (s *service) handleGetRP(w http.ResponseWriter, r *http.Request) {
	var req getRPRequest
	if err := s.decodeJSON(r, &req, false); err != nil {
		s.fail(w, r, err)
		return
	}
	if req.DB == "" {
		req.DB = req.DBUUID
	}
	db, err := s.database(r.Context(), req.DB)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	known, err := s.meta.MeasurementRPs(r.Context(), db.UUID)
	if err != nil {
		s.fail(w, r, metaError(err, "reading measurement RPs"))
		return
	}
	durations := s.rpDurations(r.Context(), db)
	out := make(map[string]rpInfo, len(req.Measurements))
	for _, m := range req.Measurements {
		// A measurement on the default RP (or not seen yet) answers rp ""
		// with the default's duration, as the spec's example shows.
		rp := known[m]
		if rp == db.DefaultRP {
			rp = ""
		}
		dur := durations[db.DefaultRP]
		if rp != "" {
			dur = durations[rp]
		}
		out[m] = rpInfo{DB: db.Name, RP: rp, Duration: durationLiteral(dur)}
	}
	respond(w, out)
}

// durationLiteral prints a duration as InfluxDB does for RPs ("2160h", "0s").
func durationLiteral(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	if d%time.Hour == 0 {
		return fmt.Sprintf("%dh", d/time.Hour)
	}
	return d.String()
}

type dropMetricsRequest struct {
	Measurement string `json:"measurement"`
	DBUUID      string `json:"db_uuid"`
}

func (s *service) handleDropMetrics(w http.ResponseWriter, r *http.Request) {
	var req dropMetricsRequest
	if err := s.decodeJSON(r, &req, false); err != nil {
		s.fail(w, r, err)
		return
	}
	if req.Measurement == "" {
		s.fail(w, r, Errorf(ErrBadRequest, "measurement is required"))
		return
	}
	db, err := s.database(r.Context(), req.DBUUID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if _, err := s.engineFor(db); err != nil {
		s.fail(w, r, err)
		return
	}
	// The sinks drop their copy too (ClickHouse: the measurement's table);
	// a retry after a failure here or below repeats nothing harmful.
	if err := s.publish(r.Context(), queue.Message{Op: queue.OpDropMeasurement, DB: db.Name, Measurement: req.Measurement}); err != nil {
		s.fail(w, r, err)
		return
	}
	// Recorded before the drop starts: a restart resumes it, and
	// /v1/droppingmetrics shows it until the engine is done.
	if err := s.recordDrop(r.Context(), db.UUID, req.Measurement); err != nil {
		s.fail(w, r, err)
		return
	}
	s.startDrop(db, req.Measurement)
	respond(w, nil)
}

// startDrop drops a measurement in the background (retried until done)
// and clears its record. It returns a channel closed once the drop is
// done; a drop of the same measurement already running is joined.
func (s *service) startDrop(db meta.Database, measurement string) <-chan struct{} {
	log := s.log.With("db_uuid", db.UUID, "measurement", measurement)
	return s.drops.Start("measurement "+db.UUID+" "+measurement, func(ctx context.Context) error {
		eng, err := s.engineFor(db)
		if err != nil {
			return err
		}
		err = eng.DropMeasurement(ctx, db.Name, measurement)
		if err != nil && !errors.Is(err, tsengine.ErrDatabaseNotFound) {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err() // shutting down: the record stays and the next start resumes
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.meta.DeleteMeasurementRP(ctx, db.UUID, measurement); err != nil {
			log.Warn("drop measurement: clearing RP record", "err", err)
		}
		s.mrp.forget(db.UUID, measurement)
		if err := s.meta.RemoveDropping(ctx, db.UUID, measurement); err != nil {
			log.Error("drop measurement: clearing dropping record", "err", err)
		}
		log.Info("measurement dropped")
		return nil
	})
}

func (s *service) resumeDrops(ctx context.Context) error {
	all, err := s.meta.AllDropping(ctx)
	if err != nil {
		return err
	}
	for dbUUID, ms := range all {
		db, err := s.meta.Database(ctx, dbUUID)
		if err != nil {
			s.log.Warn("pending drop for unknown database", "db_uuid", dbUUID, "err", err)
			continue
		}
		for _, m := range ms {
			s.startDrop(db, m)
		}
	}
	return nil
}

func (s *service) handleDroppingMetrics(w http.ResponseWriter, r *http.Request) {
	db, err := s.database(r.Context(), r.PathValue("db_uuid"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ms, err := s.meta.Dropping(r.Context(), db.UUID)
	if err != nil {
		s.fail(w, r, metaError(err, "listing drops"))
		return
	}
	if ms == nil {
		ms = []string{}
	}
	respond(w, ms)
}

func (s *service) handleTSCount(w http.ResponseWriter, r *http.Request) {
	var ids []string
	if err := s.decodeJSON(r, &ids, true); err != nil {
		s.fail(w, r, err)
		return
	}
	if len(ids) == 0 {
		for _, v := range r.URL.Query()["db_uuid"] {
			ids = append(ids, strings.Split(v, ",")...)
		}
	}
	out := make([]int64, len(ids))
	for i, id := range ids {
		out[i] = s.series.count(id)
	}
	respond(w, out)
}

func (s *service) handleCheckToken(w http.ResponseWriter, r *http.Request) {
	if _, _, err := s.tokens.lookup(r.Context(), r.PathValue("token")); err != nil {
		s.fail(w, r, err)
		return
	}
	respond(w, nil)
}

func (s *service) handleCacheClean(w http.ResponseWriter, r *http.Request) {
	token := r.URL.Query().Get("token")
	if token == "" {
		s.fail(w, r, Errorf(ErrBadRequest, "token query parameter is required"))
		return
	}
	s.tokens.evict(token, "")
	respond(w, nil)
}

func (s *service) handleDatakitOnline(w http.ResponseWriter, r *http.Request) {
	token := requestToken(r)
	if token == "" {
		s.fail(w, r, Errorf(ErrTokenNotFound, "X-Token header or token query parameter is required"))
		return
	}
	ws, _, err := s.tokens.lookup(r.Context(), token)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var ids []string
	if err := s.decodeJSON(r, &ids, true); err != nil {
		s.fail(w, r, err)
		return
	}
	if u := r.URL.Query().Get("uuid"); u != "" && !slices.Contains(ids, u) {
		ids = append(ids, u)
	}
	if len(ids) == 0 {
		s.fail(w, r, Errorf(ErrBadRequest, "send a JSON array of datakit UUIDs (or uuid=) to report online"))
		return
	}
	if err := s.meta.DatakitOnline(r.Context(), ws.UUID, ids, s.now().UTC()); err != nil {
		s.fail(w, r, metaError(err, "recording datakits"))
		return
	}
	respond(w, nil)
}

// requestToken is the workspace token of a request: X-Token, else ?token=.
func requestToken(r *http.Request) string {
	if t := r.Header.Get("X-Token"); t != "" {
		return t
	}
	return r.URL.Query().Get("token")
}

// notFoundAs maps meta.ErrNotFound to code; other errors are the store's.
func notFoundAs(err error, code ErrorCode, format string, args ...any) error {
	if errors.Is(err, meta.ErrNotFound) {
		return &Error{Code: code, Message: fmt.Sprintf(format, args...), cause: err}
	}
	return metaError(err, "metadata lookup")
}

func metaError(err error, doing string) error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	if errors.Is(err, meta.ErrConflict) {
		return wrapErr(ErrConflict, err, "%s: %v", doing, err)
	}
	if errors.Is(err, meta.ErrInvalid) {
		return wrapErr(ErrBadRequest, err, "%s: %v", doing, err)
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return wrapErr(ErrUnavailable, err, "%s: the metadata store did not answer in time", doing)
	}
	if f := faultAPIError(err); f != nil {
		f.Message = doing + ": " + f.Message
		return f
	}
	return wrapErr(ErrInternal, err, "%s failed", doing)
}

// engineError maps engine errors to API errors.
func engineError(err error, doing string) error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	switch {
	case errors.Is(err, tsengine.ErrDiskFull):
		return &Error{Code: ErrInsufficientStorage, RetryAfter: 30, cause: err,
			Message: doing + ": the disk holding the time-series data is full; nothing of this request was stored; retry once space is freed"}
	case errors.Is(err, tsengine.ErrTooManyOpenFiles):
		return &Error{Code: ErrUnavailable, RetryAfter: 30, cause: err,
			Message: doing + ": the server has reached its open-file limit (EMFILE); retry later, or ask the operator to raise the limit or delete unused workspaces"}
	case errors.Is(err, tsengine.ErrUnavailable):
		return &Error{Code: ErrUnavailable, Message: doing + ": the time-series engine is unavailable; retry later", RetryAfter: 5, cause: err}
	case errors.Is(err, tsengine.ErrRetentionPolicyNotFound):
		// The tenant dropped the policy with InfluxQL (maybe on another
		// replica) after the request's RP check: its mistake, and one it
		// can repair.
		return wrapErr(ErrRPNotFound, err, "%s: retention policy not found; create it again (CREATE RETENTION POLICY) or write to another of the database's policies", doing)
	case errors.Is(err, tsengine.ErrDatabaseNotFound):
		return wrapErr(ErrDBNotFound, err, "%s: database not found on its engine", doing)
	case errors.Is(err, context.DeadlineExceeded):
		return wrapErr(ErrQueryTimeout, err, "%s: timed out", doing)
	}
	var le *tsengine.LimitError
	if errors.As(err, &le) {
		return wrapErr(ErrQueryLimit, err, "%s: %v", doing, err)
	}
	if f := faultAPIError(err); f != nil {
		f.Message = doing + ": " + f.Message
		return f
	}
	return wrapErr(ErrInternal, err, "%s failed", doing)
}

// workspaceOf resolves the workspace a management request names: 400 when
// the request names none, 404-style when there is no such workspace.
func (s *service) workspaceOf(ctx context.Context, uuid string) (meta.Workspace, error) {
	if uuid == "" {
		return meta.Workspace{}, Errorf(ErrBadRequest, "workspace_uuid is required")
	}
	ws, err := s.meta.Workspace(ctx, uuid)
	if err != nil {
		return ws, notFoundAs(err, ErrWorkspaceNotFound, "workspace %s not found", uuid)
	}
	return ws, nil
}

// workspaceDatabases is workspaceOf with the workspace's databases.
func (s *service) workspaceDatabases(ctx context.Context, uuid string) (meta.Workspace, []meta.Database, error) {
	ws, err := s.workspaceOf(ctx, uuid)
	if err != nil {
		return ws, nil, err
	}
	dbs, err := s.meta.DatabasesByWorkspace(ctx, ws.UUID)
	if err != nil {
		return ws, nil, metaError(err, "listing the workspace's databases")
	}
	return ws, dbs, nil
}

type keyPairRequest struct {
	WorkspaceUUID string `json:"workspace_uuid"`
}

// handleCreateKeyPair issues a DWAY access key / secret key pair for a
// workspace (ours: the spec has no way to make one).
func (s *service) handleCreateKeyPair(w http.ResponseWriter, r *http.Request) {
	var req keyPairRequest
	if err := s.decodeJSON(r, &req, false); err != nil {
		s.fail(w, r, err)
		return
	}
	if _, err := s.workspaceOf(r.Context(), req.WorkspaceUUID); err != nil {
		s.fail(w, r, err)
		return
	}
	kp := meta.KeyPair{AccessKey: newID("ak_"), SecretKey: newID("sk_"), WorkspaceUUID: req.WorkspaceUUID}
	if err := s.meta.AddKeyPair(r.Context(), kp); err != nil {
		s.fail(w, r, metaError(err, "storing the key pair"))
		return
	}
	respond(w, map[string]string{"workspace_uuid": kp.WorkspaceUUID, "access_key": kp.AccessKey, "secret_key": kp.SecretKey})
}
