package postgres

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kodo-project/kodo/storage/meta"
	"github.com/kodo-project/kodo/storage/meta/internal/migrate"
	"github.com/kodo-project/kodo/storage/meta/metatest"
)

const dsnEnv = "KODO_TEST_POSTGRES_DSN"

// baseDSN returns the server to test against, or skips.
func baseDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(dsnEnv)
	if dsn == "" {
		t.Skipf("%s not set; start a server with `eval \"$(.ci/postgres.sh)\"` to run the PostgreSQL tests", dsnEnv)
	}
	return dsn
}

// freshSchema creates an empty schema for one test, drops it when the test
// ends, and returns a DSN whose search_path points at it.
func freshSchema(t testing.TB) string {
	t.Helper()
	base := baseDSN(t)
	ctx := context.Background()
	name := "kodo_t_" + strings.ReplaceAll(uuid.NewString(), "-", "")[:16]
	admin, err := pgx.Connect(ctx, base)
	require.NoError(t, err)
	_, err = admin.Exec(ctx, "CREATE SCHEMA "+name)
	require.NoError(t, err)
	require.NoError(t, admin.Close(ctx))
	t.Cleanup(func() {
		admin, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("drop schema %s: %v", name, err)
			return
		}
		defer admin.Close(ctx)
		if _, err := admin.Exec(ctx, "DROP SCHEMA "+name+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", name, err)
		}
	})
	return withSearchPath(t, base, name)
}

func withSearchPath(t testing.TB, dsn, schema string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err == nil && u.Scheme != "" {
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		return u.String()
	}
	return dsn + " search_path=" + schema // key=value form
}

func openDSN(t testing.TB, dsn string) *Store {
	t.Helper()
	s, err := Open(context.Background(), dsn, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	baseDSN(t)
	var mu sync.Mutex
	dsns := map[meta.Store]string{}
	open := func(t *testing.T, dsn string) meta.Store {
		s := openDSN(t, dsn)
		mu.Lock()
		dsns[s] = dsn
		mu.Unlock()
		return s
	}
	metatest.Run(t,
		func(t *testing.T) meta.Store { return open(t, freshSchema(t)) },
		metatest.WithReopen(func(t *testing.T, s meta.Store) meta.Store {
			mu.Lock()
			dsn := dsns[s]
			mu.Unlock()
			require.NoError(t, s.Close())
			return open(t, dsn)
		}))
}

// TestConcurrentOpen starts several "replicas" on one empty schema at once:
// the advisory lock must let exactly one apply each migration.
func TestConcurrentOpen(t *testing.T) {
	dsn := freshSchema(t)
	const replicas = 5
	stores := make([]*Store, replicas)
	errs := make([]error, replicas)
	var wg sync.WaitGroup
	for i := range replicas {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stores[i], errs[i] = Open(context.Background(), dsn, nil)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		require.NoError(t, err, "replica %d", i)
		t.Cleanup(func() { _ = stores[i].Close() })
	}
	var n int
	require.NoError(t, stores[0].Pool().QueryRow(context.Background(), "SELECT COUNT(*) FROM schema_migrations").Scan(&n))
	ms, err := migrate.Load(migrationFS, "migrations")
	require.NoError(t, err)
	assert.Equal(t, len(ms), n, "every embedded migration applied once")

	// One truth: a write through one replica is seen by another.
	ctx := context.Background()
	require.NoError(t, stores[1].CreateWorkspace(ctx, meta.Workspace{UUID: "wksp_1", Token: "tkn_1"},
		meta.Database{UUID: "ifdb_1", Name: "db1", InstanceUUID: "iflx_1"}))
	got, err := stores[3].WorkspaceByToken(ctx, "tkn_1")
	require.NoError(t, err)
	assert.Equal(t, "wksp_1", got.UUID)
}

func TestNewerSchemaRefused(t *testing.T) {
	dsn := freshSchema(t)
	s := openDSN(t, dsn)
	_, err := s.Pool().Exec(context.Background(), `INSERT INTO schema_migrations (version, name) VALUES (999, '0999_future.sql')`)
	require.NoError(t, err)
	_, err = Open(context.Background(), dsn, nil)
	require.ErrorContains(t, err, "newer than this binary")
}

func TestOpenErrors(t *testing.T) {
	_, err := Open(context.Background(), "postgres://u:hunter2@127.0.0.1:1/x?sslmode=bogus", nil)
	require.Error(t, err)
	assert.ErrorIs(t, err, meta.ErrInvalid)
	assert.NotContains(t, err.Error(), "hunter2", "the password must not leak into errors")

	// Nothing listens on port 1: Open fails with a backend error, no panic.
	_, err = Open(context.Background(), "postgres://u:hunter2@127.0.0.1:1/x?sslmode=disable&connect_timeout=2", nil)
	require.Error(t, err)
	var me *meta.Error
	require.ErrorAs(t, err, &me)
	assert.Equal(t, "Open", me.Op)
	assert.NotContains(t, err.Error(), "hunter2")
}

// Example opens the shared store the way a gateway replica does. It has
// no Output line because it needs a server.
func Example() {
	ctx := context.Background()
	s, err := Open(ctx, "postgres://kodo@127.0.0.1:5432/kodo?sslmode=disable&pool_max_conns=16", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	w, err := s.WorkspaceByToken(ctx, "tkn_0123456789abcdef0123456789abcdef")
	if errors.Is(err, meta.ErrNotFound) {
		fmt.Println("unknown token")
		return
	}
	fmt.Println(w.UUID, err)
}

// TestSecretsMigrationKeepsOldWorkspaces: a workspace stored before
// migration 0005 keeps accepting MD5-keyed signatures.
func TestSecretsMigrationKeepsOldWorkspaces(t *testing.T) {
	dsn := freshSchema(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	require.NoError(t, err)
	_, err = conn.Exec(ctx, `CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`)
	require.NoError(t, err)
	ms, err := migrate.Load(migrationFS, "migrations")
	require.NoError(t, err)
	require.Greater(t, len(ms), 3)
	for _, m := range ms[:3] {
		_, err := conn.Exec(ctx, m.SQL)
		require.NoError(t, err, m.Name)
		_, err = conn.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.Version, m.Name)
		require.NoError(t, err)
	}
	_, err = conn.Exec(ctx, `INSERT INTO workspaces (uuid, name, token, secret, created_at) VALUES ('wksp_old', 'old', 'tkn_old', '', now())`)
	require.NoError(t, err)
	require.NoError(t, conn.Close(ctx))

	s := openDSN(t, dsn)
	w, err := s.WorkspaceByToken(ctx, "tkn_old")
	require.NoError(t, err)
	assert.True(t, w.AllowBodyKey, "existing workspaces keep MD5-keyed signatures")
	assert.True(t, w.PrevSecretUntil.IsZero())
}
