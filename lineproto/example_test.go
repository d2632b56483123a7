package lineproto_test

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/kodo-project/kodo/lineproto"
)

func ExampleParse() {
	body := []byte(`cpu,region=eu,host=a usage=12.5,count=3i 1700000000
# comments and blank lines are skipped

cpu,host=b usage=1.2.3 1700000000
mem,host=a free=1024i
`)
	var batch lineproto.Batch
	err := lineproto.Parse(body, lineproto.ParseOptions{
		Precision: lineproto.Second,
		Now:       time.Unix(1700000060, 0), // for lines without a timestamp
	}, &batch)

	var partial *lineproto.PartialError
	if errors.As(err, &partial) {
		fmt.Printf("%d of %d lines rejected\n", partial.Rejected, partial.Total)
		for _, e := range partial.Errors {
			fmt.Println(e.Error())
		}
	}
	for i := 0; i < batch.Len(); i++ {
		p := batch.At(i)
		fmt.Printf("%s tags=%d fields=%d time=%d\n", p.Measurement, len(p.Tags), len(p.Fields), p.Time)
	}
	// Output:
	// 1 of 3 lines rejected
	// line 4, column 18: invalid field value "1.2.3" for field "usage"
	// cpu tags=2 fields=2 time=1700000000000000000
	// mem tags=1 fields=1 time=1700000060000000000
}

func ExampleBatch_AddPoint() {
	var batch lineproto.Batch
	err := batch.AddPoint("disk",
		map[string]string{"host": "db-1", "path": "/var/lib"},
		map[string]any{"free": int64(123456), "used_percent": 71.5, "readonly": false},
		time.Unix(1700000000, 0))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(string(batch.AppendLineProtocol(nil, lineproto.Second)))
	// Output:
	// disk,host=db-1,path=/var/lib free=123456i,readonly=false,used_percent=71.5 1700000000
}

func ExampleBatch_AppendLineProtocol() {
	var batch lineproto.Batch
	// Unsorted tags and escapes come out canonical.
	_ = lineproto.Parse([]byte(`web\ hits,zone=b,host=x\,y count=1i,msg="said \"hi\"" 1700000000123`),
		lineproto.ParseOptions{Precision: lineproto.Millisecond}, &batch)
	fmt.Print(string(batch.AppendLineProtocol(nil, lineproto.Nanosecond)))
	fmt.Print(string(batch.AppendLineProtocol(nil, lineproto.Second)))
	// Output:
	// web\ hits,host=x\,y,zone=b count=1i,msg="said \"hi\"" 1700000000123000000
	// web\ hits,host=x\,y,zone=b count=1i,msg="said \"hi\"" 1700000000
}

func ExamplePoint_AppendSeriesKey() {
	var batch lineproto.Batch
	_ = lineproto.Parse([]byte("cpu,zone=b,host=a v=1\ncpu,host=a,zone=b v=2\ncpu,host=c v=3\n"), lineproto.ParseOptions{}, &batch)
	series := map[string]bool{}
	var key []byte
	for i := 0; i < batch.Len(); i++ {
		key = batch.At(i).AppendSeriesKey(key[:0])
		series[string(key)] = true
	}
	fmt.Println(len(series), "series")
	// Output: 2 series
}

func ExampleParsePrecision() {
	p, err := lineproto.ParsePrecision("ms") // e.g. from ?precision= or X-Precision
	fmt.Println(p, p.Duration(), err)
	_, err = lineproto.ParsePrecision("seconds")
	fmt.Println(err)
	// Output:
	// ms 1ms <nil>
	// lineproto: unknown precision "seconds" (want one of n, ns, u, us, ms, s, m, h)
}

// A sync.Pool of Batches lets a server parse each request without
// allocating once the pooled Batches have grown.
func ExampleBatch_pool() {
	pool := sync.Pool{New: func() any { return new(lineproto.Batch) }}

	handle := func(body []byte) (int, error) {
		b := pool.Get().(*lineproto.Batch)
		defer func() { b.Reset(); pool.Put(b) }()
		if err := lineproto.Parse(body, lineproto.ParseOptions{}, b); err != nil {
			return 0, err
		}
		return b.Len(), nil // hand the points to storage before Reset
	}
	n, err := handle([]byte("m v=1 1\nm v=2 2\n"))
	fmt.Println(n, err)
	// Output: 2 <nil>
}
