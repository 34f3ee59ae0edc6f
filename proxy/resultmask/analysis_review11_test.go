package resultmask_test

// Red-team round 11 (time of check vs time of use): pgmantle decides a
// statement on its catalog snapshot when the statement arrives, and
// PostgreSQL runs it later, on the catalog as it is then. Another
// session (an owner or DBA) changing a view, a table or a rule in
// between must not make a protected value reach a restricted role in
// clear.
//
// Tests named ...Leak... fail on the code they were written against
// (a clear value reached analyst); tests named ...Safe... pin behaviour
// that was found safe.

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/pgmantle/pgmantle/internal/pgtest"
)

// rt11Owner connects as the superuser (the DBA) to db, bypassing pgmantle.
func rt11Owner(t *testing.T, db string) *pgx.Conn {
	t.Helper()
	return pgtest.Connect(t, pgtest.Cluster(t).DSN("postgres", "", db))
}

func rt11Exec(t *testing.T, conn *pgx.Conn, sql string) {
	t.Helper()
	if _, err := conn.Exec(pgtest.Context(t), sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// rt11Known waits until pgmantle's catalog snapshot holds rel: analyst
// can count its rows through pgmantle (an unknown name is refused with
// 42501). A snapshot is loaded in one transaction, so everything
// committed before rel was created is in it too.
func rt11Known(t *testing.T, addr, db, rel string) {
	t.Helper()
	fe := rawAs(t, addr, db, "analyst")
	deadline := time.Now().Add(20 * time.Second)
	for {
		fe.Send(&pgproto3.Query{String: "SELECT count(*) FROM " + rel})
		if err := fe.Flush(); err != nil {
			t.Fatal(err)
		}
		if _, codes := readAll(t, fe, 1); len(codes) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("pgmantle's catalog never learnt of %s", rel)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// rt11Send sends messages and reads until n ReadyForQuery.
func rt11Send(t *testing.T, fe *pgproto3.Frontend, n int, msgs ...pgproto3.FrontendMessage) ([]string, []string) {
	t.Helper()
	for _, m := range msgs {
		fe.Send(m)
	}
	if err := fe.Flush(); err != nil {
		t.Fatal(err)
	}
	return readAll(t, fe, n)
}

// The harmless and the redefined body of the view the tests use: same
// column names and types (CREATE OR REPLACE VIEW requires it), the second
// exposes bk.contacts.email (class email, masked for analyst).
const (
	rt11Harmless = "SELECT id, note AS info FROM staging.contacts"
	rt11Evil     = "SELECT id, email AS info FROM bk.contacts"
)

// TestAnalysisReview11PreparedLeak: a statement prepared (protocol Parse
// or SQL PREPARE) while a view was harmless keeps the analysis of that
// moment. The owner then redefines the view (or shadows, renames, drops
// and re-creates what the statement reads); PostgreSQL re-plans the
// prepared statement on its next use and reads the protected column,
// and pgmantle masks the result by the Parse-time plan: an expression
// column (RowDescription origin 0) planned "clean" goes out in clear.
// This happens even after pgmantle's catalog snapshot has caught up
// (each subtest waits for it): a prepared statement is never analysed
// again when the catalog changes.
func TestAnalysisReview11PreparedLeak(t *testing.T) {
	addr, db, _, _ := analysisProxy(t)
	owner := rt11Owner(t, db)

	type change struct {
		name   string
		setup  string // owner, before the analyst prepares
		path   string // analyst's search_path ("" = default)
		sql    string // what analyst prepares
		change string // owner, after the prepare
	}
	changes := []change{
		{name: "replace_view",
			setup:  "CREATE VIEW bk.rt11_v1 AS " + rt11Harmless + "; GRANT SELECT ON bk.rt11_v1 TO PUBLIC",
			sql:    "SELECT info || '' AS i FROM bk.rt11_v1 ORDER BY id",
			change: "CREATE OR REPLACE VIEW bk.rt11_v1 AS " + rt11Evil},
		{name: "rename_swap",
			setup: "CREATE VIEW bk.rt11_v2 AS " + rt11Harmless + "; CREATE VIEW bk.rt11_v2e AS " + rt11Evil +
				"; GRANT SELECT ON bk.rt11_v2, bk.rt11_v2e TO PUBLIC",
			sql:    "SELECT info || '' AS i FROM bk.rt11_v2 ORDER BY id",
			change: "ALTER VIEW bk.rt11_v2 RENAME TO rt11_v2old; ALTER VIEW bk.rt11_v2e RENAME TO rt11_v2"},
		{name: "drop_recreate",
			setup:  "CREATE TABLE bk.rt11_t3 (id int, info text); INSERT INTO bk.rt11_t3 VALUES (1, 'clean'); GRANT SELECT ON bk.rt11_t3 TO PUBLIC",
			sql:    "SELECT info || '' AS i FROM bk.rt11_t3 ORDER BY id",
			change: "DROP TABLE bk.rt11_t3; CREATE VIEW bk.rt11_t3 AS " + rt11Evil + "; GRANT SELECT ON bk.rt11_t3 TO PUBLIC"},
		{name: "set_schema",
			setup: "CREATE SCHEMA rt11s4; GRANT USAGE ON SCHEMA rt11s4 TO PUBLIC; CREATE VIEW bk.rt11_v4 AS " + rt11Harmless +
				"; CREATE VIEW rt11s4.rt11_v4 AS " + rt11Evil + "; GRANT SELECT ON bk.rt11_v4, rt11s4.rt11_v4 TO PUBLIC",
			sql:    "SELECT info || '' AS i FROM bk.rt11_v4 ORDER BY id",
			change: "ALTER VIEW bk.rt11_v4 SET SCHEMA staging; ALTER VIEW rt11s4.rt11_v4 SET SCHEMA bk"},
		{name: "rename_column_swap",
			setup: "CREATE VIEW bk.rt11_v5 AS SELECT c.id, s.note AS info, c.email AS other " +
				"FROM bk.contacts c LEFT JOIN staging.contacts s ON s.id = c.id; GRANT SELECT ON bk.rt11_v5 TO PUBLIC",
			sql: "SELECT info || '' AS i FROM bk.rt11_v5 ORDER BY id",
			change: "ALTER VIEW bk.rt11_v5 RENAME COLUMN info TO tmp; ALTER VIEW bk.rt11_v5 RENAME COLUMN other TO info; " +
				"ALTER VIEW bk.rt11_v5 RENAME COLUMN tmp TO other"},
		{name: "search_path_shadow",
			// analyst's search_path names a schema that does not exist yet;
			// the owner creates it with a look-alike, and any invalidation
			// of the statement's table (here a GRANT) makes PostgreSQL
			// resolve the name again under the same search_path.
			setup:  "SELECT 1",
			path:   "rt11s6, staging",
			sql:    "SELECT note || '' AS i FROM contacts ORDER BY id",
			change: "CREATE SCHEMA rt11s6; GRANT USAGE ON SCHEMA rt11s6 TO PUBLIC; CREATE VIEW rt11s6.contacts AS SELECT id, email AS note FROM bk.contacts; GRANT SELECT ON rt11s6.contacts TO PUBLIC; GRANT SELECT ON staging.contacts TO PUBLIC"},
	}
	for i, c := range changes {
		for _, sqlLevel := range []bool{false, true} {
			name := c.name + "/protocol"
			if sqlLevel {
				name = c.name + "/sql_prepare"
			}
			t.Run(name, func(t *testing.T) {
				if sqlLevel {
					// The protocol run changed the objects: start again.
					rt11Exec(t, owner, rt11Undo(c.name))
				}
				rt11Exec(t, owner, c.setup)
				mark := fmt.Sprintf("bk.rt11_mark_%d_%t_a", i, sqlLevel)
				rt11Exec(t, owner, "CREATE TABLE "+mark+" (); GRANT SELECT ON "+mark+" TO PUBLIC")
				rt11Known(t, addr, db, mark)

				fe := rawAs(t, addr, db, "analyst")
				if c.path != "" {
					if _, codes := rt11Send(t, fe, 1, &pgproto3.Query{String: "SET search_path = " + c.path}); len(codes) > 0 {
						t.Fatalf("SET search_path: %v", codes)
					}
				}
				// Before the change: allowed, and clean.
				var values, codes []string
				if sqlLevel {
					if _, codes := rt11Send(t, fe, 1, &pgproto3.Query{String: "PREPARE rt11p AS " + c.sql}); len(codes) > 0 {
						t.Fatalf("PREPARE: %v", codes)
					}
					values, codes = rt11Send(t, fe, 1, &pgproto3.Query{String: "EXECUTE rt11p"})
				} else {
					values, codes = rt11Send(t, fe, 1, &pgproto3.Parse{Name: "rt11s", Query: c.sql},
						&pgproto3.Bind{PreparedStatement: "rt11s"}, &pgproto3.Describe{ObjectType: 'P'},
						&pgproto3.Execute{}, &pgproto3.Sync{})
				}
				if len(codes) > 0 {
					t.Fatalf("before the change, %s: errors %v", c.sql, codes)
				}
				noSecret(t, "before the change", values)

				// The owner's change, committed; then pgmantle's snapshot
				// catches up (a marker created after it is known).
				rt11Exec(t, owner, c.change)
				mark = fmt.Sprintf("bk.rt11_mark_%d_%t_b", i, sqlLevel)
				rt11Exec(t, owner, "CREATE TABLE "+mark+" (); GRANT SELECT ON "+mark+" TO PUBLIC")
				rt11Known(t, addr, db, mark)

				if sqlLevel {
					values, codes = rt11Send(t, fe, 1, &pgproto3.Query{String: "EXECUTE rt11p"})
				} else {
					values, codes = rt11Send(t, fe, 1, &pgproto3.Bind{PreparedStatement: "rt11s"},
						&pgproto3.Describe{ObjectType: 'P'}, &pgproto3.Execute{}, &pgproto3.Sync{})
				}
				t.Logf("after %q: values %q, errors %v", c.change, values, codes)
				noSecret(t, "prepared before the change, run after it", values)
			})
		}
	}
}

// rt11Undo puts a TestAnalysisReview11PreparedLeak change's objects back
// to before its setup, so that the case can run a second time.
func rt11Undo(name string) string {
	switch name {
	case "replace_view":
		return "DROP VIEW IF EXISTS bk.rt11_v1"
	case "rename_swap":
		return "DROP VIEW IF EXISTS bk.rt11_v2, bk.rt11_v2old, bk.rt11_v2e"
	case "drop_recreate":
		return "DROP VIEW IF EXISTS bk.rt11_t3"
	case "set_schema":
		return "DROP VIEW IF EXISTS bk.rt11_v4, staging.rt11_v4; DROP SCHEMA IF EXISTS rt11s4 CASCADE"
	case "rename_column_swap":
		return "DROP VIEW IF EXISTS bk.rt11_v5"
	case "search_path_shadow":
		return "DROP SCHEMA IF EXISTS rt11s6 CASCADE"
	}
	return "SELECT 1"
}

// rt11Poll runs query (one boolean) on conn until it is true.
func rt11Poll(t *testing.T, conn *pgx.Conn, what, query string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var ok bool
		if err := conn.QueryRow(pgtest.Context(t), query, args...).Scan(&ok); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// rt11ChecksAfter waits until pgmantle's catalog check has started twice
// after PostgreSQL's clock read now: the first of them, and the reload it
// may have started (same goroutine), have ended.
func rt11ChecksAfter(t *testing.T, conn *pgx.Conn, db string) {
	t.Helper()
	var since time.Time
	if err := conn.QueryRow(pgtest.Context(t), "SELECT clock_timestamp()").Scan(&since); err != nil {
		t.Fatal(err)
	}
	seen := map[time.Time]bool{}
	deadline := time.Now().Add(20 * time.Second)
	for len(seen) < 2 {
		var started *time.Time
		err := conn.QueryRow(pgtest.Context(t), `SELECT max(query_start) FROM pg_stat_activity
			WHERE datname = $1 AND application_name = 'pgmantle catalog check'`, db).Scan(&started)
		if err != nil {
			t.Fatal(err)
		}
		if started != nil && started.After(since) {
			seen[*started] = true
		}
		if time.Now().After(deadline) {
			t.Fatalf("pgmantle's catalog check did not run twice in 20 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestAnalysisReview11FingerprintBlindSpotLeak: the catalog change check
// (catalog.fingerprintSQL) compares, per catalog, the row count and the
// newest row version (max xmin). A DDL transaction that updates catalog
// rows in place (CREATE OR REPLACE VIEW, ALTER ... RENAME: counts
// unchanged) and commits after a younger DDL transaction (higher xid)
// was seen leaves both numbers as they were: the change is never
// noticed, and pgmantle decides statements on the old view definition
// until the periodic full reload (catalog.interval: 5 minutes by
// default; an hour in this harness). analyst reads the redefined view's
// protected column in clear with a plain, fresh SELECT.
//
// Sequence (two owner sessions A and B):
//
//	A: BEGIN; CREATE OR REPLACE VIEW bk.rt11_fv AS SELECT id, email AS info FROM bk.contacts;
//	B: CREATE VIEW bk.rt11_fmark AS SELECT 1 AS x;        -- younger xid, committed
//	   (pgmantle's check sees B, its reload starts and waits on A's lock)
//	A: COMMIT;
//	analyst: SELECT info FROM bk.rt11_fv;                  -- emails in clear
func TestAnalysisReview11FingerprintBlindSpotLeak(t *testing.T) {
	addr, db, _, _ := analysisProxy(t)
	owner := rt11Owner(t, db)
	rt11Exec(t, owner, "CREATE VIEW bk.rt11_fv AS "+rt11Harmless+"; GRANT SELECT ON bk.rt11_fv TO PUBLIC")
	rt11Known(t, addr, db, "bk.rt11_fv")

	a, b := rt11Owner(t, db), rt11Owner(t, db)
	rt11Exec(t, a, "BEGIN")
	rt11Exec(t, a, "CREATE OR REPLACE VIEW bk.rt11_fv AS "+rt11Evil)
	rt11Exec(t, b, "CREATE VIEW bk.rt11_fmark AS SELECT 1 AS x; GRANT SELECT ON bk.rt11_fmark TO PUBLIC")
	// pgmantle's reload of B's change has taken its snapshot and waits
	// for A's lock on the view (pg_get_viewdef).
	rt11Poll(t, owner, "pgmantle's catalog load waiting on a lock", `SELECT EXISTS (SELECT FROM pg_stat_activity
		WHERE datname = $1 AND application_name = 'pgmantle catalog' AND wait_event_type = 'Lock')`, db)
	rt11Exec(t, a, "COMMIT")
	rt11Known(t, addr, db, "bk.rt11_fmark")
	// Give the change check two full rounds after A's commit (a check that
	// saw the change would have reloaded before the second).
	rt11ChecksAfter(t, owner, db)

	var direct string
	if err := owner.QueryRow(pgtest.Context(t), "SELECT info FROM bk.rt11_fv WHERE id = 1").Scan(&direct); err != nil || direct != "zhang.weiming@example.cn" {
		t.Fatalf("PostgreSQL's view: %q %v", direct, err)
	}
	fe := rawAs(t, addr, db, "analyst")
	for _, sql := range []string{"SELECT info FROM bk.rt11_fv ORDER BY id", "SELECT info || '' FROM bk.rt11_fv ORDER BY id"} {
		values, codes := rt11Send(t, fe, 1, &pgproto3.Query{String: sql})
		t.Logf("%s: values %q, errors %v", sql, values, codes)
		noSecret(t, sql+" after an unnoticed CREATE OR REPLACE VIEW", values)
	}
}

// TestAnalysisReview11RuleLeak: a rule the owner adds to a table analyst
// may write (CREATE RULE ... ON INSERT|UPDATE|DELETE ... DO INSTEAD
// SELECT) makes PostgreSQL answer analyst's write with the rule's rows.
// The snapshot loads only views' _RETURN rules, so the analysis sees a
// plain write with no result columns; the result layer finds columns it
// did not expect with no table origin (expressions), and lets them
// through because the statement's text names no protected relation
// (mentionsProtected). Such rules may be added at any time, also after
// the snapshot was loaded: it is the analysis that never looks.
func TestAnalysisReview11RuleLeak(t *testing.T) {
	addr, db, _, _ := analysisProxy(t)
	owner := rt11Owner(t, db)
	rt11Exec(t, owner, `CREATE TABLE bk.rt11_notes (id int, note text); GRANT ALL ON bk.rt11_notes TO PUBLIC;
		INSERT INTO bk.rt11_notes VALUES (1, 'x');
		CREATE RULE rt11_ins AS ON INSERT TO bk.rt11_notes DO INSTEAD SELECT email || '' AS e FROM bk.contacts ORDER BY id;
		CREATE RULE rt11_upd AS ON UPDATE TO bk.rt11_notes DO INSTEAD SELECT id_no || '' AS e FROM bk.contacts ORDER BY id;
		CREATE RULE rt11_del AS ON DELETE TO bk.rt11_notes DO INSTEAD SELECT mobile || '' AS e FROM bk.contacts ORDER BY id;
		CREATE TABLE bk.rt11_rmark (); GRANT SELECT ON bk.rt11_rmark TO PUBLIC`)
	rt11Known(t, addr, db, "bk.rt11_rmark")
	for _, sql := range []string{
		"INSERT INTO bk.rt11_notes VALUES (1, 'x')",
		"UPDATE bk.rt11_notes SET note = 'y' WHERE id = 1",
		"DELETE FROM bk.rt11_notes WHERE id = 1",
	} {
		for _, extended := range []bool{false, true} {
			fe := rawAs(t, addr, db, "analyst")
			var values, codes []string
			if extended {
				values, codes = rt11Send(t, fe, 1, &pgproto3.Parse{Query: sql}, &pgproto3.Bind{},
					&pgproto3.Describe{ObjectType: 'P'}, &pgproto3.Execute{}, &pgproto3.Sync{})
			} else {
				values, codes = rt11Send(t, fe, 1, &pgproto3.Query{String: sql})
			}
			t.Logf("%s (extended %t): values %q, errors %v", sql, extended, values, codes)
			noSecret(t, sql+" under a DO INSTEAD SELECT rule", values)
		}
	}
}

// TestAnalysisReview11PreparedDirectSafe (safe behaviour, kept as a
// guard): the same changes as TestAnalysisReview11PreparedLeak, but the
// prepared statement selects the column itself. RowDescription then
// names the (new) view's OID and attnum, and once the snapshot has caught
// up the result layer traces it to bk.contacts.email and masks it (or
// ends the session when it cannot trace it). A cursor declared WITH HOLD
// before the change was planned, and materialized, on the old view.
func TestAnalysisReview11PreparedDirectSafe(t *testing.T) {
	addr, db, _, _ := analysisProxy(t)
	owner := rt11Owner(t, db)
	rt11Exec(t, owner, "CREATE VIEW bk.rt11_dv AS "+rt11Harmless+"; GRANT SELECT ON bk.rt11_dv TO PUBLIC")
	rt11Known(t, addr, db, "bk.rt11_dv")
	const sql = "SELECT info FROM bk.rt11_dv ORDER BY id"
	fe := rawAs(t, addr, db, "analyst")
	if _, codes := rt11Send(t, fe, 1, &pgproto3.Parse{Name: "rt11d", Query: sql}, &pgproto3.Sync{}); len(codes) > 0 {
		t.Fatalf("Parse: %v", codes)
	}
	if _, codes := rt11Send(t, fe, 1, &pgproto3.Query{String: "PREPARE rt11d2 AS " + sql}); len(codes) > 0 {
		t.Fatalf("PREPARE: %v", codes)
	}
	if _, codes := rt11Send(t, fe, 1, &pgproto3.Query{String: "BEGIN; DECLARE rt11c CURSOR WITH HOLD FOR SELECT info || '' FROM bk.rt11_dv; COMMIT"}); len(codes) > 0 {
		t.Fatalf("DECLARE: %v", codes)
	}
	rt11Exec(t, owner, "CREATE OR REPLACE VIEW bk.rt11_dv AS "+rt11Evil+"; CREATE TABLE bk.rt11_dmark (); GRANT SELECT ON bk.rt11_dmark TO PUBLIC")
	rt11Known(t, addr, db, "bk.rt11_dmark")
	for _, step := range []struct {
		what string
		msgs []pgproto3.FrontendMessage
	}{
		{"FETCH from a WITH HOLD cursor", []pgproto3.FrontendMessage{&pgproto3.Query{String: "FETCH ALL FROM rt11c"}}},
		{"EXECUTE", []pgproto3.FrontendMessage{&pgproto3.Query{String: "EXECUTE rt11d2"}}},
		{"Bind/Execute", []pgproto3.FrontendMessage{&pgproto3.Bind{PreparedStatement: "rt11d"}, &pgproto3.Describe{ObjectType: 'P'},
			&pgproto3.Execute{}, &pgproto3.Sync{}}},
	} {
		values, codes := rt11Send(t, fe, 1, step.msgs...)
		t.Logf("%s: values %q, errors %v", step.what, values, codes)
		noSecret(t, step.what, values)
	}
}

// TestAnalysisReview11PolicyNameDriftLeak: the policy names protected
// columns by schema.table.column. At policy load, Policy.Check refuses a
// policy naming a column that does not exist; after a catalog refresh
// nothing checks again, and policy.ClassOf simply matches fewer columns.
// An owner renaming a protected column, or rotating a table at year end
// (ALTER TABLE bk.payroll RENAME TO payroll_2025; CREATE TABLE bk.payroll
// (LIKE ...)), moves the real values out of every pattern: analyst reads
// them in clear, although pgmantle would refuse to start on that catalog
// with that policy.
func TestAnalysisReview11PolicyNameDriftLeak(t *testing.T) {
	addr, db, _, _ := analysisProxy(t)
	owner := rt11Owner(t, db)
	rt11Exec(t, owner, `ALTER TABLE bk.contacts RENAME COLUMN id_no TO id_number;
		ALTER TABLE bk.payroll RENAME TO payroll_2025;
		CREATE TABLE bk.payroll (LIKE bk.payroll_2025);
		GRANT SELECT ON bk.payroll, bk.payroll_2025 TO PUBLIC;
		CREATE TABLE bk.rt11_nmark (); GRANT SELECT ON bk.rt11_nmark TO PUBLIC`)
	rt11Known(t, addr, db, "bk.rt11_nmark")
	fe := rawAs(t, addr, db, "analyst")
	check := func(when string) {
		t.Helper()
		for _, sql := range []string{
			"SELECT id_number FROM bk.contacts ORDER BY id",
			"SELECT employee, id_no, amount FROM bk.payroll_2025 ORDER BY id",
		} {
			values, codes := rt11Send(t, fe, 1, &pgproto3.Query{String: sql})
			t.Logf("%s: values %q, errors %v", sql, values, codes)
			noSecret(t, sql+" "+when, values)
		}
	}
	check("after the owner's rename")
	// A later, unrelated change: the renamed columns keep their class
	// from snapshot to snapshot, not only in the first one after the
	// rename.
	rt11Exec(t, owner, "CREATE TABLE bk.rt11_nmark2 (); GRANT SELECT ON bk.rt11_nmark2 TO PUBLIC")
	rt11Known(t, addr, db, "bk.rt11_nmark2")
	check("after the rename and a later catalog change")
}

// TestPreparedAfterCatalogChangeHeals: a driver that caches server-side
// statements (pgx's statement cache here; pgjdbc reacts to the same
// SQLSTATE) meets the refusal of a statement prepared before a catalog
// change once, with 26000 (invalid_sql_statement_name), and its next use
// prepares it again and is answered, masked as before.
func TestPreparedAfterCatalogChangeHeals(t *testing.T) {
	addr, db, _, _ := analysisProxy(t)
	owner := rt11Owner(t, db)
	conn := connectAs(t, addr, db, "analyst", pgx.QueryExecModeCacheStatement)
	ctx := pgtest.Context(t)
	const q = "SELECT email FROM bk.contacts WHERE id = $1"
	read := func() (string, error) {
		var email string
		err := conn.QueryRow(ctx, q, 1).Scan(&email)
		return email, err
	}
	before, err := read()
	if err != nil {
		t.Fatalf("prepared select: %v", err)
	}
	if strings.Contains(before, "zhang.weiming") {
		t.Fatalf("email in clear: %q", before)
	}
	rt11Exec(t, owner, "CREATE TABLE bk.rt11_heal (a int); GRANT SELECT ON bk.rt11_heal TO PUBLIC")
	rt11Known(t, addr, db, "bk.rt11_heal")
	_, err = read()
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "26000" {
		t.Fatalf("the statement prepared before the change: %v, want a 26000 refusal", err)
	}
	after, err := read()
	if err != nil {
		t.Fatalf("the statement prepared again: %v", err)
	}
	if after != before {
		t.Errorf("after preparing again: %q, before the change %q", after, before)
	}
}
