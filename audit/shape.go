package audit

import "strings"

// Shape keys let the Normalizer skip pg_query for texts that differ from
// one it has seen only in their constants, as an application's
// statements do (WHERE aid = 12345, then 67890). A key is the text with
// every plainly written constant — a number, or a '...' string not
// prefixed by E, B, X, U& or N — replaced by a marker holding a NUL byte,
// which no statement text can contain. Everything else is kept byte for
// byte, so texts with equal keys differ only in those constants and
// pg_query normalizes them to the same text. Anything the key lexer does
// not handle plainly (comments, dollar quotes, prefixed strings, an
// unterminated quote) gives no key: the text is normalized in full.

const (
	markString = "\x00s"
	markNumber = "\x00n"
	maxShape   = 2048 // longer texts are not cached
)

// shapeKey appends the shape key of sql to buf; ok is false when sql has
// no key.
func shapeKey(sql string, buf []byte) (key []byte, ok bool) {
	buf = buf[:0]
	if len(sql) > maxShape {
		return buf, false
	}
	for i := 0; i < len(sql); {
		c := sql[i]
		switch {
		case c == '\'':
			if i > 0 && (identByte(sql[i-1]) || sql[i-1] == '&') {
				return buf, false // E'...', B'...', X'...', N'...', U&'...'
			}
			j := i + 1
			for {
				k := strings.IndexByte(sql[j:], '\'')
				if k < 0 {
					return buf, false
				}
				j += k + 1
				if j < len(sql) && sql[j] == '\'' {
					j++ // '' inside the string
					continue
				}
				break
			}
			buf = append(buf, markString...)
			i = j
		case isDigit(c) || (c == '.' && i+1 < len(sql) && isDigit(sql[i+1])):
			j := i + 1
			for j < len(sql) {
				d := sql[j]
				if (d == '+' || d == '-') && (sql[j-1] == 'e' || sql[j-1] == 'E') {
					j++
					continue
				}
				if !identByte(d) && d != '.' || d == '$' {
					break
				}
				j++
			}
			if !plainNumber(sql[i:j]) {
				return buf, false // not one numeric token (0xE-, 1AND): read it in full
			}
			buf = append(buf, markNumber...)
			i = j
		case c == '$':
			if i+1 >= len(sql) || !isDigit(sql[i+1]) {
				return buf, false // a dollar quote
			}
			j := i + 1
			for j < len(sql) && isDigit(sql[j]) {
				j++
			}
			buf = append(buf, sql[i:j]...)
			i = j
		case identByte(c):
			j := i + 1
			for j < len(sql) && identByte(sql[j]) {
				j++
			}
			buf = append(buf, sql[i:j]...)
			i = j
		case c == '"':
			j := i + 1
			for {
				k := strings.IndexByte(sql[j:], '"')
				if k < 0 {
					return buf, false
				}
				j += k + 1
				if j < len(sql) && sql[j] == '"' {
					j++
					continue
				}
				break
			}
			buf = append(buf, sql[i:j]...)
			i = j
		case c == '-' && i+1 < len(sql) && sql[i+1] == '-', c == '/' && i+1 < len(sql) && sql[i+1] == '*', c == 0:
			return buf, false
		default:
			buf = append(buf, c)
			i++
		}
	}
	return buf, true
}

// plainNumber reports whether s is exactly one numeric constant: decimal
// digits (with _ between them), an optional fraction, an optional
// exponent with its sign, or a 0x / 0o / 0b integer — so that the key
// never reads a sign into a hexadecimal E (0xE-- starts a comment).
func plainNumber(s string) bool {
	if len(s) > 2 && s[0] == '0' {
		var ok func(byte) bool
		switch s[1] {
		case 'x', 'X':
			ok = func(c byte) bool { return isDigit(c) || c|0x20 >= 'a' && c|0x20 <= 'f' || c == '_' }
		case 'o', 'O':
			ok = func(c byte) bool { return c >= '0' && c <= '7' || c == '_' }
		case 'b', 'B':
			ok = func(c byte) bool { return c == '0' || c == '1' || c == '_' }
		}
		if ok != nil {
			for i := 2; i < len(s); i++ {
				if !ok(s[i]) {
					return false
				}
			}
			return true
		}
	}
	i := 0
	digits := func() int {
		start := i
		for i < len(s) && (isDigit(s[i]) || s[i] == '_' && i > start) {
			i++
		}
		return i - start
	}
	n := digits()
	if i < len(s) && s[i] == '.' {
		i++
		n += digits()
	}
	if n == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(s)
}
