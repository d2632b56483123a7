package kodoapi_test

import (
	"encoding/json"
	"fmt"

	"github.com/kodo-project/kodo/kodo/kodoapi"
)

// An answer is decoded in two steps: the envelope, then its content as
// the shape the call answers.
func ExampleEnvelope() {
	body := []byte(`{"code":200,"content":{"version":"0.1.0","status":"ok","engines":{"iflx_1":"ok"}},"errorCode":"","message":""}`)
	var env kodoapi.Envelope[json.RawMessage]
	if err := json.Unmarshal(body, &env); err != nil {
		fmt.Println(err)
		return
	}
	var ping kodoapi.Ping
	_ = json.Unmarshal(env.Content, &ping)
	fmt.Println(env.Code, ping.Status, ping.Engines["iflx_1"])
	// Output: 200 ok ok
}

// Error codes carry their HTTP status and their wire form.
func ExampleErrorCode() {
	fmt.Println(kodoapi.ErrTokenNotFound.Wire(), kodoapi.ErrTokenNotFound.Status())
	fmt.Println(kodoapi.ErrInsufficientStorage.Wire(), kodoapi.ErrInsufficientStorage.Status())
	// Output:
	// kodo.tokenNotFound 403
	// kodo.insufficientStorage 507
}

// A series row of a query answer, found by column name.
func ExampleRow_Column() {
	row := kodoapi.Row{Name: "cpu", Columns: []string{"time", "mean"}, Values: [][]any{{1700000000000, 12.5}}}
	fmt.Println(row.Values[0][row.Column("mean")], row.Column("max"))
	// Output: 12.5 -1
}
