// Package parser is pgmantle's query layer: it parses the statements of a
// restricted role with libpg_query (pg_query_go, PostgreSQL 17 grammar),
// resolves every name against a catalog snapshot and the session's
// search_path, and computes, per statement, the lineage of each output
// column (a plain copy of protected columns, derived from them, or clean)
// and every use of a protected column (projection, predicate, join
// equality, grouping, ordering, aggregate or function argument, whole-row
// reference, RETURNING, source or target of a write). Decide then applies
// a role's rules (ARCHITECTURE section 4) to that analysis: allow with a
// masking plan, allow with detokenization of literals and parameters, or
// refuse with a reason that names the class and the rule, never a value.
//
// The package stops there. It does not mask values (package masking), read
// the catalog (package catalog) or speak the wire protocol (package proxy):
// its plans feed the result layer, which keeps its own cross-check of
// column origins.
package parser
