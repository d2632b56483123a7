package tsdbapi_test

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/kodo-project/kodo/tsdb/tsdbapi"
)

// An error answer read back: its E-code, its status and its text, which
// errors.Is matches on the code.
func ExampleParseError() {
	err := tsdbapi.ParseError(404, []byte(`{"error":"E6303: Series does not exist: series \"mem\""}`))
	fmt.Println(err.Code, err.Status, err.Message)
	fmt.Println(errors.Is(err, &tsdbapi.Error{Code: "E6303"}), tsdbapi.CodeOf(fmt.Errorf("writing: %w", err)))
	// Output:
	// E6303 404 Series does not exist: series "mem"
	// true E6303
}

// A server answers a code with its status and the documented text,
// followed by a detail naming the culprit.
func ExampleErrorf() {
	e := tsdbapi.Errorf(tsdbapi.CodeSeriesNotFound, "series %q in repo %q", "mem", "app")
	body, _ := json.Marshal(e.Body())
	fmt.Println(e.Status, string(body))
	fmt.Println(tsdbapi.CodeBusy.Status(), tsdbapi.CodeBusy.Text())
	// Output:
	// 404 {"error":"E6303: Series does not exist: series \"mem\" in repo \"app\""}
	// 503 Server is busy, please retry after the Retry-After delay
}

// A series listed with showMeta=true always shows its metadata, even empty.
func ExampleSeriesInfo() {
	withMeta, _ := json.Marshal(tsdbapi.SeriesInfo{Name: "cpu", Retention: "7d", Metadata: map[string]string{}, Type: "1", Deleting: "false"})
	without, _ := json.Marshal(tsdbapi.SeriesInfo{Name: "cpu", Retention: "7d", Type: "1", Deleting: "false"})
	fmt.Println(string(withMeta))
	fmt.Println(string(without))
	// Output:
	// {"name":"cpu","retention":"7d","createTime":"","type":"1","deleting":"false","metadata":{}}
	// {"name":"cpu","retention":"7d","createTime":"","type":"1","deleting":"false"}
}
