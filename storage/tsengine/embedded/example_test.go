package embedded_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/influxdata/influxql"

	"github.com/kodo-project/kodo/lineproto"
	"github.com/kodo-project/kodo/storage/tsengine"
	"github.com/kodo-project/kodo/storage/tsengine/embedded"
)

func Example() {
	dir, err := os.MkdirTemp("", "kodo-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	eng, err := embedded.Open(dir, embedded.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer eng.Close()
	ctx := context.Background()

	err = eng.CreateDatabase(ctx, "metrics", []tsengine.RetentionPolicy{
		{Name: "week", Duration: 7 * 24 * time.Hour, Default: true},
	})
	if err != nil {
		log.Fatal(err)
	}

	var b lineproto.Batch
	t0 := time.Now().Add(-time.Hour).Truncate(time.Minute)
	for i, v := range []float64{1, 2, 3, 4} {
		host := []string{"a", "b"}[i%2]
		if err := b.AddPoint("cpu", map[string]string{"host": host}, map[string]any{"usage": v}, t0.Add(time.Duration(i)*time.Second)); err != nil {
			log.Fatal(err)
		}
	}
	if err := eng.WritePoints(ctx, "metrics", "", &b); err != nil {
		log.Fatal(err)
	}

	q, err := influxql.ParseQuery(`SELECT sum(usage), count(usage) FROM cpu GROUP BY host`)
	if err != nil {
		log.Fatal(err)
	}
	res, err := eng.Query(ctx, "metrics", q, tsengine.QueryOptions{Epoch: "s"})
	if err != nil {
		log.Fatal(err)
	}
	for _, row := range res[0].Series {
		v := row.Values[0]
		fmt.Printf("%s host=%s sum=%v count=%v\n", row.Name, row.Tags["host"], v[1], v[2])
	}
	// Output:
	// cpu host=a sum=4 count=2
	// cpu host=b sum=6 count=2
}
