package kodo

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	iql "github.com/influxdata/influxql"

	"github.com/kodo-project/kodo/influxql"
	"github.com/kodo-project/kodo/kodo/kodoapi"
	"github.com/kodo-project/kodo/storage/meta"
	"github.com/kodo-project/kodo/storage/tsengine"
)

// cqDuration is the duration syntax the spec allows: "1w","1d","1h","1m","1s","1ms","1ns".
var cqDuration = regexp.MustCompile(`^[1-9][0-9]{0,8}(w|d|h|m|s|ms|ns)$`)

// validateCQ checks a CQ's fields; each problem is a 400 that names it.
func (s *service) validateCQ(c meta.ContinuousQuery) error {
	if c.Measurement == "" {
		return Errorf(kodoapi.ErrBadRequest, "measurement is required")
	}
	if strings.ContainsAny(c.Measurement, "\x00\n\r") {
		return Errorf(kodoapi.ErrBadRequest, "measurement %q contains a control character and cannot be named in InfluxQL", c.Measurement)
	}
	if !influxql.IsAggregateFunc(c.AggrFunc) {
		return Errorf(kodoapi.ErrBadRequest, "aggr_func %q is not supported; use one of %s", c.AggrFunc, strings.Join(influxql.AggregateFuncs(), ", "))
	}
	period, err := parseCQDuration("aggr_period", c.AggrPeriod)
	if err != nil {
		return err
	}
	every, err := parseCQDuration("aggr_every", c.AggrEvery)
	if err != nil {
		return err
	}
	if period < time.Second {
		return Errorf(kodoapi.ErrBadRequest, "aggr_period %s is shorter than the 1s minimum", c.AggrPeriod)
	}
	if min := s.opts.Limits.MinCQEvery; every < min {
		return Errorf(kodoapi.ErrBadRequest, "aggr_every %s is shorter than the %s minimum", c.AggrEvery, min)
	}
	return nil
}

func parseCQDuration(field, v string) (time.Duration, error) {
	if !cqDuration.MatchString(v) {
		return 0, Errorf(kodoapi.ErrBadRequest, "%s %q is not a duration like 1w, 1d, 1h, 1m, 1s, 1ms or 1ns", field, v)
	}
	d, err := iql.ParseDuration(v)
	if err != nil {
		return 0, Errorf(kodoapi.ErrBadRequest, "%s %q: %v", field, v, err)
	}
	return d, nil
}

// minCQInterval is the shortest GROUP BY time of a continuous query, as
// aggr_period's minimum on /v1/cq/create.
const minCQInterval = time.Second

// cqRun is what one run of a continuous query does, as InfluxDB's
// continuous querier derives it from the statement.
type cqRun struct {
	interval time.Duration // GROUP BY time
	every    time.Duration // how often it runs
	span     time.Duration // the time range one run reads
}

func cqRunOf(st *iql.CreateContinuousQueryStatement) (cqRun, error) {
	if st.Source == nil {
		return cqRun{}, Errorf(kodoapi.ErrBadRequest, "the continuous query has no SELECT")
	}
	interval, err := st.Source.GroupByInterval()
	if err != nil || interval <= 0 {
		return cqRun{}, Errorf(kodoapi.ErrBadRequest, "a continuous query needs GROUP BY time(interval)")
	}
	// As services/continuous_querier computes them (InfluxDB 1.8).
	r := cqRun{interval: interval, every: interval, span: interval}
	if st.ResampleEvery > 0 {
		r.every = st.ResampleEvery
	}
	switch {
	case st.ResampleFor > 0:
		r.span = st.ResampleFor
	case interval < r.every:
		r.span = r.every
	}
	return r, nil
}

// checkCQ applies the rules of a continuous query to its statement, so a
// CQ obeys them whichever path made it (/v1/cq/create, /query,
// /v1/manage/metrics) and after a restart: a GROUP BY time of at least
// 1s, runs no more often than MinCQEvery, a run reads at most
// MaxCQResampleFor and makes at most MaxSelectBuckets buckets. Each run
// is then also bounded by the engine's query timeout and select limits.
func (s *service) checkCQ(st *iql.CreateContinuousQueryStatement) error {
	r, err := cqRunOf(st)
	if err != nil {
		return err
	}
	l := s.opts.Limits
	name := iql.QuoteIdent(st.Name)
	if r.interval < minCQInterval {
		return Errorf(kodoapi.ErrBadRequest, "continuous query %s: GROUP BY time(%s) is shorter than the %s minimum of a continuous query",
			name, iql.FormatDuration(r.interval), minCQInterval)
	}
	if r.every < l.MinCQEvery {
		return Errorf(kodoapi.ErrBadRequest, "continuous query %s runs every %s, more often than the %s minimum (flag -min-cq-every): use RESAMPLE EVERY %s or longer",
			name, iql.FormatDuration(r.every), l.MinCQEvery, iql.FormatDuration(l.MinCQEvery))
	}
	if r.span > l.MaxCQResampleFor {
		return Errorf(kodoapi.ErrQueryLimit, "continuous query %s reads %s per run; the limit is %s (flag -max-cq-resample-for): use a shorter RESAMPLE FOR",
			name, iql.FormatDuration(r.span), l.MaxCQResampleFor)
	}
	if n := r.span/r.interval + 1; n > time.Duration(l.MaxSelectBuckets) {
		return Errorf(kodoapi.ErrQueryLimit, "continuous query %s makes %d GROUP BY time(%s) buckets per run over %s; the limit (max-select-buckets, flag -max-select-buckets) is %d: use a coarser interval or a shorter RESAMPLE FOR",
			name, int64(n), iql.FormatDuration(r.interval), iql.FormatDuration(r.span), l.MaxSelectBuckets)
	}
	return nil
}

// cqSourceRP is the RP a measurement's points are written to.
func (s *service) cqSourceRP(ctx context.Context, db meta.Database, measurement string) (string, error) {
	rps, err := s.meta.MeasurementRPs(ctx, db.UUID)
	if err != nil {
		return "", metaError(err, "reading measurement RPs")
	}
	if rp := rps[measurement]; rp != "" {
		return rp, nil
	}
	return db.DefaultRP, nil
}

// cqStatement builds the engine statement of a CQ: it reads the
// measurement from its RP and writes func(*) per aggr_period bucket into
// the database's CQ RP, every aggr_every, covering at least one full
// aggr_every so no bucket is skipped between runs.
func cqStatement(db meta.Database, c meta.ContinuousQuery, srcRP string) (*iql.Query, error) {
	if db.CQRP == "" {
		return nil, Errorf(kodoapi.ErrBadRequest, "database %s has no CQ RP (cqrp); set one with /v1/modify/dbrp", db.UUID)
	}
	if srcRP == db.CQRP {
		return nil, Errorf(kodoapi.ErrBadRequest, "measurement %q is written to %s, which is also the CQ RP: the CQ would read its own output; change the database's cqrp", c.Measurement, srcRP)
	}
	period, _ := iql.ParseDuration(c.AggrPeriod)
	every, _ := iql.ParseDuration(c.AggrEvery)
	q := iql.QuoteIdent
	text := fmt.Sprintf("CREATE CONTINUOUS QUERY %s ON %s RESAMPLE EVERY %s FOR %s BEGIN SELECT %s(*) INTO %s.%s.%s FROM %s.%s.%s GROUP BY time(%s), * END",
		q(c.UUID), q(db.Name), iql.FormatDuration(every), iql.FormatDuration(max(every, period)),
		c.AggrFunc, q(db.Name), q(db.CQRP), q(c.Measurement), q(db.Name), q(srcRP), q(c.Measurement), iql.FormatDuration(period))
	parsed, err := influxql.Parse(text)
	if err != nil {
		return nil, wrapErr(kodoapi.ErrBadRequest, err, "cannot build the continuous query: %v", err)
	}
	return parsed, nil
}

// cqPlan is a validated CQ with the RP it reads and its engine statement.
type cqPlan struct {
	cq    meta.ContinuousQuery
	srcRP string
	q     *iql.Query
}

// planCQ validates a new or changed CQ (stored ones were validated when
// made, under the limits of then), finds the RP its measurement is written
// to and builds the statement the engine runs.
func (s *service) planCQ(ctx context.Context, db meta.Database, c meta.ContinuousQuery, stored bool) (cqPlan, error) {
	if !stored {
		if err := s.validateCQ(c); err != nil {
			return cqPlan{}, err
		}
	}
	src, err := s.cqSourceRP(ctx, db, c.Measurement)
	if err != nil {
		return cqPlan{}, err
	}
	q, err := cqStatement(db, c, src)
	if err != nil {
		return cqPlan{}, err
	}
	// Stored CQs too: one made under looser limits is not re-created.
	if err := s.checkCQ(q.Statements[0].(*iql.CreateContinuousQueryStatement)); err != nil {
		return cqPlan{}, err
	}
	return cqPlan{c, src, q}, nil
}

// runStatement runs a management statement on the database's engine and
// turns a statement error into an API error.
func (s *service) runStatement(ctx context.Context, db meta.Database, q *iql.Query) error {
	eng, err := s.engineFor(db)
	if err != nil {
		return err
	}
	res, err := eng.Query(ctx, db.Name, q, tsengine.QueryOptions{})
	if err != nil {
		return engineError(err, "running "+q.String())
	}
	for _, r := range res {
		if r.Err != "" {
			return Errorf(kodoapi.ErrBadRequest, "%s", r.Err)
		}
	}
	return nil
}

func dropCQStatement(db meta.Database, cqUUID string) *iql.Query {
	return &iql.Query{Statements: iql.Statements{&iql.DropContinuousQueryStatement{Name: cqUUID, Database: db.Name}}}
}

func (s *service) cqRecordOf(db meta.Database, c meta.ContinuousQuery, srcRP string) kodoapi.CQ {
	return kodoapi.CQ{AggrEvery: c.AggrEvery, WorkspaceUUID: c.WorkspaceUUID, CQUUID: c.UUID, DBUUID: db.UUID,
		DB: db.Name, RP: srcRP, CQRP: db.CQRP, Measurement: c.Measurement, AggrPeriod: c.AggrPeriod, AggrFunc: c.AggrFunc}
}

// cqDatabase loads the database of a CQ request and checks it belongs to
// the workspace named.
func (s *service) cqDatabase(ctx context.Context, dbUUID, wsUUID string) (meta.Database, error) {
	if wsUUID == "" {
		return meta.Database{}, Errorf(kodoapi.ErrBadRequest, "workspace_uuid is required")
	}
	if dbUUID == "" {
		dbs, err := s.meta.DatabasesByWorkspace(ctx, wsUUID)
		if err != nil {
			return meta.Database{}, metaError(err, "listing databases")
		}
		if len(dbs) == 0 {
			return meta.Database{}, Errorf(kodoapi.ErrWorkspaceNotFound, "workspace %s not found or has no database", wsUUID)
		}
		return dbs[0], nil
	}
	db, err := s.database(ctx, dbUUID)
	if err != nil {
		return db, err
	}
	if db.WorkspaceUUID != wsUUID {
		return meta.Database{}, Errorf(kodoapi.ErrDBNotFound, "database %s does not belong to workspace %s", dbUUID, wsUUID)
	}
	return db, nil
}

// createCQs plans every entry of a create request, then creates them all
// (or, on a bad entry, none).
func (s *service) createCQs(ctx context.Context, req kodoapi.CQCreateRequest) ([]kodoapi.CQ, error) {
	if len(req.Measurements) == 0 {
		return nil, Errorf(kodoapi.ErrBadRequest, "measurements is empty: give at least one {measurement, aggr_func, aggr_period, aggr_every}")
	}
	db, err := s.cqDatabase(ctx, req.DBUUID, req.WorkspaceUUID)
	if err != nil {
		return nil, err
	}
	// One creator at a time in this gateway, so two requests cannot both
	// pass the duplicate check below. (Replicas sharing PostgreSQL can
	// still race; the metadata store has no unique key for it.)
	s.cqMu.Lock()
	defer s.cqMu.Unlock()
	existing, err := s.dbCQs(ctx, db)
	if err != nil {
		return nil, err
	}
	// Plan every entry before creating any, so a bad entry creates nothing.
	plans := make([]cqPlan, 0, len(req.Measurements))
	for i, m := range req.Measurements {
		key := cqKey{m.Measurement, strings.ToLower(m.AggrFunc)}
		if other, dup := existing[key]; dup {
			return nil, cqExists(fmt.Sprintf("measurements[%d]", i), key, other)
		}
		c := meta.ContinuousQuery{UUID: newID("cq_"), WorkspaceUUID: db.WorkspaceUUID, DBUUID: db.UUID,
			Measurement: m.Measurement, AggrFunc: strings.ToLower(m.AggrFunc), AggrPeriod: m.AggrPeriod, AggrEvery: m.AggrEvery,
			CreatedAt: s.now().UTC()}
		p, err := s.planCQ(ctx, db, c, false)
		if err != nil {
			e := asError(err)
			e.Message = fmt.Sprintf("measurements[%d]: %s", i, e.Message)
			return nil, e
		}
		plans = append(plans, p)
		existing[key] = c.UUID
	}
	out := make([]kodoapi.CQ, 0, len(plans))
	for _, p := range plans {
		if err := s.runStatement(ctx, db, p.q); err != nil {
			return nil, err
		}
		if err := s.meta.CreateCQ(ctx, p.cq); err != nil {
			_ = s.runStatement(ctx, db, dropCQStatement(db, p.cq.UUID))
			return nil, metaError(err, "recording the CQ")
		}
		out = append(out, s.cqRecordOf(db, p.cq, p.srcRP))
	}
	return out, nil
}

// cqKey is what a CQ of /v1/cq/create writes: func(*) of a measurement
// into the CQ RP under the same name. Two CQs with one key write the same
// series, so only one may exist per database.
type cqKey struct{ measurement, fn string }

// dbCQs maps the recorded CQs of db by key to their uuid.
func (s *service) dbCQs(ctx context.Context, db meta.Database) (map[cqKey]string, error) {
	cqs, err := s.meta.CQsByWorkspace(ctx, db.WorkspaceUUID)
	if err != nil {
		return nil, metaError(err, "listing CQs")
	}
	out := map[cqKey]string{}
	for _, c := range cqs {
		if c.DBUUID == db.UUID {
			out[cqKey{c.Measurement, c.AggrFunc}] = c.UUID
		}
	}
	return out, nil
}

func cqExists(where string, k cqKey, other string) error {
	return Errorf(kodoapi.ErrCQExists, "%s: continuous query %s already computes %s of measurement %q in this database; change it with /v1/cq/modify or delete it first",
		where, other, k.fn, k.measurement)
}

// loadCQ finds a CQ of a workspace.
func (s *service) loadCQ(ctx context.Context, cqUUID, wsUUID string) (meta.ContinuousQuery, meta.Database, error) {
	if cqUUID == "" || wsUUID == "" {
		return meta.ContinuousQuery{}, meta.Database{}, Errorf(kodoapi.ErrBadRequest, "cq_uuid and workspace_uuid are required")
	}
	c, err := s.meta.CQ(ctx, cqUUID)
	if err != nil || c.WorkspaceUUID != wsUUID {
		if err == nil || errors.Is(err, meta.ErrNotFound) {
			return c, meta.Database{}, Errorf(kodoapi.ErrCQNotFound, "continuous query %s not found in workspace %s", cqUUID, wsUUID)
		}
		return c, meta.Database{}, metaError(err, "loading the CQ")
	}
	db, err := s.database(ctx, c.DBUUID)
	return c, db, err
}

// modifyCQ changes a CQ's function, period or interval.
func (s *service) modifyCQ(ctx context.Context, req kodoapi.CQModifyRequest) (kodoapi.CQ, error) {
	s.cqMu.Lock()
	defer s.cqMu.Unlock()
	c, db, err := s.loadCQ(ctx, req.CQUUID, req.WorkspaceUUID)
	if err != nil {
		return kodoapi.CQ{}, err
	}
	if req.AggrFunc != "" {
		c.AggrFunc = strings.ToLower(req.AggrFunc)
		existing, err := s.dbCQs(ctx, db)
		if err != nil {
			return kodoapi.CQ{}, err
		}
		key := cqKey{c.Measurement, c.AggrFunc}
		if other, dup := existing[key]; dup && other != c.UUID {
			return kodoapi.CQ{}, cqExists("aggr_func", key, other)
		}
	}
	if req.AggrPeriod != "" {
		c.AggrPeriod = req.AggrPeriod
	}
	if req.AggrEvery != "" {
		c.AggrEvery = req.AggrEvery
	}
	p, err := s.planCQ(ctx, db, c, false)
	if err != nil {
		return kodoapi.CQ{}, err
	}
	// InfluxQL has no ALTER for CQs: drop and create under the same name.
	if err := s.runStatement(ctx, db, dropCQStatement(db, c.UUID)); err != nil && !isCQMissing(err) {
		return kodoapi.CQ{}, err
	}
	if err := s.runStatement(ctx, db, p.q); err != nil {
		return kodoapi.CQ{}, err
	}
	if err := s.meta.UpdateCQ(ctx, c); err != nil {
		return kodoapi.CQ{}, metaError(err, "updating the CQ")
	}
	return s.cqRecordOf(db, c, p.srcRP), nil
}

func isCQMissing(err error) bool {
	return err != nil && strings.Contains(err.Error(), "continuous query not found")
}

// deleteCQ drops a CQ from its engine and its record.
func (s *service) deleteCQ(ctx context.Context, req kodoapi.CQModifyRequest) error {
	c, db, err := s.loadCQ(ctx, req.CQUUID, req.WorkspaceUUID)
	if err != nil {
		return err
	}
	if err := s.runStatement(ctx, db, dropCQStatement(db, c.UUID)); err != nil && !isCQMissing(err) {
		return err
	}
	if err := s.meta.DeleteCQ(ctx, c.UUID); err != nil {
		return metaError(err, "deleting the CQ")
	}
	return nil
}

// handleCQSync makes each engine hold exactly the workspace's recorded CQs:
// missing ones are created, differing ones re-created, and cq_ CQs that
// have no record are dropped.
func (s *service) handleCQSync(r *http.Request) (any, error) {
	wsUUID := r.URL.Query().Get("workspace_uuid")
	if wsUUID == "" {
		return nil, Errorf(kodoapi.ErrBadRequest, "workspace_uuid query parameter is required")
	}
	return s.syncCQs(r.Context(), wsUUID)
}

// syncCQs makes each engine hold exactly the workspace's recorded CQs.
func (s *service) syncCQs(ctx context.Context, wsUUID string) (kodoapi.CQSyncReport, error) {
	if _, err := s.meta.Workspace(ctx, wsUUID); err != nil {
		return kodoapi.CQSyncReport{}, notFoundAs(err, kodoapi.ErrWorkspaceNotFound, "workspace %s not found", wsUUID)
	}
	cqs, err := s.meta.CQsByWorkspace(ctx, wsUUID)
	if err != nil {
		return kodoapi.CQSyncReport{}, metaError(err, "listing CQs")
	}
	dbs, err := s.meta.DatabasesByWorkspace(ctx, wsUUID)
	if err != nil {
		return kodoapi.CQSyncReport{}, metaError(err, "listing databases")
	}
	rep := kodoapi.CQSyncReport{Created: []string{}, Updated: []string{}, Deleted: []string{}, Unchanged: []string{}}
	for _, db := range dbs {
		existing, err := s.engineCQs(ctx, db)
		if err != nil {
			return kodoapi.CQSyncReport{}, err
		}
		for _, c := range cqs {
			if c.DBUUID != db.UUID {
				continue
			}
			p, err := s.planCQ(ctx, db, c, true)
			have, ok := existing[c.UUID]
			delete(existing, c.UUID)
			if e := asError(err); err != nil && e.Code.Status() < 500 {
				if ok {
					if err := s.runStatement(ctx, db, dropCQStatement(db, c.UUID)); err != nil && !isCQMissing(err) {
						return kodoapi.CQSyncReport{}, err
					}
				}
				rep.Refused = append(rep.Refused, kodoapi.CQRefusal{CQUUID: c.UUID, Reason: e.Message})
				continue
			} else if err != nil {
				return kodoapi.CQSyncReport{}, err
			}
			want := p.q
			switch {
			case ok && sameStatement(have, want.String()):
				rep.Unchanged = append(rep.Unchanged, c.UUID)
				continue
			case ok:
				if err := s.runStatement(ctx, db, dropCQStatement(db, c.UUID)); err != nil && !isCQMissing(err) {
					return kodoapi.CQSyncReport{}, err
				}
				rep.Updated = append(rep.Updated, c.UUID)
			default:
				rep.Created = append(rep.Created, c.UUID)
			}
			if err := s.runStatement(ctx, db, want); err != nil {
				return kodoapi.CQSyncReport{}, err
			}
		}
		for name := range existing {
			if !strings.HasPrefix(name, "cq_") {
				continue // not ours: leave CQs made through /v1/manage/metrics alone
			}
			if err := s.runStatement(ctx, db, dropCQStatement(db, name)); err != nil && !isCQMissing(err) {
				return kodoapi.CQSyncReport{}, err
			}
			rep.Deleted = append(rep.Deleted, name)
		}
	}
	return rep, nil
}

// engineCQs lists the CQs an engine holds for a database: name -> query.
func (s *service) engineCQs(ctx context.Context, db meta.Database) (map[string]string, error) {
	eng, err := s.engineFor(db)
	if err != nil {
		return nil, err
	}
	q := &iql.Query{Statements: iql.Statements{&iql.ShowContinuousQueriesStatement{}}}
	res, err := eng.Query(ctx, db.Name, q, tsengine.QueryOptions{})
	if err != nil {
		return nil, engineError(err, "listing continuous queries")
	}
	out := map[string]string{}
	for _, r := range res {
		if r.Err != "" {
			return nil, Errorf(kodoapi.ErrInternal, "listing continuous queries: %s", r.Err)
		}
		for _, row := range r.Series {
			if row.Name != db.Name {
				continue
			}
			for _, v := range row.Values {
				if len(v) < 2 {
					continue
				}
				name, _ := v[0].(string)
				query, _ := v[1].(string)
				out[name] = query
			}
		}
	}
	return out, nil
}

// sameStatement compares two CQ statements after parsing both, so quoting
// and spacing differences between engines do not count.
func sameStatement(a, b string) bool {
	pa, err1 := influxql.ParseStatement(a)
	pb, err2 := influxql.ParseStatement(b)
	if err1 != nil || err2 != nil {
		return a == b
	}
	return pa.String() == pb.String()
}

// disableBadCQs drops, from every engine, the continuous queries that
// today's rules refuse (made before the rules, or under looser limits),
// so a restart does not bring back a CQ that takes the engine down. The
// statement is logged for the operator; cq_ records stay and
// /v1/cq/syncupdate lists them as refused. An engine that cannot be
// asked is skipped: its CQs are still bounded by its own limits.
func (s *service) disableBadCQs(ctx context.Context) {
	for id, eng := range s.engines {
		// Short: a remote instance that is down must not hold up the start.
		ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		show := &iql.Query{Statements: iql.Statements{&iql.ShowContinuousQueriesStatement{}}}
		res, err := eng.Query(ctx, "", show, tsengine.QueryOptions{})
		if err != nil {
			cancel()
			s.log.Warn("cannot list continuous queries to check them", "instance", id, "err", err)
			continue
		}
		for _, r := range res {
			for _, row := range r.Series {
				for _, v := range row.Values {
					if len(v) < 2 {
						continue
					}
					name, _ := v[0].(string)
					text, _ := v[1].(string)
					st, err := influxql.ParseStatement(text)
					cq, ok := st.(*iql.CreateContinuousQueryStatement)
					if err == nil && ok {
						err = s.checkCQ(cq)
					}
					if err == nil {
						continue
					}
					drop := &iql.Query{Statements: iql.Statements{&iql.DropContinuousQueryStatement{Name: name, Database: row.Name}}}
					if _, derr := eng.Query(ctx, row.Name, drop, tsengine.QueryOptions{}); derr != nil {
						s.log.Error("cannot disable a continuous query that breaks the limits", "instance", id, "db", row.Name, "cq", name, "err", derr)
						continue
					}
					s.log.Warn("disabled a continuous query that breaks the limits; fix it and create it again",
						"instance", id, "db", row.Name, "cq", name, "query", text, "reason", asError(err).Message)
				}
			}
		}
		cancel()
	}
}
