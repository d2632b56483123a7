package kodo

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// /v1/tscnt counts the series of the last minutes; without this the count
// starts from zero at every restart. The sketches of the window are saved
// under the data dir every seriesSaveInterval and at shutdown, and loaded
// at start: a restart keeps the window, a crash loses at most one interval.
// Each gateway replica counts what it saw, so the file is per data dir,
// not in the shared metadata store.

const (
	seriesStateFile    = "tscnt.state"
	seriesSaveInterval = 30 * time.Second
)

var seriesMagic = [8]byte{'K', 'O', 'D', 'O', 'T', 'S', 'C', '1'}

func randomSeed() uint64 {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand never fails on Linux
	return binary.LittleEndian.Uint64(b[:])
}

// save writes the sketches still in the window to path, atomically.
func (c *seriesCounter) save(path string) error {
	cur := c.now().UnixNano() / int64(c.slot)
	var buf bytes.Buffer
	buf.Write(seriesMagic[:])
	_ = binary.Write(&buf, binary.LittleEndian, c.seed)
	_ = binary.Write(&buf, binary.LittleEndian, int64(c.slot))
	c.mu.RLock()
	names := make([]string, 0, len(c.dbs))
	sketches := make([]*dbSketch, 0, len(c.dbs))
	for name, d := range c.dbs {
		names = append(names, name)
		sketches = append(sketches, d)
	}
	c.mu.RUnlock()
	for i, d := range sketches {
		d.mu.Lock()
		var live []int
		for j, s := range d.slot {
			if s >= 0 && s > cur-c.slots-1 && s <= cur {
				live = append(live, j)
			}
		}
		if len(live) > 0 && len(names[i]) <= 0xffff {
			_ = binary.Write(&buf, binary.LittleEndian, uint16(len(names[i])))
			buf.WriteString(names[i])
			buf.WriteByte(byte(len(live)))
			for _, j := range live {
				_ = binary.Write(&buf, binary.LittleEndian, d.slot[j])
				buf.Write(d.count[j][:])
			}
		}
		d.mu.Unlock()
	}
	return writeFileAtomic(path, buf.Bytes())
}

// load reads a file written by save; a missing file is a fresh start.
// Sketches already out of the window are skipped.
func (c *seriesCounter) load(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	r := bufio.NewReader(f)
	var magic [8]byte
	var seed uint64
	var slot int64
	if _, err := io.ReadFull(r, magic[:]); err != nil || magic != seriesMagic {
		return fmt.Errorf("%s: not a series-count state file", path)
	}
	if err := binary.Read(r, binary.LittleEndian, &seed); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := binary.Read(r, binary.LittleEndian, &slot); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if time.Duration(slot) != c.slot {
		return fmt.Errorf("%s: slot of %s, want %s", path, time.Duration(slot), c.slot)
	}
	cur := c.now().UnixNano() / int64(c.slot)
	dbs := map[string]*dbSketch{}
	for {
		var n uint16
		if err := binary.Read(r, binary.LittleEndian, &n); err == io.EOF {
			break
		} else if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		name := make([]byte, n)
		if _, err := io.ReadFull(r, name); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		k, err := r.ReadByte()
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		d := &dbSketch{}
		for i := range d.slot {
			d.slot[i] = -1
		}
		for range int(k) {
			var s int64
			var h hll
			if err := binary.Read(r, binary.LittleEndian, &s); err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			if _, err := io.ReadFull(r, h[:]); err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			if s > cur-c.slots-1 && s <= cur && s >= 0 {
				d.slot[s%maxSlots], d.count[s%maxSlots] = s, h
			}
		}
		dbs[string(name)] = d
	}
	c.mu.Lock()
	c.seed, c.dbs = seed, dbs
	c.mu.Unlock()
	return nil
}

// persist saves the sketches every seriesSaveInterval until ctx ends,
// then once more.
func (c *seriesCounter) persist(ctx context.Context, path string, logf func(error)) {
	t := time.NewTicker(seriesSaveInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			if err := c.save(path); err != nil {
				logf(err)
			}
		case <-ctx.Done():
			if err := c.save(path); err != nil {
				logf(err)
			}
			return
		}
	}
}

// writeFileAtomic replaces path with data: a crash leaves the old file or
// the new one, never a torn one.
func writeFileAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// startSeriesPersistence loads the saved window and saves it periodically.
func (s *service) startSeriesPersistence() {
	path := filepath.Join(s.opts.DataDir, seriesStateFile)
	if err := s.series.load(path); err != nil {
		s.log.Warn("series counts start from zero: the saved state is unreadable", "err", err)
	}
	ctx, stop := context.WithCancel(context.Background())
	s.seriesStop, s.seriesDone = stop, make(chan struct{})
	go func() {
		defer close(s.seriesDone)
		s.series.persist(ctx, path, func(err error) { s.log.Warn("saving series counts", "path", path, "err", err) })
	}()
}

// stopSeriesPersistence saves a last time; it waits no longer than ctx.
func (s *service) stopSeriesPersistence(ctx context.Context) {
	if s.seriesStop == nil {
		return
	}
	s.seriesStop()
	select {
	case <-s.seriesDone:
	case <-ctx.Done():
	}
}
