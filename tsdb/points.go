package tsdb

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/influxdata/line-protocol/v2/lineprotocol"

	"github.com/kodo-project/kodo/lineproto"
	"github.com/kodo-project/kodo/storage/tsengine"
	"github.com/kodo-project/kodo/tsdb/tsdbapi"
)

var batchPool = sync.Pool{New: func() any { return new(lineproto.Batch) }}

// retentionReason is the engine's PartialWriteError reason for points
// outside their retention policy.
const retentionReason = "points beyond retention policy"

// writePoints stores a line-protocol body. Every measurement must be a
// series of the repo; the body is refused as a whole otherwise, and
// nothing is acknowledged before the engine has it durably.
func (s *Service) writePoints(ctx context.Context, ak, repo string, body []byte) error {
	if _, err := s.loadRepo(ctx, ak, repo, false); err != nil {
		return err
	}
	b := batchPool.Get().(*lineproto.Batch)
	b.Reset()
	defer batchPool.Put(b)
	err := lineproto.Parse(body, lineproto.ParseOptions{Now: s.now(), Limits: s.cfg.LineLimits, MaxFuture: s.cfg.MaxFuture}, b)
	if err != nil {
		var pe *lineproto.PartialError
		var de *lineproto.DecodeError
		switch {
		case errors.As(err, &pe):
			return tsdbapi.Errorf(tsdbapi.CodeBadRequest, "line protocol: %v; nothing was written", pe)
		case errors.As(err, &de):
			e := tsdbapi.Errorf(tsdbapi.CodeBadRequest, "line protocol: %v; nothing was written", de)
			if de.Limit != "" {
				e.Status = 413
			}
			return e
		}
		return tsdbapi.Errorf(tsdbapi.CodeBadRequest, "line protocol: %v", err)
	}
	if b.Len() == 0 {
		return tsdbapi.Errorf(tsdbapi.CodeBadRequest, "the body holds no point")
	}
	widenNumbers(b)
	list, err := s.cfg.Store.PandoraSeriesList(ctx, ak, repo)
	if err != nil {
		return fmt.Errorf("listing series: %w", err)
	}
	byName := make(map[string]*Series, len(list))
	for i := range list {
		byName[list[i].Name] = &list[i]
	}
	// rpOf[i] is the RP of point i; most bodies use one RP, then the batch
	// goes to the engine as it is.
	rpOf := make([]string, b.Len())
	var missing, deleting []string
	rps := map[string]bool{}
	for i := 0; i < b.Len(); i++ {
		m := b.At(i).Measurement
		se := byName[string(m)]
		switch {
		case se == nil:
			missing = appendOnce(missing, string(m))
		case se.Deleting:
			deleting = appendOnce(deleting, se.Name)
		default:
			rpOf[i] = RPName(se.Retention)
			rps[rpOf[i]] = true
		}
	}
	if len(missing) > 0 {
		return tsdbapi.Errorf(tsdbapi.CodeSeriesNotFound, "%s in repo %q (create the series first); nothing was written", nameList(missing), repo)
	}
	if len(deleting) > 0 {
		return tsdbapi.Errorf(tsdbapi.CodeSeriesDeleting, "%s; nothing was written", nameList(deleting))
	}
	db := DatabaseName(ak, repo)
	var res struct{ Dropped int }
	var reasons []string
	write := func(rp string, part *lineproto.Batch) error {
		err := s.cfg.Engine.WritePoints(ctx, db, rp, part)
		var pwe *tsengine.PartialWriteError
		switch {
		case err == nil:
		case errors.As(err, &pwe):
			res.Dropped += pwe.Dropped
			reasons = append(reasons, pwe.Reason)
		case err != nil && strings.Contains(err.Error(), "field type conflict"):
			// Some engines report a conflict inside one body as a plain
			// error rather than a PartialWriteError; it is still the
			// writer's to fix.
			return tsdbapi.Errorf(tsdbapi.CodeBadRequest, "%v", err)
		case errors.Is(err, tsengine.ErrDatabaseNotFound), errors.Is(err, tsengine.ErrRetentionPolicyNotFound):
			// The repo went away between the lookup and the write.
			return tsdbapi.Errorf(tsdbapi.CodeRepoDeleting, "repo %q", repo)
		default:
			return fmt.Errorf("writing points: %w", err)
		}
		return nil
	}
	if len(rps) == 1 {
		if e := write(rpOf[0], b); e != nil {
			return e
		}
	} else {
		names := make([]string, 0, len(rps))
		for rp := range rps {
			names = append(names, rp)
		}
		sort.Strings(names)
		part := batchPool.Get().(*lineproto.Batch)
		defer batchPool.Put(part)
		for _, rp := range names {
			part.Reset()
			for i := 0; i < b.Len(); i++ {
				if rpOf[i] == rp {
					if err := part.Append(b.At(i)); err != nil {
						return fmt.Errorf("splitting points by retention: %w", err)
					}
				}
			}
			if e := write(rp, part); e != nil {
				return e
			}
		}
	}
	if res.Dropped > 0 {
		// Refused by the engine: older than the series' retention (it
		// would expire at once), a field type other than the stored one,
		// a cardinality or shard limit. Each is the writer's to fix, so an
		// error, though the other points are stored (as InfluxDB does).
		reason := strings.ReplaceAll(strings.Join(reasons, "; "), retentionReason,
			"older than the series' retention")
		return tsdbapi.Errorf(tsdbapi.CodeBadRequest, "%d point(s) refused: %s (the other points were stored)", res.Dropped, reason)
	}
	return nil
}

func appendOnce(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

// nameList quotes up to five names for a message.
func nameList(names []string) string {
	const max = 5
	var sb strings.Builder
	sb.WriteString("series ")
	for i, n := range names {
		if i == max {
			fmt.Fprintf(&sb, " and %d more", len(names)-max)
			break
		}
		if i > 0 {
			sb.WriteString(", ")
		}
		fmt.Fprintf(&sb, "%q", n)
	}
	return sb.String()
}

// widenNumbers makes the integer values of a field floats when the same
// body also sends that field of that series as a float. The official SDK
// writes each Go number as it comes (its own PostPoints sample sends
// v=1i then v=2.5), while InfluxDB gives a field one type and would refuse
// the second; widening inside one request keeps every point (integers up
// to 2^53 exactly). A field already stored as an integer by an earlier
// request still refuses floats, as InfluxDB does.
func widenNumbers(b *lineproto.Batch) {
	var floats map[string]bool
	var key []byte
	sawInt := false
	for i := 0; i < b.Len(); i++ {
		p := b.At(i)
		for _, f := range p.Fields {
			switch f.Value.Kind() {
			case lineprotocol.Int:
				sawInt = true
			case lineprotocol.Float:
				key = append(append(append(key[:0], p.Measurement...), 0), f.Key...)
				if !floats[string(key)] {
					if floats == nil {
						floats = map[string]bool{}
					}
					floats[string(key)] = true
				}
			}
		}
	}
	if !sawInt || floats == nil {
		return
	}
	for i := 0; i < b.Len(); i++ {
		p := b.At(i)
		for j := range p.Fields {
			f := &p.Fields[j] // aliases the batch: the point is changed in place
			if f.Value.Kind() != lineprotocol.Int {
				continue
			}
			key = append(append(append(key[:0], p.Measurement...), 0), f.Key...)
			if floats[string(key)] {
				f.Value, _ = lineprotocol.FloatValue(float64(f.Value.IntV()))
			}
		}
	}
}
