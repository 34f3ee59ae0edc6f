package resultmask_test

// Red-team round 7 against the query analysis. Every subtest fails when
// its attack succeeds: a protected value reaches the client, two guesses
// get different answers, rows come back in the order of a protected value
// the role may not order by, or a value of the client's choosing is
// tokenized. Subtests under "defended/" are attacks pgmantle stops today
// (kept as regression guards).

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgmantle/pgmantle/internal/analysiscases"
	"github.com/pgmantle/pgmantle/internal/pgtest"
)

// rt7Leak fails the test when what the client received holds a seeded
// value of a class role may not see.
func rt7Leak(t *testing.T, addr, db, role string, setup []string, sql string) {
	t.Helper()
	got, err := bypassRun(t, addr, db, role, setup, sql)
	t.Logf("received (err=%v):\n%s", err, got)
	if v, class := findSecret([]byte(got), analysiscases.Clear[role]); v != "" {
		t.Errorf("%s as %s: the client received a %s value %q", sql, role, class, v)
	}
}

// rt7Refused fails the test unless pgmantle refuses sql with 42501 (and
// nothing received holds a secret).
func rt7Refused(t *testing.T, addr, db, role string, setup []string, sql string) (string, error) {
	t.Helper()
	got, err := bypassRun(t, addr, db, role, setup, sql)
	t.Logf("received (err=%v):\n%s", err, got)
	if v, class := findSecret([]byte(got), analysiscases.Clear[role]); v != "" {
		t.Errorf("%s as %s: the client received a %s value %q", sql, role, class, v)
	}
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "42501" || !strings.HasPrefix(pe.Message, "pgmantle: ") {
		t.Errorf("%s as %s: want a 42501 refusal from pgmantle, got %v", sql, role, err)
	}
	return got, err
}

// rt7Column returns column col (0-based) of every row as the superuser
// sees it.
func rt7Column(t *testing.T, db, sql string) []string {
	t.Helper()
	conn := pgtest.Connect(t, pgtest.Cluster(t).DSN("postgres", "", db))
	rows, err := conn.Query(pgtest.Context(t), sql)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v any
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprint(v))
	}
	return out
}

// rt7Field returns field i of every line bypassRun produced, dropping
// consecutive repeats.
func rt7Field(got string, i int) []string {
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(got), "\n") {
		if l == "" || strings.HasPrefix(l, "ERROR") {
			continue
		}
		f := strings.Split(l, "|")
		if i >= len(f) {
			continue
		}
		if len(out) > 0 && out[len(out)-1] == f[i] {
			continue
		}
		out = append(out, f[i])
	}
	return out
}

func TestAnalysisReview7(t *testing.T) {
	addr, db, _, _ := analysisProxy(t)

	// ---------------------------------------------------------------
	// Findings: direct leaks of protected values.
	// ---------------------------------------------------------------
	leaks := []struct {
		name, role string
		setup      []string
		sql        string
	}{
		// A. A schema-qualified whole-row reference schema.rel.* is
		// resolved by the relation name alone: columnRef (parser/expr.go)
		// calls wholeRow(parts[len(parts)-1]) and targetList
		// (parser/selectstmt.go) sc.item(parts[len(parts)-1]), both
		// dropping the schema; scope.item returns the first item named
		// "contacts" — staging.contacts, clean. PostgreSQL reads
		// bk.contacts.* as bk.contacts' row: every secret of every contact.
		{"qualified-star-same-level", "analyst", nil, `SELECT row_to_json(bk.contacts.*)::text FROM staging.contacts, bk.contacts`},
		{"qualified-star-same-level-intern", "intern", nil, `SELECT row_to_json(bk.contacts.*)::text FROM staging.contacts, bk.contacts`},
		{"qualified-star-correlated", "analyst", nil, `SELECT (SELECT row_to_json(bk.contacts.*)::text FROM staging.contacts LIMIT 1) FROM bk.contacts`},
		{"qualified-star-aliased-inner", "intern", nil, `SELECT (SELECT row_to_json(bk.contacts.*)::text FROM bk.departments AS contacts LIMIT 1) FROM bk.contacts`},
		{"qualified-star-target-list", "analyst", nil, `SELECT x.id_no || '' FROM (SELECT bk.contacts.* FROM staging.contacts, bk.contacts) x`},
		// B. scope.columnHere (parser/scope.go) matches schema.rel.col
		// against any item named rel whose relation is in schema, aliased
		// or not; PostgreSQL matches a schema-qualified name only against
		// an unaliased reference to that very relation (scanNameSpaceForRelid).
		// bk.invoices AS payroll: pgmantle reads invoices.amount (clean),
		// PostgreSQL the outer bk.payroll.amount (salary).
		{"qualified-column-vs-alias", "analyst", nil, `SELECT (SELECT bk.payroll.amount || '' FROM bk.invoices AS payroll LIMIT 1) FROM bk.payroll`},
		{"qualified-column-vs-alias-name", "intern", nil, `SELECT (SELECT bk.contacts.name || '' FROM bk.client_companies AS contacts LIMIT 1) FROM bk.contacts`},
		{"qualified-column-vs-alias-address", "analyst", nil, `SELECT (SELECT bk.contacts.address || '' FROM bk.client_companies AS contacts LIMIT 1) FROM bk.contacts`},
		// C. fromItem.col (parser/scope.go) gives every item with a catalog
		// relation the system columns ctid, xmin, ...; views have none
		// (PostgreSQL adds no system attributes to a view). ctid in the
		// subquery over the view is, for PostgreSQL, the outer s.ctid.
		{"view-system-column-outer-ref", "analyst", nil, `SELECT (SELECT ctid || '' FROM bk.payroll_public LIMIT 1) FROM (SELECT id_no AS ctid FROM bk.contacts) s`},
		{"view-system-column-outer-ref-intern", "intern", nil, `SELECT (SELECT xmin || '' FROM bk.contact_directory LIMIT 1) FROM (SELECT mobile AS xmin FROM bk.contacts) s`},
		// D. A column alias list over an item whose columns pgmantle does
		// not all know (a subquery or join with a record function in it):
		// rename (parser/selectstmt.go, used by rangeSubselect and joinExpr
		// in parser/from.go) gives the aliases to the known columns only,
		// from the first; PostgreSQL counts the function's columns (key,
		// value) first. a9 is, for pgmantle, one of the function's unknown
		// (clean) columns; for PostgreSQL bk.contacts.address.
		{"alias-list-over-unknown-columns", "analyst", nil, `SELECT a9 || '' FROM (SELECT * FROM jsonb_each('{"k":1}') j, bk.contacts c) AS s(a1, a2, a3, a4, a5, a6, a7, a8, a9, a10)`},
		{"alias-list-over-unknown-columns-intern", "intern", nil, `SELECT a10 || '' FROM (SELECT * FROM jsonb_each('{"k":1}') j, bk.contacts c) AS s(a1, a2, a3, a4, a5, a6, a7, a8, a9, a10)`},
		{"join-alias-list-over-unknown-columns", "analyst", nil, `SELECT a9 || '' FROM (jsonb_each('{"k":1}') j JOIN bk.contacts c ON true) AS x(a1, a2, a3, a4, a5, a6, a7, a8, a9, a10)`},
		// E. joinExpr (parser/from.go) finds NATURAL JOIN's common columns
		// with fromItem.col, which answers yes for a table's system columns:
		// the subquery's "xmin" is taken as a join column and moved first in
		// the join's column list. PostgreSQL joins on user columns only, so
		// its * is (u, xmin, payroll_id, dept) where pgmantle planned
		// (xmin, u, ...): the name mask is applied to xmin and the names
		// (no origin in RowDescription: UNION, scalar subquery) go out in
		// clear.
		{"natural-join-system-column-shift", "analyst", nil, `SELECT * FROM (SELECT name AS u, 'x'::text AS xmin FROM bk.contacts UNION ALL SELECT employee, 'y' FROM bk.payroll) s NATURAL JOIN bk.departments`},
		{"natural-join-system-column-shift-intern", "intern", nil, `SELECT * FROM (SELECT (SELECT c.name) AS u, 'x'::text AS xmin FROM bk.contacts c) s NATURAL JOIN bk.departments`},
	}
	for _, c := range leaks {
		t.Run("leak/"+c.name, func(t *testing.T) { rt7Leak(t, addr, db, c.role, c.setup, c.sql) })
	}

	// ---------------------------------------------------------------
	// Findings: inference (two guesses, two answers).
	// ---------------------------------------------------------------
	infer := []struct{ name, role, hit, miss string }{
		// F. sortExpr (parser/selectstmt.go) decides whether an ORDER BY,
		// DISTINCT ON or GROUP BY name is an input column with
		// scope.columnHere, which skips columns whose name pgmantle only
		// guesses. With an output it is unsure of (ARRAY[1]) it then takes
		// that output and never the input; PostgreSQL names (SELECT
		// c.mobile) "mobile" and sorts or groups by it.
		{"order-by-unsure-input", "analyst",
			`SELECT s.id, ARRAY[1] FROM (SELECT c.id, (SELECT c.mobile) FROM bk.contacts c UNION ALL SELECT 0, '13812345677') s ORDER BY mobile`,
			`SELECT s.id, ARRAY[1] FROM (SELECT c.id, (SELECT c.mobile) FROM bk.contacts c UNION ALL SELECT 0, '13812345679') s ORDER BY mobile`},
		{"order-by-unsure-input-denied-intern", "intern",
			`SELECT s.id, ARRAY[1] FROM (SELECT c.id, (SELECT c.mobile) FROM bk.contacts c UNION ALL SELECT 0, '13812345677') s ORDER BY mobile`,
			`SELECT s.id, ARRAY[1] FROM (SELECT c.id, (SELECT c.mobile) FROM bk.contacts c UNION ALL SELECT 0, '13812345679') s ORDER BY mobile`},
		{"distinct-on-unsure-input", "analyst",
			`SELECT count(*) FROM (SELECT DISTINCT ON (mobile) s.id, ARRAY[1] FROM (SELECT c.id, (SELECT c.mobile) FROM bk.contacts c UNION ALL SELECT 0, '13812345678') s) z`,
			`SELECT count(*) FROM (SELECT DISTINCT ON (mobile) s.id, ARRAY[1] FROM (SELECT c.id, (SELECT c.mobile) FROM bk.contacts c UNION ALL SELECT 0, '13812345679') s) z`},
		// GROUP BY prefers an input column (PostgreSQL's colNameToVar,
		// local level); pgmantle takes the output "1 AS name" because it
		// does not see the input column it is unsure of.
		{"group-by-unsure-input", "analyst",
			`SELECT count(*) FROM (SELECT 1 AS name FROM (SELECT (SELECT c.name) FROM bk.contacts c UNION ALL SELECT '张伟明') s GROUP BY name) z`,
			`SELECT count(*) FROM (SELECT 1 AS name FROM (SELECT (SELECT c.name) FROM bk.contacts c UNION ALL SELECT '张伟') s GROUP BY name) z`},
		{"group-by-unsure-input-denied-intern", "intern",
			`SELECT count(*) FROM (SELECT 1 AS mobile FROM (SELECT (SELECT c.mobile) FROM bk.contacts c UNION ALL SELECT '13812345678') s GROUP BY mobile) z`,
			`SELECT count(*) FROM (SELECT 1 AS mobile FROM (SELECT (SELECT c.mobile) FROM bk.contacts c UNION ALL SELECT '13812345679') s GROUP BY mobile) z`},
		// C again: GROUP BY ctid is, for pgmantle, the view's (nonexistent)
		// system column; for PostgreSQL the output ctid (names).
		{"group-by-view-system-column", "analyst",
			`SELECT count(*) FROM (SELECT s.n AS ctid FROM bk.payroll_public v, (SELECT name AS n FROM bk.contacts UNION ALL SELECT '张伟明') s GROUP BY ctid) z`,
			`SELECT count(*) FROM (SELECT s.n AS ctid FROM bk.payroll_public v, (SELECT name AS n FROM bk.contacts UNION ALL SELECT '张伟') s GROUP BY ctid) z`},
	}
	for _, c := range infer {
		t.Run("infer/"+c.name, func(t *testing.T) { checkInference(t, addr, db, c.role, c.hit, c.miss) })
	}

	// ---------------------------------------------------------------
	// G. mergeStatements (parser/analyze.go) merges the analyses of a
	// statement under the session's possible search_paths but drops
	// Output.Mixed: under staging, contacts.id_no is clean and the UNION
	// ALL column is not "mixed"; under bk it is a tokenized column mixed
	// with the client's literal, which outputPlan refuses. Analysed under
	// staging first, the merged column is a plain tokenized column: the
	// client's guess is tokenized with the real values, and a guess equal
	// to a real ID number gets that contact's token.
	// ---------------------------------------------------------------
	guess := analysiscases.Secrets["cn_id"][0]
	mixedCases := []struct {
		name  string
		setup []string
		sql   string
	}{
		{"multi-statement", []string{"SET search_path = staging"},
			`SET search_path = bk; SELECT id_no FROM contacts UNION ALL SELECT '` + guess + `'`},
		{"transaction", []string{"SET search_path = staging", "BEGIN", "SET search_path = bk"},
			`SELECT id_no FROM contacts UNION ALL SELECT '` + guess + `'`},
	}
	for _, c := range mixedCases {
		t.Run("mixed-dropped-by-path-merge/"+c.name, func(t *testing.T) {
			got, err := rt7Refused(t, addr, db, "analyst", c.setup, c.sql)
			if err != nil {
				return
			}
			toks := rt7Field(got, 0)
			if len(toks) >= 2 {
				last := toks[len(toks)-1]
				for _, tk := range toks[:len(toks)-1] {
					if tk == last {
						t.Errorf("the guessed ID number was tokenized to a contact's token %q: the guess is confirmed", last)
					}
				}
			}
		})
	}

	// ---------------------------------------------------------------
	// Defended: attacks pgmantle stops today.
	// ---------------------------------------------------------------
	refused := []struct{ role, sql string }{
		{"analyst", `SELECT mobile, count(*) FROM bk.contacts GROUP BY mobile HAVING mobile = '13812345678'`},
		{"analyst", `SELECT mobile, count(*) FROM bk.contacts GROUP BY mobile HAVING length(mobile) > 10`},
		{"analyst", `SELECT count(DISTINCT mobile) FILTER (WHERE mobile LIKE '138%') FROM bk.contacts`},
		{"analyst", `SELECT id, rank() OVER (ORDER BY mobile) FROM bk.contacts`},
		{"analyst", `SELECT id, ntile(2) OVER w FROM bk.contacts WINDOW w AS (PARTITION BY mobile)`},
		{"analyst", `SELECT id, row_number() OVER (w ORDER BY mobile) FROM bk.contacts WINDOW w AS (PARTITION BY company_id)`},
		{"analyst", `SELECT id, count(*) OVER (w ROWS UNBOUNDED PRECEDING) FROM bk.contacts WINDOW w AS (ORDER BY id_no)`},
		{"analyst", `SELECT mobile AS m FROM bk.contacts UNION SELECT mobile FROM bk.contacts ORDER BY m`},
		{"analyst", `SELECT id_no FROM bk.contacts UNION ALL SELECT id_no FROM bk.payroll ORDER BY 1`},
		{"analyst", `VALUES ((SELECT mobile FROM bk.contacts LIMIT 1)) ORDER BY 1`},
		{"analyst", `WITH RECURSIVE w(i, ch) AS (SELECT 1, substr((SELECT id_no FROM bk.contacts LIMIT 1), 1, 1) UNION ALL SELECT i + 1, 'x' FROM w WHERE i < 18) SELECT ch FROM w`},
		{"analyst", `SELECT id FROM bk.contacts c WHERE c.mobile OPERATOR(pg_catalog.~~*) '138%'`},
		{"analyst", `SELECT id FROM bk.contacts c WHERE c.mobile OPERATOR(pg_catalog.~~) '138%'`},
		{"analyst", `SELECT id FROM bk.contacts c WHERE c.mobile OPERATOR(pg_catalog.>) '138'`},
		{"analyst", `SELECT id FROM bk.contacts c WHERE c.mobile ~ similar_to_escape('138%')`},
		{"analyst", `SELECT id FROM bk.contacts c WHERE c.name COLLATE "C" > '李'`},
		{"analyst", `SELECT id FROM bk.contacts c WHERE c.mobile IN ('13812345678', 13812345678)`},
		{"analyst", `SELECT id FROM bk.contacts c WHERE c.id_no IN ('x', 1)`},
		{"analyst", `SELECT id FROM bk.contacts c WHERE c.mobile BETWEEN SYMMETRIC '139' AND '138'`},
		{"analyst", `SELECT id FROM bk.contacts c WHERE c.id_no < ANY (SELECT id_no FROM bk.payroll)`},
		{"analyst", `SELECT x.a FROM bk.contacts c, json_to_record(json_build_object('a', c.id_no)) AS x(a text)`},
		{"analyst", `SELECT jsonb_populate_record(NULL::staging.contacts, jsonb_build_object('note', c.email)) FROM bk.contacts c`},
		{"analyst", `SELECT c.id FROM bk.contacts c, LATERAL generate_series(1, length(c.mobile)) g`},
		{"analyst", `SELECT count(*) FROM bk.contacts GROUP BY GROUPING SETS ((mobile), (left(mobile, 3)))`},
		{"analyst", `SELECT mobile, GROUPING(mobile), count(*) FROM bk.contacts GROUP BY CUBE (mobile) ORDER BY GROUPING(mobile), mobile`},
		{"analyst", `SELECT array_agg(DISTINCT id_no) FROM bk.payroll`},
		{"analyst", `SELECT (c).id_no FROM bk.contacts c`},
		{"analyst", `SELECT (row(c.id_no)).f1 FROM bk.contacts c`},
		{"analyst", `SELECT (SELECT c.name) || '' FROM bk.contacts c`},
		{"analyst", `INSERT INTO staging.contacts (id, note) SELECT 900, (SELECT c.mobile) FROM bk.contacts c`},
		{"analyst", `CREATE TEMP TABLE t7 AS SELECT id_no FROM bk.contacts`},
		{"analyst", `CREATE TEMP TABLE t7 (x text)`},
		{"analyst", `CREATE TEMP VIEW v7 AS SELECT id_no FROM bk.contacts`},
		{"analyst", `SELECT x.a9 || '' FROM (jsonb_each('{"k":1}') j JOIN bk.contacts c ON true) AS x(a1, a2, a3, a4, a5, a6, a7, a8, a9, a10)`},
		{"analyst", `SELECT s.a6 || '' FROM (SELECT * FROM jsonb_each('{"k":1}') j, bk.contacts c) AS s(a1, a2, a3, a4, a5, a6, a7, a8, a9, a10)`},
		{"analyst", `SELECT (SELECT bk.contacts.mobile || '' FROM bk.departments AS contacts LIMIT 1) FROM bk.contacts`},
		{"analyst", `SELECT s.id, ARRAY[1] FROM (SELECT c.id, c.mobile FROM bk.contacts c) s ORDER BY mobile`},
		{"intern", `SELECT id FROM bk.contacts c WHERE c.mobile IS NULL`},
	}
	for i, c := range refused {
		t.Run(fmt.Sprintf("defended/refused-%02d", i), func(t *testing.T) { rt7Refused(t, addr, db, c.role, nil, c.sql) })
	}
	noLeak := []struct{ role, sql string }{
		{"analyst", `SELECT id FROM bk.contacts c FOR UPDATE OF c NOWAIT`},
		{"analyst", `SELECT mobile, GROUPING(mobile) FROM bk.contacts GROUP BY ROLLUP (mobile)`},
		{"analyst", `SELECT count(DISTINCT mobile) FILTER (WHERE id > 1) FROM bk.contacts`},
		{"analyst", `SELECT * FROM (SELECT name AS u, 'x'::text AS xmin FROM bk.contacts) s NATURAL JOIN bk.departments`},
		{"analyst", `SELECT bk.contacts.* FROM staging.contacts, bk.contacts`},
	}
	for i, c := range noLeak {
		t.Run(fmt.Sprintf("defended/noleak-%02d", i), func(t *testing.T) { rt7Leak(t, addr, db, c.role, nil, c.sql) })
	}
	// search_path changed inside a savepoint and rolled back: every path
	// the session may have is analysed.
	t.Run("defended/savepoint-search-path", func(t *testing.T) {
		rt7Refused(t, addr, db, "analyst",
			[]string{"SET search_path = staging", "BEGIN", "SAVEPOINT a", "SET LOCAL search_path = bk", "ROLLBACK TO a"},
			`SELECT id FROM contacts WHERE id_no LIKE '31%'`)
	})
}
