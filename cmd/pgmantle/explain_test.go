package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/pgmantle/pgmantle/examples/bookkeeping"
	"github.com/pgmantle/pgmantle/internal/pgcluster"
	"github.com/pgmantle/pgmantle/internal/pgtest"
)

// TestExplain: pgmantle explain prints the decision, each result column's
// lineage and mask, and each refused use with its rule, from the live
// catalog; it exits 1 when the statement would be refused.
func TestExplain(t *testing.T) {
	c := pgtest.Cluster(t)
	ctx := pgtest.Context(t)
	c.Exec(ctx, "DROP DATABASE IF EXISTS explain_db WITH (FORCE)")
	if err := c.Exec(ctx, "CREATE DATABASE explain_db"); err != nil {
		t.Fatal(err)
	}
	conn := pgtest.Connect(t, c.DSN("postgres", "", "explain_db"))
	if _, err := conn.Exec(ctx, bookkeeping.Schema); err != nil {
		t.Fatal(err)
	}
	for _, r := range bookkeeping.Roles {
		c.CreateRole(ctx, r, "pw", pgcluster.AuthSCRAM)
	}
	explain := func(role, sql string) (string, int) {
		var out, errOut bytes.Buffer
		code := run([]string{"explain", "--policy", "../../examples/bookkeeping/policy.yaml",
			"--catalog-dsn", c.DSN("postgres", "", "explain_db"), "--role", role, sql}, &out, &errOut)
		return out.String() + errOut.String(), code
	}

	out, code := explain("analyst", "SELECT c.name, c.mobile, co.name AS company FROM bk.contacts c JOIN bk.client_companies co ON co.id = c.company_id")
	for _, want := range []string{"statement 1: SELECT — allowed", "1. name", "copy of bk.contacts.name (person_name) → shown as mask cn_name",
		"2. mobile", "→ shown as mask cn_mobile", "3. company", "clean"} {
		if !strings.Contains(out, want) {
			t.Errorf("allowed statement: output lacks %q:\n%s", want, out)
		}
	}
	if code != 0 {
		t.Errorf("allowed statement: exit %d", code)
	}

	out, code = explain("analyst", "SELECT count(*) FROM bk.contacts WHERE id_no LIKE '3101%' GROUP BY mobile")
	for _, want := range []string{"REFUSED (42501)", "bk.contacts.id_no (cn_id, mask cn_id) in a predicate — refused",
		"bk.contacts.mobile (cn_mobile, mask cn_mobile) for grouping or DISTINCT — refused"} {
		if !strings.Contains(out, want) {
			t.Errorf("refused statement: output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "3101") {
		t.Errorf("explain echoed a literal:\n%s", out)
	}
	if code != 1 {
		t.Errorf("refused statement: exit %d, want 1", code)
	}

	out, code = explain("bookkeeper", "SELECT id_no FROM bk.contacts")
	if code != 0 || !strings.Contains(out, "unrestricted") {
		t.Errorf("unrestricted role: exit %d:\n%s", code, out)
	}
	if _, code := explain("", "SELECT 1"); code != 2 {
		t.Errorf("missing --role: exit %d, want 2", code)
	}
}
