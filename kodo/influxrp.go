package kodo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	iql "github.com/influxdata/influxql"

	"github.com/kodo-project/kodo/kodo/kodoapi"
	"github.com/kodo-project/kodo/storage/meta"
	"github.com/kodo-project/kodo/storage/tsengine"
)

// Retention policies made, altered or dropped with InfluxQL (POST /query,
// /v1/manage/metrics) run on the engine, which keeps their durations.
// Kodo's metadata keeps the names it routes writes by (RP list, default
// RP) and the measurement -> RP map of get_rp; syncRPs brings those in
// line after such statements, and hasRP lets a replica whose token cache
// is older find an RP another replica just made.

func isRPStatement(st iql.Statement) bool {
	switch st.(type) {
	case *iql.CreateRetentionPolicyStatement, *iql.AlterRetentionPolicyStatement, *iql.DropRetentionPolicyStatement:
		return true
	}
	return false
}

// checkRPStatement refuses to drop the RPs Kodo writes to without one
// being named: influxd would leave the database without a default and
// every write without rp= would fail. Statements are checked in order and
// db follows the DEFAULT moves of earlier ones, so "ALTER ... DEFAULT;
// DROP <old default>" passes.
func (s *service) checkRPStatement(db *meta.Database, st iql.Statement) error {
	switch st := st.(type) {
	case *iql.CreateRetentionPolicyStatement:
		if st.Default {
			db.DefaultRP = st.Name
		}
		return nil
	case *iql.AlterRetentionPolicyStatement:
		if st.Default {
			db.DefaultRP = st.Name
		}
		return nil
	}
	d, ok := st.(*iql.DropRetentionPolicyStatement)
	if !ok {
		return nil
	}
	switch d.Name {
	case db.DefaultRP:
		return Errorf(kodoapi.ErrBadRequest, "retention policy %s is the database's default; make another one the default first (ALTER RETENTION POLICY <name> ON %s DEFAULT)", d.Name, db.Name)
	case db.CQRP:
		return Errorf(kodoapi.ErrBadRequest, "retention policy %s holds the database's continuous-query results; choose another cqrp with /v1/modify/dbrp first", d.Name)
	}
	return nil
}

// engineRP is a retention policy as SHOW RETENTION POLICIES lists it.
type engineRP struct {
	Name     string
	Duration time.Duration
	Default  bool
}

// engineRPs lists the database's retention policies on its engine.
func (s *service) engineRPs(ctx context.Context, db meta.Database) ([]engineRP, error) {
	q := &iql.Query{Statements: iql.Statements{&iql.ShowRetentionPoliciesStatement{Database: db.Name}}}
	res, err := s.execQueryOpts(ctx, db.Name, db.InstanceUUID, q, tsengine.QueryOptions{})
	if err != nil {
		return nil, err
	}
	var out []engineRP
	for _, r := range res {
		if r.Err != "" {
			return nil, fmt.Errorf("SHOW RETENTION POLICIES: %s", r.Err)
		}
		for _, row := range r.Series {
			iname, idur, idef := slices.Index(row.Columns, "name"), slices.Index(row.Columns, "duration"), slices.Index(row.Columns, "default")
			if iname < 0 || idur < 0 || idef < 0 {
				return nil, errors.New("SHOW RETENTION POLICIES: unexpected columns")
			}
			for _, v := range row.Values {
				if len(v) != len(row.Columns) {
					continue
				}
				rp := engineRP{}
				rp.Name, _ = v[iname].(string)
				ds, _ := v[idur].(string)
				rp.Duration, _ = time.ParseDuration(ds)
				rp.Default, _ = v[idef].(bool)
				out = append(out, rp)
			}
		}
	}
	return out, nil
}

// syncRPs applies the effect of the RP statements that ran to the
// database's metadata: created RPs join its list, dropped ones leave it
// (with their measurement -> RP entries), and DEFAULT moves the default.
// The engine is asked what happened, so a statement that failed changes
// nothing. The statements succeeded on the engine, so a failure here is
// logged, not answered.
func (s *service) syncRPs(ctx context.Context, db meta.Database) {
	if err := s.syncRPsErr(context.WithoutCancel(ctx), db); err != nil {
		s.log.Warn("retention policies changed with InfluxQL, but Kodo's metadata could not follow", "db", db.UUID, "err", err)
	}
}

func (s *service) syncRPsErr(ctx context.Context, db meta.Database) error {
	rps, err := s.engineRPs(ctx, db)
	if err != nil {
		return err
	}
	// Re-read the metadata: the token cache may hold an older copy.
	cur, err := s.meta.Database(ctx, db.UUID)
	if err != nil {
		return err
	}
	onEngine := map[string]bool{}
	def := ""
	for _, rp := range rps {
		onEngine[rp.Name] = true
		if rp.Default {
			def = rp.Name
		}
	}
	var list []string
	for _, name := range cur.RPs {
		if onEngine[name] {
			list = append(list, name)
		}
	}
	dropped := slices.DeleteFunc(slices.Clone(cur.RPs), func(n string) bool { return onEngine[n] })
	// The engine's RPs that Kodo did not list join the list (autogen
	// too, which influxd makes with every database: writes may name it).
	for _, rp := range rps {
		if !slices.Contains(list, rp.Name) {
			list = append(list, rp.Name)
		}
	}
	next := cur
	next.RPs = list
	if def != "" {
		next.DefaultRP = def
	}
	if !slices.Equal(next.RPs, cur.RPs) || next.DefaultRP != cur.DefaultRP {
		if err := s.meta.UpdateDatabase(ctx, next); err != nil {
			return err
		}
	}
	s.tokens.evict("", db.UUID)
	if len(dropped) > 0 {
		known, err := s.meta.MeasurementRPs(ctx, db.UUID)
		if err != nil {
			return err
		}
		for m, rp := range known {
			if slices.Contains(dropped, rp) {
				if err := s.meta.DeleteMeasurementRP(ctx, db.UUID, m); err != nil {
					return err
				}
			}
		}
		s.mrp.forget(db.UUID, "")
	}
	return nil
}

// rpRefresh rate-limits the metadata re-reads of hasRP per database, so a
// client writing to a missing RP in a loop cannot turn each write into a
// metadata query.
type rpRefresh struct {
	mu   sync.Mutex
	last map[string]time.Time
}

func (r *rpRefresh) allow(dbUUID string, now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.last == nil {
		r.last = map[string]time.Time{}
	}
	if t, ok := r.last[dbUUID]; ok && now.Sub(t) < time.Second {
		return false
	}
	if len(r.last) > 100_000 {
		clear(r.last)
	}
	r.last[dbUUID] = now
	return true
}

// hasRP reports whether rp is one of the database's RPs. When the cached
// copy does not list it, the metadata store is asked (at most once a
// second per database): another replica may have just made it.
func (s *service) hasRP(ctx context.Context, db *meta.Database, rp string) bool {
	if slices.Contains(db.RPs, rp) {
		return true
	}
	if !s.rpRefresh.allow(db.UUID, time.Now()) {
		return false
	}
	fresh, err := s.meta.Database(ctx, db.UUID)
	if err != nil || !slices.Contains(fresh.RPs, rp) {
		return false
	}
	s.tokens.evict("", db.UUID)
	*db = fresh
	return true
}

// rpDurations reads the durations of the database's RPs from its engine,
// where InfluxQL may have set them; the configured table answers for the
// RPs the engine cannot be asked about.
func (s *service) rpDurations(ctx context.Context, db meta.Database) map[string]time.Duration {
	out := map[string]time.Duration{}
	for name, d := range s.opts.RetentionPolicies {
		out[name] = d
	}
	rps, err := s.engineRPs(ctx, db)
	if err != nil {
		s.log.Warn("reading retention policies from the engine; answering the configured durations", "db", db.UUID, "err", err)
		return out
	}
	for _, rp := range rps {
		out[rp.Name] = rp.Duration
	}
	return out
}
