package masking

import (
	"encoding/binary"
	"math"
	"strconv"
)

// int2, int4, int8: big-endian two's complement in binary, decimal text.

func intRange(bits int) (lo, hi int64) {
	switch bits {
	case 16:
		return math.MinInt16, math.MaxInt16
	case 32:
		return math.MinInt32, math.MaxInt32
	}
	return math.MinInt64, math.MaxInt64
}

func getInt(v []byte, bits int) (int64, bool) {
	if len(v) != bits/8 {
		return 0, false
	}
	switch bits {
	case 16:
		return int64(int16(binary.BigEndian.Uint16(v))), true
	case 32:
		return int64(int32(binary.BigEndian.Uint32(v))), true
	}
	return int64(binary.BigEndian.Uint64(v)), true
}

func putInt(dst []byte, n int64, bits int) []byte {
	switch bits {
	case 16:
		return binary.BigEndian.AppendUint16(dst, uint16(n))
	case 32:
		return binary.BigEndian.AppendUint32(dst, uint32(n))
	}
	return binary.BigEndian.AppendUint64(dst, uint64(n))
}

// parseIntText parses [spaces][+-]digits[spaces] within the type's range.
func parseIntText(v []byte, bits int) (int64, bool) {
	v = trimSpaceASCII(v)
	neg := false
	if len(v) > 0 && (v[0] == '+' || v[0] == '-') {
		neg = v[0] == '-'
		v = v[1:]
	}
	if len(v) == 0 || len(v) > 19 {
		return 0, false
	}
	var u uint64
	for _, c := range v {
		if !isDigit(c) {
			return 0, false
		}
		u = u*10 + uint64(c-'0')
	}
	lo, hi := intRange(bits)
	if neg {
		if u > uint64(-(lo+1))+1 {
			return 0, false
		}
		return -int64(u-1) - 1, true
	}
	if u > uint64(hi) {
		return 0, false
	}
	return int64(u), true
}

// getIntAny decodes an integer value in either format.
func getIntAny(v []byte, format int16, bits int) (int64, bool) {
	if format == FormatBinary {
		return getInt(v, bits)
	}
	return parseIntText(v, bits)
}

// putIntAny encodes an integer in either format.
func putIntAny(dst []byte, n int64, format int16, bits int) []byte {
	if format == FormatBinary {
		return putInt(dst, n, bits)
	}
	return strconv.AppendInt(dst, n, 10)
}
