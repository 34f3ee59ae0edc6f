package resultmask_test

// Regression tests from a review that attacked the analysis: each test
// replays an attack that once succeeded (its comment describes the hole
// as it was found); it must now be refused, or its values masked.
import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgmantle/pgmantle/internal/pgtest"
)

// TestReviewedRound2EndToEnd replays, through pgmantle against PostgreSQL,
// statements the analysis allows although they return a protected value
// unmasked, let the answer depend on a protected value compared with the
// attacker's literal, or copy protected data into a clean table.
func TestReviewedRound2EndToEnd(t *testing.T) {
	addr, db, _, _ := analysisProxy(t)

	leaks := []struct{ name, role, sql string }{
		{"frame-offset-value", "analyst", `SELECT max(c) - 1 FROM (SELECT count(*) OVER (ORDER BY g ROWS BETWEEN (SELECT bonus FROM bk.payroll WHERE id = 1) PRECEDING AND CURRENT ROW) AS c FROM generate_series(1, 100000) g) x`},
		{"cast-name-outer-ref", "analyst", `SELECT (SELECT "?column?" FROM (SELECT (1 + 1)::int) x) FROM (SELECT name AS "?column?" FROM bk.contacts) s`},
		{"nullif-name-outer-ref", "intern", `SELECT (SELECT "?column?" FROM (SELECT NULLIF(1, 2)) x) FROM (SELECT id_no AS "?column?" FROM bk.contacts) s`},
		{"case-cast-name-outer-ref", "analyst", `SELECT (SELECT "case" FROM (SELECT CASE WHEN true THEN 1 END::int) x) FROM (SELECT id_no AS "case" FROM bk.contacts) s`},
		{"unsure-name-outer-ref", "analyst", `SELECT (SELECT "?column?" FROM (SELECT ARRAY[1]) x) FROM (SELECT mobile AS "?column?" FROM bk.contacts) s`},
		{"join-alias-hides-output", "analyst", `SELECT (SELECT c.id_no || '' FROM (staging.contacts c JOIN bk.departments d ON true) j LIMIT 1) FROM bk.contacts c`},
		{"join-alias-hides-same-level", "analyst", `SELECT c.id_no || '' FROM (staging.contacts c JOIN bk.departments d ON true) j, bk.contacts c`},
		{"cte-in-from-subquery", "analyst", `WITH pg_am(oid, amname) AS (SELECT id, id_no FROM bk.contacts) SELECT * FROM (SELECT amname || '' FROM pg_am) s`},
		{"cte-in-from-subquery-intern", "intern", `WITH pg_am(oid, amname) AS (SELECT id, mobile FROM bk.contacts) SELECT * FROM (SELECT amname || '' FROM pg_am) s`},
		{"join-alias-hides-intern", "intern", `SELECT c.id_no || '' FROM (staging.contacts c JOIN bk.departments d ON true) j, bk.contacts c`},
	}
	for _, c := range leaks {
		t.Run("leak/"+c.name, func(t *testing.T) {
			got, err := bypassRun(t, addr, db, c.role, nil, c.sql)
			t.Logf("received (err=%v):\n%s", err, got)
			if v, class := findSecret([]byte(got), nil); v != "" {
				t.Errorf("%s as %s: client received a %s value %q", c.sql, c.role, class, v)
			}
		})
	}

	t.Run("leak/view-derived-copy-out", func(t *testing.T) {
		_, err := bypassRun(t, addr, db, "analyst", nil, `INSERT INTO staging.contacts (id, note) SELECT id + 100, email_upper FROM bk.contact_regions`)
		t.Logf("insert: %v", err)
		got, _ := bypassRun(t, addr, db, "analyst", nil, `SELECT lower(note) FROM staging.contacts WHERE id > 100`)
		t.Logf("read back:\n%s", got)
		if v, class := findSecret([]byte(got), nil); v != "" {
			t.Errorf("a %s value (%q) was copied into staging.contacts and read back", class, v)
		}
		bypassRun(t, addr, db, "analyst", nil, `DELETE FROM staging.contacts WHERE id > 100`)
	})

	infer := []struct{ name, role, hit, miss string }{
		{"view-derived-predicate", "analyst",
			`SELECT id FROM bk.contact_regions WHERE region = '310105'`,
			`SELECT id FROM bk.contact_regions WHERE region = '310106'`},
		{"view-derived-predicate-intern", "intern",
			`SELECT count(*) FROM bk.contact_regions WHERE email_upper LIKE 'ZHANG%'`,
			`SELECT count(*) FROM bk.contact_regions WHERE email_upper LIKE 'WANG%'`},
		{"frame-offset-subquery", "analyst",
			`SELECT id, count(*) OVER (ORDER BY id ROWS BETWEEN (SELECT count(*) FROM bk.contacts WHERE id_no LIKE '3101%') PRECEDING AND CURRENT ROW) FROM bk.contacts ORDER BY id`,
			`SELECT id, count(*) OVER (ORDER BY id ROWS BETWEEN (SELECT count(*) FROM bk.contacts WHERE id_no LIKE '3102%') PRECEDING AND CURRENT ROW) FROM bk.contacts ORDER BY id`},
		{"cte-cycle", "analyst",
			`WITH RECURSIVE t(n, v) AS (SELECT 1, email FROM bk.contacts WHERE id = 1 UNION ALL SELECT n + 1, 'zhang.weiming@example.cn' FROM t WHERE n < 3) CYCLE v SET c USING p SELECT count(*) FROM t`,
			`WITH RECURSIVE t(n, v) AS (SELECT 1, email FROM bk.contacts WHERE id = 1 UNION ALL SELECT n + 1, 'li.xiuying@example.cn' FROM t WHERE n < 3) CYCLE v SET c USING p SELECT count(*) FROM t`},
		{"cast-name-order", "analyst",
			`SELECT s.id, (1 + 1)::int FROM (SELECT id, email AS "?column?" FROM bk.contacts UNION ALL SELECT 0, 'm') s ORDER BY "?column?"`,
			`SELECT s.id, (1 + 1)::int FROM (SELECT id, email AS "?column?" FROM bk.contacts UNION ALL SELECT 0, 'a') s ORDER BY "?column?"`},
		{"nullif-name-distinct-on", "analyst",
			`SELECT count(*) FROM (SELECT DISTINCT ON ("?column?") s.id, NULLIF(1, 2) FROM (SELECT id, id_no AS "?column?" FROM bk.contacts UNION ALL SELECT 0, '310105198807158033') s) z`,
			`SELECT count(*) FROM (SELECT DISTINCT ON ("?column?") s.id, NULLIF(1, 2) FROM (SELECT id, id_no AS "?column?" FROM bk.contacts UNION ALL SELECT 0, '310105198807158034') s) z`},
		{"join-alias-hides-predicate", "analyst",
			`SELECT c.id FROM bk.contacts c WHERE EXISTS (SELECT 1 FROM (staging.contacts c JOIN bk.departments d ON true) j WHERE c.id_no LIKE '3101%') ORDER BY 1`,
			`SELECT c.id FROM bk.contacts c WHERE EXISTS (SELECT 1 FROM (staging.contacts c JOIN bk.departments d ON true) j WHERE c.id_no LIKE '3102%') ORDER BY 1`},
	}
	for _, c := range infer {
		t.Run("infer/"+c.name, func(t *testing.T) { checkInference(t, addr, db, c.role, c.hit, c.miss) })
	}

	// The plan of a text is reused for another whose UESCAPE literal
	// differs: the U&"" identifier then names another column.
	t.Run("leak/cache-uescape", func(t *testing.T) {
		safe := `SELECT (SELECT U&"!0061" UESCAPE '!' || '' FROM (SELECT 1 AS a) x) FROM (SELECT name AS "!0061" FROM bk.contacts) s`
		leak := `SELECT (SELECT U&"!0061" UESCAPE '#' || '' FROM (SELECT 1 AS a) x) FROM (SELECT name AS "!0061" FROM bk.contacts) s`
		got, err := bypassRun(t, addr, db, "analyst", nil, safe)
		t.Logf("safe text (err=%v):\n%s", err, got)
		got, err = bypassRun(t, addr, db, "analyst", nil, leak)
		t.Logf("leaking text after the safe one (err=%v):\n%s", err, got)
		if v, class := findSecret([]byte(got), nil); v != "" {
			t.Errorf("client received a %s value %q", class, v)
		}
	})

	// A SET search_path prepared over the extended protocol can be
	// executed again after a confirmed SET: pgmantle then analyses names
	// under a search_path PostgreSQL no longer has.
	t.Run("leak/prepared-set-search-path", func(t *testing.T) {
		ctx := pgtest.Context(t)
		cfg, err := pgconn.ParseConfig(fmt.Sprintf("postgres://analyst:%s@%s/%s?sslmode=disable", password, addr, db))
		if err != nil {
			t.Fatal(err)
		}
		conn, err := pgconn.ConnectConfig(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		if _, err := conn.Prepare(ctx, "to_bk", "SET search_path = bk", nil); err != nil {
			t.Fatalf("prepare: %v", err)
		}
		if _, err := conn.Exec(ctx, "SET search_path = staging").ReadAll(); err != nil {
			t.Fatalf("set staging: %v", err)
		}
		// Let pgmantle see the confirmation (it applies at the next Admit).
		if _, err := conn.Exec(ctx, "SELECT 1").ReadAll(); err != nil {
			t.Fatal(err)
		}
		r := conn.ExecPrepared(ctx, "to_bk", nil, nil, nil).Read()
		t.Logf("execute to_bk: %v", r.Err)
		var out bytes.Buffer
		res, err := conn.Exec(ctx, "SHOW search_path; SELECT id_no || '' FROM contacts").ReadAll()
		for _, r := range res {
			appendRows(&out, r.Rows)
		}
		t.Logf("received (err=%v):\n%s", err, out.String())
		res, err = conn.Exec(ctx, "SELECT id_no || '' FROM contacts").ReadAll()
		out.Reset()
		for _, r := range res {
			appendRows(&out, r.Rows)
		}
		t.Logf("received (err=%v):\n%s", err, out.String())
		if v, class := findSecret(out.Bytes(), nil); v != "" {
			t.Errorf("client received a %s value %q", class, v)
		}
	})
}
