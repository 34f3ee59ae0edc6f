//go:build openleaks

package resultmask_test

// Red-team round 21's finding left open: it FAILS while its attack
// succeeds, so it is kept out of the default build (run it with go test
// -tags openleaks ./proxy/resultmask -run Review21RelTuples). The README
// lists it under "Known gap".

import (
	"strings"
	"testing"
)

// TestAnalysisReview21RelTuplesLeak: pg_class is readable, and its
// reltuples (kept by ANALYZE and autovacuum) counts the rows of each
// partition and inheritance child: how many ID numbers are in each
// region, how many salaries are >= 12200 - a count pgmantle refuses as
// such (SELECT count(*) FROM r21.pay WHERE amount >= 12200: a predicate
// on a masked column):
//
//	SELECT relname, reltuples FROM pg_class WHERE relname LIKE 'pay%' ORDER BY relname
//	pay|1   pay_high|1
//
// one of the two salaries (both shown as 12000.00) is in [12200, 12500),
// the other in [11500, 12200). With a partition per region, the count of
// people per region; a partition of one row tells that its one person's
// ID number is in that region's bounds. relpages alike (sizes).
//
// Safe: hide reltuples and relpages (and pg_class.relallvisible) of
// relations whose partition key or inheritance CHECK reads a protected
// column, or of any relation with protected columns (a column-level
// restriction of pg_class, or refuse those columns).
func TestAnalysisReview21RelTuplesLeak(t *testing.T) {
	addr, db := rt21Proxy(t)
	got, refused := rt17Outcome(t, addr, db, "SELECT relname, reltuples FROM pg_class WHERE relname LIKE 'pay%' ORDER BY relname")
	t.Logf("refused=%v:\n%s", refused, got)
	if !refused && strings.Contains(got, "pay|1|") && strings.Contains(got, "pay_high|1|") {
		t.Errorf("LEAK: pg_class.reltuples counts one salary >= 12200 (pay_high) and one below (pay)")
	}
	got, refused = rt17Outcome(t, addr, db, "SELECT relname, reltuples FROM pg_class WHERE relname LIKE 'people_%' ORDER BY relname")
	t.Logf("refused=%v:\n%s", refused, got)
	if !refused && strings.Contains(got, "people_bj|3|") && strings.Contains(got, "people_sh|3|") {
		t.Errorf("LEAK: pg_class.reltuples counts the people per region of their tokenized ID numbers")
	}
}
