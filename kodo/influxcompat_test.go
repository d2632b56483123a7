package kodo_test

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	client "github.com/influxdata/influxdb1-client/v2"
	"github.com/kodo-project/kodo/internal/testkit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestInfluxPing(t *testing.T) {
	h := newHarness(t)
	for _, m := range []string{http.MethodGet, http.MethodHead} {
		req, _ := http.NewRequest(m, h.ts.URL+"/ping", nil)
		resp, err := h.ts.Client().Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, 204, resp.StatusCode)
		assert.Equal(t, "1.8.10", resp.Header.Get("X-Influxdb-Version"))
		assert.NotEmpty(t, resp.Header.Get("X-Influxdb-Build"))
	}
}

// TestInfluxOfficialClient drives /write and /query with the official
// InfluxDB 1.x Go client.
func TestInfluxOfficialClient(t *testing.T) {
	h := newHarness(t)
	ws := h.createWorkspace()
	other := h.createWorkspace()

	c, err := client.NewHTTPClient(client.HTTPConfig{Addr: h.ts.URL, Username: "agent", Password: ws.Token})
	require.NoError(t, err)
	defer c.Close()
	_, version, err := c.Ping(5 * time.Second)
	require.NoError(t, err)
	assert.Equal(t, "1.8.10", version)

	bp, err := client.NewBatchPoints(client.BatchPointsConfig{Database: ws.DB, Precision: "s"})
	require.NoError(t, err)
	now := time.Now().Add(-time.Minute).Truncate(time.Second)
	for i := 0; i < 5; i++ {
		p, err := client.NewPoint("cpu", map[string]string{"host": "h" + strconv.Itoa(i)}, map[string]any{"usage": float64(i), "n": i}, now)
		require.NoError(t, err)
		bp.AddPoint(p)
	}
	require.NoError(t, c.Write(bp))

	resp, err := c.Query(client.NewQuery("SELECT sum(usage), count(n) FROM cpu", ws.DB, "ms"))
	require.NoError(t, err)
	require.NoError(t, resp.Error())
	require.Len(t, resp.Results, 1)
	require.Len(t, resp.Results[0].Series, 1)
	assert.Equal(t, []string{"time", "sum", "count"}, resp.Results[0].Series[0].Columns)
	assert.Equal(t, "10", fmt.Sprint(resp.Results[0].Series[0].Values[0][1]))
	assert.Equal(t, "5", fmt.Sprint(resp.Results[0].Series[0].Values[0][2]))

	// RFC3339 times without epoch.
	resp, err = c.Query(client.NewQuery("SELECT usage FROM cpu WHERE host = 'h1'", ws.DB, ""))
	require.NoError(t, err)
	require.NoError(t, resp.Error())
	assert.Equal(t, now.UTC().Format(time.RFC3339), resp.Results[0].Series[0].Values[0][0])

	// The token's own database only.
	err = queryErr(c.Query(client.NewQuery("SELECT * FROM cpu", other.DB, "")))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "not this token's database")
	bp2, _ := client.NewBatchPoints(client.BatchPointsConfig{Database: other.DB})
	p, _ := client.NewPoint("cpu", nil, map[string]any{"v": 1}, now)
	bp2.AddPoint(p)
	require.Error(t, c.Write(bp2))

	// A wrong token is refused.
	bad, _ := client.NewHTTPClient(client.HTTPConfig{Addr: h.ts.URL, Username: "agent", Password: "tkn_nope"})
	defer bad.Close()
	err = queryErr(bad.Query(client.NewQuery("SELECT * FROM cpu", ws.DB, "")))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "authorization failed")

	// Queries that leave the database are refused before the engine.
	err = queryErr(c.Query(client.NewQuery("SELECT * FROM "+other.DB+"..cpu", ws.DB, "")))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "names database")
}

// queryErr folds the client's two error paths (transport and answer).
func queryErr(resp *client.Response, err error) error {
	if err != nil {
		return err
	}
	return resp.Error()
}

// TestInfluxTelegrafWrite posts line protocol as Telegraf does (basic
// auth, gzip, precision) and checks it lands; /metrics shows it.
func TestInfluxTelegrafWrite(t *testing.T) {
	h := newHarness(t)
	ws := h.createWorkspace()
	ts := time.Now().Add(-time.Minute).UnixNano()
	body := fmt.Sprintf("system,host=tg load1=0.5,n_cpus=4i %d\nsystem,host=tg load1=0.7,n_cpus=4i %d\n", ts, ts+int64(time.Second))
	req, _ := http.NewRequest(http.MethodPost, h.ts.URL+"/write?db="+ws.DB+"&rp=rp1&precision=ns", strings.NewReader(string(testkit.Gzip(t, []byte(body)))))
	req.SetBasicAuth("telegraf", ws.Token)
	req.Header.Set("Content-Encoding", "gzip")
	req.Header.Set("User-Agent", "Telegraf/1.28")
	resp, err := h.ts.Client().Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 204, resp.StatusCode)

	_, _, qc := h.query(ws.DBUUID, "SELECT count(load1) FROM rp1.system")
	require.Len(t, qc.Results[0].Series, 1)
	assert.EqualValues(t, 2, qc.Results[0].Series[0].Values[0][1])

	// Bad lines: 400 with InfluxDB's error shape.
	req, _ = http.NewRequest(http.MethodPost, h.ts.URL+"/write?db="+ws.DB, strings.NewReader("system load1=\n"))
	req.Header.Set("Authorization", "Token "+ws.Token)
	resp, err = h.ts.Client().Do(req)
	require.NoError(t, err)
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, 400, resp.StatusCode)
	assert.Regexp(t, `^\{"error":"unable to parse points: .*line 1, column 14`, string(raw))

	// /metrics shows the counters moving.
	resp, err = h.ts.Client().Get(h.ts.URL + "/metrics")
	require.NoError(t, err)
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)
	assert.Regexp(t, `kodo_points_written_total\{api="influx"\} 2\b`, string(metrics))
	assert.Regexp(t, `kodo_http_requests_total\{code="204",endpoint="/write"\} 1\b`, string(metrics))
	assert.Regexp(t, `kodo_http_requests_total\{code="400",endpoint="/write"\} 1\b`, string(metrics))
	assert.Regexp(t, `kodo_rejected_lines_total 1\b`, string(metrics))
	assert.Contains(t, string(metrics), "kodo_write_duration_seconds_bucket")
}

// TestInfluxCLI drives the gateway with the real influx CLI (Debian's
// influxdb-client package, installed by .ci/run).
func TestInfluxCLI(t *testing.T) {
	bin, err := exec.LookPath("influx")
	if err != nil {
		t.Skip("influx CLI not installed (Debian package influxdb-client; .ci/run installs it)")
	}
	h := newHarness(t)
	ws := h.createWorkspace()
	other := h.createWorkspace()
	u, _ := url.Parse(h.ts.URL)
	cli := func(db, cmd string) (string, error) {
		out, err := exec.Command(bin, "-host", u.Hostname(), "-port", u.Port(), "-username", "cli", "-password", ws.Token,
			"-database", db, "-precision", "rfc3339", "-execute", cmd).CombinedOutput()
		return string(out), err
	}
	out, err := cli(ws.DB, "INSERT cpu,host=cli value=42")
	require.NoError(t, err, out)
	out, err = cli(ws.DB, "SELECT value FROM cpu WHERE host = 'cli'")
	require.NoError(t, err, out)
	assert.Regexp(t, regexp.MustCompile(`(?m)^\S+\s+42$`), out)
	out, err = cli(ws.DB, "SHOW DATABASES")
	require.NoError(t, err, out)
	assert.Contains(t, out, ws.DB)
	assert.NotContains(t, out, other.DB)

	out, err = cli(other.DB, "SELECT * FROM cpu")
	assert.Error(t, err, "another workspace's database is refused")
	assert.Contains(t, out, "not this token's database")
	out, err = cli(ws.DB, "SELECT * FROM "+other.DB+"..cpu")
	assert.Error(t, err)
	assert.Contains(t, out, "names database "+other.DB)
}

// TestInfluxWriteFormLabelledBody: curl --data-binary labels the body as a
// form; /write still reads it as line protocol, and /query reads q from a
// real form body.
func TestInfluxWriteFormLabelledBody(t *testing.T) {
	h := newHarness(t)
	ws := h.createWorkspace()
	req, _ := http.NewRequest(http.MethodPost, h.ts.URL+"/write?db="+ws.DB+"&u=curl&p="+ws.Token, strings.NewReader("curl,host=a v=1"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := h.ts.Client().Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 204, resp.StatusCode)

	form := url.Values{"q": {"SELECT count(v) FROM curl"}, "db": {ws.DB}, "p": {ws.Token}}
	resp, err = h.ts.Client().PostForm(h.ts.URL+"/query", form)
	require.NoError(t, err)
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode, "%s", raw)
	assert.Contains(t, string(raw), `"values":[["1970-01-01T00:00:00Z",1]]`)
}
