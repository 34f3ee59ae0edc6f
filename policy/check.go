package policy

import (
	"errors"
	"fmt"
	"strings"

	"github.com/pgmantle/pgmantle/catalog"
	"github.com/pgmantle/pgmantle/masking"
)

// Check validates the policy against a catalog snapshot and reports every
// problem, each with file:line: a named column that does not exist, a
// column tagged with two classes, a mask that does not accept the type of
// a column of its class, a role that does not exist in the database.
// Wildcard patterns that match no column are not errors (tables may come
// later), unless they hold upper-case letters (PostgreSQL folds unquoted
// names to lower case: the DBA probably meant the lower-case name).
func (p *Policy) Check(snap *catalog.Snapshot) error {
	var errs Errors
	add := func(pos position, format string, args ...any) {
		errs = append(errs, pos.String()+": "+fmt.Sprintf(format, args...))
	}
	classOf := map[catalog.ColumnRef]string{}
	colsOf := map[string][]catalog.ColumnRef{}
	for _, c := range p.Classes {
		for _, pat := range c.Patterns {
			refs := snap.Columns(pat.Schema, pat.Table, pat.Column)
			if len(refs) == 0 && pat.wild() && strings.ToLower(pat.String()) != pat.String() {
				// Names match exactly, and PostgreSQL folds unquoted
				// names to lower case: app.*.Email would tag nothing,
				// silently.
				add(pat.pos, "class %s: %s matches no column (names are matched as PostgreSQL stores them; unquoted names are lower case: %s)", c.Class, pat, strings.ToLower(pat.String()))
			}
			if len(refs) == 0 && !pat.wild() {
				if snap.RelationByName(pat.Schema, pat.Table) == nil {
					add(pat.pos, "class %s: unknown table %s.%s", c.Class, pat.Schema, pat.Table)
				} else {
					add(pat.pos, "class %s: unknown column %s", c.Class, pat)
				}
			}
			for _, ref := range refs {
				if other, ok := classOf[ref]; ok && other != c.Class {
					add(pat.pos, "column %s is tagged with two classes, %s and %s", ref, other, c.Class)
					continue
				}
				if _, ok := classOf[ref]; !ok {
					colsOf[c.Class] = append(colsOf[c.Class], ref)
				}
				classOf[ref] = c.Class
			}
		}
	}
	checkRole := func(r *Role) {
		for class, a := range r.Rules {
			name := a.MaskName()
			if name == "" {
				continue
			}
			for _, ref := range colsOf[class] {
				col, ok := snap.Column(ref)
				if !ok {
					continue
				}
				_, err := masking.New(name, a.Options, masking.Column{TypeOID: col.TypeOID, TypeMod: col.TypeMod, Class: class}, checkKeys{})
				var te *masking.TypeError
				switch {
				case errors.As(err, &te):
					add(a.pos, "role %s: %s does not accept column %s of type %s", r.Name, a, ref, col.TypeName)
				case err != nil:
					add(a.pos, "role %s, class %s: %v", r.Name, class, err)
				}
			}
		}
	}
	for _, name := range sortedRoleNames(p) {
		r := p.Roles[name]
		if _, ok := snap.Role(name); !ok {
			add(r.pos, "role %s does not exist in database %s", name, snap.Database)
		}
		checkRole(r)
	}
	checkRole(p.Default)
	return errs.err()
}

// checkKeys lets hash and tokenize masks be built during validation
// without real keys.
type checkKeys struct{}

func (checkKeys) HashKey(string) ([]byte, error)  { return make([]byte, 32), nil }
func (checkKeys) TokenKey(string) ([]byte, error) { return make([]byte, 32), nil }
