package elastic_test

import (
	"encoding/json"
	"fmt"

	"github.com/kodo-project/kodo/storage/docs"
	"github.com/kodo-project/kodo/storage/docs/elastic"
)

func ExampleStore_IndexName() {
	s, err := elastic.New("http://127.0.0.1:9200", elastic.Options{}) // no request is made
	if err != nil {
		panic(err)
	}
	defer s.Close()
	fmt.Println(s.IndexName("wksp_1", docs.KindObject, 0))
	fmt.Println(s.IndexName("wksp_1", docs.KindLogging, 1709251200000000000))
	// Output:
	// kodo-object-wksp_1
	// kodo-logging-wksp_1-2024.03.01
}

func ExampleQuery() {
	q := elastic.Query(docs.SearchRequest{WorkspaceUUID: "wksp_1", Kind: docs.KindObject,
		Filters: []docs.Filter{{Key: docs.KeyClass, Value: "host"}}, Limit: 10, Sort: docs.SortTimeAsc})
	b, _ := json.Marshal(q["query"])
	fmt.Println(string(b))
	// Output: {"bool":{"filter":[{"term":{"ws":"wksp_1"}},{"term":{"kind":"object"}},{"term":{"class":"host"}}]}}
}
