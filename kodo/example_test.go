package kodo_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"

	"github.com/kodo-project/kodo/kodo"
)

// ExampleNew embeds a gateway next to an application's own handler and
// creates a workspace through the management API.
func ExampleNew() {
	dir, _ := os.MkdirTemp("", "kodo-example")
	defer os.RemoveAll(dir)

	srv, err := kodo.New(kodo.Options{DataDir: dir})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Shutdown(context.Background())

	mux := http.NewServeMux()
	mux.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "hi") })
	mux.Handle("/", srv.Handler())
	ts := httptest.NewServer(mux)
	defer ts.Close()

	resp, err := http.Post(ts.URL+"/v1/workspace/create", "application/json", strings.NewReader(`{"name":"demo"}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	var env struct {
		Code    int `json:"code"`
		Content struct {
			Token string `json:"token"`
			RP    string `json:"rp"`
		} `json:"content"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&env)
	fmt.Println(env.Code, strings.HasPrefix(env.Content.Token, "tkn_"), env.Content.RP)
	// Output: 200 true rp3
}
