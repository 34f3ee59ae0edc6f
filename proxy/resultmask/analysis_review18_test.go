package resultmask_test

// Red-team round 18: around round 17's defences (constraints, triggers,
// row-level security, index scans off in restricted sessions). Planner
// cost settings outweighing the penalty on disabled index scans are
// closed, and so are functions called by CHECK constraints, domains and
// row-level security policies (each ...Leak test failed before its fix).
// TestAnalysisReview18Defended keeps the probes pgmantle stopped when the
// round was run.

import (
	"slices"
	"strings"
	"testing"
)

const rt18Schema = `
CREATE SCHEMA r18;
-- Salaries (masked) with a bonus index, as in round 17.
CREATE TABLE r18.salaries (id int PRIMARY KEY, employee text NOT NULL, amount numeric(12,2) NOT NULL, bonus int, note text);
INSERT INTO r18.salaries (id, employee, amount, bonus) VALUES
  (1, '张伟明', 12345.67, 23457), (2, '李秀英', 18765.43, 9871), (3, '王建国', 9876.54, 30333),
  (4, '赵丽华', 12100.00, 23100), (5, '陈国华', 15000.00, 12983);
INSERT INTO r18.salaries (id, employee, amount) SELECT g, 'x', 1000 FROM generate_series(10, 20009) g;
CREATE INDEX salaries_bonus ON r18.salaries (bonus);
-- ID numbers with an index.
CREATE TABLE r18.ids (id int PRIMARY KEY, id_no char(18) NOT NULL, note text);
INSERT INTO r18.ids VALUES
  (1, '310225197509112260', 'a'), (2, '110101198001011232', 'b'), (3, '310115199203041122', 'c'),
  (4, '310105198807158033', 'd'), (5, '320102199001011234', 'e');
INSERT INTO r18.ids SELECT g, '9' || lpad(g::text, 17, '0'), 'f' FROM generate_series(10, 20009) g;
CREATE INDEX ids_id_no ON r18.ids (id_no);
ANALYZE r18.salaries; ANALYZE r18.ids;
-- A claim may not exceed the claimant's salary: a CHECK calling a
-- helper function (a CHECK cannot hold a subquery), instead of a trigger.
CREATE FUNCTION r18.within_salary(sid int, v numeric) RETURNS boolean LANGUAGE sql STABLE
    AS $$ SELECT v <= amount FROM r18.salaries WHERE id = sid $$;
CREATE TABLE r18.claims (id int, salary_id int, claimed numeric(12,2), note text,
    CHECK (r18.within_salary(salary_id, claimed)));
-- The same through a domain.
CREATE FUNCTION r18.below_top_salary(v numeric) RETURNS boolean LANGUAGE sql STABLE
    AS $$ SELECT v <= max(amount) FROM r18.salaries $$;
CREATE DOMAIN r18.claim_amount AS numeric(12,2) CHECK (r18.below_top_salary(VALUE));
CREATE TABLE r18.claims_d (id int, claimed r18.claim_amount, note text);
-- Row-level security through the usual SECURITY DEFINER helper (a
-- policy reading its own table directly would recurse): each person
-- sees their own record.
CREATE TABLE r18.self (id int PRIMARY KEY, id_no char(18) NOT NULL, note text);
INSERT INTO r18.self VALUES (1, '310105198807158033', 'a'), (2, '310115199203041122', 'b');
CREATE FUNCTION r18.is_self(rid int) RETURNS boolean LANGUAGE sql STABLE SECURITY DEFINER
    AS $$ SELECT id_no = current_setting('r18.id_no', true) FROM r18.self WHERE id = rid $$;
ALTER TABLE r18.self ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_record ON r18.self USING (r18.is_self(id));
-- The same policy reading the ID through a view in a subquery.
CREATE TABLE r18.self2 (id int PRIMARY KEY, note text);
INSERT INTO r18.self2 VALUES (1, 'a'), (2, 'b');
CREATE VIEW r18.ids_v AS SELECT id, id_no FROM r18.ids;
ALTER TABLE r18.self2 ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_record2 ON r18.self2 USING (EXISTS (SELECT 1 FROM r18.ids_v v WHERE v.id = self2.id AND v.id_no = current_setting('r18.id_no', true)));
-- A trigger that fires on TRUNCATE only, and one on a partition.
CREATE TABLE r18.audit (id int, note text);
CREATE FUNCTION r18.noisy() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (SELECT amount FROM r18.salaries WHERE id = 1) > current_setting('r18.guess', true)::numeric THEN
        RAISE EXCEPTION 'x';
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER noisy_truncate BEFORE TRUNCATE ON r18.audit FOR EACH STATEMENT EXECUTE FUNCTION r18.noisy();
CREATE TABLE r18.parted (id int, k int, note text) PARTITION BY LIST (k);
CREATE TABLE r18.parted_1 PARTITION OF r18.parted FOR VALUES IN (1);
INSERT INTO r18.parted VALUES (1, 1, 'a');
CREATE TRIGGER noisy_part BEFORE UPDATE ON r18.parted_1 FOR EACH ROW EXECUTE FUNCTION r18.noisy();
-- A log with a CHECK over a clean column.
CREATE TABLE r18.log (id int, v numeric(12,2) CHECK (v <= 12345.67), note text);
CREATE TRIGGER log_delete BEFORE DELETE ON r18.log FOR EACH ROW EXECUTE FUNCTION r18.noisy();
GRANT USAGE ON SCHEMA r18 TO PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA r18 TO PUBLIC;
`

const rt18Policy = `
classes:
  cn_id: [r18.ids.id_no, r18.self.id_no]
  person_name: [r18.salaries.employee]
  salary: [r18.salaries.amount, r18.salaries.bonus]
` + rtAnalystRoles

func rt18Proxy(t *testing.T) (addr, db string) { return rtProxy(t, rt18Schema, rt18Policy) }

// TestAnalysisReview18CheckFunctionLeak: a CHECK (or a domain's CHECK)
// that calls a function reading another table. Constraint.Columns lists
// only the columns the expression names (salary_id, claimed: clear), and
// a CHECK is not charged on INSERT at all, so
//
//	INSERT INTO r18.claims VALUES (1, 1, 12345.67)  -- succeeds
//	INSERT INTO r18.claims VALUES (1, 1, 12345.68)  -- 23514
//
// is a comparison of the client's number with employee 1's salary: a
// binary search gives it to the cent (the domain: the top salary, even
// without a write: SELECT 18765.44::r18.claim_amount fails, .43 passes).
// Safe: a constraint (or domain) whose expression calls a function not
// on the functions: list is treated as reading everything: the write is
// refused (or its function must be listed), as for triggers.
func TestAnalysisReview18CheckFunctionLeak(t *testing.T) {
	addr, db := rt18Proxy(t)
	t.Run("check-insert", func(t *testing.T) {
		rt17Oracle(t, addr, db, "INSERT into a table whose CHECK calls a function comparing the claim with the salary",
			[]string{"BEGIN", "INSERT INTO r18.claims VALUES (1, 1, 12345.67)", "ROLLBACK"},
			[]string{"BEGIN", "INSERT INTO r18.claims VALUES (1, 1, 12345.68)", "ROLLBACK"})
	})
	t.Run("domain-insert", func(t *testing.T) {
		rt17Oracle(t, addr, db, "INSERT of a value of a domain whose CHECK compares it with the top salary",
			[]string{"BEGIN", "INSERT INTO r18.claims_d VALUES (1, 18765.43)", "ROLLBACK"},
			[]string{"BEGIN", "INSERT INTO r18.claims_d VALUES (1, 18765.44)", "ROLLBACK"})
	})
	t.Run("domain-cast", func(t *testing.T) {
		rt17Oracle(t, addr, db, "a cast to a domain whose CHECK compares the value with the top salary",
			[]string{"SELECT 18765.43::r18.claim_amount IS NOT NULL"},
			[]string{"SELECT 18765.44::r18.claim_amount IS NOT NULL"})
	})
}

// TestAnalysisReview18RowSecurityFunctionLeak: a policy calling a helper
// function (USING (r18.is_self(id)), the helper comparing the row's
// id_no with current_setting('r18.id_no')). pg_depend records the
// policy's dependency on the column id and the function, not the columns
// the function's body reads, so PolicyReads holds only id (clear) and
//
//	SET r18.id_no = '310105198807158033'; SELECT id, note FROM r18.self
//
// returns row 1 for the right ID and nothing for a wrong one: round 17's
// guessed-ID confirmation again. Safe: a policy whose expression calls a
// function (other than built-in ones) is charged as reading every
// protected column of the table (or the statement refused), unless the
// policy's functions: list names it.
func TestAnalysisReview18RowSecurityFunctionLeak(t *testing.T) {
	addr, db := rt18Proxy(t)
	rt17Oracle(t, addr, db, "a row-level security policy's helper function confirms a guessed ID number",
		[]string{"SET r18.id_no = '310105198807158033'", "SELECT id, note FROM r18.self"},
		[]string{"SET r18.id_no = '310105198807158034'", "SELECT id, note FROM r18.self"})
}

// rt18Costs overcomes PostgreSQL 15's disable_cost (1e10, added to a
// disabled path's cost, not forbidding it): a sequential page costs more
// than that, an index page nothing.
var rt18Costs = []string{"SET seq_page_cost = 1e12", "SET random_page_cost = 0", "SET cpu_index_tuple_cost = 0"}

// TestAnalysisReview18IndexCostLeak: enable_indexscan = off only adds
// disable_cost (1e10) to an index scan's cost in PostgreSQL 15-;
// seq_page_cost and random_page_cost may be SET (only enable_* is
// refused), and with seq_page_cost = 1e12, random_page_cost = 0 the
// sequential and bitmap scans cost more than a disabled index scan:
//
//	SET seq_page_cost = 1e12; SET random_page_cost = 0; SET cpu_index_tuple_cost = 0;
//	SELECT id, bonus FROM r18.salaries WHERE bonus IS NOT NULL
//
// comes back in real bonus order (2 5 4 1 3; 1 and 4 both show 23000),
// round 17's IndexOrderLeak unchanged. Safe: refuse SET (and set_config,
// options) of the planner cost settings (seq_page_cost, random_page_cost,
// cpu_*_cost, effective_cache_size, ...) in restricted sessions too, or
// pin them in the startup packet and refuse changing them.
func TestAnalysisReview18IndexCostLeak(t *testing.T) {
	addr, db := rt18Proxy(t)
	got, refused := rt17Outcome(t, addr, db, append(slices.Clone(rt18Costs), "SHOW enable_indexscan", "SELECT id, bonus FROM r18.salaries WHERE bonus IS NOT NULL")...)
	ids := rt17IDs(got)
	t.Logf("refused=%v ids %v:\n%s", refused, ids, got)
	if !refused && slices.Equal(ids, []string{"2", "5", "4", "1", "3"}) {
		t.Errorf("LEAK: the rows came back in the order of the real bonuses")
	}
}

// TestAnalysisReview18Defended: probes pgmantle stops.
func TestAnalysisReview18Defended(t *testing.T) {
	addr, db := rt18Proxy(t)
	refused := []string{
		`SET "Enable_IndexScan" = on`,
		"SET LOCAL enable_indexscan TO on",
		"SELECT set_config('ENABLE_INDEXSCAN', 'on', false)",
		"WITH w AS (UPDATE r18.parted SET note = 'x' RETURNING 1) SELECT count(*) FROM w",
		"MERGE INTO r18.parted p USING (SELECT 1 AS id) s ON p.id = s.id WHEN MATCHED THEN UPDATE SET note = 'x'",
		"ALTER ROLE analyst SET enable_indexscan = on",
		"ALTER DATABASE current_user SET enable_indexscan = on",
		"UPDATE r18.parted SET note = 'x' WHERE id = 1",
		"TRUNCATE r18.audit",
		"INSERT INTO r18.log (id, v) SELECT id, amount FROM r18.salaries WHERE id = 1",
		"CLUSTER r18.salaries USING salaries_bonus",
		"MERGE INTO r18.log l USING (SELECT 1 AS id) s ON l.id = s.id WHEN MATCHED THEN DELETE",
		"DELETE FROM r18.log WHERE id = 1",
	}
	for _, sql := range refused {
		got, ref := rt17Outcome(t, addr, db, "BEGIN", sql, "ROLLBACK")
		if !ref {
			t.Errorf("not refused: %s\n%s", sql, got)
		}
	}
	// A policy reading a protected column through a view in a subquery.
	t.Run("policy-view", func(t *testing.T) {
		rt17Oracle(t, addr, db, "a policy reading the ID number through a view confirms a guess",
			[]string{"SET r18.id_no = '310225197509112260'", "SELECT id, note FROM r18.self2"},
			[]string{"SET r18.id_no = '310225197509112261'", "SELECT id, note FROM r18.self2"})
	})
	// Index scans stay off after every way to turn them back on.
	for _, seq := range [][]string{
		{"RESET enable_indexscan", "SHOW enable_indexscan"},
		{"RESET ALL", "SHOW enable_indexscan"},
		{"DISCARD ALL", "SHOW enable_indexscan"},
		{"SET enable_indexscan TO DEFAULT", "SHOW enable_indexscan"},
	} {
		got, _ := rt17Outcome(t, addr, db, seq...)
		if !strings.Contains(got, "off|") {
			t.Errorf("%q: %s", seq, got)
		}
	}
}

// TestAnalysisReview18ListedFunctions: the functions a DBA has read and
// lists under functions: are trusted in constraints, domains and
// policies as in triggers: with them listed, the writes, the cast and
// the read the leak tests expect refused pass.
func TestAnalysisReview18ListedFunctions(t *testing.T) {
	db := newDatabase(t, rt18Schema)
	policy := strings.Replace(rt18Policy, "roles:", "functions: [r18.within_salary, r18.below_top_salary, r18.is_self]\nroles:", 1)
	addr, _ := startProxy(t, db, writePolicy(t, policy))
	for _, sqls := range [][]string{
		{"BEGIN", "INSERT INTO r18.claims VALUES (1, 1, 100)", "ROLLBACK"},
		{"BEGIN", "INSERT INTO r18.claims_d VALUES (1, 100)", "ROLLBACK"},
		{"SELECT 100::r18.claim_amount IS NOT NULL"},
		{"SET r18.id_no = '310105198807158033'", "SELECT id, note FROM r18.self"},
	} {
		if got, refused := rt17Outcome(t, addr, db, sqls...); refused || strings.Contains(got, "ERROR") {
			t.Errorf("%q with the functions listed: %q", sqls, got)
		}
	}
}
