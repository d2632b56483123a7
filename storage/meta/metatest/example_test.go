package metatest_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/kodo-project/kodo/storage/meta"
	"github.com/kodo-project/kodo/storage/meta/metatest"
	"github.com/kodo-project/kodo/storage/meta/sqlite"
)

// ExampleRun shows the test a backend writes to run the suite (here the
// SQLite one; the function below would be TestConformance in its package).
func ExampleRun() {
	open := func(t *testing.T) meta.Store {
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "meta.db"), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
	reopen := func(t *testing.T, s meta.Store) meta.Store {
		path := s.(*sqlite.Store).Path()
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		s2, err := sqlite.Open(context.Background(), path, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s2.Close() })
		return s2
	}
	_ = func(t *testing.T) { metatest.Run(t, open, metatest.WithReopen(reopen)) }
}
