package parser_test

import (
	"testing"

	"github.com/pgmantle/pgmantle/parser"
)

// benchStatements are typical statements of the bookkeeping workload.
var benchStatements = map[string]string{
	"oltp":   "SELECT id, name, mobile FROM bk.contacts WHERE id = $1",
	"update": "UPDATE bk.contacts SET company_id = $1 WHERE id = $2",
	"report": `SELECT co.name AS client, date_trunc('month', i.issued_on) AS month, sum(i.amount) AS revenue
		FROM bk.invoices i JOIN bk.client_companies co ON co.id = i.company_id
		WHERE i.issued_on >= $1 GROUP BY co.name, date_trunc('month', i.issued_on) ORDER BY client, month`,
	"join-tokens": `SELECT co.uscc, count(*), sum(i.amount) FROM bk.client_companies co
		JOIN bk.invoices i ON i.buyer_uscc = co.uscc GROUP BY co.uscc`,
}

// BenchmarkAnalyze measures analysis and decision of one statement for a
// restricted role: uncached (parse, resolve, decide) and cached (a
// prepared statement's repeat).
func BenchmarkAnalyze(b *testing.B) {
	env, pol := testEnv(b)
	rules := pol.Resolve("analyst", nil)
	for name, sql := range benchStatements {
		b.Run(name+"/uncached", func(b *testing.B) {
			st := parser.NewState("analyst")
			b.ReportAllocs()
			for b.Loop() {
				a := parser.Analyze(sql, env, st)
				if d := parser.Decide(a.Statements[0], "analyst", rules, false); d.Refusal != "" {
					b.Fatal(d.Refusal)
				}
			}
		})
		b.Run(name+"/cached", func(b *testing.B) {
			st := parser.NewState("analyst")
			c := parser.NewCache(1024)
			c.Plan(sql, env, st, "analyst", rules, false)
			b.ReportAllocs()
			for b.Loop() {
				if p := c.Plan(sql, env, st, "analyst", rules, false); p.Refusal() != "" {
					b.Fatal(p.Refusal())
				}
			}
		})
	}
}
