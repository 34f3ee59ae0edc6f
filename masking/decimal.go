package masking

import (
	"math"
	"strconv"
)

// Rounding a decimal to a multiple of a step m·10^e (m < 10^17).

// rounding modes.
const (
	halfAway = iota // nearest, halves away from zero (PostgreSQL's numeric round)
	toFloor         // towards minus infinity
	toZero          // towards zero
)

// step is a positive decimal granularity m·10^e.
type step struct {
	m uint64
	e int
}

// stepOf converts a policy's float option (1000, 0.05, 250) to the
// decimal it was written as: the shortest decimal that round-trips.
func stepOf(f float64) (step, bool) {
	if !(f > 0) || math.IsInf(f, 0) {
		return step{}, false
	}
	var buf [32]byte
	s := strconv.AppendFloat(buf[:0], f, 'e', -1, 64) // d.ddddde±xx
	var m uint64
	digits, e := 0, 0
	i := 0
	for ; i < len(s) && s[i] != 'e'; i++ {
		if s[i] == '.' {
			continue
		}
		m = m*10 + uint64(s[i]-'0')
		digits++
	}
	x, err := strconv.Atoi(string(s[i+1:]))
	if err != nil {
		return step{}, false
	}
	e = x - (digits - 1)
	for m%10 == 0 && m != 0 {
		m /= 10
		e++
	}
	return step{m: m, e: e}, true
}

// scale is the number of decimals the step needs (0 for steps >= 1).
func (s step) scale() int { return max(-s.e, 0) }

// quotient returns q = x/s rounded by mode as a signed digit string in
// qbuf: its magnitude digits (most significant first, may be empty for 0)
// and sign. x must be finite.
func quotient(x decimal, s step, mode int, qbuf []byte) (q []byte, neg bool) {
	q = qbuf[:0]
	if len(x.digits) == 0 {
		return q, false
	}
	// u = |x| / 10^e = digits · 10^shift.
	shift := x.exp - s.e
	nInt := len(x.digits) + shift // digits of u before the point
	var r uint64
	for i := 0; i < nInt; i++ {
		var c uint64
		if i < len(x.digits) {
			c = uint64(x.digits[i])
		}
		r = r*10 + c
		digit := r / s.m
		r -= digit * s.m
		if len(q) > 0 || digit != 0 {
			q = append(q, byte(digit))
		}
	}
	fracNonZero := nInt < len(x.digits)
	fracHalf := nInt >= 0 && nInt < len(x.digits) && x.digits[nInt] >= 5
	up := false
	switch mode {
	case halfAway:
		up = 2*r >= s.m || (s.m-2*r == 1 && fracHalf)
	case toFloor:
		up = x.neg && (r > 0 || fracNonZero)
	}
	if up {
		q = incMagnitude(q)
	}
	return q, x.neg && len(q) > 0
}

// incMagnitude adds one to a digit string in place (growing it).
func incMagnitude(q []byte) []byte {
	for i := len(q) - 1; i >= 0; i-- {
		if q[i] < 9 {
			q[i]++
			return q
		}
		q[i] = 0
	}
	q = append(q, 0)
	copy(q[1:], q)
	q[0] = 1
	return q
}

// decMagnitude subtracts one from a non-zero digit string in place.
func decMagnitude(q []byte) []byte {
	for i := len(q) - 1; i >= 0; i-- {
		if q[i] > 0 {
			q[i]--
			break
		}
		q[i] = 9
	}
	i := 0
	for i < len(q) && q[i] == 0 {
		i++
	}
	return q[:copy(q, q[i:])]
}

// times returns q·s as a decimal whose digits live in rbuf.
func times(q []byte, neg bool, s step, rbuf []byte) (decimal, []byte) {
	r := rbuf[:0]
	if len(q) == 0 {
		return decimal{}, r
	}
	// Multiply from the least significant digit into r reversed.
	var carry uint64
	for i := len(q) - 1; i >= 0; i-- {
		p := uint64(q[i])*s.m + carry
		r = append(r, byte(p%10))
		carry = p / 10
	}
	for carry > 0 {
		r = append(r, byte(carry%10))
		carry /= 10
	}
	for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
		r[i], r[j] = r[j], r[i]
	}
	d := decimal{neg: neg, digits: r, exp: s.e}
	return d.normalize(), r
}

// quantize returns x rounded by mode to a multiple of s, using qbuf and
// rbuf; the result's digits live in rbuf. Non-finite x is returned as is.
func quantize(x decimal, s step, mode int, qbuf, rbuf []byte) (decimal, []byte, []byte) {
	if x.kind != finite {
		return x, qbuf, rbuf
	}
	q, neg := quotient(x, s, mode, qbuf)
	d, r := times(q, neg, s, rbuf)
	d.dscale = x.dscale
	return d, q, r
}

// fits reports whether a finite d fits numeric(precision, scale) once
// rounded to scale: at most precision-scale digits before the point.
func fits(d decimal, precision, scale int) bool {
	return len(d.digits) == 0 || d.msdPower()+1 <= precision-scale
}
