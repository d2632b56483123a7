package lineproto

import (
	"github.com/influxdata/line-protocol/v2/lineprotocol"
)

// Tag is one tag of a point. Key and Value alias the Batch's arena: they are
// valid until the Batch is Reset and must not be modified.
type Tag struct {
	Key, Value []byte
}

// Field is one field of a point. Key and string values alias the Batch's
// arena, as for Tag.
type Field struct {
	Key   []byte
	Value lineprotocol.Value
	// Text is a float value as its line spelled it (e.g. "12.50"), set by
	// Parse only and aliasing the arena: an encoder that feeds a parser
	// may copy it rather than format Value again, since parsing it gives
	// Value back exactly. nil for every other value and for points added
	// with Append or AddPoint.
	Text []byte
}

// Point is a view of one point held by a Batch. Time is in nanoseconds
// since the Unix epoch, whatever precision the body was written in.
type Point struct {
	Measurement []byte
	Tags        []Tag // sorted by key, no duplicate keys
	Fields      []Field
	Time        int64
}

// pointRec locates one point inside a Batch's shared slices, so a Batch of
// any size costs a handful of allocations that are reused after Reset.
type pointRec struct {
	measurement          []byte // aliases an arena chunk
	tagStart, tagEnd     int
	fieldStart, fieldEnd int
	time                 int64
}

// Batch holds decoded points. The zero value is ready to use; Reset keeps
// its buffers so a pooled Batch parses the next body without allocating.
//
// Bytes live in an arena made of chunks that are never reallocated: when a
// chunk is full a bigger one is started, so slices handed out earlier stay
// valid without fix-ups, and Reset merges the chunks into one sized for the
// whole previous batch. A Batch is not safe for concurrent mutation;
// concurrent At calls are fine.
type Batch struct {
	arena   []byte // current chunk; only appended to within its capacity
	spilled int    // bytes used in earlier, full chunks since the last Reset
	points  []pointRec
	tags    []Tag
	fields  []Field
	order   []int32 // scratch for de-duplicating many fields
	tagPos  []int32 // scratch: offset in its line of each tag being parsed
}

// Len reports the number of points in the batch.
func (b *Batch) Len() int { return len(b.points) }

// At returns the i'th point. The returned slices alias the batch.
func (b *Batch) At(i int) Point {
	r := &b.points[i]
	return Point{
		Measurement: r.measurement,
		Tags:        b.tags[r.tagStart:r.tagEnd:r.tagEnd],
		Fields:      b.fields[r.fieldStart:r.fieldEnd:r.fieldEnd],
		Time:        r.time,
	}
}

// Reset empties the batch and keeps its memory.
func (b *Batch) Reset() {
	if b.spilled > 0 {
		// The last batch needed several chunks: start the next one with a
		// single chunk big enough for all of it, and drop every reference
		// to the old chunks so they can be collected.
		b.arena = make([]byte, 0, b.spilled+cap(b.arena))
		b.spilled = 0
		clear(b.points[:cap(b.points)])
		clear(b.tags[:cap(b.tags)])
		clear(b.fields[:cap(b.fields)])
	}
	b.arena = b.arena[:0]
	b.points = b.points[:0]
	b.tags = b.tags[:0]
	b.fields = b.fields[:0]
}

// reserve makes sure the current chunk has room for n more bytes.
func (b *Batch) reserve(n int) {
	if cap(b.arena)-len(b.arena) >= n {
		return
	}
	b.spilled += len(b.arena)
	b.arena = make([]byte, 0, max(2*cap(b.arena), 4096, n))
}

// copyBytes copies s into the arena, which must have room (see reserve),
// and returns the copy.
func (b *Batch) copyBytes(s []byte) []byte {
	off := len(b.arena)
	b.arena = append(b.arena, s...)
	return b.arena[off:len(b.arena):len(b.arena)]
}

// truncate drops everything added after the given lengths; used to undo
// a point that failed validation.
func (b *Batch) truncate(points, tags, fields int) {
	b.points = b.points[:points]
	b.tags = b.tags[:tags]
	b.fields = b.fields[:fields]
}
