package kodo

import (
	"context"
	"strings"

	"github.com/kodo-project/kodo/kodo/kodoapi"
	"github.com/kodo-project/kodo/storage/meta"
	"github.com/kodo-project/kodo/storage/tsengine"
)

// applyLimits returns l with the request's members set, or a 400 naming the bad one.
func applyLimits(q kodoapi.CardinalityLimits, l meta.DatabaseLimits) (meta.DatabaseLimits, error) {
	for _, f := range []struct {
		name string
		v    *int
		dst  *int
	}{{"max_series_per_db", q.MaxSeriesPerDB, &l.MaxSeries}, {"max_values_per_tag", q.MaxValuesPerTag, &l.MaxValuesPerTag}} {
		if f.v == nil {
			continue
		}
		if *f.v < -1 || *f.v > 1<<31-1 {
			return l, Errorf(kodoapi.ErrBadRequest, "%s is %d: use -1 (no limit), 0 (the gateway's default) or a positive count", f.name, *f.v)
		}
		*f.dst = *f.v
	}
	return l, nil
}

func (s *service) limitsAnswer(db meta.Database) kodoapi.DatabaseLimits {
	eff := func(v, def int) int {
		switch {
		case v == 0 && def <= 0, v < 0:
			return -1
		case v == 0:
			return def
		}
		return v
	}
	return kodoapi.DatabaseLimits{
		DBUUID: db.UUID, MaxSeriesPerDB: db.Limits.MaxSeries, MaxValuesPerTag: db.Limits.MaxValuesPerTag,
		EffectiveMaxSeriesPerDB:  eff(db.Limits.MaxSeries, s.opts.Limits.MaxSeriesPerDatabase),
		EffectiveMaxValuesPerTag: eff(db.Limits.MaxValuesPerTag, s.opts.Limits.MaxValuesPerTag),
	}
}

// setWorkspaceLimits applies the limits given to every database of a
// workspace and answers them all.
func (s *service) setWorkspaceLimits(ctx context.Context, req kodoapi.WorkspaceLimitsRequest) (kodoapi.WorkspaceLimits, error) {
	ws, dbs, err := s.workspaceDatabases(ctx, req.WorkspaceUUID)
	if err != nil {
		return kodoapi.WorkspaceLimits{}, err
	}
	out := make([]kodoapi.DatabaseLimits, 0, len(dbs))
	for _, db := range dbs {
		l, err := applyLimits(req.CardinalityLimits, db.Limits)
		if err != nil {
			return kodoapi.WorkspaceLimits{}, err
		}
		if l != db.Limits {
			if err := s.meta.SetDatabaseLimits(ctx, db.UUID, l); err != nil {
				return kodoapi.WorkspaceLimits{}, metaError(err, "storing the limits")
			}
			db.Limits = l
		}
		out = append(out, s.limitsAnswer(db))
	}
	// Writes read the database through the token cache: take effect now
	// here (other replicas within the cache's minute).
	s.tokens.evict(ws.Token, "")
	return kodoapi.WorkspaceLimits{WorkspaceUUID: ws.UUID, Databases: out}, nil
}

// withWriteLimits carries a database's own limits to the engine.
func withWriteLimits(ctx context.Context, db meta.Database) context.Context {
	if db.Limits == (meta.DatabaseLimits{}) {
		return ctx // the engine's defaults are the gateway's
	}
	return tsengine.WithWriteLimits(ctx, tsengine.WriteLimits{
		MaxSeriesPerDatabase: db.Limits.MaxSeries, MaxValuesPerTag: db.Limits.MaxValuesPerTag,
	})
}

// refusalHint says what the writer can do about an engine's refusal.
func refusalHint(reason string) string {
	switch {
	case strings.Contains(reason, "max-series-per-database"), strings.Contains(reason, "max-values-per-tag"):
		return " (a cardinality limit of this workspace: drop unused series, keep unbounded values such as ids out of tags, or ask the operator to raise it with POST /v1/workspace/limits)"
	case strings.Contains(reason, "field type conflict"):
		return " (a field keeps the type it was first written with in any shard: send that type, or use another field name)"
	}
	return ""
}
