// Package sqlkey computes the key under which SQL texts that differ only
// in their literal values are the same: the text with every string and
// numeric literal replaced by a placeholder byte. The query analysis
// shares plans under it, and the audit log shares normalizations.
//
// It accepts only a small, unambiguous subset of PostgreSQL's lexical
// grammar — plain '...' strings without backslashes, decimal numbers,
// ASCII identifiers, "..." identifiers, $n, operators — and reports false
// for anything else (comments, dollar quoting, E”, U&”, B”, X”,
// non-ASCII outside strings, adjacent strings, 0x1F, 1_000), which callers
// then treat from its exact text. Within the subset, two texts with the
// same key tokenize identically except for the literals' values, so they
// parse to the same tree shape.
package sqlkey

import "strings"

// Placeholders that stand for literals in a key; no SQL text holds them
// outside a literal, where the key replaces them too.
const (
	StringLiteral = '\x01'
	NumberLiteral = '\x02'
)

// Append appends the key of sql to b; ok is false (and b unchanged) when
// sql is outside the subset.
func Append(b []byte, sql string) ([]byte, bool) {
	start := len(b)
	lastString := -1 // len(b) after the last string literal, for adjacency
	for i := 0; i < len(sql); {
		c := sql[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			b = append(b, c)
			i++
			continue
		case c == '\'':
			if i > 0 && identByte(sql[i-1]) || i > 0 && sql[i-1] == '&' {
				return b[:start], false // E'', B'', X'', N'', U&''
			}
			if lastString >= 0 && allSpace(b[lastString:]) {
				return b[:start], false // 'a' 'b' continuation
			}
			j := i + 1
			for {
				k := strings.IndexAny(sql[j:], `'\`)
				if k < 0 || sql[j+k] == '\\' {
					return b[:start], false // unterminated, or a backslash
				}
				j += k + 1
				if j < len(sql) && sql[j] == '\'' {
					j++ // '' inside the string
					continue
				}
				break
			}
			b = append(b, StringLiteral)
			lastString = len(b)
			i = j
			continue
		case c >= '0' && c <= '9':
			if i > 0 && (identByte(sql[i-1]) || sql[i-1] == '$' || sql[i-1] == '.') {
				return b[:start], false // part of a name, a $n, or .5
			}
			j := i
			for j < len(sql) && sql[j] >= '0' && sql[j] <= '9' {
				j++
			}
			if j < len(sql) && sql[j] == '.' {
				j++
				for j < len(sql) && sql[j] >= '0' && sql[j] <= '9' {
					j++
				}
			}
			if j < len(sql) && (sql[j] == 'e' || sql[j] == 'E') {
				j++
				if j < len(sql) && (sql[j] == '+' || sql[j] == '-') {
					j++
				}
				if j >= len(sql) || sql[j] < '0' || sql[j] > '9' {
					return b[:start], false
				}
				for j < len(sql) && sql[j] >= '0' && sql[j] <= '9' {
					j++
				}
			}
			if j < len(sql) && (identByte(sql[j]) || sql[j] == '.') {
				return b[:start], false // 0x1F, 1_000, 1abc, 1.2.3
			}
			b = append(b, NumberLiteral)
			i = j
			continue
		case identByte(c):
			j := i
			for j < len(sql) && (identByte(sql[j]) || sql[j] == '$') {
				j++
			}
			if strings.EqualFold(sql[i:j], "uescape") {
				return b[:start], false // its literal decides what U&"..." names
			}
			b = append(b, sql[i:j]...)
			i = j
			continue
		case c == '"':
			if i > 0 && sql[i-1] == '&' {
				return b[:start], false // U&"..."
			}
			k := strings.IndexByte(sql[i+1:], '"')
			if k < 0 || i+1+k+1 < len(sql) && sql[i+1+k+1] == '"' {
				return b[:start], false // unterminated, or "" inside
			}
			b = append(b, sql[i:i+k+2]...)
			i += k + 2
			continue
		case c == '$':
			j := i + 1
			for j < len(sql) && sql[j] >= '0' && sql[j] <= '9' {
				j++
			}
			if j == i+1 {
				return b[:start], false // dollar quoting
			}
			b = append(b, sql[i:j]...)
			i = j
			continue
		case c == '-' && i+1 < len(sql) && sql[i+1] == '-', c == '/' && i+1 < len(sql) && sql[i+1] == '*':
			return b[:start], false // comments
		case strings.IndexByte("+-*/<>=~!@#%^&|`?,;()[].:", c) >= 0:
			b = append(b, c)
			i++
			continue
		}
		return b[:start], false
	}
	return b, true
}

// identByte reports whether c can be part of an unquoted ASCII identifier.
func identByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

// allSpace reports whether b holds only the whitespace the key copies.
func allSpace(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return false
		}
	}
	return true
}
