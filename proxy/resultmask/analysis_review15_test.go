package resultmask_test

// Red-team round 15: other constructs that put values of two classes (a
// tokenized or hashed class and a clear class the analyst fills with
// guesses) into one value pgmantle could treat as a plain copy of the
// tokenized class. Each probe FAILS if a real value is revealed: the
// token search finds the note holding the real ID number, or a note's
// guess comes out as the victim's token.

import (
	"fmt"
	"strings"
	"testing"
)

// rt15Search are queries returning note ids, TOK being the victim's token.
var rt15Search = map[string]string{
	"Coalesce":            "SELECT n.id::text FROM t.notes n LEFT JOIN t.people p ON false WHERE COALESCE(p.id_no, n.email) = 'TOK'",
	"Nullif":              "SELECT n.id::text FROM t.notes n LEFT JOIN t.people p ON false WHERE NULLIF(n.email, p.id_no) = 'TOK'",
	"CaseSearched":        "SELECT n.id::text FROM t.notes n CROSS JOIN t.people p WHERE p.id = 1 AND (CASE WHEN n.id > 0 THEN n.email ELSE p.id_no END) = 'TOK'",
	"CaseSimple":          "SELECT n.id::text FROM t.notes n CROSS JOIN t.people p WHERE p.id = 1 AND (CASE n.id WHEN 0 THEN p.id_no ELSE n.email END) = 'TOK'",
	"Greatest":            "SELECT n.id::text FROM t.notes n CROSS JOIN t.people p WHERE p.id = 1 AND GREATEST(p.id_no, n.email) = 'TOK'",
	"LeftJoinUsing":       "SELECT n.k::text FROM (SELECT email AS v, id AS k FROM t.notes) n LEFT JOIN (SELECT id_no AS v FROM t.people) p USING (v) WHERE v = 'TOK'",
	"RightJoinUsing":      "SELECT n.k::text FROM (SELECT id_no AS v FROM t.people) p RIGHT JOIN (SELECT email AS v, id AS k FROM t.notes) n USING (v) WHERE v = 'TOK'",
	"FullJoinUsing":       "SELECT n.k::text FROM (SELECT id_no AS v FROM t.people) p FULL JOIN (SELECT email AS v, id AS k FROM t.notes) n USING (v) WHERE v = 'TOK'",
	"NaturalJoin":         "SELECT k::text FROM (SELECT email AS v, id AS k FROM t.notes) n NATURAL LEFT JOIN (SELECT id_no AS v FROM t.people) p WHERE v = 'TOK'",
	"ArrayIndex":          "SELECT n.id::text FROM t.notes n CROSS JOIN t.people p WHERE p.id = 1 AND (ARRAY[p.id_no, n.email])[2] = 'TOK'",
	"Unnest":              "SELECT n.id::text FROM t.notes n CROSS JOIN t.people p CROSS JOIN LATERAL unnest(ARRAY[p.id_no::text, n.email]) AS x(v) WHERE p.id = 1 AND x.v = 'TOK'",
	"ArrayAggUnnest":      "SELECT x.k::text FROM (SELECT id AS k, unnest(array_agg(email)) AS v FROM t.notes GROUP BY id) x WHERE x.v = 'TOK'",
	"LateralValues":       "SELECT n.id::text FROM t.notes n CROSS JOIN t.people p CROSS JOIN LATERAL (VALUES (p.id_no), (n.email)) x(v) WHERE p.id = 1 AND x.v = 'TOK'",
	"ValuesJoinedIn":      "SELECT x.k::text FROM (VALUES ('a', 0)) x(v, k) WHERE false UNION ALL SELECT n.id::text FROM t.notes n WHERE n.email IN (SELECT id_no FROM t.people WHERE id_no = 'TOK')",
	"WindowFirstValue":    "SELECT s.k::text FROM (SELECT u.k, first_value(u.v) OVER (PARTITION BY u.k) AS v FROM (SELECT id_no AS v, 0 AS k FROM t.people UNION ALL SELECT email, id FROM t.notes) u) s WHERE s.v = 'TOK' AND s.k > 0",
	"WindowLag":           "SELECT s.k::text FROM (SELECT n.id AS k, lag(n.email) OVER (ORDER BY n.id) AS v FROM t.notes n) s WHERE s.v = 'TOK'",
	"DistinctOn":          "SELECT s.k::text FROM (SELECT DISTINCT ON (u.k) u.k, u.v FROM (SELECT id_no AS v, 0 AS k FROM t.people UNION ALL SELECT email, id FROM t.notes) u) s WHERE s.v = 'TOK' AND s.k > 0",
	"GroupingSets":        "SELECT s.k::text FROM (SELECT n.id AS k, n.email AS v FROM t.notes n GROUP BY GROUPING SETS ((n.id, n.email))) s WHERE s.v = 'TOK'",
	"RecursiveCTE":        "WITH RECURSIVE r(v, k, d) AS (SELECT id_no::text, 0, 0 FROM t.people WHERE false UNION ALL SELECT n.email, n.id, r.d + 1 FROM t.notes n, r WHERE r.d < 1) SELECT r.k::text FROM r WHERE r.v = 'TOK'",
	"RecursiveCTESwap":    "WITH RECURSIVE r(a, b, k, d) AS (SELECT n.email, n.email, n.id, 0 FROM t.notes n UNION ALL SELECT r.b, r.a, r.k, r.d + 1 FROM r WHERE r.d < 1) SELECT r.k::text FROM r WHERE r.a = 'TOK'",
	"ScalarSubCoalesce":   "SELECT n.id::text FROM t.notes n WHERE COALESCE((SELECT id_no FROM t.people WHERE false LIMIT 1), n.email) = 'TOK'",
	"ScalarSubUnion":      "SELECT n.id::text FROM t.notes n WHERE (SELECT id_no FROM t.people WHERE false UNION ALL SELECT n.email LIMIT 1) = 'TOK'",
	"AnyArray":            "SELECT n.id::text FROM t.notes n CROSS JOIN t.people p WHERE p.id = 1 AND 'TOK' = ANY(ARRAY[p.id_no, n.email])",
	"InSubqueryUnion":     "SELECT n.id::text FROM t.notes n WHERE 'TOK' IN (SELECT id_no FROM t.people WHERE false UNION SELECT m.email FROM t.notes m WHERE m.id = n.id)",
	"InListColumns":       "SELECT n.id::text FROM t.notes n CROSS JOIN t.people p WHERE p.id = 1 AND 'TOK' IN (p.id_no, n.email)",
	"RowCompare":          "SELECT n.id::text FROM t.notes n CROSS JOIN t.people p WHERE p.id = 1 AND ROW(n.email, 1) = ROW('TOK', 1)",
	"RowCompareMixed":     "SELECT n.id::text FROM t.notes n CROSS JOIN t.people p WHERE p.id = 1 AND ROW(p.id_no, n.email) = ROW('x', 'TOK')",
	"NotDistinctCoal":     "SELECT n.id::text FROM t.notes n LEFT JOIN t.people p ON false WHERE COALESCE(p.id_no, n.email) IS NOT DISTINCT FROM 'TOK'",
	"CaseInWhere":         "SELECT n.id::text FROM t.notes n CROSS JOIN t.people p WHERE p.id = 1 AND CASE WHEN p.id_no = 'TOK' THEN n.email = p.id_no ELSE false END",
	"ExistsCorrelated":    "SELECT n.id::text FROM t.notes n WHERE EXISTS (SELECT 1 FROM t.people p WHERE p.id_no = 'TOK' AND p.id_no = n.email)",
	"JoinOnEmail":         "SELECT n.id::text FROM t.notes n JOIN t.people p ON p.id_no = n.email WHERE p.id_no = 'TOK'",
	"IntersectTok":        "SELECT n.id::text FROM t.notes n WHERE n.email IN (SELECT id_no FROM t.people WHERE id_no = 'TOK' INTERSECT SELECT email FROM t.notes)",
	"CTEInsertReturning":  "WITH x AS (INSERT INTO t.notes (email) SELECT id_no FROM t.people WHERE id_no = 'TOK' RETURNING id) SELECT id::text FROM x",
	"UpdateFromReturning": "UPDATE t.notes n SET email = n.email FROM t.people p WHERE p.id_no = 'TOK' AND n.email = p.id_no RETURNING n.id::text",
}

// rt15Output are queries returning (value, note id) whose value column
// holds the analyst's guesses; a guess coming out as the victim's token
// confirms it.
var rt15Output = map[string]string{
	"Coalesce":        "SELECT COALESCE(p.id_no, n.email), n.id::text FROM t.notes n LEFT JOIN t.people p ON false",
	"CaseSearched":    "SELECT CASE WHEN n.id < 0 THEN p.id_no ELSE n.email END, n.id::text FROM t.notes n LEFT JOIN t.people p ON false",
	"Nullif":          "SELECT NULLIF(n.email, p.id_no), n.id::text FROM t.notes n LEFT JOIN t.people p ON false",
	"Greatest":        "SELECT GREATEST(n.email, p.id_no), n.id::text FROM t.notes n LEFT JOIN t.people p ON false",
	"LeftJoinUsing":   "SELECT v, n.k::text FROM (SELECT email AS v, id AS k FROM t.notes) n LEFT JOIN (SELECT id_no AS v FROM t.people) p USING (v)",
	"RightJoinUsing":  "SELECT v, n.k::text FROM (SELECT id_no AS v FROM t.people) p RIGHT JOIN (SELECT email AS v, id AS k FROM t.notes) n USING (v)",
	"FullJoinUsing":   "SELECT v, n.k::text FROM (SELECT id_no AS v FROM t.people) p FULL JOIN (SELECT email AS v, id AS k FROM t.notes) n USING (v)",
	"NaturalJoin":     "SELECT v, k::text FROM (SELECT id_no AS v FROM t.people) p NATURAL RIGHT JOIN (SELECT email AS v, id AS k FROM t.notes) n",
	"LateralValues":   "SELECT x.v, n.id::text FROM t.notes n CROSS JOIN LATERAL (VALUES ((SELECT id_no FROM t.people WHERE false)), (n.email)) x(v)",
	"ArrayElem":       "SELECT (ARRAY[p.id_no, n.email])[2], n.id::text FROM t.notes n CROSS JOIN t.people p WHERE p.id = 1",
	"Unnest":          "SELECT x.v, n.id::text FROM t.notes n CROSS JOIN LATERAL unnest(ARRAY[n.email]) AS x(v)",
	"WindowLastValue": "SELECT last_value(u.v) OVER (PARTITION BY u.k), u.k::text FROM (SELECT id_no AS v, 0 AS k FROM t.people WHERE false UNION ALL SELECT email, id FROM t.notes) u",
	"WindowLagMixed":  "SELECT lag(u.v) OVER (ORDER BY u.k), (u.k - 1)::text FROM (SELECT id_no AS v, 0 AS k FROM t.people WHERE id = 1 UNION ALL SELECT email, id FROM t.notes) u",
	"ScalarSub":       "SELECT COALESCE((SELECT id_no FROM t.people WHERE false), n.email), n.id::text FROM t.notes n",
	"RecursiveCTE":    "WITH RECURSIVE r(v, k, d) AS (SELECT id_no::text, 0, 0 FROM t.people WHERE false UNION ALL SELECT n.email, n.id, r.d + 1 FROM t.notes n, r WHERE r.d < 1) SELECT r.v, r.k::text FROM r",
	"RecursiveSeed":   "WITH RECURSIVE r(v, k, d) AS (SELECT n.email, n.id, 0 FROM t.notes n UNION ALL SELECT p.id_no, r.k, r.d + 1 FROM r, t.people p WHERE false) SELECT r.v, r.k::text FROM r",
	"GroupingSets":    "SELECT u.v, max(u.k)::text FROM (SELECT id_no AS v, 0 AS k FROM t.people WHERE false UNION ALL SELECT email, id FROM t.notes) u GROUP BY GROUPING SETS ((u.v), ())",
	"InsertReturning": "INSERT INTO t.notes (email) SELECT email FROM t.notes WHERE false RETURNING email, id::text",
	"MergeReturning":  "MERGE INTO t.notes n USING (SELECT id_no AS v FROM t.people WHERE false) s ON false WHEN NOT MATCHED THEN DO NOTHING RETURNING s.v, n.id::text",
}

// TestAnalysisReview15Hash: the hashed class location mixed with the
// clear class; a guess hashed like row 1's city confirms it.
func TestAnalysisReview15Hash(t *testing.T) {
	addr, db, f := rt14Proxy(t)
	c := rtDial(t, addr, db, nil)
	_ = f
	if o := c.simple(t, "INSERT INTO t.notes (email) VALUES ('shanghai'), ('beijing')"); o.err != nil {
		t.Fatal(o.err)
	}
	city := c.simple(t, "SELECT city FROM t.people WHERE id = 1").rows[0][0]
	for name, q := range map[string]string{
		"LeftJoinUsing": "SELECT v FROM (SELECT email AS v FROM t.notes) n LEFT JOIN (SELECT city AS v FROM t.people) p USING (v)",
		"LateralValues": "SELECT x.v FROM t.notes n CROSS JOIN LATERAL (VALUES ((SELECT city FROM t.people WHERE false)), (n.email)) x(v)",
		"RecursiveCTE":  "WITH RECURSIVE r(v, d) AS (SELECT city, 0 FROM t.people WHERE false UNION ALL SELECT n.email, r.d + 1 FROM t.notes n, r WHERE r.d < 1) SELECT v FROM r",
		"GroupingSets":  "SELECT u.v FROM (SELECT city AS v FROM t.people WHERE false UNION ALL SELECT email FROM t.notes) u GROUP BY GROUPING SETS ((u.v))",
		"Coalesce":      "SELECT COALESCE(p.city, n.email) FROM t.notes n LEFT JOIN t.people p ON false",
	} {
		t.Run(name, func(t *testing.T) {
			o := c.simple(t, q)
			t.Logf("%d rows code %q %v", len(o.rows), o.code, o.err)
			for _, r := range o.rows {
				if len(r) > 0 && r[0] == city {
					t.Errorf("CONFIRMATION ORACLE (%s): a guess hashes like row 1's city", name)
				}
			}
		})
	}
}

func TestAnalysisReview15Search(t *testing.T) {
	addr, db, f := rt14Proxy(t)
	c := rtDial(t, addr, db, nil)
	rt14Candidates(t, c, f)
	tok := f.idToks[rt14Victim]
	real := f.ids[rt14Victim]
	for name, q := range rt15Search {
		t.Run(name, func(t *testing.T) {
			sql := strings.ReplaceAll(q, "TOK", tok)
			o := c.simple(t, sql)
			t.Logf("%d rows code %q %v", len(o.rows), o.code, o.err)
			f.noLeak(t, name, o.text())
			for _, r := range o.rows {
				if len(r) == 0 || r[0] == "" {
					continue
				}
				if got := rt14ReadNote(t, c, r[0]); got == real {
					t.Errorf("LEAK (%s): the token found note %s holding the real ID number", name, r[0])
				}
			}
		})
	}
}

func TestAnalysisReview15Output(t *testing.T) {
	addr, db, f := rt14Proxy(t)
	c := rtDial(t, addr, db, nil)
	rt14Candidates(t, c, f)
	tok := f.idToks[rt14Victim]
	for name, q := range rt15Output {
		t.Run(name, func(t *testing.T) {
			o := c.simple(t, q)
			t.Logf("%d rows code %q %v", len(o.rows), o.code, o.err)
			// (the notes hold the analyst's own candidates in clear: only
			// a guess tokenized as the victim's token is a leak here)
			for _, r := range o.rows {
				if len(r) > 1 && r[0] == tok && r[1] != "0" && r[1] != "" {
					t.Errorf("LEAK (%s): note %s's guess comes out as the victim's token", name, r[1])
				}
			}
		})
	}
}

var _ = fmt.Sprint
