package kodo

import (
	"context"
	"fmt"
	"net/http"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/kodo-project/kodo/internal/httpx"
	"github.com/kodo-project/kodo/kodo/kodoapi"
	"github.com/kodo-project/kodo/storage/tsengine"
)

// TestFaultErrorMapping: errors the client caused are 4xx naming the
// cause; machine faults are 507/503 with Retry-After, wherever they arise.
func TestFaultErrorMapping(t *testing.T) {
	cases := []struct {
		err    error
		status int
		retry  bool
		say    string
	}{
		{fmt.Errorf("embedded: %w: \"rp3\" on database \"db\"", tsengine.ErrRetentionPolicyNotFound), http.StatusBadRequest, false, "CREATE RETENTION POLICY"},
		{fmt.Errorf("%w: write: no space left on device", tsengine.ErrDiskFull), http.StatusInsufficientStorage, true, "disk"},
		{fmt.Errorf("%w: open shard: too many open files", tsengine.ErrTooManyOpenFiles), http.StatusServiceUnavailable, true, "open-file limit"},
		{fmt.Errorf("sqlite: %w", syscall.ENOSPC), http.StatusInsufficientStorage, true, "disk is full"},
		{fmt.Errorf("open x: %w", syscall.EMFILE), http.StatusServiceUnavailable, true, "open-file limit"},
		{fmt.Errorf("something else"), http.StatusInternalServerError, false, "failed"},
	}
	for _, c := range cases {
		for _, e := range []*Error{asError(engineError(c.err, "writing points")), asError(metaError(c.err, "writing points"))} {
			if c.say == "CREATE RETENTION POLICY" && e.Code != kodoapi.ErrRPNotFound { // only engines report RPs
				continue
			}
			assert.Equal(t, c.status, e.Code.Status(), "%v", c.err)
			assert.Equal(t, c.retry, e.RetryAfter > 0, "%v", c.err)
			assert.Contains(t, e.Message, c.say)
		}
	}
}

// TestTimeoutMapping: a metadata store that does not answer in time is
// the gateway's trouble (503); an engine call that runs past its time is
// the query's (400 kodo.queryTimeout); a body refused for any status is
// the sender's (4xx).
func TestTimeoutMapping(t *testing.T) {
	meta := asError(metaError(fmt.Errorf("query: %w", context.DeadlineExceeded), "loading the workspace"))
	assert.Equal(t, kodoapi.ErrUnavailable, meta.Code)
	assert.Contains(t, meta.Message, "loading the workspace: the metadata store did not answer in time")
	assert.Equal(t, kodoapi.ErrUnavailable, asError(metaError(context.Canceled, "x")).Code)
	eng := asError(engineError(fmt.Errorf("select: %w", context.DeadlineExceeded), "running the query"))
	assert.Equal(t, kodoapi.ErrQueryTimeout, eng.Code)
	body := asError(&httpx.BodyError{Status: http.StatusTeapot, Msg: "odd"})
	assert.Equal(t, kodoapi.ErrBadRequest, body.Code)
	assert.Nil(t, asError(nil))
}
