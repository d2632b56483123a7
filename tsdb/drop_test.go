package tsdb

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/kodo-project/kodo/storage/tsengine"
	"github.com/kodo-project/kodo/tsdb/tsdbapi"
)

// failFirstDrop fails the first DropDatabase, once release is closed,
// as a busy engine would.
type failFirstDrop struct {
	tsengine.Engine
	release chan struct{}
	calls   atomic.Int32
}

func (e *failFirstDrop) DropDatabase(ctx context.Context, db string) error {
	if e.calls.Add(1) == 1 {
		<-e.release
		return errors.New("engine busy")
	}
	return e.Engine.DropDatabase(ctx, db)
}

// TestRepoDeletionRetries: a failed drop is retried (the policy of
// internal/bgdrop, shared with /v1's measurement drops) and the repo shows
// "deleting":"true" until it is gone.
func TestRepoDeletionRetries(t *testing.T) {
	eng := &failFirstDrop{Engine: openEngine(t), release: make(chan struct{})}
	f := newFixture(t, eng, nil)
	mustOK(t, f.call("POST", "/v4/repos/app", map[string]any{"region": "nb"}))
	mustOK(t, f.call("DELETE", "/v4/repos/app", nil))
	a := f.call("GET", "/v4/repos/app", nil)
	assert.Contains(t, string(a.Body), `"deleting":"true"`)
	close(eng.release)
	f.waitIdle()
	assert.EqualValues(t, 2, eng.calls.Load(), "the failed drop was retried")
	mustErr(t, f.call("GET", "/v4/repos/app", nil), tsdbapi.CodeNotFound)
}
