package audit

// Leak review: attacks on statement normalization. TestLeakReviewFindings
// holds the attacks that still get a value into a record (they fail on
// the current code); TestLeakReviewHolds the ones that were tried and
// held.

import (
	"strings"
	"testing"
)

// reviewSecrets are the values the attacks below plant; none may appear
// in a normalized text.
var reviewSecrets = []string{"13912345678", "91234", "SECRET"}

// reviewTexts returns every text a record could take from q.
func reviewTexts(q *Query) []string {
	var texts []string
	// sql_hash is an HMAC under a random key: its hex digits may spell a
	// planted value ("91234") by chance.
	frag := func(b []byte) string { return hashField.ReplaceAllString(string(b), `"sql_hash":"…"`) }
	for _, p := range q.Parts {
		texts = append(texts, p.SQL, frag(p.fragment))
	}
	if q.Parts == nil {
		texts = append(texts, q.Unparsed.SQL, frag(q.Unparsed.fragment))
	}
	if q.Whole != nil {
		texts = append(texts, q.Whole.SQL, frag(q.Whole.fragment))
	}
	return texts
}

// checkNoSecret normalizes sql twice (the second pass may hit the shape
// cache) and fails if a planted value survives.
func checkNoSecret(t *testing.T, n *Normalizer, sql string) {
	t.Helper()
	for pass := 0; pass < 2; pass++ {
		var scratch []byte
		for _, text := range reviewTexts(n.Normalize(sql, &scratch)) {
			for _, s := range reviewSecrets {
				if strings.Contains(text, s) {
					t.Errorf("pass %d: %q normalized to %q, which holds %q", pass, sql, text, s)
				}
			}
		}
	}
}

func TestLeakReviewFindings(t *testing.T) {
	// 1. A negative number written -(n), - -n or -/**/n: pg_query.Normalize
	// measures the constant from its location (the '-', where the grammar
	// folded the sign) over the '-' and one more token or comment only, so
	// it replaces "-(" and leaves the digits, which glue onto the $n it wrote:
	// "$113912345678)". scrub then reads $113912345678 as a parameter
	// (mayHoldConstant skips $<digits>; the scanner says PARAM), so the
	// number stays.
	negative := map[string]string{
		"negative_parenthesized_where":    "SELECT * FROM t WHERE mobile = -(13912345678)",
		"negative_parenthesized_update":   "UPDATE t SET balance = -(13912345678) WHERE id = 1",
		"negative_parenthesized_insert":   "INSERT INTO t VALUES (-(13912345678))",
		"negative_parenthesized_limit":    "SELECT * FROM t LIMIT -(13912345678)",
		"negative_parenthesized_array":    "SELECT ARRAY[-(13912345678)]",
		"negative_parenthesized_spaced":   "SELECT - (13912345678)",
		"negative_parenthesized_numeric":  "SELECT -(13912345678.25)",
		"negative_parenthesized_with_$1":  "SELECT -(13912345678) FROM t WHERE x = $1",
		"double_negative":                 "SELECT - -13912345678",
		"negative_comment_between":        "SELECT -/* c */13912345678",
		"negative_parenthesized_over_2KB": "SELECT * FROM t WHERE mobile = -(13912345678) /*" + strings.Repeat("x", 2100) + "*/",
	}
	for name, sql := range negative {
		t.Run(name, func(t *testing.T) { checkNoSecret(t, NewNormalizer(64), sql) })
	}

	// 2. The same through the shape cache: a text that differs only in its
	// number gets the first text's normalization, and with it the first
	// text's value (another client's, another session's).
	t.Run("shape_cache_serves_another_texts_negative_value", func(t *testing.T) {
		n := NewNormalizer(64)
		var scratch []byte
		n.Normalize("SELECT * FROM accounts WHERE mobile = -(13912345678)", &scratch)
		q := n.Normalize("SELECT * FROM accounts WHERE mobile = -(5)", &scratch)
		for _, text := range reviewTexts(q) {
			if strings.Contains(text, "13912345678") {
				t.Errorf("the record of a text holding 5 says %q: another text's value", text)
			}
		}
	})

	// 3. A setting's value written as a word or a "quoted identifier" in a
	// SET clause nested in ALTER ROLE / DATABASE / SYSTEM / FUNCTION /
	// PROCEDURE: PostgreSQL takes it as the string value, pg_query.Normalize
	// replaces only a top-level SET's arguments, and scrub sees an IDENT.
	nestedSet := map[string]string{
		"alter_role_set_word":            "ALTER ROLE app SET myapp.api_key = SECRETtoken",
		"alter_role_set_quoted":          "ALTER ROLE app SET myapp.api_key = \"SECRET-sk_live\"",
		"alter_role_in_database_set":     "ALTER ROLE app IN DATABASE d SET myapp.api_key TO \"SECRET\"",
		"alter_role_all_set":             "ALTER ROLE ALL SET myapp.api_key = SECRETtoken",
		"alter_database_set_word":        "ALTER DATABASE d SET myapp.api_key = SECRETtoken",
		"alter_system_set_quoted":        "ALTER SYSTEM SET myapp.api_key = \"SECRET\"",
		"alter_function_set_word":        "ALTER FUNCTION f() SET myapp.api_key = SECRETtoken",
		"alter_procedure_set_quoted":     "ALTER PROCEDURE p() SET myapp.api_key = \"SECRET\"",
		"alter_role_set_list_of_words":   "ALTER ROLE app SET myapp.keys = SECRETa, SECRETb",
		"alter_role_set_quoted_is_value": "ALTER USER app SET myapp.mobile = \"13912345678\"",
	}
	for name, sql := range nestedSet {
		t.Run(name, func(t *testing.T) { checkNoSecret(t, NewNormalizer(64), sql) })
	}

	// 4. Option values written as words or "quoted identifiers" (the
	// grammar's NonReservedWord_or_Sconst / def_arg): the '...' spelling of
	// the same option is replaced, this one is not.
	options := map[string]string{
		"copy_null_word":          "COPY t FROM STDIN WITH (FORMAT csv, NULL SECRETtoken)",
		"copy_default_quoted":     "COPY t FROM STDIN WITH (FORMAT csv, DEFAULT \"SECRET\")",
		"aggregate_initcond_word": "CREATE AGGREGATE a (int) (sfunc = f, stype = int, initcond = SECRETtoken)",
		"reloption_word":          "CREATE TABLE t (a int) WITH (myopt = SECRETtoken)",
		"text_search_quoted":      "CREATE TEXT SEARCH DICTIONARY d (TEMPLATE = simple, STOPWORDS = \"SECRET\")",
	}
	for name, sql := range options {
		t.Run(name, func(t *testing.T) { checkNoSecret(t, NewNormalizer(64), sql) })
	}
}

func TestLeakReviewHolds(t *testing.T) {
	holds := []string{
		// Top-level SET in every spelling (pg_query replaces its arguments).
		"SET myapp.api_key = \"SECRET\"",
		"SET myapp.api_key = SECRETtoken",
		"SET LOCAL myapp.key = SECRETtoken",
		"SET myapp.key = SECRETa, SECRETb",
		"SET SESSION myapp.key TO \"SECRET\"",
		"SET TIME ZONE SECRETzone",
		"SET NAMES SECRETenc",
		"SET ROLE SECRETrole",
		"SET SESSION AUTHORIZATION \"SECRET\"",
		"SET SCHEMA 'SECRET'",
		"SET search_path = 'SECRET', public",
		"SET TRANSACTION SNAPSHOT 'SECRET'",
		"SET LOCAL statement_timeout = 13912345678",
		"ALTER DATABASE d SET myapp.key = 'SECRET'",
		"ALTER FUNCTION f() SET search_path = 'SECRET'",
		"CREATE FUNCTION f() RETURNS int LANGUAGE sql SET myapp.key = SECRETtoken AS 'select 1'",
		"CREATE FUNCTION f() RETURNS int LANGUAGE sql SET myapp.key = \"SECRET\" AS 'select 1'",
		// Passwords, keys, connection strings, options.
		"CREATE USER MAPPING FOR bob SERVER s OPTIONS (user 'bob', password 'SECRET')",
		"ALTER USER MAPPING FOR bob SERVER s OPTIONS (SET password 'SECRET')",
		"CREATE SERVER s FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host 'SECRET', port '5432')",
		"ALTER SERVER s VERSION 'SECRET' OPTIONS (ADD password 'SECRET')",
		"CREATE FOREIGN DATA WRAPPER w OPTIONS (debug 'SECRET')",
		"CREATE FOREIGN TABLE ft (a int OPTIONS (column_name 'SECRET')) SERVER s OPTIONS (table_name 'SECRET')",
		"IMPORT FOREIGN SCHEMA x FROM SERVER s INTO y OPTIONS (import_default 'SECRET')",
		"CREATE SUBSCRIPTION sub CONNECTION 'host=x password=SECRET' PUBLICATION p",
		"ALTER SUBSCRIPTION sub CONNECTION 'password=SECRET'",
		"CREATE ROLE bob WITH PASSWORD 'SECRET' VALID UNTIL 'infinity'",
		"CREATE USER bob PASSWORD 'SECRET'",
		"ALTER ROLE bob ENCRYPTED PASSWORD 'SCRAM-SHA-256$4096:SECRET'",
		"ALTER ROLE bob PASSWORD 'SECRET' CONNECTION LIMIT 5",
		"CREATE ROLE bob PASSWORD 'SECRET' CONNECTION LIMIT 13912345678",
		"SELECT 1; CREATE ROLE bob PASSWORD 'SECRET'",
		"CREATE ROLE bob PASSWORD 'SECRET' FOO",
		"ALTER ROLE bob VALID UNTIL 'SECRET'",
		"SECURITY LABEL FOR selinux ON TABLE t IS 'SECRET'",
		"COMMENT ON TABLE t IS 'SECRET'",
		"CREATE TEXT SEARCH DICTIONARY d (TEMPLATE = simple, STOPWORDS = 'SECRET')",
		"CREATE COLLATION c (locale = 'SECRET')",
		"CREATE AGGREGATE a (int) (sfunc = f, stype = int, initcond = 'SECRET')",
		"CREATE DATABASE d LOCALE 'SECRET' CONNECTION LIMIT 13912345678",
		"CREATE TABLESPACE ts LOCATION '/SECRET'",
		"ALTER TABLESPACE ts SET (random_page_cost = 13912345678)",
		"LOAD 'SECRET'",
		// Transactions, notifications, cursors.
		"NOTIFY ch, 'SECRET'",
		"PREPARE TRANSACTION 'SECRET'",
		"COMMIT PREPARED 'SECRET'",
		"ROLLBACK PREPARED 'SECRET'",
		"DECLARE c CURSOR FOR SELECT 'SECRET'",
		"DECLARE c CURSOR FOR VALUES ('SECRET')",
		"FETCH 13912345678 FROM c",
		"MOVE FORWARD 13912345678 IN c",
		"EXECUTE p(13912345678, 'SECRET')",
		"EXPLAIN EXECUTE p('SECRET')",
		"CREATE TABLE t AS EXECUTE p('SECRET')",
		"PREPARE p(int) AS INSERT INTO t VALUES ($1, 'SECRET')",
		// COPY.
		"COPY t FROM STDIN WITH (FORMAT csv, DELIMITER '|', NULL 'SECRET', QUOTE '\"')",
		"COPY t FROM STDIN WITH NULL AS 'SECRET'",
		"COPY t FROM PROGRAM 'SECRET'",
		// DDL with values.
		"CREATE TABLE t (a int) WITH (fillfactor = 13912345678)",
		"CREATE TABLE t PARTITION OF p FOR VALUES IN ('SECRET')",
		"CREATE TABLE t PARTITION OF p FOR VALUES FROM ('SECRET') TO (MAXVALUE)",
		"CREATE SEQUENCE s START 13912345678 INCREMENT 13912345678",
		"ALTER SEQUENCE s RESTART WITH 13912345678",
		"CREATE DOMAIN d AS text CHECK (VALUE <> 'SECRET') DEFAULT 'SECRET'",
		"CREATE TYPE e AS ENUM ('SECRET')",
		"ALTER TYPE e ADD VALUE 'SECRET'",
		"ALTER TYPE e RENAME VALUE 'a' TO 'SECRET'",
		"CREATE INDEX i ON t (a) WHERE a = 'SECRET'",
		"CREATE RULE r AS ON INSERT TO t DO INSTEAD SELECT 'SECRET'",
		"CREATE TRIGGER tr AFTER INSERT ON t FOR EACH ROW EXECUTE FUNCTION f('SECRET')",
		"CREATE EVENT TRIGGER e ON ddl_command_start WHEN TAG IN ('SECRET') EXECUTE FUNCTION f()",
		"CREATE PUBLICATION p FOR TABLE t WHERE (a = 'SECRET')",
		"ALTER TABLE t ALTER COLUMN a SET DEFAULT 'SECRET'",
		"ALTER TABLE t ADD CONSTRAINT c CHECK (a <> 'SECRET')",
		"ALTER TABLE t ALTER COLUMN a TYPE int USING 13912345678",
		"CREATE TABLE t (a int DEFAULT -(13912345678))",
		// -(n) in a second statement: the split of the mangled text drops
		// the statement (its record has no sql at all), so nothing leaks.
		"SELECT 1; SELECT * FROM t WHERE mobile = -(13912345678)",
		"SELECT -(13912345678); SELECT 1",
		"CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 'SECRET'; END",
		"CREATE VIEW v AS VALUES ('SECRET')",
		"CREATE MATERIALIZED VIEW v AS SELECT 'SECRET' WITH NO DATA",
		"ALTER VIEW v ALTER COLUMN a SET DEFAULT 'SECRET'",
		"VACUUM (PARALLEL 13912345678) t",
		// Literal spellings.
		"VALUES ('SECRET'), (13912345678)",
		"SELECT date 'SECRET', int4 '13912345678', '{SECRET}'::text[], '{\"k\":\"SECRET\"}'::jsonb",
		"SELECT -13912345678, +13912345678, 1_391_234_5678, 0x13912345678, 0o1391234, 0b1011",
		"SELECT - 13912345678",
		"SELECT -\n13912345678",
		"SELECT -((13912345678))",
		"SELECT -(-13912345678)",
		"SELECT - - - 13912345678",
		"SELECT -\n-- c\n13912345678",
		"SELECT 1 - -13912345678",
		"SELECT +(13912345678)",
		"SELECT -(13912345678)::text",
		"SELECT -'13912345678'",
		"SELECT 13912345678.",
		"SELECT .13912345678",
		"SELECT 1e13912345678",
		"SELECT 123_456, 1.5e+10, 1e-5",
		"SELECT 13912345678abc",
		"SELECT U&'\\0031SECRET' UESCAPE '!'",
		"SELECT U&'!0031!0033' UESCAPE '!'",
		"SELECT E'it\\'s SECRET'",
		"SELECT $a$SECRET$a$",
		"SELECT /* a /* 'SECRET' */ */ 1",
		"SELECT 1 /* it's SECRET */",
		"SELECT 'a'\n'SECRET'",
		"SELECT 'a'\n\n'SECRET'",
		"SELECT 'a' \n 'SECRET' FROM t",
		"SELECT 'a'\n-- x\n'SECRET'",
		"SELECT 'a' -- x\n'SECRET'",
		"SELECT \"x\"'SECRET'",
		"SELECT x'SECRET'",
		"SELECT B'0101', X'13912345678'",
		"SELECT 'SECRET'::\"char\"",
		"SELECT 'SECRET'::varchar(13912345678)",
		"SELECT interval '1' day(13912345678)",
		"SELECT timestamp(6) 'SECRET'",
		"SELECT '\xff\xfeSECRET'",
		"SELECT '\u2028SECRET'",
		"SELECT 'x' FROM t WHERE a = '\x00SECRET'",
		"SELECT 'SECRET' \\gset",
		// Expressions.
		"SELECT * FROM xmltable('/SECRET' PASSING 'SECRET' COLUMNS a text PATH 'SECRET' DEFAULT 'SECRET')",
		"SELECT json_object('SECRET' VALUE 'SECRET')",
		"SELECT JSON_VALUE(j, '$.SECRET' DEFAULT 'SECRET' ON ERROR)",
		"SELECT * FROM JSON_TABLE(j, '$.SECRET' COLUMNS (a text PATH '$.SECRET'))",
		"SELECT JSON_TABLE(j, '$.SECRET' COLUMNS (a text PATH '$.SECRET'))",
		"SELECT j->'SECRET', j#>'{SECRET}'",
		"SELECT a FROM t TABLESAMPLE BERNOULLI (13912345678) REPEATABLE (13912345678)",
		"SELECT a FROM t FETCH FIRST 13912345678 ROWS ONLY",
		"SELECT a FROM t ORDER BY 13912345678",
		"SELECT $1 FROM t LIMIT ALL OFFSET 13912345678",
		"SELECT * FROM t WHERE a SIMILAR TO 'SECRET' ESCAPE '#'",
		"SELECT substring('SECRET' from 'SECRET' for 'SECRET')",
		"SELECT overlay('SECRET' placing 'SECRET' from 13912345678)",
		"SELECT trim(both 'SECRET' from 'SECRET')",
		"SELECT 'SECRET' AT TIME ZONE 'SECRET'",
		"SELECT '13912345678'::int8 OPERATOR(pg_catalog.+) 13912345678",
		"SELECT pg_catalog.set_config('a.b', 'SECRET', false)",
		"MERGE INTO t USING s ON t.a = s.a WHEN MATCHED THEN UPDATE SET b = 'SECRET' WHEN NOT MATCHED THEN INSERT VALUES ('SECRET')",
		"INSERT INTO t VALUES ('SECRET') ON CONFLICT (a) DO UPDATE SET b = 'SECRET' WHERE t.c = 'SECRET' RETURNING 'SECRET'",
		"SELECT 'SECRET' FROM t WINDOW w AS (ROWS BETWEEN 13912345678 PRECEDING AND CURRENT ROW)",
		// Unparseable text (redacted).
		"SELECT 'SECRET' FROM t; SELEC 'SECRET2'",
		"SELECT 1 FROM t WHERE a = 'SECRET' AND",
		"SELEC \"13912345678",
		"SELEC 1 /* 13912345678",
		"SELEC $$13912345678",
		"SELEC $a$ 13912345678",
		"SELEC E'13912345678",
		"SELEC U&'13912345678",
		"SELEC B'13912345678",
		"SELEC x'13912345678",
		"SELEC 13912345678abc",
		"SELEC 1 AS SECRET",
		"SELECT x FROM t WHERE a = 'SECRET' \\g",
		// Long texts (no shape key).
		"SELECT * FROM t WHERE a = 'SECRET' AND b = 13912345678 /*" + strings.Repeat("y", 2100) + "*/",
		"SELECT '" + strings.Repeat("z", 2100) + "SECRET'",
	}
	n := NewNormalizer(64)
	for _, sql := range holds {
		checkNoSecret(t, n, sql)
	}

	// The shape cache with texts that differ only in constants, each
	// leaving nothing of the other.
	t.Run("shape_cache_pairs", func(t *testing.T) {
		n := NewNormalizer(64)
		var scratch []byte
		n.Normalize("SELECT * FROM t WHERE a = 'SECRET' AND b = 13912345678", &scratch)
		for _, text := range reviewTexts(n.Normalize("SELECT * FROM t WHERE a = 'x' AND b = 1", &scratch)) {
			if strings.Contains(text, "SECRET") || strings.Contains(text, "13912345678") {
				t.Errorf("cache gave %q", text)
			}
		}
	})
}
