package kodo

import (
	"math"
	"math/bits"
	"sync"
	"time"

	"github.com/cespare/xxhash/v2"
)

// seriesCounter estimates, per database, how many distinct series were
// written in the last window (/v1/tscnt). Each database keeps one small
// HyperLogLog sketch per minute; a count merges the sketches of the window.
// Memory is fixed per database (slots x 1 KiB) and a count costs a few
// microseconds, so thousands of databases answer in milliseconds.
type seriesCounter struct {
	slot  time.Duration
	slots int64 // sketches that make up the window
	now   func() time.Time
	// seed keys the hash, so clients cannot pick keys that inflate the
	// estimate; it is saved with the sketches (seriescount_persist.go),
	// since sketches merge only under the same hash.
	seed uint64

	mu  sync.RWMutex
	dbs map[string]*dbSketch
}

const hllP = 10        // 2^10 registers: ~3% standard error
const hllM = 1 << hllP // registers per sketch
const maxSlots = 16    // upper bound on window/slot

type hll [hllM]uint8

type dbSketch struct {
	mu    sync.Mutex
	slot  [maxSlots]int64 // slot number each sketch holds (-1: empty)
	count [maxSlots]hll
}

func newSeriesCounter(window time.Duration, now func() time.Time) *seriesCounter {
	slot := time.Minute
	n := max(int64(window/slot), 1)
	if n >= maxSlots {
		n = maxSlots - 1
	}
	return &seriesCounter{slot: slot, slots: n, now: now, seed: randomSeed(), dbs: map[string]*dbSketch{}}
}

// hash is the series-key hash fed to observe.
func (c *seriesCounter) hash(seriesKey []byte) uint64 {
	var d xxhash.Digest
	d.ResetWithSeed(c.seed)
	_, _ = d.Write(seriesKey)
	return d.Sum64()
}

// observe records the hashed series keys written to db now.
func (c *seriesCounter) observe(db string, hashes []uint64) {
	if len(hashes) == 0 {
		return
	}
	c.mu.RLock()
	d := c.dbs[db]
	c.mu.RUnlock()
	if d == nil {
		c.mu.Lock()
		if d = c.dbs[db]; d == nil {
			d = &dbSketch{}
			for i := range d.slot {
				d.slot[i] = -1
			}
			c.dbs[db] = d
		}
		c.mu.Unlock()
	}
	cur := c.now().UnixNano() / int64(c.slot)
	i := cur % maxSlots
	d.mu.Lock()
	defer d.mu.Unlock()
	h := &d.count[i]
	if d.slot[i] != cur {
		*h = hll{}
		d.slot[i] = cur
	}
	for _, x := range hashes {
		idx := x >> (64 - hllP)
		rank := uint8(bits.LeadingZeros64(x<<hllP|1<<(hllP-1)) + 1)
		if rank > h[idx] {
			h[idx] = rank
		}
	}
}

// count estimates the distinct series of db within the window.
func (c *seriesCounter) count(db string) int64 {
	c.mu.RLock()
	d := c.dbs[db]
	c.mu.RUnlock()
	if d == nil {
		return 0
	}
	cur := c.now().UnixNano() / int64(c.slot)
	var merged hll
	any := false
	d.mu.Lock()
	for i := range d.slot {
		if s := d.slot[i]; s >= 0 && s > cur-c.slots-1 && s <= cur {
			any = true
			for r, v := range d.count[i] {
				if v > merged[r] {
					merged[r] = v
				}
			}
		}
	}
	d.mu.Unlock()
	if !any {
		return 0
	}
	return merged.estimate()
}

// forget drops a database's sketches (the database was dropped).
func (c *seriesCounter) forget(db string) {
	c.mu.Lock()
	delete(c.dbs, db)
	c.mu.Unlock()
}

func (h *hll) estimate() int64 {
	sum, zeros := 0.0, 0
	for _, v := range h {
		sum += math.Ldexp(1, -int(v))
		if v == 0 {
			zeros++
		}
	}
	m := float64(hllM)
	e := 0.7213 / (1 + 1.079/m) * m * m / sum
	if e <= 2.5*m && zeros > 0 {
		e = m * math.Log(m/float64(zeros)) // linear counting for small sets
	}
	return int64(math.Round(e))
}
