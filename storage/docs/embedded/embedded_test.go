package embedded

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/kodo-project/kodo/storage/docs"
	"github.com/kodo-project/kodo/storage/docs/docstest"
)

func TestConformance(t *testing.T) {
	docstest.Run(t, func(t *testing.T) docs.Store {
		s, err := Open(t.TempDir(), Options{})
		require.NoError(t, err)
		return s
	})
}
