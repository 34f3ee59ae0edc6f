package resultmask

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/pgmantle/pgmantle/masking"
)

// TestReview13AheadCopiesLeftInOutgrownBuffer shows that the clear
// copies of ID numbers PrefetchRows keeps (aheadCol.in) are not all
// cleared once their batch is used, contrary to rows.go ("The copies are
// cleared once the last row is taken") and proxy.RowPrefetcher ("copies
// ... it clears once used").
//
// Root cause: PrefetchRows appends each value to a.in; when a batch
// needs more room than a.in has, append moves the copies made so far to
// a new array and abandons the old one without clearing it. take later
// clears only the new array, so the abandoned one keeps the first IDs of
// the batch in the clear (in production it is unreachable garbage whose
// bytes stay in the heap until reused; the test keeps a reference only
// to look at them). Fix: clear the old array when a.in grows (or size
// a.in for the batch before copying).
func TestReview13AheadCopiesLeftInOutgrownBuffer(t *testing.T) {
	rw, _ := aheadRowMasker(t, 0)
	id := func(i int) string {
		first := fmt.Sprintf("31010119%02d0101%03d", 50+i%40, i)
		c, _ := masking.CNIDCheckChar(first)
		return first + string(c)
	}
	batch := func(from, n int) {
		var rows [][][]byte
		for i := range n {
			rows = append(rows, [][]byte{[]byte(id(from + i))})
		}
		rw.PrefetchRows(rows)
		for i := range n {
			row := [][]byte{[]byte(id(from + i))}
			if err := rw.RewriteRow(row); err != nil {
				t.Fatal(err)
			}
		}
	}
	a := rw.cols[0].ahead

	// A first batch of one row: a.in gets an array of a few dozen bytes,
	// cleared once the row is taken.
	batch(0, 1)
	old := a.in[:cap(a.in)]
	if cap(old) == 0 {
		t.Fatal("no copy was kept")
	}

	// A second batch needs more room: its first IDs go into old, then
	// a.in moves to a larger array.
	n := cap(old)/18 + 2
	batch(100, n)
	if cap(a.in) > 0 && &a.in[:1][0] == &old[0] {
		t.Fatal("a.in did not grow; the test's premise does not hold")
	}
	for i := range n {
		if bytes.Contains(old, []byte(id(100+i))) {
			t.Errorf("ID %d of a used-up batch is still in the clear in the array a.in outgrew", i)
		}
	}
}
