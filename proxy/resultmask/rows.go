package resultmask

import (
	"github.com/pgmantle/pgmantle/masking"
	"github.com/pgmantle/pgmantle/proxy"
)

// maskedCol is one protected column of the current result set.
type maskedCol struct {
	idx    int
	format int16
	plan   *colPlan
}

// rowMasker masks the rows of one result set. It is reused from one result
// set to the next; its scratch buffers (one per masked column, since all
// values of a row are encoded together after RewriteRow returns) grow once
// and are then reused: no allocation per row.
type rowMasker struct {
	cols    []maskedCol
	scratch [][]byte
	// prefill are the columns whose maskers compute values ahead
	// (masking.Prefiller: tokens of resident ID numbers); pfVals is
	// PrefetchRows' scratch.
	prefill []int
	pfVals  [][]byte
	pfSkip  int
}

// Prefetches implements proxy.RowPrefetcher: only when a column's masker
// gains from seeing values ahead.
func (r *rowMasker) Prefetches() bool { return len(r.prefill) > 0 }

// PrefetchRows implements proxy.RowPrefetcher: each prefilling column's
// values of the rows, given to its masker at once. While the maskers find
// nothing to prepare (a repeated report: every token cached), it asks to
// be skipped for twice as many rows each time, up to maxPrefetchSkip, so
// that a warm scan hardly pays for the lookahead.
func (r *rowMasker) PrefetchRows(rows [][][]byte) int {
	prepared := 0
	for _, i := range r.prefill {
		c := r.cols[i]
		vals := r.pfVals[:0]
		for _, row := range rows {
			if c.idx < len(row) && row[c.idx] != nil {
				vals = append(vals, row[c.idx])
			}
		}
		prepared += c.plan.masker.(masking.Prefiller).Prefill(vals)
		clear(vals)
		r.pfVals = vals[:0]
	}
	if prepared > 0 {
		r.pfSkip = 0
		return 0
	}
	r.pfSkip = min(max(2*r.pfSkip, proxy.MaxPrefetchRows), maxPrefetchSkip)
	return r.pfSkip
}

// maxPrefetchSkip bounds the back-off of PrefetchRows: a scan that turns
// from cached values to new ones is prefetched again within this many
// rows.
const maxPrefetchSkip = 1024

func (r *rowMasker) grow() {
	r.prefill, r.pfSkip = r.prefill[:0], 0
	for i, c := range r.cols {
		if pf, ok := c.plan.masker.(masking.Prefiller); ok && pf.Prefills() {
			r.prefill = append(r.prefill, i)
		}
	}
	for len(r.scratch) < len(r.cols) {
		r.scratch = append(r.scratch, make([]byte, 0, 64))
	}
}

// RewriteRow masks the protected values of a row in place. NULL stays NULL.
func (r *rowMasker) RewriteRow(values [][]byte) error {
	for i, c := range r.cols {
		if c.idx >= len(values) {
			return errRowShape
		}
		v := values[c.idx]
		if v == nil {
			continue
		}
		out, null, err := c.plan.masker.Mask(r.scratch[i][:0], v, c.format)
		if err != nil {
			// The message must not carry the value: report the class only.
			return refuse("a value of class %s could not be masked", c.plan.class)
		}
		r.scratch[i] = out[:0]
		if null {
			values[c.idx] = nil
		} else {
			values[c.idx] = out
		}
	}
	return nil
}

var errRowShape = &proxy.Error{Severity: "FATAL", Code: "XX000", Message: "pgmantle: a row does not match its result description"}
