package loadgen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
)

// Workspace is one simulated tenant: a Kodo workspace or an InfluxDB
// database.
type Workspace struct {
	Name   string // shown in reports: the db name
	DB     string // what queries name: Kodo's db_uuid, InfluxDB's database
	Token  string // Kodo write token; empty for InfluxDB
	client *http.Client
}

// Outcome is the result of one request. Status 0 means the request did not
// get an HTTP answer; Code then names the transport failure.
type Outcome struct {
	Status  int
	Code    string // Kodo errorCode, InfluxDB error class, or transport class
	Message string // first words of the error, for the report's sample
	Rows    int    // result rows of a query (informative)
}

// OK reports a successful request.
func (o Outcome) OK() bool { return o.Status >= 200 && o.Status < 300 && o.Code == "" }

// Target is a server kodo-bench can load. Implementations must be safe
// for concurrent use by the workers.
type Target interface {
	// Name is "kodo" or "influxdb".
	Name() string
	// Setup creates n workspaces (databases) and returns them.
	Setup(ctx context.Context, n int) ([]Workspace, error)
	// Write sends one gzipped line-protocol body (ns timestamps).
	Write(ctx context.Context, ws Workspace, body []byte) Outcome
	// Query runs one InfluxQL SELECT in the workspace's database.
	Query(ctx context.Context, ws Workspace, q string) Outcome
	// Count returns the number of points of measurement in the
	// workspace's database (count(*) per field; the smallest).
	Count(ctx context.Context, ws Workspace, measurement string) (int64, error)
}

// Rewriter is the hook for the InfluxQL rewrite operation (downsampling
// and fill, /v1/rewrite): a Target that implements it can run mixes with
// rewrite=N. q is the Config.Query template, already expanded.
type Rewriter interface {
	Rewrite(ctx context.Context, ws Workspace, q string) Outcome
}

// SetupError reports a failure to prepare the target.
type SetupError struct {
	Target string
	Step   string
	Err    error
}

func (e *SetupError) Error() string {
	return fmt.Sprintf("loadgen: %s: %s: %v", e.Target, e.Step, e.Err)
}
func (e *SetupError) Unwrap() error { return e.Err }

// VerifyError reports a count(*) that could not be run.
type VerifyError struct {
	Workspace string
	Err       error
}

func (e *VerifyError) Error() string {
	return fmt.Sprintf("loadgen: verifying %s: %v", e.Workspace, e.Err)
}
func (e *VerifyError) Unwrap() error { return e.Err }

// transportOutcome classifies a request that got no HTTP answer.
func transportOutcome(err error) Outcome {
	code := "error"
	var ne net.Error
	var nl *NotLoopbackError
	switch {
	case errors.As(err, &nl):
		code = "not-loopback"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		code = "timeout"
	case errors.Is(err, context.Canceled):
		code = "canceled"
	case errors.Is(err, syscall.ECONNREFUSED):
		code = "connection-refused"
	case errors.Is(err, syscall.ECONNRESET):
		code = "connection-reset"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		code = "eof"
	}
	return Outcome{Status: 0, Code: "transport:" + code, Message: shorten(err.Error(), 200)}
}

// shorten cuts s to n bytes at most, on a rune boundary.
func shorten(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) <= n {
		return s
	}
	for n > 0 && !isRuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

// maxAnswer bounds how much of a response is read: enough for any count
// or error, while a runaway answer cannot exhaust the client.
const maxAnswer = 64 << 20

// do sends req and reads the answer whole, so the latency includes the
// body and the connection is reused.
// postGzipLines posts a gzipped line-protocol body to target, as the
// InfluxDB-style /write of every target takes it, and reads the answer.
func postGzipLines(ctx context.Context, c *http.Client, target string, body []byte, hdr http.Header) (status int, answer []byte, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "text/plain; charset=utf-8")
	req.Header.Set("Content-Encoding", "gzip")
	for k, v := range hdr {
		req.Header[k] = v
	}
	return do(c, req)
}

func do(c *http.Client, req *http.Request) (status int, body []byte, err error) {
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err = io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return resp.StatusCode, body, err
	}
	_, _ = io.Copy(io.Discard, resp.Body) // drain past the limit so the connection is reused
	return resp.StatusCode, body, nil
}
