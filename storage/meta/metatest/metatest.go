package metatest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kodo-project/kodo/internal/conformance"
	"github.com/kodo-project/kodo/storage/meta"
)

// Option tunes Run.
type Option func(*config)

type config struct {
	reopen func(t *testing.T, s meta.Store) meta.Store
}

// WithReopen enables the persistence test. reopen must close s and return a
// new Store over the same data (the same file, the same schema); closing
// the new store stays the opener's job.
func WithReopen(reopen func(t *testing.T, s meta.Store) meta.Store) Option {
	return func(c *config) { c.reopen = reopen }
}

// Run checks a meta.Store implementation against the contract of the
// interface. open must return a new, empty store for each call and close it
// through t.Cleanup. Without WithReopen the persistence test is skipped.
func Run(t *testing.T, open func(t *testing.T) meta.Store, opts ...Option) {
	var c config
	for _, o := range opts {
		o(&c)
	}
	conformance.Run(t, open, []conformance.Case[meta.Store]{
		{Name: "Workspace", Test: testWorkspace},
		{Name: "WorkspaceValidation", Test: testWorkspaceValidation},
		{Name: "Database", Test: testDatabase},
		{Name: "UpdateDeleteDatabase", Test: testUpdateDeleteDatabase},
		{Name: "DatabaseLimits", Test: testDatabaseLimits},
		{Name: "Instances", Test: testInstances},
		{Name: "InstanceLoad", Test: testInstanceLoad},
		{Name: "MeasurementRPs", Test: testMeasurementRPs},
		{Name: "KeyPairs", Test: testKeyPairs},
		{Name: "Datakits", Test: testDatakits},
		{Name: "Dropping", Test: testDropping},
		{Name: "LogPipelines", Test: testLogPipelines},
		{Name: "WorkspaceSecrets", Test: testWorkspaceSecrets},
		{Name: "ReplayCache", Test: testReplayCache},
		{Name: "ContinuousQueries", Test: testCQ},
		{Name: "CascadeOnDeleteDatabase", Test: testCascade},
		{Name: "DeleteWorkspace", Test: testDeleteWorkspace},
		{Name: "ConcurrentWriters", Test: testConcurrentWriters},
		{Name: "ConcurrentConflicts", Test: testConcurrentConflicts},
		{Name: "PandoraKeyPairs", Test: testPandoraKeyPairs},
		{Name: "PandoraRepos", Test: testPandoraRepos},
		{Name: "PandoraSeriesViews", Test: testPandoraSeriesViews},
		{Name: "PandoraConcurrentCreate", Test: testPandoraConcurrentCreate},
		{Name: "PandoraSeriesLimit", Test: testPandoraSeriesLimit},
	})
	t.Run("Reopen", func(t *testing.T) {
		if c.reopen == nil {
			t.Skip("metatest.WithReopen not given")
		}
		testReopen(t, open(t), c.reopen)
	})
}

// id returns prefix + 32 hex digits, the shape of Kodo's identifiers.
func id(prefix string) string {
	return prefix + strings.ReplaceAll(uuid.NewString(), "-", "")
}

// stamp is a fixed time with microsecond precision, the finest both
// backends keep.
func stamp(offset time.Duration) time.Time {
	return time.Date(2024, 5, 6, 7, 8, 9, 123456000, time.UTC).Add(offset)
}

func newWorkspace(name string) (meta.Workspace, meta.Database) {
	w := meta.Workspace{UUID: id("wksp_"), Name: name, Token: id("tkn_"), Secret: "s3cr3t-" + name, CreatedAt: stamp(0)}
	d := meta.Database{
		UUID: id("ifdb_"), WorkspaceUUID: w.UUID, Name: "db_" + w.UUID[5:], InstanceUUID: "iflx_main",
		DefaultRP: "rp1", CQRP: "autogen", RPs: []string{"rp3", "rp1", "autogen", "rp2"}, CreatedAt: stamp(0),
	}
	return w, d
}

func mustWorkspace(t *testing.T, s meta.Store, name string) (meta.Workspace, meta.Database) {
	t.Helper()
	w, d := newWorkspace(name)
	require.NoError(t, s.CreateWorkspace(context.Background(), w, d))
	return w, d
}

// assertKind checks that err wraps kind and is a *meta.Error naming op.
// requireEmpty requires no error and an empty list that is not nil (it
// encodes as [] or {}, not null).
func requireEmpty(t *testing.T, list any, err error) {
	t.Helper()
	require.NoError(t, err)
	assert.NotNil(t, list)
	assert.Empty(t, list)
}

func assertKind(t *testing.T, err, kind error, op string) {
	t.Helper()
	require.Error(t, err)
	assert.ErrorIs(t, err, kind, "error: %v", err)
	var me *meta.Error
	if assert.ErrorAs(t, err, &me) {
		assert.Equal(t, op, me.Op)
		assert.Contains(t, err.Error(), op)
	}
}

func equalWorkspace(t *testing.T, want, got meta.Workspace) {
	t.Helper()
	assert.True(t, want.CreatedAt.Equal(got.CreatedAt), "CreatedAt: want %v, got %v", want.CreatedAt, got.CreatedAt)
	want.CreatedAt, got.CreatedAt = time.Time{}, time.Time{}
	assert.Equal(t, want, got)
}

func equalDatabase(t *testing.T, want, got meta.Database) {
	t.Helper()
	assert.True(t, want.CreatedAt.Equal(got.CreatedAt), "CreatedAt: want %v, got %v", want.CreatedAt, got.CreatedAt)
	want.CreatedAt, got.CreatedAt = time.Time{}, time.Time{}
	if want.RPs == nil {
		want.RPs = []string{}
	}
	assert.Equal(t, want, got)
}

func equalCQ(t *testing.T, want, got meta.ContinuousQuery) {
	t.Helper()
	assert.True(t, want.CreatedAt.Equal(got.CreatedAt), "CreatedAt: want %v, got %v", want.CreatedAt, got.CreatedAt)
	want.CreatedAt, got.CreatedAt = time.Time{}, time.Time{}
	assert.Equal(t, want, got)
}

func testWorkspace(t *testing.T, s meta.Store) {
	ctx := context.Background()
	w, d := mustWorkspace(t, s, "alpha")

	got, err := s.WorkspaceByToken(ctx, w.Token)
	require.NoError(t, err)
	equalWorkspace(t, w, got)
	assert.Equal(t, time.UTC, got.CreatedAt.Location())

	got, err = s.Workspace(ctx, w.UUID)
	require.NoError(t, err)
	equalWorkspace(t, w, got)

	gotDB, err := s.Database(ctx, d.UUID)
	require.NoError(t, err)
	equalDatabase(t, d, gotDB)

	_, err = s.WorkspaceByToken(ctx, id("tkn_"))
	assertKind(t, err, meta.ErrNotFound, "WorkspaceByToken")
	_, err = s.Workspace(ctx, id("wksp_"))
	assertKind(t, err, meta.ErrNotFound, "Workspace")

	// Conflicts: same UUID, same token, same database UUID. Each must
	// leave nothing behind (one transaction).
	w2, d2 := newWorkspace("beta")
	w2.UUID = w.UUID
	assertKind(t, s.CreateWorkspace(ctx, w2, meta.Database{}), meta.ErrInvalid, "CreateWorkspace")
	d2.WorkspaceUUID = w2.UUID
	assertKind(t, s.CreateWorkspace(ctx, w2, d2), meta.ErrConflict, "CreateWorkspace")

	w3, d3 := newWorkspace("gamma")
	w3.Token = w.Token
	assertKind(t, s.CreateWorkspace(ctx, w3, d3), meta.ErrConflict, "CreateWorkspace")
	_, err = s.Workspace(ctx, w3.UUID)
	assertKind(t, err, meta.ErrNotFound, "Workspace")

	w4, d4 := newWorkspace("delta")
	d4.UUID = d.UUID
	assertKind(t, s.CreateWorkspace(ctx, w4, d4), meta.ErrConflict, "CreateWorkspace")
	_, err = s.Workspace(ctx, w4.UUID)
	assertKind(t, err, meta.ErrNotFound, "Workspace") // rolled back with the database insert
	_, err = s.WorkspaceByToken(ctx, w4.Token)
	assertKind(t, err, meta.ErrNotFound, "WorkspaceByToken")

	// Same workspace name is allowed (names are labels, not keys).
	w5, d5 := newWorkspace("alpha")
	require.NoError(t, s.CreateWorkspace(ctx, w5, d5))

	// An empty database workspace UUID is filled in; zero times become now.
	w6, d6 := newWorkspace("epsilon")
	d6.WorkspaceUUID = ""
	w6.CreatedAt, d6.CreatedAt = time.Time{}, time.Time{}
	before := time.Now().Add(-time.Second)
	require.NoError(t, s.CreateWorkspace(ctx, w6, d6))
	got, err = s.Workspace(ctx, w6.UUID)
	require.NoError(t, err)
	assert.WithinRange(t, got.CreatedAt, before, time.Now().Add(time.Second))
	gotDB, err = s.Database(ctx, d6.UUID)
	require.NoError(t, err)
	assert.Equal(t, w6.UUID, gotDB.WorkspaceUUID)
	assert.False(t, gotDB.CreatedAt.IsZero())

	// The token never shows in an error message: it is a credential.
	secretToken := id("tkn_")
	_, err = s.WorkspaceByToken(ctx, secretToken)
	assert.NotContains(t, err.Error(), secretToken)
}

func testWorkspaceValidation(t *testing.T, s meta.Store) {
	ctx := context.Background()
	tests := []struct {
		name   string
		mutate func(w *meta.Workspace, d *meta.Database)
	}{
		{"empty workspace uuid", func(w *meta.Workspace, d *meta.Database) { w.UUID = ""; d.WorkspaceUUID = "" }},
		{"empty token", func(w *meta.Workspace, _ *meta.Database) { w.Token = "" }},
		{"foreign database", func(_ *meta.Workspace, d *meta.Database) { d.WorkspaceUUID = id("wksp_") }},
		{"empty database uuid", func(_ *meta.Workspace, d *meta.Database) { d.UUID = "" }},
		{"empty database name", func(_ *meta.Workspace, d *meta.Database) { d.Name = "" }},
		{"empty instance", func(_ *meta.Workspace, d *meta.Database) { d.InstanceUUID = "" }},
		{"empty rp", func(_ *meta.Workspace, d *meta.Database) { d.RPs = []string{"a", ""} }},
		{"repeated rp", func(_ *meta.Workspace, d *meta.Database) { d.RPs = []string{"a", "b", "a"} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, d := newWorkspace(tt.name)
			tt.mutate(&w, &d)
			assertKind(t, s.CreateWorkspace(ctx, w, d), meta.ErrInvalid, "CreateWorkspace")
			if w.Token != "" {
				_, err := s.WorkspaceByToken(ctx, w.Token)
				assertKind(t, err, meta.ErrNotFound, "WorkspaceByToken")
			}
		})
	}
}

func testDatabase(t *testing.T, s meta.Store) {
	ctx := context.Background()
	w, d0 := mustWorkspace(t, s, "alpha")
	other, _ := mustWorkspace(t, s, "beta")

	d1 := meta.Database{UUID: id("ifdb_"), WorkspaceUUID: w.UUID, Name: "second", InstanceUUID: "iflx_b",
		DefaultRP: "z", CQRP: "", RPs: []string{"z", "a", "m"}, CreatedAt: stamp(time.Hour),
		Limits: meta.DatabaseLimits{MaxSeries: 5000, MaxValuesPerTag: -1}}
	d2 := meta.Database{UUID: id("ifdb_"), WorkspaceUUID: w.UUID, Name: "third", InstanceUUID: "iflx_b",
		DefaultRP: "autogen", CreatedAt: stamp(2 * time.Hour)} // nil RPs read back empty
	require.NoError(t, s.CreateDatabase(ctx, d2))
	require.NoError(t, s.CreateDatabase(ctx, d1))

	got, err := s.Database(ctx, d1.UUID)
	require.NoError(t, err)
	equalDatabase(t, d1, got)
	assert.Equal(t, []string{"z", "a", "m"}, got.RPs, "RP order must be kept")

	got, err = s.Database(ctx, d2.UUID)
	require.NoError(t, err)
	equalDatabase(t, d2, got)
	assert.NotNil(t, got.RPs)

	list, err := s.DatabasesByWorkspace(ctx, w.UUID)
	require.NoError(t, err)
	require.Len(t, list, 3)
	equalDatabase(t, d0, list[0]) // oldest first
	equalDatabase(t, d1, list[1])
	equalDatabase(t, d2, list[2])

	list, err = s.DatabasesByWorkspace(ctx, id("wksp_"))
	requireEmpty(t, list, err)

	_, err = s.Database(ctx, id("ifdb_"))
	assertKind(t, err, meta.ErrNotFound, "Database")

	tests := []struct {
		name string
		db   meta.Database
		kind error
	}{
		{"duplicate uuid", meta.Database{UUID: d1.UUID, WorkspaceUUID: w.UUID, Name: "x", InstanceUUID: "iflx_c"}, meta.ErrConflict},
		{"duplicate name on instance", meta.Database{UUID: id("ifdb_"), WorkspaceUUID: other.UUID, Name: "second", InstanceUUID: "iflx_b"}, meta.ErrConflict},
		{"unknown workspace", meta.Database{UUID: id("ifdb_"), WorkspaceUUID: id("wksp_"), Name: "y", InstanceUUID: "iflx_b"}, meta.ErrNotFound},
		{"empty uuid", meta.Database{WorkspaceUUID: w.UUID, Name: "y", InstanceUUID: "iflx_b"}, meta.ErrInvalid},
		{"empty workspace", meta.Database{UUID: id("ifdb_"), Name: "y", InstanceUUID: "iflx_b"}, meta.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertKind(t, s.CreateDatabase(ctx, tt.db), tt.kind, "CreateDatabase")
		})
	}
	// The same engine name on another instance is a different database.
	require.NoError(t, s.CreateDatabase(ctx, meta.Database{UUID: id("ifdb_"), WorkspaceUUID: other.UUID, Name: "second", InstanceUUID: "iflx_c"}))
}

func testUpdateDeleteDatabase(t *testing.T, s meta.Store) {
	ctx := context.Background()
	_, d := mustWorkspace(t, s, "alpha")

	upd := d
	upd.DefaultRP, upd.CQRP, upd.RPs = "rp9", "rp8", []string{"rp9", "rp0", "rp8"}
	upd.Name, upd.InstanceUUID = "ignored", "ignored" // only the RP fields change
	require.NoError(t, s.UpdateDatabase(ctx, upd))
	got, err := s.Database(ctx, d.UUID)
	require.NoError(t, err)
	want := d
	want.DefaultRP, want.CQRP, want.RPs = "rp9", "rp8", []string{"rp9", "rp0", "rp8"}
	equalDatabase(t, want, got)

	// Updating with identical values is fine and keeps the record.
	require.NoError(t, s.UpdateDatabase(ctx, upd))

	assertKind(t, s.UpdateDatabase(ctx, meta.Database{UUID: id("ifdb_"), RPs: []string{"a"}}), meta.ErrNotFound, "UpdateDatabase")
	assertKind(t, s.UpdateDatabase(ctx, meta.Database{UUID: ""}), meta.ErrInvalid, "UpdateDatabase")
	assertKind(t, s.UpdateDatabase(ctx, meta.Database{UUID: d.UUID, RPs: []string{"a", "a"}}), meta.ErrInvalid, "UpdateDatabase")

	require.NoError(t, s.DeleteDatabase(ctx, d.UUID))
	_, err = s.Database(ctx, d.UUID)
	assertKind(t, err, meta.ErrNotFound, "Database")
	assertKind(t, s.DeleteDatabase(ctx, d.UUID), meta.ErrNotFound, "DeleteDatabase")
	list, err := s.DatabasesByWorkspace(ctx, d.WorkspaceUUID)
	require.NoError(t, err)
	assert.Empty(t, list)
}

func testInstances(t *testing.T, s meta.Store) {
	ctx := context.Background()
	list, err := s.Instances(ctx)
	requireEmpty(t, list, err)

	embedded := meta.Instance{UUID: "iflx_b", URL: ""}
	remote := meta.Instance{UUID: "iflx_a", URL: "http://127.0.0.1:8086"}
	for range 2 { // idempotent
		require.NoError(t, s.UpsertInstance(ctx, embedded))
		require.NoError(t, s.UpsertInstance(ctx, remote))
	}
	list, err = s.Instances(ctx)
	require.NoError(t, err)
	assert.Equal(t, []meta.Instance{remote, embedded}, list) // ordered by UUID

	// A new URL for a known UUID replaces the old one.
	remote.URL = "http://127.0.0.1:18086"
	require.NoError(t, s.UpsertInstance(ctx, remote))
	list, err = s.Instances(ctx)
	require.NoError(t, err)
	assert.Equal(t, []meta.Instance{remote, embedded}, list)

	// One server, two UUIDs: refused.
	assertKind(t, s.UpsertInstance(ctx, meta.Instance{UUID: "iflx_c", URL: remote.URL}), meta.ErrConflict, "UpsertInstance")
	assertKind(t, s.UpsertInstance(ctx, meta.Instance{UUID: "iflx_a", URL: ""}), meta.ErrConflict, "UpsertInstance")
	assertKind(t, s.UpsertInstance(ctx, meta.Instance{URL: "http://x"}), meta.ErrInvalid, "UpsertInstance")
}

func testInstanceLoad(t *testing.T, s meta.Store) {
	ctx := context.Background()
	load, err := s.InstanceLoad(ctx)
	require.NoError(t, err)
	assert.Empty(t, load)

	require.NoError(t, s.UpsertInstance(ctx, meta.Instance{UUID: "iflx_main", URL: ""}))
	require.NoError(t, s.UpsertInstance(ctx, meta.Instance{UUID: "iflx_idle", URL: "http://idle"}))
	require.NoError(t, s.UpsertInstance(ctx, meta.Instance{UUID: "iflx_two", URL: "http://two"}))

	_, d := mustWorkspace(t, s, "a") // on iflx_main
	mustWorkspace(t, s, "b")         // on iflx_main
	w, _ := mustWorkspace(t, s, "c") // on iflx_main
	for i := range 2 {
		require.NoError(t, s.CreateDatabase(ctx, meta.Database{UUID: id("ifdb_"), WorkspaceUUID: w.UUID,
			Name: fmt.Sprintf("x%d", i), InstanceUUID: "iflx_two"}))
	}
	// A database on an instance nobody registered still counts.
	require.NoError(t, s.CreateDatabase(ctx, meta.Database{UUID: id("ifdb_"), WorkspaceUUID: w.UUID,
		Name: "y", InstanceUUID: "iflx_unregistered"}))

	load, err = s.InstanceLoad(ctx)
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"iflx_main": 3, "iflx_idle": 0, "iflx_two": 2, "iflx_unregistered": 1}, load)

	require.NoError(t, s.DeleteDatabase(ctx, d.UUID))
	load, err = s.InstanceLoad(ctx)
	require.NoError(t, err)
	assert.Equal(t, 2, load["iflx_main"])
}

func testMeasurementRPs(t *testing.T, s meta.Store) {
	ctx := context.Background()
	_, d := mustWorkspace(t, s, "alpha")
	_, other := mustWorkspace(t, s, "beta")

	got, err := s.MeasurementRPs(ctx, d.UUID)
	requireEmpty(t, got, err)

	require.NoError(t, s.SetMeasurementRPs(ctx, d.UUID, map[string]string{"cpu": "rp1", "mem": "rp2"}))
	require.NoError(t, s.SetMeasurementRPs(ctx, other.UUID, map[string]string{"cpu": "rp9"}))
	require.NoError(t, s.SetMeasurementRPs(ctx, d.UUID, map[string]string{"mem": "rp3", "disk": "autogen"})) // upsert
	require.NoError(t, s.SetMeasurementRPs(ctx, d.UUID, map[string]string{"mem": "rp3"}))                    // unchanged
	require.NoError(t, s.SetMeasurementRPs(ctx, d.UUID, nil))                                                // no-op

	got, err = s.MeasurementRPs(ctx, d.UUID)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"cpu": "rp1", "mem": "rp3", "disk": "autogen"}, got)
	got, err = s.MeasurementRPs(ctx, other.UUID)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"cpu": "rp9"}, got)

	require.NoError(t, s.DeleteMeasurementRP(ctx, d.UUID, "cpu"))
	assertKind(t, s.DeleteMeasurementRP(ctx, d.UUID, "cpu"), meta.ErrNotFound, "DeleteMeasurementRP")
	got, err = s.MeasurementRPs(ctx, d.UUID)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"mem": "rp3", "disk": "autogen"}, got)

	assertKind(t, s.SetMeasurementRPs(ctx, id("ifdb_"), map[string]string{"cpu": "rp1"}), meta.ErrNotFound, "SetMeasurementRPs")
	assertKind(t, s.SetMeasurementRPs(ctx, d.UUID, map[string]string{"": "rp1"}), meta.ErrInvalid, "SetMeasurementRPs")
	assertKind(t, s.SetMeasurementRPs(ctx, d.UUID, map[string]string{"cpu": ""}), meta.ErrInvalid, "SetMeasurementRPs")
	assertKind(t, s.SetMeasurementRPs(ctx, "", map[string]string{"cpu": "rp1"}), meta.ErrInvalid, "SetMeasurementRPs")

	// A failed batch leaves nothing behind.
	got, err = s.MeasurementRPs(ctx, d.UUID)
	require.NoError(t, err)
	assert.Len(t, got, 2)
}

func testKeyPairs(t *testing.T, s meta.Store) {
	ctx := context.Background()
	w, _ := mustWorkspace(t, s, "alpha")
	kp := meta.KeyPair{AccessKey: id("ak_"), SecretKey: id("sk_"), WorkspaceUUID: w.UUID}
	require.NoError(t, s.AddKeyPair(ctx, kp))

	for _, key := range []string{kp.AccessKey, kp.SecretKey} {
		got, err := s.KeyPairByID(ctx, key)
		require.NoError(t, err)
		assert.Equal(t, kp, got)
	}
	unknown := id("ak_")
	_, err := s.KeyPairByID(ctx, unknown)
	assertKind(t, err, meta.ErrNotFound, "KeyPairByID")
	assert.NotContains(t, err.Error(), unknown, "keys stay out of messages")

	tests := []struct {
		name string
		kp   meta.KeyPair
		kind error
	}{
		{"same access key", meta.KeyPair{AccessKey: kp.AccessKey, SecretKey: id("sk_"), WorkspaceUUID: w.UUID}, meta.ErrConflict},
		{"same secret key", meta.KeyPair{AccessKey: id("ak_"), SecretKey: kp.SecretKey, WorkspaceUUID: w.UUID}, meta.ErrConflict},
		{"access key is another secret", meta.KeyPair{AccessKey: kp.SecretKey, SecretKey: id("sk_"), WorkspaceUUID: w.UUID}, meta.ErrConflict},
		{"secret key is another access", meta.KeyPair{AccessKey: id("ak_"), SecretKey: kp.AccessKey, WorkspaceUUID: w.UUID}, meta.ErrConflict},
		{"unknown workspace", meta.KeyPair{AccessKey: id("ak_"), SecretKey: id("sk_"), WorkspaceUUID: id("wksp_")}, meta.ErrNotFound},
		{"equal keys", meta.KeyPair{AccessKey: "k", SecretKey: "k", WorkspaceUUID: w.UUID}, meta.ErrInvalid},
		{"empty secret", meta.KeyPair{AccessKey: id("ak_"), WorkspaceUUID: w.UUID}, meta.ErrInvalid},
		{"empty access", meta.KeyPair{SecretKey: id("sk_"), WorkspaceUUID: w.UUID}, meta.ErrInvalid},
		{"empty workspace", meta.KeyPair{AccessKey: id("ak_"), SecretKey: id("sk_")}, meta.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertKind(t, s.AddKeyPair(ctx, tt.kp), tt.kind, "AddKeyPair")
			if tt.kp.AccessKey != kp.AccessKey && tt.kp.AccessKey != kp.SecretKey && tt.kp.AccessKey != "" {
				_, err := s.KeyPairByID(ctx, tt.kp.AccessKey)
				assertKind(t, err, meta.ErrNotFound, "KeyPairByID") // nothing half-written
			}
		})
	}
	got, err := s.KeyPairByID(ctx, kp.SecretKey)
	require.NoError(t, err)
	assert.Equal(t, kp, got)
}

func testDatakits(t *testing.T, s meta.Store) {
	ctx := context.Background()
	w, _ := mustWorkspace(t, s, "alpha")
	other, _ := mustWorkspace(t, s, "beta")

	got, err := s.DatakitsOnline(ctx, w.UUID, time.Time{})
	requireEmpty(t, got, err)

	require.NoError(t, s.DatakitOnline(ctx, w.UUID, []string{"dk_b", "dk_a", "dk_b"}, stamp(0)))
	require.NoError(t, s.DatakitOnline(ctx, w.UUID, []string{"dk_c"}, stamp(10*time.Minute)))
	require.NoError(t, s.DatakitOnline(ctx, w.UUID, []string{"dk_a"}, stamp(20*time.Minute))) // upsert forward
	require.NoError(t, s.DatakitOnline(ctx, w.UUID, []string{"dk_c"}, stamp(-time.Hour)))     // late report, ignored
	require.NoError(t, s.DatakitOnline(ctx, other.UUID, []string{"dk_x"}, stamp(time.Hour)))  // other workspace
	require.NoError(t, s.DatakitOnline(ctx, w.UUID, nil, stamp(time.Hour)))                   // no-op

	tests := []struct {
		since time.Time
		want  []string
	}{
		{time.Time{}, []string{"dk_a", "dk_b", "dk_c"}},
		{stamp(0), []string{"dk_a", "dk_b", "dk_c"}}, // inclusive
		{stamp(time.Microsecond), []string{"dk_a", "dk_c"}},
		{stamp(10 * time.Minute), []string{"dk_a", "dk_c"}},
		{stamp(15 * time.Minute), []string{"dk_a"}},
		{stamp(20*time.Minute + time.Microsecond), []string{}},
	}
	for _, tt := range tests {
		got, err := s.DatakitsOnline(ctx, w.UUID, tt.since)
		require.NoError(t, err)
		assert.Equal(t, tt.want, got, "since %v", tt.since)
	}
	got, err = s.DatakitsOnline(ctx, other.UUID, stamp(0))
	require.NoError(t, err)
	assert.Equal(t, []string{"dk_x"}, got)

	assertKind(t, s.DatakitOnline(ctx, id("wksp_"), []string{"dk_a"}, stamp(0)), meta.ErrNotFound, "DatakitOnline")
	assertKind(t, s.DatakitOnline(ctx, w.UUID, []string{"dk_a", ""}, stamp(0)), meta.ErrInvalid, "DatakitOnline")
	assertKind(t, s.DatakitOnline(ctx, w.UUID, []string{"dk_a"}, time.Time{}), meta.ErrInvalid, "DatakitOnline")
	assertKind(t, s.DatakitOnline(ctx, "", []string{"dk_a"}, stamp(0)), meta.ErrInvalid, "DatakitOnline")
}

func testDropping(t *testing.T, s meta.Store) {
	ctx := context.Background()
	_, d1 := mustWorkspace(t, s, "alpha")
	_, d2 := mustWorkspace(t, s, "beta")

	all, err := s.AllDropping(ctx)
	requireEmpty(t, all, err)
	list, err := s.Dropping(ctx, d1.UUID)
	requireEmpty(t, list, err)

	require.NoError(t, s.AddDropping(ctx, d1.UUID, "mem"))
	require.NoError(t, s.AddDropping(ctx, d1.UUID, "cpu"))
	require.NoError(t, s.AddDropping(ctx, d2.UUID, "cpu"))
	assertKind(t, s.AddDropping(ctx, d1.UUID, "cpu"), meta.ErrConflict, "AddDropping")
	assertKind(t, s.AddDropping(ctx, id("ifdb_"), "cpu"), meta.ErrNotFound, "AddDropping")
	assertKind(t, s.AddDropping(ctx, d1.UUID, ""), meta.ErrInvalid, "AddDropping")

	list, err = s.Dropping(ctx, d1.UUID)
	require.NoError(t, err)
	assert.Equal(t, []string{"cpu", "mem"}, list)
	all, err = s.AllDropping(ctx)
	require.NoError(t, err)
	assert.Equal(t, map[string][]string{d1.UUID: {"cpu", "mem"}, d2.UUID: {"cpu"}}, all)

	require.NoError(t, s.RemoveDropping(ctx, d1.UUID, "cpu"))
	assertKind(t, s.RemoveDropping(ctx, d1.UUID, "cpu"), meta.ErrNotFound, "RemoveDropping")
	require.NoError(t, s.RemoveDropping(ctx, d2.UUID, "cpu"))
	all, err = s.AllDropping(ctx)
	require.NoError(t, err)
	assert.Equal(t, map[string][]string{d1.UUID: {"mem"}}, all)
	// Once removed it can be recorded again (a second drop of a re-created
	// measurement).
	require.NoError(t, s.AddDropping(ctx, d1.UUID, "cpu"))
}

func testCQ(t *testing.T, s meta.Store) {
	ctx := context.Background()
	w, d := mustWorkspace(t, s, "alpha")
	other, otherDB := mustWorkspace(t, s, "beta")

	list, err := s.CQsByWorkspace(ctx, w.UUID)
	requireEmpty(t, list, err)

	cq1 := meta.ContinuousQuery{UUID: id("cq_"), WorkspaceUUID: w.UUID, DBUUID: d.UUID, Measurement: "cpu",
		AggrFunc: "mean", AggrPeriod: "1m", AggrEvery: "5m", CreatedAt: stamp(time.Hour)}
	cq2 := meta.ContinuousQuery{UUID: id("cq_"), WorkspaceUUID: w.UUID, DBUUID: d.UUID, Measurement: "mem",
		AggrFunc: "max", AggrPeriod: "1h", AggrEvery: "1h", CreatedAt: stamp(0)}
	cq3 := meta.ContinuousQuery{UUID: id("cq_"), WorkspaceUUID: other.UUID, DBUUID: otherDB.UUID, Measurement: "cpu",
		AggrFunc: "sum", AggrPeriod: "1d", AggrEvery: "1d", CreatedAt: stamp(0)}
	for _, cq := range []meta.ContinuousQuery{cq1, cq2, cq3} {
		require.NoError(t, s.CreateCQ(ctx, cq))
	}
	got, err := s.CQ(ctx, cq1.UUID)
	require.NoError(t, err)
	equalCQ(t, cq1, got)

	list, err = s.CQsByWorkspace(ctx, w.UUID)
	require.NoError(t, err)
	require.Len(t, list, 2)
	equalCQ(t, cq2, list[0]) // oldest first
	equalCQ(t, cq1, list[1])

	create := []struct {
		name string
		cq   meta.ContinuousQuery
		kind error
	}{
		{"duplicate", cq1, meta.ErrConflict},
		{"unknown database", meta.ContinuousQuery{UUID: id("cq_"), WorkspaceUUID: w.UUID, DBUUID: id("ifdb_"), Measurement: "m", AggrFunc: "mean"}, meta.ErrNotFound},
		{"database of another workspace", meta.ContinuousQuery{UUID: id("cq_"), WorkspaceUUID: w.UUID, DBUUID: otherDB.UUID, Measurement: "m", AggrFunc: "mean"}, meta.ErrNotFound},
		{"empty uuid", meta.ContinuousQuery{WorkspaceUUID: w.UUID, DBUUID: d.UUID, Measurement: "m", AggrFunc: "mean"}, meta.ErrInvalid},
		{"empty measurement", meta.ContinuousQuery{UUID: id("cq_"), WorkspaceUUID: w.UUID, DBUUID: d.UUID, AggrFunc: "mean"}, meta.ErrInvalid},
		{"empty func", meta.ContinuousQuery{UUID: id("cq_"), WorkspaceUUID: w.UUID, DBUUID: d.UUID, Measurement: "m"}, meta.ErrInvalid},
		{"empty db", meta.ContinuousQuery{UUID: id("cq_"), WorkspaceUUID: w.UUID, Measurement: "m", AggrFunc: "mean"}, meta.ErrInvalid},
	}
	for _, tt := range create {
		t.Run("create/"+tt.name, func(t *testing.T) {
			assertKind(t, s.CreateCQ(ctx, tt.cq), tt.kind, "CreateCQ")
		})
	}

	upd := cq1
	upd.Measurement, upd.AggrFunc, upd.AggrPeriod, upd.AggrEvery = "cpu2", "last", "10m", "30m"
	upd.DBUUID, upd.CreatedAt = "ignored", stamp(99*time.Hour) // not changed by an update
	require.NoError(t, s.UpdateCQ(ctx, upd))
	got, err = s.CQ(ctx, cq1.UUID)
	require.NoError(t, err)
	want := cq1
	want.Measurement, want.AggrFunc, want.AggrPeriod, want.AggrEvery = "cpu2", "last", "10m", "30m"
	equalCQ(t, want, got)

	wrongWS := upd
	wrongWS.WorkspaceUUID = other.UUID
	assertKind(t, s.UpdateCQ(ctx, wrongWS), meta.ErrNotFound, "UpdateCQ")
	missing := upd
	missing.UUID = id("cq_")
	assertKind(t, s.UpdateCQ(ctx, missing), meta.ErrNotFound, "UpdateCQ")
	bad := upd
	bad.AggrFunc = ""
	assertKind(t, s.UpdateCQ(ctx, bad), meta.ErrInvalid, "UpdateCQ")

	require.NoError(t, s.DeleteCQ(ctx, cq1.UUID))
	assertKind(t, s.DeleteCQ(ctx, cq1.UUID), meta.ErrNotFound, "DeleteCQ")
	_, err = s.CQ(ctx, cq1.UUID)
	assertKind(t, err, meta.ErrNotFound, "CQ")
	list, err = s.CQsByWorkspace(ctx, w.UUID)
	require.NoError(t, err)
	require.Len(t, list, 1)
	equalCQ(t, cq2, list[0])
}

// testCascade checks that deleting a database takes its dependent records
// with it, so no orphan CQ or drop is resumed for a database that is gone.
func testCascade(t *testing.T, s meta.Store) {
	ctx := context.Background()
	w, d := mustWorkspace(t, s, "alpha")
	require.NoError(t, s.SetMeasurementRPs(ctx, d.UUID, map[string]string{"cpu": "rp1"}))
	require.NoError(t, s.AddDropping(ctx, d.UUID, "mem"))
	cq := meta.ContinuousQuery{UUID: id("cq_"), WorkspaceUUID: w.UUID, DBUUID: d.UUID, Measurement: "cpu", AggrFunc: "mean", AggrPeriod: "1m", AggrEvery: "1m"}
	require.NoError(t, s.CreateCQ(ctx, cq))

	require.NoError(t, s.DeleteDatabase(ctx, d.UUID))

	rps, err := s.MeasurementRPs(ctx, d.UUID)
	require.NoError(t, err)
	assert.Empty(t, rps)
	all, err := s.AllDropping(ctx)
	require.NoError(t, err)
	assert.Empty(t, all)
	_, err = s.CQ(ctx, cq.UUID)
	assertKind(t, err, meta.ErrNotFound, "CQ")
	// The workspace itself stays.
	_, err = s.Workspace(ctx, w.UUID)
	require.NoError(t, err)
}

// testConcurrentWriters hammers every write path from several goroutines
// at once, with readers alongside; a backend that lets a writer fail with
// "database is locked" or a deadlock error fails here.
func testConcurrentWriters(t *testing.T, s meta.Store) {
	ctx := context.Background()
	shared, sharedDB := mustWorkspace(t, s, "shared")
	const workers, rounds = 8, 12
	var wg sync.WaitGroup
	errs := make(chan error, workers*rounds*8)
	var reads atomic.Int64
	for g := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range rounds {
				w, d := newWorkspace(fmt.Sprintf("w%d-%d", g, r))
				if err := s.CreateWorkspace(ctx, w, d); err != nil {
					errs <- err
					continue
				}
				// Every worker writes the same keys, in different map
				// orders, to the shared database.
				rps := map[string]string{"cpu": "rp1", "mem": "rp2", fmt.Sprintf("m%d", g): "rp3"}
				if err := s.SetMeasurementRPs(ctx, sharedDB.UUID, rps); err != nil {
					errs <- err
				}
				if err := s.DatakitOnline(ctx, shared.UUID, []string{"dk_z", fmt.Sprintf("dk_%d", g), "dk_a"}, stamp(time.Duration(r)*time.Second)); err != nil {
					errs <- err
				}
				if err := s.AddDropping(ctx, d.UUID, "m"); err != nil {
					errs <- err
				}
				cq := meta.ContinuousQuery{UUID: id("cq_"), WorkspaceUUID: w.UUID, DBUUID: d.UUID, Measurement: "m", AggrFunc: "mean", AggrPeriod: "1m", AggrEvery: "1m"}
				if err := s.CreateCQ(ctx, cq); err != nil {
					errs <- err
				}
				if err := s.AddKeyPair(ctx, meta.KeyPair{AccessKey: id("ak_"), SecretKey: id("sk_"), WorkspaceUUID: w.UUID}); err != nil {
					errs <- err
				}
				got, err := s.WorkspaceByToken(ctx, w.Token)
				if err != nil {
					errs <- err
				} else if got.UUID != w.UUID {
					errs <- fmt.Errorf("token of %s resolved to %s", w.UUID, got.UUID)
				}
				if _, err := s.InstanceLoad(ctx); err != nil {
					errs <- err
				}
				reads.Add(2)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	load, err := s.InstanceLoad(ctx)
	require.NoError(t, err)
	assert.Equal(t, workers*rounds+1, load["iflx_main"])
	all, err := s.AllDropping(ctx)
	require.NoError(t, err)
	assert.Len(t, all, workers*rounds)
	rps, err := s.MeasurementRPs(ctx, sharedDB.UUID)
	require.NoError(t, err)
	assert.Len(t, rps, 2+workers)
	dks, err := s.DatakitsOnline(ctx, shared.UUID, time.Time{})
	require.NoError(t, err)
	assert.Len(t, dks, 2+workers)
	dks, err = s.DatakitsOnline(ctx, shared.UUID, stamp(time.Duration(rounds-1)*time.Second))
	require.NoError(t, err)
	assert.Len(t, dks, 2+workers, "the latest report of each datakit wins")
	assert.Equal(t, int64(2*workers*rounds), reads.Load())
}

// testConcurrentConflicts races creators of the same records: exactly one
// wins, the others get ErrConflict (never a raw driver error).
func testConcurrentConflicts(t *testing.T, s meta.Store) {
	ctx := context.Background()
	w, d := newWorkspace("race")
	owner, ownerDB := mustWorkspace(t, s, "owner")
	const racers = 6
	type result struct{ ws, drop, cq, kp error }
	results := make([]result, racers)
	kp := meta.KeyPair{AccessKey: id("ak_"), SecretKey: id("sk_"), WorkspaceUUID: owner.UUID}
	cq := meta.ContinuousQuery{UUID: id("cq_"), WorkspaceUUID: owner.UUID, DBUUID: ownerDB.UUID, Measurement: "m", AggrFunc: "mean"}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			results[i].ws = s.CreateWorkspace(ctx, w, d)
			results[i].drop = s.AddDropping(ctx, ownerDB.UUID, "m")
			results[i].cq = s.CreateCQ(ctx, cq)
			results[i].kp = s.AddKeyPair(ctx, kp)
		}()
	}
	close(start)
	wg.Wait()
	count := func(name string, get func(result) error) {
		ok := 0
		for _, r := range results {
			err := get(r)
			if err == nil {
				ok++
				continue
			}
			assert.ErrorIs(t, err, meta.ErrConflict, "%s: %v", name, err)
		}
		assert.Equal(t, 1, ok, "%s: exactly one creator must win", name)
	}
	count("CreateWorkspace", func(r result) error { return r.ws })
	count("AddDropping", func(r result) error { return r.drop })
	count("CreateCQ", func(r result) error { return r.cq })
	count("AddKeyPair", func(r result) error { return r.kp })
}

func testReopen(t *testing.T, s meta.Store, reopen func(t *testing.T, s meta.Store) meta.Store) {
	ctx := context.Background()
	w, d := mustWorkspace(t, s, "alpha")
	require.NoError(t, s.UpsertInstance(ctx, meta.Instance{UUID: "iflx_main", URL: ""}))
	require.NoError(t, s.SetMeasurementRPs(ctx, d.UUID, map[string]string{"cpu": "rp1"}))
	kp := meta.KeyPair{AccessKey: id("ak_"), SecretKey: id("sk_"), WorkspaceUUID: w.UUID}
	require.NoError(t, s.AddKeyPair(ctx, kp))
	require.NoError(t, s.DatakitOnline(ctx, w.UUID, []string{"dk_a"}, stamp(0)))
	require.NoError(t, s.AddDropping(ctx, d.UUID, "mem"))
	cq := meta.ContinuousQuery{UUID: id("cq_"), WorkspaceUUID: w.UUID, DBUUID: d.UUID, Measurement: "cpu",
		AggrFunc: "mean", AggrPeriod: "1m", AggrEvery: "5m", CreatedAt: stamp(0)}
	require.NoError(t, s.CreateCQ(ctx, cq))

	for range 2 { // the second reopen finds the schema already migrated
		s = reopen(t, s)
		got, err := s.WorkspaceByToken(ctx, w.Token)
		require.NoError(t, err)
		equalWorkspace(t, w, got)
		gotDB, err := s.Database(ctx, d.UUID)
		require.NoError(t, err)
		equalDatabase(t, d, gotDB)
		ins, err := s.Instances(ctx)
		require.NoError(t, err)
		assert.Equal(t, []meta.Instance{{UUID: "iflx_main"}}, ins)
		rps, err := s.MeasurementRPs(ctx, d.UUID)
		require.NoError(t, err)
		assert.Equal(t, map[string]string{"cpu": "rp1"}, rps)
		gotKP, err := s.KeyPairByID(ctx, kp.SecretKey)
		require.NoError(t, err)
		assert.Equal(t, kp, gotKP)
		dks, err := s.DatakitsOnline(ctx, w.UUID, stamp(0))
		require.NoError(t, err)
		assert.Equal(t, []string{"dk_a"}, dks)
		all, err := s.AllDropping(ctx)
		require.NoError(t, err)
		assert.Equal(t, map[string][]string{d.UUID: {"mem"}}, all)
		gotCQ, err := s.CQ(ctx, cq.UUID)
		require.NoError(t, err)
		equalCQ(t, cq, gotCQ)
	}
}

func testLogPipelines(t *testing.T, s meta.Store) {
	ctx := context.Background()
	w, _ := mustWorkspace(t, s, "alpha")
	other, _ := mustWorkspace(t, s, "beta")

	_, err := s.LogPipeline(ctx, w.UUID, "nginx")
	assert.ErrorIs(t, err, meta.ErrNotFound)

	require.NoError(t, s.SetLogPipeline(ctx, w.UUID, "nginx", "http://127.0.0.1:1/a"))
	require.NoError(t, s.SetLogPipeline(ctx, w.UUID, "nginx", "http://127.0.0.1:1/b")) // replaces
	require.NoError(t, s.SetLogPipeline(ctx, w.UUID, "sshd", "http://127.0.0.1:1/c"))
	url, err := s.LogPipeline(ctx, w.UUID, "nginx")
	require.NoError(t, err)
	assert.Equal(t, "http://127.0.0.1:1/b", url)
	_, err = s.LogPipeline(ctx, other.UUID, "nginx")
	assert.ErrorIs(t, err, meta.ErrNotFound, "pipelines are per workspace")

	require.NoError(t, s.SetLogPipeline(ctx, w.UUID, "nginx", "")) // removes
	_, err = s.LogPipeline(ctx, w.UUID, "nginx")
	assert.ErrorIs(t, err, meta.ErrNotFound)
	require.NoError(t, s.SetLogPipeline(ctx, w.UUID, "nginx", ""), "removing twice is fine")
	url, err = s.LogPipeline(ctx, w.UUID, "sshd")
	require.NoError(t, err)
	assert.Equal(t, "http://127.0.0.1:1/c", url)

	assert.ErrorIs(t, s.SetLogPipeline(ctx, id("wksp_"), "nginx", "http://x"), meta.ErrNotFound, "unknown workspace")
	assert.ErrorIs(t, s.SetLogPipeline(ctx, w.UUID, "", "http://x"), meta.ErrInvalid)
}

// testDeleteWorkspace: a workspace goes with everything it owns, and
// nothing of another workspace.
func testDeleteWorkspace(t *testing.T, s meta.Store) {
	ctx := context.Background()
	fill := func(name string) (meta.Workspace, meta.Database, meta.KeyPair, meta.ContinuousQuery) {
		w, d := mustWorkspace(t, s, name)
		require.NoError(t, s.SetMeasurementRPs(ctx, d.UUID, map[string]string{"cpu": "rp1"}))
		require.NoError(t, s.AddDropping(ctx, d.UUID, "mem"))
		cq := meta.ContinuousQuery{UUID: id("cq_"), WorkspaceUUID: w.UUID, DBUUID: d.UUID, Measurement: "cpu", AggrFunc: "mean", AggrPeriod: "1m", AggrEvery: "1m"}
		require.NoError(t, s.CreateCQ(ctx, cq))
		kp := meta.KeyPair{AccessKey: id("ak_"), SecretKey: id("sk_"), WorkspaceUUID: w.UUID}
		require.NoError(t, s.AddKeyPair(ctx, kp))
		require.NoError(t, s.DatakitOnline(ctx, w.UUID, []string{"dk_1"}, time.Now()))
		require.NoError(t, s.SetLogPipeline(ctx, w.UUID, "nginx", "http://127.0.0.1:1/p"))
		return w, d, kp, cq
	}
	w, d, kp, cq := fill("doomed")
	other, od, okp, ocq := fill("kept")

	require.NoError(t, s.DeleteWorkspace(ctx, w.UUID))
	_, err := s.Workspace(ctx, w.UUID)
	assertKind(t, err, meta.ErrNotFound, "Workspace")
	_, err = s.WorkspaceByToken(ctx, w.Token)
	assert.ErrorIs(t, err, meta.ErrNotFound)
	_, err = s.Database(ctx, d.UUID)
	assert.ErrorIs(t, err, meta.ErrNotFound)
	_, err = s.KeyPairByID(ctx, kp.AccessKey)
	assert.ErrorIs(t, err, meta.ErrNotFound)
	_, err = s.KeyPairByID(ctx, kp.SecretKey)
	assert.ErrorIs(t, err, meta.ErrNotFound)
	_, err = s.CQ(ctx, cq.UUID)
	assert.ErrorIs(t, err, meta.ErrNotFound)
	_, err = s.LogPipeline(ctx, w.UUID, "nginx")
	assert.ErrorIs(t, err, meta.ErrNotFound)
	all, err := s.AllDropping(ctx)
	require.NoError(t, err)
	assert.Equal(t, map[string][]string{od.UUID: {"mem"}}, all)
	// Its keys and token can be used again.
	require.NoError(t, s.AddKeyPair(ctx, meta.KeyPair{AccessKey: kp.AccessKey, SecretKey: kp.SecretKey, WorkspaceUUID: other.UUID}))

	_, err = s.Workspace(ctx, other.UUID)
	require.NoError(t, err)
	_, err = s.Database(ctx, od.UUID)
	require.NoError(t, err)
	_, err = s.KeyPairByID(ctx, okp.AccessKey)
	require.NoError(t, err)
	_, err = s.CQ(ctx, ocq.UUID)
	require.NoError(t, err)
	_, err = s.LogPipeline(ctx, other.UUID, "nginx")
	require.NoError(t, err)

	assertKind(t, s.DeleteWorkspace(ctx, w.UUID), meta.ErrNotFound, "DeleteWorkspace")
}

// testDatabaseLimits: a database's write limits are stored, rewritten
// alone and validated.
func testDatabaseLimits(t *testing.T, s meta.Store) {
	ctx := context.Background()
	_, d := mustWorkspace(t, s, "limits")
	assert.Equal(t, meta.DatabaseLimits{}, d.Limits)
	want := meta.DatabaseLimits{MaxSeries: 123, MaxValuesPerTag: -1}
	require.NoError(t, s.SetDatabaseLimits(ctx, d.UUID, want))
	got, err := s.Database(ctx, d.UUID)
	require.NoError(t, err)
	assert.Equal(t, want, got.Limits)
	assert.Equal(t, d.RPs, got.RPs, "only the limits change")
	// UpdateDatabase keeps them.
	got.DefaultRP = got.RPs[0]
	require.NoError(t, s.UpdateDatabase(ctx, got))
	again, err := s.Database(ctx, d.UUID)
	require.NoError(t, err)
	assert.Equal(t, want, again.Limits)

	assertKind(t, s.SetDatabaseLimits(ctx, id("ifdb_"), want), meta.ErrNotFound, "SetDatabaseLimits")
	assertKind(t, s.SetDatabaseLimits(ctx, d.UUID, meta.DatabaseLimits{MaxSeries: -2}), meta.ErrInvalid, "SetDatabaseLimits")
}
