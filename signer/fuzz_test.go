package signer

import (
	"errors"
	"net/http"
	"strings"
	"testing"
)

func FuzzParseAuthorization(f *testing.F) {
	for _, s := range []string{
		"DATAFLUX tkn_0123456789abcdef:vzjoYIULtrMZgOLZOMyU2gNaBiocSPepj7Z8pmbLUlo=",
		"DWAY dw_sk_vector_1:KaDN9Bs1Pe3xWPrjGKL4UQj5lgk=",
		"Pandora AK_VECTOR_1:jOtRB2LZsKfcPS_peuQShEgJA1Q=",
		"Pandora AK:sig:eyJyZXNvdXJjZSI6Ii92NCJ9",
		"", " ", "DATAFLUX", "Pandora ::", "DWAY a:b:c", "pandora\tx:y",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseAuthorization(s)
		if err != nil {
			var se *Error
			if !errors.As(err, &se) {
				t.Fatalf("untyped error %T: %v", err, err)
			}
			return
		}
		if c.ID == "" || c.Signature == "" || c.Scheme != SchemeOf(s) {
			t.Fatalf("inconsistent parse of %q: %+v", s, c)
		}
		if strings.Contains(c.Signature, ":") {
			t.Fatalf("signature with a colon from %q", s)
		}
	})
}

func FuzzDecodePandoraToken(f *testing.F) {
	for _, s := range []string{
		"eyJyZXNvdXJjZSI6Ii92NC9yZXBvcy9yMS9wb2ludHMiLCJleHBpcmVzIjo0MTAyNDQ0ODAwLCJjb250ZW50TUQ1IjoiIiwiY29udGVudFR5cGUiOiIiLCJoZWFkZXJzIjoiIiwibWV0aG9kIjoiUE9TVCJ9",
		"eyJyZXNvdXJjZSI6Ii92NCJ9", "e30=", "bnVsbA", "", "====", "W10=",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := DecodePandoraToken(s)
		if err != nil {
			if CodeOf(err) != ErrBadFormat {
				t.Fatalf("want ErrBadFormat, got %v", err)
			}
			return
		}
		if tok.Resource == "" || tok.Method == "" || tok.Expires <= 0 {
			t.Fatalf("accepted incomplete token %+v", tok)
		}
	})
}

// FuzzVerify feeds arbitrary Authorization, Date and Content-MD5 headers
// and bodies to all three verifiers: they must return a typed error (or,
// never in practice, success) and never panic.
func FuzzVerify(f *testing.F) {
	f.Add("DATAFLUX tkn:vzjoYIULtrMZgOLZOMyU2gNaBiocSPepj7Z8pmbLUlo=", "Mon, 23 Nov 2026 00:11:36 GMT", "", []byte("x"))
	f.Add("DWAY ak:KaDN9Bs1Pe3xWPrjGKL4UQj5lgk=", "Mon, 23 Nov 2026 00:11:36 GMT", "", []byte{})
	f.Add("Pandora AK:jOtRB2LZsKfcPS_peuQShEgJA1Q=:e30=", "", "1B2M2Y8AsgTpgAmY7PhCfg==", []byte(nil))
	f.Add("Pandora AK:jOtRB2LZsKfcPS_peuQShEgJA1Q=", "Sunday, 06-Nov-94 08:49:37 GMT", "d41d8cd98f00b204e9800998ecf8427e", []byte("body"))
	now := fixed(t0)
	df := &DatafluxVerifier{Now: now}
	dw := &DwayVerifier{Now: now}
	pv := &PandoraVerifier{Now: now}
	f.Fuzz(func(t *testing.T, auth, date, contentMD5 string, body []byte) {
		h := http.Header{}
		for k, v := range map[string]string{"Authorization": auth, "Date": date, "Content-MD5": contentMD5} {
			if v != "" {
				h.Set(k, v)
			}
		}
		r := Request{Method: "POST", Path: "/v4/repos/r1/points", Header: h, Body: body}
		check := func(err error) {
			var se *Error
			if err != nil && !errors.As(err, &se) {
				t.Fatalf("untyped error %T: %v", err, err)
			}
		}
		_, err := df.Verify(r, func(string) (string, error) { return "", nil })
		check(err)
		for _, k := range []DatafluxKeys{{Secrets: []string{"s1", "s0"}, RequireContentMD5: true}, {Secrets: []string{"s1"}, AllowBodyKey: true}, {}} {
			_, err = df.VerifyKeys(r, func(string) (DatafluxKeys, error) { return k, nil })
			check(err)
		}
		_, err = dw.Verify(r, func(id string) (KeyPair, error) { return KeyPair{AccessKey: id, SecretKey: "sk"}, nil })
		check(err)
		_, err = pv.Verify(r, func(string) (string, error) { return "SK", nil })
		check(err)
	})
}
