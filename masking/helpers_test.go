package masking

import (
	"testing"
	"unicode/utf8"
)

// Test columns.
var (
	colText    = Column{TypeOID: oidText, TypeMod: -1}
	colName    = Column{TypeOID: oidName, TypeMod: -1}
	colBpchar  = Column{TypeOID: oidBpchar, TypeMod: -1}
	colNumeric = Column{TypeOID: oidNumeric, TypeMod: -1}
)

func varchar(n int) Column  { return Column{TypeOID: oidVarchar, TypeMod: int32(n + 4)} }
func bpchar(n int) Column   { return Column{TypeOID: oidBpchar, TypeMod: int32(n + 4)} }
func typ(oid uint32) Column { return Column{TypeOID: oid, TypeMod: -1} }

func intp(n int) *int    { return &n }
func boolp(b bool) *bool { return &b }

var testKeys = NewStaticKeys([]byte("a test key of 32 bytes, not real"), map[string][]byte{
	"salary": []byte("another key for the salary class"),
})

func mustNew(t testing.TB, name string, opts Options, col Column) Masker {
	t.Helper()
	m, err := New(name, opts, col, testKeys)
	if err != nil {
		t.Fatalf("New(%s): %v", name, err)
	}
	return m
}

// maskBytes masks v, failing the test on an error or a NULL.
func maskBytes(t testing.TB, m Masker, v []byte, format int16) []byte {
	t.Helper()
	out, null, err := m.Mask(nil, v, format)
	if err != nil {
		t.Fatalf("Mask: %v", err)
	}
	if null {
		t.Fatal("Mask returned NULL")
	}
	return out
}

func maskString(t testing.TB, m Masker, v string, format int16) string {
	t.Helper()
	return string(maskBytes(t, m, []byte(v), format))
}

// checkTextValue checks out is a valid value of a text-type column.
func checkTextValue(t testing.TB, col Column, out []byte) {
	t.Helper()
	if !utf8.Valid(out) {
		t.Errorf("output %q is not UTF-8", out)
	}
	n := utf8.RuneCount(out)
	switch lim := charLimit(col); {
	case col.TypeOID == oidBpchar && lim > 0 && n != lim:
		t.Errorf("bpchar(%d) output %q has %d characters", lim, out, n)
	case lim > 0 && n > lim:
		t.Errorf("varchar(%d) output %q has %d characters", lim, out, n)
	case col.TypeOID == oidName && len(out) > maxNameBytes:
		t.Errorf("name output has %d bytes", len(out))
	}
	for _, b := range out {
		if b == 0 {
			t.Errorf("output %q holds NUL", out)
		}
	}
}
