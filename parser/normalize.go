package parser

import "strings"

// Placeholders that stand for literals in a normalized key.
const (
	stringLiteral = '\x01'
	numberLiteral = '\x02'
)

// normalizeKey returns sql with every string and numeric literal replaced
// by a placeholder, so that statements differing only in literal values
// (a simple-protocol client's WHERE id = 42) share one analysis. It
// accepts only a small, unambiguous subset of PostgreSQL's lexical
// grammar — plain '...' strings without backslashes, decimal numbers,
// ASCII identifiers, "..." identifiers, $n, operators — and reports false
// for anything else (comments, dollar quoting, E”, U&”, B”, X”,
// non-ASCII outside strings, adjacent strings), which is then analysed
// from its exact text. Within the subset, two texts with the same key
// tokenize identically except for the literals' values, so they parse to
// the same tree shape; analyses that depend on a literal's value (ORDER BY
// 1) are never stored under a normalized key.
func normalizeKey(sql string) (string, bool) {
	var b strings.Builder
	b.Grow(len(sql))
	lastString := -1 // b.Len() after the last string literal, for adjacency
	for i := 0; i < len(sql); {
		c := sql[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			b.WriteByte(c)
			i++
			continue
		case c == '\'':
			if i > 0 && identByte(sql[i-1]) || i > 0 && sql[i-1] == '&' {
				return "", false // E'', B'', X'', N'', U&''
			}
			if lastString >= 0 && strings.TrimSpace(b.String()[lastString:]) == "" {
				return "", false // 'a' 'b' continuation
			}
			j := i + 1
			for {
				k := strings.IndexAny(sql[j:], `'\`)
				if k < 0 || sql[j+k] == '\\' {
					return "", false // unterminated, or a backslash
				}
				j += k + 1
				if j < len(sql) && sql[j] == '\'' {
					j++ // '' inside the string
					continue
				}
				break
			}
			b.WriteByte(stringLiteral)
			lastString = b.Len()
			i = j
			continue
		case c >= '0' && c <= '9':
			if i > 0 && (identByte(sql[i-1]) || sql[i-1] == '$' || sql[i-1] == '.') {
				return "", false // part of a name, a $n, or .5
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
					return "", false
				}
				for j < len(sql) && sql[j] >= '0' && sql[j] <= '9' {
					j++
				}
			}
			if j < len(sql) && (identByte(sql[j]) || sql[j] == '.') {
				return "", false // 0x1F, 1_000, 1abc, 1.2.3
			}
			b.WriteByte(numberLiteral)
			i = j
			continue
		case identByte(c):
			j := i
			for j < len(sql) && (identByte(sql[j]) || sql[j] == '$') {
				j++
			}
			if strings.EqualFold(sql[i:j], "uescape") {
				return "", false // its literal decides what U&"..." names
			}
			b.WriteString(sql[i:j])
			i = j
			continue
		case c == '"':
			if i > 0 && sql[i-1] == '&' {
				return "", false // U&"..."
			}
			k := strings.IndexByte(sql[i+1:], '"')
			if k < 0 || i+1+k+1 < len(sql) && sql[i+1+k+1] == '"' {
				return "", false // unterminated, or "" inside
			}
			b.WriteString(sql[i : i+k+2])
			i += k + 2
			continue
		case c == '$':
			j := i + 1
			for j < len(sql) && sql[j] >= '0' && sql[j] <= '9' {
				j++
			}
			if j == i+1 {
				return "", false // dollar quoting
			}
			b.WriteString(sql[i:j])
			i = j
			continue
		case c == '-' && i+1 < len(sql) && sql[i+1] == '-', c == '/' && i+1 < len(sql) && sql[i+1] == '*':
			return "", false // comments
		case strings.IndexByte("+-*/<>=~!@#%^&|`?,;()[].:", c) >= 0:
			b.WriteByte(c)
			i++
			continue
		}
		return "", false
	}
	return b.String(), true
}

// identByte reports whether c can be part of an unquoted ASCII identifier.
func identByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}
