package catalog

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Snapshot is one database's catalog as Load read it in a single
// transaction. It is immutable once built and safe for concurrent use; the
// pointers and slices it returns belong to it and must not be modified.
type Snapshot struct {
	// Database is the database the snapshot describes.
	Database string
	// LoadedAt is when the load started; changes committed after it are not
	// in the snapshot.
	LoadedAt time.Time
	// Version names the snapshot's content: a hash of everything it
	// holds (relations, columns, view lineage and rules, inheritance,
	// roles and memberships, functions and their row versions).
	// Snapshots of an unchanged catalog (a periodic reload, a TRUNCATE
	// or VACUUM FULL elsewhere) share it; a change gives a new one, so
	// what was analysed under an older Version may no longer hold.
	Version string

	rels     map[uint32]*relEntry
	byName   map[qualName]*relEntry
	ordered  []*relEntry // by schema, name: the order Columns reports
	roles    map[string]*Role
	funcs    map[qualName][]*Function
	warnings []string
	userOps  map[string]bool // names of user-defined operators
	casts    map[string]bool // target type names of user-defined casts
	implicit string          // raw.implicitCast
	domains  map[string][]string
}

type qualName struct{ schema, name string }

// relEntry is a Relation with the indexes Origin needs.
type relEntry struct {
	rel *Relation
	// parents are the direct parents (pg_inherits), by inhseqno;
	// children the direct children (partitions, inheritance children).
	parents, children []uint32
	// origins, for views and materialized views, is indexed by attnum-1;
	// nil when the view's query could not be read.
	origins []viewOrigin
}

// maxDepth bounds the view-over-view and child-to-parent chains Origin
// follows. PostgreSQL itself rejects cycles when a view is queried and never
// creates inheritance cycles; the bound only protects against a corrupt or
// hostile catalog.
const maxDepth = 100

// rawCatalog is what Load reads, before indexing.
type rawCatalog struct {
	rels     []*Relation
	inherits []inheritance // by child, inhseqno
	origins  map[uint32][]viewOrigin
	roles    []*Role
	members  []membership
	funcs    []*Function
	warnings []string
	// userOps and userCasts: names of user-defined operators, and of the
	// target types of user-defined casts.
	userOps, userCasts []string
	// implicitCast describes a user-defined cast through such a function
	// that applies without being written ("" if none).
	implicitCast string
	// domainFuncs: for each domain (by typname and by format_type), the
	// functions its CHECK constraints and DEFAULT, or those of the
	// domains under it, call.
	domainFuncs map[string][]string
}

type inheritance struct{ child, parent uint32 }

// membership is one pg_auth_members row: member is a member of role.
type membership struct{ role, member uint32 }

// newSnapshot indexes raw. It takes ownership of raw's contents.
func newSnapshot(database string, loadedAt time.Time, raw *rawCatalog) *Snapshot {
	s := &Snapshot{
		Database: database,
		LoadedAt: loadedAt,
		Version:  contentVersion(raw),
		rels:     make(map[uint32]*relEntry, len(raw.rels)),
		byName:   make(map[qualName]*relEntry, len(raw.rels)),
		ordered:  make([]*relEntry, 0, len(raw.rels)),
		roles:    make(map[string]*Role, len(raw.roles)),
		funcs:    make(map[qualName][]*Function),
		userOps:  setOf(raw.userOps),
		casts:    setOf(raw.userCasts),
		implicit: raw.implicitCast,
		domains:  raw.domainFuncs,
		warnings: raw.warnings,
	}
	for _, r := range raw.rels {
		e := &relEntry{rel: r}
		s.rels[r.OID] = e
		s.byName[qualName{r.Schema, r.Name}] = e
		s.ordered = append(s.ordered, e)
	}
	slices.SortFunc(s.ordered, func(a, b *relEntry) int {
		return cmp.Or(cmp.Compare(a.rel.Schema, b.rel.Schema), cmp.Compare(a.rel.Name, b.rel.Name))
	})
	for _, in := range raw.inherits {
		e := s.rels[in.child]
		if e == nil || s.rels[in.parent] == nil {
			continue // an index or TOAST relation, or a temporary one
		}
		if len(e.parents) == 0 {
			e.rel.Parent = in.parent
		}
		e.parents = append(e.parents, in.parent)
		s.rels[in.parent].children = append(s.rels[in.parent].children, in.child)
	}
	for oid, origins := range raw.origins {
		e := s.rels[oid]
		if e == nil {
			continue
		}
		if !viewShapeMatches(e.rel, origins) {
			s.warnings = append(s.warnings, fmt.Sprintf(
				"view %s.%s: its query has %d output columns for %d view columns; column origins unknown",
				e.rel.Schema, e.rel.Name, len(origins), len(e.rel.Columns)))
			continue
		}
		e.origins = origins
	}
	s.indexRoles(raw.roles, raw.members)
	for _, f := range raw.funcs {
		k := qualName{f.Schema, f.Name}
		s.funcs[k] = append(s.funcs[k], f)
	}
	for _, fs := range s.funcs {
		slices.SortFunc(fs, func(a, b *Function) int { return cmp.Compare(a.OID, b.OID) })
	}
	return s
}

// viewShapeMatches reports whether a view's query output lines up with its
// columns: one target entry per column, attnums 1..n (view columns cannot be
// dropped, so there are no gaps).
func viewShapeMatches(r *Relation, origins []viewOrigin) bool {
	if len(origins) != len(r.Columns) {
		return false
	}
	for i, c := range r.Columns {
		if int(c.Num) != i+1 {
			return false
		}
	}
	return true
}

// indexRoles fills s.roles, computing each role's transitive memberships.
// Memberships are followed breadth-first with a visited set, so a cycle
// (which PostgreSQL forbids, but a snapshot must not hang on) ends.
func (s *Snapshot) indexRoles(roles []*Role, members []membership) {
	byOID := make(map[uint32]*Role, len(roles))
	for _, r := range roles {
		byOID[r.OID] = r
		s.roles[r.Name] = r
	}
	groups := make(map[uint32][]uint32) // member -> roles it is directly a member of
	for _, m := range members {
		groups[m.member] = append(groups[m.member], m.role)
	}
	for _, r := range roles {
		seen := map[uint32]bool{r.OID: true}
		queue := append([]uint32(nil), groups[r.OID]...)
		var names []string
		for len(queue) > 0 {
			oid := queue[0]
			queue = queue[1:]
			if seen[oid] {
				continue
			}
			seen[oid] = true
			if g := byOID[oid]; g != nil {
				names = append(names, g.Name)
			}
			queue = append(queue, groups[oid]...)
		}
		slices.Sort(names)
		r.MemberOf = names
	}
}

// Relation returns the relation with the given OID, or nil.
func (s *Snapshot) Relation(oid uint32) *Relation {
	if e := s.rels[oid]; e != nil {
		return e.rel
	}
	return nil
}

// Descendants returns the partitions and inheritance children of
// relation oid, theirs, and so on: the relations a scan of it without ONLY
// reads after it. Each is listed once, parents before their children.
func (s *Snapshot) Descendants(oid uint32) []*Relation {
	if e := s.rels[oid]; e == nil || len(e.children) == 0 {
		return nil
	}
	var out []*Relation
	seen := map[uint32]bool{oid: true}
	queue := []uint32{oid}
	for depth := 0; len(queue) > 0 && depth <= maxDepth; depth++ {
		var next []uint32
		for _, o := range queue {
			if e := s.rels[o]; e != nil {
				for _, c := range e.children {
					if !seen[c] && s.rels[c] != nil {
						seen[c] = true
						out = append(out, s.rels[c].rel)
						next = append(next, c)
					}
				}
			}
		}
		queue = next
	}
	return out
}

// RelationByName returns the relation schema.name (exact, case-sensitive
// names as stored in the catalog), or nil.
func (s *Snapshot) RelationByName(schema, name string) *Relation {
	if e := s.byName[qualName{schema, name}]; e != nil {
		return e.rel
	}
	return nil
}

// Relations returns every relation in the snapshot, sorted by schema and
// name. The slice is the caller's; the relations are the snapshot's.
func (s *Snapshot) Relations() []*Relation {
	out := make([]*Relation, len(s.ordered))
	for i, e := range s.ordered {
		out[i] = e.rel
	}
	return out
}

// isBase reports whether a relation of kind k holds its own data, so its
// columns are origins rather than references to other columns.
func isBase(k byte) bool {
	switch k {
	case KindTable, KindPartitioned, KindForeign, KindSequence:
		return true
	}
	return false
}

// Origin resolves a result column, as RowDescription reports it (table OID,
// attribute number), to the base column it is a copy of:
//
//   - a column of a table, partitioned table, foreign table or sequence is
//     its own origin, except that a column a partition or inheritance child
//     shares with its parent resolves, by name, to the topmost ancestor
//     holding that name (attnums differ between parent and child when
//     columns were dropped or a partition was attached with another order);
//   - a view or materialized view column that is a plain reference to a
//     column resolves to that column's origin, through nested views;
//   - anything else — an expression or set-operation column of a view, a
//     view whose query could not be read (see Warnings), attnum 0 (a
//     whole-row reference) or a system column, a composite type, an
//     unknown OID — has no origin: ok is false. Callers fail closed.
//
// col is the base column. As a consistency check, each hop must keep the
// column's type; a change of type also gives ok false.
func (s *Snapshot) Origin(oid uint32, attnum int16) (ref ColumnRef, col Column, ok bool) {
	var typ uint32
	for depth := 0; depth < maxDepth; depth++ {
		e := s.rels[oid]
		if e == nil || attnum <= 0 {
			return ColumnRef{}, Column{}, false
		}
		c, found := e.rel.Column(attnum)
		if !found || (depth > 0 && c.TypeOID != typ) {
			return ColumnRef{}, Column{}, false
		}
		typ = c.TypeOID
		switch {
		case e.rel.Kind == KindView || e.rel.Kind == KindMatView:
			if int(attnum) > len(e.origins) {
				return ColumnRef{}, Column{}, false
			}
			o := e.origins[attnum-1]
			if o.tbl == 0 {
				return ColumnRef{}, Column{}, false
			}
			oid, attnum = o.tbl, o.col
		case isBase(e.rel.Kind):
			top, topCol, found := s.ancestor(e, c)
			if !found || topCol.TypeOID != typ {
				return ColumnRef{}, Column{}, false
			}
			return ColumnRef{top.rel.Schema, top.rel.Name, topCol.Name}, topCol, true
		default:
			return ColumnRef{}, Column{}, false
		}
	}
	return ColumnRef{}, Column{}, false
}

// WriteReaches reports what a write to relation oid can set off: rules
// (rewrite rules other than a view's query) and triggers on a view
// (INSTEAD OF), on oid itself or, for a view, on the relations its
// columns come from, through views over views (PostgreSQL rewrites a
// write to an updatable view into a write to its base relation, whose
// rules and triggers then apply).
func (s *Snapshot) WriteReaches(oid uint32) (rules, viewTriggers bool) {
	s.walkWrite(oid, false, func(e *relEntry) {
		rules = rules || e.rel.HasRules
		viewTriggers = viewTriggers || e.rel.ViewTriggers
		if (e.rel.Kind == KindView || e.rel.Kind == KindMatView) &&
			!slices.ContainsFunc(e.origins, func(o viewOrigin) bool { return o.tbl != 0 }) {
			// A view none of whose columns come from a relation (no
			// columns, expressions only, lineage unknown) may still
			// write through to one: count it as reaching rules.
			rules = true
		}
	})
	return rules, viewTriggers
}

// WrittenRelations returns the relations a write to relation oid goes
// through or puts or changes rows in: oid itself, the relations a view's
// columns come from (through views over views: PostgreSQL rewrites a
// write to an updatable view into one to the relation under it, whose
// triggers fire), and every descendant of those (partitions and
// inheritance children: an INSERT is routed to partitions, an UPDATE or
// DELETE without ONLY reaches children). Each is listed once, oid first;
// the constraints and triggers of all of them apply.
func (s *Snapshot) WrittenRelations(oid uint32) []*Relation {
	var out []*Relation
	s.walkWrite(oid, true, func(e *relEntry) { out = append(out, e.rel) })
	return out
}

// walkWrite visits, once each, relation oid and the relations a write to
// it reaches through views' column origins, and with children their
// descendants too.
func (s *Snapshot) walkWrite(oid uint32, children bool, visit func(*relEntry)) {
	seen := map[uint32]bool{}
	var walk func(oid uint32, depth int)
	walk = func(oid uint32, depth int) {
		e := s.rels[oid]
		if e == nil || seen[oid] || depth > maxDepth {
			return
		}
		seen[oid] = true
		visit(e)
		for _, o := range e.origins {
			if o.tbl != 0 {
				walk(o.tbl, depth+1)
			}
		}
		if children {
			for _, c := range e.children {
				walk(c, depth+1)
			}
		}
	}
	walk(oid, 0)
}

// ancestor climbs from column c of e through the parents that have a column
// of the same name, to the topmost one. When several parents of one
// relation hold the name (multiple inheritance merges them into one
// column), the origin is ambiguous: ok is false, and callers fail closed.
func (s *Snapshot) ancestor(e *relEntry, c Column) (*relEntry, Column, bool) {
	for range maxDepth {
		var next *relEntry
		var nextCol Column
		for _, p := range e.parents {
			pe := s.rels[p]
			if pe == nil {
				continue
			}
			if pc, ok := pe.rel.ColumnByName(c.Name); ok {
				if next != nil {
					return nil, Column{}, false
				}
				next, nextCol = pe, pc
			}
		}
		if next == nil {
			return e, c, true
		}
		e, c = next, nextCol
	}
	return nil, Column{}, false
}

// inherited reports whether e's column called name comes from a parent,
// i.e. whether some direct parent has a column of that name (PostgreSQL
// merges same-named columns of parent and child into one inherited column).
func (s *Snapshot) inherited(e *relEntry, name string) bool {
	for _, p := range e.parents {
		if pe := s.rels[p]; pe != nil {
			if _, ok := pe.rel.ColumnByName(name); ok {
				return true
			}
		}
	}
	return false
}

// Column looks up a base column by name: ok is true only when ref names a
// column that Origin can return, i.e. a column of a table, partitioned
// table, foreign table or sequence that is not inherited from a parent.
// View columns and the inherited columns of partitions are not base columns
// (use RelationByName to inspect them, and Origin to resolve them).
func (s *Snapshot) Column(ref ColumnRef) (Column, bool) {
	e := s.byName[qualName{ref.Schema, ref.Table}]
	if e == nil || !isBase(e.rel.Kind) {
		return Column{}, false
	}
	c, ok := e.rel.ColumnByName(ref.Column)
	if !ok || s.inherited(e, ref.Column) {
		return Column{}, false
	}
	return c, true
}

// Columns returns the base columns (as Column defines them) whose schema,
// table and column names match the three patterns, sorted by schema, table
// and attnum. A pattern matches a whole name; "*" matches any run of
// characters (including none) and every other character only itself, case
// sensitively. A schema pattern with a "*" never matches the system schemas
// pg_catalog and information_schema: name them literally to match them.
func (s *Snapshot) Columns(schemaPattern, tablePattern, columnPattern string) []ColumnRef {
	var out []ColumnRef
	schemaWild := strings.Contains(schemaPattern, "*")
	for _, e := range s.ordered {
		r := e.rel
		if !isBase(r.Kind) || !globMatch(schemaPattern, r.Schema) || !globMatch(tablePattern, r.Name) {
			continue
		}
		if schemaWild && isSystemSchema(r.Schema) {
			continue
		}
		for _, c := range r.Columns {
			if globMatch(columnPattern, c.Name) && !s.inherited(e, c.Name) {
				out = append(out, ColumnRef{r.Schema, r.Name, c.Name})
			}
		}
	}
	return out
}

func isSystemSchema(schema string) bool {
	return schema == "pg_catalog" || schema == "information_schema" ||
		strings.HasPrefix(schema, "pg_toast") || strings.HasPrefix(schema, "pg_temp_")
}

// globMatch reports whether name matches pattern, where "*" matches any
// run of bytes and everything else matches itself. It backtracks only to
// the last star, so it runs in O(len(pattern)*len(name)).
func globMatch(pattern, name string) bool {
	p, n := 0, 0
	star, mark := -1, 0
	for n < len(name) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, n
			p++
		case p < len(pattern) && pattern[p] == name[n]:
			p++
			n++
		case star >= 0:
			p = star + 1
			mark++
			n = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// Role returns the role called name.
func (s *Snapshot) Role(name string) (*Role, bool) {
	r, ok := s.roles[name]
	return r, ok
}

// Function returns the functions (all overloads, and procedures and
// aggregates of that name) schema.name, ordered by OID; nil when there are
// none.
func (s *Snapshot) Function(schema, name string) []*Function {
	return slices.Clone(s.funcs[qualName{schema, name}])
}

// DomainFunctions returns the functions (SQL or procedural language,
// "schema.name") the CHECK constraints and DEFAULT of the domain called
// name (a type name, or format_type's spelling of it) call, through
// domains under it too: a value cast to the domain, written into a column
// of it, or a column of it left to its default, runs them. Nil for other
// types.
func (s *Snapshot) DomainFunctions(name string) []string { return s.domains[name] }

// Warnings describes what made the snapshot less complete than the catalog,
// such as views whose query could not be read (their columns have no
// origin). The messages hold object names only, never values.
func (s *Snapshot) Warnings() []string {
	return slices.Clone(s.warnings)
}

// UserOperator reports whether a user-defined operator of this name
// exists (in any schema, for any types).
func (s *Snapshot) UserOperator(name string) bool { return s.userOps[name] }

// UserCastTarget reports whether a user-defined cast to a type of this
// name (pg_type.typname) exists.
func (s *Snapshot) UserCastTarget(typname string) bool { return s.casts[typname] }

// ImplicitUserCast describes ("text to json") a user-defined cast through
// a SQL or procedural function that PostgreSQL applies without it being
// written (AS IMPLICIT, AS ASSIGNMENT), or is "": such a cast can run
// wherever a value of its source type meets its target type, which the
// query analysis cannot tell.
func (s *Snapshot) ImplicitUserCast() string { return s.implicit }

func setOf(names []string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// Functions returns every function and procedure of the snapshot, in no
// particular order.
func (s *Snapshot) Functions() []*Function {
	var out []*Function
	for _, fs := range s.funcs {
		out = append(out, fs...)
	}
	return out
}
