package gatewaytest

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/kodo-project/kodo/kodo"
)

// Start runs a gateway on the embedded engine behind a loopback test
// server, with its data in a temp dir, and returns its URL. The test's
// cleanup shuts it down and fails the test if that fails.
func Start(t testing.TB) string {
	t.Helper()
	srv, err := kodo.New(kodo.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatalf("starting the gateway: %v", err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		hs.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutting the gateway down: %v", err)
		}
	})
	return hs.URL
}
