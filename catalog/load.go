package catalog

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// The catalog queries. Each reads one catalog in one statement, whatever
// the number of tables. Only pg_catalog is read: no user table, no function
// body (prosrc), no statistics. Names are schema-qualified, and the load
// transaction pins search_path to pg_catalog so operators resolve there too.
//
// Relations of the kinds in relKinds are loaded; temporary relations
// (relpersistence 't') are not: they belong to one session.
const (
	relKinds = `('r','p','v','m','f','c','S')`

	queryRelations = `
SELECT c.oid, n.nspname, c.relname, c.relkind, c.relhasrules AND c.relkind NOT IN ('v','m'),
       c.relhastriggers AND c.relkind = 'v',
       COALESCE(c.reloptions && '{check_option=local,check_option=cascaded}'::pg_catalog.text[], false),
       c.relrowsecurity,
       CASE WHEN c.relkind = 'p' THEN ARRAY(
         -- the columns the partition key reads: its plain columns
         -- (partattrs) and those its expressions read (pg_depend)
         SELECT k FROM (
           SELECT pg_catalog.unnest(pt.partattrs::pg_catalog.int2[]) AS k
           FROM pg_catalog.pg_partitioned_table pt WHERE pt.partrelid = c.oid
           UNION
           SELECT d.objsubid::pg_catalog.int2 FROM pg_catalog.pg_depend d
           WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.refclassid = d.classid
             AND d.objid = c.oid AND d.refobjid = c.oid AND d.objsubid > 0 AND d.refobjsubid = 0
             AND d.deptype = 'i') keys
         WHERE k > 0 ORDER BY 1) END
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ` + relKinds + ` AND c.relpersistence <> 't'`

	// User triggers (RI triggers are internal), with their function's
	// name and the events that fire them (tgtype bits 2-5: INSERT,
	// DELETE, UPDATE, TRUNCATE).
	queryTriggers = `
SELECT t.tgrelid, t.tgname, n.nspname || '.' || p.proname,
       (t.tgtype::pg_catalog.int4 & 4 <> 0), (t.tgtype::pg_catalog.int4 & 16 <> 0),
       (t.tgtype::pg_catalog.int4 & 8 <> 0), (t.tgtype::pg_catalog.int4 & 32 <> 0)
FROM pg_catalog.pg_trigger t
JOIN pg_catalog.pg_proc p ON p.oid = t.tgfoid
JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
WHERE NOT t.tgisinternal AND t.tgenabled <> 'D'
ORDER BY 1, 2`

	// The columns row-level security policies read: their expressions'
	// normal dependencies (the policy's own dependency on its table is
	// 'a'; refobjsubid 0 with 'n' is a whole-row reference).
	queryPolicyReads = `
SELECT DISTINCT p.polrelid, d.refobjid, d.refobjsubid::pg_catalog.int2
FROM pg_catalog.pg_policy p
JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_policy'::pg_catalog.regclass AND d.objid = p.oid
  AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.deptype = 'n'
ORDER BY 1, 2, 3`

	queryInherits = `
SELECT inhrelid, inhparent
FROM pg_catalog.pg_inherits
ORDER BY inhrelid, inhseqno`

	// The _RETURN rule of views and materialized views holds their
	// query; any other rule of theirs (ON INSERT ... DO INSTEAD) is
	// reported as such (HasRules). Tables' rules show in relhasrules.
	queryViewRules = `
SELECT r.ev_class, r.rulename = '_RETURN' AND r.ev_type = '1',
       CASE WHEN r.rulename = '_RETURN' AND r.ev_type = '1' THEN r.ev_action::pg_catalog.text ELSE '' END,
       CASE WHEN r.rulename = '_RETURN' AND r.ev_type = '1' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
            THEN pg_catalog.pg_get_viewdef(r.ev_class) ELSE '' END
FROM pg_catalog.pg_rewrite r
JOIN pg_catalog.pg_class c ON c.oid = r.ev_class
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('v','m') AND c.relpersistence <> 't'`

	queryRoles = `
SELECT oid, rolname, rolcanlogin, rolinherit
FROM pg_catalog.pg_roles`

	queryMembers = `
SELECT roleid, member
FROM pg_catalog.pg_auth_members`

	// User-defined operators and casts (OIDs from FirstNormalObjectId)
	// whose function is written in SQL or a procedural language: such a
	// function can read any table, and the query analysis must not take
	// the operator or cast for the built-in one. Operators and casts of
	// C functions (citext, pg_trgm, PostGIS...) are left out: they
	// compute from their operands. Names only: the analysis does not
	// resolve types.
	queryUserOperators = `
SELECT DISTINCT o.oprname FROM pg_catalog.pg_operator o
JOIN pg_catalog.pg_proc p ON p.oid = o.oprcode
JOIN pg_catalog.pg_language l ON l.oid = p.prolang
WHERE o.oid >= 16384 AND l.lanname NOT IN ('internal', 'c') ORDER BY 1`
	// Casts: the target type's name and those of the domains over it
	// (a cast to a domain applies the cast to its base type), and
	// whether the cast applies without being written (AS IMPLICIT or AS
	// ASSIGNMENT).
	queryUserCasts = `
WITH user_casts AS (
  SELECT c.casttarget, c.castcontext, c.castsource FROM pg_catalog.pg_cast c
  JOIN pg_catalog.pg_proc p ON p.oid = c.castfunc
  JOIN pg_catalog.pg_language l ON l.oid = p.prolang
  WHERE c.oid >= 16384 AND l.lanname NOT IN ('internal', 'c'))
SELECT DISTINCT t.typname, u.castcontext <> 'e',
       pg_catalog.format_type(u.castsource, NULL) || ' to ' || pg_catalog.format_type(u.casttarget, NULL)
FROM user_casts u
JOIN pg_catalog.pg_type t ON t.oid = u.casttarget OR (t.typtype = 'd' AND t.typbasetype = u.casttarget)
ORDER BY 1, 2, 3`

	queryFunctions = `
SELECT p.oid, n.nspname, p.proname, p.prokind,
       COALESCE(pg_catalog.pg_get_function_identity_arguments(p.oid), ''),
       p.proargtypes::pg_catalog.oid[],
       COALESCE(pg_catalog.pg_get_function_result(p.oid), ''),
       p.prorettype, p.proretset, l.lanname, p.provolatile, p.prosecdef, p.xmin::pg_catalog.text
FROM pg_catalog.pg_proc p
JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
JOIN pg_catalog.pg_language l ON l.oid = p.prolang`
)

const queryColumns = `
SELECT a.attrelid, a.attnum, a.attname, a.atttypid, a.atttypmod,
       pg_catalog.format_type(a.atttypid, a.atttypmod), a.attgenerated <> '',
       CASE WHEN a.attgenerated <> '' THEN ARRAY(
         -- the columns the generation expression reads: dependencies of
         -- its pg_attrdef entry (as PostgreSQL 15 records them) or of the
         -- column itself (the form some releases use); both are asked
         SELECT DISTINCT d.refobjsubid::pg_catalog.int2 FROM pg_catalog.pg_depend d
         WHERE d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.refobjid = a.attrelid
           AND d.refobjsubid > 0 AND d.refobjsubid <> a.attnum
           AND ((d.classid = 'pg_catalog.pg_attrdef'::pg_catalog.regclass AND d.objid IN (
                  SELECT ad.oid FROM pg_catalog.pg_attrdef ad WHERE ad.adrelid = a.attrelid AND ad.adnum = a.attnum))
             OR (d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objid = a.attrelid AND d.objsubid = a.attnum))
         ORDER BY 1) END
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
WHERE c.relkind IN ` + relKinds + ` AND c.relpersistence <> 't'
  AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum`

// The constraints a write is checked against: CHECK constraints and
// foreign keys (pg_constraint), and unique and exclusion indexes
// (pg_index: primary keys, UNIQUE and EXCLUDE constraints and plain
// unique indexes alike), with the columns an index's key, expressions
// and predicate read (indkey and the index's pg_depend entries).
var queryConstraints = `
SELECT con.conrelid, con.contype, con.conname, COALESCE(con.conkey, '{}'), con.convalidated,
       con.confrelid, COALESCE(con.confkey, '{}'),
       ` + functionsOf(`'pg_catalog.pg_constraint'::pg_catalog.regclass`, `con.oid`) + `
FROM pg_catalog.pg_constraint con
WHERE con.conrelid <> 0 AND con.contype IN ('c', 'f')
UNION ALL
SELECT i.indrelid, (CASE WHEN i.indisunique THEN 'u' WHEN i.indisexclusion THEN 'x' ELSE 'i' END)::pg_catalog."char", ic.relname,
       ARRAY(SELECT k FROM (
         SELECT pg_catalog.unnest(i.indkey::pg_catalog.int2[]) AS k
         UNION
         SELECT d.refobjsubid::pg_catalog.int2 FROM pg_catalog.pg_depend d
         WHERE (i.indexprs IS NOT NULL OR i.indpred IS NOT NULL)
           AND d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.refclassid = d.classid
           AND d.objid = i.indexrelid AND d.refobjid = i.indrelid AND d.refobjsubid > 0) keys
         WHERE k > 0 ORDER BY 1),
       true, 0, '{}',
       ` + functionsOf(`'pg_catalog.pg_class'::pg_catalog.regclass`, `i.indexrelid`) + `
FROM pg_catalog.pg_index i
JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
-- user tables only: TOAST tables' and the system catalogs' indexes are
-- half of all and never a restricted write's
WHERE ic.relnamespace NOT IN ('pg_catalog'::pg_catalog.regnamespace, 'pg_toast'::pg_catalog.regnamespace)
  AND ic.relpersistence <> 't'
  AND (i.indisunique OR i.indisexclusion OR ((i.indexprs IS NOT NULL OR i.indpred IS NOT NULL) AND EXISTS (
  SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objid = i.indexrelid
    AND d.refclassid IN ('pg_catalog.pg_proc'::pg_catalog.regclass, 'pg_catalog.pg_operator'::pg_catalog.regclass))))
ORDER BY 1, 3, 2`

// functionsOf is a query expression: the functions written in SQL or a
// procedural language that catalog object (class, oid) calls, directly or
// through an operator, as "schema.name" (pg_depend; built-in functions
// are pinned and never listed, C functions compute from their arguments).
// Its own aliases are d, o, p, n and l: oid must not use them. Each
// branch joins by OID, so a row costs a few index lookups.
func functionsOf(class, oid string) string {
	return `ARRAY(SELECT n.nspname || '.' || p.proname FROM pg_catalog.pg_depend d
         JOIN pg_catalog.pg_proc p ON p.oid = d.refobjid
         JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
         JOIN pg_catalog.pg_language l ON l.oid = p.prolang
         WHERE d.classid = ` + class + ` AND d.objid = ` + oid + `
           AND d.refclassid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND l.lanname NOT IN ('internal', 'c')
         UNION
         SELECT n.nspname || '.' || p.proname FROM pg_catalog.pg_depend d
         JOIN pg_catalog.pg_operator o ON o.oid = d.refobjid
         JOIN pg_catalog.pg_proc p ON p.oid = o.oprcode
         JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
         JOIN pg_catalog.pg_language l ON l.oid = p.prolang
         WHERE d.classid = ` + class + ` AND d.objid = ` + oid + `
           AND d.refclassid = 'pg_catalog.pg_operator'::pg_catalog.regclass AND l.lanname NOT IN ('internal', 'c')
         ORDER BY 1)`
}

// queryDomainFunctions: the functions domains' CHECK constraints and
// defaults call, for each domain and each domain over it, by the
// domain's name (typname) and its format_type.
var queryDomainFunctions = `
WITH RECURSIVE dom AS (
  SELECT t.oid, t.oid AS base FROM pg_catalog.pg_type t WHERE t.typtype = 'd'
  UNION ALL
  SELECT dom.oid, b.typbasetype FROM dom JOIN pg_catalog.pg_type b ON b.oid = dom.base WHERE b.typtype = 'd')
SELECT t.typname, pg_catalog.format_type(t.oid, NULL), fs.f
FROM dom
JOIN pg_catalog.pg_type t ON t.oid = dom.oid
JOIN pg_catalog.pg_constraint c ON c.contypid = dom.base,
LATERAL pg_catalog.unnest(` + functionsOf(`'pg_catalog.pg_constraint'::pg_catalog.regclass`, `c.oid`) + `) AS fs(f)
UNION
SELECT t.typname, pg_catalog.format_type(t.oid, NULL), fs.f
FROM dom
JOIN pg_catalog.pg_type t ON t.oid = dom.oid,
LATERAL pg_catalog.unnest(` + functionsOf(`'pg_catalog.pg_type'::pg_catalog.regclass`, `dom.base`) + `) AS fs(f)
ORDER BY 1, 2, 3`

// queryDefaultFunctions: the functions columns' defaults and generation
// expressions call (a query of its own: as a column of queryColumns it
// changed that query's plan, six times slower on 2,000 tables).
var queryDefaultFunctions = `
SELECT ad.adrelid, ad.adnum, fs.f
FROM pg_catalog.pg_attrdef ad,
LATERAL pg_catalog.unnest(` + functionsOf(`'pg_catalog.pg_attrdef'::pg_catalog.regclass`, `ad.oid`) + `) AS fs(f)
ORDER BY 1, 2, 3`

// queryPolicyFunctions: the functions row-level security policies call.
var queryPolicyFunctions = `
SELECT pol.polrelid, fs.f
FROM pg_catalog.pg_policy pol,
LATERAL pg_catalog.unnest(` + functionsOf(`'pg_catalog.pg_policy'::pg_catalog.regclass`, `pol.oid`) + `) AS fs(f)
ORDER BY 1, 2`

// Load reads the catalog of the database conn is connected to and returns
// its snapshot. database must name that database (it is checked against
// current_database(), so a snapshot can never be filed under the wrong
// database); empty means whatever conn is connected to.
//
// All catalogs are read in one REPEATABLE READ, READ ONLY transaction, so
// the snapshot is consistent; conn must not be in a transaction. The role
// needs no privilege on any user table. If it cannot read pg_rewrite (an
// installation that revoked it from PUBLIC), the snapshot has no view
// lineage: every view column's Origin is unknown, and Warnings says so.
//
// Load never reads user tables, function bodies or statistics.
//
// Some catalog functions the load calls (pg_get_viewdef) read the
// catalogs as they are now, not as the transaction's snapshot shows
// them: a view dropped while the load runs fails it ("could not open
// relation with OID ..."). Such a load is tried again, up to
// loadAttempts times in all.
func Load(ctx context.Context, conn *pgx.Conn, database string) (*Snapshot, error) {
	s, err := load(ctx, conn, database)
	for attempt := 1; err != nil && attempt < loadAttempts && racedDDL(err) && ctx.Err() == nil; attempt++ {
		s, err = load(ctx, conn, database)
	}
	if err != nil {
		if database == "" {
			return nil, fmt.Errorf("catalog: load: %w", err)
		}
		return nil, fmt.Errorf("catalog: load database %q: %w", database, err)
	}
	return s, nil
}

// loadAttempts bounds the loads Load tries when concurrent DDL fails one.
const loadAttempts = 5

// racedDDL reports an error a catalog function raises on an object
// dropped since the load's snapshot was taken: internal_error ("could
// not open relation with OID", "cache lookup failed") or an undefined
// object.
func racedDDL(err error) bool {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return false
	}
	switch pe.Code {
	case "XX000", "42P01", "42704", "42883":
		return true
	}
	return false
}

func load(ctx context.Context, conn *pgx.Conn, database string) (*Snapshot, error) {
	// BEGIN inside a transaction is only a warning, and the final ROLLBACK
	// would then end the caller's transaction.
	if st := conn.PgConn().TxStatus(); st != 'I' {
		return nil, fmt.Errorf("connection is in a transaction (status %c)", st)
	}
	loadedAt := time.Now()
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback(context.Background())

	var current string
	// JIT compilation would cost more than the queries it compiles
	// (about 90 ms each for those with many subqueries, on 2,000 tables).
	err = tx.QueryRow(ctx, `SELECT pg_catalog.current_database(),
		pg_catalog.set_config('search_path', 'pg_catalog', true),
		pg_catalog.set_config('jit', 'off', true)`).Scan(&current, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("start: %w", err)
	}
	if database == "" {
		database = current
	} else if database != current {
		return nil, fmt.Errorf("connection is to database %q", current)
	}

	raw := &rawCatalog{origins: make(map[uint32][]viewOrigin)}
	steps := []struct {
		what string
		read func(context.Context, pgx.Tx, *rawCatalog) error
	}{
		{"relations", readRelations},
		{"columns", readColumns},
		{"inheritance", readInherits},
		{"constraints", readConstraints},
		{"triggers", readTriggers},
		{"row-level security policies", readPolicyReads},
		{"functions of policies and domains", readCalledFunctions},
		{"view queries", readViewRules},
		{"roles", readRoles},
		{"role memberships", readMembers},
		{"functions", readFunctions},
		{"operators and casts", readOperatorsAndCasts},
	}
	for _, step := range steps {
		if err := step.read(ctx, tx, raw); err != nil {
			return nil, fmt.Errorf("read %s: %w", step.what, err)
		}
	}
	return newSnapshot(database, loadedAt, raw), nil
}

// relsByOID indexes the relations read so far by OID, for the readers
// that attach rows of other catalogs to them.
func (raw *rawCatalog) relsByOID() map[uint32]*Relation {
	byOID := make(map[uint32]*Relation, len(raw.rels))
	for _, r := range raw.rels {
		byOID[r.OID] = r
	}
	return byOID
}

func readRelations(ctx context.Context, tx pgx.Tx, raw *rawCatalog) error {
	rows, _ := tx.Query(ctx, queryRelations)
	var r Relation
	_, err := pgx.ForEachRow(rows, []any{&r.OID, &r.Schema, &r.Name, &r.Kind, &r.HasRules, &r.ViewTriggers, &r.CheckOption, &r.RowSecurity, &r.PartitionKey}, func() error {
		rel := r
		rel.PartitionKey = slices.Clone(r.PartitionKey) // the scan may reuse it
		raw.rels = append(raw.rels, &rel)
		return nil
	})
	return err
}

// readColumns attaches each relation's columns; rows arrive by relation and
// attnum. readRelations must have run.
func readColumns(ctx context.Context, tx pgx.Tx, raw *rawCatalog) error {
	byOID := raw.relsByOID()
	rows, _ := tx.Query(ctx, queryColumns)
	var rel uint32
	var c Column
	_, err := pgx.ForEachRow(rows, []any{&rel, &c.Num, &c.Name, &c.TypeOID, &c.TypeMod, &c.TypeName, &c.Generated, &c.GeneratedFrom}, func() error {
		// Same snapshot, same filter: the relation is always there.
		if r := byOID[rel]; r != nil {
			col := c
			col.GeneratedFrom = slices.Clone(c.GeneratedFrom) // the scan may reuse it
			r.Columns = append(r.Columns, col)
		}
		return nil
	})
	return err
}

// readConstraints attaches each relation's constraints, and each
// foreign key to the relation it references too (as
// ConstraintReferenced). readRelations must have run.
func readConstraints(ctx context.Context, tx pgx.Tx, raw *rawCatalog) error {
	byOID := raw.relsByOID()
	rows, _ := tx.Query(ctx, queryConstraints)
	var rel, ref uint32
	var kind byte
	var c Constraint
	_, err := pgx.ForEachRow(rows, []any{&rel, &kind, &c.Name, &c.Columns, &c.Validated, &ref, &c.RefColumns, &c.Functions}, func() error {
		r := byOID[rel]
		if r == nil {
			return nil // a temporary table's
		}
		con := c
		con.Kind = ConstraintKind(kind)
		con.Columns = slices.Clone(c.Columns) // the scan may reuse them
		con.Functions = slices.Clone(c.Functions)
		con.RefColumns = nil
		if con.Kind != ConstraintForeignKey {
			r.Constraints = append(r.Constraints, con)
			return nil
		}
		con.Ref, con.RefColumns = ref, slices.Clone(c.RefColumns)
		r.Constraints = append(r.Constraints, con)
		if target := byOID[ref]; target != nil {
			target.Constraints = append(target.Constraints, Constraint{
				Kind: ConstraintReferenced, Name: con.Name, Columns: con.RefColumns,
				Validated: con.Validated, Ref: rel, RefColumns: con.Columns})
		}
		return nil
	})
	return err
}

// readTriggers attaches each relation's user triggers. readRelations
// must have run.
func readTriggers(ctx context.Context, tx pgx.Tx, raw *rawCatalog) error {
	byOID := raw.relsByOID()
	rows, _ := tx.Query(ctx, queryTriggers)
	var rel uint32
	var tg Trigger
	var ins, upd, del, trunc bool
	_, err := pgx.ForEachRow(rows, []any{&rel, &tg.Name, &tg.Function, &ins, &upd, &del, &trunc}, func() error {
		if r := byOID[rel]; r != nil {
			t := tg
			t.Events = flag(ins, TriggerInsert) | flag(upd, TriggerUpdate) | flag(del, TriggerDelete) | flag(trunc, TriggerTruncate)
			r.Triggers = append(r.Triggers, t)
		}
		return nil
	})
	return err
}

// flag is bit when on is true, else 0.
func flag(on bool, bit byte) byte {
	if on {
		return bit
	}
	return 0
}

// readPolicyReads attaches the columns each relation's row-level
// security policies read. readRelations must have run.
func readPolicyReads(ctx context.Context, tx pgx.Tx, raw *rawCatalog) error {
	byOID := raw.relsByOID()
	rows, _ := tx.Query(ctx, queryPolicyReads)
	var rel uint32
	var at ColumnAt
	_, err := pgx.ForEachRow(rows, []any{&rel, &at.Rel, &at.Num}, func() error {
		if r := byOID[rel]; r != nil {
			r.PolicyReads = append(r.PolicyReads, at)
		}
		return nil
	})
	return err
}

// readCalledFunctions attaches the functions each relation's row-level
// security policies and columns' defaults call, and collects those
// domains' CHECKs and defaults call. readColumns must have run.
func readCalledFunctions(ctx context.Context, tx pgx.Tx, raw *rawCatalog) error {
	byOID := raw.relsByOID()
	rows, _ := tx.Query(ctx, queryPolicyFunctions)
	var rel uint32
	var fn string
	_, err := pgx.ForEachRow(rows, []any{&rel, &fn}, func() error {
		if r := byOID[rel]; r != nil {
			r.PolicyFunctions = append(r.PolicyFunctions, fn)
		}
		return nil
	})
	if err != nil {
		return err
	}
	rows, _ = tx.Query(ctx, queryDefaultFunctions)
	var num int16
	_, err = pgx.ForEachRow(rows, []any{&rel, &num, &fn}, func() error {
		if r := byOID[rel]; r != nil {
			if i := slices.IndexFunc(r.Columns, func(c Column) bool { return c.Num == num }); i >= 0 {
				r.Columns[i].DefaultFunctions = append(r.Columns[i].DefaultFunctions, fn)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	raw.domainFuncs = map[string][]string{}
	rows, _ = tx.Query(ctx, queryDomainFunctions)
	var typname, formatted string
	_, err = pgx.ForEachRow(rows, []any{&typname, &formatted, &fn}, func() error {
		for _, k := range []string{typname, formatted} {
			if !slices.Contains(raw.domainFuncs[k], fn) {
				raw.domainFuncs[k] = append(raw.domainFuncs[k], fn)
			}
		}
		return nil
	})
	return err
}

func readInherits(ctx context.Context, tx pgx.Tx, raw *rawCatalog) error {
	rows, _ := tx.Query(ctx, queryInherits)
	var in inheritance
	_, err := pgx.ForEachRow(rows, []any{&in.child, &in.parent}, func() error {
		raw.inherits = append(raw.inherits, in)
		return nil
	})
	return err
}

// readViewRules parses each view's query for its column lineage. A query
// that cannot be parsed leaves that view without lineage; a role that may
// not read pg_rewrite leaves every view without it. Both are warnings, not
// errors: the columns concerned simply have no origin.
func readViewRules(ctx context.Context, tx pgx.Tx, raw *rawCatalog) error {
	names := make(map[uint32]string, len(raw.rels))
	views := make(map[uint32]*Relation, len(raw.rels))
	for _, r := range raw.rels {
		if r.Kind == KindView || r.Kind == KindMatView {
			names[r.OID] = r.Schema + "." + r.Name
			views[r.OID] = r
		}
	}
	// A failed statement aborts the transaction; the savepoint keeps the
	// rest of the load going.
	sp, err := tx.Begin(ctx)
	if err != nil {
		return err
	}
	rows, _ := sp.Query(ctx, queryViewRules)
	var oid uint32
	var query bool
	var tree, def string
	_, err = pgx.ForEachRow(rows, []any{&oid, &query, &tree, &def}, func() error {
		if !query {
			if v := views[oid]; v != nil {
				v.HasRules = true
			}
			return nil
		}
		if v := views[oid]; v != nil {
			v.Definition = def
		}
		origins, err := parseViewOrigins(tree)
		if err != nil {
			raw.warnings = append(raw.warnings, fmt.Sprintf("view %s: cannot read its query (%v); column origins unknown", names[oid], err))
			return nil
		}
		raw.origins[oid] = origins
		return nil
	})
	if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok && pgErr.Code == "42501" {
		clear(raw.origins)
		for _, v := range views {
			// Whether a view has rules besides its query is unknown too:
			// count it as having some (writes to it are refused).
			v.Definition, v.HasRules = "", true
		}
		raw.warnings = append(raw.warnings, "pg_rewrite is not readable (insufficient_privilege); every view column's origin is unknown")
		return sp.Rollback(ctx)
	}
	if err != nil {
		return err
	}
	return sp.Commit(ctx)
}

func readRoles(ctx context.Context, tx pgx.Tx, raw *rawCatalog) error {
	rows, _ := tx.Query(ctx, queryRoles)
	var r Role
	_, err := pgx.ForEachRow(rows, []any{&r.OID, &r.Name, &r.CanLogin, &r.Inherit}, func() error {
		role := r
		raw.roles = append(raw.roles, &role)
		return nil
	})
	return err
}

func readMembers(ctx context.Context, tx pgx.Tx, raw *rawCatalog) error {
	rows, _ := tx.Query(ctx, queryMembers)
	var m membership
	_, err := pgx.ForEachRow(rows, []any{&m.role, &m.member}, func() error {
		raw.members = append(raw.members, m)
		return nil
	})
	return err
}

func readOperatorsAndCasts(ctx context.Context, tx pgx.Tx, raw *rawCatalog) error {
	var err error
	rows, _ := tx.Query(ctx, queryUserOperators)
	if raw.userOps, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
		return err
	}
	rows, _ = tx.Query(ctx, queryUserCasts)
	var name, what string
	var implicit bool
	_, err = pgx.ForEachRow(rows, []any{&name, &implicit, &what}, func() error {
		raw.userCasts = append(raw.userCasts, name)
		if implicit && raw.implicitCast == "" {
			raw.implicitCast = what
		}
		return nil
	})
	return err
}

func readFunctions(ctx context.Context, tx pgx.Tx, raw *rawCatalog) error {
	rows, _ := tx.Query(ctx, queryFunctions)
	var f Function
	_, err := pgx.ForEachRow(rows, []any{&f.OID, &f.Schema, &f.Name, &f.Kind, &f.Args, &f.ArgTypes,
		&f.Result, &f.ResultType, &f.ReturnsSet, &f.Lang, &f.Volatile, &f.SecurityDefiner, &f.rev}, func() error {
		fn := f
		f.ArgTypes = nil // scanned into afresh for the next row
		raw.funcs = append(raw.funcs, &fn)
		return nil
	})
	return err
}
