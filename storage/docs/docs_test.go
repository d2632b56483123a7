package docs

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFieldsRoundTrip(t *testing.T) {
	tests := []struct {
		in   map[string]any
		json string
	}{
		{map[string]any{"f": 2.0, "i": int64(2), "u": uint64(math.MaxUint64), "b": true, "s": "x\"y"}, `{"b":true,"f":2.0,"i":2,"s":"x\"y","u":18446744073709551615}`},
		{map[string]any{"e": 1e300, "n": -0.5}, `{"e":1e+300,"n":-0.5}`},
		{nil, `{}`},
	}
	for _, tc := range tests {
		b, err := AppendFieldsJSON(nil, tc.in)
		require.NoError(t, err)
		assert.Equal(t, tc.json, string(b))
		got, err := DecodeFields(b)
		require.NoError(t, err)
		if tc.in == nil {
			assert.Empty(t, got)
			continue
		}
		assert.Equal(t, tc.in, got)
	}
	_, err := AppendFieldsJSON(nil, map[string]any{"x": math.NaN()})
	assert.ErrorIs(t, err, ErrInvalid)
	_, err = AppendFieldsJSON(nil, map[string]any{"x": []int{1}})
	assert.ErrorIs(t, err, ErrInvalid)
	_, err = DecodeFields([]byte(`[`))
	assert.Error(t, err)
}

func TestWordsAndTerms(t *testing.T) {
	assert.Equal(t, []string{"get", "index", "html", "200", "ünï", "日", "志"}, Words("GET /index.html 200 ÜNÏ, 日志!"))
	// Chinese and Japanese split as Elasticsearch's standard analyzer
	// does: one word per ideograph and hiragana, katakana runs whole.
	assert.Equal(t, []string{"数", "据", "库", "连", "接", "失", "败", "请", "检", "查", "配", "置"}, Words("数据库连接失败，请检查配置"))
	assert.Equal(t, []string{"mysql", "连", "接", "失", "败", "error", "42"}, Words("MySQL连接失败error 42"))
	assert.Equal(t, []string{"サーバー", "が", "停", "止", "し", "ま", "し", "た", "v2"}, Words("サーバーが停止しましたv2"))
	assert.Equal(t, []string{"ログ", "の", "エラー"}, Words("ログのエラー"))
	assert.Equal(t, []string{"한국어", "로그"}, Words("한국어 로그"), "Hangul words stay whole")
	assert.Empty(t, Words(" ,.;"))
	d := Document{Name: "n", Class: "c", Source: "s", Tags: map[string]string{"t": "v"}, Fields: map[string]any{"f": 1.5, "x": []int{}}}
	assert.ElementsMatch(t, []string{"__name=n", "__class=c", "__source=s", "t=v", "f=1.5"}, Terms(&d))
}

func TestParseKindAndSort(t *testing.T) {
	for in, want := range map[string]Kind{"object": KindObject, "Logs": KindLogging, "keyevent": KindKeyEvent} {
		k, err := ParseKind(in)
		require.NoError(t, err)
		assert.Equal(t, want, k)
	}
	_, err := ParseKind("metric")
	assert.Error(t, err)
	s, err := ParseSort("asc")
	require.NoError(t, err)
	assert.Equal(t, SortTimeAsc, s)
	_, err = ParseSort("name")
	assert.ErrorIs(t, err, ErrInvalid)
}

func TestDocID(t *testing.T) {
	a := Document{Name: "h", Class: "host", Time: 1, Content: "x"}
	b := a
	b.Content, b.Time = "y", 2
	assert.Equal(t, DocID("w", KindObject, &a), DocID("w", KindObject, &b), "objects are identified by class and name")
	assert.NotEqual(t, DocID("w", KindLogging, &a), DocID("w", KindLogging, &b))
	assert.NotEqual(t, DocID("w", KindLogging, &a), DocID("w2", KindLogging, &a))
	c := a
	c.Time = 5
	assert.Negative(t, bytes.Compare(DocID("w", KindLogging, &a), DocID("w", KindLogging, &c)), "log ids sort by time")
}

func FuzzDecodeFields(f *testing.F) {
	f.Add([]byte(`{"a":1,"b":2.0,"c":"x","d":true}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := DecodeFields(data)
		if err != nil {
			return
		}
		scalar := true
		for _, v := range m {
			if _, ok := FormatValue(v); !ok {
				scalar = false
			}
		}
		if !scalar {
			return
		}
		b, err := AppendFieldsJSON(nil, m)
		require.NoError(t, err)
		m2, err := DecodeFields(b)
		require.NoError(t, err)
		require.Equal(t, m, m2)
	})
}

func TestAppendTagsJSON(t *testing.T) {
	tests := []map[string]string{
		nil,
		{},
		{"host": "web1", "level": "info"},
		{"ключ": "значение 值", "q": "a \"quoted\"\nline\\", "<": "&>"},
	}
	for _, tags := range tests {
		b, _ := AppendTagsJSON(nil, tags, nil)
		var back map[string]string
		require.NoError(t, json.Unmarshal(b, &back), "%s", b)
		if len(tags) == 0 {
			assert.Empty(t, back)
			continue
		}
		assert.Equal(t, tags, back)
		want, err := json.Marshal(tags)
		require.NoError(t, err)
		var wantBack map[string]string
		require.NoError(t, json.Unmarshal(want, &wantBack))
		assert.Equal(t, wantBack, back)
		assert.Equal(t, string(want), string(b), "the bytes of json.Marshal")
	}
	b, _ := AppendTagsJSON(nil, map[string]string{"b": "2", "a": "1", "c": "3"}, nil)
	assert.Equal(t, `{"a":"1","b":"2","c":"3"}`, string(b), "keys are sorted")
}
