package discover

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Proposal is a finding for a named column.
type Proposal struct {
	Table  string // schema.table
	Column string
	Finding
}

// WriteClasses writes a proposed `classes:` section of a policy: each
// class with its columns, the evidence for each as a comment, and the
// columns looked at but not proposed counted at the end. The header is
// written as comments, one per line; names in it should be Display-ed.
// Columns a policy cannot name (see Nameable) are the caller's to report.
func WriteClasses(w io.Writer, props []Proposal, header string, examined int) error {
	byClass := map[string][]Proposal{}
	for _, p := range props {
		byClass[p.Class] = append(byClass[p.Class], p)
	}
	classes := make([]string, 0, len(byClass))
	for c := range byClass {
		classes = append(classes, c)
	}
	sort.Strings(classes)
	var b strings.Builder
	for _, line := range strings.Split(strings.TrimRight(header, "\n"), "\n") {
		if strings.ContainsAny(line, "\r\u0085\u2028\u2029") {
			line = strconv.Quote(line) // a line break YAML sees would end the comment
		}
		fmt.Fprintf(&b, "# %s\n", line)
	}
	fmt.Fprintf(&b, "# %d columns examined, %d proposed. Review before use: discovery samples, it does not prove.\n", examined, len(props))
	if len(classes) == 0 {
		b.WriteString("classes: {}\n")
	} else {
		b.WriteString("classes:\n")
	}
	for _, c := range classes {
		ps := byClass[c]
		sort.Slice(ps, func(i, j int) bool {
			return ps[i].Table+"."+ps[i].Column < ps[j].Table+"."+ps[j].Column
		})
		fmt.Fprintf(&b, "  %s:\n", c)
		for _, p := range ps {
			fmt.Fprintf(&b, "    - %s  # %s\n", yamlName(p.Table+"."+p.Column), p.Evidence())
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// yamlName writes a column reference as a YAML scalar: plain when it is
// ASCII letters, digits, '_', '$' and '.', double-quoted otherwise. Go's
// quoting escapes exactly what YAML's double-quoted style must (quotes,
// backslashes, control characters, line and paragraph separators) with
// escapes YAML reads the same way; names are valid UTF-8 (see Nameable).
func yamlName(s string) string {
	if plainName(s) {
		return s
	}
	return strconv.Quote(s)
}

func plainName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '$' || c == '.') {
			return false
		}
	}
	return s != "" && s[0] != '.' && (s[0] < '0' || s[0] > '9')
}

// Nameable reports whether a policy can name schema.table.column
// exactly: a policy pattern splits on '.', reads '*' as a wildcard, and
// YAML holds only valid UTF-8.
func Nameable(schema, table, column string) bool {
	for _, p := range []string{schema, table, column} {
		if p == "" || strings.ContainsAny(p, ".*") || !utf8.ValidString(p) {
			return false
		}
	}
	return true
}

// Display returns a name for a comment or a message: as it is when it is
// printable, Go-quoted otherwise, so that a line break or control
// character in a name cannot end a YAML comment or forge a line.
func Display(s string) string {
	if !utf8.ValidString(s) || strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) || r == '"' || r == '\\' }) >= 0 {
		return strconv.QuoteToASCII(s)
	}
	return s
}
