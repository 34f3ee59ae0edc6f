package resultmask_test

// Red-team round 17: what PostgreSQL checks or decides around a statement
// that pgmantle's analysis did not see: constraints over stored generated
// columns (the 2c65c53 constraint fix compared the columns a write sets
// with the constraint's columns, not with what a generated column is
// computed from), a view's WITH CHECK OPTION, the DBA's validation
// triggers, row-level security policies and the order in which an index
// scan returns rows (all five closed since: each test here failed before
// its fix). TestAnalysisReview17Defended keeps the probes pgmantle
// stopped when the round was run as regression guards.

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// rt17Schema: salaries (masked to 1000 for the analyst) with clean
// columns next to them, each table carrying one kind of check that reads
// a protected column.
const rt17Schema = `
CREATE SCHEMA r17;
-- A stored generated net pay, checked not to go negative (the usual way
-- to keep a derived figure consistent): CHECK (net >= 0) reads only net.
CREATE TABLE r17.pay (
    id int PRIMARY KEY,
    amount numeric(12,2) NOT NULL,
    tax numeric(12,2) NOT NULL DEFAULT 0,
    net numeric(12,2) GENERATED ALWAYS AS (amount - tax) STORED CHECK (net >= 0),
    note text);
INSERT INTO r17.pay (id, amount) VALUES (1, 12345.67), (2, 18765.43);
-- A natural key per company kept in a generated column with a UNIQUE
-- constraint on it (instead of UNIQUE (company_id, id_no)).
CREATE TABLE r17.people (
    id int PRIMARY KEY,
    company_id int NOT NULL,
    id_no char(18) NOT NULL,
    person_key text GENERATED ALWAYS AS (company_id::text || '/' || id_no) STORED UNIQUE,
    note text);
INSERT INTO r17.people (id, company_id, id_no) VALUES
  (1, 1, '310105198807158033'), (2, 2, '310105198807158033'), (3, 3, '310115199203041122');
-- Salaries with a bonus (nullable) and indexes, as a payroll report
-- would have them; an updatable view that lets clerks record tax only
-- within the salary (WITH CHECK OPTION).
CREATE TABLE r17.salaries (
    id int PRIMARY KEY,
    employee text NOT NULL,
    amount numeric(12,2) NOT NULL,
    bonus int,
    tax numeric(12,2) NOT NULL DEFAULT 0,
    note text);
INSERT INTO r17.salaries (id, employee, amount, bonus) VALUES
  (1, '张伟明', 12345.67, 23457), (2, '李秀英', 18765.43, 9871), (3, '王建国', 9876.54, 30333),
  (4, '赵丽华', 12100.00, 23100), (5, '陈国华', 15000.00, 12983);
-- the other employees, without a bonus
INSERT INTO r17.salaries (id, employee, amount) SELECT g, 'x', 1000 FROM generate_series(10, 20009) g;
CREATE INDEX salaries_bonus ON r17.salaries (bonus);
CREATE VIEW r17.salary_tax AS SELECT id, tax, note FROM r17.salaries WHERE tax <= amount WITH CHECK OPTION;
-- Expense claims, validated by a trigger against the claimant's salary
-- (a CHECK cannot read another table), and the same as a deferred
-- constraint trigger checked at COMMIT.
CREATE TABLE r17.claims (id int, salary_id int, claimed numeric(12,2), note text);
CREATE FUNCTION r17.claim_cap() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.claimed > (SELECT amount FROM r17.salaries WHERE id = NEW.salary_id) THEN
        RAISE EXCEPTION 'a claim may not exceed the monthly salary';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER claim_cap BEFORE INSERT OR UPDATE ON r17.claims FOR EACH ROW EXECUTE FUNCTION r17.claim_cap();
CREATE TABLE r17.claims_late (id int, salary_id int, claimed numeric(12,2), note text);
CREATE CONSTRAINT TRIGGER claim_cap_late AFTER INSERT OR UPDATE ON r17.claims_late
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION r17.claim_cap();
-- Row-level security: each person sees their own record (the
-- application sets r17.id_no at login), and payslip corrections may not
-- put tax above the salary.
CREATE TABLE r17.self (id int PRIMARY KEY, id_no char(18) NOT NULL, note text);
INSERT INTO r17.self VALUES (1, '310105198807158033', 'a'), (2, '310115199203041122', 'b');
ALTER TABLE r17.self ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_record ON r17.self USING (id_no = current_setting('r17.id_no', true));
CREATE TABLE r17.slips (id int PRIMARY KEY, amount numeric(12,2) NOT NULL, tax numeric(12,2) NOT NULL DEFAULT 0, note text);
INSERT INTO r17.slips (id, amount) VALUES (1, 12345.67), (2, 18765.43);
ALTER TABLE r17.slips ENABLE ROW LEVEL SECURITY;
CREATE POLICY slips_read ON r17.slips FOR SELECT USING (true);
CREATE POLICY slips_fix ON r17.slips FOR UPDATE USING (true) WITH CHECK (tax <= amount);
-- The usual tenant filter: a policy over a clean column; and a view over
-- r17.self (read under its owner's policies).
CREATE TABLE r17.tenant_notes (id int PRIMARY KEY, tenant int NOT NULL, id_no char(18), note text);
INSERT INTO r17.tenant_notes VALUES (1, 1, '310105198807158033', 'a'), (2, 2, '310115199203041122', 'b');
ALTER TABLE r17.tenant_notes ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant ON r17.tenant_notes USING (tenant = current_setting('r17.tenant', true)::int);
CREATE VIEW r17.self_v AS SELECT id, note FROM r17.self;
-- ID numbers with an index, searched by token.
CREATE TABLE r17.ids (id int PRIMARY KEY, id_no char(18) NOT NULL, note text);
INSERT INTO r17.ids VALUES
  (1, '310225197509112260', 'a'), (2, '110101198001011232', 'b'), (3, '310115199203041122', 'c'),
  (4, '310105198807158033', 'd'), (5, '320102199001011234', 'e');
INSERT INTO r17.ids SELECT g, '9' || lpad(g::text, 17, '0'), 'f' FROM generate_series(10, 20009) g;
CREATE INDEX ids_id_no ON r17.ids (id_no);
ANALYZE r17.salaries; ANALYZE r17.ids;
GRANT USAGE ON SCHEMA r17 TO PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA r17 TO PUBLIC;
`

// rt17Policy: the generated columns net and person_key are not named
// (round 16: they take the class of the protected column they read).
const rt17Policy = `
classes:
  cn_id: [r17.people.id_no, r17.self.id_no, r17.ids.id_no, r17.tenant_notes.id_no]
  person_name: [r17.salaries.employee]
  salary: [r17.pay.amount, r17.salaries.amount, r17.salaries.bonus, r17.slips.amount]
` + rtAnalystRoles

// rt17Proxy starts pgmantle in front of rt17Schema.
func rt17Proxy(t *testing.T) (addr, db string) { return rtProxy(t, rt17Schema, rt17Policy) }

// rt17Outcome runs sqls in one analyst session and returns the
// transcript, and whether pgmantle refused one of them.
func rt17Outcome(t *testing.T, addr, db string, sqls ...string) (string, bool) {
	t.Helper()
	got, errs := rtRunAll(t, rt16Connect(t, addr, db, "analyst"), sqls...)
	return got, slices.ContainsFunc(errs, rt16IsRefusal)
}

// rt17Oracle runs two probes that differ only in the value compared with
// a protected one: if pgmantle allows both, their answers must not differ.
func rt17Oracle(t *testing.T, addr, db, what string, hit, miss []string) {
	t.Helper()
	h, hr := rt17Outcome(t, addr, db, hit...)
	m, mr := rt17Outcome(t, addr, db, miss...)
	t.Logf("probe 1 %q:\n%s\nprobe 2 %q:\n%s", hit, h, miss, m)
	if !hr && !mr && h != m {
		t.Errorf("LEAK: %s", what)
	}
}

// TestAnalysisReview17GeneratedColumnConstraintLeak: 2c65c53 charges a
// constraint's protected columns when the write sets one of the columns
// the constraint lists (writeEffect.setAny over Constraint.Columns). A
// constraint over a stored generated column lists only that column, and
// an UPDATE never names it: PostgreSQL recomputes it from the columns the
// UPDATE does set. So
//
//   - net: CHECK (net >= 0) with net = amount - tax. UPDATE r17.pay SET
//     tax = v WHERE id = 1 passes for v <= 12345.67 and fails (23514) for
//     12345.68: a binary search on tax recovers the salary to the cent,
//     exactly round 16's CHECK (tax <= amount) attack, written one
//     column further;
//   - key: UNIQUE (person_key), person_key = company_id || '/' || id_no.
//     UPDATE r17.people SET company_id = 2 WHERE id = 1 fails (23505)
//     exactly when company 2 has a person with the same ID number: the
//     join of two tokenized ID numbers the analysis refuses as such
//     (round 16's UNIQUE (company_id, name) move).
//
// Safe behaviour: a write sets, besides the columns it names, every
// stored generated column computed from them (Column.GeneratedFrom), and
// the constraints over those are charged; the probes are refused alike.
func TestAnalysisReview17GeneratedColumnConstraintLeak(t *testing.T) {
	addr, db := rt17Proxy(t)
	t.Run("check-net", func(t *testing.T) {
		rt17Oracle(t, addr, db, "UPDATE ... SET tax, accepted or rejected by CHECK (net >= 0) on net = amount - tax, compares tax with the salary",
			[]string{"BEGIN", "UPDATE r17.pay SET tax = 12345.67 WHERE id = 1", "ROLLBACK"},
			[]string{"BEGIN", "UPDATE r17.pay SET tax = 12345.68 WHERE id = 1", "ROLLBACK"})
	})
	t.Run("unique-key", func(t *testing.T) {
		rt17Oracle(t, addr, db, "moving a person to another company, rejected by UNIQUE (person_key) on company_id || id_no, tells whether a person there has the same (tokenized) ID number",
			[]string{"BEGIN", "UPDATE r17.people SET company_id = 2 WHERE id = 1", "ROLLBACK"},
			[]string{"BEGIN", "UPDATE r17.people SET company_id = 2 WHERE id = 3", "ROLLBACK"})
	})
	// Control: a write no constraint depends on still passes.
	if got, refused := rt17Outcome(t, addr, db, "UPDATE r17.pay SET note = 'x' WHERE id = 1"); refused || !strings.Contains(got, "UPDATE 1") {
		t.Errorf("UPDATE of note (no constraint reads it): %q", got)
	}
}

// TestAnalysisReview17CheckOptionViewLeak: a view WITH CHECK OPTION makes
// PostgreSQL check every row written through it against the view's WHERE
// (44000 when it fails): a constraint by another name. Here WHERE tax <=
// amount, amount being a salary the analyst sees rounded to 1000. The
// analysis reads a view's WHERE as the owner's business ("only the
// lineage of its columns matters"), and 2c65c53 counts the base table's
// constraints, not the view's: UPDATE r17.salary_tax SET tax = v WHERE id
// = 1 passes for v <= 12345.67 and fails for 12345.68, a binary search
// for the salary. Safe behaviour: a write through a view with a check
// option (local or cascaded, through views over views) charges the
// protected columns its WHERE reads as UseConstraint; refused here.
func TestAnalysisReview17CheckOptionViewLeak(t *testing.T) {
	addr, db := rt17Proxy(t)
	rt17Oracle(t, addr, db, "UPDATE through a view WITH CHECK OPTION (WHERE tax <= amount) compares the new tax with the salary",
		[]string{"BEGIN", "UPDATE r17.salary_tax SET tax = 12345.67 WHERE id = 1", "ROLLBACK"},
		[]string{"BEGIN", "UPDATE r17.salary_tax SET tax = 12345.68 WHERE id = 1", "ROLLBACK"})
	if got, refused := rt17Outcome(t, addr, db, "UPDATE r17.salary_tax SET note = 'x' WHERE id = 1"); refused || !strings.Contains(got, "UPDATE 1") {
		t.Logf("control: UPDATE of note through the view: %q (a fix may refuse it too: the check option is checked on every row written)", got)
	}
}

// TestAnalysisReview17RowSecurityLeak: row-level security policies add
// predicates and checks PostgreSQL applies to the analyst's statements;
// pgmantle loads no pg_policy and analyses the statement as written.
//
//   - own-record: USING (id_no = current_setting('r17.id_no', true)), the
//     usual "each person sees their own row". SET r17.id_no is allowed
//     (any custom setting is), so SET r17.id_no = '<guess>' followed by
//     SELECT count(*) FROM r17.self counts the rows whose real ID number
//     is the guess: a guessed ID confirmed without a token, which search
//     by token exists to prevent; the row itself then comes out too.
//   - with-check: FOR UPDATE ... WITH CHECK (tax <= amount) is round 16's
//     CHECK constraint written as a policy: UPDATE r17.slips SET tax = v
//     fails (42501 from PostgreSQL, "new row violates row-level security
//     policy") exactly when v exceeds the salary.
//
// Safe behaviour (since the fix): the catalog loads the columns the
// policies of tables with relrowsecurity read (pg_depend), and a
// restricted statement reading or writing such a table, or a view over
// one, uses them as predicates: refused where the class allows no
// predicate. Policies over clean columns (the usual tenant filter) change
// nothing.
func TestAnalysisReview17RowSecurityLeak(t *testing.T) {
	addr, db := rt17Proxy(t)
	t.Run("own-record", func(t *testing.T) {
		rt17Oracle(t, addr, db, "a row-level security policy comparing id_no with a setting the analyst chooses confirms a guessed ID number",
			[]string{"SET r17.id_no = '310105198807158033'", "SELECT count(*) FROM r17.self"},
			[]string{"SET r17.id_no = '310105198807158034'", "SELECT count(*) FROM r17.self"})
	})
	t.Run("with-check", func(t *testing.T) {
		rt17Oracle(t, addr, db, "UPDATE ... SET tax, accepted or rejected by a policy's WITH CHECK (tax <= amount), compares tax with the salary",
			[]string{"BEGIN", "UPDATE r17.slips SET tax = 12345.67 WHERE id = 1", "ROLLBACK"},
			[]string{"BEGIN", "UPDATE r17.slips SET tax = 12345.68 WHERE id = 1", "ROLLBACK"})
	})
	t.Run("through-a-view", func(t *testing.T) {
		if got, refused := rt17Outcome(t, addr, db, "SELECT count(*) FROM r17.self_v"); !refused {
			t.Errorf("LEAK: a view over r17.self reads it under its policy, which compares id_no: %q", got)
		}
	})
	t.Run("clean-policy", func(t *testing.T) {
		got, refused := rt17Outcome(t, addr, db, "SET r17.tenant = '1'", "SELECT id, id_no FROM r17.tenant_notes")
		if refused || !strings.Contains(got, "SELECT 1") || strings.Contains(got, "310105198807158033") {
			t.Errorf("a table whose policy reads a clean column: %q (want one row, its ID number tokenized)", got)
		}
	})
}

// TestAnalysisReview17TriggerLeak: a validation trigger the DBA wrote
// (a CHECK cannot read another table, so "a claim may not exceed the
// monthly salary" is a trigger) turns an INSERT of clean values into a
// comparison with a salary: INSERT INTO r17.claims (id, salary_id,
// claimed) VALUES (1, 1, v) passes for v <= 12345.67 and raises P0001
// for 12345.68. The message is scrubbed, but whether the statement fails
// is the answer; a binary search recovers the salary to the cent. A
// deferred constraint trigger gives the same answer at COMMIT. pgmantle
// loads no triggers of tables (only whether a view has some), although
// 2c65c53 treats the declarative form of the same rule (a foreign key,
// a CHECK) as a comparison. Safe behaviour: writes by restricted roles to
// a table with row or statement triggers (other than pgmantle-vetted
// ones: RI triggers, triggers whose function is on a policy allow-list
// of trigger functions) are refused, as writes to tables with rules are.
func TestAnalysisReview17TriggerLeak(t *testing.T) {
	addr, db := rt17Proxy(t)
	t.Run("before-trigger", func(t *testing.T) {
		rt17Oracle(t, addr, db, "an INSERT of clean values, accepted or rejected by a validation trigger, compares the claim with the salary",
			[]string{"BEGIN", "INSERT INTO r17.claims (id, salary_id, claimed) VALUES (1, 1, 12345.67)", "ROLLBACK"},
			[]string{"BEGIN", "INSERT INTO r17.claims (id, salary_id, claimed) VALUES (1, 1, 12345.68)", "ROLLBACK"})
	})
	t.Run("constraint-trigger-at-commit", func(t *testing.T) {
		rt17Oracle(t, addr, db, "a deferred constraint trigger answers the same comparison at COMMIT",
			[]string{"BEGIN", "INSERT INTO r17.claims_late (id, salary_id, claimed) VALUES (1, 1, 12345.67)", "COMMIT", "DELETE FROM r17.claims_late"},
			[]string{"BEGIN", "INSERT INTO r17.claims_late (id, salary_id, claimed) VALUES (1, 1, 12345.68)", "COMMIT", "DELETE FROM r17.claims_late"})
	})
}

// rt17Costs make an index scan cheaper than a sequential one for the
// small test tables; a restricted role may set them (only enable_* is
// refused). On a table of realistic size the planner picks the index
// for a selective IS NOT NULL, or for an IN list of a few IDs, without
// them.
var rt17Costs = []string{"SET seq_page_cost = 1000", "SET random_page_cost = 0.001", "SET cpu_index_tuple_cost = 0"}

// rt17IDs returns the first column of each row of a transcript.
func rt17IDs(transcript string) []string {
	var ids []string
	for _, line := range strings.Split(transcript, "\n") {
		if m := regexp.MustCompile(`^(\d+)\|`).FindStringSubmatch(line); m != nil {
			ids = append(ids, m[1])
		}
	}
	return ids
}

// TestAnalysisReview17IndexOrderLeak: a B-tree index scan returns rows in
// the order of the indexed (real) values, and two statements pgmantle
// allows on protected columns can be served by one:
//
//   - presence: IS NOT NULL is allowed on a masked column (a presence
//     test) and is an index condition: SELECT id FROM r17.salaries WHERE
//     bonus IS NOT NULL comes back in bonus order (2 5 4 1 3). A masked
//     class allows no ordering at all; the order even ranks bonuses the
//     mask shows alike (23457 and 23100, both 23000). LIMIT 1 gives the
//     lowest. ORDER BY bonus is refused (checked in Defended).
//   - token-in: search by token with several tokens, WHERE id_no IN
//     (tok1, ..., tok5), is detokenized and served by an index scan: the
//     rows come back in the order of the real ID numbers (region codes
//     and birth dates), which tokens are designed to hide and ORDER BY
//     id_no is refused for.
//
// The planner cost settings that force the plan in "presence" and
// "token-in" (seq_page_cost, random_page_cost) are allowed, while
// enable_indexscan and the other enable_* switches are refused for
// exactly this reason (README: "Row order after grouping and joining").
// Without any setting, LIMIT 1 makes the planner choose the index scan
// itself (20,000 rows): it returns the lowest value, and excluding the
// ids found so far (AND id NOT IN (...), a clean predicate) ranks every
// row ("presence-natural", and the last part of "token-in"). The helper
// suggested counting such predicates as ordering uses; an index on
// (company_id, bonus) serving company_id = 1 orders rows as well, so the
// fix turns the order off instead: restricted sessions start with index
// scans (and merge joins) disabled, which the role cannot turn back on
// (TestRestrictedSessionPlanner); bitmap scans use the same indexes and
// return rows in the table's order.
func TestAnalysisReview17IndexOrderLeak(t *testing.T) {
	addr, db := rt17Proxy(t)
	t.Run("presence", func(t *testing.T) {
		got, refused := rt17Outcome(t, addr, db, append(slices.Clone(rt17Costs), "SELECT id, bonus FROM r17.salaries WHERE bonus IS NOT NULL")...)
		ids := rt17IDs(got)
		t.Logf("refused=%v ids %v:\n%s", refused, ids, got)
		if !refused && slices.Equal(ids, []string{"2", "5", "4", "1", "3"}) {
			t.Errorf("LEAK: the rows came back in the order of the real bonuses (stored in the order 1 2 3 4 5; rows 4 and 1 both show 23000)")
		}
	})
	// Without any setting: with LIMIT 1 the planner picks the index scan
	// by itself (20,000 rows, 5 with a bonus), which gives the lowest
	// bonus; excluding the ids found so far gives the whole ranking.
	t.Run("presence-natural", func(t *testing.T) {
		ranking := rt17Rank(t, addr, db, "SELECT id FROM r17.salaries WHERE bonus IS NOT NULL AND id NOT IN (%s) LIMIT 1")
		if slices.Equal(ranking, []string{"2", "5", "4", "1", "3"}) {
			t.Errorf("LEAK: LIMIT 1 over IS NOT NULL, repeated, ranks the employees by their real bonus: %v", ranking)
		}
	})
	t.Run("token-in", func(t *testing.T) {
		tokens, refused := rt17Outcome(t, addr, db, "SELECT id, id_no FROM r17.ids WHERE id < 10 ORDER BY id")
		if refused {
			t.Fatalf("reading the tokens: %q", tokens)
		}
		var list []string
		for _, line := range strings.Split(tokens, "\n") {
			if f := strings.Split(line, "|"); len(f) == 3 {
				list = append(list, "'"+f[1]+"'")
			}
		}
		if len(list) != 5 {
			t.Fatalf("tokens: %q", tokens)
		}
		// Ask in the order of the rows (and, below, reversed): the answer
		// must not follow the real values' order whatever the list's.
		for _, l := range [][]string{list, {list[4], list[3], list[2], list[1], list[0]}} {
			got, refused := rt17Outcome(t, addr, db, append(slices.Clone(rt17Costs), "SELECT id FROM r17.ids WHERE id_no IN ("+strings.Join(l, ", ")+")")...)
			ids := rt17IDs(got)
			t.Logf("refused=%v ids %v:\n%s", refused, ids, got)
			// Real order: 110101.. (2), 310105.. (4), 310115.. (3), 310225.. (1), 320102.. (5).
			if !refused && slices.Equal(ids, []string{"2", "4", "3", "1", "5"}) {
				t.Errorf("LEAK: a search by tokens came back in the order of the real ID numbers")
			}
		}
		// The same without settings, one LIMIT 1 at a time.
		ranking := rt17Rank(t, addr, db, "SELECT id FROM r17.ids WHERE id_no IN ("+strings.Join(list, ", ")+") AND id NOT IN (%s) LIMIT 1")
		if slices.Equal(ranking, []string{"2", "4", "3", "1", "5"}) {
			t.Errorf("LEAK: LIMIT 1 over a search by tokens, repeated, ranks the rows by their real ID numbers: %v", ranking)
		}
	})
}

// rt17Rank runs query (its %s the ids found so far) until it returns no
// row or a refusal, and returns the ids in the order found.
func rt17Rank(t *testing.T, addr, db, query string) []string {
	t.Helper()
	found := []string{"0"}
	for range 10 {
		got, refused := rt17Outcome(t, addr, db, fmt.Sprintf(query, strings.Join(found, ", ")))
		ids := rt17IDs(got)
		if refused || len(ids) != 1 {
			t.Logf("refused=%v: %q", refused, got)
			break
		}
		found = append(found, ids[0])
	}
	t.Logf("ranking %v", found[1:])
	return found[1:]
}

// TestAnalysisReview17Defended: probes of this round that pgmantle stops
// today (refused with 42501 before PostgreSQL runs them, or answered
// alike for a right and a wrong guess).
func TestAnalysisReview17Defended(t *testing.T) {
	addr, db := rt17Proxy(t)
	refused := []string{
		// Planner switches, plans and statistics.
		"SET enable_indexscan = off",
		"SELECT set_config('enable_seqscan', 'off', false)",
		"EXPLAIN SELECT id FROM r17.salaries WHERE bonus IS NOT NULL",
		"SELECT * FROM pg_stats WHERE schemaname = 'r17'",
		// Ordering, directly or through windows, DISTINCT ON, cursors.
		"SELECT id FROM r17.salaries WHERE bonus IS NOT NULL ORDER BY bonus",
		"SELECT id FROM r17.salaries ORDER BY bonus NULLS FIRST",
		"SELECT count(*) OVER (ORDER BY bonus RANGE BETWEEN 100 PRECEDING AND 100 FOLLOWING) FROM r17.salaries",
		"SELECT id, count(*) OVER (PARTITION BY bonus) FROM r17.salaries",
		"SELECT DISTINCT ON (bonus) id FROM r17.salaries",
		"DECLARE r17c SCROLL CURSOR WITH HOLD FOR SELECT id FROM r17.salaries ORDER BY bonus",
		"PREPARE r17p AS SELECT id FROM r17.salaries ORDER BY bonus",
		"COPY (SELECT id FROM r17.salaries ORDER BY bonus) TO STDOUT",
		"SELECT id FROM r17.ids WHERE id_no > '3'",
		// Row counts from a protected value.
		"SELECT id FROM r17.salaries LIMIT (SELECT bonus FROM r17.salaries WHERE id = 1)",
		"SELECT id FROM r17.salaries OFFSET (SELECT bonus FROM r17.salaries WHERE id = 1) / 1000",
		// Errors that depend on a protected value.
		"SELECT bonus::int2 FROM r17.salaries",
		"SELECT 1 / (bonus - 23457) FROM r17.salaries WHERE id = 1",
		"SELECT (ARRAY[1, 2])[bonus] FROM r17.salaries",
		"SELECT id FROM r17.salaries WHERE bonus = ANY (ARRAY[23457])",
		"SELECT id FROM r17.salaries WHERE bonus IS DISTINCT FROM 23457",
		// Comparisons hidden in set operations, recursion, grouping sets
		// and LATERAL.
		"WITH RECURSIVE r(b) AS (SELECT bonus FROM r17.salaries UNION SELECT b FROM r) SELECT count(*) FROM r",
		"SELECT count(*) FROM (SELECT bonus FROM r17.salaries INTERSECT SELECT 23457) x",
		"SELECT id FROM r17.salaries GROUP BY GROUPING SETS ((id), (bonus))",
		"SELECT s.id FROM r17.salaries s, LATERAL (SELECT 1 WHERE s.bonus > 20000) x",
		// Code and session objects.
		"DO $$BEGIN RAISE NOTICE '%', (SELECT bonus FROM r17.salaries WHERE id = 1); END$$",
		"NOTIFY r17, 'x'",
		"CREATE TEMP TABLE r17t (id int)",
		"CREATE FUNCTION pg_temp.r17f() RETURNS int LANGUAGE sql AS 'SELECT 1'",
		"CREATE TRIGGER r17t BEFORE INSERT ON r17.claims FOR EACH ROW EXECUTE FUNCTION r17.claim_cap()",
		// Writes of protected columns, and constraints that list them.
		"UPDATE r17.pay SET amount = amount WHERE id = 1",
		"UPDATE r17.people SET id_no = id_no WHERE id = 1",
		"INSERT INTO r17.people (id, company_id, id_no) VALUES (9, 1, '310105198807158033')",
		"UPDATE r17.salaries SET tax = 1 WHERE id = 1 RETURNING bonus::text",
	}
	rtAllRefused(t, addr, db, refused)
	// Search by token: a guessed real ID number finds nothing, right or
	// wrong, even with the index and an IN list.
	t.Run("real-guess", func(t *testing.T) {
		rt17Oracle(t, addr, db, "a guessed real ID number answered differently from a wrong one",
			[]string{"SELECT count(*) FROM r17.ids WHERE id_no IN ('310105198807158033', '320102199001011234')"},
			[]string{"SELECT count(*) FROM r17.ids WHERE id_no IN ('310105198807158034', '320102199001011235')"})
	})
	// Masked columns, the view's rows and presence counts are answered
	// without a value.
	t.Run("noleak", func(t *testing.T) {
		for _, sql := range []string{
			"SELECT id, bonus, employee, amount FROM r17.salaries WHERE id < 10",
			"SELECT id, tax FROM r17.salary_tax WHERE id < 10",
			"SELECT count(*) FILTER (WHERE bonus IS NULL), count(bonus) FROM r17.salaries",
			"SELECT id, id_no FROM r17.ids WHERE id < 10",
		} {
			got, err := rt16Run(t, addr, db, "analyst", sql)
			t.Logf("%s\n  -> err=%v\n%s", sql, err, got)
			if err != nil {
				t.Errorf("%s: %v, want it answered", sql, err)
			}
			if v, class := findSecret([]byte(got), nil); v != "" {
				t.Errorf("%s: the client received a %s value %q", sql, class, v)
			}
		}
	})
}

// TestAnalysisReview17SystemColumns: the round's side observation. The
// analysis allows a restricted role to select a table's row-version
// system columns (xmin, cmin, xmax, cmax: no column's data), but the
// result layer found no origin for them and ended the session (FATAL
// 42501). They now go out as they are, next to the masked columns, and
// the session goes on. ctid, a row's place in storage, tells the sizes
// of the values stored around it (red-team round 20): of a table with
// protected columns it is refused before the statement runs; of one
// without, it goes out.
func TestAnalysisReview17SystemColumns(t *testing.T) {
	addr, db := rt17Proxy(t)
	got, err := rt16Run(t, addr, db, "analyst", "SELECT xmin, cmin, xmax, cmax, id, amount FROM r17.salaries WHERE id = 1", "SELECT 1")
	t.Logf("%q", got)
	if err != nil || strings.Contains(got, "ERROR") || !strings.Contains(got, "|1|12000.00") {
		t.Errorf("system columns next to a masked salary: %v %q (want the row with the amount rounded, and the session alive)", err, got)
	}
	got, err = rt16Run(t, addr, db, "analyst", "SELECT ctid, id FROM r17.salaries WHERE id = 1", "SELECT ctid, id FROM r17.claims ORDER BY id LIMIT 1", "SELECT 1")
	t.Logf("%q", got)
	if strings.Count(got, "ERROR ") != 1 || !strings.HasPrefix(got, "ERROR") || strings.Contains(got, "FATAL") || !strings.HasSuffix(strings.TrimSpace(got), "SELECT 1") {
		t.Errorf("ctid: %v %q (want it refused next to protected columns, answered for a clean table, and the session alive)", err, got)
	}
}
