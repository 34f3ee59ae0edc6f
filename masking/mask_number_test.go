package masking

import (
	"bytes"
	"encoding/hex"
	"math"
	"testing"
)

// numCase is one value through round or band, given and expected in text;
// the binary form is derived with the package's codecs (checked against
// PostgreSQL in numeric_test.go and postgres_test.go).
type numCase struct {
	mask string
	opts Options
	col  Column
	in   string
	want string
}

func runNumCases(t *testing.T, cases []numCase) {
	t.Helper()
	for _, tc := range cases {
		m := mustNew(t, tc.mask, tc.opts, tc.col)
		got := maskString(t, m, tc.in, FormatText)
		if got != tc.want {
			t.Errorf("%s %+v %s(%s) text = %s, want %s", tc.mask, tc.opts, typeName(tc.col.TypeOID), tc.in, got, tc.want)
		}
		in, want := encodeBinary(t, tc.col, tc.in), encodeBinary(t, tc.col, tc.want)
		if gotB := maskBytes(t, m, in, FormatBinary); !bytes.Equal(gotB, want) {
			t.Errorf("%s %+v %s(%s) binary = %x, want %x (%s)", tc.mask, tc.opts, typeName(tc.col.TypeOID), tc.in, gotB, want, tc.want)
		}
	}
}

// encodeBinary converts a text value of a number or date type to binary.
func encodeBinary(t *testing.T, col Column, text string) []byte {
	t.Helper()
	oid := col.TypeOID
	switch {
	case isIntType(oid):
		n, ok := parseIntText([]byte(text), intBits(oid))
		if !ok {
			t.Fatalf("bad int %s", text)
		}
		return putInt(nil, n, intBits(oid))
	case oid == oidFloat4 || oid == oidFloat8:
		bits := 64
		if oid == oidFloat4 {
			bits = 32
		}
		f, ok := parseFloatText([]byte(text), bits)
		if !ok {
			t.Fatalf("bad float %s", text)
		}
		return putFloat(nil, f, bits)
	case oid == oidNumeric:
		d, _, ok := parseNumericText([]byte(text), nil)
		if !ok {
			t.Fatalf("bad numeric %s", text)
		}
		return appendNumericBinary(nil, d)
	}
	t.Fatalf("no binary encoder for %s", typeName(oid))
	return nil
}

func numeric(p, s int) Column {
	return Column{TypeOID: oidNumeric, TypeMod: int32(p<<16|(s&0x7ff)) + 4}
}

func TestRound(t *testing.T) {
	k := Options{To: 1000}
	runNumCases(t, []numCase{
		{"round", k, typ(oidInt4), "12345", "12000"},
		{"round", k, typ(oidInt4), "12500", "13000"}, // halves away from zero
		{"round", k, typ(oidInt4), "-12500", "-13000"},
		{"round", k, typ(oidInt4), "-12499", "-12000"},
		{"round", k, typ(oidInt4), "0", "0"},
		{"round", k, typ(oidInt2), "32767", "32000"}, // 33000 does not fit: towards zero
		{"round", k, typ(oidInt2), "-32768", "-32000"},
		{"round", k, typ(oidInt8), "9223372036854775807", "9223372036854775000"},
		{"round", Options{To: 250}, typ(oidInt8), "1126", "1250"},
		{"round", k, colNumeric, "12345.678", "12000"},
		{"round", k, colNumeric, "-12345.678", "-12000"},
		{"round", k, colNumeric, "500", "1000"},
		{"round", k, colNumeric, "499.9999", "0"},
		{"round", k, colNumeric, "NaN", "NaN"},
		{"round", k, colNumeric, "Infinity", "Infinity"},
		{"round", k, colNumeric, "-Infinity", "-Infinity"},
		{"round", k, colNumeric, "1e30", "1000000000000000000000000000000"},
		{"round", Options{To: 0.05}, colNumeric, "12.3456", "12.35"},
		{"round", Options{To: 0.05}, colNumeric, "12.324", "12.30"},
		{"round", Options{To: 0.05}, colNumeric, "12", "12.00"},
		{"round", k, numeric(10, 2), "12345.67", "12000.00"},
		{"round", k, numeric(6, 2), "9999.99", "9000.00"}, // 10000.00 does not fit numeric(6,2)
		{"round", k, numeric(6, 2), "-9500.00", "-9000.00"},
		{"round", Options{To: 0.001}, numeric(10, 2), "1.23", "1.23"},
		{"round", Options{To: 50}, numeric(8, -2), "1200", "1200"},
		{"round", Options{To: 0.5}, typ(oidFloat8), "2.25", "2.5"},
		{"round", Options{To: 0.1}, typ(oidFloat8), "0.35", "0.4"},
		{"round", k, typ(oidFloat8), "12345.678", "12000"},
		{"round", k, typ(oidFloat8), "-0.1", "0"}, // never -0
		{"round", k, typ(oidFloat8), "NaN", "NaN"},
		{"round", k, typ(oidFloat8), "-Infinity", "-Infinity"},
		{"round", k, typ(oidFloat8), "1e+300", "1e+300"},
		{"round", Options{To: 0.001}, typ(oidFloat8), "1e+308", "1e+308"}, // f/to overflows
		{"round", Options{To: 0.001}, typ(oidFloat8), "-1.7976931348623157e+308", "-1.7976931348623157e+308"},
		{"round", k, typ(oidFloat4), "123456.7", "123000"},
		{"round", k, typ(oidFloat4), "3.4028235e+38", "3.4028235e+38"},
	})
}

func TestBand(t *testing.T) {
	w := Options{Width: 10000}
	runNumCases(t, []numCase{
		{"band", w, typ(oidInt4), "12345", "10000"},
		{"band", w, typ(oidInt4), "20000", "20000"},
		{"band", w, typ(oidInt4), "19999", "10000"},
		{"band", w, typ(oidInt4), "-1", "-10000"},
		{"band", w, typ(oidInt4), "-10000", "-10000"},
		{"band", w, typ(oidInt2), "-32768", "-30000"}, // -40000 does not fit: towards zero
		{"band", w, typ(oidInt8), "-9223372036854775808", "-9223372036854770000"},
		{"band", w, colNumeric, "12345.67", "10000"},
		{"band", w, colNumeric, "-0.01", "-10000"},
		{"band", w, colNumeric, "NaN", "NaN"},
		{"band", w, numeric(10, 2), "12345.67", "10000.00"},
		{"band", Options{Width: 0.25}, colNumeric, "1.3", "1.25"},
		{"band", w, typ(oidFloat8), "12345.67", "10000"},
		{"band", w, typ(oidFloat8), "-5", "-10000"},
		{"band", w, typ(oidFloat4), "15000", "10000"},
	})
}

func TestNumberMaskErrors(t *testing.T) {
	m := mustNew(t, "round", Options{To: 1000}, colNumeric)
	for _, bad := range []string{"", "12a", "1e", "--1", "1.2.3", "0x10", "1e999999"} {
		if _, _, err := m.Mask(nil, []byte(bad), FormatText); err == nil {
			t.Errorf("round numeric accepted %q", bad)
		}
	}
	for _, bad := range []string{"", "0001", "000100000000000000", "00010000500000000001", "0001000000004000" + "2710"} {
		v, _ := hex.DecodeString(bad)
		if _, _, err := m.Mask(nil, v, FormatBinary); err == nil {
			t.Errorf("round numeric accepted binary %s", bad)
		}
	}
	mi := mustNew(t, "round", Options{To: 1000}, typ(oidInt2))
	for _, bad := range []string{"", "32768", "-32769", "1.5", "12 3"} {
		if _, _, err := mi.Mask(nil, []byte(bad), FormatText); err == nil {
			t.Errorf("round int2 accepted %q", bad)
		}
	}
	if _, _, err := mi.Mask(nil, []byte{1, 2, 3}, FormatBinary); err == nil {
		t.Error("round int2 accepted 3 bytes")
	}
	if _, _, err := mi.Mask(nil, []byte("1"), 2); err == nil {
		t.Error("format 2 accepted")
	}
	mf := mustNew(t, "round", Options{To: 1000}, typ(oidFloat8))
	if _, _, err := mf.Mask(nil, []byte("abc"), FormatText); err == nil {
		t.Error("round float8 accepted abc")
	}
}

func TestFloatText(t *testing.T) {
	// PostgreSQL 15's float8out/float4out with extra_float_digits = 1,
	// recorded with psql; postgres_test.go compares many more live.
	for _, tc := range []struct {
		f    float64
		bits int
		want string
	}{
		{1e6, 64, "1000000"}, {123456, 64, "123456"}, {1e15, 64, "1e+15"}, {1e14, 64, "100000000000000"},
		{123456789012345678, 64, "1.2345678901234568e+17"}, {0.0001, 64, "0.0001"}, {0.00001, 64, "1e-05"},
		{1.5, 64, "1.5"}, {100, 64, "100"}, {1e21, 64, "1e+21"}, {0, 64, "0"}, {math.Copysign(0, -1), 64, "-0"},
		{-2.5, 64, "-2.5"}, {math.Inf(1), 64, "Infinity"}, {math.Inf(-1), 64, "-Infinity"}, {math.NaN(), 64, "NaN"},
		{1e6, 32, "1e+06"}, {123456, 32, "123456"}, {1e5, 32, "100000"}, {1234567, 32, "1.234567e+06"},
		{0.0001, 32, "0.0001"}, {float64(float32(0.00001)), 32, "1e-05"}, {1.5, 32, "1.5"}, {1e21, 32, "1e+21"},
		// Ties: strconv's shortest would be halfway to a neighbour.
		{64158280291520144, 64, "6.4158280291520144e+16"}, {64158280291520176, 64, "6.4158280291520176e+16"},
		{83886096, 32, "8.3886096e+07"}, {83886304, 32, "8.3886304e+07"}, {128400416, 32, "1.28400416e+08"},
	} {
		if got := string(appendFloatText(nil, tc.f, tc.bits)); got != tc.want {
			t.Errorf("float%d %v = %s, want %s", tc.bits/8, tc.f, got, tc.want)
		}
	}
}

func TestStepOf(t *testing.T) {
	for _, tc := range []struct {
		f float64
		s step
	}{{1000, step{1, 3}}, {0.05, step{5, -2}}, {250, step{25, 1}}, {1, step{1, 0}}, {0.1, step{1, -1}}, {12345.5, step{123455, -1}}} {
		if got, ok := stepOf(tc.f); !ok || got != tc.s {
			t.Errorf("stepOf(%v) = %+v", tc.f, got)
		}
	}
	if _, err := New("round", Options{To: 1 << 63}, typ(oidInt8), nil); err == nil {
		t.Error("to: 2^63 accepted for int8")
	}
	if _, err := New("round", Options{To: 9e18}, typ(oidInt8), nil); err != nil {
		t.Error(err)
	}
	for _, bad := range []float64{0, -1, math.NaN(), math.Inf(1)} {
		if _, ok := stepOf(bad); ok {
			t.Errorf("stepOf(%v) ok", bad)
		}
	}
}
