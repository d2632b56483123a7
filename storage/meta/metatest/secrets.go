package metatest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kodo-project/kodo/storage/meta"
)

// testWorkspaceSecrets: the signing fields round-trip, rotation keeps the
// old secret for the overlap, and the body-key setting switches.
func testWorkspaceSecrets(t *testing.T, s meta.Store) {
	ctx := context.Background()
	w, d := newWorkspace("secrets")
	w.AllowBodyKey = false
	require.NoError(t, s.CreateWorkspace(ctx, w, d))
	got, err := s.WorkspaceByToken(ctx, w.Token)
	require.NoError(t, err)
	equalWorkspace(t, w, got)
	assert.True(t, got.PrevSecretUntil.IsZero(), "no rotation yet")

	until := stamp(24 * time.Hour)
	rot, err := s.RotateWorkspaceSecret(ctx, w.UUID, "s3cr3t-2", until)
	require.NoError(t, err)
	assert.Equal(t, "s3cr3t-2", rot.Secret)
	assert.Equal(t, w.Secret, rot.PrevSecret)
	assert.True(t, until.Equal(rot.PrevSecretUntil), "want %v, got %v", until, rot.PrevSecretUntil)
	got, err = s.Workspace(ctx, w.UUID)
	require.NoError(t, err)
	equalWorkspace(t, rot, got)

	rot, err = s.RotateWorkspaceSecret(ctx, w.UUID, "s3cr3t-3", time.Time{})
	require.NoError(t, err)
	assert.Equal(t, "s3cr3t-2", rot.PrevSecret, "only the last secret overlaps")
	assert.True(t, rot.PrevSecretUntil.IsZero(), "a zero overlap end reads back zero")

	_, err = s.RotateWorkspaceSecret(ctx, id("wksp_"), "x", until)
	assertKind(t, err, meta.ErrNotFound, "RotateWorkspaceSecret")
	_, err = s.RotateWorkspaceSecret(ctx, w.UUID, "", until)
	assertKind(t, err, meta.ErrInvalid, "RotateWorkspaceSecret")

	require.NoError(t, s.SetWorkspaceBodyKey(ctx, w.UUID, true))
	got, err = s.WorkspaceByToken(ctx, w.Token)
	require.NoError(t, err)
	assert.True(t, got.AllowBodyKey)
	assert.Equal(t, "s3cr3t-3", got.Secret, "the setting leaves the secrets alone")
	require.NoError(t, s.SetWorkspaceBodyKey(ctx, w.UUID, false))
	got, err = s.WorkspaceByToken(ctx, w.Token)
	require.NoError(t, err)
	assert.False(t, got.AllowBodyKey)
	assertKind(t, s.SetWorkspaceBodyKey(ctx, id("wksp_"), true), meta.ErrNotFound, "SetWorkspaceBodyKey")

	w2, d2 := newWorkspace("compat")
	w2.AllowBodyKey = true
	w2.Secret = ""
	require.NoError(t, s.CreateWorkspace(ctx, w2, d2))
	got, err = s.Workspace(ctx, w2.UUID)
	require.NoError(t, err)
	equalWorkspace(t, w2, got)
}

// testReplayCache: a key is fresh once per expiry, an expired record is
// taken over, and concurrent callers (the replicas' requests) get exactly
// one fresh answer.
func testReplayCache(t *testing.T, s meta.Store) {
	ctx := context.Background()
	now := stamp(0)
	key := id("sig_")
	fresh, err := s.RememberSignature(ctx, key, now, now.Add(time.Minute))
	require.NoError(t, err)
	assert.True(t, fresh)
	fresh, err = s.RememberSignature(ctx, key, now.Add(59*time.Second), now.Add(2*time.Minute))
	require.NoError(t, err)
	assert.False(t, fresh, "seen within the window")
	fresh, err = s.RememberSignature(ctx, key, now.Add(time.Minute), now.Add(3*time.Minute))
	require.NoError(t, err)
	assert.True(t, fresh, "the first record expired; the replay refusal did not extend it")
	fresh, err = s.RememberSignature(ctx, key, now.Add(2*time.Minute), now.Add(4*time.Minute))
	require.NoError(t, err)
	assert.False(t, fresh, "the new record lives until 3m")

	other := id("sig_")
	fresh, err = s.RememberSignature(ctx, other, now, now.Add(time.Minute))
	require.NoError(t, err)
	assert.True(t, fresh, "keys are independent")

	require.NoError(t, s.ForgetSignatures(ctx, now.Add(90*time.Second)))
	fresh, err = s.RememberSignature(ctx, other, now, now.Add(time.Hour))
	require.NoError(t, err)
	assert.True(t, fresh, "the expired record of other was deleted")
	fresh, err = s.RememberSignature(ctx, key, now.Add(2*time.Minute), now.Add(4*time.Minute))
	require.NoError(t, err)
	assert.False(t, fresh, "a live record survives ForgetSignatures")

	require.NoError(t, s.ForgetSignature(ctx, key))
	fresh, err = s.RememberSignature(ctx, key, now.Add(2*time.Minute), now.Add(4*time.Minute))
	require.NoError(t, err)
	assert.True(t, fresh, "a forgotten signature may be used again")
	require.NoError(t, s.ForgetSignature(ctx, id("sig_")), "forgetting an unknown key is no error")

	const n = 16
	for round := 0; round < 3; round++ {
		k := fmt.Sprintf("%s-%d", id("sig_"), round)
		var wins atomic.Int32
		var wg sync.WaitGroup
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ok, err := s.RememberSignature(ctx, k, now, now.Add(time.Minute))
				if assert.NoError(t, err) && ok {
					wins.Add(1)
				}
			}()
		}
		wg.Wait()
		assert.Equal(t, int32(1), wins.Load(), "exactly one of %d concurrent callers sees the signature first", n)
	}
}
