package catalog

import (
	"errors"
	"fmt"
	"strconv"
)

// A view's (or materialized view's) query is stored in pg_rewrite.ev_action
// of its "_RETURN" rule as a pg_node_tree: the output of nodeToString
// (src/backend/nodes/outfuncs.c), read back by stringToNode (read.c). For a
// view it is a one-element list holding the parse-analysed Query:
//
//	({QUERY :commandType 1 ... :targetList ({TARGETENTRY :expr {VAR ...}
//	  :resno 1 :resname id :ressortgroupref 0 :resorigtbl 16385
//	  :resorigcol 1 :resjunk false} ...) ... :stmt_len 73})
//
// Parse analysis (markTargetListOrigins in parser/parse_target.c) sets
// resorigtbl/resorigcol on a target entry whose expression is a plain
// column reference, following it through subqueries, CTEs and join alias
// columns to the table or view it names; they are 0 for expressions and
// set operations. resorigcol is 0 for a whole-row reference and negative
// for a system column.
//
// parseViewOrigins reads only that: the top-level Query's targetList. It
// tokenizes exactly as pg_strtok does and skips every other field as a
// balanced {...} or (...) structure or a single token, so nested queries
// (subqueries, CTEs) are never mistaken for the view's own output, and
// string contents, which outToken backslash-escapes, cannot unbalance it.
// Anything it does not recognise is an error, never a guess: the caller
// then treats the view's columns as of unknown origin.
//
// The text may hold constants from the view definition; they are neither
// kept nor reported in errors.

// viewOrigin is where one view column comes from: a column of another
// relation, or tbl == 0 when unknown.
type viewOrigin struct {
	tbl uint32
	col int16
}

// maxTreeDepth bounds nesting so a hostile or corrupt tree cannot exhaust
// memory; PostgreSQL's own limit is the stack depth.
const maxTreeDepth = 10000

var errTree = errors.New("unexpected pg_node_tree structure")

// parseViewOrigins returns the origin of each output column of the view
// whose _RETURN rule action is tree, indexed by resno-1.
func parseViewOrigins(tree string) ([]viewOrigin, error) {
	p := &treeParser{s: tree}
	if err := p.expect("("); err != nil {
		return nil, err
	}
	if err := p.expect("{"); err != nil {
		return nil, err
	}
	if err := p.expect("QUERY"); err != nil {
		return nil, err
	}
	var origins []viewOrigin
	found := false
	for {
		tok, err := p.next()
		if err != nil {
			return nil, err
		}
		if tok == "}" {
			break
		}
		if !isField(tok) {
			return nil, p.errorf("expected a Query field")
		}
		if tok == ":targetList" {
			if found {
				return nil, p.errorf("two targetList fields")
			}
			found = true
			if origins, err = p.targetList(); err != nil {
				return nil, err
			}
			continue
		}
		if err := p.skipValue(); err != nil {
			return nil, err
		}
	}
	if !found {
		return nil, p.errorf("no targetList")
	}
	// A view's rule has exactly one action.
	if err := p.expect(")"); err != nil {
		return nil, err
	}
	if _, err := p.next(); err == nil {
		return nil, p.errorf("text after the action list")
	}
	return origins, nil
}

// targetList parses the value of :targetList: <> or a list of TARGETENTRY
// nodes.
func (p *treeParser) targetList() ([]viewOrigin, error) {
	tok, err := p.next()
	if err != nil {
		return nil, err
	}
	if tok == "<>" {
		return nil, nil
	}
	if tok != "(" {
		return nil, p.errorf("targetList is not a list")
	}
	var origins []viewOrigin
	for {
		tok, err := p.next()
		if err != nil {
			return nil, err
		}
		if tok == ")" {
			return origins, nil
		}
		if tok != "{" {
			return nil, p.errorf("targetList element is not a node")
		}
		if err := p.expect("TARGETENTRY"); err != nil {
			return nil, err
		}
		e, err := p.targetEntry()
		if err != nil {
			return nil, err
		}
		if e.junk {
			continue
		}
		// Non-junk entries are the view's columns, resno 1..n in order.
		if int(e.resno) != len(origins)+1 {
			return nil, p.errorf("resno out of order")
		}
		origins = append(origins, e.origin)
	}
}

type targetEntry struct {
	resno  int16
	origin viewOrigin
	junk   bool
}

// targetEntry parses the fields of a TARGETENTRY node up to its closing
// brace.
func (p *treeParser) targetEntry() (targetEntry, error) {
	var e targetEntry
	var seen [4]bool // resno, resorigtbl, resorigcol, resjunk
	for {
		tok, err := p.next()
		if err != nil {
			return e, err
		}
		if tok == "}" {
			break
		}
		if !isField(tok) {
			return e, p.errorf("expected a TargetEntry field")
		}
		field := tok
		switch field {
		case ":resno", ":resorigtbl", ":resorigcol", ":resjunk":
		default:
			if err := p.skipValue(); err != nil {
				return e, err
			}
			continue
		}
		v, err := p.next()
		if err != nil {
			return e, err
		}
		switch field {
		case ":resno":
			n, err := strconv.ParseInt(v, 10, 16)
			if err != nil || n < 1 {
				return e, p.errorf("bad resno")
			}
			e.resno, seen[0] = int16(n), true
		case ":resorigtbl":
			n, err := strconv.ParseUint(v, 10, 32)
			if err != nil {
				return e, p.errorf("bad resorigtbl")
			}
			e.origin.tbl, seen[1] = uint32(n), true
		case ":resorigcol":
			n, err := strconv.ParseInt(v, 10, 16)
			if err != nil {
				return e, p.errorf("bad resorigcol")
			}
			e.origin.col, seen[2] = int16(n), true
		case ":resjunk":
			switch v {
			case "true":
				e.junk = true
			case "false":
				e.junk = false
			default:
				return e, p.errorf("bad resjunk")
			}
			seen[3] = true
		}
	}
	if !seen[0] || !seen[1] || !seen[2] || !seen[3] {
		return e, p.errorf("TargetEntry lacks resno, resorigtbl, resorigcol or resjunk")
	}
	// Only a reference to a user column is an origin: resorigcol is 0 for
	// a whole-row reference and negative for system columns.
	if e.origin.tbl == 0 || e.origin.col <= 0 {
		e.origin = viewOrigin{}
	}
	return e, nil
}

// treeParser tokenizes a pg_node_tree string the way pg_strtok does:
// whitespace separates tokens; (, ), { and } are tokens by themselves;
// a backslash makes the next character part of the token.
type treeParser struct {
	s   string
	pos int
}

func (p *treeParser) next() (string, error) {
	s, i := p.s, p.pos
	for i < len(s) && (s[i] == ' ' || s[i] == '\n' || s[i] == '\t') {
		i++
	}
	if i == len(s) {
		p.pos = i
		return "", p.errorf("unexpected end")
	}
	start := i
	switch s[i] {
	case '(', ')', '{', '}':
		i++
	default:
		for i < len(s) {
			c := s[i]
			if c == ' ' || c == '\n' || c == '\t' || c == '(' || c == ')' || c == '{' || c == '}' {
				break
			}
			if c == '\\' && i+1 < len(s) {
				i += 2
			} else {
				i++
			}
		}
	}
	p.pos = i
	return s[start:i], nil
}

func (p *treeParser) expect(want string) error {
	tok, err := p.next()
	if err != nil {
		return err
	}
	if tok != want {
		return p.errorf("expected %s", want)
	}
	return nil
}

// skipValue skips one field value: a node {...}, a list (...) or a single
// token. (Only Const's constvalue spans several tokens; Const nodes are
// always skipped whole, inside a brace pair.)
func (p *treeParser) skipValue() error {
	tok, err := p.next()
	if err != nil {
		return err
	}
	switch tok {
	case "{", "(":
	case "}", ")":
		return p.errorf("missing field value")
	default:
		return nil
	}
	// Skip to the matching close, checking that braces and parentheses
	// nest properly.
	stack := []byte{tok[0]}
	for len(stack) > 0 {
		tok, err := p.next()
		if err != nil {
			return err
		}
		switch tok {
		case "{", "(":
			if len(stack) >= maxTreeDepth {
				return p.errorf("nesting too deep")
			}
			stack = append(stack, tok[0])
		case "}", ")":
			open := stack[len(stack)-1]
			if (open == '{') != (tok == "}") {
				return p.errorf("unbalanced %s", tok)
			}
			stack = stack[:len(stack)-1]
		}
	}
	return nil
}

// errorf reports a structural error with the byte offset only: the text may
// hold constants from the view definition and is never quoted.
func (p *treeParser) errorf(format string, args ...any) error {
	return fmt.Errorf("%w at offset %d: %s", errTree, p.pos, fmt.Sprintf(format, args...))
}

// isField reports whether tok is a field label such as ":resno".
func isField(tok string) bool {
	return len(tok) > 1 && tok[0] == ':'
}
