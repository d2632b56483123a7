package main

import (
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFlagsAndEnvironment: every flag has a KODO_* twin, the command line
// wins over it, and a bad value in either is an error, not a silent default.
func TestFlagsAndEnvironment(t *testing.T) {
	env := map[string]string{
		"KODO_MAX_LINE_BYTES":   "2048",
		"KODO_INFLUX_URL":       "http://a:8086, http://b:8086",
		"KODO_MAX_FUTURE":       "1h",
		"KODO_SHUTDOWN_TIMEOUT": "5s",
	}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	c, err := parseFlags([]string{"-max-future", "2h", "-max-query-statements", "7"}, lookup, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, 2048, c.opts.Limits.MaxLineBytes)
	assert.Equal(t, []string{"http://a:8086", "http://b:8086"}, c.opts.InfluxURLs)
	assert.Equal(t, 2*time.Hour, c.opts.Limits.MaxFuture, "the command line wins")
	assert.Equal(t, 7, c.opts.Limits.MaxQueryStatements)
	assert.Equal(t, 5*time.Second, c.shutdownTimeout)

	env["KODO_MAX_LINE_BYTES"] = "lots"
	_, err = parseFlags(nil, lookup, io.Discard)
	assert.ErrorContains(t, err, "KODO_MAX_LINE_BYTES")
	_, err = parseFlags([]string{"-no-such-flag"}, func(string) (string, bool) { return "", false }, io.Discard)
	assert.Error(t, err)
}
