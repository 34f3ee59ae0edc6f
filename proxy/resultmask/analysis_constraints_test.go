package resultmask_test

// Constraint oracles, the whole class: whether PostgreSQL accepts a write
// (or where it puts the row) depends on the constraints the write is
// checked against, and a constraint that reads a protected column turns
// the write into a comparison with that column. Round 16 found CHECK and
// UNIQUE; these cover the other ways the same answer comes back: foreign
// keys from either side and the writes their actions cascade to,
// exclusion constraints, unique indexes over expressions with predicates,
// partition keys over a clean and a protected column, NOT VALID checks,
// constraints of inheritance children, views WITH CHECK OPTION, and writes
// through views, MERGE, ON CONFLICT and COPY FROM.

import (
	"strings"
	"testing"
)

// constraintSchema: each table pairs clean columns an analyst may write
// with a constraint that also reads a protected column.
const constraintSchema = `
CREATE SCHEMA k;
-- a foreign key from a clean column to a protected key
CREATE TABLE k.persons (id_no char(18) PRIMARY KEY, note text);
INSERT INTO k.persons VALUES ('310105198807158033', 'a'), ('310115199203041122', 'b');
CREATE TABLE k.loans (id int PRIMARY KEY, borrower char(18) REFERENCES k.persons (id_no), note text);
INSERT INTO k.loans VALUES (1, '310105198807158033', 'x');
-- an exclusion constraint over (owner, mobile)
CREATE TABLE k.phones (id int PRIMARY KEY, owner_id int, mobile text, note text,
    EXCLUDE USING btree (owner_id WITH =, mobile WITH =));
INSERT INTO k.phones VALUES (1, 1, '13812345678', 'p1'), (2, 2, '13812345678', 'p2');
-- a partial unique index over an expression of the card number
CREATE TABLE k.cards (id int PRIMARY KEY, holder_id int, card text, active bool, note text);
CREATE UNIQUE INDEX cards_digits ON k.cards (holder_id, replace(card, ' ', '')) WHERE active;
INSERT INTO k.cards VALUES (1, 1, '6222 0212 3456 7890', true, 'c1'), (2, 1, '6222021234567890', false, 'c2');
-- RANGE partitions over (grade, amount): moving a row to another grade
-- fails when no partition takes its amount there
CREATE TABLE k.pay (id int, grade int, amount numeric, note text) PARTITION BY RANGE (grade, amount);
CREATE TABLE k.pay_1 PARTITION OF k.pay FOR VALUES FROM (1, 0) TO (1, 20000);
CREATE TABLE k.pay_2 PARTITION OF k.pay FOR VALUES FROM (2, 0) TO (2, 10000);
INSERT INTO k.pay VALUES (1, 1, 12345, 'q');
-- a CHECK added NOT VALID that a row already breaks
CREATE TABLE k.staff (id int PRIMARY KEY, amount numeric, note text);
INSERT INTO k.staff VALUES (1, 12345, 's');
ALTER TABLE k.staff ADD CONSTRAINT staff_cap CHECK (amount < 10000) NOT VALID;
-- an inheritance child with such a check of its own
CREATE TABLE k.base (id int, note text);
CREATE TABLE k.child (amount numeric) INHERITS (k.base);
INSERT INTO k.child VALUES (1, 'b', 12345);
ALTER TABLE k.child ADD CONSTRAINT child_cap CHECK (amount < 10000) NOT VALID;
-- a view over a checked table, written through
CREATE TABLE k.payroll (id int PRIMARY KEY, amount numeric NOT NULL DEFAULT 0, tax numeric CHECK (tax <= amount), note text);
INSERT INTO k.payroll VALUES (1, 12345.67, 0, 'r');
CREATE VIEW k.payroll_tax AS SELECT id, tax, note FROM k.payroll;
-- a cascade: deleting an owner sets its accounts' owner_id to NULL,
-- which a CHECK allows only for small amounts
CREATE TABLE k.owners (id int PRIMARY KEY, note text);
INSERT INTO k.owners VALUES (1, 'o1'), (2, 'o2');
CREATE TABLE k.accounts (id int PRIMARY KEY, owner_id int REFERENCES k.owners ON DELETE SET NULL, amount numeric,
    CHECK (owner_id IS NOT NULL OR amount < 10000));
INSERT INTO k.accounts VALUES (1, 1, 12345), (2, 2, 500);
-- views WITH CHECK OPTION: one whose WHERE reads the salary, one over
-- it (the option of the view below is checked too), one whose WHERE
-- reads a clean column only
CREATE VIEW k.payroll_capped AS SELECT id, tax, note FROM k.payroll WHERE tax <= amount WITH CASCADED CHECK OPTION;
CREATE VIEW k.payroll_capped_v AS SELECT id, tax FROM k.payroll_capped;
CREATE VIEW k.loans_low AS SELECT id, note FROM k.loans WHERE id < 100 WITH CHECK OPTION;
GRANT USAGE ON SCHEMA k TO PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA k TO PUBLIC;
`

// constraintPolicy: the analyst sees IDs as tokens, mobiles and cards
// masked, salaries rounded; k.loans.borrower is left unclassified (the
// policy gap a foreign key exposes: its values are public, the keys they
// must match are not).
const constraintPolicy = `
classes:
  cn_id: [k.persons.id_no]
  cn_mobile: [k.phones.mobile]
  bank_card: [k.cards.card]
  salary: [k.pay.amount, k.staff.amount, k.child.amount, k.payroll.amount, k.accounts.amount]
roles:
  analyst:
    rules:
      cn_id: tokenize
      cn_mobile: {mask: cn_mobile}
      bank_card: {mask: bank_card}
      salary: {mask: round, to: 1000}
`

// TestAnalysisConstraintOracles: each probe is a write whose success,
// without pgmantle, answers a question about a protected value (the
// comment says which); the analyst must get a refusal, the same for
// either answer. The controls write the same tables where no constraint
// reads a protected column, and must still pass.
func TestAnalysisConstraintOracles(t *testing.T) {
	db := newDatabase(t, constraintSchema)
	addr, _ := startProxy(t, db, writePolicy(t, constraintPolicy))
	probes := map[string][2]string{
		// does a person with this ID number exist?
		"fk-insert":       {`INSERT INTO k.loans (id, borrower) VALUES (10, '310105198807158033')`, `INSERT INTO k.loans (id, borrower) VALUES (10, '310105198807158034')`},
		"fk-update":       {`UPDATE k.loans SET borrower = '310115199203041122' WHERE id = 1`, `UPDATE k.loans SET borrower = '310115199203041123' WHERE id = 1`},
		"fk-merge-insert": {`MERGE INTO k.loans l USING (SELECT 11 AS id) s ON l.id = s.id WHEN NOT MATCHED THEN INSERT (id, borrower) VALUES (11, '310105198807158033')`, `MERGE INTO k.loans l USING (SELECT 11 AS id) s ON l.id = s.id WHEN NOT MATCHED THEN INSERT (id, borrower) VALUES (11, '310105198807158034')`},
		// does person 'a' (or 'b') have a loan, i.e. is their ID number
		// among the borrowers the analyst reads in clear?
		"fk-referenced-delete": {`DELETE FROM k.persons WHERE note = 'a'`, `DELETE FROM k.persons WHERE note = 'b'`},
		// do phones 1 and 2 share a mobile number?
		"exclusion-move": {`UPDATE k.phones SET owner_id = 2 WHERE id = 1`, `UPDATE k.phones SET owner_id = 3 WHERE id = 1`},
		// do cards 1 and 2 have the same digits?
		"partial-unique-activate": {`UPDATE k.cards SET active = true WHERE id = 2`, `UPDATE k.cards SET active = true, holder_id = 2 WHERE id = 2`},
		"unique-on-conflict":      {`INSERT INTO k.cards (id, holder_id) VALUES (2, 1) ON CONFLICT (id) DO UPDATE SET active = true`, `INSERT INTO k.cards (id, holder_id) VALUES (2, 1) ON CONFLICT (id) DO UPDATE SET active = true, holder_id = 2`},
		// is the salary at least 10000?
		"partition-move":     {`UPDATE k.pay SET grade = 2 WHERE id = 1`, `UPDATE k.pay SET grade = 1 WHERE id = 1`},
		"not-valid-check":    {`UPDATE k.staff SET note = 'y' WHERE id = 1`, `UPDATE k.staff SET note = 'y' WHERE id = 2`},
		"child-check":        {`UPDATE k.base SET note = 'z' WHERE id = 1`, `UPDATE k.base SET note = 'z' WHERE id = 2`},
		"cascade-check":      {`DELETE FROM k.owners WHERE id = 1`, `DELETE FROM k.owners WHERE id = 2`},
		"check-option":       {`UPDATE k.payroll_capped SET tax = 12345.67 WHERE id = 1`, `UPDATE k.payroll_capped SET tax = 12345.68 WHERE id = 1`},
		"check-option-under": {`UPDATE k.payroll_capped_v SET tax = 12345.67 WHERE id = 1`, `UPDATE k.payroll_capped_v SET tax = 12345.68 WHERE id = 1`},
		"view-write-check":   {`UPDATE k.payroll_tax SET tax = 12345.67 WHERE id = 1`, `UPDATE k.payroll_tax SET tax = 12345.68 WHERE id = 1`},
	}
	for name, p := range probes {
		t.Run(name, func(t *testing.T) {
			var answers [2]string
			for i, sql := range p {
				got, err := rt16Run(t, addr, db, "analyst", "BEGIN", sql, "ROLLBACK")
				t.Logf("%s\n  -> %q", sql, got)
				if !strings.Contains(got, "42501") || !strings.Contains(got, "constraint") {
					t.Errorf("LEAK: %s was not refused for its constraint (err=%v): %q", sql, err, got)
				}
				answers[i] = got
			}
			if answers[0] != answers[1] {
				t.Errorf("the two probes got different answers:\n%q\n%q", answers[0], answers[1])
			}
		})
	}
	t.Run("copy-from", func(t *testing.T) {
		conn := rt16Connect(t, addr, db, "analyst")
		_, err := conn.CopyFrom(t.Context(), strings.NewReader("12\t310105198807158033\tc\n"), `COPY k.loans FROM STDIN`)
		if !rt16IsRefusal(err) {
			t.Errorf("LEAK: COPY into k.loans (its foreign key tells whether the ID exists) was not refused: %v", err)
		}
	})
	// Controls: writes that make PostgreSQL check no constraint over a
	// protected column.
	for _, sql := range []string{
		`UPDATE k.loans SET note = 'n' WHERE id = 1`,                   // the foreign key is not re-checked
		`DELETE FROM k.loans WHERE id = 99`,                            // nothing references loans
		`UPDATE k.phones SET note = 'n' WHERE id = 1`,                  // outside the exclusion constraint
		`UPDATE k.cards SET note = 'n' WHERE id = 2`,                   // outside the index and its predicate
		`UPDATE k.pay SET note = 'n' WHERE id = 1`,                     // outside the partition key
		`UPDATE k.payroll_tax SET note = 'n' WHERE id = 1`,             // the CHECK does not read note
		`INSERT INTO k.payroll_tax (id, tax, note) VALUES (5, 0, 'n')`, // a CHECK of a new row reads only what the write supplies
		`INSERT INTO k.base (id, note) VALUES (7, 'n')`,                // the parent has no constraint
		`UPDATE k.loans_low SET note = 'n' WHERE id = 1`,               // a check option over a clean column
		`UPDATE k.owners SET note = 'n' WHERE id = 1`,                  // the key is not set: nothing cascades
	} {
		got, err := rt16Run(t, addr, db, "analyst", "BEGIN", sql, "ROLLBACK")
		if err != nil || strings.Contains(got, "ERROR") {
			t.Errorf("control %s: %v %q", sql, err, got)
		}
	}
}

// TestAnalysisTriggerAllowList: a write that fires a user trigger is
// refused for restricted roles unless the policy's functions: list names
// the trigger's function (red-team round 17: a validation trigger
// comparing a claim with a salary in another table answered a binary
// search); with the function listed, the same write passes, and writes
// that fire no trigger (a DELETE here: the trigger is ON INSERT OR
// UPDATE) never needed it.
func TestAnalysisTriggerAllowList(t *testing.T) {
	db := newDatabase(t, `
CREATE SCHEMA tg;
CREATE TABLE tg.notes (id int PRIMARY KEY, body text, updated_at timestamptz);
INSERT INTO tg.notes VALUES (1, 'a', now());
CREATE FUNCTION tg.touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.updated_at := now(); RETURN NEW; END $$;
CREATE TRIGGER notes_touch BEFORE INSERT OR UPDATE ON tg.notes FOR EACH ROW EXECUTE FUNCTION tg.touch();
CREATE VIEW tg.notes_v AS SELECT id, body FROM tg.notes;
GRANT USAGE ON SCHEMA tg TO PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA tg TO PUBLIC;
`)
	const rules = `
roles:
  analyst:
    rules: {}
`
	for _, c := range []struct {
		name, policy string
		refused      bool
	}{
		{"unlisted", "classes: {}\n" + rules, true},
		{"listed", "classes: {}\nfunctions: [tg.touch]\n" + rules, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			addr, _ := startProxy(t, db, writePolicy(t, c.policy))
			for _, sql := range []string{
				`UPDATE tg.notes SET body = 'b' WHERE id = 1`,
				`INSERT INTO tg.notes (id, body) VALUES (2, 'c')`,
				`UPDATE tg.notes_v SET body = 'd' WHERE id = 1`, // through a view, to the table's trigger
			} {
				got, err := rt16Run(t, addr, db, "analyst", "BEGIN", sql, "ROLLBACK")
				refused := strings.Contains(got, "42501") && strings.Contains(got, "trigger notes_touch runs tg.touch")
				if refused != c.refused {
					t.Errorf("%s: refused=%v, want %v (err=%v) %q", sql, refused, c.refused, err, got)
				}
			}
			if got, err := rt16Run(t, addr, db, "analyst", "BEGIN", `DELETE FROM tg.notes WHERE id = 99`, "ROLLBACK"); err != nil || strings.Contains(got, "ERROR") {
				t.Errorf("a DELETE fires no trigger: %v %q", err, got)
			}
		})
	}
}

// TestAnalysisDefaultFunctions: a column computed by a function the
// policy does not list (a default an INSERT leaves to it, a stored
// generated column) refuses the write, and a generated one's values have
// no known origin (red-team round 19: the function may read anything);
// listing the function lifts both; built-in defaults (a sequence, now())
// never needed it.
func TestAnalysisDefaultFunctions(t *testing.T) {
	db := newDatabase(t, `
CREATE SCHEMA df;
CREATE FUNCTION df.tag() RETURNS text LANGUAGE plpgsql AS $$ BEGIN RETURN 'x'; END $$;
CREATE FUNCTION df.twice(v numeric) RETURNS numeric LANGUAGE sql IMMUTABLE AS $$ SELECT v * 2 $$;
CREATE TABLE df.plain (id serial PRIMARY KEY, at timestamptz DEFAULT now(), note text);
CREATE TABLE df.tagged (id int, tag text DEFAULT df.tag(), note text);
CREATE TABLE df.calc (id int, v numeric, w numeric GENERATED ALWAYS AS (df.twice(v)) STORED);
INSERT INTO df.calc (id, v) VALUES (1, 2);
GRANT USAGE ON SCHEMA df TO PUBLIC;
GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA df TO PUBLIC;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA df TO PUBLIC;
`)
	const rules = "roles:\n  analyst:\n    rules: {}\n"
	for _, c := range []struct {
		name, policy string
		refused      bool
	}{
		{"unlisted", "classes: {}\n" + rules, true},
		{"listed", "classes: {}\nfunctions: [df.tag, df.twice]\n" + rules, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			addr, _ := startProxy(t, db, writePolicy(t, c.policy))
			for _, sql := range []string{
				`INSERT INTO df.tagged (id, note) VALUES (1, 'n')`,
				`INSERT INTO df.tagged (id, tag) VALUES (1, DEFAULT)`,
				`INSERT INTO df.calc (id, v) VALUES (2, 3)`,
				`UPDATE df.calc SET v = 4 WHERE id = 1`,
				`SELECT id, w FROM df.calc`,
			} {
				got, err := rt16Run(t, addr, db, "analyst", "BEGIN", sql, "ROLLBACK")
				if refused := strings.Contains(got, "42501"); refused != c.refused {
					t.Errorf("%s: refused=%v, want %v (err=%v) %q", sql, refused, c.refused, err, got)
				}
			}
			// An INSERT that names the column does not run its default.
			for _, sql := range []string{
				`INSERT INTO df.tagged (id, tag, note) VALUES (1, 't', 'n')`,
				`INSERT INTO df.plain (note) VALUES ('n')`,
			} {
				if got, err := rt16Run(t, addr, db, "analyst", "BEGIN", sql, "ROLLBACK"); err != nil || strings.Contains(got, "ERROR") {
					t.Errorf("%s: %v %q", sql, err, got)
				}
			}
		})
	}
}

// TestAnalysisDefaultFunctionsFallback: results the analysis cannot place
// (a FETCH from a cursor a listed function opened) are masked by the
// result layer alone; a generated column computed by an unlisted
// function has no known origin there either, so the result is refused,
// not relayed in clear (self-review of round 19's fix).
func TestAnalysisDefaultFunctionsFallback(t *testing.T) {
	db := newDatabase(t, `
CREATE SCHEMA dff;
CREATE FUNCTION dff.twice(v numeric) RETURNS numeric LANGUAGE sql IMMUTABLE AS $$ SELECT v * 2 $$;
CREATE TABLE dff.calc (id int, v numeric, w numeric GENERATED ALWAYS AS (dff.twice(v)) STORED);
INSERT INTO dff.calc (id, v) VALUES (1, 21);
CREATE FUNCTION dff.open_calc() RETURNS refcursor LANGUAGE plpgsql AS $$
DECLARE c refcursor := 'calc_cur'; BEGIN OPEN c FOR SELECT id, w FROM dff.calc; RETURN c; END $$;
GRANT USAGE ON SCHEMA dff TO PUBLIC;
GRANT SELECT ON ALL TABLES IN SCHEMA dff TO PUBLIC;
`)
	addr, _ := startProxy(t, db, writePolicy(t, "classes: {}\nfunctions: [dff.open_calc]\nroles:\n  analyst:\n    rules: {}\n"))
	got, err := rt16Run(t, addr, db, "analyst", "BEGIN", "SELECT dff.open_calc()", "FETCH ALL FROM calc_cur")
	t.Logf("err=%v %q", err, got)
	if strings.Contains(got, "1|42|") {
		t.Errorf("LEAK: a column computed by an unlisted function came out of a FETCH the analysis could not place")
	}
	if !strings.Contains(got, "42501") {
		t.Errorf("the FETCH was not refused: %v %q", err, got)
	}
}
