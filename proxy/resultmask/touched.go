package resultmask

import (
	"sort"

	"github.com/pgmantle/pgmantle/parser"
)

// Touched reports, for the audit log, which protected columns a statement
// reads or writes and their classes, as the analysis of restricted roles
// sees them, for sessions the engine did not analyse (unrestricted
// roles). sql is normalized text holding one statement; names resolve
// under the default search_path. ok is false when the database's policy
// binding is not loaded or the statement cannot be analysed.
func (e *Engine) Touched(database, sql string) (columns, classes []string, ok bool) {
	b, err := e.bindCached(database)
	if err != nil {
		return nil, nil, false
	}
	a := parser.Analyze(sql, b.env, nil)
	if len(a.Statements) == 0 || a.Statements[0].Kind == "UNPARSEABLE" {
		return nil, nil, false
	}
	return Facts(a.Statements)
}

// Facts lists the protected columns and the classes the analysed
// statements use or return.
func Facts(stmts []*parser.Statement) (columns, classes []string, ok bool) {
	cols, cls := map[string]bool{}, map[string]bool{}
	add := func(s parser.Source) {
		if s.Class == "" || s.Unknown {
			return
		}
		cols[s.Column.String()] = true
		cls[s.Class] = true
	}
	for _, st := range stmts {
		for _, u := range st.Uses {
			add(u.Source)
		}
		for _, o := range st.Outputs {
			for _, s := range o.Sources {
				add(s)
			}
		}
	}
	return sortedKeys(cols), sortedKeys(cls), true
}

func sortedKeys(m map[string]bool) []string {
	if len(m) == 0 {
		return nil
	}
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
