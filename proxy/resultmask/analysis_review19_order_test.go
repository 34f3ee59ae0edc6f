package resultmask_test

// Red-team round 19's row-order finding, closed by following the row
// order of partitioned tables and inheritance children through the
// analysis (parser/roworder.go); the test failed before.

import (
	"strings"
	"testing"
)

// TestAnalysisReview19PartitionOrderLeak: round 16 closed tableoid and
// naming a partition of a table partitioned by a protected column, but
// the partitioned table "reads as usual", and PostgreSQL's Append scans
// the partitions one after the other (in bound order), so
//
//	SELECT id, id_no FROM r19.people
//
// returns 1 3 5 2 4 6 (inserted 1..6, alternating regions): the rows
// come back grouped by partition, i.e. by left(id_no, 6), which tells
// which tokenized ID numbers share a region (and, with LIST/RANGE bounds
// in value order, which region is lower) - exactly what tableoid told.
// Likewise a parent with an inheritance child holding amount >= 12200
// (CHECK): SELECT id, amount FROM r19.pay returns 2 then 1, both shown
// as 12000, telling 12100.00 < 12200 <= 12345.67.
// Safe: where a statement observes the order of such a scan (its rows,
// LIMIT, array_agg, ...), the partition key (or the children's CHECK)
// is used for ordering, refused unless its class is clear, unless an
// ORDER BY sorts by every result column or the rows are aggregated.
func TestAnalysisReview19PartitionOrderLeak(t *testing.T) {
	addr, db := rt19Proxy(t)
	got, refused := rt17Outcome(t, addr, db, "SELECT id, id_no FROM r19.people")
	ids := rt17IDs(got)
	t.Logf("refused=%v ids %v:\n%s", refused, ids, got)
	if !refused && strings.Join(ids, ",") != "1,2,3,4,5,6" && (strings.Join(ids, ",") == "1,3,5,2,4,6" || strings.Join(ids, ",") == "2,4,6,1,3,5") {
		t.Errorf("LEAK: rows come back grouped by the region of their ID numbers")
	}
	// Inheritance split by a CHECK on a protected column: the parent's
	// rows come first, so 2 before 1 tells 12100.00 < 12200 <= 12345.67,
	// both shown as 12000.
	got, refused = rt17Outcome(t, addr, db, "SELECT id, amount FROM r19.pay")
	t.Logf("inheritance refused=%v:\n%s", refused, got)
	if ids := rt17IDs(got); !refused && strings.Join(ids, ",") == "2,1" {
		t.Errorf("LEAK: parent rows first: the child's CHECK band on the salary shows through the order")
	}
	// What stays possible: aggregates, and the rows sorted by every
	// result column.
	got, refused = rt17Outcome(t, addr, db, "SELECT id, note FROM r19.people ORDER BY id, note")
	if refused || strings.Join(rt17IDs(got), ",") != "1,2,3,4,5,6" {
		t.Errorf("sorted by every result column: refused=%v\n%s", refused, got)
	}
	got, refused = rt17Outcome(t, addr, db, "SELECT count(*) FROM r19.people")
	if refused || !strings.Contains(got, "6") {
		t.Errorf("count: refused=%v\n%s", refused, got)
	}
}
