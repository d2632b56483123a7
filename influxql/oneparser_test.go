package influxql

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const upstreamInfluxQL = "github.com/influxdata/influxql"

// upstreamParsers are the entries into github.com/influxdata/influxql's
// recursive parser. Only parse.go may use them: it bounds the text first.
var upstreamParsers = map[string]bool{
	"ParseQuery": true, "ParseStatement": true, "ParseExpr": true, "NewParser": true,
	"MustParseStatement": true, "MustParseExpr": true, "MustParseQuery": true,
}

// unboundedParses lists the uses of the upstream parser in one Go source
// file: "file:line: name". A dot import counts as a use, since its calls
// cannot be told apart.
func unboundedParses(fset *token.FileSet, f *ast.File) []string {
	var out []string
	aliases := map[string]bool{}
	for _, imp := range f.Imports {
		path, _ := strconv.Unquote(imp.Path.Value)
		if path != upstreamInfluxQL {
			continue
		}
		switch {
		case imp.Name == nil:
			aliases["influxql"] = true
		case imp.Name.Name == ".":
			out = append(out, fset.Position(imp.Pos()).String()+": dot import of "+upstreamInfluxQL)
		case imp.Name.Name != "_":
			aliases[imp.Name.Name] = true
		}
	}
	if len(aliases) == 0 {
		return out
	}
	ast.Inspect(f, func(n ast.Node) bool {
		sel, ok := n.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		id, ok := sel.X.(*ast.Ident)
		// id.Obj == nil: a package name, not a local variable that
		// shadows the import.
		if ok && id.Obj == nil && aliases[id.Name] && upstreamParsers[sel.Sel.Name] {
			out = append(out, fset.Position(sel.Pos()).String()+": "+id.Name+"."+sel.Sel.Name)
		}
		return true
	})
	return out
}

func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	require.NoError(t, err)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		require.NotEqual(t, parent, dir, "go.mod not found above the test directory")
		dir = parent
	}
}

// TestOneParser fails when a non-test Go file of the module, other than
// parse.go, calls github.com/influxdata/influxql's parser directly: every
// InfluxQL text must go through Parse, ParseStatement or ParseExpr, which
// bound it before that recursive parser sees it.
func TestOneParser(t *testing.T) {
	root := moduleRoot(t)
	allowed := filepath.Join(root, "influxql", "parse.go")
	fset := token.NewFileSet()
	var found []string
	files := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if path != root && (name == "testdata" || name == "vendor" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") || path == allowed {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		files++
		found = append(found, unboundedParses(fset, f)...)
		return nil
	})
	require.NoError(t, err)
	require.Greater(t, files, 50, "the walk should see the module's sources")
	sort.Strings(found)
	require.Empty(t, found, "parse InfluxQL with github.com/kodo-project/kodo/influxql.Parse/ParseStatement/ParseExpr, not the upstream parser")
}

// TestOneParserDetects shows the check finds each way of calling the
// upstream parser, so TestOneParser cannot pass by looking at nothing.
func TestOneParserDetects(t *testing.T) {
	cases := map[string]int{
		`package p; import "github.com/influxdata/influxql"; var _, _ = influxql.ParseQuery("x")`:                                                                                 1,
		`package p; import iql "github.com/influxdata/influxql"; func f() { iql.NewParser(nil).ParseStatement() }`:                                                                1,
		`package p; import q "github.com/influxdata/influxql"; var f = q.ParseExpr; var g = q.MustParseStatement`:                                                                 2,
		`package p; import . "github.com/influxdata/influxql"; var _, _ = ParseQuery("x")`:                                                                                        1,
		`package p; import iql "github.com/influxdata/influxql"; var _, _ = iql.ParseDuration("1s")`:                                                                              0,
		`package p; import "github.com/influxdata/influxql"; type T struct{}; func (T) ParseQuery() {}; func f() { influxql := T{}; influxql.ParseQuery() }; var _ influxql.Node`: 0,
	}
	for src, want := range cases {
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, "x.go", src, 0)
		require.NoError(t, err, src)
		require.Len(t, unboundedParses(fset, f), want, src)
	}
}
