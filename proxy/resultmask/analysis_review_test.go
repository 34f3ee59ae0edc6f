package resultmask_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgmantle/pgmantle/internal/pgtest"
)

// bypassRun sends setup then sql (simple protocol, one session) as role through
// the proxy and returns what the client received and the last error.
func bypassRun(t *testing.T, addr, db, role string, setup []string, sql string) (string, error) {
	t.Helper()
	ctx := pgtest.Context(t)
	cfg, err := pgconn.ParseConfig(fmt.Sprintf("postgres://%s:%s@%s/%s?sslmode=disable", role, password, addr, db))
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgconn.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	for _, s := range setup {
		_, err := conn.Exec(ctx, s).ReadAll()
		t.Logf("setup %q: err=%v", s, err)
	}
	var out bytes.Buffer
	res, err := conn.Exec(ctx, sql).ReadAll()
	for _, r := range res {
		appendRows(&out, r.Rows)
	}
	if err != nil {
		fmt.Fprintf(&out, "ERROR %v\n", err)
	}
	return out.String(), err
}

// TestReviewedBypassesEndToEnd replays, through pgmantle against
// PostgreSQL, statements a review found slipping past the analysis: none
// may return a protected value, and none may answer differently depending
// on a protected value compared with the attacker's literal.
func TestReviewedBypassesEndToEnd(t *testing.T) {
	addr, db, _, _ := analysisProxy(t)

	// Direct leaks: a seeded value reaches the client unmasked.
	leaks := []struct {
		name, role string
		setup      []string
		sql        string
	}{
		{"anycol-output", "analyst", nil, `SELECT (SELECT mobile FROM jsonb_each('{"a":1}') LIMIT 1) FROM bk.contacts`},
		{"anycol-output-intern", "intern", nil, `SELECT (SELECT id_no FROM jsonb_each('{"a":1}') LIMIT 1) FROM bk.contacts`},
		{"union-bruteforce", "analyst", nil, `SELECT c.id, x.cand FROM bk.contacts c JOIN (SELECT '1381234' || lpad(g::text, 4, '0') AS m, '1381234' || lpad(g::text, 4, '0') AS cand FROM generate_series(0, 9999) g UNION ALL SELECT mobile, '' FROM bk.contacts WHERE false) x ON x.m = c.mobile`},
		{"recursive-forward-cte", "analyst", nil, `WITH RECURSIVE a AS (SELECT amname FROM pg_am), pg_am(amname) AS (SELECT id_no FROM bk.contacts) SELECT amname || '' FROM a`},
		{"lateral-in-join", "analyst", nil, `SELECT (SELECT x.v FROM bk.contacts a JOIN LATERAL (SELECT id_no || '' AS v) x ON true LIMIT 1) FROM staging.contacts`},
		{"prepare-replace", "analyst", []string{
			`PREPARE q AS SELECT name FROM bk.contacts UNION ALL SELECT employee FROM bk.payroll`,
			`PREPARE q AS SELECT 'x'::text AS name`}, `EXECUTE q`},
	}
	for _, c := range leaks {
		t.Run("leak/"+c.name, func(t *testing.T) {
			got, err := bypassRun(t, addr, db, c.role, c.setup, c.sql)
			t.Logf("received (err=%v):\n%s", err, got)
			if v, class := findSecret([]byte(got), nil); v != "" {
				t.Errorf("%s as %s: client received a %s value %q", c.sql, c.role, class, v)
			}
		})
	}

	// Copy-out: protected data written into a clean table, then read back.
	t.Run("leak/anycol-copy-out", func(t *testing.T) {
		_, err := bypassRun(t, addr, db, "analyst", nil, `INSERT INTO staging.contacts (id, note) SELECT id + 100, (SELECT mobile FROM jsonb_each('{"a":1}') LIMIT 1) FROM bk.contacts`)
		t.Logf("insert: %v", err)
		got, _ := bypassRun(t, addr, db, "analyst", nil, `SELECT note FROM staging.contacts WHERE id > 100`)
		t.Logf("read back:\n%s", got)
		if v, class := findSecret([]byte(got), nil); v != "" {
			t.Errorf("a %s value (%q) was copied into staging.contacts and read back", class, v)
		}
		bypassRun(t, addr, db, "analyst", nil, `DELETE FROM staging.contacts WHERE id > 100`)
	})

	// Inference: the result depends on a protected value compared with an
	// attacker's literal (two literals give different answers).
	infer := []struct {
		name, role string
		sqlHit     string
		sqlMiss    string
	}{
		{"anycol-predicate", "analyst",
			`SELECT id FROM bk.contacts WHERE EXISTS (SELECT 1 FROM jsonb_each('{"a":1}') WHERE id_no LIKE '3101%') ORDER BY id`,
			`SELECT id FROM bk.contacts WHERE EXISTS (SELECT 1 FROM jsonb_each('{"a":1}') WHERE id_no LIKE '3102%') ORDER BY id`},
		{"union-literal-join", "analyst",
			`SELECT c.id FROM bk.contacts c WHERE c.mobile IN (SELECT '13812345678' UNION ALL SELECT mobile FROM bk.contacts WHERE false)`,
			`SELECT c.id FROM bk.contacts c WHERE c.mobile IN (SELECT '13812345679' UNION ALL SELECT mobile FROM bk.contacts WHERE false)`},
		{"union-literal-group", "analyst",
			`SELECT count(*) FROM (SELECT id_no FROM bk.contacts UNION SELECT '310105198807158033') x`,
			`SELECT count(*) FROM (SELECT id_no FROM bk.contacts UNION SELECT '310105198807158034') x`},
		{"join-on-namespace", "analyst",
			`SELECT c.id FROM bk.contacts c WHERE EXISTS (SELECT 1 FROM staging.contacts x, bk.departments d1 JOIN bk.departments d2 ON id_no LIKE '3101%') ORDER BY 1`,
			`SELECT c.id FROM bk.contacts c WHERE EXISTS (SELECT 1 FROM staging.contacts x, bk.departments d1 JOIN bk.departments d2 ON id_no LIKE '3102%') ORDER BY 1`},
		{"join-on-namespace-qualified", "analyst",
			`SELECT c.id FROM bk.contacts c WHERE EXISTS (SELECT 1 FROM staging.contacts c, bk.departments d1 JOIN bk.departments d2 ON c.id_no LIKE '3101%') ORDER BY 1`,
			`SELECT c.id FROM bk.contacts c WHERE EXISTS (SELECT 1 FROM staging.contacts c, bk.departments d1 JOIN bk.departments d2 ON c.id_no LIKE '3102%') ORDER BY 1`},
		{"composite-as-scalar", "analyst",
			`SELECT c.id FROM bk.contacts c WHERE EXISTS (SELECT 1 FROM json_populate_record(NULL::bk.contacts, '{"mobile":"13812345678"}') WHERE mobile = c.mobile)`,
			`SELECT c.id FROM bk.contacts c WHERE EXISTS (SELECT 1 FROM json_populate_record(NULL::bk.contacts, '{"mobile":"13812345679"}') WHERE mobile = c.mobile)`},
		{"natural-xmltable", "analyst",
			`SELECT count(*) FROM bk.contacts NATURAL JOIN XMLTABLE('/r' PASSING '<r><n>&#24352;&#20255;&#26126;</n></r>' COLUMNS name text PATH 'n') x`,
			`SELECT count(*) FROM bk.contacts NATURAL JOIN XMLTABLE('/r' PASSING '<r><n>&#24352;&#20255;</n></r>' COLUMNS name text PATH 'n') x`},
		{"orderby-sublink-name", "analyst",
			`SELECT p.id AS pid, (SELECT k.amount AS id FROM bk.payroll k WHERE k.id = p.id) FROM bk.payroll p ORDER BY id`,
			`SELECT p.id AS pid, (SELECT k.amount AS id FROM bk.payroll k WHERE k.id = p.id) FROM bk.payroll p ORDER BY id DESC`},
		{"orderby-position-star", "analyst",
			`SELECT x.id FROM (SELECT j.*, c.* FROM jsonb_each('{"a":1}') j, bk.contacts c ORDER BY 10 LIMIT 1) x`,
			`SELECT x.id FROM (SELECT j.*, c.* FROM jsonb_each('{"a":1}') j, bk.contacts c ORDER BY 10 DESC LIMIT 1) x`},
	}
	for _, c := range infer {
		t.Run("infer/"+c.name, func(t *testing.T) { checkInference(t, addr, db, c.role, c.sqlHit, c.sqlMiss) })
	}

	// COPY TO '' has no file name in the parse tree, like TO STDOUT; it
	// must be refused, and must not open the way for COPY ... TO 'file'
	// through a shared cache entry.
	t.Run("cache/copy-file", func(t *testing.T) {
		// Control: without the poisoned entry pgmantle refuses a file COPY.
		_, ctl := bypassRun(t, addr, db, "analyst", nil, `COPY bk.payroll TO '/tmp/pgmantle_redteam.csv'`)
		t.Logf("control COPY bk.payroll TO file: %v", ctl)
		_, err1 := bypassRun(t, addr, db, "analyst", nil, `COPY bk.contacts TO ''`)
		_, err2 := bypassRun(t, addr, db, "analyst", nil, `COPY bk.contacts TO '/tmp/pgmantle_redteam.csv'`)
		t.Logf("COPY TO '': %v\nCOPY TO file: %v", err1, err2)
		var pe *pgconn.PgError
		if err2 != nil && (asPgError(err2, &pe) && !bytes.HasPrefix([]byte(pe.Message), []byte("pgmantle: "))) {
			t.Errorf("COPY TO a server file was not refused by pgmantle (reached PostgreSQL: %v)", err2)
		}
	})
}

func asPgError(err error, pe **pgconn.PgError) bool {
	p, ok := err.(*pgconn.PgError)
	if ok {
		*pe = p
	}
	return ok
}

// checkInference runs two statements that differ only in the literal a
// protected value is compared with: if both are allowed, their answers
// must not differ.
func checkInference(t *testing.T, addr, db, role, sqlHit, sqlMiss string) {
	t.Helper()
	hit, err1 := bypassRun(t, addr, db, role, nil, sqlHit)
	miss, err2 := bypassRun(t, addr, db, role, nil, sqlMiss)
	t.Logf("hit (err=%v):\n%s\nmiss (err=%v):\n%s", err1, hit, err2, miss)
	if err1 == nil && err2 == nil && hit != miss {
		t.Errorf("allowed, and the answer depends on protected data:\n  %s -> %q\n  %s -> %q", sqlHit, hit, sqlMiss, miss)
	}
}
