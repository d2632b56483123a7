package kodo

import (
	"context"
	"net/http"
	"strings"

	"github.com/kodo-project/kodo/storage/meta"
	"github.com/kodo-project/kodo/storage/tsengine"
)

// CardinalityLimits set a workspace's series and tag-value limits (POST
// /v1/workspace/limits), or give them at creation (POST
// /v1/workspace/create). A nil member leaves the limit as it is; 0 takes
// the gateway's default (-max-series-per-db, -max-values-per-tag); -1
// lifts the limit; n > 0 sets it. The embedded engine enforces them; a
// remote InfluxDB applies its own configuration.
type CardinalityLimits struct {
	MaxSeriesPerDB  *int `json:"max_series_per_db,omitempty"`
	MaxValuesPerTag *int `json:"max_values_per_tag,omitempty"`
}

// apply returns l with the request's members set, or a 400 naming the bad one.
func (q CardinalityLimits) apply(l meta.DatabaseLimits) (meta.DatabaseLimits, error) {
	for _, f := range []struct {
		name string
		v    *int
		dst  *int
	}{{"max_series_per_db", q.MaxSeriesPerDB, &l.MaxSeries}, {"max_values_per_tag", q.MaxValuesPerTag, &l.MaxValuesPerTag}} {
		if f.v == nil {
			continue
		}
		if *f.v < -1 || *f.v > 1<<31-1 {
			return l, Errorf(ErrBadRequest, "%s is %d: use -1 (no limit), 0 (the gateway's default) or a positive count", f.name, *f.v)
		}
		*f.dst = *f.v
	}
	return l, nil
}

// DatabaseLimitsInfo shows a database's cardinality limits: as set (0 =
// the gateway's default, -1 = none) and as enforced.
type DatabaseLimitsInfo struct {
	DBUUID          string `json:"db_uuid"`
	MaxSeriesPerDB  int    `json:"max_series_per_db"`
	MaxValuesPerTag int    `json:"max_values_per_tag"`
	// Effective values: the gateway's default applied; -1 = no limit.
	EffectiveMaxSeriesPerDB  int `json:"effective_max_series_per_db"`
	EffectiveMaxValuesPerTag int `json:"effective_max_values_per_tag"`
}

// WorkspaceLimitsInfo is the answer of POST /v1/workspace/limits.
type WorkspaceLimitsInfo struct {
	WorkspaceUUID string               `json:"workspace_uuid"`
	Databases     []DatabaseLimitsInfo `json:"databases"`
}

func (s *service) limitsAnswer(db meta.Database) DatabaseLimitsInfo {
	eff := func(v, def int) int {
		switch {
		case v == 0 && def <= 0, v < 0:
			return -1
		case v == 0:
			return def
		}
		return v
	}
	return DatabaseLimitsInfo{
		DBUUID: db.UUID, MaxSeriesPerDB: db.Limits.MaxSeries, MaxValuesPerTag: db.Limits.MaxValuesPerTag,
		EffectiveMaxSeriesPerDB:  eff(db.Limits.MaxSeries, s.opts.Limits.MaxSeriesPerDatabase),
		EffectiveMaxValuesPerTag: eff(db.Limits.MaxValuesPerTag, s.opts.Limits.MaxValuesPerTag),
	}
}

// workspaceLimitsRequest is the body of POST /v1/workspace/limits.
type workspaceLimitsRequest struct {
	WorkspaceUUID string `json:"workspace_uuid"`
	CardinalityLimits
}

// SetWorkspaceLimits sets (or, with both members nil, reads) the series
// and tag-value limits of a workspace's databases.
func (c *Client) SetWorkspaceLimits(ctx context.Context, workspaceUUID string, l CardinalityLimits) (*WorkspaceLimitsInfo, error) {
	var out WorkspaceLimitsInfo
	if err := c.postJSON(ctx, "/v1/workspace/limits", false, workspaceLimitsRequest{WorkspaceUUID: workspaceUUID, CardinalityLimits: l}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// handleWorkspaceLimits sets the series and tag-value limits of every
// database of a workspace: {"workspace_uuid": ..., "max_series_per_db": n,
// "max_values_per_tag": n}. With neither limit it only answers them.
func (s *service) handleWorkspaceLimits(w http.ResponseWriter, r *http.Request) {
	var req workspaceLimitsRequest
	if err := s.decodeJSON(r, &req, false); err != nil {
		s.fail(w, r, err)
		return
	}
	ctx := r.Context()
	ws, dbs, err := s.workspaceDatabases(ctx, req.WorkspaceUUID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := make([]DatabaseLimitsInfo, 0, len(dbs))
	for _, db := range dbs {
		l, err := req.apply(db.Limits)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if l != db.Limits {
			if err := s.meta.SetDatabaseLimits(ctx, db.UUID, l); err != nil {
				s.fail(w, r, metaError(err, "storing the limits"))
				return
			}
			db.Limits = l
		}
		out = append(out, s.limitsAnswer(db))
	}
	// Writes read the database through the token cache: take effect now
	// here (other replicas within the cache's minute).
	s.tokens.evict(ws.Token, "")
	respond(w, WorkspaceLimitsInfo{WorkspaceUUID: ws.UUID, Databases: out})
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
