package lineproto

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzParse checks that Parse never panics, that every error is typed, and
// that every accepted point re-encodes and re-parses to the same point.
func FuzzParse(f *testing.F) {
	inputs, _ := filepath.Glob("testdata/corpus/*.lp")
	for _, in := range inputs {
		if body, err := os.ReadFile(in); err == nil {
			f.Add(body, uint8(0), true)
		}
	}
	f.Add([]byte("m,t=a v=1i,s=\"x\\\"y\" 1\n"), uint8(3), false)
	f.Add([]byte("m s=\"a\nb\" 1\r\nbad\n"), uint8(5), false)
	f.Fuzz(checkParse)
}

func checkParse(t *testing.T, body []byte, prec uint8, unsigned bool) {
	{
		p := Precision(prec % 6)
		opt := ParseOptions{Precision: p, Now: time.Unix(1700000000, 0), AllowUnsigned: unsigned,
			Limits: Limits{MaxTags: 64, MaxFields: 64, MaxLineBytes: 4096}}
		var b Batch
		err := Parse(body, opt, &b)
		if err != nil {
			var pe *PartialError
			var de *DecodeError
			if !errors.As(err, &pe) && !errors.As(err, &de) {
				t.Fatalf("untyped error %T: %v", err, err)
			}
			if pe != nil {
				if pe.Rejected == 0 || pe.Rejected > pe.Total || len(pe.Errors) == 0 {
					t.Fatalf("inconsistent PartialError %+v", pe)
				}
				for _, e := range pe.Errors {
					if e.Line < 1 || e.Column < 1 || e.Msg == "" {
						t.Fatalf("bad position or message: %+v", e)
					}
				}
			}
		}
		for i := 0; i < b.Len(); i++ {
			pt := b.At(i)
			if len(pt.Measurement) == 0 || len(pt.Fields) == 0 {
				t.Fatalf("accepted an empty point: %v", pt)
			}
			for k := 1; k < len(pt.Tags); k++ {
				if string(pt.Tags[k-1].Key) >= string(pt.Tags[k].Key) {
					t.Fatalf("tags not sorted and unique: %v", pt)
				}
			}
		}
		text := b.AppendLineProtocol(nil, Nanosecond)
		var again Batch
		if err := Parse(text, ParseOptions{AllowUnsigned: true, Limits: Limits{MaxTags: -1, MaxFields: -1, MaxLineBytes: -1}}, &again); err != nil {
			t.Fatalf("re-parse of %q: %v\nfrom %q", text, err, body)
		}
		if again.Len() != b.Len() {
			t.Fatalf("re-parse gave %d points, want %d", again.Len(), b.Len())
		}
		for i := 0; i < b.Len(); i++ {
			x, y := b.At(i), again.At(i)
			if x.String() != y.String() || !samePoint(x, y) {
				t.Fatalf("point %d changed:\n %s\n %s", i, x, y)
			}
		}
		// A copy made with Append encodes the same.
		var copied Batch
		for i := 0; i < b.Len(); i++ {
			if err := copied.Append(b.At(i)); err != nil {
				t.Fatalf("Append refused a parsed point %s: %v", b.At(i), err)
			}
		}
		if string(copied.AppendLineProtocol(nil, Nanosecond)) != string(text) {
			t.Fatal("Append changed a parsed point")
		}
	}
}

func samePoint(x, y Point) bool {
	if string(x.Measurement) != string(y.Measurement) || x.Time != y.Time ||
		len(x.Tags) != len(y.Tags) || len(x.Fields) != len(y.Fields) {
		return false
	}
	for i := range x.Tags {
		if string(x.Tags[i].Key) != string(y.Tags[i].Key) || string(x.Tags[i].Value) != string(y.Tags[i].Value) {
			return false
		}
	}
	for i := range x.Fields {
		if string(x.Fields[i].Key) != string(y.Fields[i].Key) || !x.Fields[i].Value.Equal(y.Fields[i].Value) {
			return false
		}
	}
	return true
}
