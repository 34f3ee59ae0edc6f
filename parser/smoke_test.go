package parser_test

import (
	"testing"

	"github.com/pgmantle/pgmantle/parser"
)

func TestSmoke(t *testing.T) {
	env, pol := testEnv(t)
	for _, sql := range []string{
		"SELECT id, name, id_no FROM bk.contacts",
		"SELECT count(*) FROM bk.contacts WHERE id_no LIKE '3101%'",
		"SELECT c.name, i.amount FROM bk.invoices i JOIN bk.client_companies c ON c.uscc = i.buyer_uscc",
		"SELECT * FROM bk.contact_regions",
		"SELECT region FROM bk.contact_regions",
		"SELECT bk.fiscal_quarter(issued_on), sum(amount) FROM bk.invoices GROUP BY 1",
		"SELECT * FROM bk.leak()",
		"SELECT (SELECT id_no FROM bk.contacts LIMIT 1)",
	} {
		a := parser.Analyze(sql, env, nil)
		for _, st := range a.Statements {
			d := parser.Decide(st, "analyst", pol.Resolve("analyst", nil), false)
			t.Logf("%s\n  refusal=%q outputs=%+v uses=%+v\n  decision=%q plans=%+v", sql, st.Refusal, st.Outputs, st.Uses, d.Refusal, d.Outputs)
		}
	}
}
