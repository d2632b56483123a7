package embedded

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/kodo-project/kodo/storage/tsengine"
)

// A full disk, and how the engine keeps its promises through one.
//
// InfluxDB 1.8 writes a batch into a shard's in-memory cache first and its
// WAL second (tsm1.Engine.WritePoints). When the WAL write fails for lack
// of space, the points stay in the cache, readable though never durable,
// and are gone after a restart. The WAL's buffered writer keeps the error
// for good, so the shard fails every later write until a restart, and the
// failed write may leave a partial entry at the end of the segment; at the
// next open the WAL appends after that entry while the cache loader
// truncates the file under it, so what is written next lands past the end
// and is lost at the open after that.
//
// So the engine:
//   - refuses a write up front, with tsengine.ErrDiskFull, while the free
//     space of its directories is under Options.MinFreeBytes: the usual
//     case never reaches InfluxDB's failure at all;
//   - when InfluxDB still fails for lack of space (the disk filled between
//     the check and the write, or another process filled it), answers
//     ErrDiskFull and reopens its data store before answering: the reopen
//     rebuilds every cache from the WAL, which drops the failed write's
//     points, and gives each shard a fresh WAL writer. A store that cannot
//     reopen yet is reopened by the next call once there is space;
//   - cuts a partial entry off the end of every WAL segment before the
//     store opens (here and at Open), so no later write lands after one.
//
// Between the failed WAL write and the reopen (a few milliseconds, under
// the engine's exclusive lock once the failing call has left), a
// concurrent query can still see the failed points; after it, nothing
// that got an error is visible, and nothing acknowledged is lost.

// isDiskFull reports whether err comes from a full disk. InfluxDB formats
// most I/O errors with %v, so the text is all that is left of the errno.
func isDiskFull(err error) bool {
	return err != nil && (errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) ||
		strings.Contains(err.Error(), "no space left on device") || strings.Contains(err.Error(), "disk quota exceeded"))
}

// isTooManyFiles reports whether err comes from the open-file limit.
func isTooManyFiles(err error) bool {
	return err != nil && (errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) ||
		strings.Contains(err.Error(), "too many open files"))
}

// faultError maps a machine fault onto its tsengine error, else nil.
func faultError(doing string, err error) error {
	switch {
	case isDiskFull(err):
		return fmt.Errorf("%w: %s: %v", tsengine.ErrDiskFull, doing, err)
	case isTooManyFiles(err):
		return fmt.Errorf("%w: %s: %v", tsengine.ErrTooManyOpenFiles, doing, err)
	}
	return nil
}

// checkSpace refuses when the free space of the data or WAL directory is
// under the reserve.
func (e *Engine) checkSpace() error {
	if e.minFree <= 0 {
		return nil
	}
	for _, d := range []string{e.walDir, e.dataDir} {
		free, err := freeBytes(d)
		if err != nil {
			continue // unknown: the engine's own errors still catch a full disk
		}
		if free < e.minFree {
			return fmt.Errorf("%w: %s has %d MiB free, under the %d MiB kept in reserve so writes never fail half-way; writes resume once space is freed",
				tsengine.ErrDiskFull, d, free>>20, e.minFree>>20)
		}
	}
	return nil
}

// recoverStore reopens the data store after InfluxDB failed for lack of
// space (see above). It takes the engine's exclusive lock: the caller must
// not hold it. It returns nil once the store is open and sound; on an
// error the store is closed (storeDown) and the next call tries again.
// Opening needs next to no space (it reads), so this works on a full disk
// too, and the failed points leave the cache at once.
func (e *Engine) recoverStore() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.reopen.Load() || e.closed {
		return nil
	}
	if !e.storeDown {
		e.shardsBefore = map[uint64]struct{ db, rp string }{}
		for _, id := range e.store.ShardIDs() {
			if sh := e.store.Shard(id); sh != nil {
				e.shardsBefore[id] = struct{ db, rp string }{sh.Database(), sh.RetentionPolicy()}
			}
		}
		if err := e.store.Close(); err != nil {
			e.log.Warn("closing the data store to recover from a full disk", "err", err)
		}
		e.storeDown = true
		if err := repairWAL(e.walDir, e.log.Warn); err != nil {
			e.log.Warn("repairing WAL segments", "err", err)
		}
	}
	if err := e.store.Open(); err != nil {
		if f := faultError("reopening the data store", err); f != nil {
			return f
		}
		return fmt.Errorf("%w: embedded: reopening the data store after a full disk: %v", tsengine.ErrUnavailable, err)
	}
	// The store skips a shard that fails to open: open each again by
	// itself, so none is silently missing from reads.
	for id, w := range e.shardsBefore {
		if e.store.Shard(id) != nil {
			continue
		}
		if err := e.store.CreateShard(w.db, w.rp, id, true); err != nil {
			if f := faultError(fmt.Sprintf("reopening shard %d", id), err); f != nil {
				return f
			}
			return fmt.Errorf("%w: embedded: reopening shard %d after a full disk: %v", tsengine.ErrUnavailable, id, err)
		}
	}
	e.storeDown = false
	e.reopen.Store(false)
	e.forgetGuards() // the shards were reopened from disk
	e.useMu.Lock()
	clear(e.closedShards) // the store opened every shard
	e.useMu.Unlock()
	e.log.Warn("data store reopened after a full disk; writes that failed were dropped, acknowledged ones kept")
	return nil
}

// enterSound is enter, after an attempt to recover a store a full disk
// broke. When that fails, calls still go to the old store as long as it
// is open (reads work; writes are refused by the space check).
func (e *Engine) enterSound() error {
	if e.reopen.Load() {
		if err := e.recoverStore(); err != nil {
			e.mu.RLock()
			down := e.storeDown
			e.mu.RUnlock()
			if down {
				return err
			}
		}
	}
	return e.enter()
}

// walEntryTypes are tsm1's WAL entry types (write, delete, delete range).
const minWALEntryType, maxWALEntryType = 0x01, 0x03

// repairWAL cuts a partial or garbage entry off the end of the newest
// segment of every shard WAL under walDir (db/rp/shard/_NNNNN.wal). Only
// the newest is appended to; the framing (type byte, length) is enough to
// find the end of the last whole entry without decoding any.
func repairWAL(walDir string, warn func(string, ...any)) error {
	shards, err := filepath.Glob(filepath.Join(walDir, "*", "*", "*"))
	if err != nil {
		return err
	}
	var errs []error
	for _, sh := range shards {
		segs, err := filepath.Glob(filepath.Join(sh, "_*.wal"))
		if err != nil || len(segs) == 0 {
			continue
		}
		last := segs[len(segs)-1] // names sort by segment id (zero-padded)
		cut, size, err := walValidLength(last)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if cut < size {
			warn("WAL segment ends in a partial entry (a write failed mid-way); cutting it off", "path", last, "size", size, "valid", cut)
			if err := os.Truncate(last, cut); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// walValidLength is the length of the run of whole entries at the start
// of a WAL segment, and the segment's size.
func walValidLength(path string) (valid, size int64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, 0, err
	}
	size = st.Size()
	var hdr [5]byte
	for valid+5 <= size {
		if _, err := f.ReadAt(hdr[:], valid); err != nil && err != io.EOF {
			return 0, 0, err
		}
		n := int64(binary.BigEndian.Uint32(hdr[1:]))
		if hdr[0] < minWALEntryType || hdr[0] > maxWALEntryType || n == 0 || valid+5+n > size {
			break
		}
		valid += 5 + n
	}
	return valid, size, nil
}
