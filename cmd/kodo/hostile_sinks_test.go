package main

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// buildNSQD compiles cmd/kodo-nsqd once per test binary.
var buildNSQD = sync.OnceValues(func() (string, error) { return goBuild("../kodo-nsqd", "kodo-nsqd") })

// startClickHouse runs a ClickHouse of this test's own (Debian's
// clickhouse-server, through .ci/clickhouse.sh) so that stopping it
// disturbs no other test; it returns the DSN and the server's pid.
func startClickHouse(t *testing.T) (dsn string, pid int) {
	t.Helper()
	if _, err := exec.LookPath("clickhouse-server"); err != nil {
		if _, err := os.Stat("/usr/sbin/clickhouse-server"); err != nil {
			t.Skip("clickhouse-server is not installed; .ci/run installs Debian's")
		}
	}
	port := func() string { _, p, _ := net.SplitHostPort(freeAddr(t)); return p }
	state := filepath.Join(t.TempDir(), "clickhouse.state")
	env := append(os.Environ(), "KODO_CLICKHOUSE_TCP_PORT="+port(), "KODO_CLICKHOUSE_HTTP_PORT="+port(), "KODO_CLICKHOUSE_STATE="+state)
	cmd := exec.Command("bash", "../../.ci/clickhouse.sh", "start")
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	t.Cleanup(func() {
		stop := exec.Command("bash", "../../.ci/clickhouse.sh", "stop")
		stop.Env = env
		_ = stop.Run()
	})
	for _, line := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(line, "KODO_TEST_CLICKHOUSE_DSN="); ok {
			dsn = v
		}
	}
	st, err := os.ReadFile(state)
	require.NoError(t, err)
	for _, line := range strings.Split(string(st), "\n") {
		if v, ok := strings.CutPrefix(line, "pid="); ok {
			pid, err = strconv.Atoi(v)
			require.NoError(t, err)
		}
	}
	require.NotEmpty(t, dsn)
	require.NotZero(t, pid)
	return dsn, pid
}

// nsqdProc is a kodo-nsqd process on a fixed address and data path.
type nsqdProc struct {
	t          *testing.T
	tcp, data  string
	cmd        *exec.Cmd
	exited     chan struct{}
	httpAddr   string
	binaryPath string
}

func startNSQD(t *testing.T) *nsqdProc {
	bin, err := buildNSQD()
	require.NoError(t, err)
	n := &nsqdProc{t: t, tcp: freeAddr(t), httpAddr: freeAddr(t), data: t.TempDir(), binaryPath: bin}
	n.start()
	return n
}

func (n *nsqdProc) start() {
	n.cmd = exec.Command(n.binaryPath, "-tcp-address", n.tcp, "-http-address", n.httpAddr, "-data-path", n.data)
	n.cmd.Stderr = os.Stderr
	require.NoError(n.t, n.cmd.Start())
	n.exited = make(chan struct{})
	cmd, exited := n.cmd, n.exited
	go func() { _ = cmd.Wait(); close(exited) }()
	n.t.Cleanup(func() { _ = cmd.Process.Kill(); <-exited })
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.Dial("tcp", n.tcp)
		if err == nil {
			c.Close()
			return
		}
		require.True(n.t, time.Now().Before(deadline), "kodo-nsqd did not listen within 30s")
		time.Sleep(20 * time.Millisecond) // polling interval
	}
}

func (n *nsqdProc) kill() {
	_ = n.cmd.Process.Signal(syscall.SIGKILL)
	<-n.exited
}

// TestHostileSinkOutages writes under load through a gateway whose
// ClickHouse copy goes through an nsqd process of its own, while nsqd is
// SIGKILLed and restarted and ClickHouse is frozen (SIGSTOP) and thawed.
// Agents retry what is not acknowledged, as they do. Afterwards the
// engine holds every acknowledged point, ClickHouse holds exactly as many
// (no loss, no duplicate), and ingest went on while ClickHouse was frozen.
func TestHostileSinkOutages(t *testing.T) {
	if testing.Short() {
		t.Skip("starts ClickHouse, nsqd and the gateway")
	}
	dsn, chPID := startClickHouse(t)
	nsqd := startNSQD(t)
	p := startProc(t, t.TempDir(), "-clickhouse-dsn", dsn, "-nsqd-address", nsqd.tcp)
	w := p.Watch()
	ws := p.CreateWorkspace()

	const perBatch = 100
	var acked atomic.Int64
	var frozen atomic.Bool
	var ackedWhileFrozen atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	base := time.Now().Add(-time.Hour).UnixNano()
	var seq atomic.Int64
	for range 3 {
		load(&wg, stop, func(int) bool {
			b := seq.Add(1)
			var lines strings.Builder
			for i := 0; i < perBatch; i++ {
				fmt.Fprintf(&lines, "sink,host=h%d v=%di %d\n", i%10, b, base+b*perBatch+int64(i))
			}
			// An agent retries until the gateway acknowledges; a retry
			// of a batch the engine already has adds nothing.
			for attempt := 0; ; attempt++ {
				a := p.WriteLines(ws, lines.String(), true)
				if a.Status == 200 {
					acked.Add(perBatch)
					if frozen.Load() {
						ackedWhileFrozen.Add(perBatch)
					}
					return true
				}
				require.Contains(t, []int{429, 503}, a.Status, "only capacity answers while sinks fail: %s", a)
				require.Less(t, attempt, 600, "a batch was never acknowledged")
				time.Sleep(50 * time.Millisecond) // an agent's pause before its retry, not synchronisation
			}
		})
	}
	// The fault timeline. The sleeps are how long a fault lasts under
	// load, not synchronisation; a phase that must see writes acknowledged
	// waits for them.
	ackedAtLeast := func(what string, n int64, counter *atomic.Int64) {
		require.Eventually(t, func() bool { return counter.Load() >= n }, time.Minute, 20*time.Millisecond, what)
	}
	ackedAtLeast("writes acknowledged before the faults", 3*perBatch, &acked)
	nsqd.kill()
	time.Sleep(time.Second) // nsqd is down for a second
	nsqd.start()
	ackedAtLeast("writes acknowledged after nsqd came back", acked.Load()+3*perBatch, &acked)
	require.NoError(t, syscall.Kill(chPID, syscall.SIGSTOP))
	frozen.Store(true)
	time.Sleep(2 * time.Second) // ClickHouse is frozen for at least two seconds
	ackedAtLeast("writes acknowledged while ClickHouse is frozen", perBatch, &ackedWhileFrozen)
	frozen.Store(false)
	require.NoError(t, syscall.Kill(chPID, syscall.SIGCONT))
	ackedAtLeast("writes acknowledged after ClickHouse thawed", acked.Load()+3*perBatch, &acked)
	close(stop)
	wg.Wait()

	want := acked.Load()
	require.Positive(t, want)
	assert.Equal(t, want, p.Count(ws, "sink", "v"), "the engine holds every acknowledged point")

	ckCount := func() int64 { return p.ClickHouseCount(ws, "sink") }
	deadline := time.Now().Add(90 * time.Second)
	got := ckCount()
	for got != want && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond) // polling interval
		got = ckCount()
	}
	assert.Equal(t, want, got, "ClickHouse holds each acknowledged point once")
	t.Logf("%d points acknowledged (%d while ClickHouse was frozen); ClickHouse count %d", want, ackedWhileFrozen.Load(), got)
	assertBounded(t, w, 1<<30, 1000)
}

// TestIndexerProcess runs the sink consumer as a process of its own: a
// gateway (-role gateway) publishes to an nsqd process, an indexer (-role
// indexer) consumes and writes ClickHouse, and the copy ends equal to the
// engine. The indexer serves no API.
func TestIndexerProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("starts ClickHouse, nsqd, a gateway and an indexer")
	}
	dsn, _ := startClickHouse(t)
	nsqd := startNSQD(t)
	gw := startProc(t, t.TempDir(), "-role", "gateway", "-clickhouse-dsn", dsn, "-nsqd-address", nsqd.tcp)
	ix := startProc(t, t.TempDir(), "-role", "indexer", "-clickhouse-dsn", dsn, "-nsqd-address", nsqd.tcp)
	ws := gw.CreateWorkspace()
	base := time.Now().Add(-time.Hour).UnixNano()
	for b := 0; b < 20; b++ {
		var lines strings.Builder
		for i := 0; i < 100; i++ {
			fmt.Fprintf(&lines, "idx,host=h%d v=%di %d\n", i%5, b, base+int64(b*100+i))
		}
		a := gw.WriteLines(ws, lines.String(), true)
		require.Equal(t, 200, a.Status, a.String())
	}
	a := ix.Influx(ws, "POST", "/v1/write/metrics", nil, strings.NewReader("x v=1"), "text/plain")
	assert.Equal(t, 404, a.Status, "an indexer serves no API: %s", a)

	count := func() int64 { return gw.ClickHouseCount(ws, "idx") }
	assert.Eventually(t, func() bool { return count() == 2000 }, time.Minute, 100*time.Millisecond, "the indexer wrote what the gateway published")
	assert.EqualValues(t, 2000, gw.Count(ws, "idx", "v"))
}

// ClickHouseCount answers SELECT count() FROM table in the workspace's
// ClickHouse database through /v1/ck/read/metrics; -1 while the table is
// not there.
func (p *proc) ClickHouseCount(ws testWorkspace, table string) int64 {
	p.t.Helper()
	raw, _ := json.Marshal([]map[string]any{{"db_uuid": ws.DBUUID, "command": "SELECT count() FROM " + table}})
	a := p.Influx(ws, "POST", "/v1/ck/read/metrics", nil, strings.NewReader(string(raw)), "application/json")
	if a.Status != 200 {
		return -1
	}
	var env struct {
		Content struct {
			Series []struct {
				Values [][]any `json:"values"`
			} `json:"Series"`
		} `json:"content"`
	}
	require.NoError(p.t, json.Unmarshal([]byte(a.Body), &env))
	n, _ := env.Content.Series[0].Values[0][0].(float64)
	return int64(n)
}
