package resultmask

// parenQuery reads the parenthesised query of COPY (query) TO STDOUT,
// starting at the '(' at lx.i, and returns the text between the
// parentheses. It follows PostgreSQL's lexical rules where they matter for
// finding the closing parenthesis: string constants (with the lexer's
// backslash mode), quoted identifiers, dollar quotes and comments. A ';'
// outside a constant, an unterminated construct or a backslash in a '...'
// constant whose meaning is unknown makes it fail.
func (lx *copyLexer) parenQuery() (string, bool) {
	s := lx.s
	start := lx.i
	depth := 0
	for lx.i < len(s) {
		c := s[lx.i]
		switch {
		case c == '(':
			depth++
			lx.i++
		case c == ')':
			depth--
			lx.i++
			if depth == 0 {
				return s[start+1 : lx.i-1], true
			}
		case c == ';':
			return "", false
		case c == '\'':
			escape := lx.i > 0 && (s[lx.i-1] == 'E' || s[lx.i-1] == 'e') && (lx.i < 2 || !isIdentCont(s[lx.i-2]))
			if !lx.skipString(escape) {
				return "", false
			}
		case c == '"':
			if !lx.skipQuoted('"') {
				return "", false
			}
		case c == '$' && (lx.i == 0 || !isIdentCont(s[lx.i-1])):
			if !lx.skipDollar() {
				return "", false
			}
		case startsComment(s, lx.i):
			lx.skipSpace()
			if lx.bad {
				return "", false
			}
		default:
			lx.i++
		}
	}
	return "", false
}

// skipString skips a '...' constant at lx.i.
func (lx *copyLexer) skipString(escape bool) bool {
	s := lx.s
	lx.i++
	for lx.i < len(s) {
		switch c := s[lx.i]; {
		case c == '\\' && (escape || lx.mode == stringsEscape):
			lx.i += 2
		case c == '\\' && lx.mode == stringsUnknown:
			return false
		case c == '\'':
			if lx.i+1 < len(s) && s[lx.i+1] == '\'' {
				lx.i += 2
				continue
			}
			lx.i++
			return true
		default:
			lx.i++
		}
	}
	return false
}

// skipQuoted skips a "..." identifier at lx.i.
func (lx *copyLexer) skipQuoted(q byte) bool {
	s := lx.s
	lx.i++
	for lx.i < len(s) {
		if s[lx.i] == q {
			if lx.i+1 < len(s) && s[lx.i+1] == q {
				lx.i += 2
				continue
			}
			lx.i++
			return true
		}
		lx.i++
	}
	return false
}

// skipDollar skips a $tag$...$tag$ constant at lx.i, or a $n parameter.
func (lx *copyLexer) skipDollar() bool {
	s := lx.s
	j := lx.i + 1
	if j < len(s) && s[j] >= '0' && s[j] <= '9' {
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		lx.i = j
		return true
	}
	for j < len(s) && s[j] != '$' {
		if !isIdentCont(s[j]) || s[j] == '$' {
			return false
		}
		j++
	}
	if j >= len(s) {
		return false
	}
	tag := s[lx.i : j+1]
	end := indexFrom(s, tag, j+1)
	if end < 0 {
		return false
	}
	lx.i = end + len(tag)
	return true
}

func indexFrom(s, sub string, from int) int {
	for i := from; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}
