package kodo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/kodo-project/kodo/storage/clickhouse"
	"github.com/kodo-project/kodo/storage/meta"
)

// openClickHouse connects the optional ClickHouse store (-clickhouse-dsn).
func (s *service) openClickHouse(ctx context.Context) error {
	if s.opts.ClickHouseDSN == "" {
		return nil
	}
	ck, err := clickhouse.Open(ctx, s.opts.ClickHouseDSN, clickhouse.Options{
		Logger: s.log.With("store", "clickhouse"), QueryTimeout: s.opts.Limits.QueryTimeout, Cluster: s.opts.ClickHouseCluster,
	})
	if err != nil {
		return fmt.Errorf("kodo: clickhouse: %w", err)
	}
	s.ck = ck
	return nil
}

// ckError maps ClickHouse store errors onto API errors.
func (s *service) ckError(err error) error {
	var e *Error
	switch {
	case errors.As(err, &e):
		return e
	case errors.Is(err, clickhouse.ErrInvalid):
		return wrapErr(ErrInvalidSQL, err, "%v", err)
	case errors.Is(err, clickhouse.ErrNotFound):
		return wrapErr(ErrNotFound, err, "%v", err)
	case errors.Is(err, clickhouse.ErrTimeout):
		return wrapErr(ErrQueryTimeout, err, "%v", err)
	case errors.Is(err, clickhouse.ErrUnavailable):
		s.metrics.storeErrors.WithLabelValues("clickhouse").Inc()
		return &Error{Code: ErrUnavailable, RetryAfter: 5, cause: err, Message: "ClickHouse is unavailable; retry later"}
	}
	s.metrics.storeErrors.WithLabelValues("clickhouse").Inc()
	return wrapErr(ErrInternal, err, "ClickHouse failed")
}

// ckDatabase resolves a db_uuid to its ClickHouse database (the same name
// as in the time-series engine), answering 503 when ClickHouse is off.
func (s *service) ckDatabase(ctx context.Context, dbUUID string) (meta.Database, error) {
	if s.ck == nil {
		return meta.Database{}, Errorf(ErrUnavailable, "ClickHouse is not configured on this gateway (-clickhouse-dsn)")
	}
	return s.database(ctx, dbUUID)
}

func (s *service) handleCKStatus(w http.ResponseWriter, r *http.Request) {
	if s.ck == nil {
		s.fail(w, r, Errorf(ErrUnavailable, "ClickHouse is not configured on this gateway (-clickhouse-dsn)"))
		return
	}
	if err := s.ck.Status(r.Context()); err != nil {
		s.fail(w, r, s.ckError(err))
		return
	}
	respond(w, nil)
}

func (s *service) handleCKCreateDB(w http.ResponseWriter, r *http.Request) {
	db, err := s.ckDatabase(r.Context(), r.URL.Query().Get("db_uuid"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.ck.CreateDatabase(r.Context(), db.Name); err != nil {
		s.fail(w, r, s.ckError(err))
		return
	}
	respond(w, nil)
}

func (s *service) handleCKTableList(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	db, err := s.ckDatabase(r.Context(), q.Get("db_uuid"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	typ := q.Get("type")
	if typ == "" {
		typ = "all"
	}
	tables, err := s.ck.Tables(r.Context(), db.Name, typ)
	if err != nil {
		s.fail(w, r, s.ckError(err))
		return
	}
	respond(w, clickhouse.TablesResult(tables))
}

func (s *service) handleCKTableInfo(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	db, err := s.ckDatabase(r.Context(), q.Get("db_uuid"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	table := q.Get("table_name")
	if table == "" {
		s.fail(w, r, Errorf(ErrBadRequest, "table_name is required"))
		return
	}
	cols, err := s.ck.TableInfo(r.Context(), db.Name, table)
	if err != nil {
		s.fail(w, r, s.ckError(err))
		return
	}
	respond(w, clickhouse.ColumnsResult(cols))
}

type ckTableRequest struct {
	DBUUID    string   `json:"db_uuid"`
	TableName string   `json:"table_name"`
	Command   string   `json:"command"`
	GroupBy   []string `json:"group_by"`
}

func (s *service) handleCKDrop(w http.ResponseWriter, r *http.Request) {
	var req ckTableRequest
	if err := s.decodeJSON(r, &req, false); err != nil {
		s.fail(w, r, err)
		return
	}
	db, err := s.ckDatabase(r.Context(), req.DBUUID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// An empty table_name drops every table of the database (the spec's
	// example sends ""); the database itself stays for new writes.
	if err := s.ck.DropTable(r.Context(), db.Name, req.TableName); err != nil {
		s.fail(w, r, s.ckError(err))
		return
	}
	respond(w, nil)
}

// handleCKRead runs read requests; the body is one request or a list of
// them as the spec sends. A single request answers one result, a list of
// several answers a list.
func (s *service) handleCKRead(w http.ResponseWriter, r *http.Request) {
	var raw json.RawMessage
	if err := s.decodeJSON(r, &raw, false); err != nil {
		s.fail(w, r, err)
		return
	}
	var reqs []ckTableRequest
	if t := bytes.TrimSpace(raw); len(t) > 0 && t[0] == '[' {
		if err := json.Unmarshal(raw, &reqs); err != nil {
			s.fail(w, r, Errorf(ErrInvalidJSON, "invalid JSON body: %s", jsonErrorText(err, raw)))
			return
		}
	} else {
		var one ckTableRequest
		if err := json.Unmarshal(raw, &one); err != nil {
			s.fail(w, r, Errorf(ErrInvalidJSON, "invalid JSON body: %s", jsonErrorText(err, raw)))
			return
		}
		reqs = []ckTableRequest{one}
	}
	if len(reqs) == 0 {
		s.fail(w, r, Errorf(ErrBadRequest, "send at least one {db_uuid, table_name or command}"))
		return
	}
	out := make([]clickhouse.Result, 0, len(reqs))
	for i, req := range reqs {
		db, err := s.ckDatabase(r.Context(), req.DBUUID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if req.TableName == "" && req.Command == "" {
			s.fail(w, r, Errorf(ErrBadRequest, "item %d: give table_name or command", i))
			return
		}
		res, err := s.ck.Read(r.Context(), db.Name, clickhouse.ReadRequest{Table: req.TableName, Command: req.Command, GroupBy: req.GroupBy})
		if err != nil {
			s.fail(w, r, s.ckError(err))
			return
		}
		out = append(out, res)
	}
	if len(out) == 1 {
		respond(w, out[0])
		return
	}
	respond(w, out)
}
