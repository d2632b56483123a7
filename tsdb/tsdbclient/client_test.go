package tsdbclient

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kodo-project/kodo/tsdb/tsdbapi"
)

func TestNewClientChecks(t *testing.T) {
	for _, ep := range []string{"", "ftp://x", "http://", "::"} {
		_, err := NewClient(ep, "a", "b", nil)
		assert.Error(t, err, ep)
	}
	_, err := NewClient("http://127.0.0.1:1", "", "b", nil)
	assert.Error(t, err)
	c, err := NewClient("http://127.0.0.1:1/", "a", "b", nil)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, err = c.ListRepos(ctx) // nothing listens there
	require.Error(t, err)
	assert.Empty(t, tsdbapi.CodeOf(err))
}
