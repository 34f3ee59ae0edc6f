package resultmask

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// mentionsProtected reports whether the SQL text names a relation that
// holds or exposes protected data, as a whole identifier (case-insensitive,
// quoted or not). It is a conservative stand-in for the query analysis:
// false positives only refuse, and anything it cannot see (a function that
// reads a table) is the analysis layer's to close.
func (s *session) mentionsProtected(sql string) bool {
	if sql == "" {
		return true // unknown statement: assume the worst
	}
	lower := strings.ToLower(sql)
	if strings.Contains(lower, `u&"`) {
		return true // a Unicode-escaped identifier could spell any name
	}
	for name := range s.b.protectedRels {
		n := strings.ToLower(name)
		for i := 0; ; {
			j := strings.Index(lower[i:], n)
			if j < 0 {
				break
			}
			start, end := i+j, i+j+len(n)
			if !identRune(lower, start-1, true) && !identRune(lower, end, false) {
				return true
			}
			i = end
		}
	}
	return false
}

// identRune reports whether the rune before (or at) position i of s is an
// identifier character.
func identRune(s string, i int, before bool) bool {
	if i < 0 || i >= len(s) {
		return false
	}
	var r rune
	if before {
		r, _ = utf8.DecodeLastRuneInString(s[:i+1])
	} else {
		r, _ = utf8.DecodeRuneInString(s[i:])
	}
	return r == '_' || r == '$' || unicode.IsLetter(r) || unicode.IsDigit(r)
}
