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
	ahead  *aheadCol // its masker masks ahead; nil if not
}

// rowMasker masks the rows of one result set. It is reused from one result
// set to the next; its scratch buffers (one per masked column, since all
// values of a row are encoded together after RewriteRow returns) grow once
// and are then reused: no allocation per row.
type rowMasker struct {
	cols    []maskedCol
	scratch [][]byte
	// aheads are the columns whose maskers mask several values at once
	// (masking.AheadMasker: tokens of ID numbers, mobile numbers and
	// cards), for the rows PrefetchRows is given; pfVals is its scratch.
	aheads []*aheadCol
	pfVals [][]byte
}

// aheadCol holds one column's results for the rows of the last
// PrefetchRows call, which RewriteRow takes in turn: a copy of each
// value given (to check that the row rewritten is the one given) and
// its result. The copies are cleared once the last row is taken.
type aheadCol struct {
	in, out []byte
	rows    []aheadRow
	ends    []int
	next    int
}

// aheadRow is one row's value and result in aheadCol's in and out; out1
// is -1 where the masker left the value to Mask.
type aheadRow struct{ in0, in1, out0, out1 int }

// Prefetches implements proxy.RowPrefetcher: only when a column's masker
// masks ahead.
func (r *rowMasker) Prefetches() bool {
	for _, c := range r.cols {
		if c.ahead != nil {
			return true
		}
	}
	return false
}

// PrefetchRows implements proxy.RowPrefetcher: each masking-ahead
// column's values of the rows are masked at once (a warm scan gains from
// looking its tokens up together too), and RewriteRow takes the results
// as the rows come.
func (r *rowMasker) PrefetchRows(rows [][][]byte) {
	for _, c := range r.cols {
		a := c.ahead
		if a == nil {
			continue
		}
		vals := r.pfVals[:0]
		for _, row := range rows {
			var v []byte
			if c.idx < len(row) {
				v = row[c.idx]
			}
			vals = append(vals, v)
		}
		given := vals[:min(len(vals), masking.MaxAhead)]
		if cap(a.ends) < len(given) {
			a.ends = make([]int, masking.MaxAhead)
		}
		a.out = c.plan.masker.(masking.AheadMasker).MaskAhead(a.out[:0], given, c.format, a.ends)
		// The copies go into an array sized for them all, so that none is
		// left behind in an array append outgrew.
		need := 0
		for i, v := range given {
			if a.ends[i] >= 0 {
				need += len(v)
			}
		}
		a.forget()
		if cap(a.in) < need {
			a.in = make([]byte, 0, max(need, 2*cap(a.in)))
		}
		a.rows, a.next = a.rows[:0], 0
		start := 0
		for i, v := range given {
			ar := aheadRow{in0: len(a.in), out1: a.ends[i]}
			if ar.out1 >= 0 {
				a.in = append(a.in, v...)
				ar.out0, start = start, ar.out1
			}
			ar.in1 = len(a.in)
			a.rows = append(a.rows, ar)
		}
		clear(vals)
		r.pfVals = vals[:0]
	}
}

// forget clears the copies of the values given.
func (a *aheadCol) forget() {
	clear(a.in)
	a.in = a.in[:0]
}

// take returns v's result from the last PrefetchRows, if it has one,
// and moves on to the next row.
func (a *aheadCol) take(v []byte) ([]byte, bool) {
	if a.next >= len(a.rows) {
		return nil, false
	}
	ar := a.rows[a.next]
	if a.next++; a.next == len(a.rows) {
		defer a.forget()
	}
	if ar.out1 < 0 || v == nil || string(v) != string(a.in[ar.in0:ar.in1]) {
		return nil, false
	}
	return a.out[ar.out0:ar.out1], true
}

// forget clears every column's copies of the values given ahead: the
// result set fails, and its remaining rows will not be taken.
func (r *rowMasker) forget() {
	for _, c := range r.cols {
		if c.ahead != nil {
			c.ahead.forget()
		}
	}
}

func (r *rowMasker) grow() {
	n := 0
	for i, c := range r.cols {
		if am, ok := c.plan.masker.(masking.AheadMasker); ok && am.MasksAhead() {
			if n == len(r.aheads) {
				r.aheads = append(r.aheads, new(aheadCol))
			}
			a := r.aheads[n]
			a.forget()
			a.rows, a.next = a.rows[:0], 0
			r.cols[i].ahead = a
			n++
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
			r.forget()
			return errRowShape
		}
		v := values[c.idx]
		if c.ahead != nil {
			if out, ok := c.ahead.take(v); ok {
				values[c.idx] = out
				continue
			}
		}
		if v == nil {
			continue
		}
		out, null, err := c.plan.masker.Mask(r.scratch[i][:0], v, c.format)
		if err != nil {
			// The message must not carry the value: report the class only.
			r.forget()
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
