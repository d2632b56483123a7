package kodoclient

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestDependencies keeps the point of the SDK split, for both APIs' client
// side: a program that calls Kodo links the standard library, signer,
// lineproto (and its parser) and the wire types, never the server, the
// storage engines or their drivers.
func TestDependencies(t *testing.T) {
	const mod = "github.com/kodo-project/kodo/"
	allowed := map[string][]string{
		mod + "kodo/kodoapi": {mod + "kodo/kodoapi"},
		mod + "tsdb/tsdbapi": {mod + "tsdb/tsdbapi"},
		mod + "kodo/kodoclient": {
			mod + "kodo/kodoapi", mod + "tsdb/tsdbapi", mod + "signer", mod + "lineproto",
			"github.com/influxdata/line-protocol/v2/lineprotocol", mod + "kodo/kodoclient",
		},
		mod + "tsdb/tsdbclient": {mod + "signer", mod + "tsdb/tsdbapi", mod + "tsdb/tsdbclient"},
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
