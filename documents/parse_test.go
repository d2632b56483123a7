package documents

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kodo-project/kodo/lineproto"
	"github.com/kodo-project/kodo/storage/docs"
)

var now = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

func TestParseObjects(t *testing.T) {
	body := `[{"__name":"web-1","__tags":{"__class":"host","zone":"z1","cpus":8,"vm":true},"__content":"ubuntu 22.04","uptime":12.5,"pid":42,"extra":{"a":[1]}},
	          {"__name":"db","__tags":{"__class":"mysql"},"__content":{"version":"8.0"}}]`
	got, err := ParseObjects([]byte(body), ParseOptions{Now: now})
	require.NoError(t, err)
	assert.Equal(t, []docs.Document{
		{Kind: docs.KindObject, Name: "web-1", Class: "host", Time: now.UnixNano(),
			Tags:   map[string]string{"zone": "z1", "cpus": "8", "vm": "true"},
			Fields: map[string]any{"uptime": 12.5, "pid": int64(42), "extra": `{"a":[1]}`}, Content: "ubuntu 22.04"},
		{Kind: docs.KindObject, Name: "db", Class: "mysql", Time: now.UnixNano(), Content: `{"version":"8.0"}`},
	}, got)
}

func TestParseObjectsErrors(t *testing.T) {
	tests := []struct{ body, want string }{
		{`{"__name":"x"}`, "object: body must be a JSON array of objects, got object"},
		{`[{"__name":"x",]`, "object: body is not valid JSON at byte 16"},
		{` `, "object: body is empty: want a JSON array of objects"},
		{`[1]`, "object 0: must be a JSON object with __name and __tags"},
		{`[{"__name":"a","__tags":{"__class":"c"}},{"__tags":{"__class":"c"}}]`, "object 1: __name is required and must be a non-empty string"},
		{`[{"__name":"","__tags":{"__class":"c"}}]`, "object 0: __name is required"},
		{`[{"__name":"a"}]`, `object 0 (__name "a"): __tags is required and must be an object holding __class`},
		{`[{"__name":"a","__tags":{"zone":"z"}}]`, `object 0 (__name "a"): __tags.__class is required and must be a non-empty string`},
		{`[{"__name":"a","__tags":{"__class":7}}]`, `__tags.__class is required`},
		{`[{"__name":"a","__tags":{"__class":"c","t":[1]}}]`, `object 0 (__name "a"): tag "t" must be a string, number or boolean`},
		{`[{"__name":"a","__tags":{"__class":"c","":"v"}}]`, `__tags has an empty key`},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			_, err := ParseObjects([]byte(tc.body), ParseOptions{Now: now})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			var pe *ParseError
			require.True(t, errors.As(err, &pe))
			assert.ErrorIs(t, err, docs.ErrInvalid)
		})
	}
	_, err := ParseObjects([]byte(`[{},{},{}]`), ParseOptions{MaxItems: 2})
	assert.ErrorContains(t, err, "3 objects exceed the limit of 2")
}

func TestParseLogsAndKeyEvents(t *testing.T) {
	body := "nginx,host=web1 message=\"GET / 200\",status=200i,__content=\"x\" 1709294400000\n" +
		"nginx,host=web2 status=500i\n"
	got, err := ParseLogs([]byte(body), "access", ParseOptions{Precision: lineproto.Millisecond, Now: now})
	require.NoError(t, err)
	assert.Equal(t, []docs.Document{
		{Kind: docs.KindLogging, Name: "nginx", Source: "access", Time: 1709294400000 * int64(time.Millisecond),
			Tags: map[string]string{"host": "web1"}, Fields: map[string]any{"status": int64(200), "__content": "x"}, Content: "GET / 200"},
		{Kind: docs.KindLogging, Name: "nginx", Source: "access", Time: now.UnixNano(),
			Tags: map[string]string{"host": "web2"}, Fields: map[string]any{"status": int64(500)}},
	}, got)

	got, err = ParseLogs([]byte("redis message=\"ready\",__content=\"c\""), "", ParseOptions{Now: now})
	require.NoError(t, err)
	assert.Equal(t, "redis", got[0].Source, "without a source parameter the measurement is the source")
	assert.Equal(t, "ready", got[0].Content)

	got, err = ParseLogs([]byte("redis message=1i,__content=\"fallback\""), "", ParseOptions{Now: now})
	require.NoError(t, err)
	assert.Equal(t, "fallback", got[0].Content, "a non-string message stays a field")
	assert.Equal(t, map[string]any{"message": int64(1)}, got[0].Fields)

	got, err = ParseKeyEvents([]byte("deploy,env=prod __content=\"v2 out\",__title=\"Deploy\",message=\"m\" 1"), ParseOptions{Now: now})
	require.NoError(t, err)
	assert.Equal(t, []docs.Document{{Kind: docs.KindKeyEvent, Name: "deploy", Time: 1, Tags: map[string]string{"env": "prod"},
		Fields: map[string]any{"__title": "Deploy", "message": "m"}, Content: "v2 out"}}, got)
}

func TestParseLinesErrorsNameTheLine(t *testing.T) {
	body := "ok message=\"fine\"\nbad line here\nalso bad=\n"
	_, err := ParseLogs([]byte(body), "s", ParseOptions{Now: now})
	require.Error(t, err)
	var pe *ParseError
	require.True(t, errors.As(err, &pe))
	assert.Equal(t, 2, pe.Line)
	assert.Contains(t, err.Error(), "logging: line 2, column")
	assert.Contains(t, err.Error(), "and 1 more bad lines; nothing was stored")
	var part *lineproto.PartialError
	require.True(t, errors.As(err, &part), "the line-protocol error with every bad line is reachable")
	assert.Equal(t, 2, part.Rejected)
	assert.ErrorIs(t, err, docs.ErrInvalid)

	_, err = ParseKeyEvents([]byte("e x=1 1"), ParseOptions{Limits: lineproto.Limits{MaxPoints: 0}})
	require.NoError(t, err)
	_, err = ParseKeyEvents([]byte("e x=1\ne x=2\n"), ParseOptions{Limits: lineproto.Limits{MaxPoints: 1}})
	assert.ErrorContains(t, err, "keyevent: line")
}

// parsed reports whether a fuzzed parse succeeded, failing the test on an
// error that is not a *ParseError.
func parsed(t *testing.T, err error) bool {
	var pe *ParseError
	if err != nil && !errors.As(err, &pe) {
		t.Fatalf("untyped error %T: %v", err, err)
	}
	return err == nil
}

func FuzzParseObjects(f *testing.F) {
	f.Add([]byte(`[{"__name":"a","__tags":{"__class":"c","k":1},"__content":"x","n":1.5}]`))
	f.Add([]byte(`[{"__name":"a","__tags":null}]`))
	f.Add([]byte(`[null]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		ds, err := ParseObjects(body, ParseOptions{Now: now})
		if !parsed(t, err) {
			return
		}
		for _, d := range ds {
			if d.Name == "" || d.Class == "" {
				t.Fatalf("accepted object without name or class: %+v", d)
			}
			if _, err := docs.AppendFieldsJSON(nil, d.Fields); err != nil {
				t.Fatalf("accepted fields the stores refuse: %v", err)
			}
		}
	})
}

func FuzzParseLogs(f *testing.F) {
	f.Add([]byte("nginx,host=a message=\"x\",n=1i 1\n"), "src")
	f.Add([]byte("m message=\"multi\nline\" 1"), "")
	f.Fuzz(func(t *testing.T, body []byte, source string) {
		ds, err := ParseLogs(body, source, ParseOptions{Now: now})
		if !parsed(t, err) {
			return
		}
		for _, d := range ds {
			if d.Source == "" {
				t.Fatalf("log without source: %+v", d)
			}
			if _, err := docs.AppendFieldsJSON(nil, d.Fields); err != nil {
				t.Fatalf("accepted fields the stores refuse: %v", err)
			}
		}
	})
}
