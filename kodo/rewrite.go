package kodo

import (
	"context"
	"strings"

	"github.com/kodo-project/kodo/influxql"
	"github.com/kodo-project/kodo/kodo/kodoapi"
)

// rewrite rewrites each item (spec/rewrite.md). A failing item
// answers its error entry in place; only a bad body or db fails the call.
func (s *service) rewrite(ctx context.Context, req kodoapi.RewriteRequest) ([][]influxql.Statement, error) {
	db, err := s.database(ctx, req.DBUUID)
	if err != nil {
		return nil, err
	}
	return influxql.RewriteAll(db.Name, req.SQLs, s.now()), nil
}

// rewriteCommand applies rewrite options to a /v1/read/metrics command and
// returns the rewritten statements joined back into one query.
func (s *service) rewriteCommand(dbName, command string, opts *influxql.Item) (string, []influxql.Statement, error) {
	it := *opts
	it.SQL = command
	sts, err := influxql.Rewrite(dbName, it, s.now())
	if err != nil {
		return "", nil, wrapErr(kodoapi.ErrInvalidSQL, err, "rewrite: %v", err)
	}
	parts := make([]string, len(sts))
	for i, st := range sts {
		parts[i] = st.SQL
	}
	return strings.Join(parts, ";\n"), sts, nil
}
