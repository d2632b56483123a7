package main

import (
	"bytes"
	"compress/gzip"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kodo-project/kodo/signer"
)

// Issue 12, items 5 and 6, against the real binary: anonymous gzip bombs
// and slow sockets must neither grow the process nor starve signed writes.

// bombBody is 1 GiB of zeros as 1,024 gzip members of 1 MiB (about 1 MB on
// the wire, under the body limit).
func bombBody(t *testing.T) []byte {
	var member bytes.Buffer
	zw, err := gzip.NewWriterLevel(&member, gzip.BestCompression)
	require.NoError(t, err)
	_, err = zw.Write(make([]byte, 1<<20))
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return bytes.Repeat(member.Bytes(), 1024)
}

// TestHostileGzipBombs sends 32 anonymous gzip bombs to /v4 and 32 to
// /v1/write at once (plus a few with a well-formed header naming no
// workspace): every one is refused with a 4xx before its body is read, RSS
// stays far under what decompressing them would take, and a signed write
// still succeeds.
func TestHostileGzipBombs(t *testing.T) {
	// The attackers share the victim's address (loopback): the limit on
	// failed authentications per address is lifted here, so this test
	// shows the bodies are never read (TestHostileTrust covers the limit).
	p := startProc(t, t.TempDir(), "-tsdb-ak", "AK_BOMB", "-tsdb-sk", "SK_BOMB", "-auth-fail-burst", "10000")
	ws := p.CreateWorkspace()
	bomb := bombBody(t)
	date := time.Now().UTC().Format(http.TimeFormat)
	forged := "DATAFLUX tkn_" + strings.Repeat("0", 32) + ":" +
		signer.SignDataflux("guess", signer.DatafluxStringToSign("POST", "", "", date), signer.AlgoSHA256)

	type attack struct{ path, auth string }
	var attacks []attack
	for i := 0; i < 32; i++ {
		attacks = append(attacks, attack{"/v4/repos/r/points", ""}, attack{"/v1/write/metrics", ""})
	}
	for i := 0; i < 8; i++ {
		attacks = append(attacks, attack{"/v1/write/metrics", forged}, attack{"/write?db=" + ws.DB, ""})
	}

	w := p.Watch()
	answers := make([]answer, len(attacks))
	errs := make([]error, len(attacks))
	var wg sync.WaitGroup
	for i, a := range attacks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, err := http.NewRequest(http.MethodPost, p.Base+a.path, bytes.NewReader(bomb))
			if err != nil {
				errs[i] = err
				return
			}
			req.Header.Set("Content-Encoding", "gzip")
			req.Header.Set("Content-Type", "text/plain")
			if a.auth != "" {
				req.Header.Set("Authorization", a.auth)
				req.Header.Set("Date", date)
			}
			answers[i], errs[i] = do(req, 60*time.Second)
		}()
	}
	wg.Wait()
	// Decompressing them would take 64 GiB; not reading them takes nothing.
	assertBounded(t, w, 256<<20, 512)
	for i, a := range attacks {
		require.NoError(t, errs[i], "%s: the refusal reaches the client", a.path)
		requireClientError(t, answers[i], a.path)
		assert.Contains(t, []int{401, 403}, answers[i].Status, "%s: %s", a.path, answers[i])
	}
	require.True(t, p.Alive())
	a := p.WriteLines(ws, fmt.Sprintf("after_bombs v=1 %d", time.Now().UnixNano()), true)
	assert.Equal(t, 200, a.Status, a.String())
}

// TestHostileSignedGzipBombs: a valid signature (Pandora) or a valid token
// (DATAFLUX, whose MD5-keyed signature needs the body) gets a bomb read,
// but its decompressed bytes are charged to the gate: 32 at once are each
// refused (413 at the decompressed limit, or the gate's 429/503 with
// Retry-After) and RSS stays near the gate's byte budget.
func TestHostileSignedGzipBombs(t *testing.T) {
	p := startProc(t, t.TempDir(), "-tsdb-ak", "AK_BOMB", "-tsdb-sk", "SK_BOMB",
		"-max-decompressed-bytes", "33554432", "-max-inflight-bytes", "134217728")
	ws := p.CreateWorkspace()
	bomb := bombBody(t)
	w := p.Watch()
	answers := make([]answer, 32)
	errs := make([]error, 32)
	var wg sync.WaitGroup
	for i := range answers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var rt http.RoundTripper
			path := "/v4/repos/r/points"
			if i%2 == 0 {
				rt = signer.NewPandoraTransport(nil, "AK_BOMB", "SK_BOMB")
			} else {
				path = "/v1/write/metrics"
				rt = signer.NewDatafluxTransport(nil, ws.Token, ws.Secret, signer.AlgoSHA256)
			}
			req, err := http.NewRequest(http.MethodPost, p.Base+path, bytes.NewReader(bomb))
			if err != nil {
				errs[i] = err
				return
			}
			req.Header.Set("Content-Encoding", "gzip")
			req.Header.Set("Content-Type", "text/plain")
			resp, err := (&http.Client{Timeout: 120 * time.Second, Transport: rt}).Do(req)
			if err != nil {
				errs[i] = err
				return
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			answers[i], errs[i] = answer{Status: resp.StatusCode, Header: resp.Header, Body: string(b)}, err
		}()
	}
	wg.Wait()
	// 128 MiB of gate budget, Go's GC headroom over it (-gc-percent's
	// default 200: up to three times the live heap; 488 MiB measured, 381
	// at GOGC=100) and the baseline; ungated, 32 bombs that each
	// decompress to the 32 MiB limit through doubling buffers take ~4 GiB.
	assertBounded(t, w, 768<<20, 512)
	for i := range answers {
		require.NoError(t, errs[i])
		requireClientError(t, answers[i])
		assert.Contains(t, []int{413, 429, 503}, answers[i].Status, answers[i].String())
	}
	require.True(t, p.Alive())
	a := p.WriteLines(ws, fmt.Sprintf("after_bombs v=1 %d", time.Now().UnixNano()), true)
	assert.Equal(t, 200, a.Status, a.String())
}

// rawConn is a client socket under the test's control.
type rawConn struct {
	net.Conn
	opened time.Time
}

func dialRaw(t *testing.T, addr, head string) *rawConn {
	t.Helper()
	// Taken before the dial: the server's read timers start at accept,
	// which can come before Dial returns here.
	opened := time.Now()
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	rc := &rawConn{Conn: c, opened: opened}
	_, err = io.WriteString(c, head)
	require.NoError(t, err)
	return rc
}

// awaitClose reads what the server sends until it closes the connection,
// failing when it is still open at bound. It returns the bytes read and
// how long after opening the connection was closed.
func (c *rawConn) awaitClose(t *testing.T, bound time.Duration) (string, time.Duration) {
	t.Helper()
	require.NoError(t, c.SetReadDeadline(c.opened.Add(bound)))
	b, err := io.ReadAll(c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		require.Failf(t, "the server kept a slow socket open", "still open %s after it was opened; read %q", bound, b)
	}
	return string(b), time.Since(c.opened)
}

// TestHostileSlowBodies opens 32 sockets of each slow kind against a
// gateway with 32 write slots and one-second read bounds: anonymous ones
// that send a header and one body byte (refused at once, never holding a
// slot), ones with a valid token that send a header and one byte (they pass
// the header check and hold slots until the body bound cuts them with 408),
// and ones that never finish their headers (cut by -read-header-timeout).
// A signed write succeeds throughout, and the process stays small.
func TestHostileSlowBodies(t *testing.T) {
	const bound = time.Second
	p := startProc(t, t.TempDir(), "-auth-fail-burst", "10000", "-read-header-timeout", "1s", "-body-read-timeout", "1s",
		"-body-min-rate", "1024", "-max-concurrent-writes", "32")
	ws := p.CreateWorkspace()
	line := func(i int) string { return fmt.Sprintf("slow_ok,i=%d v=%d %d", i, i, time.Now().UnixNano()) }
	const cut = 20 * bound // a cut socket closes within this (the bound plus scheduling slack)
	w := p.Watch()

	date := time.Now().UTC().Format(http.TimeFormat)
	head := func(auth string, length int) string {
		h := fmt.Sprintf("POST /v1/write/metrics HTTP/1.1\r\nHost: %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nDate: %s\r\n",
			p.Addr, length, date)
		if auth != "" {
			h += "X-Token: " + ws.Token + "\r\nAuthorization: " + auth + "\r\n"
		}
		return h + "\r\nx"
	}

	t.Run("anonymous sockets never hold a slot", func(t *testing.T) {
		var conns []*rawConn
		for i := 0; i < 32; i++ {
			conns = append(conns, dialRaw(t, p.Addr, head("", 100)))
		}
		a := p.WriteLines(ws, line(1), true)
		assert.Equal(t, 200, a.Status, "a signed write while 32 anonymous sockets are open: %s", a)
		for _, c := range conns {
			out, _ := c.awaitClose(t, cut)
			assert.True(t, strings.HasPrefix(out, "HTTP/1.1 401"), "refused at once: %.80q", out)
		}
	})

	t.Run("slow bodies with a valid token are cut after the bound", func(t *testing.T) {
		// Signed with the workspace secret over the Content-MD5 of a body
		// that will never arrive: the headers pass, the body decides.
		sum := md5.Sum(bytes.Repeat([]byte("x"), 1000))
		contentMD5 := hex.EncodeToString(sum[:])
		sig := signer.SignDataflux(ws.Secret, signer.DatafluxStringToSign("POST", contentMD5, "text/plain", date), signer.AlgoSHA256)
		var conns []*rawConn
		for i := 0; i < 32; i++ {
			h := head("DATAFLUX "+ws.Token+":"+sig, 1000)
			h = strings.Replace(h, "\r\n\r\n", "\r\nContent-MD5: "+contentMD5+"\r\n\r\n", 1)
			conns = append(conns, dialRaw(t, p.Addr, h))
		}
		// They may hold every slot for up to the bound; a signed write gets
		// through once they are cut (a 429 before that is the gate working).
		deadline := time.Now().Add(cut)
		var a answer
		for {
			a = p.WriteLines(ws, line(2), true)
			if a.Status != 429 || time.Now().After(deadline) {
				break
			}
			<-time.After(100 * time.Millisecond) // client back-off, as Retry-After asks
		}
		assert.Equal(t, 200, a.Status, a.String())
		for _, c := range conns {
			out, took := c.awaitClose(t, cut)
			assert.True(t, strings.HasPrefix(out, "HTTP/1.1 408"), "cut with 408: %.200q", out)
			assert.Contains(t, out, "kodo.requestTimeout")
			assert.GreaterOrEqual(t, took, bound, "not before the grace")
		}
	})

	t.Run("unfinished headers are cut after -read-header-timeout", func(t *testing.T) {
		var conns []*rawConn
		for i := 0; i < 32; i++ {
			conns = append(conns, dialRaw(t, p.Addr, "POST /v1/write/metrics HTTP/1.1\r\nHost: "+p.Addr+"\r\n"))
		}
		a := p.WriteLines(ws, line(3), true)
		assert.Equal(t, 200, a.Status, a.String())
		for _, c := range conns {
			_, took := c.awaitClose(t, cut)
			assert.GreaterOrEqual(t, took, bound, "not before the header timeout")
		}
	})

	assertBounded(t, w, 256<<20, 512)
	require.True(t, p.Alive())
	assert.EqualValues(t, 3, p.Count(ws, "slow_ok", "v"), "every acknowledged write is stored")
}
