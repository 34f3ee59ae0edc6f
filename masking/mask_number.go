package masking

import (
	"math"
)

// numberMask rounds numbers to a multiple of a step: the round mask
// (nearest, halves away from zero) and the band mask (down: the lower
// bound of the band). When the exact result does not fit the column's
// type (int2 32767 rounded to 1000, numeric(5,2) 999.99 rounded to 1000)
// the multiple towards zero is used instead, which always fits.
type numberMask struct {
	name string
	oid  uint32
	kind int // numInt, numFloat or numNumeric
	mode int
	st   step
	// integers and floats
	bits   int
	t      int64 // the step as an integer
	lo, hi int64
	// numeric
	constrained   bool
	precision, sc int
	dscale        int // output display scale
}

// number kinds.
const (
	numInt = iota
	numFloat
	numNumeric
)

func newNumberMask(name, option string, mode int, f float64, col Column) (*numberMask, error) {
	m := &numberMask{name: name, oid: col.TypeOID, mode: mode}
	st, ok := stepOf(f)
	if !ok || f < 1e-12 || f > 1e30 {
		return nil, &OptionError{Mask: name, Option: option, TypeOID: col.TypeOID, Reason: "is required: a number between 1e-12 and 1e30"}
	}
	m.st = st
	switch oid := col.TypeOID; {
	case isIntType(oid):
		m.kind, m.bits = numInt, intBits(oid)
		m.lo, m.hi = intRange(m.bits)
		ok := st.e >= 0 && st.m <= uint64(m.hi)
		m.t = int64(st.m)
		for i := 0; ok && i < st.e; i++ {
			ok = m.t <= m.hi/10
			m.t *= 10
		}
		if !ok {
			return nil, &OptionError{Mask: name, Option: option, TypeOID: oid, Reason: "must be a whole number within the type's range"}
		}
	case isFloatType(oid):
		m.kind, m.bits = numFloat, 64
		if oid == oidFloat4 {
			m.bits = 32
		}
	case oid == oidNumeric:
		m.kind = numNumeric
		m.precision, m.sc, m.constrained = numericTypmod(col.TypeMod)
		if m.constrained {
			m.dscale = max(m.sc, 0)
		} else {
			m.dscale = st.scale()
		}
	}
	return m, nil
}

func (m *numberMask) Mask(dst, v []byte, format int16) ([]byte, bool, error) {
	if format != FormatText && format != FormatBinary {
		return dst[:0], false, badFormat(m.name, m.oid, format)
	}
	var out []byte
	var problem string
	switch m.kind {
	case numInt:
		out, problem = m.maskInt(dst[:0], v, format)
	case numNumeric:
		out, problem = m.maskNumeric(dst[:0], v, format)
	default:
		out, problem = m.maskFloat(dst[:0], v, format)
	}
	if problem != "" {
		return dst[:0], false, &ValueError{Mask: m.name, TypeOID: m.oid, Format: format, Reason: problem}
	}
	return out, false, nil
}

func (m *numberMask) maskInt(out, v []byte, format int16) ([]byte, string) {
	n, ok := getIntAny(v, format, m.bits)
	if !ok {
		return out, "not a valid integer"
	}
	return putIntAny(out, m.roundInt(n), format, m.bits), ""
}

// roundInt rounds n to a multiple of m.t by m.mode, within the type.
func (m *numberMask) roundInt(n int64) int64 {
	t := m.t
	q, r := n/t, n%t
	switch m.mode {
	case halfAway:
		if r < 0 {
			r = -r
		}
		if uint64(r)*2 >= uint64(t) {
			if n < 0 {
				q--
			} else {
				q++
			}
		}
	case toFloor:
		if r != 0 && n < 0 {
			q--
		}
	}
	if q > m.hi/t || q < m.lo/t {
		return n / t * t
	}
	return q * t
}

func (m *numberMask) maskFloat(out, v []byte, format int16) ([]byte, string) {
	var f float64
	var ok bool
	if format == FormatBinary {
		f, ok = getFloat(v, m.bits)
	} else {
		f, ok = parseFloatText(v, m.bits)
	}
	if !ok {
		return out, "not a valid floating-point number"
	}
	if !math.IsNaN(f) && !math.IsInf(f, 0) {
		f = m.roundFloat(f, m.mode)
		if m.tooBig(f) {
			f = m.roundFloat(f, toZero)
		}
	}
	if format == FormatBinary {
		return putFloat(out, f, m.bits), ""
	}
	return appendFloatText(out, f, m.bits), ""
}

// roundFloat rounds f to a multiple of the step in binary floating point:
// f·10^-e/m rounded, times m·10^e.
func (m *numberMask) roundFloat(f float64, mode int) float64 {
	var x float64
	if m.st.e < 0 {
		x = f * math.Pow10(-m.st.e)
	} else {
		x = f / math.Pow10(m.st.e)
	}
	x /= float64(m.st.m)
	if math.Abs(x) >= 1<<53 || math.IsInf(x, 0) {
		// f is already a multiple of the step as far as float precision
		// goes (and f/step may overflow).
		return f
	}
	switch mode {
	case halfAway:
		x = math.Round(x)
	case toFloor:
		x = math.Floor(x)
	default:
		x = math.Trunc(x)
	}
	r := x * float64(m.st.m)
	if m.st.e < 0 {
		r /= math.Pow10(-m.st.e)
	} else {
		r *= math.Pow10(m.st.e)
	}
	if r == 0 {
		r = 0 // never -0
	}
	return r
}

func (m *numberMask) tooBig(f float64) bool {
	if m.bits == 32 {
		return math.Abs(f) > math.MaxFloat32
	}
	return math.IsInf(f, 0)
}

func (m *numberMask) maskNumeric(out, v []byte, format int16) ([]byte, string) {
	s := getScratch()
	defer putScratch(s)
	var x decimal
	if format == FormatBinary {
		var problem string
		x, s.a, problem = decodeNumeric(v, s.a)
		if problem != "" {
			return out, "numeric: " + problem
		}
	} else {
		var ok bool
		x, s.a, ok = parseNumericText(v, s.a)
		if !ok || !representable(x) {
			return out, "not a valid numeric"
		}
	}
	r := m.roundNumeric(x, m.mode, s)
	if r.kind == finite && (!representable(r) || (m.constrained && !fits(r, m.precision, m.sc))) {
		r = m.roundNumeric(x, toZero, s)
	}
	r.dscale = m.dscale
	if format == FormatBinary {
		return appendNumericBinary(out, r), ""
	}
	return appendNumericText(out, r), ""
}

// roundNumeric rounds x to the step and then to the column's scale (by
// the same mode, so a band's bound stays a lower bound). The result's
// digits live in s.c.
func (m *numberMask) roundNumeric(x decimal, mode int, s *scratch) decimal {
	var r decimal
	r, s.b, s.c = quantize(x, m.st, mode, s.b, s.c)
	if m.constrained && r.kind == finite && r.exp < -m.sc {
		// Round to the column's scale: move r's digits to s.d first.
		s.d = append(s.d[:0], r.digits...)
		r.digits = s.d
		r, s.b, s.c = quantize(r, step{m: 1, e: -m.sc}, mode, s.b, s.c)
	}
	return r
}

// representable reports whether a finite value is within numeric's
// range: 131072 digits before the point, 16383 after.
func representable(d decimal) bool {
	return d.kind != finite || len(d.digits) == 0 || (d.msdPower() < 131072 && d.exp >= -16383)
}
