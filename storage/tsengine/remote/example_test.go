package remote_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/influxdata/influxql"

	"github.com/kodo-project/kodo/lineproto"
	"github.com/kodo-project/kodo/storage/tsengine"
	"github.com/kodo-project/kodo/storage/tsengine/remote"
)

// Writing to and querying an InfluxDB 1.x instance (not run: it needs one).
func Example() {
	eng, err := remote.New("http://127.0.0.1:8086", remote.Options{Timeout: 10 * time.Second})
	if err != nil {
		log.Fatal(err)
	}
	defer eng.Close()
	ctx := context.Background()
	if err := eng.Ping(ctx); errors.Is(err, tsengine.ErrUnavailable) {
		log.Fatal("influxd is down: ", err)
	}
	if err := eng.CreateDatabase(ctx, "metrics", []tsengine.RetentionPolicy{{Name: "week", Duration: 7 * 24 * time.Hour, Default: true}}); err != nil {
		log.Fatal(err)
	}
	var b lineproto.Batch
	if err := b.AddPoint("cpu", map[string]string{"host": "a"}, map[string]any{"usage": 0.5}, time.Now()); err != nil {
		log.Fatal(err)
	}
	var pwe *tsengine.PartialWriteError
	if err := eng.WritePoints(ctx, "metrics", "", &b); errors.As(err, &pwe) {
		log.Printf("%d points refused: %s", pwe.Dropped, pwe.Reason)
	} else if err != nil {
		log.Fatal(err)
	}
	q, _ := influxql.ParseQuery(`SELECT last(usage) FROM cpu`)
	res, err := eng.Query(ctx, "metrics", q, tsengine.QueryOptions{Epoch: "ms"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res[0].Series[0].Values)
}
