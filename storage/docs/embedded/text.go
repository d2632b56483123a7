package embedded

import (
	"unicode"
	"unicode/utf8"

	"github.com/kodo-project/kodo/storage/docs"
)

// The full-text index has one column, "terms", filled by the store (the
// table is contentless) with the words of Content as docs.Words returns
// them, lowercased and separated by spaces, followed by one token per
// equality term: '_' and the 16 hex digits of the term's FNV-1a hash.
// Words are runs of letters and digits, so they never contain '_' and the
// two kinds of token cannot collide. The FTS5 "ascii" tokenizer with '_'
// as a token character splits this text back into exactly these tokens
// (bytes >= 0x80 are token characters, so non-ASCII words stay whole).
// Tokenizing in Go is cheaper than unicode61 in transpiled C and makes
// the index follow docs.Words exactly.

const hexDigits = "0123456789abcdef"

// fnv64a is the 64-bit FNV-1a hash of s (hash/fnv without its
// allocation). 64 bits keep collisions between terms negligible.
func fnv64a(s string) uint64 {
	const (
		offset = 14695981039346656037
		prime  = 1099511628211
	)
	h := uint64(offset)
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * prime
	}
	return h
}

// appendTermToken appends the index token of an equality term
// "key=value" (docs.Terms).
func appendTermToken(dst []byte, term string) []byte {
	h := fnv64a(term)
	dst = append(dst, '_')
	for i := 60; i >= 0; i -= 4 {
		dst = append(dst, hexDigits[(h>>uint(i))&0xf])
	}
	return dst
}

// termToken is appendTermToken as a string, for queries.
func termToken(term string) string {
	return string(appendTermToken(make([]byte, 0, 17), term))
}

// appendWords appends the words of s exactly as docs.Words splits them
// (runs of letters and digits, lowercased; each Han ideograph and
// hiragana alone; katakana runs apart), separated by spaces. The output
// is valid UTF-8 with no byte that JSON escapes.
func appendWords(dst []byte, s string) []byte {
	start := len(dst)
	prev := docs.WordNone
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case 'a' <= c && c <= 'z' || '0' <= c && c <= '9':
			case 'A' <= c && c <= 'Z':
				c += 'a' - 'A'
			default:
				prev = docs.WordNone
				continue
			}
			if prev != docs.WordOther && len(dst) > start {
				dst = append(dst, ' ')
			}
			prev = docs.WordOther
			dst = append(dst, c)
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		class := docs.WordClassOf(r)
		if class == docs.WordNone {
			prev = class
			continue
		}
		if (class != prev || class == docs.WordSingle) && len(dst) > start {
			dst = append(dst, ' ')
		}
		prev = class
		dst = utf8.AppendRune(dst, unicode.ToLower(r))
	}
	return dst
}

// appendIndexText appends the full-text index text of d: the words of
// its content, then one token per equality term.
func appendIndexText(dst []byte, d *docs.Document) []byte {
	start := len(dst)
	dst = appendWords(dst, d.Content)
	for _, t := range docs.Terms(d) {
		if len(dst) > start {
			dst = append(dst, ' ')
		}
		dst = appendTermToken(dst, t)
	}
	return dst
}
