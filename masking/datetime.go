package masking

import (
	"encoding/binary"
	"math"
)

// Dates and timestamps as PostgreSQL stores and sends them
// (src/backend/utils/adt/datetime.c, date.c, timestamp.c): Julian day
// numbers with PostgreSQL's date2j/j2date (proleptic Gregorian,
// astronomical years: 1 BC is year 0), dates on the wire as int32 days
// and timestamps as int64 microseconds since 2000-01-01 00:00:00, with the
// extreme values meaning -infinity/infinity.

const (
	pgEpochJDate = 2451545 // date2j(2000, 1, 1)
	usPerDay     = 86400000000
	// minJDate is 4714-11-24 BC (Julian day 0; "4713 BC" in the
	// documentation's Julian-calendar terms), the first valid date and
	// timestamp.
	minJDate = 0
	// endJDate is 5874898-01-01, the first date past the valid range.
	endJDate = 2147483494
	// minTimestamp and endTimestamp bound valid timestamps (4714-11-24 BC
	// 00:00:00 to 294277-01-01 00:00:00, exclusive).
	minTimestamp int64 = -211813488000000000
	endTimestamp int64 = 9223371331200000000

	dateNegInf = math.MinInt32
	datePosInf = math.MaxInt32
	tsNegInf   = math.MinInt64
	tsPosInf   = math.MaxInt64
)

// date2j is PostgreSQL's date2j.
func date2j(y, m, d int) int {
	if m > 2 {
		m++
		y += 4800
	} else {
		m += 13
		y += 4799
	}
	century := y / 100
	julian := y*365 - 32167
	julian += y/4 - century + century/4
	julian += 7834*m/256 + d
	return julian
}

// j2date is PostgreSQL's j2date, for jd >= 0.
func j2date(jd int) (year, month, day int) {
	julian := uint64(jd)
	julian += 32044
	quad := julian / 146097
	extra := (julian-quad*146097)*4 + 3
	julian += 60 + quad*3 + extra/146097
	quad = julian / 1461
	julian -= quad * 1461
	y := julian * 4 / 1461
	if y != 0 {
		julian = (julian+305)%365 + 123
	} else {
		julian = (julian+306)%366 + 123
	}
	y += quad * 4
	year = int(y) - 4800
	quad = julian * 2141 / 65536
	day = int(julian - 7834*quad/256)
	month = int((quad+10)%12 + 1)
	return year, month, day
}

func isLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

// daysIn is the length of month m of astronomical year y.
func daysIn(y, m int) int {
	switch m {
	case 2:
		if isLeap(y) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// floorDiv is a/b rounded towards minus infinity, for b > 0.
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// Binary codecs.

func getDate(v []byte) (days int32, ok bool) {
	if len(v) != 4 {
		return 0, false
	}
	return int32(binary.BigEndian.Uint32(v)), true
}

func putDate(dst []byte, days int32) []byte {
	return binary.BigEndian.AppendUint32(dst, uint32(days))
}

func getTimestamp(v []byte) (us int64, ok bool) {
	if len(v) != 8 {
		return 0, false
	}
	return int64(binary.BigEndian.Uint64(v)), true
}

func putTimestamp(dst []byte, us int64) []byte {
	return binary.BigEndian.AppendUint64(dst, uint64(us))
}

// isoStamp is the parse of a date, timestamp or timestamptz in the text
// form PostgreSQL prints with DateStyle ISO:
//
//	[-]infinity
//	YYYY-MM-DD[ BC]                                  date
//	YYYY-MM-DD HH:MM:SS[.ffffff][ BC]                timestamp
//	YYYY-MM-DD HH:MM:SS[.ffffff]±HH[:MM[:SS]][ BC]   timestamptz
//
// Years have at least four digits. Positions index the input.
type isoStamp struct {
	special int // 0, or -1/+1 for -infinity/infinity
	yearEnd int // v[:yearEnd] is the year's digits
	year    int // astronomical year
	month   int
	day     int
	// hour, minute and second of a timestamp (the fraction is not kept)
	hour, minute, second int
	zone                 []byte // timestamptz offset, e.g. "+08" or "+05:30"
	bc                   bool
}

// parseISO parses v; withTime and withZone select the type. It reports
// false for anything PostgreSQL would not print.
func parseISO(v []byte, withTime, withZone bool) (s isoStamp, ok bool) {
	switch string(v) {
	case "infinity":
		return isoStamp{special: 1}, true
	case "-infinity":
		return isoStamp{special: -1}, true
	}
	i := 0
	for i < len(v) && isDigit(v[i]) {
		i++
	}
	if i < 4 || i > 9 {
		return s, false
	}
	s.yearEnd = i
	y := atoiDigits(v[:i])
	if len(v) < i+6 || v[i] != '-' || !isDigit(v[i+1]) || !isDigit(v[i+2]) || v[i+3] != '-' || !isDigit(v[i+4]) || !isDigit(v[i+5]) {
		return s, false
	}
	s.month, s.day = atoiDigits(v[i+1:i+3]), atoiDigits(v[i+4:i+6])
	rest := v[i+6:]
	if withTime {
		// " HH:MM:SS"
		if len(rest) < 9 || rest[0] != ' ' || !digits2(rest[1:3]) || rest[3] != ':' || !digits2(rest[4:6]) || rest[6] != ':' || !digits2(rest[7:9]) {
			return s, false
		}
		s.hour, s.minute, s.second = atoiDigits(rest[1:3]), atoiDigits(rest[4:6]), atoiDigits(rest[7:9])
		if s.hour > 23 || s.minute > 59 || s.second > 60 {
			return s, false
		}
		rest = rest[9:]
		if len(rest) > 0 && rest[0] == '.' {
			j := 1
			for j < len(rest) && isDigit(rest[j]) {
				j++
			}
			if j == 1 || j > 7 {
				return s, false
			}
			rest = rest[j:]
		}
		if withZone {
			if len(rest) < 3 || (rest[0] != '+' && rest[0] != '-') || !digits2(rest[1:3]) {
				return s, false
			}
			j := 3
			for k := 0; k < 2 && len(rest) >= j+3 && rest[j] == ':' && digits2(rest[j+1:j+3]); k++ {
				j += 3
			}
			s.zone = rest[:j]
			rest = rest[j:]
		}
	}
	switch string(rest) {
	case "":
	case " BC":
		s.bc = true
	default:
		return s, false
	}
	if s.bc {
		if y == 0 {
			return s, false
		}
		y = 1 - y
	}
	s.year = y
	if s.month < 1 || s.month > 12 || s.day < 1 || s.day > daysIn(y, s.month) {
		return s, false
	}
	// A timestamptz printed at a negative offset may show the day before
	// the first valid date.
	lo := minJDate
	if withZone {
		lo--
	}
	if j := date2j(y, s.month, s.day); j < lo || j >= endJDate {
		return s, false
	}
	return s, true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func digits2(b []byte) bool { return len(b) == 2 && isDigit(b[0]) && isDigit(b[1]) }

// appendISODate appends y-m-d (astronomical y) as PostgreSQL prints it
// with DateStyle ISO, without the BC suffix; bc reports whether one is
// due.
func appendISODate(dst []byte, y, m, d int) (out []byte, bc bool) {
	if y <= 0 {
		y, bc = 1-y, true
	}
	dst = appendPadded(dst, y, 4)
	dst = append(dst, '-')
	dst = appendPadded(dst, m, 2)
	dst = append(dst, '-')
	dst = appendPadded(dst, d, 2)
	return dst, bc
}

// appendPadded appends n >= 0 with at least width digits.
func appendPadded(dst []byte, n, width int) []byte {
	var buf [20]byte
	i := len(buf)
	for n > 0 || i == len(buf) {
		i--
		buf[i] = byte('0' + n%10)
		n /= 10
	}
	for len(buf)-i < width {
		i--
		buf[i] = '0'
	}
	return append(dst, buf[i:]...)
}

// zoneSeconds converts a printed UTC offset (±HH[:MM[:SS]]) to seconds.
func zoneSeconds(z []byte) int64 {
	if len(z) < 3 {
		return 0
	}
	secs := int64(atoiDigits(z[1:3])) * 3600
	if len(z) >= 6 {
		secs += int64(atoiDigits(z[4:6])) * 60
	}
	if len(z) >= 9 {
		secs += int64(atoiDigits(z[7:9]))
	}
	if z[0] == '-' {
		return -secs
	}
	return secs
}
