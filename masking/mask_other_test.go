package masking

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"
)

func TestNull(t *testing.T) {
	for _, oid := range []uint32{oidText, oidInt4, oidNumeric, oidDate, oidJSONB, 12345} {
		m := mustNew(t, "null", Options{}, typ(oid))
		for _, format := range []int16{FormatText, FormatBinary} {
			out, null, err := m.Mask(make([]byte, 0, 8), []byte("13812345678"), format)
			if err != nil || !null || len(out) != 0 {
				t.Errorf("null on %s: out %q null %v err %v", typeName(oid), out, null, err)
			}
		}
	}
}

func TestRedact(t *testing.T) {
	for _, tc := range []struct {
		col      Column
		in       string // text input (binary input is irrelevant: redact ignores it)
		text     string
		binaryHx string
	}{
		{typ(oidInt2), "7", "0", "0000"},
		{typ(oidInt4), "7", "0", "00000000"},
		{typ(oidInt8), "7", "0", "0000000000000000"},
		{typ(oidFloat4), "7.5", "0", "00000000"},
		{typ(oidFloat8), "7.5", "0", "0000000000000000"},
		{colNumeric, "12345.67", "0", "0000000000000000"},
		{numeric(10, 2), "12345.67", "0.00", "0000000000000002"},
		{typ(oidDate), "1990-03-07", "1970-01-01", "ffffd533"},
		{typ(oidTimestamp), "2024-03-15 13:45:30", "1970-01-01 00:00:00", "fffca2fec4c82000"},
		{typ(oidTimestamptz), "2024-03-15 13:45:30+08", "1970-01-01 00:00:00+00", "fffca2fec4c82000"},
		{typ(oidTime), "13:45:30", "00:00:00", "0000000000000000"},
		{typ(oidBool), "t", "f", "00"},
		{typ(oidUUID), "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "00000000-0000-0000-0000-000000000000", "00000000000000000000000000000000"},
		{typ(oidBytea), `\x0102`, `\x`, ""},
		{typ(oidJSON), `{"name":"张三"}`, `{}`, "7b7d"},
		{typ(oidJSONB), `{"name":"张三"}`, `{}`, "017b7d"},
	} {
		m := mustNew(t, "redact", Options{}, tc.col)
		if got := maskString(t, m, tc.in, FormatText); got != tc.text {
			t.Errorf("redact %s text = %q, want %q", typeName(tc.col.TypeOID), got, tc.text)
		}
		want, _ := hex.DecodeString(tc.binaryHx)
		if got := maskBytes(t, m, []byte("anything"), FormatBinary); !bytes.Equal(got, want) {
			t.Errorf("redact %s binary = %x, want %x", typeName(tc.col.TypeOID), got, want)
		}
	}
}

func TestGeneralize(t *testing.T) {
	for _, tc := range []struct {
		unit string
		col  Column
		in   string
		want string
	}{
		{"", typ(oidDate), "1990-03-07", "1990-01-01"},
		{"year", typ(oidDate), "1990-03-07", "1990-01-01"},
		{"month", typ(oidDate), "1990-03-07", "1990-03-01"},
		{"month", typ(oidDate), "2000-02-29", "2000-02-01"},
		{"year", typ(oidDate), "infinity", "infinity"},
		{"year", typ(oidDate), "-infinity", "-infinity"},
		{"year", typ(oidDate), "0044-03-15 BC", "0044-01-01 BC"},
		{"year", typ(oidDate), "12345-06-07", "12345-01-01"},
		{"year", typ(oidDate), "4714-11-30 BC", "4714-11-24 BC"}, // clamped to the first valid date
		{"year", typ(oidTimestamp), "2024-03-15 13:45:30.123456", "2024-01-01 00:00:00"},
		{"month", typ(oidTimestamp), "2024-03-15 13:45:30", "2024-03-01 00:00:00"},
		{"day", typ(oidTimestamp), "2024-03-15 13:45:30.5", "2024-03-15 00:00:00"},
		{"year", typ(oidTimestamp), "0044-03-15 13:00:00 BC", "0044-01-01 00:00:00 BC"},
		{"month", typ(oidTimestamp), "infinity", "infinity"},
		// timestamptz: truncated in UTC and printed at +00, whatever
		// offset PostgreSQL printed (the session zone's at the real
		// instant, which would tell the season of the date).
		{"year", typ(oidTimestamptz), "2024-03-15 13:45:30.5+08", "2024-01-01 00:00:00+00"},
		{"year", typ(oidTimestamptz), "2024-03-15 06:45:30.5+01", "2024-01-01 00:00:00+00"},
		{"year", typ(oidTimestamptz), "1988-07-15 07:30:00+09", "1988-01-01 00:00:00+00"},
		{"year", typ(oidTimestamptz), "1988-01-20 06:30:00+08", "1988-01-01 00:00:00+00"},
		{"year", typ(oidTimestamptz), "2024-01-01 07:59:59+08", "2023-01-01 00:00:00+00"},
		{"month", typ(oidTimestamptz), "2024-03-15 19:15:30.5+05:30", "2024-03-01 00:00:00+00"},
		{"day", typ(oidTimestamptz), "1900-01-01 05:21:10+05:21:10", "1900-01-01 00:00:00+00"},
		{"day", typ(oidTimestamptz), "1900-01-01 05:21:09+05:21:10", "1899-12-31 00:00:00+00"},
		{"year", typ(oidTimestamptz), "0044-03-15 13:00:00+08:05:43 BC", "0044-01-01 00:00:00+00 BC"},
		{"year", typ(oidTimestamptz), "4714-11-30 10:00:00+08 BC", "4714-11-24 00:00:00+00 BC"},
	} {
		m := mustNew(t, "generalize", Options{Unit: tc.unit}, tc.col)
		if got := maskString(t, m, tc.in, FormatText); got != tc.want {
			t.Errorf("generalize %s %s(%s) = %s, want %s", tc.unit, typeName(tc.col.TypeOID), tc.in, got, tc.want)
		}
	}
	// Binary: days and microseconds since 2000-01-01.
	day := func(y, m, d int) int64 { return int64(date2j(y, m, d) - pgEpochJDate) }
	year := mustNew(t, "generalize", Options{}, typ(oidDate))
	if got := maskBytes(t, year, putDate(nil, int32(day(1990, 3, 7))), FormatBinary); !bytes.Equal(got, putDate(nil, int32(day(1990, 1, 1)))) {
		t.Errorf("date binary: %x", got)
	}
	for _, special := range []int32{dateNegInf, datePosInf} {
		if got := maskBytes(t, year, putDate(nil, special), FormatBinary); !bytes.Equal(got, putDate(nil, special)) {
			t.Errorf("date infinity binary: %x", got)
		}
	}
	month := mustNew(t, "generalize", Options{Unit: "month"}, typ(oidTimestamptz))
	in := day(2024, 3, 15)*usPerDay + 13*3600e6 + 123456
	if got := maskBytes(t, month, putTimestamp(nil, in), FormatBinary); !bytes.Equal(got, putTimestamp(nil, day(2024, 3, 1)*usPerDay)) {
		t.Errorf("timestamptz binary: %x", got)
	}
	before2000 := day(1969, 12, 31)*usPerDay + 1 // negative microseconds: floor, not truncation
	if got := maskBytes(t, month, putTimestamp(nil, before2000), FormatBinary); !bytes.Equal(got, putTimestamp(nil, day(1969, 12, 1)*usPerDay)) {
		t.Errorf("timestamptz binary before 2000: %x", got)
	}
	// Values PostgreSQL would not send.
	ts := mustNew(t, "generalize", Options{}, typ(oidTimestamp))
	for _, bad := range []string{"", "2024-03-15", "2024-13-01 00:00:00", "2024-02-30 00:00:00", "03/15/2024 13:45", "Fri Mar 15 13:45:30 2024", "2024-03-15 13:45:30+08", "0000-01-01 00:00:00 BC"} {
		if _, _, err := ts.Mask(nil, []byte(bad), FormatText); err == nil {
			t.Errorf("generalize timestamp accepted %q", bad)
		}
	}
	for _, bad := range [][]byte{{}, {1, 2, 3}, putTimestamp(nil, endTimestamp), putTimestamp(nil, minTimestamp-1)} {
		if _, _, err := ts.Mask(nil, bad, FormatBinary); err == nil {
			t.Errorf("generalize timestamp accepted binary %x", bad)
		}
	}
}

func TestDateConversions(t *testing.T) {
	if date2j(2000, 1, 1) != pgEpochJDate || date2j(-4713, 11, 24) != 0 {
		t.Fatal("epochs")
	}
	for j := 0; j < 2147483494; j += 997 {
		y, m, d := j2date(j)
		if date2j(y, m, d) != j || d < 1 || d > daysIn(y, m) {
			t.Fatalf("j2date(%d) = %d-%d-%d", j, y, m, d)
		}
	}
}

func TestHash(t *testing.T) {
	digits := func(s string) bool { return allDigits([]byte(s)) }
	for _, tc := range []struct {
		col   Column
		in    string
		check func(out string) bool
	}{
		{Column{TypeOID: oidText, TypeMod: -1, Class: "cn_id"}, "11010519491231002X", func(o string) bool { return len(o) == 18 && o[0] != '0' && validCNIDCheck(o) }},
		{Column{TypeOID: oidText, TypeMod: -1, Class: "cn_id"}, "310105900307803", func(o string) bool { return len(o) == 15 && digits(o) }},
		{Column{TypeOID: oidText, TypeMod: -1, Class: "cn_mobile"}, "+86 138 1234 5678", func(o string) bool {
			_, ok := mobileDigits([]byte(o))
			return ok && len(o) == 11
		}},
		{Column{TypeOID: oidText, TypeMod: -1, Class: "bank_card"}, "6222 0212 3456 7894", func(o string) bool { return len(o) == 16 && ValidLuhn(o) && o[0] != '0' }},
		{Column{TypeOID: oidText, TypeMod: -1, Class: "uscc"}, "91350100M000100Y43", func(o string) bool { return ValidUSCC(o) }},
		{Column{TypeOID: oidText, TypeMod: -1, Class: "salary"}, "1234", func(o string) bool { return len(o) == 4 && digits(o) && o[0] != '0' }},
		{Column{TypeOID: oidText, TypeMod: -1, Class: "salary"}, "0123", func(o string) bool { return len(o) == 4 && digits(o) }},
		{Column{TypeOID: oidText, TypeMod: -1, Class: "person_name"}, "张三", func(o string) bool { return len(o) == 32 && isHex(o) }},
		{Column{TypeOID: oidVarchar, TypeMod: 10 + 4, Class: "person_name"}, "张三", func(o string) bool { return len(o) == 10 && isHex(o) }},
		{Column{TypeOID: oidBpchar, TypeMod: 40 + 4, Class: "person_name"}, "张三", func(o string) bool {
			return len(o) == 40 && isHex(strings.TrimRight(o, " ")) && len(strings.TrimRight(o, " ")) == 32
		}},
		{Column{TypeOID: oidName, TypeMod: -1, Class: "x"}, "someone", func(o string) bool { return len(o) == 32 }},
		{Column{TypeOID: oidText, TypeMod: -1, Class: "x"}, "", func(o string) bool { return o == "" }},
	} {
		m := mustNew(t, "hash", Options{}, tc.col)
		out := maskString(t, m, tc.in, FormatText)
		if !tc.check(out) {
			t.Errorf("hash %s class %s (%s) = %q", typeName(tc.col.TypeOID), tc.col.Class, tc.in, out)
		}
		if out2 := maskString(t, m, tc.in, FormatBinary); out2 != out {
			t.Errorf("hash text and binary differ: %q %q", out, out2)
		}
		checkTextValue(t, tc.col, []byte(out))
	}

	// Deterministic on the normalised form; different per value and key.
	id := mustNew(t, "hash", Options{}, Column{TypeOID: oidText, TypeMod: -1, Class: "cn_id"})
	a := maskString(t, id, "11010519491231002X", FormatText)
	for _, same := range []string{"11010519491231002x", " 110105 19491231 002X ", "１１０１０５１９４９１２３１００２Ｘ"} {
		if got := maskString(t, id, same, FormatText); got != a {
			t.Errorf("hash(%q) = %s, want %s (same normalised value)", same, got, a)
		}
	}
	if maskString(t, id, "310105199003078032", FormatText) == a {
		t.Error("two IDs hash alike")
	}
	mob := mustNew(t, "hash", Options{}, Column{TypeOID: oidVarchar, TypeMod: 24, Class: "cn_mobile"})
	if maskString(t, mob, "13812345678", FormatText) != maskString(t, mob, "+86 138-1234-5678", FormatText) {
		t.Error("mobile normalisation")
	}
	mail := mustNew(t, "hash", Options{}, Column{TypeOID: oidText, TypeMod: -1, Class: "email"})
	if maskString(t, mail, "ZhangSan@163.COM", FormatText) != maskString(t, mail, "zhangsan@163.com", FormatText) {
		t.Error("email normalisation")
	}
	// Another key, another pseudonym.
	k2 := NewStaticKeys([]byte("a different key, also 32 bytes.."), nil)
	id2, err := New("hash", Options{}, Column{TypeOID: oidText, TypeMod: -1, Class: "cn_id"}, k2)
	if err != nil {
		t.Fatal(err)
	}
	if maskString(t, id2, "11010519491231002X", FormatText) == a {
		t.Error("the key does not matter")
	}
	// Same value in int4 and int8 columns: both non-negative, stable.
	for _, oid := range []uint32{oidInt2, oidInt4, oidInt8} {
		m := mustNew(t, "hash", Options{}, typ(oid))
		bits := intBits(oid)
		outT := maskString(t, m, "-12345", FormatText)
		n, ok := parseIntText([]byte(outT), bits)
		if !ok || n < 0 {
			t.Errorf("hash %s = %s", typeName(oid), outT)
		}
		outB := maskBytes(t, m, putInt(nil, -12345, bits), FormatBinary)
		if !bytes.Equal(outB, putInt(nil, n, bits)) {
			t.Errorf("hash %s binary %x, text %s", typeName(oid), outB, outT)
		}
	}
	u := mustNew(t, "hash", Options{}, typ(oidUUID))
	outT := maskString(t, u, "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11", FormatText)
	outT2 := maskString(t, u, "{a0eebc999c0b4ef8bb6d6bb9bd380a11}", FormatText)
	var raw [16]byte
	if !parseUUID(&raw, []byte(outT)) || outT != outT2 || outT[14] != '8' {
		t.Errorf("hash uuid = %s / %s", outT, outT2)
	}
	var in [16]byte
	parseUUID(&in, []byte("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"))
	if outB := maskBytes(t, u, in[:], FormatBinary); !bytes.Equal(outB, raw[:]) {
		t.Errorf("hash uuid binary %x, text %s", outB, outT)
	}
}

func validCNIDCheck(s string) bool {
	c, ok := CNIDCheckChar(s[:17])
	return ok && s[17] == c
}

func isHex(s string) bool {
	_, err := hex.DecodeString(s)
	return err == nil && strings.ToLower(s) == s
}
