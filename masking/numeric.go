package masking

import (
	"encoding/binary"
	"sync"
)

// NUMERIC on the wire (src/backend/utils/adt/numeric.c, numeric_send and
// numeric_recv):
//
//	int16  ndigits   number of base-10000 digits that follow
//	int16  weight    power of 10000 of the first digit
//	uint16 sign      0x0000 +, 0x4000 -, 0xC000 NaN, 0xD000 +Infinity, 0xF000 -Infinity
//	uint16 dscale    display scale: digits after the decimal point (0..0x3FFF)
//	int16  digits[ndigits], each 0..9999
//
// The value is Σ digits[i]·10000^(weight-i). PostgreSQL sends values
// stripped of leading and trailing zero digits, zero as ndigits=0,
// weight=0, and NaN/Infinity with no digits (dscale 0 for NaN, 32 for
// the infinities, an artefact of their header bits that numeric_recv
// ignores). numeric_recv accepts unstripped digits, and drops digits that
// dscale hides.
//
// Arithmetic here works on base-10 digit strings in scratch buffers from
// a pool, so masking a value allocates nothing once the pool is warm.

const (
	numericPos  = 0x0000
	numericNeg  = 0x4000
	numericNaN  = 0xC000
	numericPInf = 0xD000
	numericNInf = 0xF000

	numericDscaleMask = 0x3FFF
	numericMaxDigits  = 3000 // numeric_recv: NUMERIC_MAX_PRECISION + NUMERIC_MAX_RESULT_SCALE
	// maxDecimalExp bounds the exponents accepted in text input, far
	// beyond numeric's own range (131072 digits before the point, 16383
	// after).
	maxDecimalExp = 200000
)

// decimal kinds.
const (
	finite = iota
	nan
	posInf
	negInf
)

// decimal is a number Σ digits·10^exp: digits holds 0..9 values, most
// significant first, with no leading or trailing zeros (empty for zero).
// dscale is the number of digits to print after the decimal point.
type decimal struct {
	kind   int
	neg    bool
	digits []byte
	exp    int
	dscale int
}

// msdPower is the power of ten of the most significant digit (for a
// non-zero finite value).
func (d decimal) msdPower() int { return d.exp + len(d.digits) - 1 }

// normalize strips leading and trailing zeros and clears the sign of zero.
func (d decimal) normalize() decimal {
	i := 0
	for i < len(d.digits) && d.digits[i] == 0 {
		i++
	}
	d.digits = d.digits[i:]
	j := len(d.digits)
	for j > 0 && d.digits[j-1] == 0 {
		j--
	}
	d.exp += len(d.digits) - j
	d.digits = d.digits[:j]
	if len(d.digits) == 0 {
		d.neg, d.exp = false, 0
	}
	return d
}

// scratch holds the digit buffers one Mask call needs.
type scratch struct {
	a, b, c, d []byte
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

func getScratch() *scratch { return scratchPool.Get().(*scratch) }

func putScratch(s *scratch) {
	// Do not keep pathological buffers (a million-digit value) forever.
	const keep = 1 << 16
	if cap(s.a) > keep || cap(s.b) > keep || cap(s.c) > keep || cap(s.d) > keep {
		return
	}
	scratchPool.Put(s)
}

// decodeNumeric decodes numeric_send's format into buf (the digits of the
// result live there). It validates like numeric_recv.
func decodeNumeric(v []byte, buf []byte) (decimal, []byte, string) {
	if len(v) < 8 {
		return decimal{}, buf, "shorter than the header"
	}
	ndigits := int(binary.BigEndian.Uint16(v[0:]))
	weight := int(int16(binary.BigEndian.Uint16(v[2:])))
	sign := binary.BigEndian.Uint16(v[4:])
	dscale := int(binary.BigEndian.Uint16(v[6:]))
	if ndigits > numericMaxDigits {
		return decimal{}, buf, "too many digits"
	}
	if len(v) != 8+2*ndigits {
		return decimal{}, buf, "length does not match the digit count"
	}
	if dscale&numericDscaleMask != dscale {
		return decimal{}, buf, "invalid scale"
	}
	var d decimal
	switch sign {
	case numericPos, numericNeg:
		d.neg = sign == numericNeg
	case numericNaN:
		return decimal{kind: nan}, buf, ""
	case numericPInf:
		return decimal{kind: posInf}, buf, ""
	case numericNInf:
		return decimal{kind: negInf}, buf, ""
	default:
		return decimal{}, buf, "invalid sign"
	}
	buf = buf[:0]
	for i := 0; i < ndigits; i++ {
		g := binary.BigEndian.Uint16(v[8+2*i:])
		if g >= 10000 {
			return decimal{}, buf, "invalid digit"
		}
		buf = append(buf, byte(g/1000), byte(g/100%10), byte(g/10%10), byte(g%10))
	}
	d.digits = buf
	d.exp = 4 * (weight - ndigits + 1)
	d.dscale = dscale
	d = d.normalize()
	// numeric_recv truncates digits that dscale hides.
	if len(d.digits) > 0 && d.exp < -dscale {
		drop := -dscale - d.exp
		if drop >= len(d.digits) {
			d.digits = d.digits[:0]
		} else {
			d.digits = d.digits[:len(d.digits)-drop]
		}
		d.exp = -dscale
		d = d.normalize()
	}
	return d, buf, ""
}

// appendNumericBinary appends d as numeric_send would send it.
func appendNumericBinary(dst []byte, d decimal) []byte {
	switch d.kind {
	case nan:
		return append(dst, 0, 0, 0, 0, 0xC0, 0, 0, 0)
	case posInf:
		return append(dst, 0, 0, 0, 0, 0xD0, 0, 0, 0x20)
	case negInf:
		return append(dst, 0, 0, 0, 0, 0xF0, 0, 0, 0x20)
	}
	if len(d.digits) == 0 {
		return append(dst, 0, 0, 0, 0, 0, 0, byte(d.dscale>>8), byte(d.dscale))
	}
	// Digit i has power p = msd - i; it belongs to base-10000 group
	// floor(p/4).
	msd := d.msdPower()
	lsd := d.exp
	weight := floorDiv4(msd)
	low := floorDiv4(lsd)
	ndigits := weight - low + 1
	sign := uint16(numericPos)
	if d.neg {
		sign = numericNeg
	}
	dst = binary.BigEndian.AppendUint16(dst, uint16(ndigits))
	dst = binary.BigEndian.AppendUint16(dst, uint16(int16(weight)))
	dst = binary.BigEndian.AppendUint16(dst, sign)
	dst = binary.BigEndian.AppendUint16(dst, uint16(d.dscale))
	i := 0 // next digit of d
	for g := weight; g >= low; g-- {
		group := 0
		for p := 4*g + 3; p >= 4*g; p-- {
			group *= 10
			if i < len(d.digits) && msd-i == p {
				group += int(d.digits[i])
				i++
			}
		}
		dst = binary.BigEndian.AppendUint16(dst, uint16(group))
	}
	return dst
}

// floorDiv4 is floor(p/4).
func floorDiv4(p int) int {
	if p >= 0 {
		return p / 4
	}
	return -((-p + 3) / 4)
}

// appendNumericText appends d as numeric_out prints it: NaN, Infinity,
// -Infinity, or [-]digits[.dscale digits], never an exponent. Digits
// below 10^-dscale must already have been rounded away.
func appendNumericText(dst []byte, d decimal) []byte {
	switch d.kind {
	case nan:
		return append(dst, "NaN"...)
	case posInf:
		return append(dst, "Infinity"...)
	case negInf:
		return append(dst, "-Infinity"...)
	}
	if d.neg && len(d.digits) > 0 {
		dst = append(dst, '-')
	}
	msd := d.msdPower()
	if len(d.digits) == 0 || msd < 0 {
		dst = append(dst, '0')
	} else {
		for p := msd; p >= 0; p-- {
			dst = append(dst, '0'+d.digitAt(p))
		}
	}
	if d.dscale > 0 {
		dst = append(dst, '.')
		for p := -1; p >= -d.dscale; p-- {
			dst = append(dst, '0'+d.digitAt(p))
		}
	}
	return dst
}

// digitAt is the digit at power p (0 outside the stored digits).
func (d decimal) digitAt(p int) byte {
	i := d.msdPower() - p
	if len(d.digits) == 0 || i < 0 || i >= len(d.digits) {
		return 0
	}
	return d.digits[i]
}

// parseNumericText parses what numeric_in accepts from PostgreSQL's own
// output and a little more: surrounding spaces, a sign, digits with an
// optional point, an optional exponent, NaN and [+-]Infinity/inf in any
// case. The digits go to buf. dscale follows numeric_in: fraction digits
// minus the exponent, at least 0.
func parseNumericText(v []byte, buf []byte) (decimal, []byte, bool) {
	v = trimSpaceASCII(v)
	var d decimal
	if len(v) == 0 {
		return d, buf, false
	}
	i := 0
	if v[0] == '+' || v[0] == '-' {
		d.neg = v[0] == '-'
		i++
	}
	switch {
	case equalFoldASCII(v[i:], "infinity"), equalFoldASCII(v[i:], "inf"):
		if d.neg {
			return decimal{kind: negInf}, buf, true
		}
		return decimal{kind: posInf}, buf, true
	case i == 0 && equalFoldASCII(v, "nan"):
		return decimal{kind: nan}, buf, true
	}
	buf = buf[:0]
	sawDigit, sawPoint := false, false
	frac := 0
	for ; i < len(v); i++ {
		c := v[i]
		switch {
		case isDigit(c):
			sawDigit = true
			buf = append(buf, c-'0')
			if sawPoint {
				frac++
			}
			continue
		case c == '.' && !sawPoint:
			sawPoint = true
			continue
		}
		break
	}
	if !sawDigit {
		return d, buf, false
	}
	exp := 0
	if i < len(v) {
		if v[i] != 'e' && v[i] != 'E' {
			return d, buf, false
		}
		i++
		eneg := false
		if i < len(v) && (v[i] == '+' || v[i] == '-') {
			eneg = v[i] == '-'
			i++
		}
		if i == len(v) {
			return d, buf, false
		}
		for ; i < len(v); i++ {
			if !isDigit(v[i]) {
				return d, buf, false
			}
			exp = exp*10 + int(v[i]-'0')
			if exp > maxDecimalExp {
				return d, buf, false
			}
		}
		if eneg {
			exp = -exp
		}
	}
	d.digits = buf
	d.exp = exp - frac
	d.dscale = max(frac-exp, 0)
	return d.normalize(), buf, true
}

func trimSpaceASCII(v []byte) []byte {
	for len(v) > 0 && isSpaceASCII(v[0]) {
		v = v[1:]
	}
	for len(v) > 0 && isSpaceASCII(v[len(v)-1]) {
		v = v[:len(v)-1]
	}
	return v
}

func isSpaceASCII(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

// equalFoldASCII compares b with the lower-case ASCII word s, ignoring
// ASCII case.
func equalFoldASCII(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		c := b[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}
