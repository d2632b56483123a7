package kodo_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kodo-project/kodo/internal/testkit"
	"github.com/kodo-project/kodo/kodo"
	"github.com/kodo-project/kodo/signer"
	"github.com/kodo-project/kodo/tsdb/tsdbapi"
	"github.com/kodo-project/kodo/tsdb/tsdbclient"
)

// hostileCase is one adversarial request of testdata/hostile.json.
type hostileCase struct {
	Name      string            `json:"name"`
	Method    string            `json:"method"`
	Path      string            `json:"path"`
	Headers   map[string]string `json:"headers"`
	Body      string            `json:"body"`
	BodyB64   string            `json:"body_b64"`
	BodyGen   string            `json:"body_gen"`
	Sign      string            `json:"sign"`
	SignAge   string            `json:"sign_age"`
	SignToken string            `json:"sign_token"`
	Status    int               `json:"status"`
	Contains  string            `json:"contains"`
	Influx    bool              `json:"influx"`
	RawStatus bool              `json:"raw_status_only"`
}

// TestHostileCorpus sends every request of testdata/hostile.json through
// the real HTTP server: each must get its 4xx with a message that says
// what is wrong, never a 5xx, and no goroutine may be left behind.
func TestHostileCorpus(t *testing.T) {
	raw, err := os.ReadFile("testdata/hostile.json")
	require.NoError(t, err)
	var cases []hostileCase
	require.NoError(t, json.Unmarshal(raw, &cases))

	h := newHarness(t, func(o *kodo.Options) {
		o.Limits.MaxBodyBytes = 8 << 20
		o.Limits.MaxDecompressedBytes = 16 << 20
		o.TSDBAccessKey, o.TSDBSecretKey = "AK_HOSTILE", "SK_HOSTILE"
		o.Limits.AuthFailRate = -1 // every refusal here is on purpose; the limiter has its own tests
	})
	ws := h.createWorkspace()
	pc, err := tsdbclient.NewClient(h.ts.URL, "AK_HOSTILE", "SK_HOSTILE", nil)
	require.NoError(t, err)
	require.NoError(t, pc.CreateRepo(t.Context(), "r_hostile", tsdbapi.CreateRepoInput{Region: "nb"}))
	require.NoError(t, pc.CreateSeries(t.Context(), "r_hostile", "cpu", tsdbapi.CreateSeriesInput{Retention: "7d"}))
	other := h.createWorkspace()
	vars := strings.NewReplacer(
		"{{token}}", ws.Token, "{{db_uuid}}", ws.DBUUID, "{{db}}", ws.DB, "{{workspace_uuid}}", ws.WorkspaceUUID,
		"{{other_token}}", other.Token, "{{other_db_uuid}}", other.DBUUID, "{{other_db}}", other.DB,
		"{{other_workspace_uuid}}", other.WorkspaceUUID, "{{date}}", time.Now().UTC().Format(http.TimeFormat),
		"{{huge_header}}", strings.Repeat("x", 2<<20),
	)
	gens := hostileBodies(t, ws.DBUUID)

	before := runtime.NumGoroutine()
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			body := []byte(vars.Replace(c.Body))
			switch {
			case c.BodyB64 != "":
				body, err = base64.StdEncoding.DecodeString(c.BodyB64)
				require.NoError(t, err)
			case c.BodyGen != "":
				var ok bool
				body, ok = gens[c.BodyGen]
				require.True(t, ok, "unknown body_gen %q", c.BodyGen)
			}
			req, err := http.NewRequest(c.Method, h.ts.URL+vars.Replace(c.Path), bytes.NewReader(body))
			require.NoError(t, err)
			for k, v := range c.Headers {
				req.Header.Set(k, vars.Replace(v))
			}
			client := h.ts.Client()
			if c.Sign == "pandora" {
				sk := "SK_HOSTILE"
				if c.SignToken != "" {
					sk = c.SignToken
				}
				tr := signer.NewPandoraTransport(client.Transport, "AK_HOSTILE", sk)
				tr.Now = signClock(t, c.SignAge)
				client = &http.Client{Transport: tr}
			}
			if c.Sign == "dataflux" {
				token := ws.Token
				if c.SignToken != "" {
					token = c.SignToken
				}
				base := client.Transport
				if xt := req.Header.Get("X-Token"); xt != "" {
					// The transport sets X-Token to its own token; send the case's.
					base = overrideHeader{base, "X-Token", xt}
				}
				tr := signer.NewDatafluxTransport(base, token, h.secret(token), signer.AlgoSHA256)
				tr.Now = signClock(t, c.SignAge)
				client = &http.Client{Transport: tr}
			}
			resp, err := client.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			got, _ := io.ReadAll(resp.Body)
			assert.Equal(t, c.Status, resp.StatusCode, "body: %.300s", got)
			assert.Less(t, resp.StatusCode, 500)
			if c.RawStatus {
				return
			}
			var msg string
			if c.Influx {
				var e struct{ Error string }
				require.NoError(t, json.Unmarshal(got, &e), "%.300s", got)
				msg = e.Error
			} else {
				var env struct {
					Code      int
					ErrorCode string
					Message   string
				}
				require.NoError(t, json.Unmarshal(got, &env), "%.300s", got)
				assert.Equal(t, resp.StatusCode, env.Code)
				assert.True(t, strings.HasPrefix(env.ErrorCode, "kodo."), env.ErrorCode)
				msg = env.Message
			}
			assert.NotEmpty(t, msg, "a message the user can act on")
			if c.Contains != "" {
				assert.Contains(t, msg, vars.Replace(c.Contains))
			}
		})
	}

	h.ts.CloseClientConnections()
	h.ts.Client().CloseIdleConnections()
	assert.Eventually(t, func() bool { return runtime.NumGoroutine() <= before+2 }, 5*time.Second, 20*time.Millisecond,
		"goroutines before %d, after %d: a request leaked one", before, runtime.NumGoroutine())
}

// overrideHeader sets a header after the signing transport ran, to send a
// request whose headers disagree with its signature.
type overrideHeader struct {
	rt          http.RoundTripper
	name, value string
}

func (o overrideHeader) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set(o.name, o.value)
	return o.rt.RoundTrip(r)
}

// hostileBodies builds the corpus's generated bodies.
func hostileBodies(t *testing.T, dbUUID string) map[string][]byte {
	full := testkit.Gzip(t, []byte("m f=1 1600000000000000000\n"))
	long := append([]byte("m f=\""), bytes.Repeat([]byte("x"), 10<<20)...)
	long = append(long, "\"\n"...)
	return map[string][]byte{
		"truncated_gzip":       full[:len(full)-6],
		"gzip_bomb":            gzipBomb(t),
		"long_line":            testkit.Gzip(t, long),
		"oversized":            bytes.Repeat([]byte("m f=1\n"), 2<<20),
		"nested_json":          []byte(strings.Repeat("[", 100_000) + strings.Repeat("]", 100_000)),
		"nested_parens":        []byte(`{"db":"` + dbUUID + `","command":"SELECT * FROM cpu WHERE ` + strings.Repeat("(", 50_000) + "a=1" + strings.Repeat(")", 50_000) + `"}`),
		"long_metadata":        []byte(`{"region":"nb","metadata":{"k":"` + strings.Repeat("v", 501) + `"}}`),
		"invalid_utf8_command": []byte(`{"db":"` + dbUUID + "\",\"command\":\"SELECT * FROM \xff\xfe\"}"),
	}
}

// signClock is the signer's clock for a case: now, or sign_age in the past.
func signClock(t *testing.T, age string) func() time.Time {
	if age == "" {
		return nil // the transports' default: time.Now
	}
	d, err := time.ParseDuration(age)
	require.NoError(t, err)
	return func() time.Time { return time.Now().Add(-d) }
}
