package signer_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/kodo-project/kodo/signer"
)

// The DATAFLUX signature of vector dataflux-01: an agent without a secret
// keys the HMAC with the hex MD5 of the body.
func ExampleSignDataflux() {
	body := []byte("cpu,host=web\\ 01,region=cn\\,east usage=1.5,count=3i,ok=true,msg=\"say \\\"hi\\\"\" 1600000000000000000\n" +
		"mem,host=db-1 free=1024i 1600000000000000001\n")
	key := signer.DatafluxBodyKey(body)
	sts := signer.DatafluxStringToSign("POST", key, "", "Mon, 23 Nov 2026 00:11:36 GMT")
	fmt.Println(key)
	fmt.Println(signer.SignDataflux(key, sts, signer.AlgoSHA256))
	// Output:
	// 3cd640ae1a6cbd98983675e2cfd6529a
	// vzjoYIULtrMZgOLZOMyU2gNaBiocSPepj7Z8pmbLUlo=
}

func ExampleDatafluxVerifier_Verify() {
	now := time.Date(2026, 11, 23, 0, 11, 36, 0, time.UTC)
	body := []byte("cpu usage=1 1600000000000000000\n")
	md5hex := signer.DatafluxBodyKey(body)
	date := now.Format(http.TimeFormat)
	sig := signer.SignDataflux(md5hex, signer.DatafluxStringToSign("POST", md5hex, "", date), signer.AlgoSHA256)
	r := signer.Request{Method: "POST", Path: "/v1/write/metrics", Body: body, Header: http.Header{
		"Authorization": {"DATAFLUX tkn_1:" + sig}, "X-Token": {"tkn_1"},
		"Content-Md5": {md5hex}, "Date": {date},
	}}
	secretFor := func(token string) (string, error) { return "", nil } // no secret: MD5 key
	v := &signer.DatafluxVerifier{Now: func() time.Time { return now }}
	token, err := v.Verify(r, secretFor)
	fmt.Println(token, err)

	// Twenty minutes later the same request is stale.
	v.Now = func() time.Time { return now.Add(20 * time.Minute) }
	_, err = v.Verify(r, secretFor)
	fmt.Println(errors.Is(err, signer.ErrClockSkew))
	// Output:
	// tkn_1 <nil>
	// true
}

func ExampleDwayVerifier_Verify() {
	now := time.Date(2026, 11, 23, 0, 11, 36, 0, time.UTC)
	body := []byte("cpu usage=1 1600000000000000000\n")
	date := now.Format(http.TimeFormat)
	// The conventional (JS SDK) orientation: id = access key, keyed by the secret.
	sig := signer.SignDway("sk1", signer.DwayStringToSign("POST", body, "text/plain", date))
	r := signer.Request{Method: "POST", Path: "/v1/write/metrics", Body: body, Header: http.Header{
		"Authorization": {"DWAY ak1:" + sig}, "Content-Type": {"text/plain"}, "Date": {date},
	}}
	lookup := func(id string) (signer.KeyPair, error) {
		if id == "ak1" || id == "sk1" {
			return signer.KeyPair{AccessKey: "ak1", SecretKey: "sk1"}, nil
		}
		return signer.KeyPair{}, errors.New("no such key")
	}
	kp, err := (&signer.DwayVerifier{Now: func() time.Time { return now }}).Verify(r, lookup)
	fmt.Println(kp.AccessKey, err)
	// Output: ak1 <nil>
}

func ExampleMakePandoraToken() {
	tok, err := signer.MakePandoraToken("AK_VECTOR_1", "SK_VECTOR_1_secret", signer.PandoraToken{
		Resource: "/v4/repos/r1/points", Method: "POST", Expires: 4102444800,
	})
	fmt.Println(tok, err)
	// Output: Pandora AK_VECTOR_1:mPqIkZxR45FZnTGkRuakLTIZg_o=:eyJyZXNvdXJjZSI6Ii92NC9yZXBvcy9yMS9wb2ludHMiLCJleHBpcmVzIjo0MTAyNDQ0ODAwLCJjb250ZW50TUQ1IjoiIiwiY29udGVudFR5cGUiOiIiLCJoZWFkZXJzIjoiIiwibWV0aG9kIjoiUE9TVCJ9 <nil>
}

func ExamplePandoraVerifier_Verify() {
	now := time.Date(2026, 11, 23, 0, 11, 33, 0, time.UTC)
	secretFor := func(ak string) (string, error) {
		if ak == "AK_VECTOR_1" {
			return "SK_VECTOR_1_secret", nil
		}
		return "", errors.New("no such access key")
	}
	v := &signer.PandoraVerifier{Now: func() time.Time { return now }}

	// AK/SK form, vector pandora-02.
	r := signer.Request{Method: "GET", Path: "/v4/repos/r1", Header: http.Header{
		"Authorization": {"Pandora AK_VECTOR_1:91Dow2qpPUVFX_8DW6YENKjG5-M="},
		"Date":          {"Mon, 23 Nov 2026 00:11:33 GMT"},
	}}
	fmt.Println(v.Verify(r, secretFor))

	// A token for one repo does not open another.
	tok, _ := signer.MakePandoraToken("AK_VECTOR_1", "SK_VECTOR_1_secret", signer.PandoraToken{
		Resource: "/v4/repos/r1/points", Method: "POST", Expires: now.Add(time.Hour).Unix(),
	})
	r = signer.Request{Method: "POST", Path: "/v4/repos/r2/points", Header: http.Header{"Authorization": {tok}}}
	_, err := v.Verify(r, secretFor)
	fmt.Println(errors.Is(err, signer.ErrTokenScope))
	fmt.Println(err)
	// Output:
	// AK_VECTOR_1 <nil>
	// true
	// signer: Pandora: token scope mismatch (Authorization): token is for resource "/v4/repos/r1/points", request path is "/v4/repos/r2/points"
}

func ExampleSchemeOf() {
	for _, h := range []string{"DATAFLUX tkn:sig", "DWAY ak:sig", "Pandora ak:sig:desc", "Bearer key"} {
		fmt.Printf("%q\n", signer.SchemeOf(h))
	}
	// Output:
	// "DATAFLUX"
	// "DWAY"
	// "Pandora"
	// ""
}

// A client signs with a transport; the server verifies what arrives.
func ExampleNewDatafluxTransport() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		token, err := (&signer.DatafluxVerifier{}).Verify(signer.FromHTTP(r, body),
			func(string) (string, error) { return "s3cret", nil })
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		fmt.Fprintf(w, "accepted %d bytes for %s", len(body), token)
	}))
	defer srv.Close()

	client := &http.Client{Transport: signer.NewDatafluxTransport(nil, "tkn_1", "s3cret", signer.AlgoSHA256)}
	resp, err := client.Post(srv.URL+"/v1/write/metrics", "text/plain", bytes.NewReader([]byte("cpu usage=1\n")))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.StatusCode, string(msg))
	// Output: 200 accepted 12 bytes for tkn_1
}

func ExampleNewPandoraTransport() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ak, err := (&signer.PandoraVerifier{}).Verify(signer.FromHTTP(r, body),
			func(string) (string, error) { return "SK1", nil })
		if err != nil {
			http.Error(w, `{"error":"bad token"}`, http.StatusUnauthorized)
			return
		}
		fmt.Fprint(w, ak)
	}))
	defer srv.Close()

	for _, sk := range []string{"SK1", "wrong"} {
		client := &http.Client{Transport: signer.NewPandoraTransport(nil, "AK1", sk)}
		resp, err := client.Get(srv.URL + "/v4/repos")
		if err != nil {
			fmt.Println(err)
			return
		}
		resp.Body.Close()
		fmt.Println(resp.StatusCode)
	}
	// Output:
	// 200
	// 401
}
