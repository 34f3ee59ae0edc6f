package catalog

// ColumnRef names a base column: a column of a table, partitioned table,
// foreign table or sequence that is not inherited from a parent. It is the
// identity policies tag with a data class, and the answer of
// Snapshot.Origin. Names are as stored in the catalog (case-sensitive,
// unquoted).
type ColumnRef struct {
	Schema, Table, Column string
}

// String returns "schema.table.column", unquoted. It is meant for messages
// and logs; it is ambiguous for names that contain dots.
func (r ColumnRef) String() string {
	return r.Schema + "." + r.Table + "." + r.Column
}

// Column is one live (not dropped) user column of a relation
// (pg_attribute with attnum > 0).
type Column struct {
	Name    string
	Num     int16  // attnum; may have gaps where columns were dropped
	TypeOID uint32 // atttypid
	TypeMod int32  // atttypmod; -1 when the type has none
	// TypeName is format_type(atttypid, atttypmod), e.g. "character
	// varying(18)"; types outside pg_catalog are schema-qualified
	// ("public.cn_id") whatever the catalog role's search_path.
	TypeName string
	// Generated: a generated column (attgenerated), which COPY without a
	// column list leaves out.
	Generated bool
	// GeneratedFrom is, for a generated column, the attnums of the
	// columns of its relation its expression reads (pg_depend), in order.
	GeneratedFrom []int16
	// DefaultFunctions are the functions (SQL or procedural language,
	// "schema.name") its default or generation expression calls: they run
	// when a row is written without the column (or, generated, with any
	// column), and can read anything.
	DefaultFunctions []string
}

// Relation kinds (pg_class.relkind) a Snapshot holds. Indexes and TOAST
// tables are not loaded.
const (
	KindTable       byte = 'r'
	KindPartitioned byte = 'p'
	KindView        byte = 'v'
	KindMatView     byte = 'm'
	KindForeign     byte = 'f'
	KindComposite   byte = 'c'
	KindSequence    byte = 'S'
)

// Relation is one pg_class entry of a kind listed above. Relations and
// their slices belong to the Snapshot: callers must not modify them.
type Relation struct {
	OID    uint32
	Schema string
	Name   string
	// Kind is pg_class.relkind: KindTable, KindPartitioned, KindView, ...
	Kind byte
	// Columns are the live columns with attnum > 0, in attnum order.
	Columns []Column
	// Definition is, for a view or materialized view outside pg_catalog
	// and information_schema, its query as pg_get_viewdef prints it with
	// search_path set to pg_catalog (so every other name is qualified);
	// empty otherwise.
	Definition string
	// Parent is, for a partition or an inheritance child, the OID of its
	// (first, by pg_inherits.inhseqno) direct parent; 0 otherwise.
	Parent uint32
	// HasRules: the relation has rewrite rules other than a view's query
	// (CREATE RULE ... ON INSERT/UPDATE/DELETE): a write to it may run
	// other statements and return rows read from anywhere.
	HasRules bool
	// RowSecurity is relrowsecurity: row-level security policies add
	// their expressions to statements reading or writing the relation.
	RowSecurity bool
	// PolicyReads are the columns the relation's policies (USING and WITH
	// CHECK, all commands and roles) read, of it or of other relations
	// (pg_depend); Num 0 stands for a whole-row reference.
	PolicyReads []ColumnAt
	// PolicyFunctions are the functions (SQL or procedural language) the
	// relation's row-level security policies call: what they read is not
	// in PolicyReads.
	PolicyFunctions []string
	// CheckOption: a view WITH [LOCAL | CASCADED] CHECK OPTION: a row
	// written through it must satisfy its WHERE (and, cascaded, those of
	// the views under it).
	CheckOption bool
	// PartitionKey is, for a partitioned table, the attnums of the
	// columns its partition key reads (plain key columns and those its
	// key expressions read), in order: which partition a row is in, and
	// so its tableoid and the partition it can be read through, is a
	// function of them.
	PartitionKey []int16
	// ViewTriggers: a view with triggers (relhastriggers; INSTEAD OF
	// triggers decide what a write to it does and what its RETURNING
	// shows).
	ViewTriggers bool
	// Constraints are the rules PostgreSQL checks writes to the relation
	// against that read its columns: CHECK constraints, unique and
	// exclusion indexes (primary keys and UNIQUE constraints included),
	// its foreign keys and the foreign keys of other relations that
	// reference it. Whether a write passes them answers a question about
	// the values they compare (see ConstraintKind).
	Constraints []Constraint
	// Triggers are the relation's triggers other than PostgreSQL's own
	// (foreign keys' RI triggers) and disabled ones: row, statement,
	// constraint and INSTEAD OF triggers, in name order. Their functions
	// can read anything and fail a write for any reason.
	Triggers []Trigger
}

// ColumnAt names a column by relation OID and attnum.
type ColumnAt struct {
	Rel uint32
	Num int16
}

// Trigger events (Trigger.Events).
const (
	TriggerInsert byte = 1 << iota
	TriggerUpdate
	TriggerDelete
	TriggerTruncate
)

// Trigger is one user trigger of a relation.
type Trigger struct {
	Name string
	// Function is the trigger function, "schema.name".
	Function string
	// Events is what fires it: TriggerInsert, TriggerUpdate, ... or'ed.
	Events byte
}

// ConstraintKind says what a Constraint compares.
type ConstraintKind byte

const (
	// ConstraintCheck: a CHECK expression over the row's own columns.
	ConstraintCheck ConstraintKind = 'c'
	// ConstraintUnique: a unique index (a primary key, a UNIQUE
	// constraint or CREATE UNIQUE INDEX): the row's key against every
	// other row's.
	ConstraintUnique ConstraintKind = 'u'
	// ConstraintExclusion: an exclusion constraint, the same with other
	// operators.
	ConstraintExclusion ConstraintKind = 'x'
	// ConstraintForeignKey: the relation's foreign key: the row's key
	// against the referenced relation's (Ref, RefColumns).
	ConstraintForeignKey ConstraintKind = 'f'
	// ConstraintReferenced: another relation's foreign key referencing
	// this one (Ref, RefColumns are the referencing side): deleting or
	// re-keying a row looks for rows that reference it.
	ConstraintReferenced ConstraintKind = 'r'
	// ConstraintIndex: a plain index whose expressions or predicate call
	// Functions (computed for every row written; loaded for those only).
	ConstraintIndex ConstraintKind = 'i'
)

// Constraint is one constraint or index a write to its relation is
// checked against.
type Constraint struct {
	Kind ConstraintKind
	// Name is the constraint's or index's name, for messages.
	Name string
	// Columns are the attnums of the relation's columns it reads (for an
	// index: key columns and those its expressions and predicate read),
	// in order.
	Columns []int16
	// Validated is false for a CHECK or foreign key added NOT VALID:
	// rows already there may break it, and any UPDATE of them tests it.
	Validated bool
	// Ref and RefColumns are, for ConstraintForeignKey, the referenced
	// relation and columns; for ConstraintReferenced, the referencing
	// ones.
	Ref        uint32
	RefColumns []int16
	// Functions are the functions (SQL or procedural language, as
	// "schema.name") its expression calls, directly or through an
	// operator: they can read any table, beyond Columns.
	Functions []string
}

// Column returns the relation's column with the given attnum.
func (r *Relation) Column(attnum int16) (Column, bool) {
	lo, hi := 0, len(r.Columns)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if r.Columns[mid].Num < attnum {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if lo < len(r.Columns) && r.Columns[lo].Num == attnum {
		return r.Columns[lo], true
	}
	return Column{}, false
}

// ColumnByName returns the relation's column called name.
func (r *Relation) ColumnByName(name string) (Column, bool) {
	for _, c := range r.Columns {
		if c.Name == name {
			return c, true
		}
	}
	return Column{}, false
}

// Role is one pg_roles entry. Roles belong to the Snapshot: callers must not
// modify them.
type Role struct {
	OID      uint32
	Name     string
	CanLogin bool // rolcanlogin
	// Inherit is rolinherit: whether the role uses the privileges of the
	// roles it is a member of without SET ROLE. MemberOf lists memberships
	// regardless of it.
	Inherit bool
	// MemberOf names every role this one is a member of, directly or
	// through other roles (pg_auth_members, followed transitively), sorted,
	// not including the role itself.
	MemberOf []string
}

// IsMemberOf reports whether the role is name or a (transitive) member of
// it.
func (r *Role) IsMemberOf(name string) bool {
	if r.Name == name {
		return true
	}
	for _, m := range r.MemberOf {
		if m == name {
			return true
		}
	}
	return false
}

// Function is one pg_proc entry (functions, procedures, aggregates and
// window functions). Functions belong to the Snapshot: callers must not
// modify them. Function bodies (prosrc) are never loaded.
type Function struct {
	OID    uint32
	Schema string
	Name   string
	// Kind is prokind: 'f' function, 'p' procedure, 'a' aggregate, 'w'
	// window function.
	Kind byte
	// Args is pg_get_function_identity_arguments, e.g. "a integer, b text".
	Args string
	// ArgTypes are the input argument types (proargtypes).
	ArgTypes []uint32
	// Result is pg_get_function_result, e.g. "integer", "SETOF record" or
	// "TABLE(id integer)"; empty for procedures.
	Result string
	// ResultType is prorettype.
	ResultType uint32
	// ReturnsSet is proretset.
	ReturnsSet bool
	// Lang is the language name (pg_language.lanname): "internal", "c",
	// "sql", "plpgsql", ...
	Lang string
	// Volatile is provolatile: 'i' immutable, 's' stable, 'v' volatile.
	Volatile byte
	// SecurityDefiner is prosecdef: the function runs with its owner's
	// privileges.
	SecurityDefiner bool
	// rev is the pg_proc row's version (xmin): it changes when the
	// function is replaced (its body is not loaded), and with it the
	// snapshot's Version.
	rev string
}
