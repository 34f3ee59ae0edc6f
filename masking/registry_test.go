package masking

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
)

func TestNames(t *testing.T) {
	want := []string{"address", "band", "bank_card", "cn_id", "cn_mobile", "cn_name", "email", "generalize", "hash", "null", "partial", "redact", "round", "tokenize", "uscc"}
	if got := Names(); !slices.Equal(got, want) {
		t.Errorf("Names() = %v", got)
	}
	if Accepts("null") != nil || Accepts("nope") != nil {
		t.Error("Accepts(null) and Accepts(unknown) should be nil")
	}
	if got := Accepts("generalize"); !slices.Equal(got, []uint32{1082, 1114, 1184}) {
		t.Errorf("Accepts(generalize) = %v", got)
	}
	a := Accepts("partial")
	a[0] = 0 // a copy
	if Accepts("partial")[0] != oidText {
		t.Error("Accepts returns the registry's slice")
	}
}

// TestAcceptsMeansNew: New succeeds for every accepted type (with valid
// options) and fails with a *TypeError for every other known type.
func TestAcceptsMeansNew(t *testing.T) {
	valid := map[string]Options{"round": {To: 10}, "band": {Width: 10}}
	var all []uint32
	for oid := range typeNames {
		all = append(all, oid)
	}
	all = append(all, 1000, 3904) // _bool, int4range: unknown to the package
	for _, name := range Names() {
		for _, oid := range all {
			_, err := New(name, valid[name], Column{TypeOID: oid, TypeMod: -1, Class: "c"}, testKeys)
			accepted := Accepts(name) == nil || slices.Contains(Accepts(name), oid)
			var te *TypeError
			switch {
			case accepted && err != nil:
				t.Errorf("New(%s, %s): %v", name, typeName(oid), err)
			case !accepted && !errors.As(err, &te):
				t.Errorf("New(%s, %s) = %v, want a *TypeError", name, typeName(oid), err)
			case !accepted && (te.Mask != name || te.TypeOID != oid || !strings.Contains(err.Error(), typeName(oid)) || !strings.Contains(err.Error(), name)):
				t.Errorf("TypeError %v", err)
			}
		}
	}
	_, err := New("cn_id", Options{}, typ(oidInt8), nil)
	if got := fmt.Sprint(err); got != `masking: mask "cn_id" does not accept column type int8 (it accepts text, varchar, bpchar, name)` {
		t.Errorf("message: %s", got)
	}
}

func TestOptionErrors(t *testing.T) {
	for _, tc := range []struct {
		mask   string
		opts   Options
		col    Column
		option string
	}{
		{"nope", Options{}, colText, "mask"},
		{"partial", Options{To: 5}, colText, "to"},
		{"partial", Options{KeepFirst: intp(-1)}, colText, "keep_first"},
		{"partial", Options{KeepLast: intp(101)}, colText, "keep_last"},
		{"partial", Options{Fill: "**"}, colText, "fill"},
		{"partial", Options{Fill: "1"}, colText, "fill"},
		{"partial", Options{Fill: " "}, colText, "fill"},
		{"partial", Options{Fill: "\x00"}, colText, "fill"},
		{"partial", Options{Fill: "\xff"}, colText, "fill"},
		{"cn_id", Options{KeepFirst: intp(6), KeepLast: intp(5)}, colText, "keep_last"},
		{"cn_id", Options{KeepSurname: boolp(true)}, colText, "keep_surname"},
		{"cn_mobile", Options{KeepFirst: intp(4), KeepLast: intp(4)}, colText, "keep_last"},
		{"bank_card", Options{KeepFirst: intp(8)}, colText, "keep_first"},
		{"bank_card", Options{KeepLast: intp(5)}, colText, "keep_last"},
		{"uscc", Options{KeepFirst: intp(9), KeepLast: intp(1)}, colText, "keep_last"},
		{"address", Options{Level: "street"}, colText, "level"},
		{"address", Options{Width: 3}, colText, "width"},
		{"cn_name", Options{KeepFirst: intp(1)}, colText, "keep_first"},
		{"email", Options{Level: "city"}, colText, "level"},
		{"generalize", Options{Unit: "week"}, typ(oidDate), "unit"},
		{"generalize", Options{Unit: "day"}, typ(oidDate), "unit"},
		{"round", Options{}, typ(oidInt4), "to"},
		{"round", Options{To: -5}, typ(oidInt4), "to"},
		{"round", Options{To: 0.5}, typ(oidInt4), "to"},
		{"round", Options{To: 100000}, typ(oidInt2), "to"},
		{"round", Options{To: 1e40}, colNumeric, "to"},
		{"round", Options{Width: 10}, colNumeric, "width"},
		{"band", Options{}, colText, "width"},
		{"band", Options{}, typ(oidFloat8), "width"},
		{"band", Options{To: 5, Width: 5}, typ(oidFloat8), "to"},
		{"redact", Options{Value: "x"}, typ(oidInt4), "value"},
		{"redact", Options{Value: "a\x00b"}, colText, "value"},
		{"redact", Options{Fill: "#"}, colText, "fill"},
		{"null", Options{Value: "x"}, colText, "value"},
		{"hash", Options{Fill: "#"}, colText, "fill"},
	} {
		_, err := New(tc.mask, tc.opts, tc.col, testKeys)
		var oe *OptionError
		if !errors.As(err, &oe) || oe.Option != tc.option || oe.Mask != tc.mask {
			t.Errorf("New(%s, %+v) = %v, want an *OptionError for %s", tc.mask, tc.opts, err, tc.option)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, tc.mask) || !strings.Contains(msg, tc.option) {
			t.Errorf("message %q does not name the mask and option", msg)
		}
	}
}

func TestHashKeys(t *testing.T) {
	col := Column{TypeOID: oidText, TypeMod: -1, Class: "cn_id"}
	var ke *KeyError
	if _, err := New("hash", Options{}, col, nil); !errors.As(err, &ke) {
		t.Errorf("nil KeySource: %v", err)
	}
	if _, err := New("hash", Options{}, col, NewStaticKeys(nil, nil)); !errors.As(err, &ke) || !errors.Is(err, errNoKey) || ke.Class != "cn_id" {
		t.Errorf("no key: %v", err)
	}
	if _, err := New("hash", Options{}, col, NewStaticKeys([]byte("short"), nil)); !errors.Is(err, errShortKey) {
		t.Errorf("short key: %v", err)
	}
	// Other masks need no keys.
	if _, err := New("partial", Options{}, col, nil); err != nil {
		t.Error(err)
	}
	// Per-class keys win over the default.
	k := NewStaticKeys([]byte("default"), map[string][]byte{"salary": []byte("salary")})
	if key, _ := k.HashKey("salary"); string(key) != "salary" {
		t.Error("per-class key")
	}
	if key, _ := k.HashKey("other"); string(key) != "default" {
		t.Error("default key")
	}
	key, _ := k.HashKey("salary")
	key[0] = 'X'
	if again, _ := k.HashKey("salary"); string(again) != "salary" {
		t.Error("HashKey returns the stored slice")
	}
}

// TestStaticKeysNeverPrintKeys: no fmt verb, slog handler or GoString
// shows a key.
func TestStaticKeysNeverPrintKeys(t *testing.T) {
	secret := []byte("SECRET-KEY-0123456789")
	k := NewStaticKeys(secret, map[string][]byte{"cn_id": secret})
	forms := []string{k.String(), k.GoString()}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%o", "%b", "%T %v"} {
		forms = append(forms, fmt.Sprintf(verb, k), fmt.Sprintf(verb, *k))
	}
	var b strings.Builder
	slog.New(slog.NewTextHandler(&b, nil)).Info("keys", "k", k, "kv", *k)
	slog.New(slog.NewJSONHandler(&b, nil)).Info("keys", "k", k)
	forms = append(forms, b.String())
	for _, s := range forms {
		lower := strings.ToLower(s)
		for _, leak := range []string{"secret", fmt.Sprintf("%x", secret), fmt.Sprint(secret[:4])} {
			if strings.Contains(lower, strings.ToLower(leak)) {
				t.Errorf("key printed: %s", s)
			}
		}
	}
	if !strings.Contains(k.String(), "cn_id") {
		t.Errorf("String should name the classes: %s", k)
	}
}

// TestErrorsNeverHoldValues: whatever a mask cannot decode, the error
// names the mask, type and format, never the value.
func TestErrorsNeverHoldValues(t *testing.T) {
	secrets := []string{"13812345678", "310105199003078032", "6222021234567894", "张三丰", "12345.678"}
	for _, name := range Names() {
		for _, oid := range Accepts(name) {
			m, err := New(name, map[string]Options{"round": {To: 10}, "band": {Width: 10}}[name], Column{TypeOID: oid, TypeMod: -1, Class: "cn_id"}, testKeys)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range secrets {
				for _, v := range [][]byte{[]byte("x" + s + "\xff"), []byte(s + " garbage " + s), append([]byte(s), 0xC0)} {
					for _, format := range []int16{FormatText, FormatBinary, 7} {
						_, _, err := m.Mask(nil, v, format)
						if err == nil {
							continue
						}
						var ve *ValueError
						if !errors.As(err, &ve) {
							t.Errorf("%s %s: error %T is not a *ValueError", name, typeName(oid), err)
						}
						msg := err.Error() + fmt.Sprintf("%+v %#v", err, err)
						for _, leak := range []string{s, s[:4], "garbage"} {
							if strings.Contains(msg, leak) {
								t.Errorf("%s %s: error %q contains input", name, typeName(oid), msg)
							}
						}
					}
				}
			}
		}
	}
}

func TestMaskReusesDst(t *testing.T) {
	m := mustNew(t, "cn_id", Options{}, colText)
	dst := make([]byte, 0, 64)
	out := maskBytes(t, m, []byte("310105199003078032"), FormatText)
	out2, _, _ := m.Mask(dst[:5], []byte("310105199003078032"), FormatText)
	if string(out2) != string(out) || &out2[0] != &dst[:1][0] {
		t.Errorf("Mask did not write into dst[:0]: %q", out2)
	}
}
