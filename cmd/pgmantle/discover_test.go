package main

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/pgmantle/pgmantle/examples/bookkeeping"
	"github.com/pgmantle/pgmantle/internal/pgcluster"
	"github.com/pgmantle/pgmantle/internal/pgtest"
)

// TestDiscover fills the bookkeeping schema with synthetic data and checks
// that discover proposes every personal-data column with its class and
// nothing for the others (precision and recall are logged).
func TestDiscover(t *testing.T) {
	c := pgtest.Cluster(t)
	seedBookkeeping(t, c)
	code, out, errOut := runCmd("discover", "--dsn", c.DSN("postgres", "", "postgres"), "--rows", "200")
	if code != 0 {
		t.Fatalf("discover (%d): %s", code, errOut)
	}
	if !strings.Contains(errOut, "proposed") {
		t.Errorf("no progress summary on stderr: %q", errOut)
	}
	var proposal struct {
		Classes map[string][]string `yaml:"classes"`
	}
	if err := yaml.Unmarshal([]byte(out), &proposal); err != nil {
		t.Fatalf("proposal is not YAML: %v\n%s", err, out)
	}
	want := map[string]string{
		"bk.contacts.id_no": "cn_id", "bk.payroll.id_no": "cn_id", "bk.contacts.mobile": "cn_mobile",
		"bk.contacts.name": "person_name", "bk.payroll.employee": "person_name", "bk.client_companies.legal_rep": "person_name",
		"bk.bank_accounts.card_no": "bank_card", "bk.payroll.amount": "salary", "bk.payroll.bonus": "salary",
		"bk.contacts.email": "email", "bk.contacts.address": "address", "bk.client_companies.address": "address",
		"bk.contacts.birthday": "birthday", "bk.client_companies.uscc": "uscc",
		"bk.employees.name": "person_name", "bk.employees.id_no": "cn_id", "bk.employees.mobile": "cn_mobile",
	}
	got := map[string]string{}
	for class, cols := range proposal.Classes {
		for _, col := range cols {
			if strings.HasPrefix(col, "bk.") {
				got[col] = class
			}
		}
	}
	tp := 0
	var wrong []string
	for col, class := range got {
		if want[col] == class {
			tp++
		} else {
			wrong = append(wrong, fmt.Sprintf("%s as %s", col, class))
		}
	}
	var missed []string
	for col, class := range want {
		if got[col] != class {
			missed = append(missed, col+" ("+class+")")
		}
	}
	sort.Strings(wrong)
	sort.Strings(missed)
	t.Logf("precision %d/%d, recall %d/%d", tp, len(got), tp, len(want))
	if len(wrong) > 0 || len(missed) > 0 {
		t.Errorf("wrongly proposed: %v; missed: %v\n%s", wrong, missed, out)
	}
	if !strings.Contains(out, "# 100% of 200 sampled values are resident ID numbers") {
		t.Errorf("no evidence comment:\n%s", out)
	}
}

// seedBookkeeping creates the bookkeeping schema and fills it with the
// example's generator, 300 rows per table.
func seedBookkeeping(t *testing.T, c *pgcluster.Cluster) { seedBookkeepingIn(t, c, "postgres") }

// seedBookkeepingIn does it in database db.
func seedBookkeepingIn(t *testing.T, c *pgcluster.Cluster, db string) {
	t.Helper()
	ctx := pgtest.Context(t)
	conn := pgtest.Connect(t, c.DSN("postgres", "", db))
	conn.Exec(ctx, "DROP SCHEMA IF EXISTS bk CASCADE")
	if _, err := conn.Exec(ctx, bookkeeping.Schema); err != nil {
		t.Fatal(err)
	}
	sizes := bookkeeping.Sizes{Companies: 300, Contacts: 300, Accounts: 300, Employees: 300, PayrollMonths: 1, Invoices: 300, Vouchers: 300}
	if err := bookkeeping.Load(ctx, conn, sizes, nil); err != nil {
		t.Fatal(err)
	}
}
