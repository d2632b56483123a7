package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kodo-project/kodo/internal/gatewaytest"
	"github.com/kodo-project/kodo/internal/loadgen"
)

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"remote url", []string{"-url", "http://192.0.2.7:9527"}, "not loopback"},
		{"remote influx", []string{"-target", "influxdb", "-url", "http://example.com:8086"}, "not loopback"},
		{"bad target", []string{"-target", "mysql"}, "want kodo, kodo-influx, influxdb or victoriametrics"},
		{"victoriametrics with queries", []string{"-target", "victoriametrics", "-mix", "write=9,query=1"}, "writes only"},
		{"gen without a dir", []string{"gen", "-bodies", "2"}, "usage: kodo-bench gen"},
		{"bad mix", []string{"-mix", "write=1,drop=1"}, "unknown operation"},
		{"bad flag", []string{"-nope"}, "flag provided but not defined"},
		{"stray argument", []string{"extra"}, "unexpected argument"},
		{"bad shape", []string{"-url", "http://127.0.0.1:1", "-tags", "", "-requests", "1"}, "-tags"},
		{"compare arity", []string{"compare", "one.json"}, "usage"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			assert.Equal(t, 2, run(tc.args, &out, &errb))
			assert.Contains(t, errb.String(), tc.want)
		})
	}
}

func TestRunAgainstKodo(t *testing.T) {
	url := gatewaytest.Start(t)
	dir := t.TempDir()
	jsonPath := filepath.Join(dir, "kodo.json")
	var out, errb bytes.Buffer
	code := run([]string{"-url", url, "-workspaces", "2", "-concurrency", "2", "-requests", "4", "-mix", "write=1,query=1",
		"-lines", "200", "-tags", "host,dc", "-fields", "a,b,c", "-series", "5", "-server-pid", "0", "-quiet",
		"-markdown", "-markdown-header", "-out", jsonPath}, &out, &errb)
	require.Equal(t, 0, code, "stderr: %s", errb.String())
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	require.Len(t, lines, 3, "header, separator, row")
	assert.Contains(t, lines[2], "| kodo | 2 x 5 | 200 | 2 | write=1,query=1 |")

	f, err := os.Open(jsonPath)
	require.NoError(t, err)
	rep, err := loadgen.ReadReport(f)
	f.Close()
	require.NoError(t, err)
	assert.Equal(t, int64(400), rep.PointsAcked)
	assert.Equal(t, int64(400), rep.Verify.Found)
	assert.Equal(t, url, rep.URL)

	// compare reads two -json reports.
	out.Reset()
	code = run([]string{"compare", "-markdown", jsonPath, jsonPath}, &out, &errb)
	require.Equal(t, 0, code, errb.String())
	assert.Contains(t, out.String(), "ratio kodo/kodo write points/s: 1.00")
	assert.Contains(t, out.String(), loadgen.MarkdownHeader)

	code = run([]string{"compare", jsonPath, filepath.Join(dir, "missing.json")}, &out, &errb)
	assert.Equal(t, 3, code)
}

// TestGenWritesBodies: gen writes the bodies a run would send, gzipped,
// one file each, in send order.
func TestGenWritesBodies(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "bodies")
	var out, errb bytes.Buffer
	require.Equal(t, 0, run([]string{"gen", "-dir", dir, "-bodies", "3", "-lines", "50", "-series", "5"}, &out, &errb), errb.String())
	names, err := filepath.Glob(filepath.Join(dir, "body-*.gz"))
	require.NoError(t, err)
	require.Equal(t, []string{
		filepath.Join(dir, "body-000000.gz"), filepath.Join(dir, "body-000001.gz"), filepath.Join(dir, "body-000002.gz"),
	}, names)
	for _, n := range names {
		gz, err := os.ReadFile(n)
		require.NoError(t, err)
		zr, err := gzip.NewReader(bytes.NewReader(gz))
		require.NoError(t, err)
		raw, err := io.ReadAll(zr)
		require.NoError(t, err)
		assert.Equal(t, 50, bytes.Count(raw, []byte("\n")), n)
		assert.True(t, bytes.HasPrefix(raw, []byte("kodo_bench,host=")), n)
	}
}
