package parser

import (
	pg_query "github.com/pganalyze/pg_query_go/v6"
)

// target resolves the relation a write names and returns it as a FROM
// item (for RETURNING and the write's own expressions).
func (a *analyzer) target(rv *pg_query.RangeVar, sc *scope) (*fromItem, error) {
	if rv == nil {
		return nil, a.refuse("a write without a target")
	}
	if rv.Schemaname == "" && sc.lookupCTE(rv.Relname) != nil {
		return nil, a.refuse("writing to a WITH query")
	}
	it, err := a.rangeVar(rv, sc)
	if err != nil {
		return nil, err
	}
	if it.rel == nil {
		return nil, a.refuse("a write to something other than a table")
	}
	rules, triggers := a.env.snap.WriteReaches(it.rel.OID)
	if rules {
		// A rule can replace the write by other statements, whose rows
		// (DO INSTEAD SELECT, a rule's RETURNING) come from anywhere; a
		// write to a view reaches its base relation's rules too.
		return nil, a.refuse("writing to %s.%s, which has (or writes through to a relation with) rewrite rules", it.rel.Schema, it.rel.Name)
	}
	// An INSTEAD OF trigger decides what the write's RETURNING shows.
	a.viewTriggers = a.viewTriggers || triggers
	sc.add(it)
	return it, nil
}

// written charges a value written into column col of the target: the
// column as a write target, the value as a write source.
func (a *analyzer) written(it *fromItem, col string, v value) error {
	cv, ok := it.col(col)
	if !ok {
		return a.refuse("the column %s of %s cannot be resolved", col, it.name)
	}
	if c, ok := it.rel.ColumnByName(col); ok && !a.definer {
		if f := a.env.unlisted(a.env.snap.DomainFunctions(c.TypeName)); f != "" {
			return a.refuse("writing to %s, whose type %s is a domain whose CHECK calls %s, a function the policy does not list", col, c.TypeName, f)
		}
	}
	for _, s := range cv.srcs {
		a.use(Use{Kind: UseWriteTarget, Source: s})
	}
	var target *Source
	if len(cv.srcs) > 0 {
		t := cv.srcs[0]
		target = &t
	}
	a.chargeWrite(v, target)
	return nil
}

// chargeWrite charges each protected column a written value copies or
// is computed from as a write source (Other: the origin of the column
// written, nil if it is not protected). A computed value counts too:
// amount::text written into a clean column is the salary copied out.
func (a *analyzer) chargeWrite(v value, target *Source) {
	if a.definer {
		return
	}
	for _, s := range v.srcs {
		a.use(Use{Kind: UseWriteSource, Source: s, Other: target})
	}
}

// returningList analyses RETURNING over the write's scope.
func (a *analyzer) returningList(list []*pg_query.Node, sc *scope) (outputs, error) {
	if len(list) == 0 {
		return outputs{exact: true}, nil
	}
	if a.viewTriggers {
		return outputs{}, a.refuse("RETURNING from a write to a view with triggers (an INSTEAD OF trigger decides what it returns)")
	}
	return a.targetList(list, sc)
}

// insert analyses INSERT: each value written, ON CONFLICT, RETURNING.
func (a *analyzer) insert(ins *pg_query.InsertStmt, parent *scope) (outputs, error) {
	sc := newScope(parent)
	if err := a.with(ins.WithClause, sc); err != nil {
		return outputs{}, err
	}
	// The source query does not see the target.
	var src outputs
	if sel := ins.SelectStmt.GetSelectStmt(); sel != nil {
		var err error
		if src, err = a.selectStmt(sel, sc); err != nil {
			return outputs{}, err
		}
		if !src.exact {
			return outputs{}, a.refuse("INSERT from columns pgmantle cannot establish")
		}
		// Rows are inserted in the source's order (serial defaults,
		// conflicts, RETURNING follow it).
		a.rowOrder(src.order)
	}
	it, err := a.target(ins.Relation, sc)
	if err != nil {
		return outputs{}, err
	}
	var cols []string
	for _, c := range ins.Cols {
		if rt := c.GetResTarget(); rt != nil {
			cols = append(cols, rt.Name)
		}
	}
	if len(cols) == 0 {
		for _, c := range it.rel.Columns {
			cols = append(cols, c.Name)
		}
	}
	for i, c := range src.cols {
		if i >= len(cols) {
			return outputs{}, a.refuse("INSERT with more values than columns")
		}
		if err := a.written(it, cols[i], c.v); err != nil {
			return outputs{}, err
		}
	}
	eff := &writeEffect{inserts: true}
	eff.written = cols[:min(len(src.cols), len(cols))]
	if oc := ins.OnConflictClause; oc != nil {
		excluded := &fromItem{name: "excluded", rel: it.rel, cols: it.cols}
		sc.named = append(sc.named, excluded)
		if oc.Infer != nil {
			if err := a.consume(oc.Infer.WhereClause, sc, UsePredicate); err != nil {
				return outputs{}, err
			}
		}
		if oc.Action == pg_query.OnConflictAction_ONCONFLICT_UPDATE {
			if err := a.assignments(oc.TargetList, it, sc, eff); err != nil {
				return outputs{}, err
			}
		}
		if err := a.consume(oc.WhereClause, sc, UsePredicate); err != nil {
			return outputs{}, err
		}
	}
	if err := a.constraints(it, eff); err != nil {
		return outputs{}, err
	}
	return a.returningList(ins.ReturningList, sc)
}

// assignments analyses SET col = expr lists (UPDATE, ON CONFLICT DO UPDATE,
// MERGE ... UPDATE SET), recording the columns set in eff.
func (a *analyzer) assignments(list []*pg_query.Node, it *fromItem, sc *scope, eff *writeEffect) error {
	eff.updates = true
	for _, n := range list {
		rt := n.GetResTarget()
		if rt == nil {
			continue
		}
		eff.assign(a.env.snap, it.rel, rt.Name)
		if mar := rt.Val.GetMultiAssignRef(); mar != nil {
			// (a, b) = (SELECT x, y ...) or ROW(...): every target column
			// takes a value computed from the whole source.
			v, err := a.multiSource(mar.Source, sc)
			if err != nil {
				return err
			}
			if err := a.written(it, rt.Name, v); err != nil {
				return err
			}
			continue
		}
		v, err := a.expr(rt.Val, sc)
		if err != nil {
			return err
		}
		if len(rt.Indirection) > 0 {
			v = a.compute(UseFunction, v) // col[1] = ..., col.field = ...
		}
		if err := a.written(it, rt.Name, v); err != nil {
			return err
		}
	}
	return nil
}

// multiSource is the lineage of the source of a multiple-column assignment;
// analysed once per target column, its uses are charged each time (a
// harmless repetition).
func (a *analyzer) multiSource(src *pg_query.Node, sc *scope) (value, error) {
	if sl := src.GetSubLink(); sl != nil {
		if sel := sl.Subselect.GetSelectStmt(); sel != nil {
			outs, err := a.selectStmt(sel, sc)
			if err != nil {
				return value{}, err
			}
			var vs []value
			for _, c := range outs.cols {
				vs = append(vs, c.v)
			}
			return unionAll(vs), nil
		}
	}
	if row := src.GetRowExpr(); row != nil {
		var vs []value
		for _, arg := range row.Args {
			av, err := a.expr(arg, sc)
			if err != nil {
				return value{}, err
			}
			vs = append(vs, av)
		}
		return unionAll(vs), nil
	}
	return a.expr(src, sc)
}

// update analyses UPDATE ... SET ... FROM ... WHERE ... RETURNING.
func (a *analyzer) update(up *pg_query.UpdateStmt, parent *scope) (outputs, error) {
	sc := newScope(parent)
	if err := a.with(up.WithClause, sc); err != nil {
		return outputs{}, err
	}
	it, err := a.target(up.Relation, sc)
	if err != nil {
		return outputs{}, err
	}
	for _, f := range up.FromClause {
		if err := a.fromItem(f, sc); err != nil {
			return outputs{}, err
		}
	}
	if err := a.consume(up.WhereClause, sc, UsePredicate); err != nil {
		return outputs{}, err
	}
	if len(up.FromClause) > 0 {
		// A target row that joins several rows takes its new values
		// from the first one read.
		a.rowOrder(sc.itemsOrder())
	}
	eff := &writeEffect{}
	if err := a.assignments(up.TargetList, it, sc, eff); err != nil {
		return outputs{}, err
	}
	if err := a.constraints(it, eff); err != nil {
		return outputs{}, err
	}
	return a.scanReturning(up.ReturningList, sc)
}

// delete analyses DELETE ... USING ... WHERE ... RETURNING.
func (a *analyzer) delete(del *pg_query.DeleteStmt, parent *scope) (outputs, error) {
	sc := newScope(parent)
	if err := a.with(del.WithClause, sc); err != nil {
		return outputs{}, err
	}
	it, err := a.target(del.Relation, sc)
	if err != nil {
		return outputs{}, err
	}
	if err := a.constraints(it, &writeEffect{deletes: true}); err != nil {
		return outputs{}, err
	}
	for _, f := range del.UsingClause {
		if err := a.fromItem(f, sc); err != nil {
			return outputs{}, err
		}
	}
	if err := a.consume(del.WhereClause, sc, UsePredicate); err != nil {
		return outputs{}, err
	}
	return a.scanReturning(del.ReturningList, sc)
}

// merge analyses MERGE: the join condition, each WHEN clause's condition
// and writes, RETURNING.
func (a *analyzer) merge(m *pg_query.MergeStmt, parent *scope) (outputs, error) {
	sc := newScope(parent)
	if err := a.with(m.WithClause, sc); err != nil {
		return outputs{}, err
	}
	it, err := a.target(m.Relation, sc)
	if err != nil {
		return outputs{}, err
	}
	if err := a.fromItem(m.SourceRelation, sc); err != nil {
		return outputs{}, err
	}
	if err := a.consume(m.JoinCondition, sc, UsePredicate); err != nil {
		return outputs{}, err
	}
	// Source rows are inserted, and target rows changed, in the order
	// they are read (serial defaults, which of two matches fails).
	a.rowOrder(sc.itemsOrder())
	eff := &writeEffect{}
	for _, w := range m.MergeWhenClauses {
		mw := w.GetMergeWhenClause()
		if mw == nil {
			continue
		}
		switch mw.CommandType {
		case pg_query.CmdType_CMD_INSERT:
			eff.inserts = true
		case pg_query.CmdType_CMD_DELETE:
			eff.deletes = true
		}
		if err := a.consume(mw.Condition, sc, UsePredicate); err != nil {
			return outputs{}, err
		}
		if len(mw.Values) > 0 { // INSERT (cols) VALUES (...)
			cols := mw.TargetList
			for i, v := range mw.Values {
				val, err := a.expr(v, sc)
				if err != nil {
					return outputs{}, err
				}
				name := ""
				if i < len(cols) {
					if rt := cols[i].GetResTarget(); rt != nil {
						name = rt.Name
					}
				} else if i < len(it.rel.Columns) {
					name = it.rel.Columns[i].Name
				}
				if err := a.written(it, name, val); err != nil {
					return outputs{}, err
				}
				eff.written = append(eff.written, name)
			}
			continue
		}
		if mw.CommandType != pg_query.CmdType_CMD_UPDATE {
			continue // DELETE, DO NOTHING
		}
		if err := a.assignments(mw.TargetList, it, sc, eff); err != nil {
			return outputs{}, err
		}
	}
	if err := a.constraints(it, eff); err != nil {
		return outputs{}, err
	}
	// PostgreSQL 17 expands MERGE's RETURNING * as the source's columns,
	// then the target's: an order pgmantle's scope (target first) does
	// not follow, and a result placed by the wrong columns would show a
	// protected value as clean. Naming columns, target.* or source.*
	// is analysed as usual.
	for _, r := range m.ReturningList {
		if cr := r.GetResTarget().GetVal().GetColumnRef(); cr != nil && len(cr.Fields) == 1 && cr.Fields[0].GetAStar() != nil {
			return outputs{}, a.refuse("RETURNING * in MERGE (name the columns, or write target.* or source.*)")
		}
	}
	return a.scanReturning(m.ReturningList, sc)
}

// scanReturning analyses the RETURNING list of an UPDATE, DELETE or
// MERGE, whose rows come in the order the write visits them; a column
// written DEFAULT (a sequence's nextval) is computed in that order too.
func (a *analyzer) scanReturning(list []*pg_query.Node, sc *scope) (outputs, error) {
	outs, err := a.returningList(list, sc)
	order := sc.itemsOrder()
	if len(list) > 0 {
		outs.order = order
	}
	if a.defaulted {
		a.rowOrder(order)
	}
	return outs, err
}

// write analyses INSERT, UPDATE, DELETE or MERGE, at the top level or
// inside WITH; it returns the RETURNING columns.
func (a *analyzer) write(n *pg_query.Node, sc *scope) (outputs, error) {
	switch x := n.Node.(type) {
	case *pg_query.Node_InsertStmt:
		return a.insert(x.InsertStmt, sc)
	case *pg_query.Node_UpdateStmt:
		return a.update(x.UpdateStmt, sc)
	case *pg_query.Node_DeleteStmt:
		return a.delete(x.DeleteStmt, sc)
	case *pg_query.Node_MergeStmt:
		return a.merge(x.MergeStmt, sc)
	}
	return outputs{}, a.refuse("a WITH query pgmantle cannot analyse")
}

// copyStmt analyses COPY: TO STDOUT is a query whose rows go to the
// client; FROM STDIN writes each listed column. Server files and programs
// are refused.
func (a *analyzer) copyStmt(c *pg_query.CopyStmt) error {
	// The parse tree cannot tell TO STDOUT from TO '' (both have no file
	// name), nor do normalized cache keys: look at the tokens, and never
	// share a COPY's analysis with another text.
	a.st.literalDependent = true
	if c.Filename != "" || c.IsProgram || !stdio(a.text) {
		return a.refuse("COPY to or from a server file or program")
	}
	if c.Query != nil {
		if c.IsFrom {
			return a.refuse("COPY FROM with a query")
		}
		sel := c.Query.GetSelectStmt()
		if sel == nil {
			return a.refuse("COPY of a statement other than SELECT")
		}
		outs, err := a.selectStmt(sel, nil)
		return a.outputAs(outs, err, UseOutput)
	}
	sc := newScope(nil)
	it, err := a.rangeVar(c.Relation, sc)
	if err != nil {
		return err
	}
	if it.rel == nil {
		return a.refuse("COPY of something other than a table")
	}
	sc.add(it)
	cols, _ := names(c.Attlist)
	if len(cols) == 0 {
		for i, col := range it.cols {
			// Without a column list COPY leaves generated columns out.
			if i < len(it.rel.Columns) && it.rel.Columns[i].Generated {
				continue
			}
			cols = append(cols, col.name)
		}
	}
	if c.IsFrom {
		for _, name := range cols {
			if err := a.written(it, name, value{}); err != nil {
				return err
			}
		}
		if err := a.constraints(it, &writeEffect{inserts: true, written: cols}); err != nil {
			return err
		}
		return a.consume(c.WhereClause, sc, UsePredicate)
	}
	outs := outputs{exact: true, order: it.order}
	for _, name := range cols {
		v, ok := it.col(name)
		if !ok {
			return a.refuse("the column %s of %s cannot be resolved", name, it.name)
		}
		outs.cols = append(outs.cols, column{name: name, v: v})
	}
	return a.outputAs(outs, nil, UseOutput)
}

// stdio reports whether a COPY statement's text says TO STDOUT or FROM
// STDIN outside parentheses (a query's FROM stdout does not count).
func stdio(text string) bool {
	res, err := pg_query.Scan(text)
	if err != nil {
		return false
	}
	depth := 0
	toks := res.Tokens
	for i, t := range toks {
		switch t.Token {
		case pg_query.Token_ASCII_40:
			depth++
		case pg_query.Token_ASCII_41:
			depth--
		case pg_query.Token_TO, pg_query.Token_FROM:
			if depth == 0 && i+1 < len(toks) &&
				(toks[i+1].Token == pg_query.Token_STDIN || toks[i+1].Token == pg_query.Token_STDOUT) {
				return true
			}
		}
	}
	return false
}
