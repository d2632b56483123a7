package tsdbapi

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestParseError(t *testing.T) {
	tests := []struct {
		status int
		body   string
		want   Error
	}{
		{404, `{"error":"E6303: Series does not exist: series \"x\""}`, Error{Status: 404, Code: "E6303", Message: `Series does not exist: series "x"`}},
		{401, `{"error":"bad token"}`, Error{Status: 401, Message: "bad token"}},
		{502, `<html>bad gateway</html>`, Error{Status: 502, Message: "<html>bad gateway</html>"}},
		{500, ``, Error{Status: 500, Message: "Internal Server Error"}},
		{400, `{"error":"Exx: odd"}`, Error{Status: 400, Message: "Exx: odd"}},
	}
	for _, tc := range tests {
		assert.Equal(t, &tc.want, ParseError(tc.status, []byte(tc.body)), tc.body)
	}
}

// FuzzParseError: the client turns any answer into an *Error.
func FuzzParseError(f *testing.F) {
	f.Add(404, `{"error":"E6303: Series does not exist"}`)
	f.Add(401, `{"error":"bad token"}`)
	f.Add(500, `<html>`)
	f.Add(400, `{"error":"E:"}`)
	f.Fuzz(func(t *testing.T, status int, body string) {
		e := ParseError(status, []byte(body))
		if e == nil || e.Status != status || e.Message == "" && body != "" && strings.TrimSpace(body) != "" && !strings.HasPrefix(strings.TrimSpace(body), "{") {
			t.Fatalf("ParseError(%d, %q) = %+v", status, body, e)
		}
		if e.Code != "" && (e.Code[0] != 'E' || !isDigits(e.Code[1:])) {
			t.Fatalf("bad code %q from %q", e.Code, body)
		}
	})
}
