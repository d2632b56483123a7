package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kodo-project/kodo/internal/gatewaytest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// writeBodies puts n gzipped bodies of lines lines each in a new dir.
func writeBodies(t *testing.T, n, lines int) string {
	t.Helper()
	dir := t.TempDir()
	ts := time.Now().Add(-time.Hour).UnixNano()
	for k := 0; k < n; k++ {
		var raw strings.Builder
		for i := 0; i < lines; i++ {
			fmt.Fprintf(&raw, "plain,host=h%d v=%d %d\n", i%3, i, ts+int64(k*lines+i))
		}
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		_, err := io.WriteString(zw, raw.String())
		require.NoError(t, err)
		require.NoError(t, zw.Close())
		require.NoError(t, os.WriteFile(filepath.Join(dir, fmt.Sprintf("body-%06d.gz", k)), gz.Bytes(), 0o644))
	}
	return dir
}

// TestPlainloadAgainstKodo posts every body to every workspace of a real,
// in-process gateway through /write and counts exactly the lines sent.
func TestPlainloadAgainstKodo(t *testing.T) {
	url := gatewaytest.Start(t)
	dir := writeBodies(t, 3, 40)
	outFile := filepath.Join(t.TempDir(), "r.json")
	var stdout, stderr bytes.Buffer
	code := run([]string{"-kind", "kodo", "-url", url, "-dir", dir, "-workspaces", "2", "-concurrency", "2",
		"-duration", "1m", "-out", outFile}, &stdout, &stderr)
	require.Equal(t, 0, code, "stdout: %s\nstderr: %s", stdout.String(), stderr.String())
	var r result
	b, err := os.ReadFile(outFile)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &r))
	assert.Equal(t, int64(3*2*40), r.Points, "3 bodies x 2 workspaces x 40 lines")
	assert.Equal(t, int64(6), r.Requests)
	assert.Zero(t, r.Errors)
	assert.True(t, r.Exhausted, "the run ended when the bodies did, not at the time bound")
	assert.Contains(t, stdout.String(), "240 points")
}

// TestPlainloadCountsRefusals: answers that are not 2xx count as errors
// and their points as not acknowledged; the exit status says so.
func TestPlainloadCountsRefusals(t *testing.T) {
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"error":"database not found"}`, http.StatusNotFound)
	}))
	t.Cleanup(hs.Close)
	var stdout, stderr bytes.Buffer
	code := run([]string{"-kind", "victoriametrics", "-url", hs.URL, "-dir", writeBodies(t, 2, 5), "-workspaces", "1"}, &stdout, &stderr)
	assert.Equal(t, 1, code)
	assert.Contains(t, stdout.String(), ": 0 points")
	assert.Contains(t, stdout.String(), "HTTP 404")
}

func TestPlainloadRefusesNonLoopback(t *testing.T) {
	var stdout, stderr bytes.Buffer
	assert.Equal(t, 2, run([]string{"-kind", "influxdb", "-url", "http://10.1.2.3:8086", "-dir", t.TempDir()}, &stdout, &stderr))
	assert.Contains(t, stderr.String(), "loopback")
}
