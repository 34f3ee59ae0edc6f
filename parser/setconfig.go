package parser

import (
	pg_query "github.com/pganalyze/pg_query_go/v6"
)

// setConfigSet recognises SELECT [pg_catalog.]set_config(name, value,
// is_local) with constant arguments and nothing else in the statement —
// the form pg_dump, pg_restore and some drivers use instead of SET — and
// returns the SET it is equivalent to, so that it is analysed and tracked
// as that SET (search_path included). A search_path value is a list
// string, as SET search_path TO takes it as separate names.
//
// pg_dump's guarded form, SELECT set_config(name, value, is_local) FROM
// pg_settings WHERE name = 'setting' (a SET of that setting when the server
// has it, no row otherwise), is recognised too.
func setConfigSet(sel *pg_query.SelectStmt) (*pg_query.VariableSetStmt, bool) {
	if sel == nil || len(sel.TargetList) != 1 || len(sel.FromClause) > 1 ||
		len(sel.GroupClause) != 0 || sel.HavingClause != nil || len(sel.WindowClause) != 0 ||
		len(sel.ValuesLists) != 0 || len(sel.SortClause) != 0 || sel.LimitCount != nil || sel.LimitOffset != nil ||
		len(sel.LockingClause) != 0 || sel.WithClause != nil || sel.Op != pg_query.SetOperation_SETOP_NONE ||
		len(sel.DistinctClause) != 0 || sel.IntoClause != nil {
		return nil, false
	}
	rt := sel.TargetList[0].GetResTarget()
	if rt == nil {
		return nil, false
	}
	fc := rt.Val.GetFuncCall()
	if fc == nil || len(fc.Args) != 3 || fc.AggStar || fc.AggDistinct || fc.FuncVariadic || fc.Over != nil ||
		fc.AggFilter != nil || len(fc.AggOrder) != 0 {
		return nil, false
	}
	switch names := funcNameParts(fc.Funcname); {
	case len(names) == 1 && lower(names[0]) == "set_config":
	case len(names) == 2 && lower(names[0]) == "pg_catalog" && lower(names[1]) == "set_config":
	default:
		return nil, false
	}
	var name string
	var ok1 bool
	if len(sel.FromClause) == 0 {
		if sel.WhereClause != nil {
			return nil, false
		}
		name, ok1 = constString(fc.Args[0])
	} else {
		name, ok1 = settingsGuard(sel, fc.Args[0])
	}
	value, ok2 := constString(fc.Args[1])
	local, ok3 := constBool(fc.Args[2])
	if !ok1 || !ok2 || !ok3 {
		return nil, false
	}
	v := &pg_query.VariableSetStmt{Kind: pg_query.VariableSetKind_VAR_SET_VALUE, Name: lower(name), IsLocal: local}
	if v.Name == "search_path" {
		for _, part := range splitPath(value) {
			v.Args = append(v.Args, pg_query.MakeAConstStrNode(part, 0))
		}
	} else {
		v.Args = []*pg_query.Node{pg_query.MakeAConstStrNode(value, 0)}
	}
	return v, true
}

// settingsGuard matches FROM [pg_catalog.]pg_settings WHERE name = 'x'
// with the column name as set_config's first argument, and returns x.
func settingsGuard(sel *pg_query.SelectStmt, arg *pg_query.Node) (string, bool) {
	rv := sel.FromClause[0].GetRangeVar()
	if rv == nil || rv.Alias != nil || !rv.Inh || lower(rv.Relname) != "pg_settings" ||
		(rv.Schemaname != "" && lower(rv.Schemaname) != "pg_catalog") || rv.Catalogname != "" {
		return "", false
	}
	isName := func(n *pg_query.Node) bool {
		cr := n.GetColumnRef()
		if cr == nil || len(cr.Fields) != 1 {
			return false
		}
		s := cr.Fields[0].GetString_()
		return s != nil && lower(s.Sval) == "name"
	}
	e := sel.WhereClause.GetAExpr()
	if !isName(arg) || e == nil || e.Kind != pg_query.A_Expr_Kind_AEXPR_OP || len(e.Name) != 1 ||
		e.Name[0].GetString_() == nil || e.Name[0].GetString_().Sval != "=" || !isName(e.Lexpr) {
		return "", false
	}
	return constString(e.Rexpr)
}

func funcNameParts(nodes []*pg_query.Node) []string {
	var out []string
	for _, n := range nodes {
		s := n.GetString_()
		if s == nil {
			return nil
		}
		out = append(out, s.Sval)
	}
	return out
}

// constString is a string constant, possibly cast to text.
func constString(n *pg_query.Node) (string, bool) {
	if tc := n.GetTypeCast(); tc != nil {
		if !plainCast(tc, "text", "varchar", "name") {
			return "", false
		}
		n = tc.Arg
	}
	c := n.GetAConst()
	if c == nil || c.GetSval() == nil {
		return "", false
	}
	return c.GetSval().Sval, true
}

// constBool is true or false, or a string constant PostgreSQL reads as one.
func constBool(n *pg_query.Node) (bool, bool) {
	if tc := n.GetTypeCast(); tc != nil {
		if !plainCast(tc, "bool", "boolean") {
			return false, false
		}
		n = tc.Arg
	}
	c := n.GetAConst()
	if c == nil {
		return false, false
	}
	if b := c.GetBoolval(); b != nil {
		return b.Boolval, true
	}
	if s := c.GetSval(); s != nil {
		switch lower(s.Sval) {
		case "t", "true", "on", "yes", "1":
			return true, true
		case "f", "false", "off", "no", "0":
			return false, true
		}
	}
	return false, false
}

// setConfigResolves reports whether an unqualified set_config (and
// pg_settings) resolves to pg_catalog's under the analysed search_path: no
// schema before it has a function (relation) of that name.
func (a *analyzer) setConfigResolves(sel *pg_query.SelectStmt) bool {
	fc := sel.TargetList[0].GetResTarget().Val.GetFuncCall()
	unqualifiedRel := len(sel.FromClause) == 1 && sel.FromClause[0].GetRangeVar().Schemaname == ""
	if len(fc.Funcname) == 2 && !unqualifiedRel {
		return true
	}
	for _, schema := range a.path {
		if schema == "pg_catalog" {
			return true
		}
		if len(fc.Funcname) == 1 && len(a.env.snap.Function(schema, "set_config")) > 0 {
			return false
		}
		if unqualifiedRel && a.env.snap.RelationByName(schema, "pg_settings") != nil {
			return false
		}
	}
	return false
}

// plainCast reports whether a cast is to one of the built-in types named
// (no user-defined cast function can run).
func plainCast(tc *pg_query.TypeCast, types ...string) bool {
	if tc.TypeName == nil || len(tc.TypeName.Typmods) != 0 || len(tc.TypeName.ArrayBounds) != 0 {
		return false
	}
	names := funcNameParts(tc.TypeName.Names)
	if len(names) == 2 && lower(names[0]) == "pg_catalog" {
		names = names[1:]
	}
	if len(names) != 1 {
		return false
	}
	for _, t := range types {
		if lower(names[0]) == t {
			return true
		}
	}
	return false
}
