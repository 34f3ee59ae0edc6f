package discover

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

// Proposal is a finding for a named column.
type Proposal struct {
	Table  string // schema.table
	Column string
	Finding
}

// WriteClasses writes a proposed `classes:` section of a policy: each
// class with its columns, the evidence for each as a comment, and the
// columns looked at but not proposed counted at the end.
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

// yamlName quotes a column reference when YAML would otherwise misread it.
func yamlName(s string) string {
	if strings.ContainsAny(s, ":#{}[],&*!|>'\"%@` ") || strings.IndexFunc(s, func(r rune) bool { return r > 0x7e }) >= 0 {
		return fmt.Sprintf("%q", s)
	}
	return s
}
