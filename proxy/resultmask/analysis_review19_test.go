package resultmask_test

// Red-team round 19: around round 18's defences (functions called by
// constraints, domains and policies; planner settings pinned in restricted
// sessions). Functions called by column and domain defaults and by
// generated columns are closed (each ...Leak test here failed before its
// fix), and so is the row order of partitioned tables
// (analysis_review19_order_test.go).
// TestAnalysisReview19Defended keeps the probes pgmantle stopped when the
// round was run.

import (
	"strings"
	"testing"
)

const rt19Schema = `
CREATE SCHEMA r19;
CREATE TABLE r19.salaries (id int PRIMARY KEY, employee text NOT NULL, amount numeric(12,2) NOT NULL, note text);
INSERT INTO r19.salaries VALUES
  (1, '张伟明', 12345.67, 'a'), (2, '李秀英', 18765.43, 'b'), (3, '王建国', 9876.54, 'c');
-- People partitioned by region (the first six digits of the ID number),
-- rows inserted alternating between two regions.
CREATE TABLE r19.people (id int, id_no char(18) NOT NULL, note text) PARTITION BY LIST (left(id_no, 6));
CREATE TABLE r19.people_sh PARTITION OF r19.people FOR VALUES IN ('310105');
CREATE TABLE r19.people_bj PARTITION OF r19.people FOR VALUES IN ('110101');
INSERT INTO r19.people VALUES
  (1, '310105198807158033', 'a'), (2, '110101198001011232', 'b'), (3, '310105199203041122', 'c'),
  (4, '110101197509112260', 'd'), (5, '310105196601010011', 'e'), (6, '110101199912310022', 'f');
-- Pay split by hand (inheritance): the child holds amounts from 12200.
CREATE TABLE r19.pay (id int, amount numeric(12,2) NOT NULL, note text);
CREATE TABLE r19.pay_high (CHECK (amount >= 12200)) INHERITS (r19.pay);
INSERT INTO r19.pay_high VALUES (1, 12345.67, 'a');
INSERT INTO r19.pay VALUES (2, 12100.00, 'b');
-- A claim records the claimant's salary at the time (a default calling
-- a helper), and a claim with a generated "cap" column computed by a
-- helper declared IMMUTABLE (as DBAs do to use one there).
CREATE FUNCTION r19.salary_of_me() RETURNS numeric LANGUAGE sql STABLE
    AS $$ SELECT amount FROM r19.salaries WHERE id = coalesce(nullif(current_setting('r19.me', true), ''), '1')::int $$;
CREATE FUNCTION r19.salary_of(sid int) RETURNS numeric LANGUAGE sql IMMUTABLE
    AS $$ SELECT amount FROM r19.salaries WHERE id = sid $$;
CREATE TABLE r19.claims (id int, salary_id int, claimed numeric(12,2),
    salary_then numeric(12,2) DEFAULT r19.salary_of_me(), note text);
CREATE TABLE r19.caps (id int, salary_id int,
    cap numeric(12,2) GENERATED ALWAYS AS (r19.salary_of(salary_id)) STORED, note text);
INSERT INTO r19.caps (id, salary_id) VALUES (1, 1), (2, 2);
-- A default that checks (a plpgsql helper raising on a condition).
CREATE FUNCTION r19.guard() RETURNS text LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF (SELECT amount FROM r19.salaries WHERE id = 1) > current_setting('r19.guess', true)::numeric THEN
        RAISE EXCEPTION 'x';
    END IF;
    RETURN 'ok';
END $$;
CREATE TABLE r19.log (id int, tag text DEFAULT r19.guard(), note text);
-- The same default on a domain (no CHECK).
CREATE DOMAIN r19.tag AS text DEFAULT r19.guard();
CREATE TABLE r19.log_d (id int, tag r19.tag, note text);
-- A validation trigger as in round 17 for the defended probes.
CREATE TABLE r19.audit (id int, note text);
CREATE FUNCTION r19.noisy() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (SELECT amount FROM r19.salaries WHERE id = 1) > current_setting('r19.guess', true)::numeric THEN
        RAISE EXCEPTION 'x';
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER noisy_ins BEFORE INSERT ON r19.audit FOR EACH ROW EXECUTE FUNCTION r19.noisy();
CREATE TABLE r19.chk (id int, salary_id int, claimed numeric(12,2), note text,
    CHECK (claimed <= r19.salary_of(salary_id)));
ANALYZE;
GRANT USAGE ON SCHEMA r19 TO PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA r19 TO PUBLIC;
`

const rt19Policy = `
classes:
  cn_id: [r19.people.id_no]
  person_name: [r19.salaries.employee]
  salary: [r19.salaries.amount, r19.pay.amount]
` + rtAnalystRoles

func rt19Proxy(t *testing.T) (addr, db string) { return rtProxy(t, rt19Schema, rt19Policy) }

// TestAnalysisReview19DefaultFunctionLeak: round 18 refuses writes that
// make PostgreSQL call an unlisted function through a CHECK, an index, a
// domain or a trigger, but not through a column DEFAULT. An INSERT that
// leaves r19.log.tag out runs its DEFAULT r19.guard(), which reads
// salary 1 and raises when it exceeds the client's setting:
//
//	SET r19.guess = '12345.67'; INSERT INTO r19.log (id) VALUES (1)  -- INSERT 0 1
//	SET r19.guess = '12345.66'; INSERT INTO r19.log (id) VALUES (1)  -- error
//
// a binary search on the salary (a domain's DEFAULT, r19.log_d, alike).
// Safe: a write that fills a column from
// a DEFAULT calling an unlisted SQL/procedural function is refused (as
// for triggers), unless functions: lists it.
func TestAnalysisReview19DefaultFunctionLeak(t *testing.T) {
	addr, db := rt19Proxy(t)
	rt17Oracle(t, addr, db, "a column DEFAULT calling a helper that compares salary 1 with a setting",
		[]string{"SET r19.guess = '12345.67'", "BEGIN", "INSERT INTO r19.log (id) VALUES (1)", "ROLLBACK"},
		[]string{"SET r19.guess = '12345.66'", "BEGIN", "INSERT INTO r19.log (id) VALUES (1)", "ROLLBACK"})
	rt17Oracle(t, addr, db, "a domain's DEFAULT calling the same helper",
		[]string{"SET r19.guess = '12345.67'", "BEGIN", "INSERT INTO r19.log_d (id) VALUES (1)", "ROLLBACK"},
		[]string{"SET r19.guess = '12345.66'", "BEGIN", "INSERT INTO r19.log_d (id) VALUES (1)", "ROLLBACK"})
}

// TestAnalysisReview19FunctionCopyLeak: a column filled by a function
// that reads a protected column - a DEFAULT (salary_then DEFAULT
// r19.salary_of_me()) or a stored generated column (cap GENERATED ALWAYS
// AS (r19.salary_of(salary_id)) STORED) - takes no class: pg_depend
// lists salary_id and the function, not the salary the function reads.
//
//	SELECT id, cap FROM r19.caps                      -- 12345.67, 18765.43 in clear
//	INSERT INTO r19.claims (id) VALUES (1) RETURNING salary_then  -- 12345.67
//
// Safe: a generated column (or default) calling an unlisted function
// counts as computed from every protected column (refused), or its
// writes and reads are refused unless the function is listed.
func TestAnalysisReview19FunctionCopyLeak(t *testing.T) {
	addr, db := rt19Proxy(t)
	for _, sqls := range [][]string{
		{"SELECT id, cap FROM r19.caps ORDER BY id"},
		{"BEGIN", "INSERT INTO r19.claims (id) VALUES (1) RETURNING salary_then", "ROLLBACK"},
		{"SET r19.me = '2'", "BEGIN", "INSERT INTO r19.claims (id) VALUES (1)", "SELECT salary_then FROM r19.claims", "ROLLBACK"},
	} {
		got, refused := rt17Outcome(t, addr, db, sqls...)
		t.Logf("%q refused=%v:\n%s", sqls, refused, got)
		if strings.Contains(got, "12345.67") || strings.Contains(got, "18765.43") {
			t.Errorf("LEAK: %q shows a salary in clear", sqls)
		}
	}
}

// TestAnalysisReview19Defended: probes pgmantle stops.
func TestAnalysisReview19Defended(t *testing.T) {
	addr, db := rt19Proxy(t)
	refused := []string{
		"SELECT set_config('enable_' || 'indexscan', 'on', false)",
		"SELECT set_config(lower('ENABLE_INDEXSCAN'), 'on', false)",
		"SELECT set_config(name, 'on', false) FROM pg_settings WHERE name = 'enable_indexscan'",
		"UPDATE pg_settings SET setting = 'on' WHERE name = 'enable_indexscan'",
		"UPDATE pg_catalog.pg_settings SET setting = '0' WHERE name = 'random_page_cost'",
		"SET SESSION AUTHORIZATION DEFAULT",
		"WITH w AS (INSERT INTO r19.audit VALUES (1) RETURNING 1) SELECT count(*) FROM w",
		"INSERT INTO r19.audit SELECT id, note FROM r19.log",
		"INSERT INTO r19.chk VALUES (1, 1, 12345.67)",
		"WITH w AS (INSERT INTO r19.chk VALUES (1, 1, 12345.67) RETURNING 1) SELECT 1",
		"COPY r19.chk (id, salary_id) FROM STDIN",
		"COPY r19.audit FROM STDIN WHERE id > 0",
		"TRUNCATE r19.audit CASCADE",
		"ALTER TABLE r19.chk VALIDATE CONSTRAINT chk_check",
		"SELECT 12345.67 <= r19.salary_of(1)",
	}
	for _, sql := range refused {
		got, ref := rt17Outcome(t, addr, db, "SET r19.guess = '0'", "BEGIN", sql, "ROLLBACK")
		if !ref {
			t.Errorf("not refused: %s\n%s", sql, got)
		}
	}
	// Planner switches stay off through a cursor, a prepared statement
	// and SET ROLE.
	for _, seq := range [][]string{
		{"BEGIN", "DECLARE c SCROLL CURSOR WITH HOLD FOR SELECT 1", "COMMIT", "SHOW enable_indexscan"},
		{"PREPARE p AS SELECT 1", "DISCARD PLANS", "SHOW enable_indexscan"},
		{"SET ROLE NONE", "SHOW enable_indexscan"},
		{"RESET SESSION AUTHORIZATION", "SHOW enable_indexscan"},
		{"DISCARD ALL", "SHOW random_page_cost"},
	} {
		got, _ := rt17Outcome(t, addr, db, seq...)
		if strings.Contains(got, "on|") || strings.Contains(got, "\n0|") {
			t.Errorf("%q: %s", seq, got)
		}
	}
	// work_mem is not a planner setting: sort-based grouping on tokenized
	// columns is the documented open gap (README "Row order after
	// grouping"); SET work_mem is allowed.
	if got, refused := rt17Outcome(t, addr, db, "SET work_mem = '64kB'", "SHOW work_mem"); refused {
		t.Logf("SET work_mem refused: %s", got)
	} else {
		t.Logf("SET work_mem allowed (known gap): %s", got)
	}
}
