package kodo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/kodo-project/kodo/internal/jsonbody"
	"github.com/kodo-project/kodo/kodo/kodoapi"
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

// ckDatabase resolves a db_uuid to its ClickHouse database (the same name
// as in the time-series engine), answering 503 when ClickHouse is off.
func (s *service) ckDatabase(ctx context.Context, dbUUID string) (meta.Database, error) {
	if s.ck == nil {
		return meta.Database{}, Errorf(kodoapi.ErrUnavailable, "ClickHouse is not configured on this gateway (-clickhouse-dsn)")
	}
	return s.database(ctx, dbUUID)
}

func (s *service) handleCKStatus(r *http.Request) (any, error) {
	if s.ck == nil {
		return nil, Errorf(kodoapi.ErrUnavailable, "ClickHouse is not configured on this gateway (-clickhouse-dsn)")
	}
	if err := s.ck.Status(r.Context()); err != nil {
		return nil, inStore("clickhouse", err)
	}
	return nil, nil
}

func (s *service) handleCKCreateDB(r *http.Request) (any, error) {
	db, err := s.ckDatabase(r.Context(), r.URL.Query().Get("db_uuid"))
	if err != nil {
		return nil, err
	}
	if err := s.ck.CreateDatabase(r.Context(), db.Name); err != nil {
		return nil, inStore("clickhouse", err)
	}
	return nil, nil
}

func (s *service) handleCKTableList(r *http.Request) (any, error) {
	q := r.URL.Query()
	db, err := s.ckDatabase(r.Context(), q.Get("db_uuid"))
	if err != nil {
		return nil, err
	}
	typ := q.Get("type")
	switch typ {
	case "":
		typ = clickhouse.TypeAll
	case clickhouse.TypeAll, clickhouse.TypeTable, clickhouse.TypeView:
	default:
		return nil, Errorf(kodoapi.ErrBadRequest, "type %q is not one of table, view, all", typ)
	}
	tables, err := s.ck.Tables(r.Context(), db.Name, typ)
	if err != nil {
		return nil, inStore("clickhouse", err)
	}
	return clickhouse.TablesResult(tables), nil
}

func (s *service) handleCKTableInfo(r *http.Request) (any, error) {
	q := r.URL.Query()
	db, err := s.ckDatabase(r.Context(), q.Get("db_uuid"))
	if err != nil {
		return nil, err
	}
	table := q.Get("table_name")
	if table == "" {
		return nil, Errorf(kodoapi.ErrBadRequest, "table_name is required")
	}
	cols, err := s.ck.TableInfo(r.Context(), db.Name, table)
	if err != nil {
		return nil, inStore("clickhouse", err)
	}
	return clickhouse.ColumnsResult(cols), nil
}

// dropCKTable drops a workspace's ClickHouse table, or all of them.
func (s *service) dropCKTable(ctx context.Context, req kodoapi.CKTableRequest) error {
	db, err := s.ckDatabase(ctx, req.DBUUID)
	if err != nil {
		return err
	}
	// An empty table_name drops every table of the database (the spec's
	// example sends ""); the database itself stays for new writes.
	if err := s.ck.DropTable(ctx, db.Name, req.TableName); err != nil {
		return inStore("clickhouse", err)
	}
	return nil
}

// handleCKRead runs read requests; the body is one request or a list of
// them as the spec sends. A single request answers one result, a list of
// several answers a list.
func (s *service) handleCKRead(r *http.Request) (any, error) {
	var raw json.RawMessage
	if err := s.decodeJSON(r, &raw, false); err != nil {
		return nil, err
	}
	var reqs []kodoapi.CKTableRequest
	if t := bytes.TrimSpace(raw); len(t) > 0 && t[0] == '[' {
		if err := decodeJSONBody(raw, &reqs, false, jsonbody.Options{}); err != nil {
			return nil, err
		}
	} else {
		var one kodoapi.CKTableRequest
		if err := decodeJSONBody(raw, &one, false, jsonbody.Options{}); err != nil {
			return nil, err
		}
		reqs = []kodoapi.CKTableRequest{one}
	}
	if len(reqs) == 0 {
		return nil, Errorf(kodoapi.ErrBadRequest, "send at least one {db_uuid, table_name or command}")
	}
	out := make([]clickhouse.Result, 0, len(reqs))
	for i, req := range reqs {
		db, err := s.ckDatabase(r.Context(), req.DBUUID)
		if err != nil {
			return nil, err
		}
		if req.TableName == "" && req.Command == "" {
			return nil, Errorf(kodoapi.ErrBadRequest, "item %d: give table_name or command", i)
		}
		res, err := s.ck.Read(r.Context(), db.Name, clickhouse.ReadRequest{Table: req.TableName, Command: req.Command, GroupBy: req.GroupBy})
		if err != nil {
			return nil, inStore("clickhouse", err)
		}
		out = append(out, res)
	}
	if len(out) == 1 {
		return out[0], nil
	}
	return out, nil
}
