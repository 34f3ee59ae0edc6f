package resultmask_test

import (
	"testing"
)

func TestRedTeamRound6(t *testing.T) {
	addr, db, _, _ := analysisProxy(t)
	probes := []struct{ role, sql string }{
		{"analyst", `SELECT x.row_to_json FROM (bk.contacts c JOIN json_each('{"a":1}') j ON true) AS x`},
		{"intern", `SELECT s.to_jsonb FROM (SELECT * FROM bk.contacts c, json_each('{"a":1}') j) s`},
		{"intern", `SELECT s::text FROM (SELECT * FROM bk.contacts c, json_each('{"a":1}') j) s`},
		{"analyst", `SELECT DISTINCT ON (id_no) id FROM bk.payroll LIMIT 1`},
	}
	for _, p := range probes {
		got, err := bypassRun(t, addr, db, p.role, nil, p.sql)
		t.Logf("%s: %s\n  -> err=%v\n%s", p.role, p.sql, err, got)
	}
}
