package parser

import (
	"slices"
	"strings"
	"sync"

	"github.com/pgmantle/pgmantle/catalog"
)

// Env is what analysis resolves names against: one catalog snapshot and
// the classes a policy gives its columns. An Env is immutable once built
// and safe for concurrent use; build a new one when the snapshot or the
// policy changes.
type Env struct {
	snap    *catalog.Snapshot
	classOf map[catalog.ColumnRef]string
	// allowFunctions are functions outside pg_catalog the policy allows
	// ("schema.name").
	allowFunctions map[string]bool

	mu     sync.Mutex
	views  map[uint32]*viewLineage // memoized view expansions
	checks map[uint32][]Source     // memoized viewCheck results
}

// NewEnv builds an Env. classOf gives the class of each protected base
// column; allowFunctions names functions outside pg_catalog (as
// "schema.name") that restricted roles may call.
func NewEnv(snap *catalog.Snapshot, classOf map[catalog.ColumnRef]string, allowFunctions []string) *Env {
	e := &Env{snap: snap, classOf: classOf, allowFunctions: map[string]bool{}, views: map[uint32]*viewLineage{}, checks: map[uint32][]Source{}}
	for _, f := range allowFunctions {
		e.allowFunctions[f] = true
	}
	return e
}

// Snapshot returns the catalog snapshot the Env resolves names in.
func (e *Env) Snapshot() *catalog.Snapshot { return e.snap }

// viewLineage is the lineage of each column of a view, computed from its
// definition.
type viewLineage struct {
	cols []value
	ok   bool
	// rls are the protected columns the row-level security policies of
	// the relations the view reads compare (Env.policySources).
	rls []Source
	// order is the order of the view's rows; picked the row orders its
	// definition observes (see roworder.go).
	order, picked []Source
}

// partitionKey returns the lineage of a partitioned table's partition
// key: computed from the protected columns it reads (clean if it reads
// none, or rel is not partitioned).
func (e *Env) partitionKey(rel *catalog.Relation) value {
	var v value
	for i, col := range rel.Columns {
		if slices.Contains(rel.PartitionKey, col.Num) {
			v.srcs = appendSources(v.srcs, e.columnValue(rel, col, i).srcs...)
		}
	}
	return v
}

// columnValue returns the lineage of column attnum of a relation: a
// protected base column, a clean one, (for views) what the view's
// definition computes it from, or an unknown origin for a generated
// column computed by a function the policy does not list.
func (e *Env) columnValue(rel *catalog.Relation, col catalog.Column, idx int) value {
	if rel.Schema == "pg_catalog" || rel.Schema == "information_schema" {
		return value{} // system catalogs hold no tagged data; see refusedRelations
	}
	if f := e.unlisted(col.DefaultFunctions); f != "" && col.Generated {
		// Computed by a function that can read anything (a salary by
		// the row's salary_id): its values' origin is unknown.
		return value{srcs: []Source{{Column: catalog.ColumnRef{Schema: rel.Schema, Table: rel.Name, Column: col.Name + " (computed by " + f + ")"}, Unknown: true}}, direct: true}
	}
	ref, _, ok := e.snap.Origin(rel.OID, col.Num)
	if ok {
		if class := e.classOf[ref]; class != "" {
			return value{srcs: []Source{{Column: ref, Class: class}}, direct: true}
		}
		if rel.Kind != catalog.KindView && rel.Kind != catalog.KindMatView {
			return value{}
		}
	}
	if rel.Kind != catalog.KindView && rel.Kind != catalog.KindMatView {
		// A base column the snapshot cannot place (should not happen).
		return value{srcs: []Source{{Column: catalog.ColumnRef{Schema: rel.Schema, Table: rel.Name, Column: col.Name}, Unknown: true}}, direct: true}
	}
	vl := e.view(rel)
	if vl.ok && idx < len(vl.cols) {
		return vl.cols[idx]
	}
	if ok {
		return value{} // a plain copy of a clean column
	}
	return value{srcs: []Source{{Column: catalog.ColumnRef{Schema: rel.Schema, Table: rel.Name, Column: col.Name}, Unknown: true}}, direct: true}
}

// view expands a view's definition once per Env. Inside a view, only the
// lineage of its columns matters: how the view uses protected columns is
// its owner's decision, not the querying role's.
func (e *Env) view(rel *catalog.Relation) *viewLineage {
	e.mu.Lock()
	vl := e.views[rel.OID]
	if vl != nil {
		e.mu.Unlock()
		return vl
	}
	// Mark in progress: a view cannot (legally) refer to itself, but a
	// stale snapshot should not recurse forever.
	e.views[rel.OID] = &viewLineage{}
	e.mu.Unlock()

	vl = &viewLineage{}
	if def := rel.Definition; def != "" {
		if st, err := parseOne(def); err == nil {
			a := &analyzer{env: e, path: []string{"pg_catalog"}, definer: true, st: &Statement{}}
			if sel := st.GetSelectStmt(); sel != nil {
				outs, err := a.selectStmt(sel, nil)
				if err == nil && outs.exact && len(outs.cols) == len(rel.Columns) {
					vl.cols = make([]value, len(outs.cols))
					for i, c := range outs.cols {
						vl.cols[i] = c.v
					}
					vl.ok = true
				}
				vl.order = outs.order
			}
			vl.rls, vl.picked = a.rls, a.picked
		}
	}
	e.mu.Lock()
	e.views[rel.OID] = vl
	e.mu.Unlock()
	return vl
}

// unlisted returns the first of fns (functions as "schema.name") the
// policy's functions: list does not name, or "".
func (e *Env) unlisted(fns []string) string {
	for _, f := range fns {
		if !e.allowFunctions[f] {
			return f
		}
	}
	return ""
}

// policySources returns the protected columns rel's row-level security
// policies read (those of other relations too); a relation or column the
// snapshot cannot place, or a function the policies call that the
// policy's functions: list does not name (it may read anything), gives a
// source of unknown origin.
func (e *Env) policySources(rel *catalog.Relation) []Source {
	var srcs []Source
	if f := e.unlisted(rel.PolicyFunctions); f != "" {
		srcs = append(srcs, Source{Column: catalog.ColumnRef{Schema: rel.Schema, Table: rel.Name, Column: "(row-level security policy calling " + f + ")"}, Unknown: true})
	}
	for _, at := range rel.PolicyReads {
		r := e.snap.Relation(at.Rel)
		if r == nil {
			return append(srcs, Source{Column: catalog.ColumnRef{Schema: rel.Schema, Table: rel.Name, Column: "(row security policy)"}, Unknown: true})
		}
		for i, col := range r.Columns {
			if at.Num == 0 || col.Num == at.Num {
				srcs = appendSources(srcs, e.columnValue(r, col, i).srcs...)
			}
		}
	}
	return srcs
}

// viewCheck returns the protected columns a view's WHERE reads: what a
// row written through the view WITH CHECK OPTION is compared with. A
// WHERE pgmantle cannot analyse (a function the policy does not list, a
// definition that does not parse) gives a source of unknown origin, so
// the write is refused.
func (e *Env) viewCheck(rel *catalog.Relation) []Source {
	e.mu.Lock()
	srcs, ok := e.checks[rel.OID]
	e.mu.Unlock()
	if ok {
		return srcs
	}
	unknown := []Source{{Column: catalog.ColumnRef{Schema: rel.Schema, Table: rel.Name, Column: "(WHERE)"}, Unknown: true}}
	srcs = unknown
	if st, err := parseOne(rel.Definition); err == nil {
		if sel := st.GetSelectStmt(); sel != nil && sel.WhereClause != nil {
			// Analysed as a statement of its own: its uses are the
			// comparisons the check makes.
			a := &analyzer{env: e, path: []string{"pg_catalog"}, st: &Statement{}}
			sc := newScope(nil)
			err := a.with(sel.WithClause, sc)
			for _, f := range sel.FromClause {
				if err == nil {
					err = a.fromItem(f, sc)
				}
			}
			if err == nil {
				err = a.consume(sel.WhereClause, sc, UsePredicate)
			}
			if err == nil && a.st.Refusal == "" {
				srcs = nil
				for _, u := range a.st.Uses {
					srcs = appendSources(srcs, u.Source)
				}
			}
		} else if sel != nil {
			srcs = nil // no WHERE: nothing to check
		}
	}
	e.mu.Lock()
	e.checks[rel.OID] = srcs
	e.mu.Unlock()
	return srcs
}

// qualified joins a schema and a name for messages.
func qualified(schema, name string) string {
	if schema == "" {
		return name
	}
	return schema + "." + name
}

func lower(s string) string { return strings.ToLower(s) }
