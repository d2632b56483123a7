package signer

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the generated vectors under testdata/")

// secretVector is a DATAFLUX request signed with a workspace secret (or
// the MD5 body key) and the key set the server holds for its token. The
// fields follow the captured vectors of the shared directory, plus the
// key set: secrets (current first, then those in their rotation overlap),
// allow_body_key and require_content_md5.
type secretVector struct {
	ID                string            `json:"id"`
	Method            string            `json:"method"`
	Path              string            `json:"path"`
	RawQuery          string            `json:"raw_query"`
	Headers           map[string]string `json:"headers"`
	BodyBase64        string            `json:"body_base64"`
	Token             string            `json:"token"`
	Algo              string            `json:"algo"`
	SignedWithKey     string            `json:"signed_with_key"`
	Secrets           []string          `json:"secrets"`
	AllowBodyKey      bool              `json:"allow_body_key"`
	RequireContentMD5 bool              `json:"require_content_md5"`
	Now               time.Time         `json:"now"`
	StringToSign      string            `json:"string_to_sign"`
	Valid             bool              `json:"valid"`
	Error             string            `json:"error,omitempty"` // the signer.ErrorCode name when invalid
	Note              string            `json:"note"`
}

const secretVectorsFile = "testdata/vectors/dataflux-secret.json"

// makeSecretVectors builds the vectors from fixed inputs only, so the file
// is reproducible byte for byte.
func makeSecretVectors(t *testing.T) []secretVector {
	const (
		token = "tkn_0123456789abcdef0123456789abcdef"
		cur   = "wsec_7f3c1a9e5b2d4c6e8a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f"
		prev  = "wsec_00112233445566778899aabbccddeeff00112233445566778899aabbccddee"
	)
	now := time.Date(2026, 11, 23, 0, 11, 36, 0, time.UTC)
	date := now.Format(http.TimeFormat)
	plain := []byte("cpu,host=web-1,region=cn-east usage=1.5,count=3i 1795392696000000000\n")
	var zbuf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&zbuf, gzip.NoCompression) // stored blocks: the same bytes under any Go release
	require.NoError(t, err)
	zw.ModTime = time.Time{}
	_, err = zw.Write(plain)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	gz := zbuf.Bytes()

	type in struct {
		id, note, path, query string
		body                  []byte
		gzip                  bool
		key                   string // "" = the body key
		algo                  Algo
		sendMD5               bool
		secrets               []string
		allowBody, requireMD5 bool
		afterSign             func(h http.Header, body []byte) []byte
		valid                 bool
		code                  ErrorCode
	}
	cases := []in{
		{id: "secret-01-sha256", note: "Signed with the workspace secret, HMAC-SHA256, Content-MD5 sent as DATAFLUX agents do.",
			body: plain, key: cur, algo: AlgoSHA256, sendMD5: true, secrets: []string{cur}, requireMD5: true, valid: true},
		{id: "secret-02-sha1-gzip", note: "HMAC-SHA1 with the secret over a gzipped body; Content-MD5 is the MD5 of the gzipped bytes.",
			body: gz, gzip: true, key: cur, algo: AlgoSHA1, sendMD5: true, secrets: []string{cur}, requireMD5: true, valid: true},
		{id: "secret-03-previous-secret-in-overlap", note: "Signed with the secret a rotation replaced, while its overlap lasts: the server tries both.",
			body: plain, key: prev, algo: AlgoSHA256, sendMD5: true, secrets: []string{cur, prev}, requireMD5: true, valid: true},
		{id: "secret-04-compat-body-key", note: "A workspace that still allows the MD5 body key (created before secrets) accepts it even with a secret set.",
			body: plain, algo: AlgoSHA256, sendMD5: true, secrets: []string{cur}, allowBody: true, valid: true},
		{id: "secret-05-path-and-query-not-signed", note: "DATAFLUX signs neither path nor query: the same signature verifies on another path and query (what the scheme does not cover).",
			path: "/v1/write/logging", query: "source=other", body: plain, key: cur, algo: AlgoSHA256, sendMD5: true, secrets: []string{cur}, requireMD5: true, valid: true},
		{id: "secret-06-NEG-previous-secret-after-overlap", note: "The replaced secret after its overlap ended: only the current secret is held.",
			body: plain, key: prev, algo: AlgoSHA256, sendMD5: true, secrets: []string{cur}, requireMD5: true, code: ErrSignatureMismatch},
		{id: "secret-07-NEG-body-key-refused", note: "MD5-keyed signature on a workspace that refuses the body key (every new workspace).",
			body: plain, algo: AlgoSHA256, sendMD5: true, secrets: []string{cur}, requireMD5: true, code: ErrSignatureMismatch},
		{id: "secret-08-NEG-body-tampered", note: "Body changed after signing with the secret: Content-MD5 no longer matches it.",
			body: plain, key: cur, algo: AlgoSHA256, sendMD5: true, secrets: []string{cur}, requireMD5: true, code: ErrDigestMismatch,
			afterSign: func(_ http.Header, b []byte) []byte {
				return bytes.Replace(b, []byte("usage=1.5"), []byte("usage=9.5"), 1)
			}},
		{id: "secret-09-NEG-no-content-md5", note: "Secret-keyed without Content-MD5: the signature would not cover the body, refused where required.",
			body: plain, key: cur, algo: AlgoSHA256, secrets: []string{cur}, requireMD5: true, code: ErrMissingHeader},
		{id: "secret-10-NEG-wrong-secret", note: "Signed with a secret of another workspace.",
			body: plain, key: "wsec_not_this_workspace", algo: AlgoSHA256, sendMD5: true, secrets: []string{cur}, requireMD5: true, code: ErrSignatureMismatch},
		{id: "secret-11-NEG-no-key-at-all", note: "A workspace with no secret that refuses the body key accepts nothing: rotate a secret first.",
			body: plain, algo: AlgoSHA256, sendMD5: true, code: ErrUnknownKey},
	}
	var out []secretVector
	for _, c := range cases {
		h := http.Header{}
		h.Set("Content-Type", "text/plain")
		h.Set("Date", date)
		h.Set("X-Token", token)
		if c.gzip {
			h.Set("Content-Encoding", "gzip")
		}
		md5hex := DatafluxBodyKey(c.body)
		sentMD5 := ""
		if c.sendMD5 {
			sentMD5 = md5hex
			h.Set("Content-MD5", md5hex)
		}
		key := c.key
		if key == "" {
			key = md5hex
		}
		sts := DatafluxStringToSign(http.MethodPost, sentMD5, h.Get("Content-Type"), date)
		h.Set("Authorization", "DATAFLUX "+token+":"+SignDataflux(key, sts, c.algo))
		body := c.body
		if c.afterSign != nil {
			body = c.afterSign(h, body)
		}
		path := c.path
		if path == "" {
			path = "/v1/write/metrics"
		}
		hm := map[string]string{}
		for k := range h {
			hm[k] = h.Get(k)
		}
		algo := "sha256"
		if c.algo == AlgoSHA1 {
			algo = "sha1"
		}
		v := secretVector{ID: c.id, Method: http.MethodPost, Path: path, RawQuery: c.query, Headers: hm,
			BodyBase64: base64.StdEncoding.EncodeToString(body), Token: token, Algo: algo, SignedWithKey: key,
			Secrets: c.secrets, AllowBodyKey: c.allowBody, RequireContentMD5: c.requireMD5,
			Now: now, StringToSign: sts, Valid: c.valid, Note: c.note}
		if v.Secrets == nil {
			v.Secrets = []string{}
		}
		if !c.valid {
			v.Error = c.code.String()
		}
		out = append(out, v)
	}
	return out
}

// TestSecretVectors keeps testdata/dataflux-secret.json equal to what
// makeSecretVectors produces (-update rewrites it) and checks the verifier
// against every vector in the file.
func TestSecretVectors(t *testing.T) {
	gen := makeSecretVectors(t)
	want, err := json.MarshalIndent(map[string]any{
		"description": "DATAFLUX requests signed with workspace secrets, generated by signer/secret_vectors_test.go (go test ./signer -run TestSecretVectors -update). Verify each with the key set it names.",
		"scheme":      "DATAFLUX",
		"vectors":     gen,
	}, "", "  ")
	require.NoError(t, err)
	want = append(want, '\n')
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(secretVectorsFile), 0o755))
		require.NoError(t, os.WriteFile(secretVectorsFile, want, 0o644))
	}
	got, err := os.ReadFile(secretVectorsFile)
	require.NoError(t, err, "run go test ./signer -run TestSecretVectors -update")
	assert.Equal(t, string(want), string(got), "the vectors file is stale; regenerate it with -update")

	var file struct {
		Vectors []secretVector `json:"vectors"`
	}
	require.NoError(t, json.Unmarshal(got, &file))
	require.Len(t, file.Vectors, len(gen))
	byName := map[string]ErrorCode{}
	for c := range codeNames {
		byName[c.String()] = c
	}
	for _, v := range file.Vectors {
		t.Run(v.ID, func(t *testing.T) {
			body, err := base64.StdEncoding.DecodeString(v.BodyBase64)
			require.NoError(t, err)
			h := http.Header{}
			for k, val := range v.Headers {
				h.Set(k, val)
			}
			r := Request{Method: v.Method, Path: v.Path, Header: h, Body: body}
			vf := &DatafluxVerifier{Now: func() time.Time { return v.Now }}
			tok, err := vf.VerifyKeys(r, func(token string) (DatafluxKeys, error) {
				if token != v.Token {
					return DatafluxKeys{}, errors.New("no such token")
				}
				return DatafluxKeys{Secrets: v.Secrets, AllowBodyKey: v.AllowBodyKey, RequireContentMD5: v.RequireContentMD5}, nil
			})
			if v.Valid {
				require.NoError(t, err, v.Note)
				assert.Equal(t, v.Token, tok)
				return
			}
			require.Error(t, err, v.Note)
			code, ok := byName[v.Error]
			require.True(t, ok, "unknown error name %q", v.Error)
			assert.ErrorIs(t, err, code, "%v", err)
			// Under the key set of the old scheme (body key only, no
			// secret) a secret-keyed vector never verifies either.
			if v.SignedWithKey != DatafluxBodyKey(body) {
				_, err := vf.VerifyKeys(r, func(string) (DatafluxKeys, error) { return DatafluxKeys{AllowBodyKey: true}, nil })
				assert.Error(t, err)
			}
		})
	}
}

// TestDatafluxTransportSignsWithSecret: the transport kodoclient.Client uses
// produces requests the verifier accepts under the secret only.
func TestDatafluxTransportSignsWithSecret(t *testing.T) {
	body := []byte("cpu v=1\n")
	r := signed(t, datafluxAtT0("tkn_s", "the-secret", AlgoSHA256), "POST", "/v1/write", body, map[string]string{"Content-Type": "text/plain"})
	v := &DatafluxVerifier{Now: fixed(t0)}
	keys := func(k DatafluxKeys) func(string) (DatafluxKeys, error) {
		return func(string) (DatafluxKeys, error) { return k, nil }
	}
	_, err := v.VerifyKeys(r, keys(DatafluxKeys{Secrets: []string{"the-secret"}, RequireContentMD5: true}))
	require.NoError(t, err)
	_, err = v.VerifyKeys(r, keys(DatafluxKeys{Secrets: []string{"new", "the-secret"}}))
	require.NoError(t, err, "an agent still on the previous secret verifies during the overlap")
	_, err = v.VerifyKeys(r, keys(DatafluxKeys{AllowBodyKey: true}))
	assert.ErrorIs(t, err, ErrSignatureMismatch)
	_, err = v.VerifyKeys(r, keys(DatafluxKeys{Secrets: []string{"new"}}))
	assert.ErrorIs(t, err, ErrSignatureMismatch)
}
