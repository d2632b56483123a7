package docstest_test

import (
	"testing"

	"github.com/kodo-project/kodo/storage/docs"
	"github.com/kodo-project/kodo/storage/docs/docstest"
	"github.com/kodo-project/kodo/storage/docs/embedded"
)

// A store implementation runs the suite from its own test.
func ExampleRun() {
	_ = func(t *testing.T) {
		docstest.Run(t, func(t *testing.T) docs.Store {
			s, err := embedded.Open(t.TempDir(), embedded.Options{})
			if err != nil {
				t.Fatal(err)
			}
			return s
		})
	}
}
