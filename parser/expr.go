package parser

import (
	"fmt"

	pg_query "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// castTarget is the type name of a cast's target as pg_type.typname has
// it (the last part of its name; "" when it cannot be told).
func castTarget(t *pg_query.TypeName) string {
	if t == nil {
		return ""
	}
	parts, _ := names(t.Names)
	if len(parts) == 0 {
		return ""
	}
	return parts[len(parts)-1]
}

// expr analyses an expression in scope sc and returns its lineage. Uses of
// protected columns inside the expression (a function's arguments, a
// comparison's operands, ...) are charged here; the expression's own value,
// if it is a plain copy, is charged by the caller, which knows how it is
// consumed.
func (a *analyzer) expr(n *pg_query.Node, sc *scope) (value, error) {
	if c := a.env.snap.ImplicitUserCast(); c != "" && !a.definer {
		// PostgreSQL may apply the cast anywhere a value of its source
		// type meets its target type; the analysis does not resolve
		// types, so no expression can be vouched for.
		return value{}, a.refuse("expressions while the database has an implicit cast (%s) through a SQL or procedural function", c)
	}
	if n == nil {
		return value{}, nil
	}
	switch x := n.Node.(type) {
	case *pg_query.Node_ColumnRef:
		return a.columnRef(x.ColumnRef, sc)
	case *pg_query.Node_AConst:
		return value{constant: true, literal: int(x.AConst.Location)}, nil
	case *pg_query.Node_ParamRef:
		return value{constant: true, param: int(x.ParamRef.Number), paramLoc: int(x.ParamRef.Location), literal: -1}, nil
	case *pg_query.Node_TypeCast:
		if t := castTarget(x.TypeCast.TypeName); t != "" && !a.definer && a.env.snap.UserCastTarget(t) {
			// A user-defined cast runs a function outside the allow-list.
			return value{}, a.refuse("a cast to %s (a user-defined cast to that type exists)", t)
		}
		if t := castTarget(x.TypeCast.TypeName); t != "" && !a.definer {
			if f := a.env.unlisted(a.env.snap.DomainFunctions(t)); f != "" {
				// Whether the value passes the domain's CHECK is the
				// function's answer, about whatever it reads.
				return value{}, a.refuse("a cast to %s (a domain whose CHECK calls %s, a function the policy does not list)", t, f)
			}
		}
		v, err := a.expr(x.TypeCast.Arg, sc)
		if err != nil {
			return v, err
		}
		if v.constant {
			if !textType(x.TypeCast.TypeName) {
				// A detokenized value cast to another type could fail to
				// convert, and the error would tell something about it.
				v.constant, v.param, v.paramLoc, v.literal = false, 0, 0, 0
			}
			return v, nil
		}
		if v.clean() {
			return v, nil
		}
		return a.compute(UseFunction, v), nil
	case *pg_query.Node_CollateClause:
		v, err := a.expr(x.CollateClause.Arg, sc)
		if err != nil || v.constant || v.clean() {
			return v, err
		}
		return a.compute(UseFunction, v), nil
	case *pg_query.Node_AExpr:
		return a.aExpr(x.AExpr, sc)
	case *pg_query.Node_BoolExpr:
		for _, arg := range x.BoolExpr.Args {
			if err := a.consume(arg, sc, UsePredicate); err != nil {
				return value{}, err
			}
		}
		return value{}, nil
	case *pg_query.Node_NullTest:
		return value{}, a.consume(x.NullTest.Arg, sc, UsePresence)
	case *pg_query.Node_BooleanTest:
		return value{}, a.consume(x.BooleanTest.Arg, sc, UsePredicate)
	case *pg_query.Node_FuncCall:
		return a.funcCall(x.FuncCall, sc)
	case *pg_query.Node_SubLink:
		return a.subLink(x.SubLink, sc)
	case *pg_query.Node_CaseExpr:
		c := x.CaseExpr
		var vs []value
		if c.Arg != nil {
			// CASE x WHEN v: an equality test of x against each v, by
			// the operator named =.
			if err := a.operator("="); err != nil {
				return value{}, err
			}
			if err := a.consume(c.Arg, sc, UsePredicate); err != nil {
				return value{}, err
			}
		}
		for _, w := range c.Args {
			cw := w.GetCaseWhen()
			if cw == nil {
				continue
			}
			if err := a.consume(cw.Expr, sc, UsePredicate); err != nil {
				return value{}, err
			}
			v, err := a.expr(cw.Result, sc)
			if err != nil {
				return value{}, err
			}
			vs = append(vs, a.compute(UseFunction, v))
		}
		v, err := a.expr(c.Defresult, sc)
		if err != nil {
			return value{}, err
		}
		vs = append(vs, a.compute(UseFunction, v))
		return derived(vs...), nil
	case *pg_query.Node_SetToDefault:
		a.defaulted = true // a column's default is computed (constraintsOf)
		return value{}, nil
	case *pg_query.Node_SqlvalueFunction, *pg_query.Node_GroupingFunc, *pg_query.Node_CurrentOfExpr:
		return value{}, nil
	case *pg_query.Node_AStar:
		return value{}, a.refuse("* in this position")
	case *pg_query.Node_SelectStmt:
		return value{}, a.refuse("a subquery in this position")
	}
	// Every other expression (COALESCE, GREATEST, ROW, ARRAY, indexing,
	// XML and JSON constructors, ...) computes from its operands.
	return a.generic(n, sc)
}

// generic analyses an expression node pgmantle has no specific rule for:
// each operand is charged as a function argument.
func (a *analyzer) generic(n *pg_query.Node, sc *scope) (value, error) {
	var out []value
	var firstErr error
	visitChildren(n.ProtoReflect(), func(child *pg_query.Node) {
		if firstErr != nil {
			return
		}
		v, err := a.expr(child, sc)
		if err != nil {
			firstErr = err
			return
		}
		out = append(out, a.compute(UseFunction, v))
	})
	return derived(out...), firstErr
}

// visitChildren calls f for each pg_query.Node directly below m, looking
// through wrapper messages that are not Nodes.
func visitChildren(m protoreflect.Message, f func(*pg_query.Node)) {
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd.Message() == nil || fd.IsMap() {
			return true
		}
		visit := func(cm protoreflect.Message) {
			if node, ok := cm.Interface().(*pg_query.Node); ok {
				f(node)
				return
			}
			visitChildren(cm, f)
		}
		if fd.IsList() {
			l := v.List()
			for i := 0; i < l.Len(); i++ {
				visit(l.Get(i).Message())
			}
			return true
		}
		visit(v.Message())
		return true
	})
}

// consume analyses an expression whose value is used as kind.
func (a *analyzer) consume(n *pg_query.Node, sc *scope, kind UseKind) error {
	v, err := a.expr(n, sc)
	if err != nil {
		return err
	}
	a.charge(v, kind)
	return nil
}

// compute charges a plain copy as an operand of kind and returns the
// lineage of what is computed from it.
func (a *analyzer) compute(kind UseKind, v value) value {
	if v.direct {
		a.charge(v, kind)
	}
	return value{srcs: v.srcs}
}

// charge records that a plain copy of protected columns is used as kind.
// Derived values were charged where they were computed.
func (a *analyzer) charge(v value, kind UseKind) {
	if !v.direct || a.definer {
		return
	}
	if (kind == UseGroup || kind == UseJoin) && (v.mixed || !v.oneClass()) {
		// Grouping or comparing copies of protected values together with
		// other values tests the ones against the others.
		kind = UsePredicate
	}
	for _, s := range v.srcs {
		a.use(Use{Kind: kind, Source: s})
	}
}

func (a *analyzer) use(u Use) {
	if a.definer {
		return
	}
	a.st.Uses = append(a.st.Uses, u)
}

// columnRef resolves a column reference; a reference to a FROM item itself
// (t, or t.* outside a select list) is a whole-row reference.
func (a *analyzer) columnRef(c *pg_query.ColumnRef, sc *scope) (value, error) {
	parts, star := names(c.Fields)
	if star {
		if len(parts) == 0 {
			return value{}, a.refuse("* in this position")
		}
		return a.wholeRowOf(parts, sc)
	}
	v, found, err := sc.column(parts)
	if err != nil {
		if len(parts) == 1 {
			if it := sc.item(parts[0]); it != nil {
				return a.wholeRow(parts[0], sc)
			}
		}
		return value{}, a.unresolvedName("%v", err)
	}
	// Where pgmantle cannot be sure of the column, PostgreSQL may read the
	// name otherwise: a lone name as a whole-row reference to the FROM
	// item of that name (c in SELECT c::text when another item's columns
	// are unknown), t.f as the function call f(t) on t's whole row when t's
	// columns are unknown. Count those readings too.
	switch {
	case len(parts) == 1 && !found && sc.item(parts[0]) != nil:
		w, err := a.wholeRow(parts[0], sc)
		if err != nil {
			return value{}, err
		}
		v = union(v, w)
	case len(parts) == 2:
		if it := sc.item(parts[0]); it != nil && it.anyCol != nil {
			if _, sure := it.col(parts[1]); !sure {
				w, err := a.wholeRow(parts[0], sc)
				if err != nil {
					return value{}, err
				}
				v = union(v, w)
			}
		}
	}
	if !v.direct && !v.clean() {
		// A column computed from protected ones (a view's, a subquery's):
		// any use of it is a use of what it is computed from.
		for _, s := range v.srcs {
			a.use(Use{Kind: UseFunction, Source: s})
		}
	}
	return v, nil
}

// wholeRow charges a whole-row reference to a FROM item.
func (a *analyzer) wholeRow(name string, sc *scope) (value, error) {
	return a.wholeRowOf([]string{name}, sc)
}

// wholeRowOf charges a whole-row reference to the item a qualifier
// (t or schema.t) names.
func (a *analyzer) wholeRowOf(parts []string, sc *scope) (value, error) {
	it := sc.itemFor(parts)
	if it == nil {
		return value{}, a.refuse("%s cannot be resolved", joinName(parts))
	}
	v := it.whole()
	for _, s := range v.srcs {
		a.use(Use{Kind: UseWholeRow, Source: s})
	}
	return value{srcs: v.srcs}, nil
}

// names returns the string parts of a name list and whether it ends in *.
func names(fields []*pg_query.Node) ([]string, bool) {
	out := make([]string, 0, len(fields))
	for _, f := range fields {
		switch x := f.Node.(type) {
		case *pg_query.Node_String_:
			out = append(out, x.String_.Sval)
		case *pg_query.Node_AStar:
			return out, true
		}
	}
	return out, false
}

// equalityOps are the operators whose use against literals or parameters
// a detokenizer can serve, and whose use between columns is a join.
var equalityOps = map[string]bool{"=": true, "<>": true, "!=": true}

// comparisonOps compare their operands; any other operator computes.
var comparisonOps = map[string]bool{"<": true, ">": true, "<=": true, ">=": true,
	"~~": true, "!~~": true, "~~*": true, "!~~*": true, "~": true, "~*": true, "!~": true, "!~*": true,
	"^@": true, "@@": true, "<<": true, ">>": true, "&&": true, "@>": true, "<@": true}

func (a *analyzer) aExpr(x *pg_query.A_Expr, sc *scope) (value, error) {
	opParts, _ := names(x.Name)
	op := ""
	if len(opParts) > 0 {
		op = opParts[len(opParts)-1]
	}
	if err := a.operator(op); err != nil {
		return value{}, err
	}
	switch x.Kind {
	case pg_query.A_Expr_Kind_AEXPR_BETWEEN, pg_query.A_Expr_Kind_AEXPR_NOT_BETWEEN,
		pg_query.A_Expr_Kind_AEXPR_BETWEEN_SYM, pg_query.A_Expr_Kind_AEXPR_NOT_BETWEEN_SYM:
		// PostgreSQL rewrites BETWEEN into >= and <= (NOT BETWEEN into <
		// and >), looked up by name.
		for _, o := range []string{"<=", ">=", "<", ">"} {
			if err := a.operator(o); err != nil {
				return value{}, err
			}
		}
	}
	l, err := a.expr(x.Lexpr, sc)
	if err != nil {
		return value{}, err
	}
	switch x.Kind {
	case pg_query.A_Expr_Kind_AEXPR_IN:
		return value{}, a.inList(l, x.Rexpr, sc)
	case pg_query.A_Expr_Kind_AEXPR_OP, pg_query.A_Expr_Kind_AEXPR_DISTINCT, pg_query.A_Expr_Kind_AEXPR_NOT_DISTINCT:
		r, err := a.expr(x.Rexpr, sc)
		if err != nil {
			return value{}, err
		}
		if x.Lexpr == nil { // prefix operator
			return a.compute(UseFunction, r), nil
		}
		if x.Kind != pg_query.A_Expr_Kind_AEXPR_OP || equalityOps[op] {
			a.equality(l, r)
			return value{}, nil
		}
		if comparisonOps[op] {
			a.charge(l, UsePredicate)
			a.charge(r, UsePredicate)
			return value{}, nil
		}
		return derived(a.compute(UseFunction, l), a.compute(UseFunction, r)), nil
	case pg_query.A_Expr_Kind_AEXPR_NULLIF:
		r, err := a.expr(x.Rexpr, sc)
		if err != nil {
			return value{}, err
		}
		return derived(a.compute(UseFunction, l), a.compute(UseFunction, r)), nil
	}
	// LIKE, ILIKE, SIMILAR TO, BETWEEN, op ANY/ALL (array): predicates.
	a.charge(l, UsePredicate)
	rest, err := a.generic(&pg_query.Node{Node: &pg_query.Node_List{List: &pg_query.List{Items: []*pg_query.Node{x.Rexpr}}}}, sc)
	if err != nil {
		return value{}, err
	}
	_ = rest // operands on the right were charged as function arguments
	return value{}, nil
}

// operator refuses an operator name, written or implied (BETWEEN's <=,
// CASE x WHEN's =, JOIN USING's =, ORDER BY USING), that a user-defined
// operator also bears: PostgreSQL may pick that one (for its types, or
// ahead of pg_catalog's on the search_path), and it runs a function
// outside the allow-list.
func (a *analyzer) operator(op string) error {
	if op != "" && !a.definer && a.env.snap.UserOperator(op) {
		return a.refuse("the operator %s (a user-defined operator of that name exists)", op)
	}
	return nil
}

// sortOperator checks the operator of an ORDER BY ... USING op.
func (a *analyzer) sortOperator(sb *pg_query.SortBy) error {
	if sb == nil {
		return nil
	}
	if p, _ := names(sb.UseOp); len(p) > 0 {
		return a.operator(p[len(p)-1])
	}
	return nil
}

// textType reports a cast to a character type (text, varchar, char,
// name, unknown): one a detokenized string converts to without fail.
func textType(tn *pg_query.TypeName) bool {
	if tn == nil || len(tn.ArrayBounds) > 0 {
		return false
	}
	parts, _ := names(tn.Names)
	if len(parts) == 0 || len(parts) > 2 || (len(parts) == 2 && parts[0] != "pg_catalog") {
		return false
	}
	switch parts[len(parts)-1] {
	case "text", "varchar", "bpchar", "name", "unknown":
		return true
	}
	return false
}

// equality charges l = r: a join if both sides are columns, a literal
// equality if one side is a constant, a predicate otherwise.
func (a *analyzer) equality(l, r value) {
	switch {
	case l.direct && !l.clean() && !l.mixed && r.constant:
		a.literalEquality(l, r)
	case r.direct && !r.clean() && !r.mixed && l.constant:
		a.literalEquality(r, l)
	case l.direct && r.direct && !l.mixed && !r.mixed:
		a.join(l, r)
	default:
		a.charge(l, UsePredicate)
		a.charge(r, UsePredicate)
	}
}

// join charges an equality between two plain column copies.
func (a *analyzer) join(l, r value) {
	for _, s := range l.srcs {
		u := Use{Kind: UseJoin, Source: s}
		if len(r.srcs) == 1 {
			o := r.srcs[0]
			u.Other = &o
		} else if len(r.srcs) > 1 {
			u.Kind = UsePredicate // compared with several columns at once
		}
		a.use(u)
	}
	for _, s := range r.srcs {
		u := Use{Kind: UseJoin, Source: s}
		if len(l.srcs) == 1 {
			o := l.srcs[0]
			u.Other = &o
		} else if len(l.srcs) > 1 {
			u.Kind = UsePredicate
		}
		a.use(u)
	}
}

func (a *analyzer) literalEquality(col value, consts ...value) {
	if !col.oneClass() {
		// A copy of several classes (a UNION of a tokenized column and
		// one the role reads in clear): a token searched for would be
		// detokenized and compared with the other class's values too,
		// which the role may have filled with guesses.
		a.charge(col, UsePredicate)
		return
	}
	for _, s := range col.srcs {
		u := Use{Kind: UseLiteralEquality, Source: s}
		for _, c := range consts {
			if c.param > 0 {
				u.Params = append(u.Params, c.param)
				u.ParamLocs = append(u.ParamLocs, c.paramLoc)
			} else if c.literal >= 0 {
				u.Literals = append(u.Literals, c.literal)
			}
		}
		a.use(u)
	}
}

// inList charges x IN (list): a literal equality if every element is a
// constant, a join with a single column, a predicate otherwise.
func (a *analyzer) inList(l value, list *pg_query.Node, sc *scope) error {
	var items []*pg_query.Node
	if lst := list.GetList(); lst != nil {
		items = lst.Items
	} else {
		items = []*pg_query.Node{list}
	}
	var consts []value
	allConst := true
	for _, it := range items {
		v, err := a.expr(it, sc)
		if err != nil {
			return err
		}
		if v.constant {
			consts = append(consts, v)
			continue
		}
		allConst = false
		if len(items) == 1 {
			a.equality(l, v)
			return nil
		}
		a.charge(v, UsePredicate)
	}
	if allConst && l.direct && !l.clean() && !l.mixed {
		a.literalEquality(l, consts...)
		return nil
	}
	a.charge(l, UsePredicate)
	return nil
}

// subLink analyses a subquery used in an expression.
func (a *analyzer) subLink(x *pg_query.SubLink, sc *scope) (value, error) {
	sel := x.Subselect.GetSelectStmt()
	if sel == nil {
		return value{}, a.refuse("a subquery pgmantle cannot analyse")
	}
	outs, err := a.selectStmt(sel, sc)
	if err != nil {
		return value{}, err
	}
	first := value{}
	if len(outs.cols) > 0 {
		first = outs.cols[0].v
	}
	switch x.SubLinkType {
	case pg_query.SubLinkType_EXISTS_SUBLINK:
		return value{}, nil
	case pg_query.SubLinkType_EXPR_SUBLINK:
		if len(outs.cols) != 1 {
			return value{}, a.refuse("a scalar subquery with %d columns", len(outs.cols))
		}
		return first, nil
	case pg_query.SubLinkType_ANY_SUBLINK, pg_query.SubLinkType_ALL_SUBLINK:
		l, err := a.expr(x.Testexpr, sc)
		if err != nil {
			return value{}, err
		}
		op := "="
		if p, _ := names(x.OperName); len(p) > 0 {
			op = p[len(p)-1]
		}
		if err := a.operator(op); err != nil {
			return value{}, err
		}
		if equalityOps[op] && len(outs.cols) == 1 {
			a.equality(l, first)
		} else {
			a.charge(l, UsePredicate)
			for _, c := range outs.cols {
				a.charge(c.v, UsePredicate)
			}
		}
		return value{}, nil
	}
	if x.SubLinkType == pg_query.SubLinkType_ARRAY_SUBLINK {
		a.rowOrder(outs.order) // the array holds the rows in order
	}
	// ARRAY(subquery), row comparisons: computed from every column.
	var vs []value
	for _, c := range outs.cols {
		vs = append(vs, a.compute(UseFunction, c.v))
	}
	if x.Testexpr != nil {
		l, err := a.expr(x.Testexpr, sc)
		if err != nil {
			return value{}, err
		}
		a.charge(l, UsePredicate)
	}
	return derived(vs...), nil
}

// refuse returns an analysis error: the statement is refused for every
// restricted role. The message must never hold a value.
func (a *analyzer) refuse(format string, args ...any) error {
	return &Refusal{Reason: fmt.Sprintf(format, args...)}
}

// unresolvedName refuses a statement naming a relation or column the
// catalog does not hold (under the search_path analysed).
func (a *analyzer) unresolvedName(format string, args ...any) error {
	return &Refusal{Reason: fmt.Sprintf(format, args...), unresolved: true}
}

// Refusal is an analysis that ends in refusal whatever the role's rules.
type Refusal struct {
	Reason     string
	unresolved bool
}

func (r *Refusal) Error() string { return r.Reason }
