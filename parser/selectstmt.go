package parser

import (
	pg_query "github.com/pganalyze/pg_query_go/v6"
)

// outputs are the result columns of a query.
type outputs struct {
	cols  []column
	exact bool // false: SELECT * over a function of unknown shape
	// order: the protected columns that decide the order of the rows;
	// keys: each column's type where known, for ending it (roworder.go).
	order []Source
	keys  []keyType
}

// selectStmt analyses a SELECT (or VALUES, or a set operation) whose
// outer query level, for correlated references, is parent.
func (a *analyzer) selectStmt(sel *pg_query.SelectStmt, parent *scope) (outputs, error) {
	sc := newScope(parent)
	if err := a.with(sel.WithClause, sc); err != nil {
		return outputs{}, err
	}
	if sel.IntoClause != nil && !a.definer {
		return outputs{}, a.refuse("SELECT INTO")
	}
	var outs outputs
	var err error
	switch {
	case sel.Op == pg_query.SetOperation_SETOP_UNION || sel.Op == pg_query.SetOperation_SETOP_INTERSECT ||
		sel.Op == pg_query.SetOperation_SETOP_EXCEPT:
		outs, err = a.setOp(sel, sc)
	case len(sel.ValuesLists) > 0:
		outs, err = a.values(sel.ValuesLists, sc)
	default:
		outs, err = a.simpleSelect(sel, sc)
	}
	if err != nil {
		return outputs{}, err
	}
	// ORDER BY and LIMIT of the whole query.
	sc.outputs, sc.outputsExact = outs.cols, outs.exact
	for _, o := range sel.SortClause {
		if sb := o.GetSortBy(); sb != nil {
			if err := a.sortOperator(sb); err != nil {
				return outputs{}, err
			}
			v, err := a.sortExpr(sb.Node, sc, true)
			if err != nil {
				return outputs{}, err
			}
			a.charge(v, UseOrder)
		}
	}
	for _, n := range []*pg_query.Node{sel.LimitCount, sel.LimitOffset} {
		if err := a.consume(n, sc, UsePredicate); err != nil {
			return outputs{}, err
		}
	}
	if sortsEveryOutput(sel.SortClause, outs, sel.TargetList) {
		outs.order = nil
	}
	if sel.LimitCount != nil || sel.LimitOffset != nil {
		a.rowOrder(outs.order) // the rows kept are the first ones
	}
	return outs, nil
}

// with registers the WITH queries of a statement in sc.
func (a *analyzer) with(w *pg_query.WithClause, sc *scope) error {
	if w == nil {
		return nil
	}
	sc.ctes = map[string]*cte{}
	if w.Recursive {
		// Every name of a WITH RECURSIVE is visible in every query of it,
		// later ones included: mark them until analysed.
		for _, n := range w.Ctes {
			if c := n.GetCommonTableExpr(); c != nil {
				sc.ctes[c.Ctename] = &cte{pending: true}
			}
		}
	}
	for _, n := range w.Ctes {
		c := n.GetCommonTableExpr()
		if c == nil {
			continue
		}
		if c.SearchClause != nil || c.CycleClause != nil {
			return a.refuse("SEARCH and CYCLE clauses of WITH RECURSIVE")
		}
		aliases, _ := names(c.Aliascolnames)
		var outs outputs
		var err error
		if sel := c.Ctequery.GetSelectStmt(); sel != nil {
			if w.Recursive && sel.Op == pg_query.SetOperation_SETOP_UNION && sel.Larg != nil {
				// The non-recursive term gives the columns; then the whole
				// query is analysed with the CTE visible, twice, so that
				// lineage flowing around the recursion is seen.
				first, err := a.selectStmt(sel.Larg, sc)
				if err != nil {
					return err
				}
				sc.ctes[c.Ctename] = &cte{cols: rename(first.cols, aliases), order: first.order}
				// Lineage can move one column per iteration: repeat until
				// the columns' lineage stops changing.
				prev := sc.ctes[c.Ctename].cols
				converged := false
				for range len(prev) + 2 {
					if outs, err = a.selectStmt(sel, sc); err != nil {
						return err
					}
					merged := rename(outs.cols, aliases)
					if len(merged) != len(prev) {
						return a.refuse("a WITH RECURSIVE query whose terms have different numbers of columns")
					}
					for i := range merged {
						merged[i].v = union(merged[i].v, prev[i].v)
					}
					sc.ctes[c.Ctename] = &cte{cols: merged, order: appendSources(append([]Source(nil), sc.ctes[c.Ctename].order...), outs.order...)}
					if sameLineage(merged, prev) {
						converged = true
						break
					}
					prev = merged
				}
				if !converged {
					return a.refuse("a WITH RECURSIVE query whose lineage pgmantle cannot settle")
				}
				continue
			}
			outs, err = a.selectStmt(sel, sc)
		} else {
			outs, err = a.write(c.Ctequery, sc)
		}
		if err != nil {
			return err
		}
		if !outs.exact {
			return a.refuse("a WITH query whose columns cannot be established")
		}
		sc.ctes[c.Ctename] = &cte{cols: rename(outs.cols, aliases), order: outs.order}
	}
	return nil
}

// rename applies column aliases.
func rename(cols []column, aliases []string) []column {
	out := make([]column, len(cols))
	copy(out, cols)
	for i := range out {
		if i < len(aliases) {
			out[i].name, out[i].unsureName = aliases[i], false
		}
	}
	return out
}

// simpleSelect analyses SELECT ... FROM ... WHERE ... GROUP BY ... HAVING.
func (a *analyzer) simpleSelect(sel *pg_query.SelectStmt, sc *scope) (outputs, error) {
	for _, f := range sel.FromClause {
		if err := a.fromItem(f, sc); err != nil {
			return outputs{}, err
		}
	}
	if err := a.consume(sel.WhereClause, sc, UsePredicate); err != nil {
		return outputs{}, err
	}
	outs, err := a.targetList(sel.TargetList, sc)
	if err != nil {
		return outputs{}, err
	}
	sc.outputs, sc.outputsExact = outs.cols, outs.exact
	for _, g := range sel.GroupClause {
		if err := a.groupItem(g, sc); err != nil {
			return outputs{}, err
		}
	}
	if err := a.consume(sel.HavingClause, sc, UsePredicate); err != nil {
		return outputs{}, err
	}
	for _, w := range sel.WindowClause {
		if wd := w.GetWindowDef(); wd != nil {
			if err := a.window(wd, sc); err != nil {
				return outputs{}, err
			}
		}
	}
	if len(sel.DistinctClause) > 0 {
		if len(sel.DistinctClause) == 1 && sel.DistinctClause[0].Node == nil {
			for _, c := range outs.cols { // SELECT DISTINCT
				a.charge(c.v, UseGroup)
			}
		} else {
			for _, d := range sel.DistinctClause { // DISTINCT ON (...)
				v, err := a.sortExpr(d, sc, true)
				if err != nil {
					return outputs{}, err
				}
				// PostgreSQL sorts by the DISTINCT ON expressions: the rows
				// come back in their order, which is an ordering use.
				a.charge(v, UseOrder)
			}
		}
	}
	outs.order = a.levelOrder(sel, sc, outs)
	return outs, nil
}

// groupItem analyses one GROUP BY item, including ROLLUP, CUBE and
// GROUPING SETS.
func (a *analyzer) groupItem(g *pg_query.Node, sc *scope) error {
	if gs := g.GetGroupingSet(); gs != nil {
		for _, c := range gs.Content {
			if err := a.groupItem(c, sc); err != nil {
				return err
			}
		}
		return nil
	}
	if l := g.GetList(); l != nil {
		for _, c := range l.Items {
			if err := a.groupItem(c, sc); err != nil {
				return err
			}
		}
		return nil
	}
	v, err := a.sortExpr(g, sc, false)
	if err != nil {
		return err
	}
	a.charge(v, UseGroup)
	return nil
}

// sortExpr resolves an ORDER BY, GROUP BY or DISTINCT ON item: an output
// position, an output name (ORDER BY prefers those, GROUP BY prefers input
// columns), or an expression.
func (a *analyzer) sortExpr(n *pg_query.Node, sc *scope, preferOutput bool) (value, error) {
	if c := n.GetAConst(); c != nil {
		a.st.literalDependent = true // ORDER BY 1 and ORDER BY 2 differ
		if !sc.outputsExact && c.GetIval() != nil {
			return value{}, a.refuse("a column position over result columns pgmantle cannot count")
		}
		if i := c.GetIval(); i != nil && i.Ival >= 1 && int(i.Ival) <= len(sc.outputs) {
			return sc.outputs[i.Ival-1].v, nil
		}
	}
	if cr := n.GetColumnRef(); cr != nil {
		parts, star := names(cr.Fields)
		if !star && len(parts) == 1 {
			var sure, unsure []value
			for _, o := range sc.outputs {
				switch {
				case o.name == parts[0] && !o.unsureName:
					sure = append(sure, o.v)
				case o.unsureName:
					unsure = append(unsure, o.v)
				}
			}
			_, isInput, _ := sc.columnHere(parts)
			// Input columns whose names pgmantle only guesses (or cannot
			// know) may bear the name too: count them with any choice.
			unsure = append(unsure, sc.unknownColumns()...)
			switch {
			case preferOutput && len(sure) > 0, !preferOutput && !isInput && len(sure) > 0:
				return unionAll(append(sure, unsure...)), nil
			case !preferOutput && isInput:
				// GROUP BY prefers input columns (a.expr counts the unsure
				// ones of the level too).
			case len(unsure) > 0:
				// An output pgmantle cannot name may be the one meant, or
				// the input column of that name: count both.
				if !isInput {
					return unionAll(unsure), nil
				}
				in, err := a.expr(n, sc)
				if err != nil {
					return value{}, err
				}
				return unionAll(append(unsure, in)), nil
			}
		}
	}
	return a.expr(n, sc)
}

// targetList analyses a select list, expanding * and t.*.
func (a *analyzer) targetList(list []*pg_query.Node, sc *scope) (outputs, error) {
	outs := outputs{exact: true}
	for _, n := range list {
		rt := n.GetResTarget()
		if rt == nil {
			continue
		}
		if cr := rt.Val.GetColumnRef(); cr != nil {
			if parts, star := names(cr.Fields); star {
				items := sc.items
				if len(parts) > 0 {
					it := sc.itemFor(parts)
					if it == nil {
						return outputs{}, a.refuse("%s.* cannot be resolved", joinName(parts))
					}
					items = []*fromItem{it}
				}
				for _, it := range items {
					outs.cols = append(outs.cols, it.cols...)
					if it.anyCol != nil {
						if !it.anyCol.clean() {
							return outputs{}, a.refuse("* over the function %s, whose result columns pgmantle cannot establish", it.name)
						}
						outs.exact = false
					}
				}
				continue
			}
		}
		v, err := a.expr(rt.Val, sc)
		if err != nil {
			return outputs{}, err
		}
		// An output column is a column, not the literal or parameter it
		// was computed from: compared with a tokenized column elsewhere, it
		// must not be detokenized (it would be output, or tested, as the
		// real value).
		v.constant, v.param, v.paramLoc, v.literal = false, 0, 0, 0
		name, sure := outputName(rt)
		outs.cols = append(outs.cols, column{name: name, v: v, unsureName: !sure})
	}
	outs.keys = outputKeys(list, sc)
	return outs, nil
}

// outputName is the column name PostgreSQL gives a select-list item, for
// ORDER BY by name, and whether pgmantle is sure of it; ORDER BY a name
// counts every item whose name it is not sure of as a candidate.
func outputName(rt *pg_query.ResTarget) (string, bool) {
	if rt.Name != "" {
		return rt.Name, true
	}
	switch x := rt.Val.Node.(type) {
	case *pg_query.Node_ColumnRef:
		if parts, star := names(x.ColumnRef.Fields); len(parts) > 0 && !star {
			return parts[len(parts)-1], true
		}
	case *pg_query.Node_FuncCall:
		if parts, _ := names(x.FuncCall.Funcname); len(parts) > 0 {
			return parts[len(parts)-1], true
		}
	case *pg_query.Node_TypeCast:
		// PostgreSQL keeps a column's or a function's name through a
		// cast; otherwise it names the column after the type.
		switch x.TypeCast.Arg.Node.(type) {
		case *pg_query.Node_ColumnRef, *pg_query.Node_FuncCall:
			return outputName(&pg_query.ResTarget{Val: x.TypeCast.Arg})
		}
	case *pg_query.Node_AConst, *pg_query.Node_BoolExpr, *pg_query.Node_NullTest:
		return "?column?", true
	case *pg_query.Node_AExpr:
		if x.AExpr.Kind != pg_query.A_Expr_Kind_AEXPR_NULLIF {
			return "?column?", true
		}
	case *pg_query.Node_CaseExpr:
		// PostgreSQL names a CASE after its ELSE result when that has a
		// name of its own (CASE ... ELSE c.id END is "id"), else "case".
		if x.CaseExpr.Defresult == nil {
			return "case", true
		}
		name, sure := outputName(&pg_query.ResTarget{Val: x.CaseExpr.Defresult})
		switch {
		case !sure:
			return "case", false
		case name == "?column?":
			return "case", true
		}
		return name, true
	case *pg_query.Node_CoalesceExpr:
		return "coalesce", true
	}
	return "?column?", false
}

// values analyses VALUES (...), (...).
func (a *analyzer) values(lists []*pg_query.Node, sc *scope) (outputs, error) {
	outs := outputs{exact: true}
	for _, l := range lists {
		row := l.GetList()
		if row == nil {
			continue
		}
		for i, item := range row.Items {
			v, err := a.expr(item, sc)
			if err != nil {
				return outputs{}, err
			}
			v.constant, v.param, v.paramLoc, v.literal = false, 0, 0, 0
			if i >= len(outs.cols) {
				outs.cols = append(outs.cols, column{name: "column" + itoa(i+1), v: v})
			} else {
				outs.cols[i].v = union(outs.cols[i].v, v)
			}
		}
	}
	return outs, nil
}

// setOp analyses UNION, INTERSECT and EXCEPT: each output column is a copy
// of either side's; removing duplicates groups, and INTERSECT and EXCEPT
// compare the two sides for equality.
func (a *analyzer) setOp(sel *pg_query.SelectStmt, sc *scope) (outputs, error) {
	l, err := a.selectStmt(sel.Larg, sc)
	if err != nil {
		return outputs{}, err
	}
	r, err := a.selectStmt(sel.Rarg, sc)
	if err != nil {
		return outputs{}, err
	}
	if !l.exact || !r.exact {
		return outputs{}, a.refuse("a set operation over columns pgmantle cannot establish")
	}
	if len(l.cols) != len(r.cols) {
		return outputs{}, a.refuse("a set operation whose sides have different numbers of columns")
	}
	outs := outputs{exact: true, cols: make([]column, len(l.cols))}
	outs.keys = make([]keyType, len(l.cols))
	for i := range outs.keys {
		if i < len(l.keys) && i < len(r.keys) && l.keys[i] == r.keys[i] {
			outs.keys[i] = l.keys[i]
		}
	}
	if sel.All || !outs.allIdentical() {
		// The left side's rows, then the right side's; removing
		// duplicates keeps the first of equal rows.
		outs.order = appendSources(append([]Source(nil), l.order...), r.order...)
	}
	for i := range l.cols {
		lv, rv := l.cols[i].v, r.cols[i].v
		u := union(lv, rv)
		switch {
		case sel.Op != pg_query.SetOperation_SETOP_UNION && lv.direct && rv.direct &&
			!lv.clean() && !rv.clean() && !lv.mixed && !rv.mixed:
			// INTERSECT, EXCEPT: row equality between the sides.
			a.join(lv, rv)
		case sel.Op != pg_query.SetOperation_SETOP_UNION:
			a.charge(lv, UsePredicate)
			a.charge(rv, UsePredicate)
		case !sel.All:
			// UNION removes duplicates across both sides.
			a.charge(u, UseGroup)
		}
		// PostgreSQL names the result after the left side: a guess there
		// stays a guess.
		outs.cols[i] = column{name: l.cols[i].name, v: u, unsureName: l.cols[i].unsureName}
	}
	return outs, nil
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}

// sameLineage reports whether two column lists carry the same lineage.
func sameLineage(a, b []column) bool {
	for i := range a {
		x, y := a[i].v, b[i].v
		if x.direct != y.direct || x.mixed != y.mixed || len(x.srcs) != len(y.srcs) {
			return false
		}
		for _, s := range x.srcs {
			found := false
			for _, t := range y.srcs {
				found = found || s == t
			}
			if !found {
				return false
			}
		}
	}
	return true
}
