package kodo

import (
	"context"
	"errors"

	"github.com/kodo-project/kodo/kodo/kodoapi"
	"github.com/kodo-project/kodo/storage/clickhouse"
	"github.com/kodo-project/kodo/storage/queue"
)

// deleteWorkspace removes everything a workspace owns.
func (s *service) deleteWorkspace(ctx context.Context, req kodoapi.WorkspaceRef) (kodoapi.WorkspaceDeleted, error) {
	ws, dbs, err := s.workspaceDatabases(ctx, req.WorkspaceUUID)
	if err != nil {
		return kodoapi.WorkspaceDeleted{}, err
	}
	names := make([]string, 0, len(dbs))
	for _, db := range dbs {
		eng, err := s.engineFor(db)
		if err != nil {
			return kodoapi.WorkspaceDeleted{}, err
		}
		// The sinks drop their copy too (queue consumers, wherever they run).
		if err := s.publish(ctx, queue.Message{Op: queue.OpDropDatabase, DB: db.Name}); err != nil {
			return kodoapi.WorkspaceDeleted{}, err
		}
		if err := eng.DropDatabase(ctx, db.Name); err != nil {
			return kodoapi.WorkspaceDeleted{}, engineError(err, "dropping database "+db.UUID)
		}
		if s.ck != nil {
			if err := s.ck.DropTable(ctx, db.Name, ""); err != nil && !errors.Is(err, clickhouse.ErrNotFound) {
				return kodoapi.WorkspaceDeleted{}, inStore("clickhouse", err)
			}
		}
		names = append(names, db.Name)
	}
	if err := s.docStore.DeleteWorkspace(ctx, ws.UUID); err != nil {
		return kodoapi.WorkspaceDeleted{}, inStore("docs", err)
	}
	if err := s.meta.DeleteWorkspace(ctx, ws.UUID); err != nil {
		return kodoapi.WorkspaceDeleted{}, notFoundAs(err, kodoapi.ErrWorkspaceNotFound, "workspace %s not found", ws.UUID)
	}
	s.tokens.evict(ws.Token, "")
	for _, db := range dbs {
		s.tokens.evict("", db.UUID)
		s.mrp.forget(db.UUID, "")
		s.series.forget(db.UUID)
	}
	s.log.Info("workspace deleted", "workspace_uuid", ws.UUID, "databases", names)
	return kodoapi.WorkspaceDeleted{WorkspaceUUID: ws.UUID, DeletedDatabases: names}, nil
}
