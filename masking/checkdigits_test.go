package masking

import "testing"

// The worked examples of ../shared/pii/FORMATS.md.

func TestCNIDCheckChar(t *testing.T) {
	for _, tc := range []struct {
		first17 string
		want    byte
	}{
		{"11010519491231002", 'X'}, // S = 167, 167 mod 11 = 2
		{"31010519900307803", '2'}, // S = 252, 252 mod 11 = 10
	} {
		got, ok := CNIDCheckChar(tc.first17)
		if !ok || got != tc.want {
			t.Errorf("CNIDCheckChar(%s) = %c, %v; want %c", tc.first17, got, ok, tc.want)
		}
		if gotB, _ := CNIDCheckChar([]byte(tc.first17)); gotB != tc.want {
			t.Errorf("CNIDCheckChar([]byte) = %c", gotB)
		}
	}
	for _, bad := range []string{"", "1101051949123100", "110105194912310021", "1101051949123100A"} {
		if _, ok := CNIDCheckChar(bad); ok {
			t.Errorf("CNIDCheckChar(%q) ok", bad)
		}
	}
}

func TestValidCNID(t *testing.T) {
	for _, tc := range []struct {
		id   string
		want bool
	}{
		{"11010519491231002X", true},
		{"310105199003078032", true},
		{"11010519491231002x", false}, // not normalised
		{"110105194912310021", false}, // wrong check
		{"310105199003078033", false},
		{"010105199003078032", false}, // leading 0
		{"310105199002308032", false}, // 30 February (check recomputed below)
		{"31010519900307803", false},
		{"310105170003078032", false}, // year 1700
		{"", false},
	} {
		id := tc.id
		if id == "310105199002308032" || id == "310105170003078032" {
			// give the bad dates a right check character so only the
			// date is wrong
			c, _ := CNIDCheckChar(id[:17])
			id = id[:17] + string(c)
		}
		if got := ValidCNID(id); got != tc.want {
			t.Errorf("ValidCNID(%s) = %v, want %v", id, got, tc.want)
		}
	}
}

func TestLuhn(t *testing.T) {
	if !ValidLuhn("6222021234567894") { // sum 60
		t.Error("6222021234567894 should pass")
	}
	if ValidLuhn("6222021234567890") {
		t.Error("6222021234567890 should fail")
	}
	if d, ok := LuhnCheckDigit("622202123456789"); !ok || d != '4' {
		t.Errorf("LuhnCheckDigit = %c, %v; want 4", d, ok)
	}
	if d, ok := LuhnCheckDigit([]byte("7992739871")); !ok || d != '3' { // the classic example
		t.Errorf("LuhnCheckDigit(7992739871) = %c", d)
	}
	for _, bad := range []string{"", "1", "62220212345678a4"} {
		if ValidLuhn(bad) {
			t.Errorf("ValidLuhn(%q)", bad)
		}
	}
	if _, ok := LuhnCheckDigit("12a"); ok {
		t.Error("LuhnCheckDigit accepted a letter")
	}
}

func TestUSCC(t *testing.T) {
	if c, ok := USCCCheckChar("91350100M000100Y4"); !ok || c != '3' { // Σ = 1640, 31 − 28 = 3
		t.Errorf("USCCCheckChar = %c, %v; want 3", c, ok)
	}
	if !ValidUSCC("91350100M000100Y43") {
		t.Error("91350100M000100Y43 should be valid")
	}
	for _, bad := range []string{"91350100M000100Y44", "91350100M000100Y4", "91350100I000100Y43", "91350100m000100Y43"} {
		if ValidUSCC(bad) {
			t.Errorf("ValidUSCC(%s)", bad)
		}
	}
	// 31 → 0: find a prefix whose sum is a multiple of 31.
	for _, p := range []string{"00000000000000000", "10000000000000000"} {
		c, _ := USCCCheckChar(p)
		if !ValidUSCC(p + string(c)) {
			t.Errorf("check char of %s does not validate", p)
		}
	}
	if c, _ := USCCCheckChar("00000000000000000"); c != '0' {
		t.Errorf("all zeros: check %c, want 0", c)
	}
	if len(usccAlphabet) != 31 {
		t.Fatal("alphabet")
	}
}

// TestIDCheckOfMatchesCNIDCheckChar: the numeral form of the check
// computation agrees with CNIDCheckChar on every check value.
func TestIDCheckOfMatchesCNIDCheckChar(t *testing.T) {
	seen := map[int]bool{}
	for n := range 20000 {
		var xs [17]uint16
		var b [17]byte
		v := uint64(n)*2654435761 + 12345
		for i := range xs {
			xs[i] = uint16(v % 10)
			v = v/10 + uint64(i)*7919 + uint64(n)
			b[i] = '0' + byte(xs[i])
		}
		c, _ := CNIDCheckChar(b[:])
		want := int(c - '0')
		if c == 'X' {
			want = 10
		}
		if got := idCheckOf(xs[:]); got != want {
			t.Fatalf("%s: idCheckOf %d, CNIDCheckChar %c", b, got, c)
		}
		seen[want] = true
	}
	if len(seen) != 11 {
		t.Errorf("only %d of the 11 check values were tried", len(seen))
	}
}
