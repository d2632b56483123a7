package sqlite

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kodo-project/kodo/storage/meta"
	"github.com/kodo-project/kodo/storage/meta/internal/migrate"
	"github.com/kodo-project/kodo/storage/meta/metatest"
)

func openAt(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(context.Background(), path, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	metatest.Run(t,
		func(t *testing.T) meta.Store { return openAt(t, filepath.Join(t.TempDir(), "meta.db")) },
		metatest.WithReopen(func(t *testing.T, s meta.Store) meta.Store {
			path := s.(*Store).Path()
			require.NoError(t, s.Close())
			return openAt(t, path)
		}))
}

func TestOpenRejects(t *testing.T) {
	for _, path := range []string{"", ":memory:", "file:x.db", "x.db?mode=ro"} {
		t.Run(path, func(t *testing.T) {
			_, err := Open(context.Background(), path, nil)
			assert.ErrorIs(t, err, meta.ErrInvalid)
		})
	}
}

func TestOpenSettings(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nested", "dir")
	s := openAt(t, filepath.Join(dir, "meta.db"))
	ctx := context.Background()

	fi, err := os.Stat(s.Path())
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "tokens must not be world-readable")

	var mode string
	var sync, fk, busy int
	require.NoError(t, s.wdb.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode))
	require.NoError(t, s.wdb.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&sync))
	require.NoError(t, s.wdb.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk))
	require.NoError(t, s.wdb.QueryRowContext(ctx, "PRAGMA busy_timeout").Scan(&busy))
	assert.Equal(t, "wal", mode)
	assert.Equal(t, 2, sync, "synchronous=FULL")
	assert.Equal(t, 1, fk)
	assert.Equal(t, int(busyTimeout.Milliseconds()), busy)
	require.NoError(t, s.rdb.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&sync))
	assert.Equal(t, 2, sync)

	// The read pool cannot write.
	_, err = s.rdb.ExecContext(ctx, "DELETE FROM workspaces")
	assert.Error(t, err)

	var n int
	require.NoError(t, s.wdb.QueryRowContext(ctx, "SELECT COUNT(*) FROM schema_migrations").Scan(&n))
	ms, err := migrate.Load(migrationFS, "migrations")
	require.NoError(t, err)
	assert.Equal(t, len(ms), n, "every embedded migration applied once")
}

// TestTwoStoresOneFile opens the same file twice, as two processes would:
// migrations run once and both see each other's writes.
func TestTwoStoresOneFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "meta.db")
	a, b := openAt(t, path), openAt(t, path)
	ctx := context.Background()
	w := meta.Workspace{UUID: "wksp_1", Token: "tkn_1"}
	d := meta.Database{UUID: "ifdb_1", Name: "db1", InstanceUUID: "iflx_1"}
	require.NoError(t, a.CreateWorkspace(ctx, w, d))
	got, err := b.WorkspaceByToken(ctx, "tkn_1")
	require.NoError(t, err)
	assert.Equal(t, "wksp_1", got.UUID)
	assert.ErrorIs(t, b.CreateWorkspace(ctx, w, d), meta.ErrConflict)
}

func TestNewerSchemaRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "meta.db")
	s, err := Open(context.Background(), path, nil)
	require.NoError(t, err)
	_, err = s.wdb.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, '0999_future.sql', 0)`)
	require.NoError(t, err)
	require.NoError(t, s.Close())
	_, err = Open(context.Background(), path, nil)
	require.ErrorContains(t, err, "newer than this binary")
}

// TestSecretsMigrationKeepsOldWorkspaces: a workspace stored before
// migration 0005 keeps accepting MD5-keyed signatures, so upgrading the
// gateway does not lock out its agents.
func TestSecretsMigrationKeepsOldWorkspaces(t *testing.T) {
	path := filepath.Join(t.TempDir(), "meta.db")
	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	_, err = db.Exec(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`)
	require.NoError(t, err)
	ms, err := migrate.Load(migrationFS, "migrations")
	require.NoError(t, err)
	require.Greater(t, len(ms), 3)
	for _, m := range ms[:3] {
		_, err := db.Exec(m.SQL)
		require.NoError(t, err, m.Name)
		_, err = db.Exec(`INSERT INTO schema_migrations VALUES (?, ?, 0)`, m.Version, m.Name)
		require.NoError(t, err)
	}
	_, err = db.Exec(`INSERT INTO workspaces (uuid, name, token, secret, created_at) VALUES ('wksp_old', 'old', 'tkn_old', '', 1)`)
	require.NoError(t, err)
	require.NoError(t, db.Close())

	s := openAt(t, path)
	w, err := s.WorkspaceByToken(context.Background(), "tkn_old")
	require.NoError(t, err)
	assert.True(t, w.AllowBodyKey, "existing workspaces keep MD5-keyed signatures")
	assert.Empty(t, w.PrevSecret)
	assert.True(t, w.PrevSecretUntil.IsZero())
}
