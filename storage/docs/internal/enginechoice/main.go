// Command enginechoice measures the two candidate engines for the
// embedded document store on the same 100k synthetic log lines: SQLite
// FTS5 (modernc.org/sqlite, through the real storage/docs/embedded store)
// and bleve v2 (scorch) with an equivalent mapping. It prints indexing
// rate, on-disk size and the latency of a few searches. It is a separate
// module so bleve never enters the main go.mod.
//
//	cd storage/docs/internal/enginechoice && go run . -n 100000
package main

import (
	"context"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/kodo-project/kodo/storage/docs"
	"github.com/kodo-project/kodo/storage/docs/embedded"
	"github.com/kodo-project/kodo/storage/docs/internal/synth"
)

func main() {
	n := flag.Int("n", 100000, "log lines")
	batch := flag.Int("batch", 5000, "lines per write")
	flag.Parse()
	lines := gen(*n)
	dir, err := os.MkdirTemp("", "enginechoice")
	check(err)
	defer os.RemoveAll(dir)
	runSQLite(filepath.Join(dir, "sqlite"), lines, *batch)
	runBleve(filepath.Join(dir, "bleve"), lines, *batch)
}

func gen(n int) []docs.Document {
	out, _ := synth.Logs(n, 0)
	return out
}

func check(err error) {
	if err != nil {
		panic(err)
	}
}

func dirSize(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

func report(engine string, n int, d time.Duration, dir string) {
	fmt.Printf("%-7s index %d lines: %v = %.0f lines/s, %.1f MB on disk\n", engine, n, d.Round(time.Millisecond), float64(n)/d.Seconds(), float64(dirSize(dir))/1e6)
}

func runSQLite(dir string, lines []docs.Document, batch int) {
	ctx := context.Background()
	s, err := embedded.Open(dir, embedded.Options{})
	check(err)
	defer s.Close()
	start := time.Now()
	for i := 0; i < len(lines); i += batch {
		check(s.Write(ctx, "wksp_1", docs.KindLogging, lines[i:min(i+batch, len(lines))]))
	}
	report("sqlite", len(lines), time.Since(start), dir)
	for _, q := range []docs.SearchRequest{
		{Query: "timeout upstream", Limit: 20},
		{Filters: []docs.Filter{{Key: "host", Value: "web07"}}, Limit: 20},
		{Query: "reset", Filters: []docs.Filter{{Key: "level", Value: "error"}}, TimeRange: docs.TimeRange{Start: lines[len(lines)/2].Time}, Limit: 20},
	} {
		q.WorkspaceUUID, q.Kind = "wksp_1", docs.KindLogging
		t := time.Now()
		res, err := s.Search(ctx, q)
		check(err)
		fmt.Printf("sqlite  search q=%q filters=%v: total %d in %v\n", q.Query, q.Filters, res.Total, time.Since(t).Round(time.Microsecond))
	}
}

type bdoc struct {
	WS      string   `json:"ws"`
	Kind    string   `json:"kind"`
	Time    float64  `json:"time"`
	KV      []string `json:"kv"`
	Tags    map[string]string
	Fields  map[string]any
	Content string `json:"content"`
}

func runBleve(dir string, lines []docs.Document, batch int) {
	kw := bleve.NewKeywordFieldMapping()
	txt := bleve.NewTextFieldMapping()
	txt.Analyzer = "standard"
	txt.Store = true
	num := bleve.NewNumericFieldMapping()
	dm := bleve.NewDocumentMapping()
	dm.AddFieldMappingsAt("ws", kw)
	dm.AddFieldMappingsAt("kind", kw)
	dm.AddFieldMappingsAt("kv", kw)
	dm.AddFieldMappingsAt("time", num)
	dm.AddFieldMappingsAt("content", txt)
	dis := bleve.NewDocumentDisabledMapping()
	dm.AddSubDocumentMapping("Tags", dis)
	dm.AddSubDocumentMapping("Fields", dis)
	im := mapping.NewIndexMapping()
	im.DefaultMapping = dm
	idx, err := bleve.New(dir, im)
	check(err)
	defer idx.Close()
	start := time.Now()
	for i := 0; i < len(lines); i += batch {
		b := idx.NewBatch()
		for j := i; j < min(i+batch, len(lines)); j++ {
			d := lines[j]
			check(b.Index(fmt.Sprint(j), bdoc{WS: "wksp_1", Kind: "logging", Time: float64(d.Time), KV: docs.Terms(&d), Tags: d.Tags, Fields: d.Fields, Content: d.Content}))
		}
		check(idx.Batch(b))
	}
	report("bleve", len(lines), time.Since(start), dir)
	term := func(f, v string) query.Query { q := bleve.NewTermQuery(v); q.SetField(f); return q }
	match := func(s string) query.Query {
		q := bleve.NewMatchQuery(s)
		q.SetField("content")
		q.SetOperator(query.MatchQueryOperatorAnd)
		return q
	}
	lo := float64(lines[len(lines)/2].Time)
	rng := bleve.NewNumericRangeQuery(&lo, nil)
	rng.SetField("time")
	for _, c := range []struct {
		name string
		q    query.Query
	}{
		{`q="timeout upstream"`, bleve.NewConjunctionQuery(term("ws", "wksp_1"), match("timeout upstream"))},
		{`host=web07`, bleve.NewConjunctionQuery(term("ws", "wksp_1"), term("kv", "host=web07"))},
		{`q=reset level=error time>=mid`, bleve.NewConjunctionQuery(term("ws", "wksp_1"), match("reset"), term("kv", "level=error"), rng)},
	} {
		req := bleve.NewSearchRequestOptions(c.q, 20, 0, false)
		req.SortBy([]string{"-time"})
		t := time.Now()
		res, err := idx.Search(req)
		check(err)
		fmt.Printf("bleve   search %s: total %d in %v\n", c.name, res.Total, time.Since(t).Round(time.Microsecond))
	}
}
