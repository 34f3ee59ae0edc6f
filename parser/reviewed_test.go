package parser_test

// Regression tests from a review that attacked the analysis: each test
// replays an attack that once succeeded (its comment describes the hole
// as it was found); it must now be refused, or its values masked.
import (
	"testing"

	"github.com/pgmantle/pgmantle/parser"
)

// reviewedDecide analyses sql as role (after setup, each confirmed) and returns
// the first refusal ("" when allowed) and the last decision.
func reviewedDecide(t *testing.T, role string, setup []string, sql string) (string, *parser.Decision) {
	t.Helper()
	env, pol := testEnv(t)
	rules := pol.Resolve(role, nil)
	st := parser.NewState(role)
	for _, s := range setup {
		st.Immediate = true
		a := parser.Analyze(s, env, st)
		for _, x := range a.Statements {
			if d := parser.Decide(x, role, rules, false); d.Refusal != "" {
				t.Fatalf("setup %q refused: %s", s, d.Refusal)
			}
			st.Completed(x)
		}
		st.Synced(st.Batch + 1) // PostgreSQL answered the setup Query
		st.Batch++
	}
	st.Immediate = true
	a := parser.Analyze(sql, env, st)
	var refusal string
	var last *parser.Decision
	for _, s := range a.Statements {
		last = parser.Decide(s, role, rules, false)
		if last.Refusal != "" && refusal == "" {
			refusal = last.Refusal
		}
	}
	return refusal, last
}

// Statements that must be refused (each one leaks, lets the client infer a
// protected value, or copies one out of reach).
func TestReviewedMustRefuse(t *testing.T) {
	cases := []struct{ name, role, sql string }{
		// Views whose columns are computed from protected ones.
		{"view-derived-equality", "analyst", `SELECT id FROM bk.contact_regions WHERE region = '310105'`},
		{"view-derived-like", "analyst", `SELECT count(*) FROM bk.contact_regions WHERE email_upper LIKE 'ZHANG%'`},
		{"view-derived-order", "analyst", `SELECT id FROM bk.contact_regions ORDER BY region`},
		{"view-derived-group", "analyst", `SELECT count(*) FROM bk.contact_regions GROUP BY region`},
		{"view-derived-write", "analyst", `INSERT INTO staging.contacts (id, note) SELECT id, region FROM bk.contact_regions`},
		{"view-derived-intern", "intern", `SELECT count(*) FROM bk.contact_regions WHERE region LIKE '3101%'`},
		// Window frame offsets.
		{"frame-offset-subquery", "analyst", `SELECT id, count(*) OVER (ORDER BY id ROWS BETWEEN (SELECT count(*) FROM bk.contacts WHERE id_no LIKE '3101%') PRECEDING AND CURRENT ROW) FROM bk.contacts`},
		{"frame-offset-value", "analyst", `SELECT max(c) FROM (SELECT count(*) OVER (ORDER BY g ROWS BETWEEN (SELECT bonus FROM bk.payroll WHERE id = 1) PRECEDING AND CURRENT ROW) AS c FROM generate_series(1, 100000) g) x`},
		{"frame-offset-named-window", "analyst", `SELECT count(*) OVER w FROM bk.contacts WINDOW w AS (ORDER BY id ROWS (SELECT count(*) FROM bk.contacts WHERE name LIKE '张%') PRECEDING)`},
		// CTE CYCLE / SEARCH.
		{"cte-cycle", "analyst", `WITH RECURSIVE t(n, v) AS (SELECT 1, email FROM bk.contacts WHERE id = 1 UNION ALL SELECT n + 1, 'zhang.weiming@example.cn' FROM t WHERE n < 3) CYCLE v SET c USING p SELECT count(*) FROM t`},
		// Output names pgmantle guesses and PostgreSQL does not use.
		{"cast-name-order", "analyst", `SELECT s.id, (1 + 1)::int FROM (SELECT id, name AS "?column?" FROM bk.contacts UNION ALL SELECT 0, '李') s ORDER BY "?column?"`},
		{"nullif-name-order", "analyst", `SELECT s.id, NULLIF(1, 2) FROM (SELECT id, name AS "?column?" FROM bk.contacts) s ORDER BY "?column?"`},
		{"cast-name-distinct-on", "analyst", `SELECT DISTINCT ON ("?column?") s.id, (1 + 1)::int FROM (SELECT id, mobile AS "?column?" FROM bk.contacts) s`},
		{"nullif-name-outer-ref", "intern", `SELECT (SELECT "?column?" FROM (SELECT NULLIF(1, 2)) x) FROM (SELECT mobile AS "?column?" FROM bk.contacts) s`},
		// A JOIN alias hides its members.
		{"join-alias-hides-output", "analyst", `SELECT (SELECT c.id_no || '' FROM (staging.contacts c JOIN bk.departments d ON true) j LIMIT 1) FROM bk.contacts c`},
		{"join-alias-hides-predicate", "analyst", `SELECT c.id FROM bk.contacts c WHERE EXISTS (SELECT 1 FROM (staging.contacts c JOIN bk.departments d ON true) j WHERE c.id_no LIKE '3101%')`},
		{"join-alias-hides-same-level", "analyst", `SELECT c.id_no || '' FROM (staging.contacts c JOIN bk.departments d ON true) j, bk.contacts c`},
		{"join-alias-hides-intern", "intern", `SELECT c.id_no || '' FROM (staging.contacts c JOIN bk.departments d ON true) j, bk.contacts c`},
		// WITH queries are visible in FROM subqueries of the same level.
		{"cte-in-from-subquery", "analyst", `WITH pg_am(oid, amname) AS (SELECT id, id_no FROM bk.contacts) SELECT * FROM (SELECT amname || '' FROM pg_am) s`},
		{"cte-in-from-subquery-predicate", "analyst", `WITH pg_am(oid, amname) AS (SELECT id, id_no FROM bk.contacts) SELECT * FROM (SELECT oid FROM pg_am WHERE amname LIKE '3101%') s`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			refusal, d := reviewedDecide(t, c.role, nil, c.sql)
			if refusal == "" {
				var outs []string
				for _, o := range d.Outputs {
					outs = append(outs, o.Class)
				}
				t.Errorf("%s as %s: allowed (output classes %q, uses %+v)", c.sql, c.role, outs, d.Statement.Uses)
			} else {
				t.Logf("refused: %s", refusal)
			}
		})
	}
}

// TestReviewedCacheUescape: UESCAPE's string literal decides what a U&""
// identifier names, yet normalizeKey replaces it by a placeholder, so two
// texts naming different columns share one cached plan.
func TestReviewedCacheUescape(t *testing.T) {
	env, pol := testEnv(t)
	rules := pol.Resolve("analyst", nil)
	const safe = `SELECT (SELECT U&"!0061" UESCAPE '!' || '' FROM (SELECT 1 AS a) x) FROM (SELECT name AS "!0061" FROM bk.contacts) s`
	const leak = `SELECT (SELECT U&"!0061" UESCAPE '#' || '' FROM (SELECT 1 AS a) x) FROM (SELECT name AS "!0061" FROM bk.contacts) s`
	if r, _ := reviewedDecide(t, "analyst", nil, leak); r == "" {
		t.Fatalf("control: %s allowed on its own", leak)
	} else {
		t.Logf("on its own, the leaking text is refused: %s", r)
	}
	c := parser.NewCache(100)
	st := parser.NewState("analyst")
	if r := c.Plan(safe, env, st, "analyst", rules, false).Refusal(); r != "" {
		t.Fatalf("safe text refused: %s", r)
	}
	p := c.Plan(leak, env, st, "analyst", rules, false)
	if r := p.Refusal(); r == "" {
		t.Errorf("%s\nallowed from the cached plan of\n%s\n(outputs %+v)", leak, safe, p.Statements[0].Outputs)
	}
}

// TestReviewedProbes lists other candidates; each must be refused.
func TestReviewedProbes(t *testing.T) {
	probes := []struct{ role, sql string }{
		{"analyst", `SELECT pg_column_size(name) FROM bk.contacts`},
		{"analyst", `SELECT pg_typeof(id_no) FROM bk.contacts`},
		{"analyst", `SELECT hashtext(mobile) FROM bk.contacts`},
		{"analyst", `SELECT format('%s', VARIADIC ARRAY[name]) FROM bk.contacts`},
		{"analyst", `SELECT concat_ws(',', VARIADIC ARRAY[email]) FROM bk.contacts`},
		{"analyst", `SELECT make_interval(years => bonus) FROM bk.payroll`},
		{"analyst", `SELECT to_tsvector(name) FROM bk.contacts`},
		{"analyst", `SELECT xmlagg(xmlelement(name x, name)) FROM bk.contacts`},
		{"analyst", `SELECT jsonb_agg(mobile) FROM bk.contacts`},
		{"analyst", `SELECT count(*) FROM bk.contacts WHERE ROW(id, id_no) = ROW(1, '310105198807158033')`},
		{"analyst", `SELECT count(*) FROM bk.contacts WHERE (id, mobile) IN (SELECT 1, '13812345678')`},
		{"analyst", `SELECT count(*) FROM bk.contacts WHERE mobile IN (VALUES ('13812345678'))`},
		{"analyst", `SELECT count(*) FROM bk.contacts GROUP BY GROUPING SETS ((left(id_no, 4)), ())`},
		{"analyst", `SELECT id FROM bk.contacts ORDER BY mobile FETCH FIRST 1 ROWS WITH TIES`},
		{"analyst", `SELECT id FROM bk.payroll TABLESAMPLE bernoulli (50) REPEATABLE (bonus)`},
		{"analyst", `SELECT sum(id) OVER (ORDER BY birthday RANGE BETWEEN '1 year' PRECEDING AND CURRENT ROW) FROM bk.contacts`},
		{"analyst", `SELECT array_agg(DISTINCT mobile ORDER BY mobile) FROM bk.contacts`},
		{"analyst", `SELECT count(DISTINCT mobile ORDER BY mobile) FROM bk.contacts`},
		{"analyst", `SELECT c.id FROM bk.contacts c JOIN (VALUES ('13812345678')) v(m) ON v.m = c.mobile`},
		{"analyst", `UPDATE bk.contacts SET company_id = company_id WHERE id = 1 RETURNING upper(name)`},
		{"analyst", `DELETE FROM staging.contacts s USING bk.contacts c WHERE s.id = c.id RETURNING c.id_no || ''`},
		{"analyst", `INSERT INTO bk.invoices VALUES (1, 1, 'x', '2026-01-01', 1, 1) ON CONFLICT (id) DO UPDATE SET tax = 0 WHERE excluded.buyer_uscc = bk.invoices.buyer_uscc`},
		{"analyst", `WITH RECURSIVE t(n, v) AS (SELECT 1, mobile FROM bk.contacts UNION ALL SELECT n + 1, v FROM t WHERE n < 2) SEARCH DEPTH FIRST BY v SET o SELECT n FROM t ORDER BY o`},
		{"analyst", `SELECT id_no INTO TEMP x FROM bk.contacts`},
		{"analyst", `SET search_path = bk; SELECT id FROM contacts WHERE id_no LIKE '3%'`},
		{"analyst", `SELECT leak()`},
		{"analyst", `SELECT "ID_NO" FROM bk.contacts`},
		{"analyst", `SELECT count(*) FROM bk.contacts WHERE "id_no" LIKE '3%'`},
		{"analyst", `SELECT count(*) FROM bk.contacts c WHERE c.contacts IS NOT NULL`},
		{"analyst", `SELECT (c).id_no FROM bk.contacts c`},
		{"analyst", `SELECT c.text FROM bk.contacts c`},
		{"analyst", `SELECT count(*) FROM bk.contacts WHERE mobile IS NOT DISTINCT FROM '13812345678'`},
		{"analyst", `SELECT count(*) FROM bk.contacts WHERE NULLIF(mobile, '13812345678') IS NULL`},
		{"analyst", `SELECT count(*) FILTER (WHERE mobile = '13812345678') FROM bk.contacts`},
		{"analyst", `SELECT id FROM bk.contacts LIMIT (SELECT count(*) FROM bk.contacts WHERE id_no LIKE '3101%')`},
		{"analyst", `SELECT rank('13812345678') WITHIN GROUP (ORDER BY mobile) FROM bk.contacts`},
		{"analyst", `SELECT count(*) FROM bk.contacts GROUP BY mobile HAVING mobile > '138'`},
		{"analyst", `SELECT count(*) FROM bk.contacts c1 JOIN bk.contacts c2 ON c1.mobile < c2.mobile`},
		{"analyst", `SELECT * FROM bk.contacts c, LATERAL (SELECT c.name || '' AS x) s`},
		{"analyst", `WITH x AS MATERIALIZED (SELECT name FROM bk.contacts) SELECT count(*) FROM x WHERE name = 'x'`},
		{"analyst", `SELECT count(*) FROM bk.contacts c WHERE c.mobile = ANY (SELECT '13812345678' UNION ALL SELECT mobile FROM bk.contacts WHERE false)`},
		{"intern", `SELECT count(mobile) FROM bk.contacts`},
		{"intern", `SELECT count(*) FROM bk.contacts WHERE email IS NULL`},
	}
	for _, p := range probes {
		if r, _ := reviewedDecide(t, p.role, nil, p.sql); r == "" {
			t.Errorf("allowed as %s: %s", p.role, p.sql)
		}
	}
}

// TestReviewedMergeReturningStar: PostgreSQL 17 expands MERGE's RETURNING
// * as the source's columns and then the target's; pgmantle's scope lists
// the target first, so a bare * was planned in the wrong order and a
// protected source column could go out as a clean one (red-team finding,
// 2026-11-29). A bare * is refused; qualified stars keep their planned
// columns.
func TestReviewedMergeReturningStar(t *testing.T) {
	const merge = `MERGE INTO staging.contacts s USING (SELECT id, mobile AS x FROM bk.contacts) c ON false WHEN NOT MATCHED THEN INSERT (id) VALUES (c.id) RETURNING `
	if r, _ := reviewedDecide(t, "analyst", nil, merge+"*"); r == "" {
		t.Error("MERGE ... RETURNING * allowed")
	}
	if r, _ := reviewedDecide(t, "analyst", nil, "WITH m AS ("+merge+"*) SELECT x FROM m"); r == "" {
		t.Error("MERGE ... RETURNING * inside WITH allowed")
	}
	r, d := reviewedDecide(t, "analyst", nil, merge+"c.*")
	if r != "" {
		t.Fatalf("MERGE ... RETURNING c.* refused: %s", r)
	}
	if len(d.Outputs) != 2 || d.Outputs[0].Class != "" || d.Outputs[1].Class != "cn_mobile" {
		var classes []string
		for _, o := range d.Outputs {
			classes = append(classes, o.Class)
		}
		t.Errorf("RETURNING c.*: output classes %q, want [\"\" \"cn_mobile\"]", classes)
	}
}
