package embedded

import (
	"encoding/json"
	"hash/fnv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kodo-project/kodo/storage/docs"
)

func TestAppendWords(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"", ""},
		{"  ,;  ", ""},
		{"GET /index.html 200", "get index html 200"},
		{"User ALICE logged_in", "user alice logged in"},
		{"Ärger über Öl", "ärger über öl"},
		{"值 ключ=Значение", "值 ключ значение"},
		{"数据库连接失败，请检查", "数 据 库 连 接 失 败 请 检 查"},
		{"MySQL连接失败error42", "mysql 连 接 失 败 error42"},
		{"ログのエラーABC", "ログ の エラー abc"},
		{"x²y ½", "x y"},      // No/superscripts are not digits for docs.Words
		{"a\xffb\xc3", "a b"}, // invalid UTF-8 separates words
		{"tab\tnew\nline\"q\\", "tab new line q"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			assert.Equal(t, tc.want, string(appendWords(nil, tc.in)))
			assert.Equal(t, strings.Join(docs.Words(tc.in), " "), tc.want, "the index must follow docs.Words")
			assert.Equal(t, "pre"+tc.want, string(appendWords([]byte("pre"), tc.in)), "separators are relative to the start")
		})
	}
}

// FuzzAppendWords checks that the index text splits content exactly as
// docs.Words splits queries, and that it needs no JSON escaping.
func FuzzAppendWords(f *testing.F) {
	for _, s := range []string{"GET /a 200", "Ärger über", "\xff\xfe", "a_b-c", "x²", "İstanbul ǅ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := string(appendWords(nil, s))
		require.Equal(t, strings.Join(docs.Words(s), " "), got)
		quoted, err := json.Marshal(got)
		require.NoError(t, err)
		require.Equal(t, `"`+got+`"`, string(quoted), "index text must be valid JSON string content as is")
	})
}

func TestTermToken(t *testing.T) {
	for _, term := range []string{"", "host=web1", "ключ=значение 值", "a=b=c"} {
		h := fnv.New64a()
		h.Write([]byte(term))
		var want []byte
		want = append(want, '_')
		for i := 60; i >= 0; i -= 4 {
			want = append(want, hexDigits[(h.Sum64()>>uint(i))&0xf])
		}
		assert.Equal(t, string(want), termToken(term))
		assert.Len(t, termToken(term), 17)
	}
	assert.NotEqual(t, termToken("host=web1"), termToken("host=web2"))
}

func TestAppendIndexText(t *testing.T) {
	d := docs.Document{Name: "nginx", Source: "ngx", Tags: map[string]string{"host": "web1"},
		Fields: map[string]any{"status": int64(500), "bad": []int{1}}, Content: "Upstream TIMEOUT"}
	got := strings.Fields(string(appendIndexText(nil, &d)))
	want := []string{"upstream", "timeout"}
	for _, term := range docs.Terms(&d) {
		want = append(want, termToken(term))
	}
	assert.ElementsMatch(t, want, got)
	assert.Equal(t, []string{"upstream", "timeout"}, got[:2], "words come first")
	assert.Empty(t, appendIndexText(nil, &docs.Document{}))
}
