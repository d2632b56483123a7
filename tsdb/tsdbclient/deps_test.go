package tsdbclient

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestDependencies keeps the point of the split: a program that calls the
// API links the standard library, signer and tsdbapi, never the server,
// the storage engines or their drivers.
func TestDependencies(t *testing.T) {
	allowed := map[string][]string{
		"github.com/kodo-project/kodo/tsdb/tsdbapi": {"github.com/kodo-project/kodo/tsdb/tsdbapi"},
		"github.com/kodo-project/kodo/tsdb/tsdbclient": {
			"github.com/kodo-project/kodo/signer",
			"github.com/kodo-project/kodo/tsdb/tsdbapi",
			"github.com/kodo-project/kodo/tsdb/tsdbclient",
		},
	}
	for pkg, want := range allowed {
		out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", pkg).Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", pkg, err)
		}
		for _, dep := range strings.Fields(string(out)) {
			if !slices.Contains(want, dep) {
				t.Errorf("%s depends on %s; it may use only the standard library and %v", pkg, dep, want)
			}
		}
	}
}
