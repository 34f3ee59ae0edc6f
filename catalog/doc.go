// Package catalog holds snapshots of upstream databases' catalogs: the
// relations and their columns, inheritance and partitioning, view column
// lineage, roles with their transitive memberships, and functions.
//
// The proxy uses a Snapshot to map a RowDescription column (table OID,
// attnum) to the base column it is a copy of (Snapshot.Origin); the policy
// uses it to validate column names and patterns (Column, Columns) and roles
// (Role); the analyzer resolves names and functions (RelationByName,
// Function). Load reads one snapshot over a given connection; a Manager
// keeps one per database over pgmantle's own connections, refreshing them
// in the background.
//
// # Origins
//
// Classes tag base columns: columns of tables, partitioned tables, foreign
// tables and sequences that are not inherited. Views, materialized views,
// partitions and inheritance children inherit the classes of the columns
// they expose, which Origin finds:
//
//	partition / inheritance child column --(same name)--> topmost parent column
//	view / matview column --(pg_rewrite targetList resorigtbl, resorigcol)--> column it references
//
// A view's lineage comes from its stored query (see nodetree.go): parse
// analysis records, for each output column that is a plain column
// reference, the table or view and attnum it names, following subqueries,
// CTEs and joins. Expressions, set operations (UNION, ...), whole-row and
// system-column references have none, and neither does any column when the
// catalog role cannot read pg_rewrite. Origin reports them as unknown and
// the caller fails closed.
//
// # What is read
//
// Only pg_catalog, with one query per catalog (not per table), in one
// REPEATABLE READ READ ONLY transaction: pg_class, pg_attribute,
// pg_inherits, pg_rewrite, pg_roles, pg_auth_members, pg_proc. Never user
// tables, statistics (pg_statistic) or function bodies. The catalog role
// needs no privileges beyond LOGIN and CONNECT. A view's stored query can
// hold constants from its definition; they are parsed past, never kept or
// logged.
//
// # Where it stops
//
// The package describes the catalog; it decides nothing. It does not parse
// SQL, resolve search_path, tag classes or check privileges. Temporary
// relations (one session's own) are not loaded, so their columns have no
// origin. MemberOf lists memberships regardless of INHERIT; whether a
// membership confers a class's treatment is the policy's call.
package catalog
