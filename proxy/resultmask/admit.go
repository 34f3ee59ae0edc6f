package resultmask

import (
	"fmt"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Admit refuses, before they reach PostgreSQL, the statements through which
// a restricted role could move protected values into places the result
// layer does not see — session state, catalogs, server-side code — and
// read them back later: DO and CALL, CREATE of tables, views, functions,
// rules and triggers (temporary ones too), ALTER ROLE/DATABASE ... SET,
// SET ROLE and SET SESSION AUTHORIZATION, LISTEN/NOTIFY, EXPLAIN, and calls
// of functions that write session state (set_config, advisory locks,
// pg_notify, large objects) or read other sessions' state. A refusal ends
// the session with 42501; the statement is not run. SQL that does not
// parse is refused too. This is the first, coarse piece of the query
// layer; it looks at statement kinds and names, not at data flow.
func (s *session) Admit(sql string, param func(string) string) error {
	if scs := param("standard_conforming_strings"); scs != "" && scs != "on" {
		// The parser reads backslashes in '...' as the server does only
		// with standard_conforming_strings on.
		return refuse("standard_conforming_strings must be on for role %q", s.info.User)
	}
	clientEncoding := param("client_encoding")
	if codec, err := codecFor(clientEncoding); err != nil {
		return refuse("client_encoding %s cannot be checked", clientEncoding)
	} else if codec != nil {
		utf8, err := codec.NewDecoder().String(sql)
		if err != nil {
			return refuse("a statement could not be decoded from %s", clientEncoding)
		}
		sql = utf8
	}
	tree, err := pg_query.Parse(sql)
	if err != nil {
		return refuse("a statement pgmantle cannot parse is not available to role %q", s.info.User)
	}
	for _, raw := range tree.Stmts {
		if why := refusedStatement(raw.Stmt); why != "" {
			return refuse("%s is not available to role %q", why, s.info.User)
		}
	}
	s.e.mu.Lock()
	b := s.e.byDB[s.info.Database]
	s.e.mu.Unlock()
	var why string
	walk(tree.ProtoReflect(), func(m protoreflect.Message) bool {
		why = refusedNode(m.Interface())
		if why == "" {
			why = writesProtected(m.Interface(), b)
		}
		return why == ""
	})
	if why != "" {
		return refuse("%s is not available to role %q", why, s.info.User)
	}
	return nil
}

// refusedStatement allows only the statement kinds a restricted session
// needs to read data and manage its transaction and cursors: queries,
// writes (see the README on writes), COPY, transaction control, SET of
// ordinary settings, SHOW, cursors and SQL-level prepared statements.
// Everything else — every kind of CREATE, ALTER, DROP, GRANT, DO, CALL,
// LISTEN, EXPLAIN, ... — is refused, including kinds added by future
// PostgreSQL versions.
func refusedStatement(n *pg_query.Node) string {
	if n == nil {
		return ""
	}
	switch n.Node.(type) {
	case *pg_query.Node_SelectStmt, *pg_query.Node_InsertStmt, *pg_query.Node_UpdateStmt,
		*pg_query.Node_DeleteStmt, *pg_query.Node_MergeStmt, *pg_query.Node_CopyStmt,
		*pg_query.Node_TransactionStmt, *pg_query.Node_VariableSetStmt, *pg_query.Node_VariableShowStmt,
		*pg_query.Node_DeclareCursorStmt, *pg_query.Node_FetchStmt, *pg_query.Node_ClosePortalStmt,
		*pg_query.Node_PrepareStmt, *pg_query.Node_ExecuteStmt, *pg_query.Node_DeallocateStmt,
		*pg_query.Node_DiscardStmt, *pg_query.Node_LockStmt, *pg_query.Node_CheckPointStmt:
		return ""
	}
	kind := strings.TrimPrefix(strings.TrimPrefix(fmt.Sprintf("%T", n.Node), "*pg_query.Node_"), "*pg_query.")
	return "the statement kind " + kind
}

// writesProtected refuses INSERT, UPDATE and MERGE (also inside a WITH)
// that name a relation holding protected data anywhere — as target or as
// source: a write could copy protected values into a column whose mask
// shows part of them, or into one no class covers. Reads stay allowed.
func writesProtected(n any, b *binding) string {
	switch n.(type) {
	case *pg_query.InsertStmt, *pg_query.UpdateStmt, *pg_query.MergeStmt:
	default:
		return ""
	}
	if b == nil {
		return "writing"
	}
	found := ""
	walk(n.(protoreflect.ProtoMessage).ProtoReflect(), func(m protoreflect.Message) bool {
		if rv, ok := m.Interface().(*pg_query.RangeVar); ok && b.protectedRels[rv.Relname] {
			found = "writing with protected data (" + rv.Relname + ")"
		}
		return found == ""
	})
	return found
}

// refusedNode names what is refused about a parse tree node, or "".
func refusedNode(n any) string {
	switch n := n.(type) {
	case *pg_query.DoStmt:
		return "DO"
	case *pg_query.CallStmt:
		return "CALL"
	case *pg_query.CreateStmt, *pg_query.CreateTableAsStmt, *pg_query.ViewStmt, *pg_query.CreateFunctionStmt,
		*pg_query.RuleStmt, *pg_query.CreateTrigStmt, *pg_query.CreateEventTrigStmt, *pg_query.AlterFunctionStmt,
		*pg_query.CreateSeqStmt, *pg_query.CreateDomainStmt, *pg_query.CompositeTypeStmt:
		return "creating tables, views or code"
	case *pg_query.SelectStmt:
		if n.IntoClause != nil {
			return "SELECT INTO"
		}
	case *pg_query.AlterRoleSetStmt, *pg_query.AlterDatabaseSetStmt, *pg_query.AlterRoleStmt, *pg_query.AlterSystemStmt:
		return "changing role or database settings"
	case *pg_query.VariableSetStmt:
		switch strings.ToLower(n.Name) {
		case "role", "session_authorization":
			return "SET ROLE and SET SESSION AUTHORIZATION"
		case "standard_conforming_strings":
			return "changing standard_conforming_strings"
		case "client_encoding":
			// Statements prepared under one encoding would be read under
			// another; set it at connection time instead.
			return "changing client_encoding"
		}
	case *pg_query.ListenStmt, *pg_query.NotifyStmt:
		return "LISTEN and NOTIFY"
	case *pg_query.ExplainStmt:
		return "EXPLAIN"
	case *pg_query.FuncCall:
		if len(n.Funcname) == 0 {
			return ""
		}
		if s := n.Funcname[len(n.Funcname)-1].GetString_(); s != nil && stateFunction(strings.ToLower(s.Sval)) {
			return "the function " + s.Sval
		}
	case *pg_query.RangeVar:
		if stateRelations[strings.ToLower(n.Relname)] {
			return "reading " + n.Relname
		}
	}
	return ""
}

// stateFunction reports whether a function writes session or server state
// a later statement could read back, or reads other sessions' state.
func stateFunction(name string) bool {
	if sqlFromString[name] {
		return true // it runs SQL given as a string, which Admit cannot see
	}
	switch name {
	case "set_config", "pg_notify", "setval", "pg_lock_status", "pg_prepared_statement", "pg_cursor",
		"lo_import", "lo_export", "lo_from_bytea", "lo_put", "lo_create", "lo_creat", "lowrite",
		"pg_read_file", "pg_read_binary_file", "pg_ls_dir", "pg_stat_file", "dblink", "dblink_exec":
		return true
	}
	return strings.Contains(name, "advisory") || strings.HasPrefix(name, "pg_stat_get_")
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

// stateRelations are catalog views and tables that expose other sessions'
// statements or values parked in settings.
var stateRelations = map[string]bool{
	"pg_stat_activity": true, "pg_stat_statements": true, "pg_db_role_setting": true,
	"pg_settings": true, "pg_file_settings": true, "pg_locks": true, "pg_prepared_statements": true,
	"pg_stats": true, "pg_statistic": true, "pg_stats_ext": true, "pg_stats_ext_exprs": true,
	"pg_statistic_ext_data": true,
}
