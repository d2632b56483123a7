package remote

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/kodo-project/kodo/storage/tsengine"
	"github.com/kodo-project/kodo/storage/tsengine/tsenginetest"
)

// influxURL returns KODO_TEST_INFLUX_URL or skips: the remote tests need a
// real influxd (start one with .ci/influxd.sh start).
func influxURL(t *testing.T) string {
	u := os.Getenv("KODO_TEST_INFLUX_URL")
	if u == "" {
		t.Skip("KODO_TEST_INFLUX_URL is not set; run `eval \"$(.ci/influxd.sh start)\"; export KODO_TEST_INFLUX_URL` to test against influxd")
	}
	return u
}

func TestConformance(t *testing.T) {
	u := influxURL(t)
	tsenginetest.Run(t, func(t *testing.T) tsengine.Engine {
		e, err := New(u, Options{})
		require.NoError(t, err)
		t.Cleanup(func() { require.NoError(t, e.Close()) })
		return e
	})
}
