package resultmask

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/pgmantle/pgmantle/masking"
)

// TestRowMaskerTakesOnlyTheRowsGiven: the results PrefetchRows computes
// ahead are used only for the row and value they were computed for. A
// row rewritten in place of the one given (a relay out of step), a NULL,
// a row after the batch and the same value in another column all get
// Mask's result, and the copies of the values given are cleared once
// the batch is used up.
func TestRowMaskerTakesOnlyTheRowsGiven(t *testing.T) {
	rw, m := aheadRowMasker(t, 0)
	want := func(v string) string {
		out, _, err := m.Mask(nil, []byte(v), 0)
		if err != nil {
			t.Fatal(err)
		}
		return string(out)
	}
	if !rw.Prefetches() {
		t.Fatal("a cn_id tokenize column does not prefetch")
	}
	id := func(i int) string {
		first := fmt.Sprintf("31010119%02d0101%03d", 50+i%40, i)
		c, _ := masking.CNIDCheckChar(first)
		return first + string(c)
	}
	var given [][][]byte
	for i := range 8 {
		v := []byte(id(i))
		if i == 3 {
			v = nil
		}
		given = append(given, [][]byte{v})
	}
	rw.PrefetchRows(given)
	for i := range 9 {
		v := id(i)
		switch i {
		case 5:
			v = id(100) // not the row given
		}
		row := [][]byte{[]byte(v)}
		if i == 3 {
			row[0] = nil
		}
		if err := rw.RewriteRow(row); err != nil {
			t.Fatal(err)
		}
		switch {
		case i == 3 && row[0] != nil:
			t.Fatalf("row 3: NULL became %q", row[0])
		case i != 3 && string(row[0]) != want(v):
			t.Fatalf("row %d: %q, Mask gives %q", i, row[0], want(v))
		}
		if i == 7 {
			for _, b := range rw.cols[0].ahead.in {
				if b != 0 {
					t.Fatal("the copies of the values given outlive their batch")
				}
			}
		}
	}
}

// TestRowMaskerForgetsCopiesOnError: a result set that fails mid-batch
// (a row of the wrong shape) takes no more rows; the copies of the
// values given ahead are cleared at once rather than left with the
// dropped rewriter.
func TestRowMaskerForgetsCopiesOnError(t *testing.T) {
	rw, _ := aheadRowMasker(t, 1)
	ids := [][]byte{[]byte("11010519491231002X"), []byte("110105194912310037")}
	rw.PrefetchRows([][][]byte{{nil, ids[0]}, {nil, ids[1]}})
	if len(rw.cols[0].ahead.in) == 0 {
		t.Fatal("no copies kept")
	}
	if err := rw.RewriteRow([][]byte{nil}); err == nil {
		t.Fatal("a short row was rewritten")
	}
	if in := rw.cols[0].ahead.in[:cap(rw.cols[0].ahead.in)]; bytes.Contains(in, ids[1][:17]) {
		t.Fatal("the copy of the row not taken outlives the failed result set")
	}
}

// aheadRowMasker is a row masker with one column (at idx) tokenizing
// resident IDs, which masks ahead, and that column's masker.
func aheadRowMasker(t *testing.T, idx int) (*rowMasker, masking.Masker) {
	t.Helper()
	keys := masking.NewStaticKeys([]byte("0123456789abcdef0123456789abcdef"), nil)
	m, err := masking.New("tokenize", masking.Options{}, masking.Column{TypeOID: 25, TypeMod: -1, Class: "cn_id"}, keys)
	if err != nil {
		t.Fatal(err)
	}
	rw := &rowMasker{cols: []maskedCol{{idx: idx, plan: &colPlan{class: "cn_id", masker: m}}}}
	rw.grow()
	return rw, m
}
