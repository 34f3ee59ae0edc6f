package parser

import (
	"github.com/pgmantle/pgmantle/catalog"
)

// Source is a protected base column: a column some class of the policy
// tags, or (Unknown) a column whose origin the analysis cannot establish
// in a relation that may hold protected data.
type Source struct {
	Column  catalog.ColumnRef
	Class   string
	Unknown bool
}

func (s Source) String() string {
	if s.Unknown {
		return "a column of unknown origin (" + s.Column.String() + ")"
	}
	return s.Column.String()
}

// Lineage says where an output column's values come from.
type Lineage uint8

const (
	// Clean values hold no protected data.
	Clean Lineage = iota
	// Direct values are plain copies of protected columns (one of
	// Output.Sources, row by row).
	Direct
	// Derived values are computed from protected columns.
	Derived
)

func (l Lineage) String() string {
	return [...]string{"clean", "direct", "derived"}[l]
}

// UseKind is how a statement uses a protected column.
type UseKind uint8

const (
	// UseOutput: projected to the client as is.
	UseOutput UseKind = iota + 1
	// UseReturning: projected by RETURNING.
	UseReturning
	// UsePredicate: compared in WHERE, ON, HAVING or a filter (ranges,
	// LIKE, pattern matching, ...).
	UsePredicate
	// UseLiteralEquality: compared for equality (=, <>, IN, IS [NOT]
	// DISTINCT FROM) with literals or bind parameters only.
	UseLiteralEquality
	// UseJoin: compared for equality with another column.
	UseJoin
	// UseGroup: GROUP BY, DISTINCT, count(DISTINCT), UNION, INTERSECT,
	// EXCEPT, window PARTITION BY.
	UseGroup
	// UseOrder: ORDER BY, window or aggregate ORDER BY.
	UseOrder
	// UseAggregate: argument of an aggregate or window function other than
	// count.
	UseAggregate
	// UseFunction: argument of a function, operator, cast or conditional
	// expression.
	UseFunction
	// UsePresence: only whether the value is NULL (IS NULL, count(col)).
	UsePresence
	// UseWholeRow: part of a whole-row reference (t, t.*, row_to_json(t)).
	UseWholeRow
	// UseWriteSource: a value written by INSERT, UPDATE, MERGE or COPY.
	UseWriteSource
	// UseWriteTarget: the column is written.
	UseWriteTarget
	// UseConstraint: read by a constraint a write is checked against
	// (CHECK, a unique, exclusion or foreign key, a partition key):
	// whether the write passes compares the column.
	UseConstraint
	// UseRowOrder: decides the order in which a table's rows are read
	// (its partition key, or a CHECK splitting it into inheritance
	// children), and the statement observes that order (roworder.go).
	UseRowOrder
)

var useNames = [...]string{
	UseOutput: "output", UseReturning: "RETURNING", UsePredicate: "predicate",
	UseLiteralEquality: "equality with a literal or parameter", UseJoin: "join equality",
	UseGroup: "grouping or DISTINCT", UseOrder: "ordering", UseAggregate: "aggregate argument",
	UseFunction: "function argument", UsePresence: "NULL test or count",
	UseWholeRow: "whole-row reference", UseWriteSource: "source of a write", UseWriteTarget: "target of a write",
	UseConstraint: "constraint checked by a write", UseRowOrder: "row order",
}

var usePhrases = [...]string{
	UseOutput: "in the output", UseReturning: "in RETURNING", UsePredicate: "in a predicate",
	UseLiteralEquality: "in an equality with a literal or parameter", UseJoin: "in a join equality",
	UseGroup: "for grouping or DISTINCT", UseOrder: "for ordering", UseAggregate: "as an aggregate argument",
	UseFunction: "as a function argument", UsePresence: "in a NULL test or count",
	UseWholeRow: "in a whole-row reference", UseWriteSource: "as the source of a write", UseWriteTarget: "as the target of a write",
	UseConstraint: "in a constraint this write is checked against (CHECK, a unique, exclusion or foreign key, a partition key or a view's CHECK OPTION)",
	UseRowOrder:   "through the order rows are read in (its table is partitioned or split into inheritance children by it, so rows come back grouped by it: sort by every result column, or aggregate)",
}

// Phrase describes the use for a sentence ("for ordering").
func (k UseKind) Phrase() string {
	if int(k) < len(usePhrases) && usePhrases[k] != "" {
		return usePhrases[k]
	}
	return "in this way"
}

func (k UseKind) String() string {
	if int(k) < len(useNames) && useNames[k] != "" {
		return useNames[k]
	}
	return "use"
}

// Use is one use of a protected column.
type Use struct {
	Kind   UseKind
	Source Source
	// Other is the column on the other side of a join equality; nil when
	// the other side is not protected.
	Other *Source
	// Params and Literals locate, for UseLiteralEquality, the bind
	// parameters ($n) and the literals (byte offsets in the statement) the
	// column is compared with: the places a detokenizer rewrites.
	Params   []int
	Literals []int
	// ParamLocs are the byte offsets of the Params' $n, in order: a
	// parameter used anywhere else too cannot be detokenized (the real
	// value would reach that other place).
	ParamLocs []int
}

// Output is one column of a statement's result.
type Output struct {
	Name    string
	Lineage Lineage
	Sources []Source // the protected columns it copies or derives from
	// Mixed: besides copies of Sources, the column holds other rows (a
	// literal or a clean column, through UNION or VALUES): a token or
	// pseudonym of those would be computed for values of the client's
	// choosing.
	Mixed bool
}

// Statement is the analysis of one SQL statement.
type Statement struct {
	// Kind is the statement's kind, as its command tag starts ("SELECT",
	// "INSERT", "SET", ...).
	Kind string
	// Refusal is set when the statement is refused for every restricted
	// role, whatever the rules: unparseable, a refused statement kind or
	// function, a name that cannot be resolved. It never holds a value.
	Refusal string
	// Outputs are the result columns, in order; OutputsExact is false when
	// their number is unknown (SELECT * over a function whose result
	// columns the catalog does not describe), in which case every output
	// is clean.
	Outputs      []Output
	OutputsExact bool
	// OutputsUnknown: nothing is known of the result columns (EXECUTE or
	// FETCH of a name pgmantle did not see defined); the result layer
	// falls back on column origins alone.
	OutputsUnknown bool
	Uses           []Use
	// Relations are the relations the statement names (schema.name).
	Relations []string
	// Refers is, for EXECUTE and FETCH, the analysis of the prepared
	// statement or cursor whose rows it returns; nil when unknown.
	Refers *Statement
	// PathChange is the search_path change of a SET search_path, RESET or
	// DISCARD ALL sent on its own outside a transaction (State.Immediate):
	// once PostgreSQL reports the statement complete, State.Confirm makes
	// it the session's only possible search_path.
	PathChange *PathChange

	// epoch is State.changes when the statement was analysed: a prepared
	// statement analysed under older search_path settings is stale.
	epoch  uint64
	effect effect // on prepared statements and cursors, once confirmed
	// pathFree: the statement resolves no names (SET, SHOW, transaction
	// control, ...), so a search_path change cannot make it stale.
	pathFree bool
	// pathSetting is the search_path a SET, RESET or DISCARD ALL makes
	// possible, each time it runs.
	pathSetting *string

	unresolved bool // refused because a name cannot be resolved
	// literalDependent: the analysis depends on a literal's value (ORDER
	// BY 1), so it must not be shared by texts differing in literals.
	literalDependent bool
}

// Analysis is the analysis of one SQL text: a simple Query's statements
// in order, or the single statement of a Parse.
type Analysis struct {
	Statements []*Statement
	stateful   bool // a statement reads or changes session state
	// literalDependent: some statement's analysis depends on a literal's
	// value.
	literalDependent bool
}
