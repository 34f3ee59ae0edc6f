package analysiscases

func ok(channel, role, sql string, masks ...string) Case {
	if masks == nil {
		masks = []string{}
	}
	return Case{Channel: channel, Role: role, SQL: sql, Allow: true, Masks: masks}
}

func okAny(channel, role, sql string) Case {
	return Case{Channel: channel, Role: role, SQL: sql, Allow: true}
}

func no(channel, role, sql string) Case {
	return Case{Channel: channel, Role: role, SQL: sql}
}

func (c Case) with(setup ...string) Case { c.Setup = setup; return c }
func (c Case) params(p ...string) Case   { c.Params = p; return c }
func (c Case) detok() Case               { c.Detok = true; return c }

const (
	a = "analyst"
	u = "auditor"
	i = "intern"
)

// Cases are the analysis cases, grouped by side channel.
var Cases = []Case{
	// Whole-row references.
	no("whole-row", a, "SELECT c FROM bk.contacts c"),
	no("whole-row", a, "SELECT row_to_json(c) FROM bk.contacts c"),
	no("whole-row", a, "SELECT c::text FROM bk.contacts c"),
	no("whole-row", a, "SELECT to_jsonb(c.*) FROM bk.contacts c"),
	no("whole-row", a, "SELECT count(*) FROM bk.contacts c WHERE c IS NOT NULL"),
	no("whole-row", a, "SELECT j.k FROM bk.contacts c, json_each_text(row_to_json(c)::json) j(k, v)"),
	ok("whole-row", a, "SELECT v FROM (VALUES (1, 'a')) v(x, y)", ""),
	ok("whole-row", a, "SELECT p FROM bk.payroll_public p", ""),

	// Protected data copied out of reach.
	no("copy-out", a, "CREATE TABLE ids AS SELECT id_no FROM bk.contacts"),
	no("copy-out", a, "SELECT id_no INTO ids FROM bk.contacts"),
	no("copy-out", a, "INSERT INTO staging.contacts (id, id_no) SELECT id, id_no FROM bk.contacts"),
	no("copy-out", a, "UPDATE staging.contacts s SET note = c.mobile FROM bk.contacts c WHERE c.id = s.id"),
	no("copy-out", a, "CREATE MATERIALIZED VIEW ids AS SELECT id_no FROM bk.contacts"),
	no("copy-out", a, "WITH x AS (INSERT INTO staging.contacts (id, name) SELECT id, name FROM bk.contacts RETURNING id) SELECT count(*) FROM x"),
	no("copy-out", a, "MERGE INTO staging.contacts s USING bk.contacts c ON s.id = c.id WHEN MATCHED THEN UPDATE SET note = c.name"),
	no("copy-out", a, "UPDATE staging.contacts SET (id, note) = (SELECT id, id_no FROM bk.contacts LIMIT 1)"),
	ok("copy-out", a, "INSERT INTO staging.contacts (id, note) SELECT id, 'checked' FROM bk.contacts"),
	ok("copy-out", a, "WITH x AS (DELETE FROM staging.contacts WHERE id = 999 RETURNING id) SELECT count(*) FROM x", ""),

	// Server-side code and SQL in strings.
	no("server-code", a, "DO $$BEGIN PERFORM 1; END$$"),
	no("server-code", a, "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1'"),
	no("server-code", a, "CREATE VIEW v AS SELECT id_no FROM bk.contacts"),
	no("server-code", a, "CREATE TEMP VIEW v AS SELECT id_no FROM bk.contacts"),
	no("server-code", a, "CREATE RULE r AS ON INSERT TO staging.contacts DO ALSO DELETE FROM staging.contacts"),
	no("server-code", a, "CREATE TRIGGER t BEFORE INSERT ON staging.contacts FOR EACH ROW EXECUTE FUNCTION bk.fiscal_quarter()"),
	no("server-code", a, "SELECT query_to_xml('SELECT id_no FROM bk.contacts', true, true, '')"),
	no("server-code", a, "SELECT table_to_xml('bk.contacts', true, true, '')"),
	no("server-code", a, "SELECT cursor_to_xml('c', 10, true, true, '')"),
	no("server-code", a, "SELECT * FROM ts_stat('SELECT to_tsvector(name) FROM bk.contacts')"),
	no("server-code", a, "SELECT * FROM dblink('dbname=x', 'SELECT id_no FROM bk.contacts') AS t(x text)"),
	no("server-code", a, "SELECT * FROM crosstab('SELECT 1')"),
	no("server-code", a, "SELECT lo_get(16385)"),
	no("server-code", a, "SELECT pg_catalog.lo_import('/etc/passwd')"),
	no("server-code", a, "SELECT pg_read_file('/etc/passwd')"),
	no("server-code", a, "SELECT * FROM bk.leak()"),
	no("server-code", a, "CALL bk.fiscal_quarter('2026-01-01')"),
	ok("server-code", a, "SELECT bk.fiscal_quarter(issued_on), count(*) FROM bk.invoices GROUP BY 1", "", ""),

	// Catalog statistics and other sessions' SQL.
	no("statistics", a, "SELECT * FROM pg_stats WHERE tablename = 'contacts'"),
	no("statistics", a, "SELECT * FROM pg_catalog.pg_statistic"),
	no("statistics", a, "SELECT * FROM pg_stats_ext"),
	no("statistics", a, "SELECT * FROM pg_stats_ext_exprs"),
	no("statistics", a, "SELECT most_common_vals FROM pg_catalog.pg_stats"),
	no("statistics", a, "EXPLAIN SELECT * FROM bk.contacts WHERE id_no = '1'"),
	no("statistics", a, "EXPLAIN ANALYZE SELECT id FROM bk.contacts"),
	no("statistics", a, "SELECT query FROM pg_stat_activity"),
	no("statistics", a, "SELECT query FROM pg_stat_statements"),
	no("statistics", a, "SELECT pg_stat_get_backend_activity(1)"),
	no("statistics", a, "SELECT relname, seq_tup_read, n_tup_upd FROM pg_stat_xact_user_tables"),
	no("statistics", a, "SELECT * FROM pg_catalog.pg_statio_user_tables"),
	no("statistics", a, "SELECT * FROM pg_stat_user_indexes"),
	no("statistics", a, "SELECT pg_stat_have_stats('relation', 0, 0)"),
	no("statistics", a, "SELECT pg_relation_size('bk.payroll')"),
	no("statistics", a, "SELECT pg_total_relation_size('bk.contacts')"),
	no("statistics", a, "SELECT pg_current_wal_insert_lsn()"),
	no("statistics", a, "SELECT pg_walfile_name(pg_current_wal_lsn())"),
	no("statistics", a, "SELECT redo_lsn FROM pg_control_checkpoint()"),
	no("statistics", a, "SELECT pg_blocking_pids(1)"),
	no("statistics", a, "SELECT pg_column_size(note) FROM staging.contacts"),
	no("statistics", a, "SELECT pg_column_compression(note) FROM staging.contacts"),
	no("statistics", a, "SELECT id, ctid FROM bk.payroll"),
	no("statistics", a, "SELECT id FROM bk.contacts WHERE ctid = '(0,1)'"),
	ok("statistics", a, "SELECT id, xmin FROM bk.contacts", "", ""),
	ok("statistics", a, "SELECT ctid, id FROM staging.contacts", "", ""),

	// Session tampering.
	no("session", a, "SET ROLE bookkeeper"),
	no("session", a, "SET SESSION AUTHORIZATION bookkeeper"),
	no("session", a, "RESET ROLE"),
	no("session", a, "SELECT set_config('role', 'bookkeeper', false)"),
	no("session", a, "SET client_encoding = 'LATIN1'"),
	no("session", a, "SET NAMES 'SQL_ASCII'"),
	no("session", a, "SET standard_conforming_strings = off"),
	no("session", a, "ALTER ROLE analyst SET search_path = staging"),
	ok("session", a, "SET application_name = 'monthly report'"),
	ok("session", a, "SET statement_timeout = '5s'"),
	ok("session", a, "RESET ALL"),
	ok("session", a, "DISCARD ALL"),
	no("session", a, "SET datestyle = 'German'"),
	no("session", a, "SET DateStyle TO SQL, DMY"),
	no("session", a, "SELECT set_config('datestyle', 'Postgres, MDY', false)"),
	ok("session", a, "SET datestyle = 'ISO, DMY'"),
	ok("session", a, "SET datestyle TO YMD"),
	no("session", a, "LOCK bk.contact_regions"),
	no("session", a, "LOCK TABLE staging.contacts IN ACCESS EXCLUSIVE MODE"),
	ok("session", a, "LOCK TABLE staging.contacts IN SHARE MODE").with("BEGIN"),
	ok("session", a, "SELECT current_setting('search_path')", ""),

	// Other message channels: COPY, cursors, prepared statements,
	// notifications, errors that echo values, timing.
	ok("channels", a, "COPY bk.contacts TO STDOUT", "", "", "person_name", "cn_id", "cn_mobile", "email", "address", "birthday"),
	ok("channels", a, "COPY (SELECT name, mobile FROM bk.contacts) TO STDOUT (FORMAT csv)", "person_name", "cn_mobile"),
	no("channels", a, "COPY bk.contacts TO '/tmp/contacts.csv'"),
	no("channels", a, "COPY staging.contacts FROM PROGRAM 'cat /etc/passwd'"),
	no("channels", a, "COPY (SELECT id FROM bk.contacts WHERE id_no LIKE '31%') TO STDOUT"),
	ok("channels", a, "FETCH 10 FROM c", "person_name", "cn_id").with("BEGIN", "DECLARE c CURSOR FOR SELECT name, id_no FROM bk.contacts"),
	no("channels", a, "DECLARE c2 CURSOR WITH HOLD FOR SELECT id FROM bk.contacts WHERE mobile LIKE '138%'"),
	ok("channels", a, "EXECUTE q(1)", "person_name", "cn_mobile").with("PREPARE q AS SELECT name, mobile FROM bk.contacts WHERE id = $1"),
	no("channels", a, "PREPARE q2 AS SELECT id FROM bk.contacts WHERE id_no > $1"),
	no("channels", a, "LISTEN leak"),
	no("channels", a, "NOTIFY leak, 'x'"),
	no("channels", a, "SELECT pg_notify('leak', mobile) FROM bk.contacts"),
	no("channels", a, "SELECT pg_sleep(1)"),
	no("channels", a, "SELECT id_no::int FROM bk.contacts"),
	no("channels", a, "SELECT 1/(CASE WHEN id_no LIKE '31%' THEN 0 ELSE 1 END) FROM bk.contacts"),
	ok("channels", a, "SELECT id, name FROM bk.contacts WHERE id = $1", "", "person_name").params("1"),

	// Predicates.
	no("predicate", a, "SELECT count(*) FROM bk.contacts WHERE id_no LIKE '3101%'"),
	no("predicate", a, "SELECT id FROM bk.contacts WHERE name = '张伟明'"),
	no("predicate", a, "SELECT id FROM bk.contacts WHERE birthday > '1980-01-01'"),
	no("predicate", a, "SELECT id FROM bk.contacts WHERE birthday BETWEEN '1980-01-01' AND '1990-01-01'"),
	no("predicate", a, "SELECT id FROM bk.contacts WHERE mobile ~ '^138'"),
	no("predicate", a, "SELECT id FROM bk.contacts WHERE substr(id_no, 7, 4) = '1988'"),
	no("predicate", a, "SELECT id FROM bk.contacts WHERE name IN ('张伟明', '李秀英')"),
	no("predicate", a, "SELECT id FROM bk.contacts WHERE mobile = $1").params("13812345678"),
	no("predicate", a, "SELECT company_id FROM bk.contacts GROUP BY company_id HAVING max(birthday) > '1990-01-01'"),
	no("predicate", a, "SELECT CASE WHEN id_no LIKE '31%' THEN 'sh' ELSE 'other' END FROM bk.contacts"),
	no("predicate", a, "SELECT id FROM bk.contacts WHERE length(email) > 20"),
	no("predicate", a, "SELECT id FROM bk.payroll WHERE amount::text LIKE '12%'"),
	no("predicate", a, "SELECT id FROM bk.contacts c WHERE EXISTS (SELECT 1 FROM bk.payroll p WHERE p.id_no = c.id_no AND p.amount > 10000)"),
	ok("predicate", u, "SELECT id FROM bk.contacts c WHERE EXISTS (SELECT 1 FROM bk.payroll p WHERE p.id_no = c.id_no AND p.amount > 10000)", ""),
	ok("predicate", a, "SELECT id FROM bk.contacts WHERE mobile IS NULL", ""),
	no("predicate", i, "SELECT id FROM bk.contacts WHERE mobile IS NULL"),

	// Ordering.
	no("ordering", a, "SELECT id FROM bk.contacts ORDER BY id_no"),
	no("ordering", a, "SELECT name FROM bk.contacts ORDER BY name"),
	no("ordering", a, "SELECT name FROM bk.contacts ORDER BY 1"),
	no("ordering", a, "SELECT id, row_number() OVER (ORDER BY birthday) FROM bk.contacts"),
	no("ordering", a, "SELECT string_agg(id::text, ',' ORDER BY mobile) FROM bk.contacts"),
	ok("ordering", a, "SELECT id, name FROM bk.contacts ORDER BY id", "", "person_name"),

	// Row order: bk.residents is partitioned by a tokenized column, and
	// bk.pay_split's child by a CHECK on a masked one (roworder.go).
	no("row-order", a, "SELECT id FROM bk.residents"),
	no("row-order", a, "SELECT id, id_no FROM bk.residents"),
	no("row-order", a, "SELECT id FROM bk.residents WHERE note = 'a'"),
	no("row-order", a, "SELECT id FROM bk.residents ORDER BY note"),
	ok("row-order", a, "SELECT id, note FROM bk.residents ORDER BY id, note LIMIT 1 OFFSET 1", "", ""),
	no("row-order", a, "SELECT count(*) FROM (SELECT id FROM bk.residents LIMIT 2) s"),
	no("row-order", a, "SELECT count(*) FROM (SELECT id FROM bk.residents OFFSET 1) s"),
	no("row-order", a, "SELECT string_agg(id::text, ',') FROM bk.residents"),
	no("row-order", a, "SELECT array_agg(id ORDER BY note) FROM bk.residents"),
	no("row-order", a, "SELECT count(*), (SELECT array_agg(r.id)) FROM bk.residents r"),
	no("row-order", a, "SELECT id, row_number() OVER () FROM bk.residents"),
	no("row-order", a, "SELECT ARRAY(SELECT id FROM bk.residents)"),
	no("row-order", a, "SELECT DISTINCT ON (note) id FROM bk.residents"),
	no("row-order", a, "SELECT id FROM bk.residents UNION ALL SELECT 0"),
	no("row-order", a, "WITH r AS (SELECT id FROM bk.residents) SELECT id FROM r"),
	no("row-order", a, "SELECT id FROM (SELECT * FROM bk.residents) s"),
	no("row-order", a, "SELECT d.dept FROM bk.residents x JOIN bk.departments d ON d.payroll_id = x.id"),
	no("row-order", a, "SELECT id FROM bk.resident_ids"),
	no("row-order", a, "SELECT count(*) FROM bk.first_residents"),
	no("row-order", a, "COPY bk.residents (id) TO STDOUT"),
	no("row-order", a, "DECLARE r CURSOR FOR SELECT id FROM bk.residents"),
	no("row-order", a, "INSERT INTO staging.contacts (id) SELECT id FROM bk.residents"),
	no("row-order", a, "UPDATE bk.residents SET note = 'x' RETURNING id"),
	no("row-order", a, "WITH x AS (UPDATE bk.residents SET note = note RETURNING id) SELECT id FROM x"),
	no("row-order", a, "UPDATE bk.residents SET note = random()::text"),
	no("row-order", a, "SELECT id, random() FROM bk.residents ORDER BY 1, 2"),
	no("row-order", a, "SELECT id FROM bk.pay_split"),
	no("row-order", a, "SELECT round(1.0, id) AS v FROM bk.residents ORDER BY v"),
	no("row-order", a, "SELECT DISTINCT round(1.0, id) FROM bk.residents"),
	no("row-order", a, "SELECT round(1.0, id) FROM bk.residents GROUP BY 1"),
	no("row-order", a, "SELECT round(1.0, id) FROM bk.residents UNION SELECT 1"),
	no("row-order", a, "SELECT max(round(1.0, id)) FROM bk.residents"),
	no("row-order", a, "SELECT sum(id::float8) FROM bk.residents"),
	no("row-order", a, "SELECT array_agg(DISTINCT id * 1.0) FROM bk.residents"),
	no("row-order", a, "SELECT v, count(*) FROM (SELECT id * 1.0 AS v FROM bk.residents) s GROUP BY v"),
	no("row-order", a, "UPDATE staging.contacts c SET note = r.note FROM bk.residents r WHERE c.id = 1"),
	no("row-order", a, "MERGE INTO staging.contacts c USING bk.residents r ON c.id = r.id WHEN NOT MATCHED THEN INSERT (id) VALUES (r.id)"),
	no("row-order", a, "SELECT count(*) FROM bk.residents TABLESAMPLE BERNOULLI (50) REPEATABLE (1)"),
	no("row-order", a, "SELECT count(*) FROM bk.contacts TABLESAMPLE SYSTEM (50)"),
	no("row-order", a, "SELECT currtid2('bk.residents_sh', '(0,1)')"),
	no("row-order", a, "SELECT id, kind FROM bk.members"),
	ok("row-order", a, "SELECT count(*) FROM bk.residents", ""),
	ok("row-order", a, "SELECT note, count(*) FROM bk.residents GROUP BY note", "", ""),
	ok("row-order", a, "SELECT DISTINCT note FROM bk.residents", ""),
	ok("row-order", a, "SELECT id, note FROM bk.residents ORDER BY id, note", "", ""),
	ok("row-order", a, "SELECT id FROM bk.residents ORDER BY 1 LIMIT 2", ""),
	ok("row-order", a, "SELECT r.id FROM bk.residents r ORDER BY r.id", ""),
	ok("row-order", a, "SELECT array_agg(id ORDER BY id), string_agg(note, ',' ORDER BY note) FROM bk.residents", "", ""),
	ok("row-order", a, "SELECT id FROM bk.residents UNION SELECT id FROM bk.residents", ""),
	no("row-order", a, "SELECT id FROM bk.residents UNION SELECT 0"),
	ok("row-order", a, "SELECT count(*) FROM bk.residents WHERE id IN (SELECT id FROM bk.residents)", ""),
	ok("row-order", a, "SELECT id FROM ONLY bk.pay_split", ""),
	ok("row-order", a, "SELECT kind, count(*) FROM bk.members GROUP BY kind", "", ""),
	ok("row-order", a, "SELECT note, max(id), sum(id), avg(id) FROM bk.residents GROUP BY note", "", "", "", ""),
	ok("row-order", a, "SELECT array_agg(DISTINCT id), string_agg(DISTINCT note, ',') FROM bk.residents", "", ""),
	ok("row-order", a, "SELECT count(*) FROM staging.contacts TABLESAMPLE BERNOULLI (50)", ""),
	ok("row-order", a, "UPDATE bk.residents SET note = note WHERE id = 1"),
	ok("row-order", a, "WITH x AS (UPDATE bk.residents SET note = note RETURNING id) SELECT count(*) FROM x", ""),
	ok("row-order", u, "SELECT id, amount FROM bk.pay_split", "", ""),

	// Grouping and DISTINCT.
	ok("grouping", a, "SELECT mobile, count(*) FROM bk.contacts GROUP BY mobile", "cn_mobile", ""),
	no("grouping", a, "SELECT name, count(*) FROM bk.contacts GROUP BY name"),
	no("grouping", a, "SELECT DISTINCT name FROM bk.contacts"),
	ok("grouping", a, "SELECT DISTINCT id_no FROM bk.payroll", "cn_id"),
	ok("grouping", a, "SELECT count(DISTINCT id_no) FROM bk.payroll", ""),
	no("grouping", a, "SELECT count(DISTINCT name) FROM bk.contacts"),
	no("grouping", a, "SELECT id, rank() OVER (PARTITION BY address) FROM bk.contacts"),
	no("grouping", a, "SELECT DISTINCT ON (birthday) id FROM bk.contacts"),
	no("grouping", a, "SELECT company_id FROM bk.contacts GROUP BY ROLLUP (company_id, email)"),

	// Aggregates.
	no("aggregate", a, "SELECT min(id_no) FROM bk.contacts"),
	no("aggregate", a, "SELECT max(amount) FROM bk.payroll"),
	no("aggregate", a, "SELECT string_agg(name, ',') FROM bk.contacts"),
	no("aggregate", a, "SELECT array_agg(mobile) FROM bk.contacts"),
	no("aggregate", a, "SELECT json_agg(email) FROM bk.contacts"),
	no("aggregate", a, "SELECT company_id, sum(amount), avg(bonus) FROM bk.payroll GROUP BY company_id"),
	ok("aggregate", u, "SELECT company_id, sum(amount), avg(bonus) FROM bk.payroll GROUP BY company_id", "", "", ""),
	ok("aggregate", a, "SELECT count(mobile), count(*) FROM bk.contacts", "", ""),

	// Joins.
	ok("join", a, "SELECT co.name, i.amount FROM bk.invoices i JOIN bk.client_companies co ON co.uscc = i.buyer_uscc", "", ""),
	ok("join", a, "SELECT c.id, p.month FROM bk.contacts c JOIN bk.payroll p ON p.id_no = c.id_no", "", ""),
	ok("join", a, "SELECT id_no, c.name, p.month FROM bk.contacts c JOIN bk.payroll p USING (id_no)", "cn_id", "person_name", ""),
	ok("join", a, "SELECT c.id FROM bk.contacts c WHERE c.id_no IN (SELECT id_no FROM bk.payroll)", ""),
	no("join", a, "SELECT c.id FROM bk.contacts c JOIN bk.payroll p ON p.employee = c.name"),
	no("join", a, "SELECT c.id FROM bk.contacts c JOIN bk.client_companies co ON co.uscc = c.id_no"),
	no("join", a, "SELECT c.id FROM bk.contacts c JOIN (VALUES ('310105198807158033')) v(x) ON c.id_no = v.x"),
	no("join", a, "SELECT count(*) FROM bk.contacts c, generate_series(310000, 310200) g WHERE left(c.id_no, 6)::int = g"),
	no("join", a, "SELECT c.id FROM bk.contacts c WHERE c.name IN (SELECT employee FROM bk.payroll)"),
	no("join", a, "SELECT c.id FROM bk.contacts c JOIN staging.contacts s ON s.id_no = c.id_no"),
	no("join", a, "SELECT c.id FROM bk.contacts c NATURAL JOIN staging.contacts s"),

	// Set operations.
	ok("set-operation", a, "SELECT id_no FROM bk.contacts UNION SELECT id_no FROM bk.payroll", "cn_id"),
	no("set-operation", a, "SELECT name FROM bk.contacts UNION SELECT employee FROM bk.payroll"),
	ok("set-operation", a, "SELECT name FROM bk.contacts UNION ALL SELECT employee FROM bk.payroll", "person_name"),
	no("set-operation", a, "SELECT id_no FROM bk.contacts INTERSECT SELECT '310105198807158033'"),
	ok("set-operation", a, "SELECT mobile FROM bk.contacts EXCEPT SELECT mobile FROM bk.contacts WHERE id = 1", "cn_mobile"),
	ok("set-operation", a, "SELECT name, 'x' FROM bk.contacts UNION ALL SELECT legal_rep, 'y' FROM bk.client_companies", "person_name", ""),
	no("set-operation", a, "SELECT id_no FROM bk.contacts UNION ALL SELECT uscc FROM bk.client_companies"),
	// Tokens of staging's clear IDs would link them to bk's tokens.
	no("set-operation", a, "SELECT id_no FROM bk.contacts UNION ALL SELECT id_no FROM staging.contacts"),

	// Lineage through CTEs, subqueries, LATERAL, views, * and quoting.
	ok("lineage", a, "WITH x AS (SELECT name, id_no FROM bk.contacts) SELECT * FROM x", "person_name", "cn_id"),
	no("lineage", a, "WITH x AS (SELECT name FROM bk.contacts) SELECT * FROM x WHERE name LIKE '张%'"),
	ok("lineage", a, "WITH RECURSIVE r(n, who) AS (SELECT 1, name FROM bk.contacts WHERE id = 1 UNION ALL SELECT n + 1, who FROM r WHERE n < 3) SELECT who FROM r", "person_name"),
	no("lineage", a, "WITH RECURSIVE r(n, who) AS (SELECT 1, name FROM bk.contacts WHERE id = 1 UNION ALL SELECT n + 1, upper(who) FROM r WHERE n < 3) SELECT n FROM r"),
	no("lineage", a, "SELECT s.m FROM (SELECT mobile AS m FROM bk.contacts) s WHERE s.m LIKE '138%'"),
	ok("lineage", a, "SELECT s.m FROM (SELECT mobile AS m FROM bk.contacts) s", "cn_mobile"),
	ok("lineage", a, "SELECT c.id, x.total FROM bk.client_companies c, LATERAL (SELECT sum(amount) AS total FROM bk.invoices i WHERE i.company_id = c.id) x", "", ""),
	no("lineage", a, "SELECT c.id, x.n FROM bk.client_companies c, LATERAL (SELECT k.name AS n FROM bk.contacts k WHERE k.company_id = c.id ORDER BY k.name LIMIT 1) x"),
	ok("lineage", a, "SELECT (SELECT name FROM bk.contacts k WHERE k.id = c.id) FROM bk.contacts c", "person_name"),
	no("lineage", a, "SELECT (SELECT max(id_no) FROM bk.payroll)"),
	no("lineage", a, "SELECT region FROM bk.contact_regions"),
	ok("lineage", a, "SELECT id FROM bk.contact_regions", ""),
	ok("lineage", a, "SELECT contact, phone, company FROM bk.contact_directory", "person_name", "cn_mobile", ""),
	ok("lineage", a, "SELECT * FROM bk.contacts", "", "", "person_name", "cn_id", "cn_mobile", "email", "address", "birthday"),
	ok("lineage", a, "SELECT c.*, co.name FROM bk.contacts c JOIN bk.client_companies co ON co.id = c.company_id", "", "", "person_name", "cn_id", "cn_mobile", "email", "address", "birthday", ""),
	ok("lineage", a, `SELECT "name" FROM "bk"."contacts"`, "person_name"),
	ok("lineage", a, `SELECT U&"id\005fno" FROM bk.contacts`, "cn_id"),
	no("lineage", a, `SELECT id FROM bk.contacts WHERE U&"id\005fno" LIKE '31%'`),
	no("lineage", a, "SELECT coalesce(name, '') FROM bk.contacts"),
	no("lineage", a, "SELECT name || '' FROM bk.contacts"),
	no("lineage", a, "SELECT t.v FROM bk.contacts c, LATERAL unnest(ARRAY[c.name]) AS t(v)"),
	ok("lineage", a, "SELECT x FROM unnest(ARRAY['a', 'b']) AS x", ""),
	ok("lineage", a, "SELECT * FROM generate_series(1, 3) g", ""),

	// search_path.
	no("search-path", a, "SELECT id_no FROM contacts"),
	ok("search-path", a, "SELECT id_no FROM contacts", "cn_id").with("SET search_path = bk"),
	ok("search-path", a, "SELECT id_no FROM contacts WHERE id_no LIKE '31%'", "").with("SET search_path = staging"),
	okAny("search-path", a, "SET search_path = staging; SELECT id_no FROM contacts WHERE id_no LIKE '31%'"),
	no("search-path", a, "SET search_path = bk, staging; SELECT id FROM contacts WHERE id_no LIKE '31%'"),
	ok("search-path", a, "SELECT id FROM contacts WHERE id_no LIKE '3%'", "").with("BEGIN", "SET LOCAL search_path = staging"),
	no("search-path", a, "SELECT id FROM contacts WHERE id_no LIKE '3%'").with("SET search_path = staging", "BEGIN", "SET LOCAL search_path = bk"),
	no("search-path", a, "SELECT id FROM contacts WHERE id_no LIKE '3%'").with("SET search_path = staging", "BEGIN", "SET search_path = bk", "ROLLBACK"),
	no("search-path", a, "SELECT id FROM contacts").with("SET search_path = bk", "RESET search_path"),
	// set_config with constant arguments is the SET it stands for (pg_dump
	// sets search_path and restrict_nonsystem_relation_kind this way).
	ok("search-path", a, "SELECT id_no FROM contacts", "cn_id").with("SELECT pg_catalog.set_config('search_path', 'bk', false)"),
	ok("search-path", a, "SELECT id_no FROM contacts WHERE id_no LIKE '31%'", "").with("SELECT set_config('search_path', 'staging', false)"),
	no("search-path", a, "SELECT set_config('search_path', 'bk, staging', false); SELECT id FROM contacts WHERE id_no LIKE '31%'"),
	no("search-path", a, "SELECT id FROM contacts WHERE id_no LIKE '3%'").with("SET search_path = staging", "BEGIN", "SELECT set_config('search_path', 'bk', true)"),
	okAny("session", a, "SELECT pg_catalog.set_config('search_path', '', false)"),
	okAny("session", a, "SELECT set_config(name, 'view, foreign-table', false) FROM pg_settings WHERE name = 'restrict_nonsystem_relation_kind'"),
	okAny("session", a, "SELECT set_config('statement_timeout', '5s', false)"),
	no("session", a, "SELECT set_config('statement_timeout', '5s'::text, 'false'::boolean)"),
	no("session", a, "SELECT set_config('search_path', 'st\"aging\", bk', false)"),
	no("session", a, "SELECT set_config(name, 'staging', false) FROM pg_settings WHERE name = 'search_path'"),
	no("session", a, "PREPARE p AS SELECT set_config('search_path', 'bk', false)"),
	no("session", a, `SELECT "SET_CONFIG"('application_name', 'x', false)`),
	no("session", a, "SELECT set_config('role', 'bookkeeper', false)"),
	no("session", a, "SELECT set_config('session_authorization', 'bookkeeper', false)"),
	no("session", a, "SELECT set_config('enable_sort', 'off', false)"),
	no("session", a, "SELECT set_config('client_encoding', 'GBK', false)"),
	no("session", a, "SELECT set_config('search_path', current_user, false)"),
	no("session", a, "SELECT set_config('search_path', 'bk', false), 1"),
	no("session", a, "SELECT set_config('search_path', 'bk', false) FROM bk.contacts"),
	no("session", a, "SELECT set_config(name, setting, false) FROM pg_settings WHERE name = 'search_path'"),
	no("session", a, "SELECT set_config(name, 'x', false) FROM pg_settings WHERE name LIKE 'search%'"),
	no("session", a, "SELECT set_config(name, 'bk', false) FROM pg_settings s WHERE name = 'search_path'"),
	no("session", a, "SELECT set_config('search_path', 'bk'::regnamespace::text, false)"),
	ok("search-path", a, "SELECT id FROM contacts", "").with("SET search_path = bk", "RESET search_path", "SET search_path = bk"),

	// Multi-statement queries.
	no("multi-statement", a, "SELECT 1; SELECT id FROM bk.contacts WHERE id_no LIKE '1%'"),
	okAny("multi-statement", a, "SELECT id FROM bk.contacts; SELECT name FROM bk.contacts"),
	okAny("multi-statement", a, "BEGIN; SELECT name, mobile FROM bk.contacts; COMMIT"),

	// Writes.
	ok("write", a, "DELETE FROM staging.contacts WHERE id = 999"),
	no("write", a, "DELETE FROM bk.contacts WHERE id_no LIKE '1%'"),
	ok("write", a, "DELETE FROM bk.contacts WHERE id_no = 'token-c'").detok(),
	no("write", a, "UPDATE bk.contacts SET mobile = '13900000000' WHERE id = 1"),
	no("write", a, "INSERT INTO bk.contacts (id, name) VALUES (99, 'x')"),
	ok("write", a, "UPDATE bk.contacts SET company_id = company_id WHERE id = 1 RETURNING id, name", "", "person_name"),
	ok("write", a, "INSERT INTO bk.departments VALUES (1, '财务部')"),
	ok("write", a, "INSERT INTO staging.contacts (id, note) VALUES (1, 'x') ON CONFLICT DO NOTHING"),
	ok("write", a, "SELECT id FROM bk.contacts FOR UPDATE", ""),

	// Usability: what a bookkeeping firm's analysts and auditors run.
	ok("usability", a, `SELECT co.name AS client, date_trunc('month', i.issued_on) AS month, sum(i.amount) AS revenue, sum(i.tax) AS tax
		FROM bk.invoices i JOIN bk.client_companies co ON co.id = i.company_id
		GROUP BY co.name, date_trunc('month', i.issued_on) ORDER BY client, month`, "", "", "", ""),
	ok("usability", u, `SELECT d.dept, count(*) AS employees, sum(p.amount) AS total, avg(p.amount) AS average
		FROM bk.payroll p JOIN bk.departments d ON d.payroll_id = p.id GROUP BY d.dept ORDER BY total DESC`, "", "", "", ""),
	ok("usability", a, `SELECT co.uscc, count(*), sum(i.amount) FROM bk.client_companies co
		JOIN bk.invoices i ON i.buyer_uscc = co.uscc GROUP BY co.uscc`, "uscc", "", ""),
	ok("usability", a, "SELECT name, legal_rep FROM bk.client_companies WHERE uscc = $1", "", "person_name").params("not-a-token").detok(),
	ok("usability", a, "SELECT id FROM bk.contacts WHERE id_no IN ('token-a', 'token-b')", "").detok(),
	ok("usability", a, `SELECT c.id, c.name, c.mobile, co.name AS company FROM bk.contacts c
		JOIN bk.client_companies co ON co.id = c.company_id ORDER BY co.name, c.id LIMIT 50`, "", "person_name", "cn_mobile", ""),
	ok("usability", a, "SELECT company_id, count(*) FROM bk.contacts GROUP BY company_id ORDER BY 2 DESC", "", ""),
	ok("usability", a, "SELECT c.id_no, count(p.id) FROM bk.contacts c LEFT JOIN bk.payroll p ON p.id_no = c.id_no GROUP BY c.id_no", "cn_id", ""),
	ok("usability", a, "SELECT co.id, co.name FROM bk.client_companies co WHERE NOT EXISTS (SELECT 1 FROM bk.invoices i WHERE i.company_id = co.id)", "", ""),
	ok("usability", a, "SELECT bank, extract(year FROM opened_at) AS y, count(*) FROM bk.bank_accounts GROUP BY 1, 2", "", "", ""),
	ok("usability", a, "SELECT bank, card_no FROM bk.bank_accounts ORDER BY bank", "", "bank_card"),
	ok("usability", a, "SELECT id, name FROM bk.contacts WHERE mobile IS NULL OR email IS NULL", "", "person_name"),
	ok("usability", a, "SELECT bk.fiscal_quarter(issued_on) AS q, sum(amount) FROM bk.invoices WHERE issued_on >= $1 GROUP BY q ORDER BY q", "", "").params("2026-01-01"),
	ok("usability", a, `SELECT co.name, sum(i.amount) AS total FROM bk.invoices i JOIN bk.client_companies co ON co.id = i.company_id
		GROUP BY co.name ORDER BY total DESC LIMIT 10`, "", ""),
	ok("usability", a, `SELECT n.nspname, c.relname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind = 'r' AND n.nspname = 'bk' ORDER BY 1, 2`, "", ""),
	ok("usability", a, "SELECT current_user, session_user, version(), now()", "", "", "", ""),
	okAny("usability", a, "SHOW search_path"),
	ok("usability", a, "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'bk'", "", ""),
	ok("usability", a, "SELECT id, month, employee FROM bk.payroll WHERE company_id = $1 AND month = $2", "", "", "person_name").params("1", "2026-01-01"),
	ok("usability", a, "SELECT company_id, count(DISTINCT mobile) FROM bk.contacts GROUP BY company_id", "", ""),
	ok("usability", a, "SELECT c.name, b.card_no FROM bk.contacts c JOIN bk.bank_accounts b ON b.company_id = c.company_id", "person_name", "bank_card"),
	ok("usability", u, "SELECT employee, amount FROM bk.payroll ORDER BY amount DESC LIMIT 5", "person_name", ""),
	ok("usability", i, "SELECT id, name FROM bk.contacts", "", "person_name"),
	no("usability", i, "SELECT id, mobile FROM bk.contacts"),
	ok("usability", i, "SELECT count(*) FROM bk.contacts", ""),
	okAny("usability", a, "BEGIN; SELECT count(*) FROM bk.invoices; COMMIT"),
}

// Cases found by reviews attacking the analysis; each was a bypass once.
var reviewCases = []Case{
	no("review", a, `SELECT (SELECT mobile FROM jsonb_each('{"a":1}') LIMIT 1) FROM bk.contacts`), // mixed: a hash of unknown values
	no("review", i, `SELECT (SELECT id_no FROM jsonb_each('{"a":1}') LIMIT 1) FROM bk.contacts`),
	no("review", a, `SELECT id FROM bk.contacts WHERE EXISTS (SELECT 1 FROM jsonb_each('{"a":1}') WHERE id_no LIKE '3101%')`),
	no("review", a, `INSERT INTO staging.contacts (id, note) SELECT id + 100, (SELECT mobile FROM jsonb_each('{"a":1}') LIMIT 1) FROM bk.contacts`),
	no("review", a, `SELECT c.id FROM bk.contacts c WHERE c.mobile IN (SELECT '13812345678' UNION ALL SELECT mobile FROM bk.contacts WHERE false)`),
	no("review", a, `SELECT c.id, x.cand FROM bk.contacts c JOIN (SELECT '1381234' || lpad(g::text, 4, '0') AS m, '1381234' || lpad(g::text, 4, '0') AS cand FROM generate_series(0, 9999) g UNION ALL SELECT mobile, '' FROM bk.contacts WHERE false) x ON x.m = c.mobile`),
	no("review", a, `SELECT count(*) FROM (SELECT id_no FROM bk.contacts UNION SELECT '310105198807158033') x`),
	no("review", a, `SELECT x, count(*) FROM (SELECT id_no AS x FROM bk.contacts UNION ALL SELECT '310105198807158033') s GROUP BY x`),
	no("review", a, `SELECT c.id FROM bk.contacts c WHERE EXISTS (SELECT 1 FROM staging.contacts x, bk.departments d1 JOIN bk.departments d2 ON id_no LIKE '3101%')`),
	no("review", a, `SELECT c.id FROM bk.contacts c WHERE EXISTS (SELECT 1 FROM staging.contacts c, bk.departments d1 JOIN bk.departments d2 ON c.id_no LIKE '3101%')`),
	no("review", a, `SELECT c.id FROM bk.contacts c WHERE EXISTS (SELECT 1 FROM json_populate_record(NULL::bk.contacts, '{"mobile":"13812345678"}') WHERE mobile = c.mobile)`),
	no("review", a, `WITH RECURSIVE a AS (SELECT amname FROM pg_am), pg_am(amname) AS (SELECT id_no FROM bk.contacts) SELECT amname || '' FROM a`),
	no("review", a, `SELECT (SELECT x.v FROM bk.contacts a JOIN LATERAL (SELECT id_no || '' AS v) x ON true LIMIT 1) FROM staging.contacts`),
	no("review", a, `SELECT (SELECT k.amount AS id FROM bk.payroll k WHERE k.id = p.id), p.id AS pid FROM bk.payroll p ORDER BY id`),
	no("review", a, `SELECT 'a'::text FROM bk.contacts ORDER BY id_no`),
	no("review", a, `SELECT x.id FROM (SELECT j.*, c.* FROM jsonb_each('{"a":1}') j, bk.contacts c ORDER BY 10 LIMIT 1) x`),
	no("review", a, `SELECT count(*) FROM bk.contacts NATURAL JOIN XMLTABLE('/r' PASSING '<r><n>x</n></r>' COLUMNS name text PATH 'n') x`),
	no("review", a, `COPY bk.contacts TO ''`),
	ok("review", a, `SELECT id FROM bk.contacts c JOIN LATERAL (SELECT c.company_id AS k) x ON true ORDER BY x.k`, ""),
}

func init() { Cases = append(Cases, reviewCases...) }

func init() {
	Cases = append(Cases,
		no("review", a, `COPY (SELECT * FROM bk.contacts stdout) TO ''`),
		ok("review", a, `COPY bk.contacts (id, name) TO STDOUT WITH (FORMAT csv)`, "", "person_name"),
	)
}

func init() {
	// PostgreSQL names these subquery columns otherwise ("int4", "array"):
	// the outer name is what they stand for, masked.
	Cases = append(Cases,
		ok("review", a, `SELECT (SELECT "?column?" FROM (SELECT (1 + 1)::int) x) FROM (SELECT name AS "?column?" FROM bk.contacts) s`, "person_name"),
		no("review", a, `SELECT (SELECT "case" FROM (SELECT CASE WHEN true THEN 1 END::int) x) FROM (SELECT id_no AS "case" FROM bk.contacts) s`),
		no("review", a, `SELECT (SELECT "?column?" FROM (SELECT ARRAY[1]) x) FROM (SELECT id_no AS "?column?" FROM bk.contacts) s`),
		no("review", a, `SELECT id FROM bk.contact_regions WHERE region = '310105'`),
		no("review", a, `SELECT id, count(*) OVER (ORDER BY id ROWS BETWEEN (SELECT count(*) FROM bk.contacts WHERE id_no LIKE '3101%') PRECEDING AND CURRENT ROW) FROM bk.contacts`),
		no("review", a, `SELECT c.id_no || '' FROM (staging.contacts c JOIN bk.departments d ON true) j, bk.contacts c`),
		no("review", a, `WITH pg_am(oid, amname) AS (SELECT id, id_no FROM bk.contacts) SELECT * FROM (SELECT amname || '' FROM pg_am) s`),
		ok("review", a, `WITH t AS (SELECT id, name FROM bk.contacts) SELECT x.name FROM (SELECT name FROM t) x`, "person_name"),
	)
}

func init() {
	// A recursive query moving a protected column one place per iteration.
	const rot = `WITH RECURSIVE t(a, b, c, d, n) AS (SELECT id_no, ''::char(18), ''::char(18), ''::char(18), 1 FROM bk.contacts
		UNION ALL SELECT d, a, b, c, n + 1 FROM t WHERE n < 4) `
	const rotMobile = `WITH RECURSIVE t(a, b, c, d, n) AS (SELECT mobile, ''::varchar(20), ''::varchar(20), ''::varchar(20), 1 FROM bk.contacts
		UNION ALL SELECT d, a, b, c, n + 1 FROM t WHERE n < 4) `
	Cases = append(Cases,
		no("review", a, rot+`SELECT d FROM t`), // tokens of '' mixed in
		no("review", a, rot+`SELECT d || '' FROM t`),
		no("review", i, rotMobile+`SELECT d FROM t`),
		no("review", a, rotMobile+`SELECT count(*) FROM t WHERE d = '13812345678'`),
	)
}
