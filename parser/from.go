package parser

import (
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/pgmantle/pgmantle/catalog"
)

// fromItem analyses one FROM-clause entry and makes it visible in sc.
func (a *analyzer) fromItem(n *pg_query.Node, sc *scope) error {
	it, err := a.rangeItem(n, sc)
	if err != nil {
		return err
	}
	sc.add(it)
	return nil
}

// rangeItem analyses a FROM-clause entry. Items are registered in
// sc.named as they are built, so LATERAL items and join conditions see
// the items before them.
func (a *analyzer) rangeItem(n *pg_query.Node, sc *scope) (*fromItem, error) {
	switch x := n.Node.(type) {
	case *pg_query.Node_RangeVar:
		return a.rangeVar(x.RangeVar, sc)
	case *pg_query.Node_RangeSubselect:
		return a.rangeSubselect(x.RangeSubselect, sc)
	case *pg_query.Node_RangeFunction:
		return a.rangeFunction(x.RangeFunction, sc)
	case *pg_query.Node_JoinExpr:
		return a.joinExpr(x.JoinExpr, sc)
	case *pg_query.Node_RangeTableSample:
		it, err := a.rangeItem(x.RangeTableSample.Relation, sc)
		if err != nil {
			return nil, err
		}
		for _, arg := range append(x.RangeTableSample.Args, x.RangeTableSample.Repeatable) {
			if err := a.consume(arg, sc, UseFunction); err != nil {
				return nil, err
			}
		}
		if it.hasSystemColumns() {
			// Which rows a sample keeps is a function of their place in
			// storage (BERNOULLI hashes block and offset, SYSTEM picks
			// blocks): a predicate on ctid.
			for _, s := range it.system("ctid").srcs {
				a.use(Use{Kind: UsePredicate, Source: s})
			}
		}
		return it, nil
	case *pg_query.Node_RangeTableFunc, *pg_query.Node_JsonTable:
		// XMLTABLE and JSON_TABLE compute their columns from a document.
		v, err := a.generic(n, sc)
		if err != nil {
			return nil, err
		}
		it := &fromItem{name: aliasOf(n), anyCol: &v}
		sc.named = append(sc.named, it)
		return it, nil
	}
	return nil, a.refuse("a FROM item pgmantle cannot analyse")
}

func aliasOf(n *pg_query.Node) string {
	switch x := n.Node.(type) {
	case *pg_query.Node_RangeTableFunc:
		if x.RangeTableFunc.Alias != nil {
			return x.RangeTableFunc.Alias.Aliasname
		}
	case *pg_query.Node_JsonTable:
		if x.JsonTable.Alias != nil {
			return x.JsonTable.Alias.Aliasname
		}
	}
	return ""
}

// rangeVar resolves a table, view or WITH query reference.
func (a *analyzer) rangeVar(rv *pg_query.RangeVar, sc *scope) (*fromItem, error) {
	name := rv.Relname
	alias := name
	var aliasCols []string
	if rv.Alias != nil {
		alias = rv.Alias.Aliasname
		aliasCols, _ = names(rv.Alias.Colnames)
	}
	if rv.Schemaname == "" {
		if c := sc.lookupCTE(name); c != nil {
			if c.pending {
				return nil, a.refuse("a WITH RECURSIVE query that refers to a later one (%s)", name)
			}
			it := &fromItem{name: alias, cols: rename(c.cols, aliasCols), order: c.order}
			sc.named = append(sc.named, it)
			return it, nil
		}
	}
	rel, err := a.relation(rv.Schemaname, name)
	if err != nil {
		return nil, err
	}
	it := &fromItem{name: alias, rel: rel, aliased: rv.Alias != nil}
	a.rowSecurity(rel)
	it.tableoid = a.env.partitionKey(rel)
	if rv.Inh || rel.Kind == catalog.KindView || rel.Kind == catalog.KindMatView {
		it.order = a.env.scanOrder(rel) // not with ONLY: no children read
		a.scanned = appendSources(a.scanned, it.order...)
	}
	if rel.Kind == catalog.KindView || rel.Kind == catalog.KindMatView {
		a.rowOrder(a.env.view(rel).picked)
	}
	if rel.Parent != 0 {
		// A partition holds the rows whose key falls in its bounds:
		// reading it selects rows by its parents' partition keys.
		for p := a.env.snap.Relation(rel.Parent); p != nil; p = a.env.snap.Relation(p.Parent) {
			for _, s := range a.env.partitionKey(p).srcs {
				a.use(Use{Kind: UsePredicate, Source: s})
			}
		}
	}
	for i, col := range rel.Columns {
		c := column{name: col.Name, v: a.env.columnValue(rel, col, i)}
		if i < len(aliasCols) {
			c.name = aliasCols[i]
		}
		it.cols = append(it.cols, c)
	}
	sc.named = append(sc.named, it)
	return it, nil
}

// rowSecurity charges, as predicates, the protected columns that the
// row-level security policies of rel (or, for a view, of the relations
// it reads) compare: PostgreSQL adds the policies' expressions to the
// statement, and what they compare a column with may be of the client's
// choosing (USING (id_no = current_setting('app.id_no')), a setting any
// role may SET). Inside a view's definition they are collected for the
// view instead.
func (a *analyzer) rowSecurity(rel *catalog.Relation) {
	var srcs []Source
	switch {
	case rel.RowSecurity:
		srcs = a.env.policySources(rel)
	case rel.Kind == catalog.KindView:
		srcs = a.env.view(rel).rls
	}
	for _, s := range srcs {
		if a.definer {
			a.rls = appendSources(a.rls, s)
		} else {
			a.use(Use{Kind: UsePredicate, Source: s})
		}
	}
}

// relation resolves a relation name through the search_path.
func (a *analyzer) relation(schema, name string) (*catalog.Relation, error) {
	if refusedRelation(name) && !a.definer {
		return nil, a.refuse("reading %s", name)
	}
	var rel *catalog.Relation
	if schema != "" {
		rel = a.env.snap.RelationByName(schema, name)
	} else {
		for _, s := range a.path {
			if rel = a.env.snap.RelationByName(s, name); rel != nil {
				break
			}
		}
	}
	if rel == nil {
		return nil, a.unresolvedName("the relation %s (unknown to pgmantle's catalog; it may be new or temporary)", qualified(schema, name))
	}
	a.st.Relations = appendUnique(a.st.Relations, rel.Schema+"."+rel.Name)
	return rel, nil
}

func appendUnique(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

// rangeSubselect analyses a subquery in FROM.
func (a *analyzer) rangeSubselect(rs *pg_query.RangeSubselect, sc *scope) (*fromItem, error) {
	sel := rs.Subquery.GetSelectStmt()
	if sel == nil {
		return nil, a.refuse("a subquery pgmantle cannot analyse")
	}
	// A non-LATERAL subquery sees the enclosing query levels but not its
	// siblings.
	// (The WITH queries of this level stay visible.)
	parent := &scope{parent: sc.parent, ctes: sc.ctes}
	if rs.Lateral {
		parent = sc
	}
	outs, err := a.selectStmt(sel, parent)
	if err != nil {
		return nil, err
	}
	it := &fromItem{}
	var aliasCols []string
	if rs.Alias != nil {
		it.name = rs.Alias.Aliasname
		aliasCols, _ = names(rs.Alias.Colnames)
	}
	if !outs.exact && len(aliasCols) > 0 {
		// PostgreSQL gives the aliases to all the columns, in order,
		// including those pgmantle cannot count.
		return nil, a.refuse("a column alias list over a subquery whose result columns pgmantle cannot establish")
	}
	it.cols = rename(outs.cols, aliasCols)
	it.order = outs.order
	if !outs.exact {
		v := value{}
		it.anyCol = &v
	}
	sc.named = append(sc.named, it)
	return it, nil
}

// rangeFunction analyses functions in FROM (set-returning functions, ROWS
// FROM, WITH ORDINALITY). Their columns derive from their arguments.
func (a *analyzer) rangeFunction(rf *pg_query.RangeFunction, sc *scope) (*fromItem, error) {
	var vs []value
	var funcNames []string
	for _, f := range rf.Functions {
		// Each entry is a List of (function call, column definitions).
		var call *pg_query.Node
		if l := f.GetList(); l != nil && len(l.Items) > 0 {
			call = l.Items[0]
		} else {
			call = f
		}
		v, err := a.expr(call, sc)
		if err != nil {
			return nil, err
		}
		vs = append(vs, a.compute(UseFunction, v))
		if fc := call.GetFuncCall(); fc != nil {
			if parts, _ := names(fc.Funcname); len(parts) > 0 {
				funcNames = append(funcNames, parts[len(parts)-1])
			}
		}
	}
	v := derived(vs...)
	// Unaliased, the item is named after its (first) function, as
	// PostgreSQL names a ROWS FROM of several.
	it := &fromItem{}
	if len(funcNames) > 0 {
		it.name = funcNames[0]
	}
	var aliasCols []string
	if rf.Alias != nil {
		it.name = rf.Alias.Aliasname
		aliasCols, _ = names(rf.Alias.Colnames)
	}
	switch {
	case len(rf.Coldeflist) > 0:
		for _, cd := range rf.Coldeflist {
			if d := cd.GetColumnDef(); d != nil {
				it.cols = append(it.cols, column{name: d.Colname, v: v})
			}
		}
	case len(rf.Functions) == 1 && len(funcNames) == 1 && scalarResult(a, rf.Functions[0]):
		// A function returning a scalar gives one column named after the
		// alias (or the function) — unless the function has a named OUT
		// parameter, whose name PostgreSQL uses instead (json_array_elements
		// gives "value"): the name is a guess unless the alias list names
		// the column.
		name := funcNames[0]
		if rf.Alias != nil {
			name = rf.Alias.Aliasname
		}
		it.cols = []column{{name: name, v: v, unsureName: len(aliasCols) == 0}}
	default:
		it.anyCol = &v
	}
	if rf.Ordinality {
		it.cols = append(it.cols, column{name: "ordinality"})
	}
	it.cols = rename(it.cols, aliasCols)
	if it.anyCol != nil && len(aliasCols) > 0 {
		for _, n := range aliasCols {
			it.cols = append(it.cols, column{name: n, v: v})
		}
	}
	sc.named = append(sc.named, it)
	return it, nil
}

// unsureNames reports an item with a column whose name is a guess.
func unsureNames(it *fromItem) bool {
	for _, c := range it.cols {
		if c.unsureName {
			return true
		}
	}
	return false
}

// scalarResult reports whether a FROM function returns a base type (one
// column), by its catalog entry.
func scalarResult(a *analyzer, f *pg_query.Node) bool {
	call := f
	if l := f.GetList(); l != nil && len(l.Items) > 0 {
		call = l.Items[0]
	}
	fc := call.GetFuncCall()
	if fc == nil {
		return false
	}
	parts, _ := names(fc.Funcname)
	schemas := a.schemasFor(parts)
	for _, s := range schemas {
		for _, fn := range a.env.snap.Function(s, parts[len(parts)-1]) {
			r := fn.Result
			r = strings.TrimPrefix(r, "SETOF ")
			// A record, a table, or a polymorphic type (anyelement can be
			// a row type): columns unknown.
			if r == "record" || strings.HasPrefix(r, "TABLE(") || strings.HasPrefix(r, "any") {
				return false
			}
			if isComposite(a.env.snap, r) {
				return false
			}
		}
		if len(a.env.snap.Function(s, parts[len(parts)-1])) > 0 {
			return true
		}
	}
	return false
}

// isComposite reports whether a result type, as pg_get_function_result
// prints it, is a relation's row type.
func isComposite(snap *catalog.Snapshot, typ string) bool {
	schema, name, ok := strings.Cut(typ, ".")
	if !ok {
		schema, name = "pg_catalog", typ
	}
	return snap.RelationByName(strings.Trim(schema, `"`), strings.Trim(name, `"`)) != nil
}

// joinExpr analyses a join: both sides, the condition, and the merged
// columns of USING and NATURAL.
func (a *analyzer) joinExpr(j *pg_query.JoinExpr, sc *scope) (*fromItem, error) {
	start := len(sc.named)
	l, err := a.rangeItem(j.Larg, sc)
	if err != nil {
		return nil, err
	}
	// The right side may be LATERAL: it sees the left side's columns by
	// their unqualified names too.
	n := len(sc.items)
	sc.items = append(sc.items, l)
	r, err := a.rangeItem(j.Rarg, sc)
	sc.items = sc.items[:n]
	if err != nil {
		return nil, err
	}
	using, _ := names(j.UsingClause)
	if j.IsNatural && (l.anyCol != nil || r.anyCol != nil) {
		return nil, a.refuse("NATURAL JOIN with a function whose result columns pgmantle cannot establish")
	}
	if (j.IsNatural || len(using) > 0) && (unsureNames(l) || unsureNames(r)) {
		// The join columns are the common names PostgreSQL gives; a
		// column whose name pgmantle only guesses may be one of them.
		return nil, a.refuse("NATURAL JOIN or JOIN USING over a column whose name pgmantle cannot establish; name it with AS, or join with ON")
	}
	if j.IsNatural {
		using = nil
		for _, lc := range l.cols {
			if _, ok := r.realCol(lc.name); ok {
				using = append(using, lc.name)
			}
		}
	}
	if len(using) > 0 {
		if err := a.operator("="); err != nil { // USING compares with the operator named =
			return nil, err
		}
	}
	it := &fromItem{hidden: true, order: appendSources(append([]Source(nil), l.order...), r.order...)}
	merged := map[string]bool{}
	for _, name := range using {
		lv, lok := l.col(name)
		rv, rok := r.col(name)
		if !lok || !rok {
			return nil, a.refuse("the join column %s cannot be resolved", name)
		}
		a.equality(lv, rv)
		v := union(lv, rv)
		if j.Jointype == pg_query.JoinType_JOIN_FULL {
			v = value{srcs: v.srcs} // COALESCE(l, r)
			if !v.clean() {
				a.charge(union(lv, rv), UseFunction)
			}
		}
		it.cols = append(it.cols, column{name: name, v: v})
		merged[name] = true
	}
	for _, side := range []*fromItem{l, r} {
		for _, c := range side.cols {
			if !merged[c.name] {
				it.cols = append(it.cols, c)
			}
		}
		if side.anyCol != nil {
			v := *side.anyCol
			if it.anyCol != nil {
				v = union(*it.anyCol, v)
			}
			it.anyCol = &v
		}
	}
	if j.Alias != nil {
		it.name, it.hidden = j.Alias.Aliasname, false
		aliasCols, _ := names(j.Alias.Colnames)
		if len(aliasCols) > 0 && (it.anyCol != nil || unsureNames(it)) {
			return nil, a.refuse("a column alias list over a join with columns pgmantle cannot establish")
		}
		it.cols = rename(it.cols, aliasCols)
	}
	if j.JoinUsingAlias != nil {
		ua := &fromItem{name: j.JoinUsingAlias.Aliasname}
		ua.cols = append(ua.cols, it.cols[:len(using)]...)
		sc.named = append(sc.named, ua)
	}
	sc.named = append(sc.named, it)
	// The condition sees the join's two sides and the enclosing query
	// levels — not the other items of this FROM clause.
	if j.Quals != nil {
		members := append([]*fromItem(nil), sc.named[start:]...)
		qs := &scope{parent: sc.parent, named: members, ctes: sc.ctes, items: []*fromItem{it}}
		if err := a.consume(j.Quals, qs, UsePredicate); err != nil {
			return nil, err
		}
	}
	if j.Alias != nil {
		// An aliased join hides the names of its members.
		sc.named = append(sc.named[:start], it)
	}
	return it, nil
}
