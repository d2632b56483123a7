package jsonbody_test

import (
	"fmt"

	"github.com/kodo-project/kodo/internal/jsonbody"
)

// The error names the value as the user wrote it, with the element index,
// and the JSON kind expected.
func ExampleDecode() {
	var req struct {
		Measurements []struct {
			AggrEvery string `json:"aggr_every"`
		} `json:"measurements"`
	}
	err := jsonbody.Decode([]byte(`{"measurements":[{"aggr_every":"1m"},{"aggr_every":60}]}`), &req, jsonbody.Options{})
	fmt.Println(err)
	// Output: field "measurements[1].aggr_every" must be a string, not JSON number
}
