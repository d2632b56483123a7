package signer

import (
	"crypto/md5"
	"encoding/base64"
	"io"
	"net/http"
	"testing"
)

// benchBody is ~500 KB of line protocol (5,000 lines), the size of a big
// agent flush; DATAFLUX and DWAY hash all of it on every request.
func benchBody(b *testing.B) []byte {
	body := lineBody(5000)
	if len(body) < 400_000 {
		b.Fatalf("bench body too small: %d bytes", len(body))
	}
	return body
}

// benchVerify times verify over a body of n bytes.
func benchVerify(b *testing.B, n int, verify func() error) {
	b.SetBytes(int64(n))
	b.ReportAllocs()
	for b.Loop() {
		if err := verify(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyDataflux(b *testing.B) {
	body := benchBody(b)
	for _, algo := range []Algo{AlgoSHA256, AlgoSHA1} {
		b.Run(algo.String(), func(b *testing.B) {
			r := signed(b, datafluxAtT0("tkn", "", algo), "POST", "/v1/write/metrics", body, nil)
			v := &DatafluxVerifier{Now: fixed(t0)}
			secretFor := func(string) (string, error) { return "", nil }
			benchVerify(b, len(body), func() error { _, err := v.Verify(r, secretFor); return err })
		})
	}
}

func BenchmarkVerifyDway(b *testing.B) {
	body := benchBody(b)
	r := signed(b, func(base http.RoundTripper) http.RoundTripper {
		t := NewDwayTransport(base, "ak", "sk")
		t.Now = fixed(t0)
		return t
	}, "POST", "/v1/write/metrics", body, map[string]string{"Content-Type": "text/plain"})
	v := &DwayVerifier{Now: fixed(t0)}
	lookup := func(string) (KeyPair, error) { return KeyPair{"ak", "sk"}, nil }
	benchVerify(b, len(body), func() error { _, err := v.Verify(r, lookup); return err })
}

// Pandora signs no body; only a Content-MD5 header makes the verifier hash
// it, so the small-body cases measure the signature alone.
func BenchmarkVerifyPandora(b *testing.B) {
	big := benchBody(b)
	small := big[:1024]
	secretFor := func(string) (string, error) { return "SK", nil }
	aksk := func(b *testing.B, body []byte, hdr map[string]string) {
		r := signed(b, func(base http.RoundTripper) http.RoundTripper {
			t := NewPandoraTransport(base, "AK", "SK")
			t.Now = fixed(t0)
			return t
		}, "POST", "/v4/repos/r1/points", body, hdr)
		v := &PandoraVerifier{Now: fixed(t0)}
		benchVerify(b, len(body), func() error { _, err := v.Verify(r, secretFor); return err })
	}
	b.Run("aksk_1KB", func(b *testing.B) {
		aksk(b, small, map[string]string{"Content-Type": "text/plain", "X-Qiniu-Request-Tag": "t"})
	})
	b.Run("aksk_content-md5_500KB", func(b *testing.B) {
		sum := md5.Sum(big)
		aksk(b, big, map[string]string{"Content-Type": "text/plain", "Content-MD5": base64.StdEncoding.EncodeToString(sum[:])})
	})
	b.Run("token_1KB", func(b *testing.B) {
		tok, err := MakePandoraToken("AK", "SK", PandoraToken{Resource: "/v4/repos/r1/points", Method: "POST", Expires: t0.Unix() + 3600})
		if err != nil {
			b.Fatal(err)
		}
		r := Request{Method: "POST", Path: "/v4/repos/r1/points", Header: http.Header{"Authorization": {tok}}, Body: small}
		v := &PandoraVerifier{Now: fixed(t0)}
		benchVerify(b, len(small), func() error { _, err := v.Verify(r, secretFor); return err })
	})
}

func BenchmarkParseAuthorization(b *testing.B) {
	h := "DATAFLUX tkn_0123456789abcdef:vzjoYIULtrMZgOLZOMyU2gNaBiocSPepj7Z8pmbLUlo="
	b.SetBytes(int64(len(h)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseAuthorization(h); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDatafluxTransport(b *testing.B) {
	body := benchBody(b)
	tr := NewDatafluxTransport(discardRT{}, "tkn", "", AlgoSHA256)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		req, _ := http.NewRequest("POST", "http://kodo.test/v1/write/metrics", bytesReader(body))
		resp, err := tr.RoundTrip(req)
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
	}
}

// discardRT drains the body and answers 200, so the transport benchmark
// measures signing rather than the test double.
type discardRT struct{}

func (discardRT) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	return &http.Response{StatusCode: 200, Body: http.NoBody, Request: r}, nil
}
