package masking

import (
	"encoding/binary"
	"math"
	"strconv"
)

// float4 and float8 (src/backend/utils/adt/float.c): binary is the IEEE
// value big-endian; text is the shortest exact form (extra_float_digits
// >= 1, the default since PostgreSQL 12) laid out by src/common/d2s.c and
// f2s.c: fixed notation when the decimal exponent is in [-4, 15) for
// float8 and [-4, 6) for float4, else d.ddde±XX with at least two exponent
// digits; NaN, Infinity, -Infinity.

func getFloat(v []byte, bits int) (float64, bool) {
	switch {
	case bits == 32 && len(v) == 4:
		return float64(math.Float32frombits(binary.BigEndian.Uint32(v))), true
	case bits == 64 && len(v) == 8:
		return math.Float64frombits(binary.BigEndian.Uint64(v)), true
	}
	return 0, false
}

func putFloat(dst []byte, f float64, bits int) []byte {
	if bits == 32 {
		return binary.BigEndian.AppendUint32(dst, math.Float32bits(float32(f)))
	}
	return binary.BigEndian.AppendUint64(dst, math.Float64bits(f))
}

// parseFloatText parses float text as PostgreSQL prints it (and what
// strconv accepts besides). The error is dropped: strconv's would quote
// the value.
func parseFloatText(v []byte, bits int) (float64, bool) {
	v = trimSpaceASCII(v)
	if len(v) == 0 || len(v) > 64 {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(v), bits)
	if err != nil {
		// ParseFloat reports out-of-range values as ±Inf with an error;
		// PostgreSQL would not print them.
		return 0, false
	}
	return f, true
}

// appendFloatText appends f as float4out/float8out print it.
func appendFloatText(dst []byte, f float64, bits int) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, "NaN"...)
	case math.IsInf(f, 1):
		return append(dst, "Infinity"...)
	case math.IsInf(f, -1):
		return append(dst, "-Infinity"...)
	}
	var buf [40]byte
	var mant [24]byte
	n, x := shortest(&buf, &mant, f, bits)
	neg := f < 0 || (f == 0 && math.Signbit(f))
	if neg {
		dst = append(dst, '-')
	}
	hi := 15
	if bits == 32 {
		hi = 6
	}
	if x < -4 || x >= hi {
		dst = append(dst, mant[0])
		if n > 1 {
			dst = append(dst, '.')
			dst = append(dst, mant[1:n]...)
		}
		dst = append(dst, 'e')
		if x < 0 {
			dst = append(dst, '-')
			x = -x
		} else {
			dst = append(dst, '+')
		}
		return appendPadded(dst, x, 2)
	}
	if x < 0 {
		dst = append(dst, '0', '.')
		for k := -1; k > x; k-- {
			dst = append(dst, '0')
		}
		return append(dst, mant[:n]...)
	}
	// x >= 0: digits before the point are mant[0..x], padded with zeros.
	for k := 0; k <= x; k++ {
		if k < n {
			dst = append(dst, mant[k])
		} else {
			dst = append(dst, '0')
		}
	}
	if n > x+1 {
		dst = append(dst, '.')
		dst = append(dst, mant[x+1:n]...)
	}
	return dst
}

// shortest sets mant[:n] to the shortest decimal digits that read back as
// f, with x the decimal exponent of the first digit, as PostgreSQL's Ryu
// (src/common/d2s.c, f2s.c) chooses them: strictly inside the rounding
// interval. strconv also accepts a decimal exactly halfway to a neighbour
// (it reads back by round-half-even); PostgreSQL then prints more digits.
func shortest(buf *[40]byte, mant *[24]byte, f float64, bits int) (n, x int) {
	for prec := -1; ; {
		e := strconv.AppendFloat(buf[:0], math.Abs(f), 'e', prec, bits) // d.ddde±xx
		n = 0
		i := 0
		for ; e[i] != 'e'; i++ {
			if e[i] != '.' {
				mant[n] = e[i]
				n++
			}
		}
		x = atoiSigned(e[i+1:])
		for n > 1 && mant[n-1] == '0' {
			n--
		}
		if !isTie(math.Abs(f), mant[:n], x, bits) {
			return n, x
		}
		// One more digit than this round tried (prec counts the digits
		// after the first).
		prec = max(prec+1, n)
	}
}

// isTie reports whether the decimal 0.mant·10^(x+1) lies exactly halfway
// between f >= 0 and a neighbouring float. That needs an integer
// midpoint with at most 17 (float4: 9) digits, so only integers f in
// [2^53, 10^17) (float4: [2^24, 10^9)) are candidates, and the check is
// exact in uint64.
func isTie(f float64, mant []byte, x, bits int) bool {
	lo, hi := 9007199254740992.0, 1e17
	if bits == 32 {
		lo, hi = 16777216, 1e9
	}
	if f < lo || f >= hi || x < len(mant)-1 {
		return false
	}
	var d uint64
	for _, c := range mant {
		d = d*10 + uint64(c-'0')
	}
	for k := len(mant) - 1; k < x; k++ {
		d *= 10
	}
	u := uint64(f)
	var up, down uint64
	if bits == 32 {
		up = uint64(math.Nextafter32(float32(f), float32(math.Inf(1)))) - u
		down = u - uint64(math.Nextafter32(float32(f), 0))
	} else {
		up = uint64(math.Nextafter(f, math.Inf(1))) - u
		down = u - uint64(math.Nextafter(f, 0))
	}
	return (d > u && 2*(d-u) == up) || (d < u && 2*(u-d) == down)
}

// atoiSigned parses a short signed decimal (an exponent).
func atoiSigned(b []byte) int {
	neg := false
	if len(b) > 0 && (b[0] == '+' || b[0] == '-') {
		neg = b[0] == '-'
		b = b[1:]
	}
	n := atoiDigits(b)
	if neg {
		return -n
	}
	return n
}
