package remote

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/influxdata/influxql"
	"github.com/influxdata/line-protocol/v2/lineprotocol"

	"github.com/kodo-project/kodo/lineproto"
)

// fieldTTL is how long the field types read from influxd are trusted
// before they are read again (another gateway, or a drop, may have
// changed them). Types this gateway writes are known at once.
const fieldTTL = time.Minute

// fieldCache keeps each database's measurement -> field -> type, as
// influxd's SHOW FIELD KEYS reports it over every shard. influxd checks a
// point's field types only against the shard it lands in, so a field
// written as a float yesterday takes an integer today and becomes
// unreadable; checking against this cache refuses that point instead.
type fieldCache struct {
	mu  sync.Mutex
	dbs map[string]map[string]*measurementFields
}

type measurementFields struct {
	types  map[string]string
	loaded time.Time
}

func kindType(k lineprotocol.ValueKind) string {
	switch k {
	case lineprotocol.Float:
		return "float"
	case lineprotocol.Int:
		return "integer"
	case lineprotocol.Uint:
		return "unsigned"
	case lineprotocol.String:
		return "string"
	case lineprotocol.Bool:
		return "boolean"
	}
	return ""
}

// checkFields marks the points of b whose field types differ from those
// the database holds (or from an earlier point of b) and returns their
// count and the distinct reasons, in InfluxDB's words. The accepted
// points' new fields are reserved at once, so concurrent writes through
// this gateway agree. When influxd cannot be asked, nothing is refused:
// the write itself reports the failure.
func (e *Engine) checkFields(ctx context.Context, db string, b *lineproto.Batch) (refused []bool, n int, reasons []string) {
	if b == nil || b.Len() == 0 {
		return nil, 0, nil
	}
	now := time.Now()
	e.fields.mu.Lock()
	meas := e.fields.dbs[db]
	var stale []string
	for i := 0; i < b.Len(); i++ {
		m := b.At(i).Measurement
		if mf := meas[string(m)]; mf == nil || now.Sub(mf.loaded) > fieldTTL {
			if !slices.Contains(stale, string(m)) {
				stale = append(stale, string(m))
			}
		}
	}
	e.fields.mu.Unlock()
	var loaded map[string]map[string]string
	if len(stale) > 0 {
		var err error
		if loaded, err = e.showFieldKeys(ctx, db, stale); err != nil {
			e.log.Debug("field types unknown; the write goes unchecked", "db", db, "err", err)
			return nil, 0, nil
		}
	}

	e.fields.mu.Lock()
	defer e.fields.mu.Unlock()
	if e.fields.dbs == nil {
		e.fields.dbs = map[string]map[string]*measurementFields{}
	}
	meas = e.fields.dbs[db]
	if meas == nil {
		meas = map[string]*measurementFields{}
		e.fields.dbs[db] = meas
	}
	for _, m := range stale {
		mf := &measurementFields{types: loaded[m], loaded: now}
		if mf.types == nil {
			mf.types = map[string]string{}
		}
		if old := meas[m]; old != nil {
			// Keep what this gateway reserved and influxd did not show yet.
			for k, t := range old.types {
				if _, ok := mf.types[k]; !ok {
					mf.types[k] = t
				}
			}
		}
		meas[m] = mf
	}
	type newField struct{ key, typ string }
	var added []newField
	for i := 0; i < b.Len(); i++ {
		p := b.At(i)
		mf := meas[string(p.Measurement)]
		if mf == nil { // forgotten meanwhile: unchecked now, read again next time
			mf = &measurementFields{types: map[string]string{}}
			meas[string(p.Measurement)] = mf
		}
		added = added[:0]
		conflict := ""
		for _, f := range p.Fields {
			typ := kindType(f.Value.Kind())
			have, ok := mf.types[string(f.Key)]
			if !ok {
				added = append(added, newField{string(f.Key), typ})
				continue
			}
			if have != typ {
				conflict = fmt.Sprintf("field type conflict: input field %q on measurement %q is type %s, already exists as type %s",
					f.Key, p.Measurement, typ, have)
				break
			}
		}
		if conflict != "" {
			if refused == nil {
				refused = make([]bool, b.Len())
			}
			refused[i] = true
			n++
			if len(reasons) < 5 && !slices.Contains(reasons, conflict) {
				reasons = append(reasons, conflict)
			}
			continue
		}
		for _, f := range added {
			mf.types[f.key] = f.typ
		}
	}
	return refused, n, reasons
}

// forgetFields drops a database's cached types (after a failed write or a
// drop), so the next write reads them again.
func (e *Engine) forgetFields(db string) {
	e.fields.mu.Lock()
	defer e.fields.mu.Unlock()
	if db == "" {
		e.fields.dbs = nil
		return
	}
	delete(e.fields.dbs, db)
}

// showFieldKeys asks influxd for the field types of measurements, in one
// statement. A field listed with several types (a conflict written before
// this check existed) keeps the first.
func (e *Engine) showFieldKeys(ctx context.Context, db string, measurements []string) (map[string]map[string]string, error) {
	quoted := make([]string, len(measurements))
	for i, m := range measurements {
		quoted[i] = influxql.QuoteIdent(m)
	}
	res, err := e.query(ctx, db, "SHOW FIELD KEYS FROM "+strings.Join(quoted, ", "), "", 0)
	if err != nil {
		return nil, err
	}
	out := map[string]map[string]string{}
	for _, r := range res {
		if r.Err != "" {
			return nil, fmt.Errorf("SHOW FIELD KEYS: %s", r.Err)
		}
		for _, row := range r.Series {
			types := out[row.Name]
			if types == nil {
				types = map[string]string{}
				out[row.Name] = types
			}
			for _, v := range row.Values {
				if len(v) < 2 {
					continue
				}
				k, _ := v[0].(string)
				t, _ := v[1].(string)
				if _, ok := types[k]; !ok && k != "" {
					types[k] = t
				}
			}
		}
	}
	return out, nil
}
