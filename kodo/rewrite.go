package kodo

import (
	"net/http"
	"strings"

	"github.com/kodo-project/kodo/influxql"
)

// rewriteRequest is the body of POST /v1/rewrite.
type rewriteRequest struct {
	DBUUID string          `json:"db_uuid"`
	SQLs   []influxql.Item `json:"sqls"`
}

// handleRewrite rewrites each item (spec/rewrite.md). A failing item
// answers its error entry in place; only a bad body or db fails the call.
func (s *service) handleRewrite(w http.ResponseWriter, r *http.Request) {
	var req rewriteRequest
	if err := s.decodeJSON(r, &req, false); err != nil {
		s.fail(w, r, err)
		return
	}
	db, err := s.database(r.Context(), req.DBUUID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	respond(w, influxql.RewriteAll(db.Name, req.SQLs, s.now()))
}

// rewriteCommand applies rewrite options to a /v1/read/metrics command and
// returns the rewritten statements joined back into one query.
func (s *service) rewriteCommand(dbName, command string, opts *influxql.Item) (string, []influxql.Statement, error) {
	it := *opts
	it.SQL = command
	sts, err := influxql.Rewrite(dbName, it, s.now())
	if err != nil {
		return "", nil, wrapErr(ErrInvalidSQL, err, "rewrite: %v", err)
	}
	parts := make([]string, len(sts))
	for i, st := range sts {
		parts[i] = st.SQL
	}
	return strings.Join(parts, ";\n"), sts, nil
}
