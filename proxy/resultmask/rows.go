package resultmask

import (
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
}

func (r *rowMasker) grow() {
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
