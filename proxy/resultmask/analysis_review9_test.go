package resultmask_test

// Red-team round 9 against the query analysis: the analysis cache and its
// literal-normalized keys, multi-statement simple queries that change
// search_path or prepare statements between statements, session settings
// that change how values are printed, and COPY variants. Every subtest
// fails when its attack succeeds. Subtests under "defended/" are attacks
// pgmantle stops today (kept as regression guards).

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgmantle/pgmantle/internal/analysiscases"
	"github.com/pgmantle/pgmantle/internal/pgtest"
)

// rt9Copy runs setup (simple protocol) then COPY ... TO STDOUT as role and
// returns the copied bytes and the error.
func rt9Copy(t *testing.T, addr, db, role string, setup []string, sql string) (string, error) {
	t.Helper()
	ctx := pgtest.Context(t)
	conn, err := pgconn.Connect(ctx, fmt.Sprintf("postgres://%s:%s@%s/%s?sslmode=disable", role, password, addr, db))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	for _, s := range setup {
		_, err := conn.Exec(ctx, s).ReadAll()
		t.Logf("setup %q: err=%v", s, err)
	}
	var out bytes.Buffer
	_, err = conn.CopyTo(ctx, &out, sql)
	t.Logf("copy %q (err=%v):\n%q", sql, err, out.String())
	return out.String(), err
}

func rt9NoSecret(t *testing.T, role, sql, got string, extra ...string) {
	t.Helper()
	if v, class := findSecret([]byte(got), analysiscases.Clear[role]); v != "" {
		t.Errorf("%s as %s: the client received a %s value %q", sql, role, class, v)
	}
	for _, x := range extra {
		if strings.Contains(got, x) {
			t.Errorf("%s as %s: the client received %q (a protected value in another format)", sql, role, x)
		}
	}
}

func rt9Is42501(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "42501" && strings.HasPrefix(pe.Message, "pgmantle: ")
}

// Birthdays as other DateStyles print them.
var rt9Birthdays = []string{
	"15/07/1988", "07/15/1988", "15.07.1988", "04/03/1992", "03/04/1992", "04.03.1992",
	"11/09/1975", "09/11/1975", "11.09.1975", "Jul 15", "15 Jul", "Mar 04", "04 Mar", "Sep 11", "11 Sep",
}

func TestAnalysisReview9(t *testing.T) {
	addr, db, _, _ := analysisProxy(t)

	// ---------------------------------------------------------------
	// Analysis cache: a plan made for one text (or its literal-normalized
	// key) served to another whose meaning differs.
	// ---------------------------------------------------------------
	cacheRefused := []struct {
		name  string
		role  string
		setup []string
		sql   string
	}{
		// ORDER BY 1 (clean) warms the normalized key of ORDER BY 2 (hash).
		{"order-by-position", "analyst", []string{`SELECT id, mobile FROM bk.contacts ORDER BY 1`}, `SELECT id, mobile FROM bk.contacts ORDER BY 2`},
		// The same, one session apart (plans are shared across sessions).
		{"order-by-position-1.0", "analyst", []string{`SELECT id, mobile FROM bk.contacts ORDER BY 1.0`, `SELECT id, mobile FROM bk.contacts ORDER BY 1`}, `SELECT id, mobile FROM bk.contacts ORDER BY 2`},
		{"group-by-position", "analyst", []string{`SELECT id, substr(mobile, 1, 3) FROM bk.contacts GROUP BY 1, 2 LIMIT 0`}, `SELECT id, substr(mobile, 1, 3) FROM bk.contacts GROUP BY 1, 2`},
		{"distinct-on-position", "analyst", []string{`SELECT DISTINCT ON (1) id, mobile FROM bk.contacts`}, `SELECT DISTINCT ON (2) id, mobile FROM bk.contacts`},
		// A cached clean plan under search_path staging, the same text run
		// after a multi-statement SET search_path = bk.
		{"cached-plan-other-path", "analyst", []string{`SET search_path = staging`, `SELECT id_no || '' FROM contacts`}, `SET search_path = bk; SELECT id_no || '' FROM contacts`},
		// The same text through SET SCHEMA (PostgreSQL's alias).
		{"cached-plan-set-schema", "analyst", []string{`SET search_path = staging`, `SELECT id_no || '' FROM contacts`}, `SET SCHEMA 'bk'; SELECT id_no || '' FROM contacts`},
		// search_path given with odd spelling that PostgreSQL folds.
		{"set-search-path-case", "analyst", []string{`SET search_path = staging`, `SELECT id_no || '' FROM contacts`}, `SET "search_path" = "BK", bk; SELECT id_no || '' FROM contacts`},
	}
	for _, c := range cacheRefused {
		t.Run("defended/cache-"+c.name, func(t *testing.T) { rt7Refused(t, addr, db, c.role, c.setup, c.sql) })
	}

	// ---------------------------------------------------------------
	// Prepared statements across search_path changes in one string, in
	// a transaction, after RESET ALL / DISCARD.
	// ---------------------------------------------------------------
	prepLeaks := []struct {
		name  string
		setup []string
		sql   string
	}{
		{"prepare-set-execute-one-string", []string{`SET search_path = staging`},
			`PREPARE p9a AS SELECT id_no || '' FROM contacts; SET search_path = bk; EXECUTE p9a`},
		{"prepare-then-set-schema", []string{`SET search_path = staging`, `PREPARE p9b AS SELECT id_no || '' AS v FROM contacts`, `SET SCHEMA 'bk'`},
			`EXECUTE p9b`},
		{"set-local-prepare-commit-execute", []string{`SET search_path = bk`, `BEGIN`, `SET LOCAL search_path = staging`, `PREPARE p9c AS SELECT id_no || '' AS v FROM contacts`, `COMMIT`},
			`EXECUTE p9c`},
		{"set-local-prepare-rollback-execute", []string{`SET search_path = staging`, `BEGIN`, `SET LOCAL search_path = bk`, `ROLLBACK`, `PREPARE p9d AS SELECT id_no || '' AS v FROM contacts`},
			`SET search_path = bk; EXECUTE p9d`},
		{"reset-all-execute", []string{`SET search_path = staging`, `PREPARE p9e AS SELECT id_no || '' AS v FROM contacts`},
			`RESET ALL; SET search_path = bk; EXECUTE p9e`},
		{"discard-plans-execute", []string{`SET search_path = staging`, `PREPARE p9f AS SELECT name || '' AS v FROM contacts`, `DISCARD PLANS`},
			`SET search_path = bk; EXECUTE p9f`},
		// RESET ALL returns to the login path (bk is not on it): PostgreSQL
		// fails the statement; it must not run against bk.contacts.
		{"reset-all-cached-plan", []string{`SET search_path = bk`, `SET search_path = staging`, `SELECT id_no || '' FROM contacts`},
			`RESET ALL; SELECT id_no || '' FROM contacts`},
		{"declare-set-fetch", []string{`SET search_path = staging`, `BEGIN`},
			`DECLARE c9 CURSOR FOR SELECT id_no || '' FROM contacts; SET search_path = bk; FETCH ALL FROM c9`},
		{"with-hold-cursor", []string{`SET search_path = staging`, `BEGIN`, `DECLARE c9h CURSOR WITH HOLD FOR SELECT id_no || '' FROM contacts`, `COMMIT`, `SET search_path = bk`},
			`FETCH ALL FROM c9h`},
	}
	for _, c := range prepLeaks {
		t.Run("defended/prep-"+c.name, func(t *testing.T) { rt7Leak(t, addr, db, "analyst", c.setup, c.sql) })
	}

	// ---------------------------------------------------------------
	// Session settings that change how values are printed: masks that
	// parse the text of a value must not pass it through.
	// ---------------------------------------------------------------
	styles := []struct {
		name, setup, sql string
	}{
		{"datestyle-sql-dmy", `SET DateStyle = 'SQL, DMY'`, `SELECT birthday FROM bk.contacts`},
		{"datestyle-german", `SET DateStyle = 'German'`, `SELECT birthday FROM bk.contacts`},
		{"datestyle-postgres-mdy", `SET DateStyle = 'Postgres, MDY'`, `SELECT birthday FROM bk.contacts`},
		{"datestyle-german-union", `SET DateStyle = 'German'`, `SELECT birthday FROM bk.contacts UNION ALL SELECT birthday FROM bk.contacts`},
		{"datestyle-german-subquery", `SET DateStyle = 'German'`, `SELECT (SELECT c.birthday) FROM bk.contacts c`},
		{"datestyle-german-cte", `SET DateStyle = 'German'`, `WITH b AS (SELECT birthday FROM bk.contacts) SELECT * FROM b`},
		{"lc-numeric-salary", `SET lc_numeric = 'C'`, `SELECT amount, bonus FROM bk.payroll`},
		{"extra-float-digits", `SET extra_float_digits = 3`, `SELECT amount, bonus FROM bk.payroll`},
	}
	for _, c := range styles {
		t.Run("defended/style-"+c.name, func(t *testing.T) {
			got, err := bypassRun(t, addr, db, "analyst", []string{c.setup}, c.sql)
			t.Logf("received (err=%v):\n%s", err, got)
			rt9NoSecret(t, "analyst", c.sql, got, rt9Birthdays...)
		})
		t.Run("defended/style-copy-"+c.name, func(t *testing.T) {
			got, _ := rt9Copy(t, addr, db, "analyst", []string{c.setup}, "COPY ("+c.sql+") TO STDOUT")
			rt9NoSecret(t, "analyst", c.sql, got, rt9Birthdays...)
		})
	}
	t.Run("defended/style-copy-table-german", func(t *testing.T) {
		got, _ := rt9Copy(t, addr, db, "analyst", []string{`SET DateStyle = 'German'`}, `COPY bk.contacts (birthday, id) TO STDOUT WITH (FORMAT csv, HEADER, FORCE_QUOTE *)`)
		rt9NoSecret(t, "analyst", "copy", got, rt9Birthdays...)
	})

	// ---------------------------------------------------------------
	// COPY variants.
	// ---------------------------------------------------------------
	copyNoLeak := []struct{ role, sql string }{
		{"analyst", `COPY bk.contacts (id_no, mobile, name, email, address) TO STDOUT WITH (FORMAT csv, HEADER, FORCE_QUOTE *)`},
		{"analyst", `COPY bk.contacts TO STDOUT WITH (FORMAT binary)`},
		{"analyst", `COPY bk.contacts TO STDOUT WITH (FORMAT csv, DELIMITER '8', QUOTE '3')`},
		{"analyst", `COPY bk.contacts TO STDOUT WITH (FORMAT csv, DELIMITER '|', QUOTE '|')`},
		{"analyst", `COPY bk.contacts TO STDOUT WITH (FORMAT text, NULL '310105198807158033')`},
		{"analyst", `COPY bk.contacts (mobile, mobile, id_no) TO STDOUT`},
		{"analyst", `COPY (SELECT * FROM bk.contacts) TO STDOUT WITH (FORMAT csv, HEADER, FORCE_QUOTE *)`},
		{"analyst", `COPY (TABLE bk.contacts) TO STDOUT WITH (FORMAT binary)`},
		{"analyst", `COPY (SELECT id_no, mobile FROM bk.contacts UNION ALL SELECT id_no, mobile FROM bk.contacts) TO STDOUT WITH (FORMAT binary)`},
		{"intern", `COPY bk.contacts (name) TO STDOUT WITH (FORMAT csv, HEADER)`},
		{"analyst", "COPY bk.contacts TO STDOUT WITH (FORMAT csv, ESCAPE '3', QUOTE '1', FORCE_QUOTE *)"},
		{"analyst", "copy bk.contacts to stdout (format 'csv', header 'on', force_quote *)"},
	}
	for i, c := range copyNoLeak {
		t.Run(fmt.Sprintf("defended/copy-noleak-%02d", i), func(t *testing.T) {
			got, _ := rt9Copy(t, addr, db, c.role, nil, c.sql)
			rt9NoSecret(t, c.role, c.sql, got)
		})
	}
	copyRefused := []struct{ role, sql string }{
		{"analyst", `COPY (SELECT id_no || '' FROM bk.contacts) TO STDOUT WITH (FORMAT csv, HEADER, FORCE_QUOTE *)`},
		{"analyst", `COPY (SELECT c FROM bk.contacts c) TO STDOUT WITH (FORMAT binary)`},
		{"analyst", `COPY (SELECT ROW(c.id, c.mobile) FROM bk.contacts c) TO STDOUT WITH (FORMAT binary)`},
		{"analyst", `COPY bk.contacts TO STDOUT WITH (FORMAT csv, ENCODING 'GBK')`},
		{"analyst", `COPY bk.contacts (id) TO STDOUT WHERE mobile = '13812345678'`},
		{"analyst", `COPY (SELECT id FROM bk.contacts ORDER BY mobile) TO STDOUT`},
		{"analyst", `COPY (SELECT id FROM bk.contacts WHERE mobile LIKE '138%') TO STDOUT`},
		{"intern", `COPY bk.contacts TO STDOUT`},
	}
	for i, c := range copyRefused {
		t.Run(fmt.Sprintf("defended/copy-refused-%02d", i), func(t *testing.T) {
			got, err := rt9Copy(t, addr, db, c.role, nil, c.sql)
			rt9NoSecret(t, c.role, c.sql, got)
			if err == nil {
				t.Errorf("%s as %s: allowed", c.sql, c.role)
			} else if !rt9Is42501(err) {
				t.Logf("not a pgmantle refusal: %v", err)
			}
		})
	}

	// ---------------------------------------------------------------
	// Extended protocol: explicit parameter types.
	// ---------------------------------------------------------------
	t.Run("defended/param-type-regclass", func(t *testing.T) {
		ctx := pgtest.Context(t)
		conn, err := pgconn.Connect(ctx, fmt.Sprintf("postgres://analyst:%s@%s/%s?sslmode=disable", password, addr, db))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		for _, q := range []struct {
			sql  string
			oids []uint32
			args []string
		}{
			{`SELECT $1 || id_no FROM bk.contacts`, []uint32{25}, []string{""}},
			{`SELECT id FROM bk.contacts WHERE id_no = $1`, []uint32{19}, []string{"x"}},
			{`SELECT id FROM bk.contacts WHERE mobile > $1`, []uint32{25}, []string{"138"}},
			{`SELECT $1::text FROM bk.contacts WHERE id_no = $1`, []uint32{25}, []string{"x"}},
		} {
			ps := make([][]byte, len(q.args))
			for i, a := range q.args {
				ps[i] = []byte(a)
			}
			r := conn.ExecParams(ctx, q.sql, ps, q.oids, nil, nil).Read()
			var out bytes.Buffer
			appendRows(&out, r.Rows)
			t.Logf("%s: err=%v\n%s", q.sql, r.Err, out.String())
			rt9NoSecret(t, "analyst", q.sql, out.String())
		}
	})
}
