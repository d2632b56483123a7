package docs

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Filter is an equality condition: a document matches when the builtin
// attribute named Key (KeyName, KeyClass, KeySource), a tag Key or a
// scalar field Key has the value Value. Field values compare by their
// canonical text, see FormatValue.
type Filter struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// TimeRange bounds Document.Time: Start <= Time < End, in nanoseconds.
// A zero bound is open.
type TimeRange struct {
	Start int64 `json:"start"`
	End   int64 `json:"end"`
}

// Contains reports whether t is inside r.
func (r TimeRange) Contains(t int64) bool {
	return (r.Start == 0 || t >= r.Start) && (r.End == 0 || t < r.End)
}

// Sort orders search results.
type Sort string

// Sort orders. The zero value is SortTimeDesc, newest first.
const (
	SortTimeDesc Sort = ""
	SortTimeAsc  Sort = "time_asc"
)

// ParseSort accepts "", "desc", "-time", "time_desc" (newest first) and
// "asc", "time", "time_asc" (oldest first).
func ParseSort(s string) (Sort, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "desc", "-time", "time_desc", "time desc":
		return SortTimeDesc, nil
	case "asc", "time", "+time", "time_asc", "time asc":
		return SortTimeAsc, nil
	}
	return "", fmt.Errorf("%w: unknown sort %q (want time_asc or time_desc)", ErrInvalid, s)
}

// Limits on one search.
const (
	DefaultLimit = 100
	MaxLimit     = 10000
	// MaxWindow bounds Offset+Limit, as Elasticsearch's
	// index.max_result_window does, so both stores page the same way.
	MaxWindow = 10000
)

// SearchRequest selects documents of one workspace and kind.
type SearchRequest struct {
	WorkspaceUUID string
	Kind          Kind
	// Query is full text over Content: every word must occur (words are
	// runs of letters and digits, compared case-insensitively). Empty
	// matches everything.
	Query     string
	Filters   []Filter // all must match
	TimeRange TimeRange
	Limit     int // 0 means DefaultLimit
	Offset    int
	Sort      Sort
}

// Normalize validates r and fills defaults. Stores call it first so they
// answer the same request in the same way.
func (r SearchRequest) Normalize() (SearchRequest, error) {
	if r.WorkspaceUUID == "" {
		return r, fmt.Errorf("%w: search needs a workspace uuid", ErrInvalid)
	}
	if !r.Kind.Valid() {
		return r, fmt.Errorf("%w: unknown kind %q (want object, keyevent or logging)", ErrInvalid, r.Kind)
	}
	if r.Limit == 0 {
		r.Limit = DefaultLimit
	}
	if r.Limit < 0 || r.Limit > MaxLimit {
		return r, fmt.Errorf("%w: limit %d out of range 1..%d", ErrInvalid, r.Limit, MaxLimit)
	}
	if r.Offset < 0 || r.Offset+r.Limit > MaxWindow {
		return r, fmt.Errorf("%w: offset %d + limit %d exceeds the result window of %d", ErrInvalid, r.Offset, r.Limit, MaxWindow)
	}
	if r.Sort != SortTimeDesc && r.Sort != SortTimeAsc {
		return r, fmt.Errorf("%w: unknown sort %q", ErrInvalid, r.Sort)
	}
	if r.TimeRange.End != 0 && r.TimeRange.End <= r.TimeRange.Start {
		return r, fmt.Errorf("%w: empty time range [%d, %d)", ErrInvalid, r.TimeRange.Start, r.TimeRange.End)
	}
	for i, f := range r.Filters {
		if f.Key == "" {
			return r, fmt.Errorf("%w: filter %d has an empty key", ErrInvalid, i)
		}
	}
	return r, nil
}

// SearchResult holds one page of matches and how many matched in all.
type SearchResult struct {
	Total int64      `json:"total"`
	Docs  []Document `json:"docs"`
}

// Words splits a full-text query or a content into the lowercase words
// that both stores index: maximal runs of letters and digits, except that
// every Han ideograph and every hiragana is a word of its own and a run
// of katakana is a word apart from the letters around it. That is how
// Elasticsearch's standard analyzer (Unicode word boundaries) splits
// Chinese and Japanese, which are written without spaces: "数据库连接失败"
// is found by "连接" or "数据库" in both stores.
func Words(s string) []string {
	var out []string
	start, prev := -1, WordOther
	for i, r := range s {
		c := WordClassOf(r)
		if c == WordNone || c == WordSingle || c != prev {
			if start >= 0 {
				out = append(out, strings.ToLower(s[start:i]))
			}
			start = -1
		}
		if c != WordNone {
			if start < 0 {
				start = i
			}
		}
		prev = c
	}
	if start >= 0 {
		out = append(out, strings.ToLower(s[start:]))
	}
	return out
}

// WordClass says how a rune joins words (see Words).
type WordClass uint8

const (
	WordNone     WordClass = iota // a separator
	WordOther                     // letters and digits that run together
	WordSingle                    // a Han ideograph or hiragana: a word by itself
	WordKatakana                  // katakana: runs together, apart from other letters
)

// WordClassOf classifies r for Words.
func WordClassOf(r rune) WordClass {
	switch {
	case r < utf8.RuneSelf:
		if 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' {
			return WordOther
		}
		return WordNone
	case r == utf8.RuneError:
		return WordNone
	case unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r):
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return WordSingle
		}
		return WordNone
	case unicode.Is(unicode.Katakana, r) || r == 'ー' || r == '\uff70':
		// The prolonged sound mark is Common script but part of
		// katakana words (UAX #29 gives it the Katakana class).
		return WordKatakana
	case unicode.IsLetter(r) || unicode.IsDigit(r):
		return WordOther
	}
	return WordNone
}

// FormatValue is the canonical text of a scalar field value, used to
// compare it with a Filter value: strings as they are, integers in
// decimal, floats in the shortest form that reads back the same, bools as
// true/false. ok is false for non-scalar values, which are not
// filterable.
func FormatValue(v any) (s string, ok bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case int64:
		return strconv.FormatInt(x, 10), true
	case int:
		return strconv.Itoa(x), true
	case uint64:
		return strconv.FormatUint(x, 10), true
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return "", false
		}
		return strconv.FormatFloat(x, 'g', -1, 64), true
	case bool:
		return strconv.FormatBool(x), true
	}
	return "", false
}

// Terms returns the "key=value" equality terms of d: builtins, tags and
// scalar fields. A tag and a field with the same key both appear.
func Terms(d *Document) []string {
	t := make([]string, 0, 3+len(d.Tags)+len(d.Fields))
	if d.Name != "" {
		t = append(t, KeyName+"="+d.Name)
	}
	if d.Class != "" {
		t = append(t, KeyClass+"="+d.Class)
	}
	if d.Source != "" {
		t = append(t, KeySource+"="+d.Source)
	}
	for k, v := range d.Tags {
		t = append(t, k+"="+v)
	}
	for k, v := range d.Fields {
		if s, ok := FormatValue(v); ok {
			t = append(t, k+"="+s)
		}
	}
	return t
}
