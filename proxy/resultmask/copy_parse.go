package resultmask

import (
	"slices"
	"strings"
	"unicode/utf8"
)

// copyStmt is a COPY of a table TO STDOUT as parseCopyOut understands it,
// with PostgreSQL's defaults filled in.
type copyStmt struct {
	// Query is the text of the query of COPY (query) TO STDOUT; empty for
	// COPY of a table.
	Query  string
	Schema string // "" when the name is unqualified (search_path applies)
	Table  string // case-folded unless it was quoted
	// Columns is the column list; nil = all columns.
	Columns []string
	// Format is 't' (text), 'c' (csv) or 'b' (binary).
	Format byte
	// Delimiter and Null: text: tab and `\N`; csv: ',' and "". Unused
	// (zero) for binary.
	Delimiter byte
	Null      string
	// Header: the first row is a header line (text or csv).
	Header bool
	// Quote and Escape (csv only): default '"' and Escape = Quote.
	Quote, Escape byte
	// ForceQuoteAll: FORCE_QUOTE *; ForceQuote: FORCE_QUOTE (col, ...).
	ForceQuoteAll bool
	ForceQuote    []string
}

// maxIdentLen is NAMEDATALEN-1: PostgreSQL truncates longer identifiers.
// parseCopyOut refuses them instead of guessing the truncation.
const maxIdentLen = 63

// parseCopyOut recognises sql, which must be UTF-8 (the caller converts it
// from the client encoding, as PostgreSQL does before parsing), as exactly
// one statement
//
//	COPY [BINARY] [ONLY] [schema.]table [(col, ...)] TO STDOUT
//	    [[USING] DELIMITERS 'x'] [WITH] [options]
//	COPY (query) TO STDOUT [WITH] [options]
//
// (the query's text is returned in Query, for the analysis to place its
// columns), where options are either the parenthesised list (FORMAT, DELIMITER, NULL,
// HEADER, QUOTE, ESCAPE, FORCE_QUOTE, FORCE_NOT_NULL, FORCE_NULL, FREEZE)
// or the legacy keywords (BINARY, CSV, HEADER, DELIMITER [AS] 'x',
// NULL [AS] 'x', QUOTE [AS] 'x', ESCAPE [AS] 'x', FORCE QUOTE cols|*,
// FORCE NOT NULL cols|*, FORCE NULL cols|*, FREEZE). Whitespace and
// comments may separate tokens; a trailing semicolon is allowed.
//
// It fails closed: anything it does not fully understand returns false,
// among them an empty COPY (), COPY FROM, TO a file or PROGRAM, ENCODING, a
// three-part name, an identifier longer than 63 bytes, U&"..." identifiers,
// unknown options, options PostgreSQL would reject in a way that matters
// here (such as a delimiter that is not a single byte), and further
// statements. Since the meaning of a backslash in a '...' constant depends
// on standard_conforming_strings, parseCopyOut refuses such constants; see
// parseCopyOutStrings.
func parseCopyOut(sql string) (copyStmt, bool) {
	return parseCopyOutMode(sql, stringsUnknown)
}

// parseCopyOutStrings is parseCopyOut for a session whose
// standard_conforming_strings setting is known (as PostgreSQL reported it
// in ParameterStatus when the statement was parsed): on, a backslash in a
// '...' constant is an ordinary character; off, it starts an escape as in
// E'...'.
func parseCopyOutStrings(sql string, standardConformingStrings bool) (copyStmt, bool) {
	if standardConformingStrings {
		return parseCopyOutMode(sql, stringsStandard)
	}
	return parseCopyOutMode(sql, stringsEscape)
}

// stringsMode is how a '...' constant treats a backslash.
type stringsMode int

const (
	stringsUnknown  stringsMode = iota // refuse a constant with a backslash
	stringsStandard                    // standard_conforming_strings = on
	stringsEscape                      // standard_conforming_strings = off
)

func parseCopyOutMode(sql string, mode stringsMode) (copyStmt, bool) {
	if !utf8.ValidString(sql) {
		return copyStmt{}, false
	}
	p := copyParser{lx: copyLexer{s: sql, mode: mode}}
	st, ok := p.parse()
	if !ok || p.lx.bad {
		return copyStmt{}, false
	}
	return st, true
}

// copyTokKind is the kind of a lexical token.
type copyTokKind int

const (
	tokEOF    copyTokKind = iota
	tokIdent              // unquoted (folded to lower case) or quoted identifier
	tokString             // string constant, value de-escaped
	tokNumber             // unsigned integer
	tokPunct              // one of ( ) , ; . *
)

type copyTok struct {
	kind   copyTokKind
	val    string
	quoted bool // tokIdent: it was a "quoted" identifier
}

// keyword reports whether t is the unquoted keyword kw (lower case).
func (t copyTok) keyword(kw string) bool {
	return t.kind == tokIdent && !t.quoted && t.val == kw
}

func (t copyTok) punct(c string) bool { return t.kind == tokPunct && t.val == c }

// copyLexer splits SQL into tokens like PostgreSQL's scanner does for the
// tokens a COPY TO STDOUT statement may contain; any other token sets bad.
type copyLexer struct {
	s    string
	i    int
	bad  bool
	mode stringsMode
}

func isIdentStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c >= 0x80
}

func isIdentCont(c byte) bool {
	return isIdentStart(c) || c >= '0' && c <= '9' || c == '$'
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

// isOpChar reports whether c can be part of an operator token.
func isOpChar(c byte) bool { return strings.IndexByte("~!@#^&|`?+-*/%<>=", c) >= 0 }

// skipSpace skips whitespace and comments (nested /* */, and -- to the end
// of the line). An unterminated block comment sets bad.
func (lx *copyLexer) skipSpace() {
	s := lx.s
	for lx.i < len(s) {
		c := s[lx.i]
		switch {
		case isSpace(c):
			lx.i++
		case c == '-' && lx.i+1 < len(s) && s[lx.i+1] == '-':
			for lx.i < len(s) && s[lx.i] != '\n' && s[lx.i] != '\r' {
				lx.i++
			}
		case c == '/' && lx.i+1 < len(s) && s[lx.i+1] == '*':
			if !lx.blockComment() {
				lx.bad = true
				lx.i = len(s)
				return
			}
		default:
			return
		}
	}
}

// blockComment skips a /* */ comment, which nests, starting at lx.i. It
// reports false if the comment is not terminated.
func (lx *copyLexer) blockComment() bool {
	s := lx.s
	depth := 0
	for lx.i+1 < len(s) {
		switch {
		case s[lx.i] == '/' && s[lx.i+1] == '*':
			depth++
			lx.i += 2
		case s[lx.i] == '*' && s[lx.i+1] == '/':
			depth--
			lx.i += 2
			if depth == 0 {
				return true
			}
		default:
			lx.i++
		}
	}
	return false
}

// startsComment reports whether a comment starts at s[i:].
func startsComment(s string, i int) bool {
	return i+1 < len(s) && (s[i] == '-' && s[i+1] == '-' || s[i] == '/' && s[i+1] == '*')
}

// next returns the next token; on anything it does not recognise it sets
// bad and returns tokEOF.
func (lx *copyLexer) next() copyTok {
	lx.skipSpace()
	if lx.bad || lx.i >= len(lx.s) {
		return copyTok{kind: tokEOF}
	}
	s := lx.s
	c := s[lx.i]
	switch {
	case c == '"':
		return lx.quotedIdent()
	case c == '\'':
		return lx.stringConst(false)
	case c == '$':
		return lx.dollarConst()
	case c >= '0' && c <= '9':
		j := lx.i
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j < len(s) && (isIdentCont(s[j]) || s[j] == '.') {
			return lx.fail() // 1.5, 1e3, 0x1F, 1_000, 12abc
		}
		t := copyTok{kind: tokNumber, val: s[lx.i:j]}
		lx.i = j
		return t
	case isIdentStart(c):
		j := lx.i
		for j < len(s) && isIdentCont(s[j]) {
			j++
		}
		word := s[lx.i:j]
		if j < len(s) && (s[j] == '\'' || s[j] == '&') && len(word) == 1 {
			switch {
			case (word == "e" || word == "E") && s[j] == '\'':
				lx.i = j
				return lx.stringConst(true)
			default:
				return lx.fail() // N'', B'', X'', U&'', U&""
			}
		}
		if len(word) > maxIdentLen {
			return lx.fail()
		}
		lx.i = j
		return copyTok{kind: tokIdent, val: asciiLower(word)}
	case c == '(' || c == ')' || c == ',' || c == ';':
		lx.i++
		return copyTok{kind: tokPunct, val: s[lx.i-1 : lx.i]}
	case c == '.':
		if lx.i+1 < len(s) && s[lx.i+1] >= '0' && s[lx.i+1] <= '9' {
			return lx.fail() // .5
		}
		lx.i++
		return copyTok{kind: tokPunct, val: "."}
	case c == '*':
		// A lone '*'; PostgreSQL would read "*=" or "*-" as an operator,
		// but "*--" and "*/*" end the operator at the comment.
		if lx.i+1 < len(s) && isOpChar(s[lx.i+1]) && !startsComment(s, lx.i+1) {
			return lx.fail()
		}
		lx.i++
		return copyTok{kind: tokPunct, val: "*"}
	}
	return lx.fail()
}

func (lx *copyLexer) fail() copyTok {
	lx.bad = true
	lx.i = len(lx.s)
	return copyTok{kind: tokEOF}
}

// asciiLower folds ASCII letters only, as PostgreSQL does for identifiers
// in a multibyte server encoding.
func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'A' && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// quotedIdent scans "..." with "" standing for one quote.
func (lx *copyLexer) quotedIdent() copyTok {
	s := lx.s
	var b strings.Builder
	for j := lx.i + 1; j < len(s); j++ {
		if s[j] != '"' {
			b.WriteByte(s[j])
			continue
		}
		if j+1 < len(s) && s[j+1] == '"' {
			b.WriteByte('"')
			j++
			continue
		}
		if b.Len() == 0 || b.Len() > maxIdentLen {
			return lx.fail()
		}
		lx.i = j + 1
		return copyTok{kind: tokIdent, val: b.String(), quoted: true}
	}
	return lx.fail()
}

// stringConst scans '...' (isE=false) or E'...' (isE=true, lx.i at the
// quote). Escapes are processed in E'...', and in '...' when
// standard_conforming_strings is off; when the setting is unknown a
// backslash in '...' is refused. \u and \U escapes, and escapes yielding
// NUL or a non-ASCII byte (whose meaning depends on the server encoding),
// are refused. A constant directly followed by another one (SQL
// continuation across a newline) is refused.
func (lx *copyLexer) stringConst(isE bool) copyTok {
	escape := isE || lx.mode == stringsEscape
	s := lx.s
	var b strings.Builder
	j := lx.i + 1
	for {
		if j >= len(s) {
			return lx.fail()
		}
		c := s[j]
		switch {
		case c == '\'':
			if j+1 < len(s) && s[j+1] == '\'' {
				b.WriteByte('\'')
				j += 2
				continue
			}
			lx.i = j + 1
			// Continuation: 'a' <newline> 'b' is 'ab'. Refuse any string
			// constant that follows directly.
			save := lx.i
			lx.skipSpace()
			if lx.i < len(s) && (s[lx.i] == '\'' || (s[lx.i] == 'e' || s[lx.i] == 'E') && lx.i+1 < len(s) && s[lx.i+1] == '\'') {
				return lx.fail()
			}
			lx.i = save
			return copyTok{kind: tokString, val: b.String()}
		case c == '\\' && !escape:
			if lx.mode == stringsUnknown {
				return lx.fail()
			}
			b.WriteByte(c)
			j++
		case c == '\\':
			if j+1 >= len(s) {
				return lx.fail()
			}
			x := s[j+1]
			j += 2
			switch x {
			case 'b':
				b.WriteByte('\b')
			case 'f':
				b.WriteByte('\f')
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case '0', '1', '2', '3', '4', '5', '6', '7':
				v := int(x - '0')
				for k := 0; k < 2 && j < len(s) && s[j] >= '0' && s[j] <= '7'; k++ {
					v = v<<3 | int(s[j]-'0')
					j++
				}
				v &= 0xff
				if v == 0 || v >= 0x80 {
					return lx.fail()
				}
				b.WriteByte(byte(v))
			case 'x':
				v, n := 0, 0
				for n < 2 && j < len(s) && isHex(s[j]) {
					v = v<<4 | hexVal(s[j])
					j++
					n++
				}
				if n == 0 {
					b.WriteByte('x')
					break
				}
				if v == 0 || v >= 0x80 {
					return lx.fail()
				}
				b.WriteByte(byte(v))
			case 'u', 'U':
				return lx.fail()
			default:
				b.WriteByte(x) // the first byte of a multibyte character stands for itself
			}
		default:
			b.WriteByte(c)
			j++
		}
	}
}

// dollarConst scans $tag$...$tag$. A '$' not starting a tag (a parameter
// such as $1) is refused.
func (lx *copyLexer) dollarConst() copyTok {
	s := lx.s
	j := lx.i + 1
	if j < len(s) && s[j] != '$' {
		if !isIdentStart(s[j]) {
			return lx.fail()
		}
		for j < len(s) && isIdentCont(s[j]) && s[j] != '$' {
			j++
		}
	}
	if j >= len(s) || s[j] != '$' {
		return lx.fail()
	}
	tag := s[lx.i : j+1]
	body := j + 1
	end := strings.Index(s[body:], tag)
	if end < 0 {
		return lx.fail()
	}
	lx.i = body + end + len(tag)
	save := lx.i
	lx.skipSpace()
	if lx.i < len(s) && (s[lx.i] == '\'' || s[lx.i] == '$') {
		return lx.fail()
	}
	lx.i = save
	return copyTok{kind: tokString, val: s[body : body+end]}
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func hexVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	default:
		return int(c-'A') + 10
	}
}

// copyParser parses the token stream with one token of lookahead.
type copyParser struct {
	lx   copyLexer
	tok  copyTok
	have bool
}

func (p *copyParser) peek() copyTok {
	if !p.have {
		p.tok = p.lx.next()
		p.have = true
	}
	return p.tok
}

func (p *copyParser) take() copyTok {
	t := p.peek()
	p.have = false
	return t
}

func (p *copyParser) accept(kw string) bool {
	if p.peek().keyword(kw) {
		p.take()
		return true
	}
	return false
}

func (p *copyParser) acceptPunct(c string) bool {
	if p.peek().punct(c) {
		p.take()
		return true
	}
	return false
}

// copyOpts collects options before defaults are applied; set records which
// were given, to refuse duplicates as PostgreSQL does.
type copyOpts struct {
	format                  byte
	delim, null             *string
	quote, escape           *string
	header                  *bool
	freeze                  bool
	forceQuoteAll           bool
	forceQuote              []string
	forceQuoteSet           bool
	forceNotNull, forceNull bool
}

func (p *copyParser) parse() (copyStmt, bool) {
	var st copyStmt
	var o copyOpts
	if !p.accept("copy") {
		return st, false
	}
	if p.lx.skipSpace(); !p.lx.bad && p.lx.i < len(p.lx.s) && p.lx.s[p.lx.i] == '(' {
		// COPY (query) TO STDOUT
		q, ok := p.lx.parenQuery()
		if !ok || strings.TrimSpace(q) == "" {
			return st, false
		}
		st.Query = q
	} else if !p.tableTarget(&st, &o) {
		return st, false
	}
	if !p.accept("to") || !p.accept("stdout") {
		return st, false
	}
	// copy_delimiter: [USING] DELIMITERS 'x'
	if p.accept("using") {
		if !p.peek().keyword("delimiters") {
			return st, false
		}
	}
	if p.accept("delimiters") {
		t := p.take()
		if t.kind != tokString {
			return st, false
		}
		o.delim = &t.val
	}
	p.accept("with")
	if p.acceptPunct("(") {
		if !p.genericOptions(&o) {
			return st, false
		}
	} else if !p.legacyOptions(&o) {
		return st, false
	}
	p.acceptPunct(";")
	if p.take().kind != tokEOF {
		return st, false
	}
	return st, o.finish(&st)
}

// tableTarget parses [BINARY] [ONLY] [schema.]table [(columns)].
func (p *copyParser) tableTarget(st *copyStmt, o *copyOpts) bool {
	if p.accept("binary") {
		o.format = 'b'
	}
	p.accept("only")
	name, ok := p.ident()
	if !ok {
		return false
	}
	st.Table = name
	if p.acceptPunct(".") {
		if st.Table, ok = p.ident(); !ok {
			return false
		}
		st.Schema = name
		if p.peek().punct(".") {
			return false // catalog.schema.table
		}
	}
	if p.acceptPunct("(") {
		if st.Columns, ok = p.identList(); !ok || !p.acceptPunct(")") {
			return false
		}
	}
	return true
}

// ident takes a ColId: an identifier, quoted or not.
func (p *copyParser) ident() (string, bool) {
	t := p.take()
	return t.val, t.kind == tokIdent
}

// identList takes col [, col ...].
func (p *copyParser) identList() ([]string, bool) {
	var out []string
	for {
		name, ok := p.ident()
		if !ok {
			return nil, false
		}
		out = append(out, name)
		if !p.acceptPunct(",") {
			return out, true
		}
	}
}

// legacyOptions parses the pre-9.0 option keywords up to the end.
func (p *copyParser) legacyOptions(o *copyOpts) bool {
	for {
		t := p.peek()
		if t.kind != tokIdent || t.quoted {
			return true
		}
		switch t.val {
		case "binary", "csv":
			p.take()
			if o.format != 0 {
				return false
			}
			o.format = map[string]byte{"binary": 'b', "csv": 'c'}[t.val]
		case "freeze":
			p.take()
			o.freeze = true
		case "header":
			p.take()
			if o.header != nil {
				return false
			}
			on := true
			o.header = &on
		case "delimiter", "null", "quote", "escape":
			p.take()
			p.accept("as")
			s := p.take()
			if s.kind != tokString || !o.setString(t.val, s.val) {
				return false
			}
		case "force":
			p.take()
			switch {
			case p.accept("quote"):
				if o.forceQuoteSet {
					return false
				}
				o.forceQuoteSet = true
				if p.acceptPunct("*") {
					o.forceQuoteAll = true
				} else {
					cols, ok := p.identList()
					if !ok {
						return false
					}
					o.forceQuote = cols
				}
			case p.accept("not"):
				if !p.accept("null") || !p.forceIgnored(&o.forceNotNull) {
					return false
				}
			case p.accept("null"):
				if !p.forceIgnored(&o.forceNull) {
					return false
				}
			default:
				return false
			}
		default:
			return true // ENCODING and anything else: left for the caller to refuse
		}
	}
}

// forceIgnored takes the column list (or *) of FORCE NOT NULL / FORCE
// NULL, options of COPY FROM that do not change COPY TO output.
func (p *copyParser) forceIgnored(set *bool) bool {
	if *set {
		return false
	}
	*set = true
	if p.acceptPunct("*") {
		return true
	}
	_, ok := p.identList()
	return ok
}

// setString records DELIMITER, NULL, QUOTE or ESCAPE.
func (o *copyOpts) setString(name, v string) bool {
	var dst **string
	switch name {
	case "delimiter":
		dst = &o.delim
	case "null":
		dst = &o.null
	case "quote":
		dst = &o.quote
	case "escape":
		dst = &o.escape
	default:
		return false
	}
	if *dst != nil {
		return false
	}
	*dst = &v
	return true
}

// genericOptions parses name [arg] {, name [arg]} ")" (the "(" taken).
func (p *copyParser) genericOptions(o *copyOpts) bool {
	for {
		n := p.take()
		if n.kind != tokIdent {
			return false
		}
		// The argument: nothing, a word or string, a number, *, or a list.
		var arg copyTok
		var list []string
		star, isList := false, false
		switch t := p.peek(); {
		case t.punct(",") || t.punct(")"):
		case t.punct("*"):
			p.take()
			star = true
		case t.punct("("):
			p.take()
			isList = true
			for {
				e := p.take()
				if e.kind != tokIdent && e.kind != tokString {
					return false
				}
				list = append(list, e.val)
				if !p.acceptPunct(",") {
					break
				}
			}
			if !p.acceptPunct(")") {
				return false
			}
		case t.kind == tokIdent || t.kind == tokString || t.kind == tokNumber:
			arg = p.take()
		default:
			return false
		}
		plain := !star && !isList
		switch n.val {
		case "format":
			if !plain || o.format != 0 || arg.kind != tokIdent && arg.kind != tokString {
				return false
			}
			switch arg.val {
			case "text":
				o.format = 't'
			case "csv":
				o.format = 'c'
			case "binary":
				o.format = 'b'
			default:
				return false
			}
		case "delimiter", "null", "quote", "escape":
			if !plain || arg.kind != tokString || !o.setString(n.val, arg.val) {
				return false
			}
		case "header":
			if !plain || o.header != nil {
				return false
			}
			v, ok := boolArg(arg, true)
			if !ok {
				return false
			}
			o.header = &v
		case "freeze":
			if _, ok := boolArg(arg, false); !plain || !ok || o.freeze {
				return false
			}
			o.freeze = true
		case "force_quote":
			if o.forceQuoteSet || plain {
				return false
			}
			o.forceQuoteSet, o.forceQuoteAll, o.forceQuote = true, star, list
		case "force_not_null", "force_null":
			set := &o.forceNotNull
			if n.val == "force_null" {
				set = &o.forceNull
			}
			if *set || plain {
				return false
			}
			*set = true
		default:
			return false // encoding, default, on_error, convert_selectively, unknown
		}
		if p.acceptPunct(")") {
			return true
		}
		if !p.acceptPunct(",") {
			return false
		}
	}
}

// boolArg interprets a boolean option argument as defGetBoolean does (and
// defGetCopyHeaderChoice, which also takes "match", when header is set).
// An absent argument means true.
func boolArg(t copyTok, header bool) (bool, bool) {
	switch t.kind {
	case tokEOF:
		return true, true
	case tokNumber:
		switch t.val {
		case "0":
			return false, true
		case "1":
			return true, true
		}
		return false, false
	case tokIdent, tokString:
		switch asciiLower(t.val) {
		case "true", "on":
			return true, true
		case "false", "off":
			return false, true
		case "match":
			// HEADER MATCH is for COPY FROM; PostgreSQL refuses it with COPY
			// TO, so no data follows. Read it as a header line regardless.
			return true, header
		}
	}
	return false, false
}

// finish applies PostgreSQL's defaults and the checks of its
// ProcessCopyOptions that the codec relies on.
func (o *copyOpts) finish(st *copyStmt) bool {
	if o.format == 0 {
		o.format = 't'
	}
	st.Format = o.format
	if o.header != nil {
		st.Header = *o.header
	}
	if st.Format == 'b' {
		if o.delim != nil || o.null != nil || o.header != nil || o.quote != nil || o.escape != nil || o.forceQuoteSet {
			return false
		}
		return true
	}
	csv := st.Format == 'c'
	delim, null := "\t", `\N`
	if csv {
		delim, null = ",", ""
	}
	if o.delim != nil {
		delim = *o.delim
	}
	if o.null != nil {
		null = *o.null
	}
	if len(delim) != 1 || delim[0] == '\n' || delim[0] == '\r' || strings.ContainsAny(null, "\r\n") {
		return false
	}
	if !csv && strings.IndexByte(`\.abcdefghijklmnopqrstuvwxyz0123456789`, delim[0]) >= 0 {
		return false
	}
	if strings.IndexByte(null, delim[0]) >= 0 {
		return false
	}
	st.Delimiter, st.Null = delim[0], null
	if !csv && (len(null)-len(strings.TrimRight(null, `\`)))%2 == 1 {
		// A NULL string ending in an odd run of backslashes escapes the
		// delimiter or newline after it: the output cannot be split.
		return false
	}
	if !csv {
		return o.quote == nil && o.escape == nil && !o.forceQuoteSet
	}
	quote := `"`
	if o.quote != nil {
		quote = *o.quote
	}
	escape := quote
	if o.escape != nil {
		escape = *o.escape
	}
	if len(quote) != 1 || len(escape) != 1 || quote[0] == delim[0] || strings.IndexByte(null, quote[0]) >= 0 ||
		strings.ContainsAny(quote+escape, "\r\n") {
		return false
	}
	st.Quote, st.Escape = quote[0], escape[0]
	st.ForceQuoteAll, st.ForceQuote = o.forceQuoteAll, o.forceQuote
	if st.Columns != nil {
		for _, c := range st.ForceQuote {
			if !slices.Contains(st.Columns, c) {
				return false // PostgreSQL: FORCE_QUOTE column not referenced by COPY
			}
		}
	}
	return true
}
