package kodo

import (
	"crypto/subtle"
	"net"
	"net/http"
	"strings"

	"github.com/kodo-project/kodo/kodo/kodoapi"
)

// admin guards management endpoints: Authorization: Bearer <admin-key>.
// Without a configured key only loopback clients are served, so a fresh
// `go run ./cmd/kodo` is usable locally and closed to the network.
func (s *service) admin(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.opts.AdminKey == "" {
			if !isLoopback(r.RemoteAddr) {
				s.fail(w, r, Errorf(kodoapi.ErrForbidden, "management endpoints answer loopback clients only until an admin key is configured (-admin-key)"))
				return
			}
			h(w, r)
			return
		}
		auth := r.Header.Get("Authorization")
		key, ok := strings.CutPrefix(auth, "Bearer ")
		if !ok {
			s.fail(w, r, Errorf(kodoapi.ErrUnauthorized, "management endpoints need Authorization: Bearer <admin key>"))
			return
		}
		if subtle.ConstantTimeCompare([]byte(strings.TrimSpace(key)), []byte(s.opts.AdminKey)) != 1 {
			s.fail(w, r, Errorf(kodoapi.ErrUnauthorized, "the admin key does not match"))
			return
		}
		h(w, r)
	}
}

func isLoopback(remoteAddr string) bool {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
