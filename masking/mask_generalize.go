package masking

// generalize: truncate a date, timestamp or timestamptz to the start of
// its year (unit: year, the default), month (unit: month) or day (unit:
// day, timestamps only), as date_trunc does. infinity and -infinity stay.
//
//	date         1990-03-07 → 1990-01-01 (year), 1990-03-01 (month)
//	timestamp    2024-03-15 13:45:30.5 → 2024-01-01 00:00:00
//	timestamptz  2024-03-15 13:45:30.5+08 → 2024-01-01 00:00:00+00
//
// Text values are parsed in PostgreSQL's DateStyle ISO form; another
// DateStyle is a *ValueError. A timestamptz is truncated in UTC and
// printed at offset +00, as text and in binary (which carries no zone):
// the offset PostgreSQL prints is the session time zone's at the real
// instant, so keeping it would tell the season of a hidden date (Asia/
// Shanghai had daylight saving in 1986-1991), and a POSIX zone of the
// client's choosing (SET TimeZone = 'AAA0BBB,J1/0,J196/12:00') tells the
// instant to the second by binary search (red-team round 24). Results
// before 4714-11-24 BC 00:00 UTC, the first valid date and instant,
// become the first valid midnight.
type generalizeMask struct {
	oid  uint32
	unit int
}

const (
	unitYear = iota
	unitMonth
	unitDay
)

func newGeneralize(opts Options, col Column) (Masker, error) {
	m := &generalizeMask{oid: col.TypeOID}
	switch opts.Unit {
	case "", "year":
		m.unit = unitYear
	case "month":
		m.unit = unitMonth
	case "day":
		if col.TypeOID == oidDate {
			return nil, &OptionError{Mask: "generalize", Option: "unit", TypeOID: col.TypeOID, Reason: `"day" applies to timestamps only`}
		}
		m.unit = unitDay
	default:
		return nil, &OptionError{Mask: "generalize", Option: "unit", TypeOID: col.TypeOID, Reason: `must be "year", "month" or "day"`}
	}
	return m, nil
}

func (m *generalizeMask) Mask(dst, v []byte, format int16) ([]byte, bool, error) {
	out := dst[:0]
	var ok bool
	switch format {
	case FormatBinary:
		out, ok = m.binary(out, v)
	case FormatText:
		out, ok = m.text(out, v)
	default:
		return out, false, badFormat("generalize", m.oid, format)
	}
	if !ok {
		return dst[:0], false, &ValueError{Mask: "generalize", TypeOID: m.oid, Format: format, Reason: "not a valid value (DateStyle must be ISO for text)"}
	}
	return out, false, nil
}

// truncJ truncates a Julian day to the unit, not before minJDate.
func (m *generalizeMask) truncJ(j int) int {
	y, mo, d := j2date(j)
	switch m.unit {
	case unitYear:
		mo, d = 1, 1
	case unitMonth:
		d = 1
	}
	return max(date2j(y, mo, d), minJDate)
}

func (m *generalizeMask) binary(out, v []byte) ([]byte, bool) {
	if m.oid == oidDate {
		days, ok := getDate(v)
		if !ok {
			return out, false
		}
		if days == dateNegInf || days == datePosInf {
			return putDate(out, days), true
		}
		j := int(days) + pgEpochJDate
		if j < minJDate || j >= endJDate {
			return out, false
		}
		return putDate(out, int32(m.truncJ(j)-pgEpochJDate)), true
	}
	us, ok := getTimestamp(v)
	if !ok {
		return out, false
	}
	if us == tsNegInf || us == tsPosInf {
		return putTimestamp(out, us), true
	}
	if us < minTimestamp || us >= endTimestamp {
		return out, false
	}
	days := floorDiv(us, usPerDay)
	j := int(days) + pgEpochJDate
	return putTimestamp(out, int64(m.truncJ(j)-pgEpochJDate)*usPerDay), true
}

func (m *generalizeMask) text(out, v []byte) ([]byte, bool) {
	withTime := m.oid != oidDate
	withZone := m.oid == oidTimestamptz
	s, ok := parseISO(v, withTime, withZone)
	if !ok {
		return out, false
	}
	if s.special != 0 {
		return append(out, v...), true
	}
	j := date2j(s.year, s.month, s.day)
	if withZone {
		// The UTC day of the instant (the fraction of a second cannot
		// move it across midnight).
		secs := int64(j)*86400 + int64(s.hour*3600+s.minute*60+s.second) - zoneSeconds(s.zone)
		j = int(floorDiv(secs, 86400))
	}
	j = m.truncJ(j)
	y, mo, d := j2date(j)
	out, bc := appendISODate(out, y, mo, d)
	if withTime {
		out = append(out, " 00:00:00"...)
	}
	if withZone {
		out = append(out, "+00"...)
	}
	if bc {
		out = append(out, " BC"...)
	}
	return out, true
}
