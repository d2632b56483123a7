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
// uses the fastest (see toModelPoints). Each "+read" variant also reads
// every field back as the storage engine's write does (FieldIterator),
// which is where batchPoints save most: their values are parsed already.
// Binary is what the gateway did before batchPoints (each point encoded
// into InfluxDB's binary form), PrintAndParse what it did before that.
func BenchmarkConvert(b *testing.B) {
	const n = 5000
	// As the gateway converts: a batch parsed from line protocol, whose
	// floats keep their text (lineproto.Field.Text).
	var body []byte
	generated := benchBatch(b, n, time.Now())
	for i := 0; i < generated.Len(); i++ {
		body, _ = lineproto.AppendPoint(body, generated.At(i), tsengine.LineOptions)
	}
	var batch lineproto.Batch
	require.NoError(b, lineproto.Parse(body, lineproto.ParseOptions{}, &batch))
	run := func(name string, convert func() []models.Point) {
		for _, read := range []bool{false, true} {
			if read {
				name += "+read"
			}
			b.Run(name, func(b *testing.B) {
				b.SetBytes(int64(len(body)))
				b.ReportAllocs()
				for i := 0; i < b.N; i++ {
					pts := convert()
					if len(pts) != n {
						b.Fatal(len(pts))
					}
					if read {
						readFields(b, pts)
					}
				}
				b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "points/s")
			})
		}
	}
	run("BatchPoints", func() []models.Point {
		var d dropTally
		pts, _ := toModelPoints(&batch, &d, nil)
		return pts
	})
	sc := new(convScratch)
	run("BatchPointsPooled", func() []models.Point {
		var d dropTally
		pts, _ := toModelPoints(&batch, &d, sc)
		return pts
	})
	run("Binary", func() []models.Point {
		var buf []byte
		slab := newPointSlab(n)
		pts := make([]models.Point, 0, n)
		for i := 0; i < batch.Len(); i++ {
			pt, out, err := fastPoint(buf, batch.At(i), slab)
			if err != nil || pt == nil {
				b.Fatal(err)
			}
			buf = out
			pts = append(pts, pt)
		}
		return pts
	})
	run("PrintAndParse", func() []models.Point {
		pts, _ := parseModelPoints(&batch)
		return pts
	})
	run("NewPoint", func() []models.Point {
		pts, err := newPointConvert(&batch)
		if err != nil {
			b.Fatal(err)
		}
		return pts
	})
}

// readFields reads every field of pts as tsm1's WritePointsWithContext
// does.
func readFields(b *testing.B, pts []models.Point) {
	for _, p := range pts {
		_ = p.Key()
		_ = p.Time()
		it := p.FieldIterator()
		for it.Next() {
			_ = it.FieldKey()
			var err error
			switch it.Type() {
			case models.Float:
				_, err = it.FloatValue()
			case models.Integer:
				_, err = it.IntegerValue()
			case models.String:
				_ = it.StringValue()
			case models.Boolean:
				_, err = it.BooleanValue()
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	}
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
