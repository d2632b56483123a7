package embedded

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/kodo-project/kodo/storage/tsengine"
	"github.com/kodo-project/kodo/storage/tsengine/tsenginetest"
)

func openTest(t *testing.T, dir string, opts Options) *Engine {
	t.Helper()
	e, err := Open(dir, opts)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, e.Close()) })
	return e
}

func TestConformance(t *testing.T) {
	tsenginetest.Run(t, func(t *testing.T) tsengine.Engine {
		return openTest(t, t.TempDir(), Options{})
	})
}
