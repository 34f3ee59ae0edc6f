package masking

import (
	"unicode/utf8"
)

// band: replace a number by the band of the option width (required) it
// falls in, [k·width, (k+1)·width):
//
//	numbers (int, float, numeric)   the lower bound: 12345 → 10000
//	text types holding a number     "10000-20000" (lo-hi; -20000--10000 for
//	                                negatives), or "10000" alone if the
//	                                column is too short for both
//
// Text numbers may have thousands separators, full-width digits, a
// currency sign (¥ ￥ $) or a trailing 元. Text that is not a number
// becomes "***". Number types follow round's rules (typmod scale, the
// multiple towards zero when the bound would not fit).
func newBand(opts Options, col Column) (Masker, error) {
	if isTextType(col.TypeOID) {
		st, ok := stepOf(opts.Width)
		if !ok || opts.Width < 1e-12 || opts.Width > 1e30 {
			return nil, &OptionError{Mask: "band", Option: "width", TypeOID: col.TypeOID, Reason: "is required: a number between 1e-12 and 1e30"}
		}
		return &bandText{textMask: textMask{name: "band", oid: col.TypeOID, tc: newTextCol(col)}, st: st}, nil
	}
	return newNumberMask("band", "width", toFloor, opts.Width, col)
}

type bandText struct {
	textMask
	st step
}

func (m *bandText) Mask(dst, v []byte, format int16) ([]byte, bool, error) {
	return m.run(dst, v, format, m.apply)
}

func (m *bandText) apply(out, c []byte) []byte {
	s := getScratch()
	defer putScratch(s)
	s.d = cleanNumber(s.d[:0], c)
	x, a, ok := parseNumericText(s.d, s.a)
	s.a = a
	if !ok || x.kind != finite || !representable(x) {
		return m.stars(out)
	}
	q, neg := quotient(x, m.st, toFloor, s.b)
	s.b = q
	lo, c2 := times(q, neg, m.st, s.c)
	s.c = c2
	lo.dscale = m.st.scale()
	start := len(out)
	out = appendNumericText(out, lo)
	loEnd := len(out)
	// hi = (q+1)·width: q+1 in magnitude terms.
	if neg {
		q = decMagnitude(q)
		neg = len(q) > 0
	} else {
		q = incMagnitude(q)
	}
	hi, c3 := times(q, neg, m.st, s.c)
	s.c = c3
	hi.dscale = lo.dscale
	out = append(out, '-')
	out = appendNumericText(out, hi)
	if !m.tc.fits(len(out)-start, len(out)-start) {
		out = out[:loEnd]
		if !m.tc.fits(loEnd-start, loEnd-start) {
			return m.stars(out[:start])
		}
	}
	return out
}

// stars is the output for text that is not a number.
func (m *bandText) stars(out []byte) []byte { return append(out, "***"...) }

// cleanNumber normalises a number written by people: half-width, no
// thousands separators or spaces, no currency sign or 元.
func cleanNumber(dst, c []byte) []byte {
	c = trimSpace(c)
	for _, prefix := range []string{"¥", "￥", "$", "RMB", "CNY"} {
		if hasPrefix(c, prefix) {
			c = c[len(prefix):]
			break
		}
	}
	if hasSuffix(c, "元") {
		c = c[:len(c)-len("元")]
	}
	for len(c) > 0 {
		r, size := utf8.DecodeRune(c)
		c = c[size:]
		r = halfWidth(r)
		if r == ',' || r == ' ' || r == '_' || r == 0x3001 {
			continue
		}
		dst = utf8.AppendRune(dst, r)
	}
	return dst
}
