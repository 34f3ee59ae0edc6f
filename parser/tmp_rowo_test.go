package parser_test

import (
	"testing"

	"github.com/pgmantle/pgmantle/parser"
)

func TestTmpCtid(t *testing.T) {
	env, pol := testEnv(t)
	for _, sql := range []string{
		"SELECT id, ctid FROM bk.contacts",
		"SELECT id FROM bk.contacts WHERE ctid = '(0,1)'",
		"SELECT id FROM bk.contacts ORDER BY ctid",
		"SELECT id, tableoid FROM bk.residents",
		"SELECT id FROM bk.residents WHERE tableoid = 1",
		"SELECT ctid FROM staging.contacts",
		"SELECT id, xmin FROM bk.contacts",
		"SELECT count(*) FROM bk.contacts GROUP BY ctid",
	} {
		rules := pol.Resolve("analyst", nil)
		st := parser.NewState("analyst")
		st.Immediate = true
		a := parser.Analyze(sql, env, st)
		d := parser.Decide(a.Statements[0], "analyst", rules, true)
		t.Logf("%s\n    -> %s", sql, d.Refusal)
	}
}
