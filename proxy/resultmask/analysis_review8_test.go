package resultmask_test

// Red-team round 8 against the query analysis. Every subtest fails when
// its attack succeeds: a protected value reaches the client, or two
// guesses get different answers. Subtests under "defended/" are attacks
// pgmantle stops today (kept as regression guards).

import (
	"fmt"
	"testing"
)

func TestAnalysisReview8(t *testing.T) {
	addr, db, _, _ := analysisProxy(t)

	// ---------------------------------------------------------------
	// Finding A. joinExpr (parser/from.go) builds a USING join's columns
	// as the merged ones followed by each side's columns "if
	// !merged[c.name]" — comparing every column's name, guessed ones
	// included. A column whose name pgmantle only guesses ("?column?" for
	// a scalar subquery (SELECT c.name), which PostgreSQL names "name")
	// is dropped from the join when the USING list holds "?column?".
	// The join then hides it: an unqualified reference to its real name
	// finds nothing at this level and resolves in an enclosing query
	// (clean), a whole-row reference to the join omits it, and it is
	// never charged (a subLink's value is charged only where consumed).
	// PostgreSQL keeps it under its own name.
	// ---------------------------------------------------------------
	leaks := []struct{ name, role, sql string }{
		{"using-drops-guessed-column-outer-ref", "analyst",
			`SELECT (SELECT name || '' FROM (SELECT 1, (SELECT c.name) FROM bk.contacts c) s JOIN (SELECT 1) t USING ("?column?") LIMIT 1) FROM staging.contacts`},
		{"using-drops-guessed-column-outer-ref-intern", "intern",
			`SELECT (SELECT string_agg(mobile || '', ',') FROM (SELECT 1, (SELECT c.mobile) FROM bk.contacts c) s JOIN (SELECT 1) t USING ("?column?")) FROM (SELECT ''::text AS mobile) o`},
		{"using-drops-guessed-column-whole-row", "analyst",
			`SELECT x::text FROM ((SELECT 1, (SELECT c.id_no) FROM bk.contacts c) s JOIN (SELECT 1) t USING ("?column?")) AS x`},
		{"using-drops-guessed-column-whole-row-intern", "intern",
			`SELECT row_to_json(s2)::text FROM (SELECT * FROM (SELECT 1, (SELECT c.name), (SELECT c.mobile) FROM bk.contacts c) s JOIN (SELECT 1) t USING ("?column?")) s2`},
	}
	for _, c := range leaks {
		t.Run("leak/"+c.name, func(t *testing.T) { rt7Leak(t, addr, db, c.role, nil, c.sql) })
	}

	infer := []struct{ name, role, hit, miss string }{
		// A again: the hidden column tested against a guess in WHERE.
		{"using-drops-guessed-column-where", "analyst",
			`SELECT (SELECT count(*) FROM (SELECT 1, (SELECT c.mobile) FROM bk.contacts c) s JOIN (SELECT 1) t USING ("?column?") WHERE mobile = '13812345678') FROM (SELECT ''::text AS mobile) o`,
			`SELECT (SELECT count(*) FROM (SELECT 1, (SELECT c.mobile) FROM bk.contacts c) s JOIN (SELECT 1) t USING ("?column?") WHERE mobile = '13812345679') FROM (SELECT ''::text AS mobile) o`},
		{"using-drops-guessed-column-where-intern", "intern",
			`SELECT (SELECT count(*) FROM (SELECT 1, (SELECT c.id_no) FROM bk.contacts c) s JOIN (SELECT 1) t USING ("?column?") WHERE id_no LIKE '3101%') FROM (SELECT ''::text AS id_no) o`,
			`SELECT (SELECT count(*) FROM (SELECT 1, (SELECT c.id_no) FROM bk.contacts c) s JOIN (SELECT 1) t USING ("?column?") WHERE id_no LIKE '3102%') FROM (SELECT ''::text AS id_no) o`},
		// A again: ordering by the hidden column (aggregate ORDER BY).
		{"using-drops-guessed-column-order", "analyst",
			`SELECT (SELECT array_agg(s.id ORDER BY mobile) FROM (SELECT c.id, 1, (SELECT c.mobile) FROM bk.contacts c WHERE c.mobile IS NOT NULL UNION ALL SELECT 0, 1, '13812345677') s JOIN (SELECT 1) t USING ("?column?")) FROM (SELECT ''::text AS mobile) o`,
			`SELECT (SELECT array_agg(s.id ORDER BY mobile) FROM (SELECT c.id, 1, (SELECT c.mobile) FROM bk.contacts c WHERE c.mobile IS NOT NULL UNION ALL SELECT 0, 1, '13812345679') s JOIN (SELECT 1) t USING ("?column?")) FROM (SELECT ''::text AS mobile) o`},
	}
	for _, c := range infer {
		t.Run("infer/"+c.name, func(t *testing.T) { checkInference(t, addr, db, c.role, c.hit, c.miss) })
	}

	// ---------------------------------------------------------------
	// Defended.
	// ---------------------------------------------------------------
	refused := []struct {
		role  string
		setup []string
		sql   string
	}{
		{"analyst", nil, `SELECT id FROM bk.contacts ORDER BY mobile FETCH FIRST 1 ROWS WITH TIES`},
		{"analyst", nil, `SELECT id FROM bk.contacts LIMIT (SELECT count(*) FROM bk.contacts WHERE mobile LIKE '138%')`},
		{"analyst", nil, `SELECT id FROM bk.contacts OFFSET (SELECT count(*) FROM bk.contacts WHERE name LIKE '张%')`},
		{"analyst", nil, `SELECT id FROM bk.contacts LIMIT length(current_setting('search_path')) + (SELECT min(length(c.email)) FROM bk.contacts c)`},
		{"analyst", nil, `SELECT id, count(*) OVER (ORDER BY birthday RANGE BETWEEN '1 year'::interval PRECEDING AND CURRENT ROW) FROM bk.contacts`},
		{"analyst", nil, `SELECT id, count(*) OVER (ORDER BY id RANGE BETWEEN (SELECT min(amount) FROM bk.payroll)::int PRECEDING AND CURRENT ROW) FROM bk.contacts`},
		{"analyst", nil, `SELECT count(*) FROM bk.contacts GROUP BY GROUPING SETS ((substr(mobile, 1, 3)), ())`},
		{"analyst", nil, `SELECT j.id_no || '' FROM bk.contacts c JOIN bk.payroll p USING (id_no) AS j`},
		{"analyst", nil, `SELECT j::text FROM bk.contacts c JOIN bk.payroll p USING (id_no) AS j`},
		{"analyst", nil, `SELECT x.a4 || '' FROM (bk.contacts c JOIN staging.contacts s USING (id)) AS x(a1, a2, a3, a4, a5, a6, a7, a8, a9)`},
		{"analyst", nil, `UPDATE staging.contacts s SET note = 'x' FROM bk.contacts c WHERE c.id = s.id AND c.mobile LIKE '138%'`},
		{"analyst", nil, `DELETE FROM staging.contacts s USING bk.contacts c WHERE c.name LIKE '张%' AND c.id = s.id`},
		{"analyst", nil, `UPDATE staging.contacts s SET note = note FROM bk.contacts c WHERE c.id = s.id RETURNING c.mobile || ''`},
		{"analyst", nil, `DELETE FROM staging.contacts s USING bk.payroll p WHERE p.id = 999 RETURNING p.amount::text`},
		{"analyst", nil, `INSERT INTO staging.contacts (id) VALUES (DEFAULT) RETURNING (SELECT name FROM bk.contacts LIMIT 1) || ''`},
		{"analyst", nil, `WITH contacts AS (SELECT * FROM bk.contacts) SELECT id_no || '' FROM contacts`},
		{"analyst", []string{"SET search_path = bk, staging"}, `WITH x AS (SELECT 1) SELECT id_no || '' FROM contacts`},
		{"analyst", []string{"SET search_path = bk, pg_catalog"}, `SELECT leak()`},
		{"analyst", []string{`SET search_path = "$user", pg_temp, bk`}, `SELECT id FROM contacts WHERE mobile LIKE '138%'`},
		{"analyst", nil, `SELECT id FROM bk.contacts c WHERE c.mobile OPERATOR(bk.=) '13812345678'`},
		{"analyst", nil, `SELECT greatest(mobile, '0') FROM bk.contacts`},
		{"analyst", nil, `SELECT l.b || '' FROM bk.contacts c, LATERAL (SELECT c.id, c.mobile) AS l(a, b)`},
		{"analyst", nil, `WITH w(a) AS (SELECT 1 AS b, mobile AS b2 FROM bk.contacts) SELECT b2 || '' FROM w`},
		{"analyst", nil, `SELECT r.id_no FROM ROWS FROM (json_to_record((SELECT row_to_json(c) FROM bk.contacts c LIMIT 1)) AS (id_no text)) r`},
		{"analyst", nil, `SELECT (c.id_no COLLATE "C") || '' FROM bk.contacts c`},
		{"analyst", nil, `SELECT CAST(c.name AS varchar(2)) FROM bk.contacts c`},
		{"analyst", nil, `SELECT x || '' FROM (SELECT current_date, c.mobile AS current_date2, c.mobile AS x FROM bk.contacts c) s`},
		{"analyst", nil, `SELECT id FROM bk.contacts c WHERE (SELECT c.mobile) = '13812345678'`},
		{"analyst", nil, `SELECT id FROM bk.contacts c WHERE c.id_no = (SELECT c.id_no) || ''`},
		{"intern", nil, `SELECT (SELECT mobile FROM (SELECT 1, (SELECT c.mobile) FROM bk.contacts c) s JOIN (SELECT 1) t ON true LIMIT 1) FROM (SELECT ''::text AS mobile) o`},
	}
	for i, c := range refused {
		t.Run(fmt.Sprintf("defended/refused-%02d", i), func(t *testing.T) { rt7Refused(t, addr, db, c.role, c.setup, c.sql) })
	}
	noLeak := []struct{ role, sql string }{
		{"analyst", `SELECT * FROM (SELECT 1, (SELECT c.name) FROM bk.contacts c) s JOIN (SELECT 1) t USING ("?column?")`},
		{"intern", `SELECT * FROM (SELECT 1, (SELECT c.name) FROM bk.contacts c) s JOIN (SELECT 1) t USING ("?column?")`},
		{"analyst", `SELECT id_no FROM bk.contacts ORDER BY company_id FETCH FIRST 1 ROWS WITH TIES`},
		{"analyst", `TABLE bk.contacts ORDER BY id LIMIT 2`},
		{"analyst", `VALUES (1), (2) ORDER BY 1 LIMIT 1`},
		{"analyst", `SELECT mobile, count(*) FROM bk.contacts GROUP BY GROUPING SETS ((mobile), ())`},
		{"analyst", `SELECT j.id FROM bk.contacts c JOIN bk.payroll p USING (id) AS j`},
		{"analyst", `SELECT * FROM bk.payroll_public FOR UPDATE`},
		{"analyst", `INSERT INTO staging.contacts (id) VALUES (DEFAULT) RETURNING *`},
	}
	for i, c := range noLeak {
		t.Run(fmt.Sprintf("defended/noleak-%02d", i), func(t *testing.T) { rt7Leak(t, addr, db, c.role, nil, c.sql) })
	}
}
