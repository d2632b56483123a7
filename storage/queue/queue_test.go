package queue

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEncodeDecode(t *testing.T) {
	m := Message{Op: OpWrite, DB: "db_1", Lines: []byte("cpu v=1 1\n")}
	b, err := Encode(m)
	require.NoError(t, err)
	got, err := Decode(b)
	require.NoError(t, err)
	assert.Equal(t, m, got)
	for _, bad := range []string{"", "cpu v=1 1\n", magic + "{", magic + `{"op":"x","db":"d"}` + "\n", magic + `{"op":"write"}` + "\n"} {
		_, err := Decode([]byte(bad))
		assert.Error(t, err, "%q", bad)
	}
	_, err = Encode(Message{Op: OpWrite})
	assert.Error(t, err)
}

// fakeSink records what it applies and fails while down is set.
type fakeSink struct {
	mu    sync.Mutex
	down  bool
	lines []string
	drops []string
}

func (f *fakeSink) WritePoints(_ context.Context, db string, lines []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return errors.New("sink down")
	}
	f.lines = append(f.lines, db+":"+string(lines))
	return nil
}

func (f *fakeSink) DropMeasurement(_ context.Context, db, m string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return errors.New("sink down")
	}
	f.drops = append(f.drops, db+"."+m)
	return nil
}

// apply is the fake sink's Apply.
func (f *fakeSink) apply(ctx context.Context, m Message) error {
	switch m.Op {
	case OpWrite:
		return f.WritePoints(ctx, m.DB, m.Lines)
	case OpDropMeasurement:
		return f.DropMeasurement(ctx, m.DB, m.Measurement)
	}
	return errors.New("unexpected op " + string(m.Op))
}

func (f *fakeSink) snapshot() ([]string, []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.lines...), append([]string(nil), f.drops...)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	require.Eventually(t, cond, 30*time.Second, 20*time.Millisecond, "timed out waiting for %s", what)
}

// TestThroughNSQD publishes to a real nsqd running in-process, with the
// sink down at first: nothing is lost, the messages arrive once the sink
// is back, and they survive a restart of nsqd on the same data.
func TestThroughNSQD(t *testing.T) {
	dir := t.TempDir()
	d, err := StartDaemon(dir, nil)
	require.NoError(t, err)
	pub, err := NewPublisher(d.Addr(), nil)
	require.NoError(t, err)
	ctx := context.Background()
	for i := range 3 {
		require.NoError(t, pub.Publish(ctx, "metrics", Message{Op: OpWrite, DB: "db", Lines: []byte{byte('a' + i)}}))
	}
	pub.Close()
	// nsqd restarts before any consumer came: the queue is on disk.
	require.NoError(t, d.Close())
	d, err = StartDaemon(dir, nil)
	require.NoError(t, err)
	defer d.Close()

	sink := &fakeSink{down: true}
	c, err := NewConsumer("metrics", "test", sink.apply, ConsumerOptions{NSQDAddrs: []string{d.Addr()}, Concurrency: 1})
	require.NoError(t, err)
	defer c.Close()
	pub, err = NewPublisher(d.Addr(), nil)
	require.NoError(t, err)
	defer pub.Close()
	require.NoError(t, pub.Publish(ctx, "metrics", Message{Op: OpDropMeasurement, DB: "db", Measurement: "cpu"}))
	sink.mu.Lock()
	sink.down = false
	sink.mu.Unlock()
	waitFor(t, "every message applied", func() bool {
		lines, drops := sink.snapshot()
		return len(lines) == 3 && len(drops) == 1
	})
	lines, drops := sink.snapshot()
	assert.ElementsMatch(t, []string{"db:a", "db:b", "db:c"}, lines)
	assert.Equal(t, []string{"db.cpu"}, drops)
}

func TestPublishUnavailable(t *testing.T) {
	pub, err := NewPublisher("127.0.0.1:1", nil)
	require.NoError(t, err)
	defer pub.Close()
	err = pub.Publish(context.Background(), "metrics", Message{Op: OpWrite, DB: "db"})
	assert.ErrorIs(t, err, ErrUnavailable)
}
