package resultmask

import (
	"testing"

	"github.com/pgmantle/pgmantle/masking"
)

// benchRow is a payroll-like row in text format: 8 columns, 4 protected.
func benchRow() ([][]byte, *rowMasker, error) {
	keys := masking.NewStaticKeys([]byte("0123456789abcdef0123456789abcdef"), nil)
	keepFirst, keepLast := 3, 4
	mk := func(name string, opts masking.Options, typ uint32, mod int32) (*colPlan, error) {
		m, err := masking.New(name, opts, masking.Column{TypeOID: typ, TypeMod: mod, Class: name}, keys)
		return &colPlan{class: name, masker: m}, err
	}
	var rw rowMasker
	for _, spec := range []struct {
		idx  int
		name string
		opts masking.Options
		typ  uint32
		mod  int32
	}{
		{1, "cn_name", masking.Options{}, 25, -1},
		{2, "cn_id", masking.Options{}, 1042, 18 + 4},
		{3, "partial", masking.Options{KeepFirst: &keepFirst, KeepLast: &keepLast}, 25, -1},
		{4, "round", masking.Options{To: 1000}, 1700, -1},
	} {
		p, err := mk(spec.name, spec.opts, spec.typ, spec.mod)
		if err != nil {
			return nil, nil, err
		}
		rw.cols = append(rw.cols, maskedCol{idx: spec.idx, format: 0, plan: p})
	}
	rw.grow()
	row := [][]byte{[]byte("42"), []byte("欧阳娜娜"), []byte("11010519491231002X"), []byte("13812345678"),
		[]byte("23456.78"), []byte("上海"), []byte("2026-10-01"), []byte("note")}
	return row, &rw, nil
}

// BenchmarkMaskRow measures masking one 8-column row with 4 protected
// columns (cn_name, cn_id, partial, round on numeric), as the proxy does
// for every DataRow of a restricted session.
func BenchmarkMaskRow(b *testing.B) {
	orig, rw, err := benchRow()
	if err != nil {
		b.Fatal(err)
	}
	row := make([][]byte, len(orig))
	b.ReportAllocs()
	for b.Loop() {
		copy(row, orig)
		if err := rw.RewriteRow(row); err != nil {
			b.Fatal(err)
		}
	}
}

// TestMaskRowAllocatesNothing pins the steady state: masking a row
// allocates nothing once the scratch buffers have grown.
func TestMaskRowAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	orig, rw, err := benchRow()
	if err != nil {
		t.Fatal(err)
	}
	row := make([][]byte, len(orig))
	run := func() {
		copy(row, orig)
		if err := rw.RewriteRow(row); err != nil {
			t.Fatal(err)
		}
	}
	run()
	if got := string(row[2]); got != "110105********002X" {
		t.Fatalf("cn_id masked as %q", got)
	}
	if n := testing.AllocsPerRun(1000, run); n != 0 {
		t.Fatalf("%.1f allocations per row, want 0", n)
	}
}
