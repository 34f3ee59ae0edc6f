package audit

// Leak review, round 2: attacks on statement normalization.
// TestLeakReview2Findings holds the attacks that still get a value into a
// record (they fail on the current code); TestLeakReview2Holds the ones
// that were tried and held. Unlike round 1's reviewTexts, every text a
// record can take is checked here, Query.Whole included.

import (
	"strings"
	"testing"
)

// review2Texts returns every text a record could take from q: each
// statement's, the redacted form, and Whole (a simple Query refused as a
// whole, proxy/audithook describe).
func review2Texts(q *Query) []string {
	texts := reviewTexts(q)
	if q.Whole != nil {
		texts = append(texts, q.Whole.SQL, hashField.ReplaceAllString(string(q.Whole.fragment), `"sql_hash":"…"`))
	}
	return texts
}

func checkNoSecret2(t *testing.T, n *Normalizer, sql string) {
	t.Helper()
	for pass := 0; pass < 2; pass++ {
		var scratch []byte
		for _, text := range review2Texts(n.Normalize(sql, &scratch)) {
			for _, s := range reviewSecrets {
				if strings.Contains(text, s) {
					t.Errorf("pass %d: %q normalized to %q, which holds %q", pass, short(sql), short(text), s)
				}
			}
		}
	}
}

func short(s string) string {
	if len(s) > 200 {
		return s[:60] + "..." + s[len(s)-120:]
	}
	return s
}

func TestLeakReview2Findings(t *testing.T) {
	// 1. Query.Whole joins Split's normalized parts (normalize.go,
	// Normalize: strings.Join(parts, "; ")), not q.Parts, whose risky
	// statements (values written as names: nested SET, option values)
	// were replaced by their redacted form. The hook records Whole for a
	// simple Query pgmantle refuses (a restricted role's), so the value
	// written as a name is in the record.
	whole := map[string]string{
		"whole_alter_role_set_word":       "SELECT 1; ALTER ROLE app SET myapp.api_key = SECRETtoken",
		"whole_alter_system_set_quoted":   "SELECT 1; ALTER SYSTEM SET myapp.api_key = \"SECRET\"",
		"whole_risky_first":               "ALTER ROLE app SET myapp.api_key = SECRETtoken; SELECT 1",
		"whole_copy_null_word":            "SELECT * FROM t; COPY t FROM STDIN WITH (FORMAT csv, NULL SECRETtoken)",
		"whole_reloption_quoted":          "SELECT 1; CREATE TABLE t (a int) WITH (myopt = \"SECRET\")",
		"whole_function_set_word":         "SELECT 1; ALTER FUNCTION f() SET myapp.api_key = SECRETtoken",
		"whole_alter_role_set_quoted_num": "SELECT 1; ALTER USER app SET myapp.mobile = \"13912345678\"",
		"whole_many_then_risky":           strings.Repeat("SELECT 1; ", 300) + "ALTER ROLE app SET myapp.key = SECRETtoken",
		"whole_cacheable_prefix":          "SELECT * FROM t WHERE a = 'x'; ALTER ROLE app SET myapp.key = SECRETtoken",
		"whole_aggregate_initcond_word":   "SELECT 1; CREATE AGGREGATE a (int) (sfunc = f, stype = int, initcond = SECRETtoken)",
	}
	for name, sql := range whole {
		t.Run(name, func(t *testing.T) { checkNoSecret2(t, NewNormalizer(64), sql) })
	}
}

func TestLeakReview2Holds(t *testing.T) {
	holds := map[string]string{
		// Whole of statements without values written as names.
		"whole_plain_literals":     "SELECT 'SECRET'; SELECT 13912345678; UPDATE t SET a = 'SECRET'",
		"whole_negative_paren":     "SELECT 1; SELECT -(13912345678)",
		"whole_top_level_set_word": "SELECT 1; SET myapp.api_key = SECRETtoken",
		"whole_comment":            "SELECT 1 /* SECRET */; SELECT 2 -- SECRET",
		"whole_password":           "SELECT 1; CREATE ROLE bob PASSWORD 'SECRET'",
		"whole_do_body":            "SELECT 1; DO $$BEGIN RAISE NOTICE 'SECRET'; END$$",
		"whole_many_statements":    strings.Repeat("SELECT 'SECRET'; ", 500) + "SELECT 13912345678",
		// Rule and function bodies holding ';' (split and parse disagree).
		"rule_with_two_actions":    "CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO x VALUES ('SECRET'); NOTIFY c, 'SECRET')",
		"begin_atomic_two_stmts":   "CREATE PROCEDURE p() LANGUAGE sql BEGIN ATOMIC INSERT INTO t VALUES ('SECRET'); SELECT 13912345678; END",
		"do_language_word":         "DO LANGUAGE plpgsql 'BEGIN PERFORM ''SECRET''; END'",
		"extract_field":            "SELECT extract(epoch FROM '13912345678'::timestamptz)",
		"create_extension_version": "CREATE EXTENSION e VERSION SECRETtoken",
		"alter_extension_update":   "ALTER EXTENSION e UPDATE TO \"SECRET\"",
		"begin_isolation":          "BEGIN ISOLATION LEVEL SERIALIZABLE; SELECT 'SECRET'",
		"vacuum_option_word":       "VACUUM (INDEX_CLEANUP SECRETtoken) t",
		"explain_option_word":      "EXPLAIN (FORMAT SECRETtoken) SELECT 1",
		"create_type_default":      "CREATE TYPE ty (INPUT = f, OUTPUT = g, DEFAULT = SECRETtoken)",
		"create_database_word":     "CREATE DATABASE d WITH LC_COLLATE = SECRETtoken",
		"security_label_provider":  "SECURITY LABEL FOR p ON TABLE t IS 'SECRET'",
		"copy_old_delimiter":       "COPY t FROM STDIN DELIMITER 'S' NULL AS 'SECRET'",
		"set_time_zone_interval":   "SET TIME ZONE INTERVAL '13912345678' HOUR TO MINUTE",
		"func_cost":                "CREATE FUNCTION f() RETURNS int LANGUAGE sql COST 13912345678 AS 'SELECT 1'",
		"grant_large_object":       "GRANT SELECT ON LARGE OBJECT 13912345678 TO bob",
		"event_trigger_tag":        "CREATE EVENT TRIGGER e ON ddl_command_start WHEN TAG IN ('SECRET') EXECUTE FUNCTION f()",
		"listen_then_notify":       "LISTEN c; NOTIFY c, 'SECRET'",
		"current_time_precision":   "SELECT current_time(13912345678)",
	}
	for name, sql := range holds {
		t.Run(name, func(t *testing.T) { checkNoSecret2(t, NewNormalizer(64), sql) })
	}
}
