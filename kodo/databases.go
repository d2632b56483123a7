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

	"github.com/kodo-project/kodo/kodo/kodoapi"
	"github.com/kodo-project/kodo/storage/meta"
	"github.com/kodo-project/kodo/storage/queue"
	"github.com/kodo-project/kodo/storage/tsengine"
)

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
			return dbPlan{}, Errorf(kodoapi.ErrRPNotFound, "retention policy %q is not configured; use one of %s", rp, strings.Join(s.configuredRPs(), ", "))
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

func (s *service) handleWorkspaceCreate(r *http.Request) (any, error) {
	var req kodoapi.CreateWorkspaceRequest
	if err := s.decodeJSON(r, &req, true); err != nil {
		return nil, err
	}
	plan, err := s.planRPs(req.DefaultRP, req.CQRP, req.RPList)
	if err != nil {
		return nil, err
	}
	if plan.limits, err = applyLimits(req.CardinalityLimits, plan.limits); err != nil {
		return nil, err
	}
	ws, db, err := s.createWorkspace(r.Context(), req.Name, plan)
	if err != nil {
		return nil, err
	}
	return kodoapi.Workspace{
		WorkspaceUUID: ws.UUID, Token: ws.Token, Secret: ws.Secret, DBUUID: db.UUID,
		DB: db.Name, RP: db.DefaultRP, CQRP: db.CQRP, RPList: db.RPs, InstanceUUID: db.InstanceUUID,
		Limits: s.limitsAnswer(db),
	}, nil
}

func (s *service) handleAddDB(r *http.Request) (any, error) {
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
		return nil, err
	}
	ctx := r.Context()
	wsUUID := q.Get("workspace_uuid")
	if wsUUID == "" {
		// Every database belongs to a workspace (its token is how agents
		// write to it): without one, add_db creates it and answers its token.
		ws, db, err := s.createWorkspace(ctx, q.Get("name"), plan)
		if err != nil {
			return nil, err
		}
		return kodoapi.AddedDatabase{DB: db.Name, RP: db.DefaultRP, InstanceUUID: db.InstanceUUID, DBUUID: db.UUID,
			WorkspaceUUID: ws.UUID, Token: ws.Token, Secret: ws.Secret}, nil
	}
	if _, err := s.meta.Workspace(ctx, wsUUID); err != nil {
		return nil, notFoundAs(err, kodoapi.ErrWorkspaceNotFound, "workspace %s not found", wsUUID)
	}
	db, err := s.createDatabase(ctx, wsUUID, plan)
	if err != nil {
		return nil, err
	}
	if err := s.meta.CreateDatabase(ctx, db); err != nil {
		return nil, metaError(err, "recording database")
	}
	return kodoapi.AddedDatabase{DB: db.Name, RP: db.DefaultRP, InstanceUUID: db.InstanceUUID, DBUUID: db.UUID, WorkspaceUUID: wsUUID}, nil
}

// database loads a database by uuid, answering kodo.dbNotFound.
func (s *service) database(ctx context.Context, uuid string) (meta.Database, error) {
	if uuid == "" {
		return meta.Database{}, Errorf(kodoapi.ErrBadRequest, "db_uuid is required")
	}
	db, err := s.meta.Database(ctx, uuid)
	if err != nil {
		return meta.Database{}, notFoundAs(err, kodoapi.ErrDBNotFound, "db not found")
	}
	return db, nil
}

// modifyDBRP adds RPs and replaces the default and CQ RP of a database.
func (s *service) modifyDBRP(ctx context.Context, req kodoapi.ModifyDBRPRequest) (kodoapi.DBRP, error) {
	db, err := s.database(ctx, req.DBUUID)
	if err != nil {
		return kodoapi.DBRP{}, err
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
		return kodoapi.DBRP{}, err
	}
	db.DefaultRP, db.CQRP, db.RPs = plan.defaultRP, plan.cqrp, plan.rps
	eng, err := s.engineFor(db)
	if err != nil {
		return kodoapi.DBRP{}, err
	}
	if err := eng.CreateDatabase(ctx, db.Name, s.enginePolicies(db)); err != nil {
		return kodoapi.DBRP{}, engineError(err, "updating retention policies")
	}
	if err := s.meta.UpdateDatabase(ctx, db); err != nil {
		return kodoapi.DBRP{}, metaError(err, "updating database")
	}
	s.tokens.evict("", db.UUID)
	return kodoapi.DBRP{DBUUID: db.UUID, DB: db.Name, DefaultRP: db.DefaultRP, CQRP: db.CQRP, RPList: db.RPs}, nil
}

// measurementRPs answers where each measurement asked is stored.
func (s *service) measurementRPs(ctx context.Context, req kodoapi.GetRPRequest) (map[string]kodoapi.MeasurementRP, error) {
	if req.DB == "" {
		req.DB = req.DBUUID
	}
	db, err := s.database(ctx, req.DB)
	if err != nil {
		return nil, err
	}
	known, err := s.meta.MeasurementRPs(ctx, db.UUID)
	if err != nil {
		return nil, metaError(err, "reading measurement RPs")
	}
	durations := s.rpDurations(ctx, db)
	out := make(map[string]kodoapi.MeasurementRP, len(req.Measurements))
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
		out[m] = kodoapi.MeasurementRP{DB: db.Name, RP: rp, Duration: durationLiteral(dur)}
	}
	return out, nil
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

// dropMetrics starts dropping a measurement in the background.
func (s *service) dropMetrics(ctx context.Context, req kodoapi.DropMetricsRequest) error {
	if req.Measurement == "" {
		return Errorf(kodoapi.ErrBadRequest, "measurement is required")
	}
	db, err := s.database(ctx, req.DBUUID)
	if err != nil {
		return err
	}
	if _, err := s.engineFor(db); err != nil {
		return err
	}
	// The sinks drop their copy too (ClickHouse: the measurement's table);
	// a retry after a failure here or below repeats nothing harmful.
	if err := s.publish(ctx, queue.Message{Op: queue.OpDropMeasurement, DB: db.Name, Measurement: req.Measurement}); err != nil {
		return err
	}
	// Recorded before the drop starts: a restart resumes it, and
	// /v1/droppingmetrics shows it until the engine is done.
	if err := s.recordDrop(ctx, db.UUID, req.Measurement); err != nil {
		return err
	}
	s.startDrop(db, req.Measurement)
	return nil
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

func (s *service) handleDroppingMetrics(r *http.Request) (any, error) {
	db, err := s.database(r.Context(), r.PathValue("db_uuid"))
	if err != nil {
		return nil, err
	}
	ms, err := s.meta.Dropping(r.Context(), db.UUID)
	if err != nil {
		return nil, metaError(err, "listing drops")
	}
	if ms == nil {
		ms = []string{}
	}
	return ms, nil
}

func (s *service) handleTSCount(r *http.Request) (any, error) {
	var ids []string
	if err := s.decodeJSON(r, &ids, true); err != nil {
		return nil, err
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
	return out, nil
}

func (s *service) handleCheckToken(r *http.Request) (any, error) {
	if _, _, err := s.tokens.lookup(r.Context(), r.PathValue("token")); err != nil {
		return nil, err
	}
	return nil, nil
}

func (s *service) handleCacheClean(r *http.Request) (any, error) {
	token := r.URL.Query().Get("token")
	if token == "" {
		return nil, Errorf(kodoapi.ErrBadRequest, "token query parameter is required")
	}
	s.tokens.evict(token, "")
	return nil, nil
}

func (s *service) handleDatakitOnline(r *http.Request) (any, error) {
	token := requestToken(r)
	if token == "" {
		return nil, Errorf(kodoapi.ErrTokenNotFound, "X-Token header or token query parameter is required")
	}
	ws, _, err := s.tokens.lookup(r.Context(), token)
	if err != nil {
		return nil, err
	}
	var ids []string
	if err := s.decodeJSON(r, &ids, true); err != nil {
		return nil, err
	}
	if u := r.URL.Query().Get("uuid"); u != "" && !slices.Contains(ids, u) {
		ids = append(ids, u)
	}
	if len(ids) == 0 {
		return nil, Errorf(kodoapi.ErrBadRequest, "send a JSON array of datakit UUIDs (or uuid=) to report online")
	}
	if err := s.meta.DatakitOnline(r.Context(), ws.UUID, ids, s.now().UTC()); err != nil {
		return nil, metaError(err, "recording datakits")
	}
	return nil, nil
}

// requestToken is the workspace token of a request: X-Token, else ?token=.
func requestToken(r *http.Request) string {
	if t := r.Header.Get("X-Token"); t != "" {
		return t
	}
	return r.URL.Query().Get("token")
}

// workspaceOf resolves the workspace a management request names: 400 when
// the request names none, 404-style when there is no such workspace.
func (s *service) workspaceOf(ctx context.Context, uuid string) (meta.Workspace, error) {
	if uuid == "" {
		return meta.Workspace{}, Errorf(kodoapi.ErrBadRequest, "workspace_uuid is required")
	}
	ws, err := s.meta.Workspace(ctx, uuid)
	if err != nil {
		return ws, notFoundAs(err, kodoapi.ErrWorkspaceNotFound, "workspace %s not found", uuid)
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

// createKeyPair issues a DWAY access key / secret key pair for a
// workspace (ours: the spec has no way to make one).
func (s *service) createKeyPair(ctx context.Context, req kodoapi.WorkspaceRef) (kodoapi.KeyPair, error) {
	if _, err := s.workspaceOf(ctx, req.WorkspaceUUID); err != nil {
		return kodoapi.KeyPair{}, err
	}
	kp := meta.KeyPair{AccessKey: newID("ak_"), SecretKey: newID("sk_"), WorkspaceUUID: req.WorkspaceUUID}
	if err := s.meta.AddKeyPair(ctx, kp); err != nil {
		return kodoapi.KeyPair{}, metaError(err, "storing the key pair")
	}
	return kodoapi.KeyPair{WorkspaceUUID: kp.WorkspaceUUID, AccessKey: kp.AccessKey, SecretKey: kp.SecretKey}, nil
}
