package resultmask_test

// Red-team round of 2026-11-29 (a helper attacking the result layer):
// two ways a restricted role received names in clear, both from session
// state the analysis tracked wrongly. Each subtest leaked on the code
// before the fix.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/pgmantle/pgmantle/internal/analysiscases"
	"github.com/pgmantle/pgmantle/internal/pgcluster"
	"github.com/pgmantle/pgmantle/internal/pgtest"
)

func TestAnalysisReview10(t *testing.T) {
	addr, db, _, _ := analysisProxy(t)
	const union = `SELECT name FROM bk.contacts UNION ALL SELECT employee FROM bk.payroll`

	// 1. FETCH was planned by the cursor the name had before: the
	// cursor map changes only when PostgreSQL confirms a DECLARE or
	// CLOSE, so a re-DECLARE in the same Query (or one still in flight)
	// was read by the old, clean cursor's plan, and the UNION's column,
	// which has no table origin, went out clear. Now a FETCH while a
	// DECLARE or CLOSE of its name is unanswered reads an unknown cursor
	// (refused; in the same batch too: a protocol Parse of a DECLARE is
	// admitted whether or not it is executed).
	sameBatch := []struct{ name, setup, sql string }{
		{"close_and_redeclare", "BEGIN; DECLARE c CURSOR FOR SELECT 'x'::text",
			"CLOSE c; DECLARE c CURSOR FOR " + union + "; FETCH ALL FROM c"},
		{"after_commit", "BEGIN; DECLARE c CURSOR FOR SELECT 'x'::text; COMMIT",
			"BEGIN; DECLARE c CURSOR FOR " + union + "; FETCH ALL FROM c; COMMIT"},
		{"scroll_backward", "BEGIN; DECLARE c CURSOR FOR SELECT 'x'::text",
			"CLOSE c; DECLARE c SCROLL CURSOR FOR " + union + "; MOVE LAST IN c; FETCH BACKWARD 2 FROM c"},
	}
	for _, c := range sameBatch {
		t.Run("cursor/"+c.name, func(t *testing.T) {
			fe := rawAs(t, addr, db, "analyst")
			fe.Send(&pgproto3.Query{String: c.setup})
			fe.Flush()
			if _, codes := readAll(t, fe, 1); len(codes) > 0 {
				t.Fatalf("setup: %v", codes)
			}
			fe.Send(&pgproto3.Query{String: c.sql})
			fe.Flush()
			values, codes := readAll(t, fe, 1)
			noSecret(t, c.sql, values)
			if !strings.Contains(strings.Join(codes, ","), "42501") {
				t.Errorf("%s: values %q, errors %v; want a 42501 refusal", c.sql, values, codes)
			}
		})
	}
	t.Run("cursor/pipelined", func(t *testing.T) {
		fe := rawAs(t, addr, db, "analyst")
		fe.Send(&pgproto3.Query{String: "BEGIN; DECLARE c CURSOR FOR SELECT 'x'::text"})
		fe.Flush()
		if _, codes := readAll(t, fe, 1); len(codes) > 0 {
			t.Fatalf("setup: %v", codes)
		}
		// Three Queries before any answer; the DECLARE's is held back by a
		// long count so that the FETCH is admitted before it is known.
		for _, q := range []string{"CLOSE c", "DECLARE c CURSOR FOR " + union + "; SELECT count(*) FROM generate_series(1, 5000000)", "FETCH ALL FROM c"} {
			fe.Send(&pgproto3.Query{String: q})
		}
		fe.Flush()
		values, codes := readAll(t, fe, 3)
		t.Logf("values %q, errors %v", values, codes)
		noSecret(t, "pipelined FETCH", values)
		if !strings.Contains(strings.Join(codes, ","), "42501") {
			t.Errorf("pipelined FETCH of a cursor in flight: values %q, errors %v; want 42501", values, codes)
		}
	})

	// 2. Under two possible search_paths the statement had two column
	// counts; the plan kept the shorter list (staging.payroll's), the
	// computed column past it had no plan and no table origin, and went
	// out clear. Now differing counts make the result layer check every
	// column's origin.
	t.Run("search_path_widths", func(t *testing.T) {
		super := pgtest.Connect(t, pgtest.Cluster(t).DSN("postgres", "", db))
		if _, err := super.Exec(pgtest.Context(t), "CREATE TABLE staging.payroll (id int); INSERT INTO staging.payroll VALUES (1); GRANT SELECT ON staging.payroll TO PUBLIC"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(3 * time.Second) // the catalog check (every second) sees the new table
		fe := rawAs(t, addr, db, "analyst")
		sql := "SET search_path = staging; SET search_path = bk; SELECT p.*, (SELECT c.name FROM contacts c WHERE c.id = p.id) AS n FROM payroll p"
		fe.Send(&pgproto3.Query{String: sql})
		fe.Flush()
		values, codes := readAll(t, fe, 1)
		noSecret(t, sql, values)
		t.Logf("values %q, errors %v", values, codes)
	})
}

// TestAnalysisReview10LookalikeTable: with two search_paths possible, a
// name standing for a protected table under one and a clean look-alike
// under the other was analysed under both and the results merged: a
// token compared with the protected table's column was detokenized for
// the query PostgreSQL ran against the look-alike (a guess oracle), and
// the look-alike's values came back tokenized (the token of any chosen
// value). Such names are now refused until the search_path is known.
func TestAnalysisReview10LookalikeTable(t *testing.T) {
	addr, db, _, _ := analysisProxy(t)
	super := pgtest.Connect(t, pgtest.Cluster(t).DSN("postgres", "", db))
	// The analyst's "guess" is right: the real value of row 2.
	if _, err := super.Exec(pgtest.Context(t), "INSERT INTO staging.contacts (id, id_no) SELECT id, id_no FROM bk.contacts WHERE id = 2"); err != nil {
		t.Fatal(err)
	}
	fe := rawAs(t, addr, db, "analyst")
	fe.Send(&pgproto3.Query{String: "SELECT id_no FROM bk.contacts WHERE id = 2"})
	fe.Flush()
	toks, codes := readAll(t, fe, 1)
	if len(toks) != 1 || len(codes) > 0 {
		t.Fatalf("reading the token: %q %v", toks, codes)
	}
	fe.Send(&pgproto3.Query{String: "BEGIN; SET LOCAL search_path = bk; SET LOCAL search_path = staging"})
	fe.Flush()
	if _, codes := readAll(t, fe, 1); len(codes) > 0 {
		t.Fatalf("SET LOCAL: %v", codes)
	}
	for _, sql := range []string{
		"SELECT id FROM contacts WHERE id_no = '" + toks[0] + "'",
		"SELECT id, id_no FROM contacts WHERE id > 1 UNION ALL SELECT id, id_no FROM contacts WHERE false",
	} {
		fe.Send(&pgproto3.Query{String: sql})
		fe.Flush()
		values, codes := readAll(t, fe, 1)
		noSecret(t, sql, values)
		if len(values) > 0 || strings.Join(codes, ",") != "42501" {
			t.Errorf("%s under two possible search_paths: values %q, errors %v; want a 42501 refusal", sql, values, codes)
		}
		fe.Send(&pgproto3.Query{String: "ROLLBACK; BEGIN; SET LOCAL search_path = bk; SET LOCAL search_path = staging"})
		fe.Flush()
		readAll(t, fe, 1)
	}
}

// noSecret fails when values hold a protected value analyst may not see.
func noSecret(t *testing.T, what string, values []string) {
	t.Helper()
	if v, class := findSecret([]byte(strings.Join(values, "|")), analysiscases.Clear["analyst"]); v != "" {
		t.Errorf("%s: the client received a %s value %q", what, class, v)
	}
}

// TestAnalysisReview10NumericSearchPath: SET search_path = 2026, staging
// names a schema "2026" (fiscal-year schemas are common in bookkeeping);
// pgmantle dropped the number and resolved names in staging, where
// PostgreSQL read them in "2026" — a view over protected columns.
func TestAnalysisReview10NumericSearchPath(t *testing.T) {
	addr, db, _, _ := analysisProxy(t)
	super := pgtest.Connect(t, pgtest.Cluster(t).DSN("postgres", "", db))
	if _, err := super.Exec(pgtest.Context(t), `CREATE SCHEMA "2026"; CREATE VIEW "2026".contacts AS SELECT id, name, id_no, mobile AS note FROM bk.contacts;
		GRANT USAGE ON SCHEMA "2026" TO PUBLIC; GRANT SELECT ON "2026".contacts TO PUBLIC`); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second) // the catalog check (every second) sees the new view
	fe := rawAs(t, addr, db, "analyst")
	for _, set := range []string{"SET search_path = 2026, staging", "SET search_path = 2026.0, staging"} {
		fe.Send(&pgproto3.Query{String: set})
		fe.Flush()
		if _, codes := readAll(t, fe, 1); len(codes) > 0 && set == "SET search_path = 2026, staging" {
			t.Fatalf("%s: %v", set, codes)
		}
		sql := "SELECT id_no || '' AS i, name || '' AS n, note || '' AS m FROM contacts ORDER BY id"
		fe.Send(&pgproto3.Query{String: sql})
		fe.Flush()
		values, codes := readAll(t, fe, 1)
		noSecret(t, set+"; "+sql, values)
		if set == "SET search_path = 2026, staging" && strings.Join(codes, ",") != "42501" {
			t.Errorf("%s; %s: values %q, errors %v; want a 42501 refusal", set, sql, values, codes)
		}
	}
}

// TestAnalysisReview10MembershipRevoked: whether a session is restricted
// was decided once, at login; a policy reload re-decided untouched
// sessions, a catalog change (a role's membership in an unrestricted role
// revoked) did not, and an open session kept reading in clear. Now a
// catalog refresh re-decides them as a policy reload does: the session is
// ended (57P01).
func TestAnalysisReview10MembershipRevoked(t *testing.T) {
	addr, db, _, _ := analysisProxy(t)
	c := pgtest.Cluster(t)
	ctx := pgtest.Context(t)
	role := "rt10_member_" + strings.ToLower(strings.ReplaceAll(t.Name(), "/", "_"))[:8]
	c.Exec(ctx, "DROP ROLE IF EXISTS "+role)
	if err := c.CreateRole(ctx, role, password, pgcluster.AuthSCRAM); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Exec(context.Background(), "DROP OWNED BY "+role+"; DROP ROLE IF EXISTS "+role) })
	if err := c.Exec(ctx, "GRANT bookkeeper TO "+role); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second) // the catalog check sees the membership
	conn, err := pgconn.Connect(ctx, fmt.Sprintf("postgres://%s:%s@%s/%s?sslmode=disable", role, password, addr, db))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	read := func() (string, error) {
		res, err := conn.Exec(ctx, "SELECT id_no FROM bk.contacts ORDER BY id LIMIT 1").ReadAll()
		if err != nil || len(res) == 0 || len(res[0].Rows) == 0 {
			return "", err
		}
		return string(res[0].Rows[0][0]), nil
	}
	if v, err := read(); err != nil || v != analysiscases.Secrets["cn_id"][0] {
		t.Fatalf("as a member of bookkeeper: %q, %v; want the clear value", v, err)
	}
	if err := c.Exec(ctx, "REVOKE bookkeeper FROM "+role+"; GRANT analyst TO "+role); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		v, err := read()
		if err != nil {
			var pe *pgconn.PgError
			if errors.As(err, &pe) && pe.Code != "57P01" {
				t.Fatalf("after the revoke: %v; want 57P01", err)
			}
			break // ended
		}
		if time.Now().After(deadline) {
			t.Fatalf("15 s after the revoke the session still reads %q", v)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
