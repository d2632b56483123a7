package docs_test

import (
	"fmt"

	"github.com/kodo-project/kodo/storage/docs"
)

func ExampleSearchRequest_Normalize() {
	req, err := docs.SearchRequest{WorkspaceUUID: "wksp_1", Kind: docs.KindLogging}.Normalize()
	fmt.Println(req.Limit, err)
	_, err = docs.SearchRequest{WorkspaceUUID: "wksp_1", Kind: docs.KindLogging, Limit: 20000}.Normalize()
	fmt.Println(err)
	// Output:
	// 100 <nil>
	// docs: invalid input: limit 20000 out of range 1..10000
}

func ExampleAppendFieldsJSON() {
	b, _ := docs.AppendFieldsJSON(nil, map[string]any{"status": int64(200), "ratio": 1.0, "ok": true})
	fmt.Println(string(b))
	m, _ := docs.DecodeFields(b)
	fmt.Printf("%T %T\n", m["status"], m["ratio"])
	// Output:
	// {"ok":true,"ratio":1.0,"status":200}
	// int64 float64
}

func ExampleWords() {
	fmt.Println(docs.Words("GET /index.html failed: Timeout"))
	// Output: [get index html failed timeout]
}
