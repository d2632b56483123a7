package embedded

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/influxdata/influxdb/coordinator"
	"github.com/influxdata/influxdb/models"
	"github.com/influxdata/line-protocol/v2/lineprotocol"
	"github.com/stretchr/testify/require"

	"github.com/kodo-project/kodo/lineproto"
	"github.com/kodo-project/kodo/storage/tsengine"
)

// benchBatch builds n points over 10 series (host tag) with 5 float
// fields each, one millisecond apart from start.
func benchBatch(tb testing.TB, n int, start time.Time) *lineproto.Batch {
	var b lineproto.Batch
	for i := 0; i < n; i++ {
		err := b.AddPoint("cpu",
			map[string]string{"host": fmt.Sprintf("server-%02d", i%10), "region": "eu-west"},
			map[string]any{"usr": float64(i), "system": 1.5, "idle": 90.25, "iowait": 0.5, "steal": int64(i)},
			start.Add(time.Duration(i)*time.Millisecond))
		require.NoError(tb, err)
	}
	return &b
}

// batchBytes is the size of b as line protocol, for b.SetBytes.
func batchBytes(b *lineproto.Batch) int64 {
	var buf []byte
	for i := 0; i < b.Len(); i++ {
		buf, _ = lineproto.AppendPoint(buf, b.At(i), tsengine.LineOptions)
	}
	return int64(len(buf))
}

func BenchmarkWritePoints(b *testing.B) {
	// "cardinality" adds the series and tag-value limits (InfluxDB's
	// defaults) to the field type check every write has.
	for _, c := range []struct {
		name string
		opts Options
	}{
		{"fieldcheck", Options{}},
		{"cardinality", Options{MaxSeriesPerDatabase: 1_000_000, MaxValuesPerTag: 100_000}},
	} {
		b.Run(c.name, func(b *testing.B) { benchWritePoints(b, c.opts) })
	}
}

func benchWritePoints(b *testing.B, opts Options) {
	e, err := Open(b.TempDir(), opts)
	require.NoError(b, err)
	defer e.Close()
	ctx := context.Background()
	require.NoError(b, e.CreateDatabase(ctx, "bench", []tsengine.RetentionPolicy{{Name: "week", Duration: 7 * 24 * time.Hour, Default: true}}))
	const n = 5000
	start := time.Now().Add(-24 * time.Hour)
	batches := make([]*lineproto.Batch, 16)
	for i := range batches {
		batches[i] = benchBatch(b, n, start.Add(time.Duration(i)*n*time.Millisecond))
	}
	b.SetBytes(batchBytes(batches[0]))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := e.WritePoints(ctx, "bench", "", batches[i%len(batches)]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "points/s")
}

// BenchmarkConvert compares the ways of making models.Points; the engine
// uses the fastest (see toModelPoints). PrintAndParse is what it did
// before: print the batch as 1.x line protocol and parse it.
func BenchmarkConvert(b *testing.B) {
	const n = 5000
	batch := benchBatch(b, n, time.Now())
	run := func(name string, convert func() int) {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(batchBytes(batch))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if got := convert(); got != n {
					b.Fatal(got)
				}
			}
			b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "points/s")
		})
	}
	run("Binary", func() int {
		var d dropTally
		pts, _ := toModelPoints(batch, &d, nil)
		return len(pts)
	})
	// As the gateway converts: a batch parsed from line protocol, whose
	// floats keep their text (lineproto.Field.Text).
	var body []byte
	for i := 0; i < batch.Len(); i++ {
		body, _ = lineproto.AppendPoint(body, batch.At(i), tsengine.LineOptions)
	}
	var parsed lineproto.Batch
	require.NoError(b, lineproto.Parse(body, lineproto.ParseOptions{}, &parsed))
	run("BinaryParsed", func() int {
		var d dropTally
		pts, _ := toModelPoints(&parsed, &d, nil)
		return len(pts)
	})
	run("PrintAndParse", func() int {
		pts, _ := parseModelPoints(batch)
		return len(pts)
	})
	run("NewPoint", func() int {
		pts, err := newPointConvert(batch)
		if err != nil {
			b.Fatal(err)
		}
		return len(pts)
	})
}

// BenchmarkMapShards compares mapShards with the coordinator's MapShards
// on one batch that falls into one shard.
func BenchmarkMapShards(b *testing.B) {
	e, err := Open(b.TempDir(), Options{})
	require.NoError(b, err)
	defer e.Close()
	require.NoError(b, e.CreateDatabase(context.Background(), "bench", []tsengine.RetentionPolicy{{Name: "week", Duration: 7 * 24 * time.Hour, Default: true}}))
	const n = 5000
	var d dropTally
	pts, _ := toModelPoints(benchBatch(b, n, time.Now().Add(-time.Hour).Truncate(time.Hour)), &d, nil)
	b.Run("mapShards", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, _, err := e.mapShards("bench", "week", pts, &d); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("coordinator", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, err := e.writer.MapShards(&coordinator.WritePointsRequest{Database: "bench", RetentionPolicy: "week", Points: pts}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// newPointConvert is the alternative to toModelPoints measured by
// BenchmarkConvert: one models.NewPoint per point.
func newPointConvert(b *lineproto.Batch) ([]models.Point, error) {
	pts := make([]models.Point, 0, b.Len())
	for i := 0; i < b.Len(); i++ {
		p := b.At(i)
		tags := make(models.Tags, 0, len(p.Tags))
		for _, t := range p.Tags {
			tags = append(tags, models.Tag{Key: t.Key, Value: t.Value})
		}
		fields := make(models.Fields, len(p.Fields))
		for _, f := range p.Fields {
			switch f.Value.Kind() {
			case lineprotocol.Int:
				fields[string(f.Key)] = f.Value.IntV()
			case lineprotocol.Uint:
				fields[string(f.Key)] = int64(f.Value.UintV())
			case lineprotocol.Float:
				fields[string(f.Key)] = f.Value.FloatV()
			case lineprotocol.Bool:
				fields[string(f.Key)] = f.Value.BoolV()
			case lineprotocol.String:
				fields[string(f.Key)] = f.Value.StringV()
			}
		}
		pt, err := models.NewPoint(string(p.Measurement), tags, fields, time.Unix(0, p.Time))
		if err != nil {
			return nil, err
		}
		pts = append(pts, pt)
	}
	return pts, nil
}

// BenchmarkGuard is the CPU cost of the write guards alone on a batch of
// known series (the steady state): the field type check and the
// cardinality check, without the shard write and its fsync.
func BenchmarkGuard(b *testing.B) {
	e, err := Open(b.TempDir(), Options{MaxSeriesPerDatabase: 1_000_000, MaxValuesPerTag: 100_000})
	require.NoError(b, err)
	defer e.Close()
	ctx := context.Background()
	require.NoError(b, e.CreateDatabase(ctx, "bench", []tsengine.RetentionPolicy{{Name: "week", Duration: 7 * 24 * time.Hour, Default: true}}))
	const n = 5000
	batch := benchBatch(b, n, time.Now().Add(-time.Hour))
	require.NoError(b, e.WritePoints(ctx, "bench", "", batch))
	var d dropTally
	pts, org := toModelPoints(batch, &d, nil)
	dbi := e.meta.Database("bench")
	g := e.guard("bench")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if refused, locked := e.checkCardinality(g, dbi, pts, 1_000_000, 100_000, &d); locked || len(refused) > 0 {
			b.Fatal("known series took the series lock")
		}
		if refused, _ := e.checkFields(g, dbi, pts, batch, org, &d); len(refused) > 0 {
			b.Fatal("refused")
		}
	}
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "points/s")
}
