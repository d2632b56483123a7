package kodo

import (
	"fmt"
	"net/http"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"

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
