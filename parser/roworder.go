package parser

import (
	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/pgmantle/pgmantle/catalog"
)

// Row order.
//
// PostgreSQL returns a query's rows in whatever order its plan produces
// them unless an ORDER BY fixes it, and some plans produce them in an
// order that a protected column decides: a partitioned table is read
// partition by partition (Append, in bound order), an inheritance parent
// before its children. When the partitions are chosen by a protected
// column (PARTITION BY LIST (left(id_no, 6))), or the children split the
// rows by a CHECK on one (CHECK (amount >= 12200)), the plain row order
// groups the rows by that column: SELECT id FROM people tells which people
// share a region, as tableoid would.
//
// The analysis follows that order as lineage of its own (order, a list of
// sources): from such a scan, through subqueries, WITH queries, joins,
// views and UNION ALL, to where it is observed — the statement's rows
// (and RETURNING, COPY, a cursor), the rows LIMIT, OFFSET or DISTINCT ON
// keep, an aggregate whose result depends on the order of its input
// (array_agg, string_agg, ...), a window function, ARRAY(subquery), the
// rows an INSERT ... SELECT inserts (or MERGE), the row an UPDATE ...
// FROM joins first, a volatile function's values. There it is charged as
// UseRowOrder. Aggregating with order-free aggregates, grouping,
// DISTINCT, UNION, INTERSECT and EXCEPT end it, as does an ORDER BY that
// sorts by every result column — the last four only over keys whose
// equal values are identical (orderkeys.go).

// scanOrder returns the protected columns that decide the order in which
// a scan of rel returns its rows: the partition keys of rel and of its
// partitioned descendants, the columns the CHECK constraints of its
// inheritance children read (those not inherited from their parent), and
// for a view or materialized view the order of its definition's rows.
func (e *Env) scanOrder(rel *catalog.Relation) []Source {
	if rel.Kind == catalog.KindView || rel.Kind == catalog.KindMatView {
		return e.view(rel).order
	}
	var srcs []Source
	for _, r := range append([]*catalog.Relation{rel}, e.snap.Descendants(rel.OID)...) {
		if r.Kind == catalog.KindPartitioned {
			srcs = appendSources(srcs, e.partitionKey(r).srcs...)
		}
		parent := e.snap.Relation(r.Parent)
		if r == rel || parent == nil || parent.Kind == catalog.KindPartitioned {
			continue
		}
		// An inheritance child: the rows its own CHECK constraints admit
		// come after the parent's.
		for _, c := range r.Constraints {
			if c.Kind != catalog.ConstraintCheck || inheritedCheck(parent, c.Name) {
				continue
			}
			for _, num := range c.Columns {
				for i, col := range r.Columns {
					if col.Num == num {
						srcs = appendSources(srcs, e.columnValue(r, col, i).srcs...)
					}
				}
			}
			if f := e.unlisted(c.Functions); f != "" {
				srcs = appendSources(srcs, Source{Column: catalog.ColumnRef{Schema: r.Schema, Table: r.Name, Column: "(CHECK " + c.Name + " calling " + f + ")"}, Unknown: true})
			}
		}
	}
	return srcs
}

// inheritedCheck reports whether parent has a CHECK constraint named name
// (a child inherits its parent's, under the same name).
func inheritedCheck(parent *catalog.Relation, name string) bool {
	for _, c := range parent.Constraints {
		if c.Kind == catalog.ConstraintCheck && c.Name == name {
			return true
		}
	}
	return false
}

// rowOrder charges an order that is observed as UseRowOrder; inside a
// view's definition it is kept for the view (charged to each statement
// reading it).
func (a *analyzer) rowOrder(order []Source) {
	if a.definer {
		a.picked = appendSources(a.picked, order...)
		return
	}
	for _, s := range order {
		a.use(Use{Kind: UseRowOrder, Source: s})
	}
}

// itemsOrder is the order in which the rows of a query level's FROM
// clause arrive: that of any of its items.
func (sc *scope) itemsOrder() []Source {
	var order []Source
	for _, it := range sc.items {
		order = appendSources(order, it.order...)
	}
	return order
}

// enclosingOrder is the order of this level's and the enclosing levels'
// rows: an aggregate whose arguments name only an enclosing level's
// columns aggregates that level's rows.
func (sc *scope) enclosingOrder() []Source {
	var order []Source
	for s := sc; s != nil; s = s.parent {
		order = appendSources(order, s.itemsOrder()...)
	}
	return order
}

// levelOrder returns the order of a SELECT level's rows, charging the
// uses of its FROM clause's row order the level makes: a window function
// (numbering or comparing rows, ties in input order), DISTINCT ON (the
// row kept of each group is the first). Aggregating, grouping by keys of
// identical types and DISTINCT over such columns end the order;
// aggregates that depend on it are charged in funcCall.
func (a *analyzer) levelOrder(sel *pg_query.SelectStmt, sc *scope, outs outputs) []Source {
	order := sc.itemsOrder()
	if len(order) == 0 {
		return nil
	}
	aggregated := sc.aggregates || len(sel.GroupClause) > 0 || sel.HavingClause != nil
	if sc.windows && !aggregated {
		a.rowOrder(order)
	}
	plainDistinct := len(sel.DistinctClause) == 1 && sel.DistinctClause[0].Node == nil
	if len(sel.DistinctClause) > 0 && !plainDistinct && !sortsEveryOutput(sel.SortClause, outs, sel.TargetList) {
		a.rowOrder(order)
	}
	switch {
	case aggregated && groupKeysIdentical(sel.GroupClause, outs, sc),
		plainDistinct && !aggregated && outs.allIdentical():
		return nil
	}
	return order
}

// anyVolatile reports whether a function name (as called, through the
// search_path) stands for a volatile function in any of its overloads.
func (a *analyzer) anyVolatile(parts []string) bool {
	if len(parts) == 0 {
		return false
	}
	schemas := a.schemasFor(parts)
	for _, s := range schemas {
		for _, fn := range a.env.snap.Function(s, parts[len(parts)-1]) {
			if fn.Volatile == 'v' {
				return true
			}
		}
	}
	return false
}
