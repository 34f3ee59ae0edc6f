package policy

import "github.com/pgmantle/pgmantle/catalog"

// ClassOf maps every base column of snap that the policy tags to its
// class. A column two patterns tag with different classes keeps the first
// (Check reports the conflict).
func (p *Policy) ClassOf(snap *catalog.Snapshot) map[catalog.ColumnRef]string {
	out := map[catalog.ColumnRef]string{}
	for _, c := range p.Classes {
		for _, pat := range c.Patterns {
			for _, ref := range snap.Columns(pat.Schema, pat.Table, pat.Column) {
				if _, ok := out[ref]; !ok {
					out[ref] = c.Class
				}
			}
		}
	}
	return out
}
