package loadgen

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCheckLoopback(t *testing.T) {
	tests := []struct {
		url     string
		ok      bool
		notLoop bool // want *NotLoopbackError (else *URLError)
	}{
		{"http://127.0.0.1:9527", true, false},
		{"http://127.1.2.3:80/", true, false},
		{"https://127.255.255.254", true, false},
		{"http://localhost:8086", true, false},
		{"http://LOCALHOST.:8086", true, false},
		{"http://[::1]:9527", true, false},
		{"http://[::1%25lo]:9527", true, false},
		{"http://[::ffff:127.0.0.1]:9527", true, false},
		{"http://128.0.0.1:9527", false, true},
		{"http://10.0.0.1:9527", false, true},
		{"http://0.0.0.0:9527", false, true},
		{"http://[::]:9527", false, true},
		{"http://example.com", false, true},
		{"http://localhost.example.com", false, true},
		{"http://127.0.0.1.nip.io", false, true},
		{"http://[::2]:1", false, true},
		{"ftp://127.0.0.1", false, false},
		{"127.0.0.1:9527", false, false},
		{"http://", false, false},
		{"http://user:pw@127.0.0.1", false, false},
		{"http://%zz", false, false},
	}
	for _, tc := range tests {
		t.Run(tc.url, func(t *testing.T) {
			u, err := CheckLoopback(tc.url)
			if tc.ok {
				require.NoError(t, err)
				assert.NotNil(t, u)
				return
			}
			require.Error(t, err)
			var nl *NotLoopbackError
			var ue *URLError
			if tc.notLoop {
				require.True(t, errors.As(err, &nl), "want *NotLoopbackError, got %T %v", err, err)
				assert.Contains(t, err.Error(), "not loopback")
			} else {
				require.True(t, errors.As(err, &ue), "want *URLError, got %T %v", err, err)
			}
		})
	}
}

func TestTargetsRefuseRemoteURLs(t *testing.T) {
	_, err := NewKodoTarget("http://192.0.2.1:9527", TargetOptions{})
	var nl *NotLoopbackError
	require.ErrorAs(t, err, &nl)
	_, err = NewInfluxTarget("http://example.com:8086", TargetOptions{})
	require.ErrorAs(t, err, &nl)
}

func TestLoopbackControlRefusesAtDialTime(t *testing.T) {
	tests := []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1:80", true},
		{"[::1]:80", true},
		{"192.0.2.1:80", false},
		{"[2001:db8::1]:80", false},
		{"localhost:80", false}, // dial addresses are resolved IPs; a name here is refused
		{"garbage", false},
	}
	for _, tc := range tests {
		err := loopbackControl("tcp", tc.addr, nil)
		if tc.ok {
			assert.NoError(t, err, tc.addr)
		} else {
			assert.Error(t, err, tc.addr)
		}
	}
}

func TestLoopbackTransportDoesNotFollowRedirectsOffHost(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://192.0.2.1/elsewhere", http.StatusTemporaryRedirect)
	}))
	defer srv.Close()
	c := &http.Client{Transport: LoopbackTransport(1), CheckRedirect: noRedirect}
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, srv.URL, nil)
	require.NoError(t, err)
	resp, err := c.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusTemporaryRedirect, resp.StatusCode, "the redirect is answered, not followed")

	// And a transport pointed straight at a remote address refuses to dial.
	req, err = http.NewRequestWithContext(context.Background(), http.MethodGet, "http://192.0.2.1:9/", nil)
	require.NoError(t, err)
	_, err = c.Do(req)
	var nl *NotLoopbackError
	require.ErrorAs(t, err, &nl)
	assert.Equal(t, "transport:not-loopback", transportOutcome(err).Code)
}

var _ Rewriter = (*KodoTarget)(nil)
