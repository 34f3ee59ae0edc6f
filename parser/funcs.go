package parser

import (
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/pgmantle/pgmantle/catalog"
)

// funcCall analyses a function call: the function must be allowed; count
// reveals only presence; other aggregates and functions compute from
// their arguments.
func (a *analyzer) funcCall(f *pg_query.FuncCall, sc *scope) (value, error) {
	parts, _ := names(f.Funcname)
	fn, err := a.function(parts)
	if err != nil {
		return value{}, err
	}
	agg := fn != nil && (fn.Kind == 'a' || fn.Kind == 'w') || f.Over != nil
	if !a.volatile {
		a.volatile = a.anyVolatile(parts)
	}
	name := lower(parts[len(parts)-1])
	if f.AggFilter != nil {
		if err := a.consume(f.AggFilter, sc, UsePredicate); err != nil {
			return value{}, err
		}
	}
	for _, o := range f.AggOrder {
		if sb := o.GetSortBy(); sb != nil {
			if err := a.sortOperator(sb); err != nil {
				return value{}, err
			}
			if err := a.consume(sb.Node, sc, UseOrder); err != nil {
				return value{}, err
			}
		}
	}
	if f.Over != nil {
		if err := a.window(f.Over, sc); err != nil {
			return value{}, err
		}
		sc.windows = true
	} else if agg {
		sc.aggregates = true
		if (fn == nil || fn.Schema != "pg_catalog" || !aggregateOrderFree(name, f, sc)) && !sortsEveryArgument(f, sc) {
			// array_agg, string_agg, ...: the result depends on the order
			// of the rows aggregated (of this level or, for an aggregate
			// of an enclosing level's columns, of that one).
			a.rowOrder(sc.enclosingOrder())
		}
	}
	kind := UseFunction
	switch {
	case agg && name == "count" && f.AggDistinct:
		kind = UseGroup
	case agg && name == "count" && f.Over == nil:
		kind = UsePresence
	case agg:
		kind = UseAggregate
	}
	var vs []value
	for _, arg := range f.Args {
		if na := arg.GetNamedArgExpr(); na != nil {
			arg = na.Arg
		}
		v, err := a.expr(arg, sc)
		if err != nil {
			return value{}, err
		}
		if kind == UsePresence || kind == UseGroup {
			a.charge(v, kind)
			continue
		}
		vs = append(vs, a.compute(kind, v))
	}
	if kind == UsePresence || (kind == UseGroup && name == "count") {
		return value{}, nil
	}
	return derived(vs...), nil
}

// window analyses a window definition's PARTITION BY and ORDER BY.
func (a *analyzer) window(w *pg_query.WindowDef, sc *scope) error {
	// Frame offsets decide which rows count: a value there is a predicate.
	for _, n := range []*pg_query.Node{w.StartOffset, w.EndOffset} {
		if err := a.consume(n, sc, UsePredicate); err != nil {
			return err
		}
	}
	// Partitions are formed by sorting on their keys, and the rows come
	// back in that order: an ordering use.
	for _, p := range w.PartitionClause {
		if err := a.consume(p, sc, UseOrder); err != nil {
			return err
		}
	}
	for _, o := range w.OrderClause {
		if sb := o.GetSortBy(); sb != nil {
			if err := a.sortOperator(sb); err != nil {
				return err
			}
			if err := a.consume(sb.Node, sc, UseOrder); err != nil {
				return err
			}
		}
	}
	return nil
}

// schemasFor returns the schemas a function name (its parts as written)
// is looked up in: its own schema, or the session's search_path.
func (a *analyzer) schemasFor(parts []string) []string {
	if len(parts) > 1 {
		return []string{parts[len(parts)-2]}
	}
	return a.path
}

// function resolves a function name through the search_path and checks it
// against the allow-list: built-in functions (pg_catalog) except those in
// deniedFunction, and the functions the policy names. It returns the
// first catalog entry found (nil only in definer mode).
func (a *analyzer) function(parts []string) (*catalog.Function, error) {
	if len(parts) == 0 {
		return nil, a.refuse("a function call without a name")
	}
	name := parts[len(parts)-1]
	schemas := a.schemasFor(parts)
	var first *catalog.Function
	for _, schema := range schemas {
		fs := a.env.snap.Function(schema, name)
		if len(fs) == 0 {
			continue
		}
		if first == nil {
			first = fs[0]
		}
		if a.definer {
			continue
		}
		if schema == "pg_catalog" {
			if deniedFunction(name) {
				return nil, a.refuse("the function %s", name)
			}
			continue
		}
		if !a.env.allowFunctions[schema+"."+name] {
			return nil, a.refuse("the function %s.%s (not in the policy's functions allow-list)", schema, name)
		}
	}
	if first == nil && !a.definer {
		return nil, a.refuse("the function %s (unknown to pgmantle's catalog)", joinName(parts))
	}
	return first, nil
}

// DeniedFunction reports whether a built-in function is outside the
// default allow-list (see deniedFunction).
func DeniedFunction(name string) bool { return deniedFunction(name) }

// deniedFunction reports whether a built-in function is outside the
// default allow-list: it runs SQL given as a string, reads files, large
// objects or other sessions' state, sleeps, notifies, takes advisory locks,
// changes settings or server state.
func deniedFunction(name string) bool {
	name = lower(name)
	if sqlFromString[name] || deniedNames[name] {
		return true
	}
	for _, p := range deniedPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return strings.Contains(name, "advisory")
}

// sqlFromString are built-in functions that run SQL given as a string.
var sqlFromString = map[string]bool{
	"query_to_xml": true, "query_to_xmlschema": true, "query_to_xml_and_xmlschema": true,
	"table_to_xml": true, "table_to_xmlschema": true, "table_to_xml_and_xmlschema": true,
	"cursor_to_xml": true, "cursor_to_xmlschema": true, "schema_to_xml": true, "schema_to_xmlschema": true,
	"schema_to_xml_and_xmlschema": true, "database_to_xml": true, "database_to_xmlschema": true,
	"database_to_xml_and_xmlschema": true, "ts_stat": true, "ts_rewrite": true, "crosstab": true,
	"crosstab2": true, "crosstab3": true, "crosstab4": true, "connectby": true,
}

var deniedNames = map[string]bool{
	"set_config": true, "pg_notify": true, "setval": true, "pg_lock_status": true,
	"pg_prepared_statement": true, "pg_cursor": true, "pg_listening_channels": true,
	"loread": true, "lowrite": true, "pg_terminate_backend": true, "pg_cancel_backend": true,
	"pg_reload_conf": true, "pg_rotate_logfile": true, "pg_promote": true, "pg_switch_wal": true,
	"pg_current_logfile": true, "pg_get_backend_memory_contexts": true, "pg_log_backend_memory_contexts": true,
	"pg_mcv_list_items": true, "pg_import_system_collations": true, "pg_stat_statements": true,
	"pg_stat_statements_reset": true, "pg_stat_reset": true, "dblink": true, "dblink_exec": true,
	"pg_sleep": true, "pg_sleep_for": true, "pg_sleep_until": true,
	// the sizes of relations, which add up the sizes of the values stored
	// (a salary's digits, a name's length), page by page
	"pg_relation_size": true, "pg_total_relation_size": true, "pg_table_size": true, "pg_indexes_size": true,
	"pg_database_size": true, "pg_tablespace_size": true,
	// the newest version of a row at a place in storage, of a relation
	// named as text: which partition holds a row, a relation's pages
	"currtid": true, "currtid2": true,
	// how a value is stored (inline, compressed, out of line) depends on
	// the size of the whole row: padding a clean column across the TOAST
	// threshold measures the row's protected values to the byte (red-team
	// round 23)
	"pg_column_size": true, "pg_column_compression": true, "pg_column_toast_chunk_id": true,
	"pg_prepared_xact": true, // the function behind the refused pg_prepared_xacts
	// lock waits and the notification queue: other sessions' state
	"pg_blocking_pids": true, "pg_safe_snapshot_blocking_pids": true, "pg_isolation_test_session_is_blocked": true,
	"pg_notification_queue_usage": true, "pg_show_all_settings": true, "pg_show_all_file_settings": true,
	// the text PostgreSQL runs, which holds the real values of detokenized
	// literals (search by token)
	"current_query": true,
}

// pg_stat_ covers the statistics functions (pg_stat_get_*), as
// refusedRelation does the views over them. The WAL positions
// (pg_current_wal_insert_lsn, pg_walfile_name, pg_control_checkpoint, a
// standby's pg_last_wal_*) move by the size of every record written:
// read before and after an UPDATE of a row's clean columns, they give
// the row's size, its protected values' lengths included, to the byte
// (red-team round 22); polled, the size of every other session's writes.
var deniedPrefixes = []string{"lo_", "pg_read_", "pg_ls_", "pg_stat_", "pg_logical_",
	"pg_current_wal_", "pg_last_wal_", "pg_wal", "pg_control_",
	"pg_replication_", "pg_create_", "pg_drop_replication", "pg_copy_", "pg_backup_", "pg_file_", "dblink_"}

// refusedRelation reports whether restricted roles may not read a
// relation of this name: one of refusedRelations, or a statistics view
// (pg_stat_*, pg_statio_*: the counters of scans, rows read and updated
// per table, partition and index — which partition a row is in, which
// partial index a write touched — of this session's transaction too).
func refusedRelation(name string) bool {
	name = lower(name)
	return refusedRelations[name] || strings.HasPrefix(name, "pg_stat_") || strings.HasPrefix(name, "pg_statio_")
}

// refusedRelations are catalog relations that expose statement texts (other
// sessions', or this one's as PostgreSQL ran them), values held in
// statistics or settings, or large objects.
var refusedRelations = map[string]bool{
	"pg_stat_activity": true, "pg_stat_statements": true, "pg_stat_statements_info": true,
	"pg_db_role_setting": true, "pg_settings": true, "pg_file_settings": true, "pg_locks": true,
	"pg_prepared_statements": true, "pg_stats": true, "pg_statistic": true, "pg_stats_ext": true,
	"pg_stats_ext_exprs": true, "pg_statistic_ext_data": true, "pg_largeobject": true,
	"pg_cursors": true, "pg_prepared_xacts": true,
	// Its ident column holds the text of cached plans and prepared
	// statements: the text PostgreSQL ran, with detokenized values.
	"pg_backend_memory_contexts": true,
}
