package jsonbody

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

type limits struct {
	MaxSeries *int `json:"max_series_per_db"`
}

type spec struct {
	Measurement string `json:"measurement"`
	AggrEvery   string `json:"aggr_every"`
}

type request struct {
	Name  string   `json:"name"`
	Specs []spec   `json:"measurements"`
	Tags  []string `json:"tags"`
	Items []struct {
		Limit int `json:"limit"`
	} `json:"sqls"`
	Nested map[string]any `json:"nested"`
	limits
	Flag bool `json:"flag"`
}

func TestDecodeExplains(t *testing.T) {
	for _, c := range []struct {
		body, want string
		opts       Options
	}{
		{body: `{"name": 5}`, want: `field "name" must be a string, not JSON number`},
		{body: `{"max_series_per_db": "x"}`, want: `field "max_series_per_db" must be an integer, not JSON string`},
		{body: `{"measurements": [{"measurement": "a"}, {"aggr_every": 10}]}`, want: `field "measurements[1].aggr_every" must be a string, not JSON number`},
		{body: `{"sqls": "select"}`, want: `field "sqls" must be an array, not JSON string`},
		{body: `{"sqls": [{"limit": 1}, {"limit": "x"}]}`, want: `field "sqls[1].limit" must be an integer, not JSON string`},
		{body: `{"nested": {"a": [1, {"b": 2}]}, "tags": {"a": 1}}`, want: `field "tags" must be an array, not JSON object`},
		{body: `{"tags": ["a", 3]}`, want: `field "tags[1]" must be a string, not JSON number`},
		{body: `{"flag": "yes"}`, want: `field "flag" must be true or false, not JSON string`},
		{body: `[1, 2]`, want: `the body must be an object, not JSON array`},
		{body: `{"name": "a", "bogus": 1}`, want: `unknown field "bogus"`, opts: Options{DisallowUnknownFields: true}},
		{body: `{"name": "a"`, want: `document ends early after 12 bytes`},
		{body: `{"name": "a"} {}`, want: `unexpected data after the JSON document`},
		{body: `{"name": x}`, want: `syntax error at byte 10: invalid character 'x' looking for beginning of value`},
	} {
		var r request
		err := Decode([]byte(c.body), &r, c.opts)
		if assert.Error(t, err, c.body) {
			assert.Equal(t, c.want, err.Error(), c.body)
		}
	}
	var r request
	assert.NoError(t, Decode([]byte(`{"name":"a","bogus":1}`), &r, Options{}))
	assert.Equal(t, "a", r.Name)
}

func FuzzPathAt(f *testing.F) {
	f.Add([]byte(`{"a":[1,{"b":"c"}]}`), int64(10))
	f.Fuzz(func(t *testing.T, data []byte, off int64) {
		_ = PathAt(data, off) // must not panic on any input
	})
}
