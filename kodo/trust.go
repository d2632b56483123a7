package kodo

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/kodo-project/kodo/internal/httpx"
	"github.com/kodo-project/kodo/kodo/kodoapi"
)

// agentPath reports whether path is called by agents (token-signed writes,
// token checks) or by foreign protocols rather than by an operator. Every
// other path under /v1 is management, including unknown ones, so a new
// management endpoint is protected without being listed here.
func agentPath(path string) bool {
	if !strings.HasPrefix(path, "/v1/") {
		return true // /v4 (Pandora), InfluxDB compat, /metrics
	}
	switch path {
	case "/v1/ping", "/v1/write", "/v1/write/metrics", "/v1/write/object",
		"/v1/write/keyevent", "/v1/write/logging", "/v1/datakit/online":
		return true
	}
	return strings.HasPrefix(path, "/v1/check/token/")
}

// browserPolicy decides what a browser may do, before routing:
//
//   - agent endpoints and, with an admin key, management: the CORS headers
//     the API document shows (Allow-Origin *), preflight answered 200. A
//     page without the key can do nothing with management anyway.
//   - management under loopback trust (no admin key): no CORS headers, a
//     request (preflight included) whose Origin is not allow-listed is
//     refused, and so is a Host that is not loopback, the listen address
//     or an allowed name (DNS rebinding), and a request a proxy relayed
//     (Forwarded, X-Forwarded-For, X-Real-Ip). Otherwise any page in a browser
//     on this machine could create a workspace with a text/plain POST,
//     which needs no preflight, and read its token.
type browserPolicy struct {
	loopbackTrust bool
	origins       map[string]bool // scheme://host[:port], lowercase
	hosts         map[string]bool // host names and IPs, lowercase, no port
}

func newBrowserPolicy(o *Options) (*browserPolicy, error) {
	p := &browserPolicy{loopbackTrust: o.AdminKey == "", origins: map[string]bool{}, hosts: map[string]bool{}}
	for _, raw := range o.AllowedOrigins {
		norm, err := normalizeOrigin(raw)
		if err != nil {
			return nil, err
		}
		p.origins[norm] = true
	}
	for _, h := range o.AllowedHosts {
		h = strings.Trim(strings.ToLower(strings.TrimSpace(h)), "[]")
		if h == "" {
			continue
		}
		if strings.ContainsAny(h, "/:") && net.ParseIP(h) == nil {
			return nil, fmt.Errorf("kodo: allowed host %q: give a host name or IP without scheme or port", h)
		}
		p.hosts[h] = true
	}
	if host, _, err := net.SplitHostPort(o.Listen); err == nil && host != "" {
		p.hosts[strings.ToLower(host)] = true
	}
	return p, nil
}

// normalizeOrigin turns "https://Admin.example:8443/" into the form
// browsers send in Origin: scheme://host[:port], lowercase, no path.
func normalizeOrigin(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return "", fmt.Errorf("kodo: allowed origin %q: want scheme://host[:port], e.g. https://admin.example.com", raw)
	}
	return strings.ToLower(u.Scheme + "://" + u.Host), nil
}

func (p *browserPolicy) wrap(fail func(http.ResponseWriter, *http.Request, error), next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !p.loopbackTrust || agentPath(r.URL.Path) {
			httpx.SetCORS(w.Header(), "*")
			if r.Method == http.MethodOptions {
				w.WriteHeader(http.StatusOK)
				return
			}
			next.ServeHTTP(w, r)
			return
		}
		if err := p.checkHost(r.Host); err != nil {
			fail(w, r, err)
			return
		}
		// Behind a reverse proxy every client is the proxy's loopback
		// address; proxies say so in these headers, so loopback trust
		// does not extend to whoever the proxy serves.
		for _, hd := range []string{"Forwarded", "X-Forwarded-For", "X-Real-Ip"} {
			if r.Header.Get(hd) != "" {
				fail(w, r, Errorf(kodoapi.ErrForbidden, "management refuses requests relayed by a proxy (%s) while no admin key is set: behind a proxy every client looks local; configure -admin-key", hd))
				return
			}
		}
		origin := r.Header.Get("Origin")
		if origin != "" {
			if !p.origins[strings.ToLower(origin)] {
				fail(w, r, Errorf(kodoapi.ErrForbidden, "management refuses browser requests from origin %s while no admin key is set; configure -admin-key, or list the origin in -allowed-origins", truncateForMessage(origin)))
				return
			}
			// An origin the operator listed (an admin UI) may read answers.
			httpx.SetCORS(w.Header(), origin)
		}
		if r.Method == http.MethodOptions {
			w.WriteHeader(http.StatusOK)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// checkHost accepts loopback names and addresses, the listen host and the
// configured names. A DNS-rebinding page reaches 127.0.0.1 under its own
// name, which it cannot make one of these.
func (p *browserPolicy) checkHost(hostport string) error {
	if hostport == "" {
		return nil // HTTP/1.0 without Host: not a browser
	}
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.ToLower(strings.Trim(host, "[]"))
	if host == "localhost" || strings.HasSuffix(host, ".localhost") || p.hosts[host] {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return Errorf(kodoapi.ErrForbidden, "management refuses Host %s while no admin key is set (a DNS-rebinding page would send its own name); use a loopback address, or list the name in -allowed-hosts", truncateForMessage(hostport))
}

// loopbackListen reports whether addr binds loopback only.
func loopbackListen(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func truncateForMessage(s string) string {
	if len(s) > 80 {
		s = s[:80] + "..."
	}
	return fmt.Sprintf("%q", s)
}
