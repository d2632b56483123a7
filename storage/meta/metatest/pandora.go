package metatest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kodo-project/kodo/storage/meta"
)

// testPandoraKeyPairs: a pair is found by its access key, once.
func testPandoraKeyPairs(t *testing.T, s meta.Store) {
	ctx := context.Background()
	kp := meta.PandoraKeyPair{AccessKey: id("ak_"), SecretKey: id("sk_"), CreatedAt: stamp(0)}
	require.NoError(t, s.AddPandoraKeyPair(ctx, kp))
	got, err := s.PandoraKeyPair(ctx, kp.AccessKey)
	require.NoError(t, err)
	assert.Equal(t, kp, got)

	assertKind(t, s.AddPandoraKeyPair(ctx, kp), meta.ErrConflict, "AddPandoraKeyPair")
	_, err = s.PandoraKeyPair(ctx, "nobody")
	assertKind(t, err, meta.ErrNotFound, "PandoraKeyPair")
	assertKind(t, s.AddPandoraKeyPair(ctx, meta.PandoraKeyPair{AccessKey: "x"}), meta.ErrInvalid, "AddPandoraKeyPair")
}

func pandoraPair(t *testing.T, s meta.Store) string {
	t.Helper()
	ak := id("ak_")
	require.NoError(t, s.AddPandoraKeyPair(context.Background(), meta.PandoraKeyPair{AccessKey: ak, SecretKey: id("sk_"), CreatedAt: stamp(0)}))
	return ak
}

// testPandoraRepos: create, read, list per key pair, update, delete.
func testPandoraRepos(t *testing.T, s meta.Store) {
	ctx := context.Background()
	ak, other := pandoraPair(t, s), pandoraPair(t, s)
	r := meta.PandoraRepo{AccessKey: ak, Name: "r1", Region: "nb", Metadata: map[string]string{"env": "test", "note": "多字节"}, CreatedAt: stamp(0)}
	require.NoError(t, s.CreatePandoraRepo(ctx, r))
	got, err := s.PandoraRepo(ctx, ak, "r1")
	require.NoError(t, err)
	assert.Equal(t, r, got)

	assertKind(t, s.CreatePandoraRepo(ctx, r), meta.ErrConflict, "CreatePandoraRepo")
	// The same name under another key pair is another repo.
	require.NoError(t, s.CreatePandoraRepo(ctx, meta.PandoraRepo{AccessKey: other, Name: "r1", Region: "nb", CreatedAt: stamp(1 * time.Second)}))
	assertKind(t, s.CreatePandoraRepo(ctx, meta.PandoraRepo{AccessKey: "unknown", Name: "r1", Region: "nb"}), meta.ErrNotFound, "CreatePandoraRepo")
	assertKind(t, s.CreatePandoraRepo(ctx, meta.PandoraRepo{AccessKey: ak, Name: "r2"}), meta.ErrInvalid, "CreatePandoraRepo")
	require.NoError(t, s.CreatePandoraRepo(ctx, meta.PandoraRepo{AccessKey: ak, Name: "a0", Region: "gz", CreatedAt: stamp(2 * time.Second)}))

	list, err := s.PandoraRepos(ctx, ak)
	require.NoError(t, err)
	require.Len(t, list, 2)
	assert.Equal(t, []string{"a0", "r1"}, []string{list[0].Name, list[1].Name})
	assert.Equal(t, map[string]string{}, list[0].Metadata, "nil metadata reads back empty, not nil")
	list, err = s.PandoraRepos(ctx, "nobody")
	requireEmpty(t, list, err)

	r.Metadata, r.Deleting = map[string]string{"env": "prod"}, true
	r.Region = "ignored" // only metadata and deleting change
	require.NoError(t, s.UpdatePandoraRepo(ctx, r))
	got, err = s.PandoraRepo(ctx, ak, "r1")
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"env": "prod"}, got.Metadata)
	assert.True(t, got.Deleting)
	assert.Equal(t, "nb", got.Region)
	assertKind(t, s.UpdatePandoraRepo(ctx, meta.PandoraRepo{AccessKey: ak, Name: "zz"}), meta.ErrNotFound, "UpdatePandoraRepo")

	repos, series, err := s.PandoraDeleting(ctx)
	require.NoError(t, err)
	require.Len(t, repos, 1)
	assert.Equal(t, "r1", repos[0].Name)
	assert.Empty(t, series)

	require.NoError(t, s.DeletePandoraRepo(ctx, ak, "r1"))
	_, err = s.PandoraRepo(ctx, ak, "r1")
	assertKind(t, err, meta.ErrNotFound, "PandoraRepo")
	assertKind(t, s.DeletePandoraRepo(ctx, ak, "r1"), meta.ErrNotFound, "DeletePandoraRepo")
	_, err = s.PandoraRepo(ctx, other, "r1")
	require.NoError(t, err, "the other key pair's repo stays")
}

// testPandoraSeriesViews: series and views live inside a repo and go with it.
func testPandoraSeriesViews(t *testing.T, s meta.Store) {
	ctx := context.Background()
	ak := pandoraPair(t, s)
	require.NoError(t, s.CreatePandoraRepo(ctx, meta.PandoraRepo{AccessKey: ak, Name: "r", Region: "nb", CreatedAt: stamp(0)}))

	se := meta.PandoraSeries{AccessKey: ak, Repo: "r", Name: "cpu", Retention: "7d", Metadata: map[string]string{"unit": "%"}, Type: 1, CreatedAt: stamp(1 * time.Second)}
	require.NoError(t, s.CreatePandoraSeries(ctx, se, 0))
	got, err := s.PandoraSeries(ctx, ak, "r", "cpu")
	require.NoError(t, err)
	assert.Equal(t, se, got)
	assertKind(t, s.CreatePandoraSeries(ctx, se, 0), meta.ErrConflict, "CreatePandoraSeries")
	missing := se
	missing.Repo = "nope"
	assertKind(t, s.CreatePandoraSeries(ctx, missing, 0), meta.ErrNotFound, "CreatePandoraSeries")
	assertKind(t, s.CreatePandoraSeries(ctx, meta.PandoraSeries{AccessKey: ak, Repo: "r", Name: "x"}, 0), meta.ErrInvalid, "CreatePandoraSeries")
	require.NoError(t, s.CreatePandoraSeries(ctx, meta.PandoraSeries{AccessKey: ak, Repo: "r", Name: "aa", Retention: "1d", Type: 1, CreatedAt: stamp(2 * time.Second)}, 0))

	list, err := s.PandoraSeriesList(ctx, ak, "r")
	require.NoError(t, err)
	require.Len(t, list, 2)
	assert.Equal(t, "aa", list[0].Name)

	se.Metadata, se.Deleting = nil, true
	require.NoError(t, s.UpdatePandoraSeries(ctx, se))
	got, err = s.PandoraSeries(ctx, ak, "r", "cpu")
	require.NoError(t, err)
	assert.Equal(t, map[string]string{}, got.Metadata)
	assert.True(t, got.Deleting)
	assert.Equal(t, "7d", got.Retention)
	_, series, err := s.PandoraDeleting(ctx)
	require.NoError(t, err)
	require.Len(t, series, 1)
	assert.Equal(t, "cpu", series[0].Name)
	require.NoError(t, s.DeletePandoraSeries(ctx, ak, "r", "cpu"))
	assertKind(t, s.DeletePandoraSeries(ctx, ak, "r", "cpu"), meta.ErrNotFound, "DeletePandoraSeries")
	assertKind(t, s.UpdatePandoraSeries(ctx, se), meta.ErrNotFound, "UpdatePandoraSeries")

	v := meta.PandoraView{AccessKey: ak, Repo: "r", Name: "v", SQL: "SELECT max(x) FROM aa", Retention: "30d", Metadata: map[string]string{"k": "v"}, CreatedAt: stamp(3 * time.Second)}
	require.NoError(t, s.CreatePandoraView(ctx, v))
	gotV, err := s.PandoraView(ctx, ak, "r", "v")
	require.NoError(t, err)
	assert.Equal(t, v, gotV)
	assertKind(t, s.CreatePandoraView(ctx, v), meta.ErrConflict, "CreatePandoraView")
	v2 := v
	v2.Repo = "nope"
	assertKind(t, s.CreatePandoraView(ctx, v2), meta.ErrNotFound, "CreatePandoraView")
	views, err := s.PandoraViews(ctx, ak, "r")
	require.NoError(t, err)
	require.Len(t, views, 1)
	require.NoError(t, s.DeletePandoraView(ctx, ak, "r", "v"))
	assertKind(t, s.DeletePandoraView(ctx, ak, "r", "v"), meta.ErrNotFound, "DeletePandoraView")
	require.NoError(t, s.CreatePandoraView(ctx, v))

	// Deleting the repo takes its series and views along.
	require.NoError(t, s.DeletePandoraRepo(ctx, ak, "r"))
	_, err = s.PandoraSeries(ctx, ak, "r", "aa")
	assertKind(t, err, meta.ErrNotFound, "PandoraSeries")
	_, err = s.PandoraView(ctx, ak, "r", "v")
	assertKind(t, err, meta.ErrNotFound, "PandoraView")
	require.NoError(t, s.CreatePandoraRepo(ctx, meta.PandoraRepo{AccessKey: ak, Name: "r", Region: "nb"}))
	list, err = s.PandoraSeriesList(ctx, ak, "r")
	require.NoError(t, err)
	assert.Empty(t, list)
}

// raceWins runs call(0) .. call(n-1) at once and returns how many
// succeeded; every failure must be of kind, from op.
func raceWins(t *testing.T, n int, kind error, op string, call func(i int) error) int {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = call(i) })
	}
	wg.Wait()
	wins := 0
	for _, err := range errs {
		if err == nil {
			wins++
			continue
		}
		assertKind(t, err, kind, op)
	}
	return wins
}

// testPandoraConcurrentCreate: of many racing creations of one series,
// exactly one wins and the others get ErrConflict.
func testPandoraConcurrentCreate(t *testing.T, s meta.Store) {
	ctx := context.Background()
	ak := pandoraPair(t, s)
	require.NoError(t, s.CreatePandoraRepo(ctx, meta.PandoraRepo{AccessKey: ak, Name: "r", Region: "nb"}))
	wins := raceWins(t, 8, meta.ErrConflict, "CreatePandoraSeries", func(int) error {
		return s.CreatePandoraSeries(ctx, meta.PandoraSeries{AccessKey: ak, Repo: "r", Name: "s", Retention: "1d", Type: 1}, 0)
	})
	assert.Equal(t, 1, wins)
}

// testPandoraSeriesLimit: racing creations of distinct series never take
// a repo past maxPerRepo; the losers get ErrLimit and store nothing.
func testPandoraSeriesLimit(t *testing.T, s meta.Store) {
	ctx := context.Background()
	ak := pandoraPair(t, s)
	require.NoError(t, s.CreatePandoraRepo(ctx, meta.PandoraRepo{AccessKey: ak, Name: "r", Region: "nb"}))
	const limit = 5
	wins := raceWins(t, 16, meta.ErrLimit, "CreatePandoraSeries", func(i int) error {
		return s.CreatePandoraSeries(ctx, meta.PandoraSeries{AccessKey: ak, Repo: "r", Name: fmt.Sprintf("s%d", i), Retention: "1d", Type: 1}, limit)
	})
	assert.Equal(t, limit, wins)
	list, err := s.PandoraSeriesList(ctx, ak, "r")
	require.NoError(t, err)
	assert.Len(t, list, limit)
	// A missing repo is still ErrNotFound with a limit set.
	assertKind(t, s.CreatePandoraSeries(ctx, meta.PandoraSeries{AccessKey: ak, Repo: "nope", Name: "x", Retention: "1d", Type: 1}, limit), meta.ErrNotFound, "CreatePandoraSeries")
}
