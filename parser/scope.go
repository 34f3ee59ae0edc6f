package parser

import (
	"fmt"

	"github.com/pgmantle/pgmantle/catalog"
)

// column is one named column of a FROM item or of a query's result.
type column struct {
	name string
	v    value
	// unsureName: PostgreSQL may name the column otherwise (an expression
	// whose generated name pgmantle does not reproduce).
	unsureName bool
}

// fromItem is one entry of a FROM clause: a relation, subquery, function,
// CTE reference or join, with the columns it makes visible.
type fromItem struct {
	name string // alias or relation name: what qualifies its columns
	cols []column
	// rel is the catalog relation of a table or view reference (for
	// whole-row references and system columns).
	rel *catalog.Relation
	// tableoid is the lineage of the item's tableoid: for a partitioned
	// table, computed from the columns its partition key reads (the
	// partition a row is in is a function of them); clean otherwise.
	tableoid value
	// order: the protected columns that decide the order in which the
	// item's rows arrive (see roworder.go).
	order []Source
	// anyCol, for a function whose result columns the catalog does not
	// describe, is the lineage of any column name asked of it.
	anyCol *value
	// hidden: the item's name does not qualify columns (a join without an
	// alias).
	hidden bool
	// aliased: a table reference with an alias; a schema-qualified name
	// (bk.contacts.x) never refers to it.
	aliased bool
}

// scope is the namespace of one query level.
type scope struct {
	parent *scope
	// items are the top-level FROM items, in order: unqualified names and
	// * resolve against them.
	items []*fromItem
	// named are all items a qualified name can refer to, joins' members
	// included.
	named []*fromItem
	ctes  map[string]*cte
	// outputs, for ORDER BY and GROUP BY, are the query's result columns
	// once known; outputsExact is false when their number is not known.
	outputs      []column
	outputsExact bool
	// aggregates: the level calls an aggregate (not as a window
	// function); windows: a window function.
	aggregates, windows bool
}

// cte is a WITH query visible in a scope.
type cte struct {
	cols  []column
	order []Source
	// pending: named in a WITH RECURSIVE but not analysed yet.
	pending bool
}

func newScope(parent *scope) *scope { return &scope{parent: parent} }

// add makes an item visible at the top level of the scope.
func (s *scope) add(it *fromItem) {
	s.items = append(s.items, it)
}

// lookupCTE finds a WITH query by name in this scope or an enclosing one.
func (s *scope) lookupCTE(name string) *cte {
	for sc := s; sc != nil; sc = sc.parent {
		if c := sc.ctes[name]; c != nil {
			return c
		}
	}
	return nil
}

// systemColumns are the columns every table has besides its own; they
// hold no row values.
var systemColumns = map[string]bool{"ctid": true, "xmin": true, "xmax": true, "cmin": true, "cmax": true, "tableoid": true}

// column resolves a column reference (its name parts, already without a
// trailing *) in this scope or an enclosing one. A level whose FROM items
// include one whose columns are unknown (a function returning a record)
// may or may not hold an unqualified name: the lineage is then the union
// of that item's and of whatever an enclosing level resolves the name to.
//
// found is false when the name matched no column pgmantle is sure of, only
// columns that may or may not bear it: PostgreSQL may then find no column
// at all and read the name as a whole-row reference to a FROM item.
func (s *scope) column(parts []string) (v value, found bool, err error) {
	var maybe []value
	for sc := s; sc != nil; sc = sc.parent {
		v, found, err := sc.columnHere(parts)
		if err != nil {
			return value{}, false, err
		}
		if found {
			return unionAll(append(maybe, v)), true, nil
		}
		if len(parts) == 1 {
			maybe = append(maybe, sc.unknownColumns()...)
		}
	}
	if len(maybe) > 0 {
		return unionAll(maybe), false, nil
	}
	return value{}, false, fmt.Errorf("column %s cannot be resolved", joinName(parts))
}

// unknownColumns returns the lineage of this level's items whose columns
// are unknown.
func (s *scope) unknownColumns() []value {
	var out []value
	for _, it := range s.items {
		if it.anyCol != nil {
			out = append(out, *it.anyCol)
		}
		for _, c := range it.cols {
			if c.unsureName {
				out = append(out, c.v) // PostgreSQL may give it any name
			}
		}
	}
	return out
}

func (s *scope) columnHere(parts []string) (value, bool, error) {
	switch len(parts) {
	case 1:
		var vs []value
		for _, it := range s.items {
			if c, ok := it.col(parts[0]); ok {
				vs = append(vs, c)
			}
		}
		if len(vs) > 0 {
			// Several matches: PostgreSQL refuses the name as ambiguous
			// unless it is a merged join column; either way, a copy of one.
			return unionAll(append(vs, s.unknownColumns()...)), true, nil
		}
		return value{}, false, nil
	default:
		// [schema.]rel.col (a catalog qualifier is rare; take the last two).
		relName, colName := parts[len(parts)-2], parts[len(parts)-1]
		schema := ""
		if len(parts) >= 3 {
			schema = parts[len(parts)-3]
		}
		for _, it := range s.named {
			if it.name != relName || it.hidden || (schema != "" && (it.rel == nil || it.aliased || it.rel.Schema != schema)) {
				continue
			}
			if c, ok := it.col(colName); ok {
				return c, true, nil
			}
			if it.anyCol != nil {
				return *it.anyCol, true, nil
			}
			if it.hasSystemColumns() && systemColumns[colName] {
				return it.system(colName), true, nil
			}
			return value{}, false, fmt.Errorf("column %s cannot be resolved", joinName(parts))
		}
		return value{}, false, nil
	}
}

// item finds a FROM item by name, for t.* and whole-row references.
func (s *scope) item(name string) *fromItem {
	return s.itemFor([]string{name})
}

// itemFor finds the FROM item a qualifier names: t, or schema.t, which
// only an unaliased reference to that schema's table matches.
func (s *scope) itemFor(parts []string) *fromItem {
	if len(parts) == 0 {
		return nil
	}
	name, schema := parts[len(parts)-1], ""
	if len(parts) >= 2 {
		schema = parts[len(parts)-2]
	}
	for sc := s; sc != nil; sc = sc.parent {
		for _, it := range sc.named {
			if it.name != name || it.hidden {
				continue
			}
			if schema != "" && (it.rel == nil || it.aliased || it.rel.Schema != schema) {
				continue
			}
			return it
		}
	}
	return nil
}

// col returns the lineage of a column of the item.
func (it *fromItem) col(name string) (value, bool) {
	for _, c := range it.cols {
		if c.name == name && !c.unsureName {
			return c.v, true
		}
	}
	if it.hasSystemColumns() && systemColumns[name] {
		return it.system(name), true
	}
	return value{}, false
}

// system returns the lineage of one of the item's system columns.
//
// ctid is a row's place in its table's storage: with the pages and slots
// of the rows around it, it tells the size of the values stored (how
// many rows a page holds, whether an updated row still fits in its page)
// and, in a partitioned table, which rows share a partition. It is
// computed from every protected column of the item and from what decides
// its row order. xmin, xmax, cmin and cmax are transaction and command
// numbers, which no value decides.
func (it *fromItem) system(name string) value {
	switch name {
	case "tableoid":
		return it.tableoid
	case "ctid":
		v := it.whole()
		v.srcs = appendSources(v.srcs, it.order...)
		return value{srcs: v.srcs}
	}
	return value{}
}

// realCol is col without system columns (NATURAL JOIN ignores them).
func (it *fromItem) realCol(name string) (value, bool) {
	for _, c := range it.cols {
		if c.name == name && !c.unsureName {
			return c.v, true
		}
	}
	return value{}, false
}

// hasSystemColumns: tables, partitions, materialized views and foreign
// tables have ctid, xmin, ...; views do not (PostgreSQL then resolves the
// name elsewhere, e.g. to an outer query's column).
func (it *fromItem) hasSystemColumns() bool {
	return it.rel != nil && it.rel.Kind != catalog.KindView
}

// whole returns the lineage of the item's whole row.
func (it *fromItem) whole() value {
	var v value
	for _, c := range it.cols {
		v.srcs = appendSources(v.srcs, c.v.srcs...)
	}
	if it.anyCol != nil {
		v.srcs = appendSources(v.srcs, it.anyCol.srcs...)
	}
	return v
}

func joinName(parts []string) string {
	out := ""
	for i, p := range parts {
		if i > 0 {
			out += "."
		}
		out += p
	}
	return out
}
