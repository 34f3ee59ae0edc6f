//go:build openleaks

package resultmask_test

// Red-team round 23's finding left open: it FAILS while its attack
// succeeds, so it is kept out of the default build (run it with go test
// -tags openleaks ./proxy/resultmask -run Review23CatalogLiteral). The
// README lists it under "Known gap".

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestAnalysisReview23CatalogLiteralLeak: catalog text is readable by
// every role, through pgmantle too: the definition functions (pg_get_*def,
// pg_get_expr, col_description) are allowed built-ins and the catalogs
// behind them (pg_indexes, pg_views, pg_rewrite, pg_constraint, pg_class,
// pg_description, pg_proc) are not refused relations. Where a DBA wrote
// a protected value into the schema - a partial index for one person, a
// view of named people, a CHECK pinning a row's ID number, a comment
// giving an example, a function comparing with an ID number - and where
// PostgreSQL requires it, in the bounds of a table LIST-partitioned by a
// protected column, the analyst reads it in clear while the column shows
// tokens, masks and hashes. The schema is rt23Schema; nothing the analyst
// sends is detokenized (DDL is refused). Safe: refuse, for restricted
// roles, the functions that print stored expressions and texts
// (pg_get_viewdef, pg_get_ruledef, pg_get_indexdef, pg_get_constraintdef,
// pg_get_expr, pg_get_partition_constraintdef, pg_get_triggerdef,
// pg_get_functiondef, pg_get_function_sqlbody, pg_get_statisticsobjdef*,
// col_description, obj_description, shobj_description) and the catalog
// columns holding them (pg_views/pg_matviews.definition,
// pg_indexes.indexdef, pg_rules, pg_policies, pg_rewrite.ev_action/ev_qual,
// pg_constraint.conbin, pg_index.indpred/indexprs, pg_attrdef.adbin,
// pg_class.relpartbound, pg_trigger.tgqual, pg_policy.polqual/polwithcheck,
// pg_proc.prosrc/prosqlbody, pg_description, pg_shdescription,
// pg_statistic_ext.stxexprs, information_schema's definition columns);
// or, narrower, refuse them for the objects whose expressions compare a
// protected column with a constant (the catalog loader parses view
// definitions already) and say in the README that comments and function
// bodies are not protected.
func TestAnalysisReview23CatalogLiteralLeak(t *testing.T) {
	addr, db := rt23Proxy(t)
	view, _ := rt17Outcome(t, addr, db, "SELECT id, id_no, name, city FROM r23.people ORDER BY id")
	t.Logf("the analyst's view of r23.people:\n%s", view)
	secrets := []string{"310105198807158033", "110101198001011232", "张伟明", "李秀英", "shanghai", "beijing"}
	for _, c := range []struct{ name, sql string }{
		{"pg_get_indexdef", "SELECT pg_get_indexdef('r23.people_ceo'::regclass)"},
		{"pg_indexes", "SELECT indexdef FROM pg_indexes WHERE schemaname = 'r23'"},
		{"pg_get_viewdef", "SELECT pg_get_viewdef('r23.vip'::regclass)"},
		{"pg_views", "SELECT definition FROM pg_views WHERE schemaname = 'r23'"},
		{"pg_get_ruledef", "SELECT pg_get_ruledef(oid) FROM pg_rewrite WHERE ev_class = 'r23.vip'::regclass"},
		{"pg_get_constraintdef", "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'r23.people'::regclass"},
		{"col_description", "SELECT col_description('r23.people'::regclass, 2)"},
		{"pg_description", "SELECT description FROM pg_description WHERE objoid = 'r23.people'::regclass"},
		{"pg_proc.prosrc", "SELECT prosrc FROM pg_proc WHERE proname = 'is_ceo'"},
		{"pg_get_functiondef", "SELECT pg_get_functiondef('r23.is_ceo'::regproc)"},
		{"partition-bounds", "SELECT relname, pg_get_expr(relpartbound, oid) FROM pg_class WHERE relispartition AND relnamespace = 'r23'::regnamespace ORDER BY 1"},
		{"pg_get_partition_constraintdef", "SELECT pg_get_partition_constraintdef('r23.branches_a'::regclass)"},
		{"relpartbound-node", "SELECT relpartbound FROM pg_class WHERE relname = 'branches_a'"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := rt16Run(t, addr, db, "analyst", c.sql)
			t.Logf("%s\n  -> err=%v\n%s", c.sql, err, got)
			got += rt23NodeBytes(got)
			for _, v := range secrets {
				if strings.Contains(got, v) {
					t.Errorf("LEAK: %s: the analyst read the protected value %q in clear in catalog text", c.name, v)
				}
			}
		})
	}
}

// rt23NodeBytes decodes the constants of pg_node_tree text (":constvalue
// 12 [ 48 0 0 0 115 104 ... ]") into the bytes they hold.
func rt23NodeBytes(s string) string {
	var b strings.Builder
	for _, m := range regexp.MustCompile(`:constvalue \d+ \[([ 0-9-]*)\]`).FindAllStringSubmatch(s, -1) {
		for _, f := range strings.Fields(m[1]) {
			if n, err := strconv.Atoi(f); err == nil {
				b.WriteByte(byte(n))
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}
