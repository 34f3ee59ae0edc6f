package parser

import (
	pg_query "github.com/pganalyze/pg_query_go/v6"
)

// setConfigSet recognises SELECT [pg_catalog.]set_config('name', 'value',
// true|false) — plain constants, no casts, nothing else in the statement;
// the form pg_dump and pg_restore use instead of SET — and
// returns the SET it is equivalent to, so that it is analysed and tracked
// as that SET (search_path included). A search_path value is a list
// string, as SET search_path TO takes it as separate names.
//
// pg_dump's guarded form, SELECT set_config(name, 'value', false) FROM
// pg_settings WHERE name = 'setting' (a SET of that setting when the server
// has it, no row otherwise), is recognised too, except for search_path.
// Whether the function and pg_settings are pg_catalog's is for
// setConfigResolves to say, under each search_path.
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
	// Identifiers compare exactly: the parser has folded unquoted ones,
	// and a quoted "SET_CONFIG" is another function.
	switch parts, _ := names(fc.Funcname); {
	case len(parts) == 1 && parts[0] == "set_config":
	case len(parts) == 2 && parts[0] == "pg_catalog" && parts[1] == "set_config":
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
		// Only a plain list, read the same by PostgreSQL and splitPath;
		// never through the guarded form, whose SET may not happen at all.
		if len(sel.FromClause) != 0 || !plainPathValue(value) {
			return nil, false
		}
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
	if rv == nil || rv.Alias != nil || !rv.Inh || rv.Relname != "pg_settings" ||
		(rv.Schemaname != "" && rv.Schemaname != "pg_catalog") || rv.Catalogname != "" {
		return "", false
	}
	isName := func(n *pg_query.Node) bool {
		cr := n.GetColumnRef()
		if cr == nil || len(cr.Fields) != 1 {
			return false
		}
		s := cr.Fields[0].GetString_()
		return s != nil && s.Sval == "name"
	}
	e := sel.WhereClause.GetAExpr()
	if !isName(arg) || e == nil || e.Kind != pg_query.A_Expr_Kind_AEXPR_OP || len(e.Name) != 1 ||
		e.Name[0].GetString_() == nil || e.Name[0].GetString_().Sval != "=" || !isName(e.Lexpr) {
		return "", false
	}
	name, ok := constString(e.Rexpr)
	// pg_settings holds names in lower case: another spelling matches no
	// row, and the SET would not happen.
	if !ok || name != lower(name) {
		return "", false
	}
	return name, true
}

// constString is a string constant, without a cast (a cast could be to a
// user's domain, or truncate).
func constString(n *pg_query.Node) (string, bool) {
	c := n.GetAConst()
	if c == nil || c.GetSval() == nil {
		return "", false
	}
	return c.GetSval().Sval, true
}

// constBool is the keyword true or false: a boolean-typed argument, so no
// user overload taking text there can be preferred to pg_catalog's.
func constBool(n *pg_query.Node) (bool, bool) {
	c := n.GetAConst()
	if c == nil || c.GetBoolval() == nil {
		return false, false
	}
	return c.GetBoolval().Boolval, true
}

// plainPathValue reports whether a search_path value is a list that
// PostgreSQL's SplitIdentifierString and splitPath read alike: names of
// ASCII letters, digits, _ and $, or double-quoted names without control
// characters, separated by commas with spaces or tabs around them.
func plainPathValue(v string) bool {
	i, n := 0, len(v)
	skip := func() {
		for i < n && (v[i] == ' ' || v[i] == '\t') {
			i++
		}
	}
	skip()
	if i == n {
		return true
	}
	for {
		switch {
		case i < n && v[i] == '"':
			i++
			for {
				if i >= n || v[i] < 0x20 || v[i] == 0x7f {
					return false
				}
				if v[i] == '"' {
					if i+1 < n && v[i+1] == '"' {
						i += 2
						continue
					}
					i++
					break
				}
				i++
			}
		default:
			start := i
			for i < n && (v[i] >= 'a' && v[i] <= 'z' || v[i] >= 'A' && v[i] <= 'Z' || v[i] >= '0' && v[i] <= '9' || v[i] == '_' || v[i] == '$') {
				i++
			}
			if i == start {
				return false
			}
		}
		skip()
		if i == n {
			return true
		}
		if v[i] != ',' {
			return false
		}
		i++
		skip()
	}
}

// setConfigResolves reports whether set_config (and pg_settings) resolve
// to pg_catalog's under the analysed search_path. An unqualified
// set_config is trusted only when no other schema of the path has a
// function of that name at all — not even after pg_catalog, as an overload
// with other argument types could be preferred; pg_settings only when no
// schema before pg_catalog has a relation of that name.
func (a *analyzer) setConfigResolves(sel *pg_query.SelectStmt) bool {
	fc := sel.TargetList[0].GetResTarget().Val.GetFuncCall()
	if len(fc.Funcname) == 1 {
		for _, schema := range a.path {
			if schema != "pg_catalog" && len(a.env.snap.Function(schema, "set_config")) > 0 {
				return false
			}
		}
	}
	if len(sel.FromClause) == 1 && sel.FromClause[0].GetRangeVar().Schemaname == "" {
		for _, schema := range a.path {
			if schema == "pg_catalog" {
				break
			}
			if a.env.snap.RelationByName(schema, "pg_settings") != nil {
				return false
			}
		}
	}
	return true
}

// callsSetConfig reports whether a SELECT's output is a call of a function
// named set_config (in any schema, any spelling).
func callsSetConfig(sel *pg_query.SelectStmt) bool {
	for _, t := range sel.GetTargetList() {
		if fc := t.GetResTarget().GetVal().GetFuncCall(); fc != nil {
			if parts, _ := names(fc.Funcname); len(parts) > 0 && lower(parts[len(parts)-1]) == "set_config" {
				return true
			}
		}
	}
	return false
}
