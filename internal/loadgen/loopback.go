package loadgen

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// NotLoopbackError refuses a target outside the machine.
type NotLoopbackError struct {
	Target string // the URL or address as given
	Host   string
}

func (e *NotLoopbackError) Error() string {
	return fmt.Sprintf("loadgen: target %q: host %q is not loopback; kodo-bench only loads servers on this machine (127.0.0.0/8, ::1 or localhost)", e.Target, e.Host)
}

// URLError is a target URL that cannot be used at all.
type URLError struct {
	Target string
	Msg    string
}

func (e *URLError) Error() string { return fmt.Sprintf("loadgen: target %q: %s", e.Target, e.Msg) }

// IsLoopbackHost reports whether host (no port; IPv6 without brackets) is
// "localhost" or a literal address in 127.0.0.0/8 or ::1.
func IsLoopbackHost(host string) bool {
	h := strings.TrimSuffix(strings.ToLower(host), ".")
	if h == "localhost" {
		return true
	}
	// A zone ("::1%lo") is still the loopback address.
	if i := strings.IndexByte(h, '%'); i >= 0 {
		h = h[:i]
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// CheckLoopback parses an http(s) target URL and refuses any host that is
// not loopback.
func CheckLoopback(target string) (*url.URL, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, &URLError{Target: target, Msg: err.Error()}
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, &URLError{Target: target, Msg: "want an http:// or https:// URL, e.g. http://127.0.0.1:9527"}
	}
	if u.Host == "" {
		return nil, &URLError{Target: target, Msg: "no host; e.g. http://127.0.0.1:9527"}
	}
	if u.User != nil {
		return nil, &URLError{Target: target, Msg: "credentials in the URL are not supported; use -admin-key"}
	}
	if !IsLoopbackHost(u.Hostname()) {
		return nil, &NotLoopbackError{Target: target, Host: u.Hostname()}
	}
	return u, nil
}

// loopbackControl refuses, at connect time, any address that is not
// loopback: "localhost" could resolve elsewhere through /etc/hosts, and a
// redirect could name another host.
func loopbackControl(network, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return &URLError{Target: address, Msg: err.Error()}
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return &NotLoopbackError{Target: network + "://" + address, Host: host}
	}
	return nil
}

// LoopbackTransport is an HTTP transport that connects to loopback
// addresses only, keeping up to conns idle connections per host.
func LoopbackTransport(conns int) *http.Transport {
	d := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second, Control: loopbackControl}
	return &http.Transport{
		Proxy:               nil, // a proxy would be a non-loopback hop
		DialContext:         func(ctx context.Context, n, a string) (net.Conn, error) { return d.DialContext(ctx, n, a) },
		MaxIdleConns:        conns * 2,
		MaxIdleConnsPerHost: conns * 2,
		IdleConnTimeout:     90 * time.Second,
		// Bodies are gzipped by the tool; never let the transport add or
		// strip an encoding behind its back.
		DisableCompression: true,
	}
}

// noRedirect keeps the client on the URL it was given.
func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
