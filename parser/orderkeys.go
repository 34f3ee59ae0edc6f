package parser

import (
	pg_query "github.com/pganalyze/pg_query_go/v6"
)

// Ending the row order (roworder.go) by comparing rows.
//
// Sorting by every result column, grouping, DISTINCT, UNION and min/max
// end the row order only if rows that compare equal are identical: the
// row a sort leaves first among ties, the value a group shows, the one
// min keeps, are otherwise chosen by input order. numeric keeps its scale
// (1.0 = 1.00), float has -0 = 0, interval '1 day' = '24 hours', jsonb
// numbers keep theirs: SELECT round(1.0, id) AS v ... ORDER BY v showed
// the row order through the scale (red-team round 21). So these end it
// only over plain column references whose type has no such values.

// keyType is the type of a sort or grouping key when pgmantle knows it
// (a plain reference to a relation's column); the zero keyType is
// unknown.
type keyType struct {
	oid uint32
	mod int32
}

// identical reports whether equal values of the type are identical: the
// built-in types whose equality is identity (deterministic collations
// assumed for text), and numeric with a declared scale.
func (k keyType) identical() bool {
	switch k.oid {
	case 16, 20, 21, 23, 26, // bool, integers, oid
		25, 1043, 1042, 19, // text, varchar, char(n), name
		1082, 1083, 1114, 1184, 2950: // date, time, timestamp(tz), uuid
		return true
	case 1700: // numeric(p, s): one scale
		return k.mod != -1
	}
	return false
}

// exact reports whether sums and averages of the type are exact
// (integers and numeric), so that their result does not depend on the
// order of the values added.
func (k keyType) exact() bool {
	switch k.oid {
	case 20, 21, 23, 1700:
		return true
	}
	return false
}

// columnKey returns the type of a plain column reference of this query
// level: a relation's (table's or view's) column, by its item's name or
// unqualified when one relation item has it. Anything else is unknown.
func (sc *scope) columnKey(n *pg_query.Node) keyType {
	cr := n.GetColumnRef()
	if cr == nil {
		return keyType{}
	}
	parts, star := names(cr.Fields)
	if star || len(parts) == 0 || len(parts) > 2 {
		return keyType{}
	}
	var found keyType
	matches := 0
	for _, it := range sc.named {
		if it.rel == nil || (len(parts) == 2 && it.name != parts[0]) {
			continue
		}
		for i, c := range it.cols {
			if c.name == parts[len(parts)-1] && i < len(it.rel.Columns) {
				found = keyType{it.rel.Columns[i].TypeOID, it.rel.Columns[i].TypeMod}
				matches++
			}
		}
	}
	if matches != 1 {
		return keyType{}
	}
	return found
}

// outputKeys returns the key type of each result column of a select
// list: plain column references and the columns * expands to from
// relations; unknown for the rest. (Not constants: 1 and 1.0 share a
// cached analysis, and UNION SELECT 1.0 makes a column numeric.)
func outputKeys(targets []*pg_query.Node, sc *scope) []keyType {
	var keys []keyType
	for _, t := range targets {
		rt := t.GetResTarget()
		if rt == nil {
			continue
		}
		cr := rt.Val.GetColumnRef()
		if cr == nil {
			keys = append(keys, keyType{})
			continue
		}
		parts, star := names(cr.Fields)
		if !star {
			keys = append(keys, sc.columnKey(rt.Val))
			continue
		}
		items := sc.items
		if len(parts) > 0 {
			items = nil
			if it := sc.itemFor(parts); it != nil {
				items = []*fromItem{it}
			}
		}
		for _, it := range items {
			for i := range it.cols {
				if it.rel != nil && len(it.cols) == len(it.rel.Columns) {
					keys = append(keys, keyType{it.rel.Columns[i].TypeOID, it.rel.Columns[i].TypeMod})
				} else {
					keys = append(keys, keyType{})
				}
			}
		}
	}
	return keys
}

// allIdentical reports whether every result column's key type is known
// and identical (and every column known: not * over a function of
// unknown shape).
func (o outputs) allIdentical() bool {
	if !o.exact || len(o.keys) != len(o.cols) {
		return false
	}
	for _, k := range o.keys {
		if !k.identical() {
			return false
		}
	}
	return true
}

// groupKeysIdentical reports whether every GROUP BY key (inside ROLLUP,
// CUBE and GROUPING SETS too) is a result column by position or a
// column reference of an identical type.
func groupKeysIdentical(items []*pg_query.Node, outs outputs, sc *scope) bool {
	for _, g := range items {
		if gs := g.GetGroupingSet(); gs != nil {
			if !groupKeysIdentical(gs.Content, outs, sc) {
				return false
			}
			continue
		}
		if l := g.GetList(); l != nil {
			if !groupKeysIdentical(l.Items, outs, sc) {
				return false
			}
			continue
		}
		if c := g.GetAConst(); c != nil {
			i := c.GetIval()
			if i == nil || i.Ival < 1 || int(i.Ival) > len(outs.keys) || !outs.keys[i.Ival-1].identical() {
				return false
			}
			continue
		}
		if !sc.columnKey(g).identical() {
			// An output name (GROUP BY prefers input columns) or an
			// expression: unknown.
			return false
		}
	}
	return true
}

// aggregateOrderFree reports whether an aggregate's result is the same
// whatever the order of its input rows: count and the boolean and bit
// aggregates always; sum, avg, stddev and variance over integers or
// numeric; min and max over an identical type; the hypothetical-set
// aggregates (rank(x) WITHIN GROUP ...: counts); mode and the percentiles
// over an identical sort key.
func aggregateOrderFree(name string, f *pg_query.FuncCall, sc *scope) bool {
	args := func(ok func(keyType) bool) bool {
		for _, a := range f.Args {
			if a.GetAConst() == nil && !ok(sc.columnKey(a)) {
				return false
			}
		}
		return len(f.Args) > 0 || f.AggStar
	}
	switch name {
	case "count", "bool_and", "bool_or", "every", "bit_and", "bit_or", "bit_xor",
		"rank", "dense_rank", "percent_rank", "cume_dist":
		return true
	case "sum", "avg", "stddev", "stddev_pop", "stddev_samp", "variance", "var_pop", "var_samp":
		return args(keyType.exact)
	case "min", "max":
		return args(keyType.identical)
	case "mode", "percentile_disc", "percentile_cont":
		if len(f.AggOrder) != 1 {
			return false
		}
		return sc.columnKey(f.AggOrder[0].GetSortBy().GetNode()).identical()
	}
	return false
}

// sortsEveryOutput reports whether an ORDER BY sorts by every result
// column, each of an identical type (keyType), so that the rows it leaves
// in input order are identical: each column is named by position, by its
// output name, or by the same column reference the select list gives it.
func sortsEveryOutput(sorts []*pg_query.Node, outs outputs, targets []*pg_query.Node) bool {
	if len(sorts) == 0 || !outs.allIdentical() {
		return false
	}
	covered := make([]bool, len(outs.cols))
	refs := targetRefs(targets, len(covered))
	for _, n := range sorts {
		sb := n.GetSortBy()
		if sb == nil {
			return false
		}
		if c := sb.Node.GetAConst(); c != nil {
			if i := c.GetIval(); i != nil && i.Ival >= 1 && int(i.Ival) <= len(covered) {
				covered[i.Ival-1] = true
			}
			continue
		}
		cr := sb.Node.GetColumnRef()
		if cr == nil {
			continue
		}
		parts, star := names(cr.Fields)
		if star {
			continue
		}
		for i, c := range outs.cols {
			if len(parts) == 1 && c.name == parts[0] && !c.unsureName {
				covered[i] = true
			}
		}
		// The same reference as a select-list item (SELECT p.id ...
		// ORDER BY p.id).
		for i, ref := range refs {
			if ref != nil && equalNames(ref, parts) {
				covered[i] = true
			}
		}
	}
	for _, c := range covered {
		if !c {
			return false
		}
	}
	return true
}

// targetRefs returns, per result column, the name parts of the column
// reference a select list gives it (nil for other expressions); nil when
// the list has a * (positions past it are not counted here) or does not
// match the result's columns.
func targetRefs(targets []*pg_query.Node, n int) [][]string {
	if len(targets) != n {
		return nil
	}
	refs := make([][]string, n)
	for i, t := range targets {
		cr := t.GetResTarget().GetVal().GetColumnRef()
		if cr == nil {
			continue
		}
		parts, star := names(cr.Fields)
		if star {
			return nil
		}
		refs[i] = parts
	}
	return refs
}

func equalNames(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// sortsEveryArgument reports whether an aggregate's own ORDER BY sorts
// by each of its arguments that is not a constant (string_agg(note, ','
// ORDER BY note)), or it aggregates DISTINCT values (which PostgreSQL
// sorts by the arguments), each a column of an identical type: the input
// rows it leaves tied give the same arguments.
func sortsEveryArgument(f *pg_query.FuncCall, sc *scope) bool {
	if len(f.AggOrder) == 0 && !f.AggDistinct {
		return false
	}
	for _, arg := range f.Args {
		if arg.GetAConst() != nil {
			continue
		}
		cr := arg.GetColumnRef()
		if cr == nil || !sc.columnKey(arg).identical() {
			return false
		}
		parts, star := names(cr.Fields)
		if star {
			return false
		}
		sorted := f.AggDistinct
		for _, o := range f.AggOrder {
			if oc := o.GetSortBy().GetNode().GetColumnRef(); oc != nil {
				oparts, ostar := names(oc.Fields)
				sorted = sorted || (!ostar && equalNames(oparts, parts))
			}
		}
		if !sorted {
			return false
		}
	}
	return true
}
