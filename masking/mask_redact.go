package masking

import "unicode/utf8"

// redact: every value becomes one constant of the column's type:
//
//	text, varchar, bpchar, name   option value, default "***" (cut to
//	                              varchar(n)/name, padded for bpchar(n))
//	int2, int4, int8, float4/8    0
//	numeric                       0 (0.00 for numeric(p,2))
//	date                          1970-01-01
//	timestamp, timestamptz        1970-01-01 00:00:00 (UTC)
//	time                          00:00:00
//	bool                          false
//	uuid                          00000000-0000-0000-0000-000000000000
//	bytea                         empty
//	json, jsonb                   {}
type redactMask struct {
	oid          uint32
	text, binary []byte
}

func newRedact(opts Options, col Column) (Masker, error) {
	m := &redactMask{oid: col.TypeOID}
	if opts.Value != "" && !isTextType(col.TypeOID) {
		return nil, &OptionError{Mask: "redact", Option: "value", TypeOID: col.TypeOID, Reason: "applies to text types only"}
	}
	switch oid := col.TypeOID; {
	case isTextType(oid):
		v := opts.Value
		if v == "" {
			v = "***"
		}
		if !utf8.ValidString(v) || containsNUL(v) {
			return nil, &OptionError{Mask: "redact", Option: "value", TypeOID: oid, Reason: "must be valid UTF-8 without NUL characters"}
		}
		m.text = newTextCol(col).finish([]byte(v), 0, 0)
		m.binary = m.text
	case isIntType(oid):
		m.text, m.binary = []byte("0"), make([]byte, intBits(oid)/8)
	case oid == oidFloat4:
		m.text, m.binary = []byte("0"), make([]byte, 4)
	case oid == oidFloat8:
		m.text, m.binary = []byte("0"), make([]byte, 8)
	case oid == oidNumeric:
		zero := decimal{}
		if _, s, ok := numericTypmod(col.TypeMod); ok && s > 0 {
			zero.dscale = s
		}
		m.text, m.binary = appendNumericText(nil, zero), appendNumericBinary(nil, zero)
	case oid == oidDate:
		m.text, m.binary = []byte("1970-01-01"), putDate(nil, int32(date2j(1970, 1, 1)-pgEpochJDate))
	case oid == oidTimestamp:
		m.text, m.binary = []byte("1970-01-01 00:00:00"), putTimestamp(nil, int64(date2j(1970, 1, 1)-pgEpochJDate)*usPerDay)
	case oid == oidTimestamptz:
		m.text, m.binary = []byte("1970-01-01 00:00:00+00"), putTimestamp(nil, int64(date2j(1970, 1, 1)-pgEpochJDate)*usPerDay)
	case oid == oidTime:
		m.text, m.binary = []byte("00:00:00"), make([]byte, 8)
	case oid == oidBool:
		m.text, m.binary = []byte("f"), []byte{0}
	case oid == oidUUID:
		m.text, m.binary = []byte("00000000-0000-0000-0000-000000000000"), make([]byte, 16)
	case oid == oidBytea:
		m.text, m.binary = []byte(`\x`), []byte{}
	case oid == oidJSON:
		m.text, m.binary = []byte("{}"), []byte("{}")
	case oid == oidJSONB:
		m.text, m.binary = []byte("{}"), []byte("\x01{}")
	}
	return m, nil
}

func containsNUL(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return true
		}
	}
	return false
}

func (m *redactMask) Mask(dst, v []byte, format int16) ([]byte, bool, error) {
	switch format {
	case FormatText:
		return append(dst[:0], m.text...), false, nil
	case FormatBinary:
		return append(dst[:0], m.binary...), false, nil
	}
	return dst[:0], false, badFormat("redact", m.oid, format)
}
