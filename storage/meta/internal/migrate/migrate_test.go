package migrate

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLoad(t *testing.T) {
	file := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
	tests := []struct {
		name    string
		files   fstest.MapFS
		want    []int
		wantErr string
	}{
		{name: "ordered", files: fstest.MapFS{
			"m/0002_b.sql": file("B"), "m/0001_a.sql": file("A"), "m/README": file("x"),
		}, want: []int{1, 2}},
		{name: "gap", files: fstest.MapFS{"m/0001_a.sql": file("A"), "m/0003_c.sql": file("C")}, wantErr: "expected version 2"},
		{name: "duplicate", files: fstest.MapFS{"m/0001_a.sql": file("A"), "m/0001_b.sql": file("B")}, wantErr: "also used by"},
		{name: "no underscore", files: fstest.MapFS{"m/0001.sql": file("A")}, wantErr: "name must look like"},
		{name: "bad number", files: fstest.MapFS{"m/x_a.sql": file("A")}, wantErr: "not a positive integer"},
		{name: "zero", files: fstest.MapFS{"m/0000_a.sql": file("A")}, wantErr: "not a positive integer"},
		{name: "empty body", files: fstest.MapFS{"m/0001_a.sql": file(" \n")}, wantErr: "empty file"},
		{name: "no files", files: fstest.MapFS{"m/README": file("x")}, wantErr: "no .sql files"},
		{name: "no dir", files: fstest.MapFS{}, wantErr: "read m"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms, err := Load(tt.files, "m")
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			var got []int
			for _, m := range ms {
				got = append(got, m.Version)
			}
			assert.Equal(t, tt.want, got)
			assert.Equal(t, "A", ms[0].SQL)
		})
	}
}

// FuzzLoad feeds arbitrary file names and bodies: Load must return either
// an error or well-formed migrations, never panic.
func FuzzLoad(f *testing.F) {
	f.Add("0001_init.sql", "CREATE TABLE t (a int);")
	f.Add("x_y.sql", "")
	f.Add("0000_.sql", " ")
	f.Add("-1_a.sql", "x")
	f.Fuzz(func(t *testing.T, name, body string) {
		if name == "" || strings.ContainsAny(name, "/\\\x00") || name == "." || name == ".." {
			return // not a file name fstest accepts
		}
		ms, err := Load(fstest.MapFS{"m/" + name: &fstest.MapFile{Data: []byte(body)}}, "m")
		if err != nil {
			return
		}
		require.Len(t, ms, 1)
		assert.Equal(t, 1, ms[0].Version)
		assert.Equal(t, body, ms[0].SQL)
	})
}
