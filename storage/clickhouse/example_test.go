package clickhouse_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/kodo-project/kodo/lineproto"
	"github.com/kodo-project/kodo/storage/clickhouse"
)

func ExampleQuoteIdent() {
	fmt.Println(clickhouse.QuoteIdent("cpu"))
	fmt.Println(clickhouse.QuoteIdent("odd`name"))
	// Output:
	// `cpu`
	// `odd\`name`
}

func ExampleCheckReadCommand() {
	for _, cmd := range []string{
		"SELECT host, avg(usage) FROM cpu GROUP BY host",
		"SELECT * FROM other_db.cpu",
		"DROP TABLE cpu",
	} {
		err := clickhouse.CheckReadCommand(cmd, "ifdb_1")
		fmt.Println(err == nil, errors.Is(err, clickhouse.ErrInvalid))
	}
	// Output:
	// true false
	// false true
	// false true
}

// Example shows the whole cycle; it needs a server, so it is compiled
// but not run.
func Example() {
	ctx := context.Background()
	s, err := clickhouse.Open(ctx, "clickhouse://127.0.0.1:19000/default", clickhouse.Options{
		RowLimit: 1000, QueryTimeout: 10 * time.Second,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	if err := s.CreateDatabase(ctx, "ifdb_1"); err != nil {
		log.Fatal(err)
	}
	var b lineproto.Batch
	if err := lineproto.Parse([]byte("cpu,host=a usage=1.5 1000\ncpu,host=b usage=2 2000\n"), lineproto.ParseOptions{}, &b); err != nil {
		log.Fatal(err)
	}
	if err := s.WritePoints(ctx, "ifdb_1", &b); err != nil {
		log.Fatal(err)
	}
	res, err := s.Read(ctx, "ifdb_1", clickhouse.ReadRequest{
		Command: "SELECT time, host, usage FROM cpu ORDER BY time",
		GroupBy: []string{"host"},
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, series := range res.Series {
		fmt.Println(series.Tags["host"], series.Columns, series.Values)
	}
}
