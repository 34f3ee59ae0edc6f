package masking

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

func tokenizerFor(t testing.TB, class string, keyByte byte, opts Options) *Tokenizer {
	t.Helper()
	key := make([]byte, 32)
	for i := range key {
		key[i] = keyByte + byte(i)
	}
	tk, err := NewTokenizer(class, opts, NewStaticKeys(key, nil))
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

func tok(t testing.TB, tk *Tokenizer, v string) string {
	t.Helper()
	out, err := tk.Token(nil, []byte(v))
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	return string(out)
}

func detok(t testing.TB, tk *Tokenizer, v string) string {
	t.Helper()
	out, err := tk.Detokenize(nil, []byte(v))
	if err != nil {
		t.Fatalf("Detokenize: %v", err)
	}
	return string(out)
}

// randomID returns a valid resident ID number.
func randomID(rng *rand.Rand) string {
	b := []byte(fmt.Sprintf("%d%05d%04d%02d%02d%03d", 1+rng.IntN(9), rng.IntN(100000), 1900+rng.IntN(120), 1+rng.IntN(12), 1+rng.IntN(28), rng.IntN(1000)))
	c, _ := CNIDCheckChar(b)
	return string(append(b, c))
}

func randomCard(rng *rand.Rand, n int) string {
	b := []byte("622202")
	for len(b) < n-1 {
		b = append(b, '0'+byte(rng.IntN(10)))
	}
	d, _ := LuhnCheckDigit(b)
	return string(append(b, d))
}

// TestTokenFormats: each class's token keeps what FORMATS.md promises and
// reverses to the value.
func TestTokenFormats(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	id := tokenizerFor(t, "cn_id", 1, Options{})
	card := tokenizerFor(t, "bank_card", 1, Options{})
	mob := tokenizerFor(t, "cn_mobile", 1, Options{})
	uscc := tokenizerFor(t, "uscc", 1, Options{})
	seen := map[string]string{}
	for range 2000 {
		v := randomID(rng)
		tk := tok(t, id, v)
		if len(tk) != 18 || tk[0] == '0' || !ValidCNID(tk) {
			t.Fatalf("cn_id token %q of a valid ID is not a valid ID", tk)
		}
		if tk == v {
			t.Fatalf("cn_id token equals the value")
		}
		if back := detok(t, id, tk); back != v {
			t.Fatalf("cn_id: %q -> %q -> %q", v, tk, back)
		}
		if prev, dup := seen[tk]; dup && prev != v {
			t.Fatalf("two IDs share token %q", tk)
		}
		seen[tk] = v

		for _, n := range []int{16, 19} {
			c := randomCard(rng, n)
			ct := tok(t, card, c)
			if len(ct) != n || ct[:6] != c[:6] || !ValidLuhn(ct) {
				t.Fatalf("card token %q of %d-digit card keeps BIN %v, Luhn %v", ct, n, ct[:6] == c[:6], ValidLuhn(ct))
			}
			if back := detok(t, card, ct); back != c {
				t.Fatalf("card round trip: %q -> %q", ct, back)
			}
		}

		m := fmt.Sprintf("1%d%09d", 3+rng.IntN(7), rng.IntN(1e9))
		mt := tok(t, mob, m)
		if len(mt) != 11 || mt[:2] != m[:2] || mt == m {
			t.Fatalf("mobile token %q of %q", mt, m)
		}
		if back := detok(t, mob, mt); back != m {
			t.Fatalf("mobile round trip")
		}
	}
	// layout and prefixes kept
	for _, v := range []string{"+86 138-1234-5678", "0086 13812345678", "138 1234 5678"} {
		mt := tok(t, mob, v)
		if len(mt) != len(v) || mt[:len(v)-9] == v[:len(v)-9] && strings.Count(mt, " ") != strings.Count(v, " ") {
			t.Fatalf("mobile layout %q -> %q", v, mt)
		}
		if !strings.HasPrefix(mt, v[:len(v)-12]) {
			t.Fatalf("mobile prefix lost: %q -> %q", v, mt)
		}
		if back := detok(t, mob, mt); back != v {
			t.Fatalf("mobile round trip %q -> %q -> %q", v, mt, back)
		}
	}
	for _, v := range []string{"91350100M000100Y43", "91310000MA1FL4XQ3B", "12100000400000624D"} {
		ut := tok(t, uscc, v)
		if ValidUSCC(ut) != ValidUSCC(v) || len(ut) != 18 || ut == v {
			t.Fatalf("uscc token %q of %q (valid %v -> %v)", ut, v, ValidUSCC(v), ValidUSCC(ut))
		}
		if back := detok(t, uscc, ut); back != v {
			t.Fatalf("uscc round trip %q -> %q -> %q", v, ut, back)
		}
	}
}

// TestTokenInvalidCheckStaysInvalid: a mistyped ID or card keeps its
// mistake (the offset from the valid check), so detokenizing restores it.
func TestTokenInvalidCheckStaysInvalid(t *testing.T) {
	id := tokenizerFor(t, "cn_id", 2, Options{})
	v := "310105199003078031" // valid is ...2
	tk := tok(t, id, v)
	if ValidCNID(tk) {
		t.Fatalf("token of an invalid ID is valid")
	}
	if detok(t, id, tk) != v {
		t.Fatal("invalid ID does not round-trip")
	}
	for _, v := range []string{"110105194913310021", "110105179901010012", "999999210012310013"} {
		tk := tok(t, id, v)
		if _, real := idNumber(digitsOf(tk[:17])); real || tk[0] == '0' || detok(t, id, tk) != v {
			t.Fatalf("ID with an unreal date %q -> %q", v, tk)
		}
	}
	lower := tok(t, id, "11010519491231002x")
	if lower != tok(t, id, "11010519491231002X") {
		t.Fatal("lower-case x not normalised")
	}
	card := tokenizerFor(t, "bank_card", 2, Options{})
	ct := tok(t, card, "6222021234567890")
	if ValidLuhn(ct) || detok(t, card, ct) != "6222021234567890" {
		t.Fatal("invalid card token")
	}
}

// TestTokenGeneric: other values keep categories and separators.
func TestTokenGeneric(t *testing.T) {
	g := tokenizerFor(t, "email", 3, Options{})
	for _, v := range []string{
		"zhang.san@163.com", "Li_Si-2024@Example.CN", "上海市浦东新区张杨路500号3楼", "ABC-123-XYZ-789",
		"0123456789", "鑫", "12345", "浦东新区", "沪A·12345", "  padded   ",
	} {
		tk := tok(t, g, v)
		if utf8.RuneCountInString(tk) != utf8.RuneCountInString(v) {
			t.Fatalf("%q -> %q: length changed", v, tk)
		}
		vr, tr := []rune(v), []rune(tk)
		changed := false
		for i := range vr {
			cv, _ := classify(vr[i])
			ct, _ := classify(tr[i])
			if cv != ct {
				t.Fatalf("%q -> %q: position %d changed category", v, tk, i)
			}
			if cv == catSep && vr[i] != tr[i] {
				t.Fatalf("%q -> %q: separator changed", v, tk)
			}
			changed = changed || vr[i] != tr[i]
		}
		sig := 0
		for _, r := range vr {
			if c, _ := classify(r); c != catSep {
				sig++
			}
		}
		if sig > 0 && !changed && sig > 2 {
			t.Fatalf("%q: token equals the value", v)
		}
		back, err := g.Detokenize(nil, []byte(tk))
		tg, dg := tokenizerFor(t, "email", 3, Options{}), g
		_ = tg
		switch {
		case err == ErrIrreversible:
			// only values below FF1's domain minimum
			if _, _, small := dg.domain(loadFor(dg, v)); !small {
				t.Fatalf("%q: irreversible but domain is large", v)
			}
		case err != nil:
			t.Fatal(err)
		case string(back) != v:
			t.Fatalf("%q -> %q -> %q", v, tk, back)
		}
	}
}

func digitsOf(s string) []uint16 {
	xs := make([]uint16, len(s))
	for i := range s {
		xs[i] = uint16(s[i] - '0')
	}
	return xs
}

func loadFor(tk *Tokenizer, v string) *tokState {
	st := &tokState{}
	st.load([]byte(v), tk.class)
	return st
}

// TestTokenBijection: every string of a class's shape is the token of
// exactly one value (Token(Detokenize(x)) == x), so a guessed real value
// searched as a token finds a different value.
func TestTokenBijection(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, class := range []string{"cn_id", "bank_card", "cn_mobile", "uscc", "other"} {
		tk := tokenizerFor(t, class, 4, Options{})
		for range 300 {
			var x string
			switch class {
			case "cn_id":
				x = randomID(rng)
			case "bank_card":
				x = randomCard(rng, 16)
			case "cn_mobile":
				x = fmt.Sprintf("1%d%09d", 3+rng.IntN(7), rng.IntN(1e9))
			default:
				x = fmt.Sprintf("%d-%06d-%c", rng.IntN(1000), rng.IntN(1e6), 'A'+rng.IntN(26))
			}
			if class == "uscc" {
				x = "9131" + fmt.Sprintf("%014d", rng.Int64N(1e14))
			}
			v := detok(t, tk, x)
			if v == x {
				t.Fatalf("%s: %q detokenizes to itself", class, x)
			}
			if back := tok(t, tk, v); back != x {
				t.Fatalf("%s: Token(Detokenize(%q)) = %q", class, x, back)
			}
		}
	}
}

// TestTokenKeysAndClasses: another key or class gives other tokens; the
// same key and class the same token (joins across tables).
func TestTokenKeysAndClasses(t *testing.T) {
	v := "310105199003078032"
	a := tok(t, tokenizerFor(t, "cn_id", 5, Options{}), v)
	if a != tok(t, tokenizerFor(t, "cn_id", 5, Options{}), v) {
		t.Fatal("not deterministic")
	}
	if a == tok(t, tokenizerFor(t, "cn_id", 6, Options{}), v) {
		t.Fatal("key ignored")
	}
	k := make([]byte, 32)
	keys := NewStaticKeys(nil, map[string][]byte{"cn_id": k, "other_id": append([]byte{1}, k[1:]...)})
	t1, _ := NewTokenizer("cn_id", Options{}, keys)
	t2, _ := NewTokenizer("other_id", Options{}, keys)
	x1, _ := t1.Token(nil, []byte(v))
	x2, _ := t2.Token(nil, []byte(v))
	if string(x1) == string(x2) {
		t.Fatal("class keys ignored")
	}
}

// TestTokenNames: pseudonyms from the name list, surname kept or not,
// deterministic, one-way.
func TestTokenNames(t *testing.T) {
	keep := tokenizerFor(t, "person_name", 7, Options{})
	f := false
	drop := tokenizerFor(t, "person_name", 7, Options{KeepSurname: &f})
	for _, v := range []string{"张伟", "王秀英", "欧阳娜娜", "李四"} {
		k := tok(t, keep, v)
		d := tok(t, drop, v)
		if utf8.RuneCountInString(k) != utf8.RuneCountInString(v) || utf8.RuneCountInString(d) != utf8.RuneCountInString(v) {
			t.Fatalf("%q -> %q / %q: length changed", v, k, d)
		}
		vr, kr := []rune(v), []rune(k)
		if kr[0] != vr[0] {
			t.Fatalf("%q -> %q: surname not kept", v, k)
		}
		if strings.HasPrefix(v, "欧阳") && kr[1] != '阳' {
			t.Fatalf("compound surname not kept: %q", k)
		}
		if k == v || tok(t, keep, v) != k {
			t.Fatalf("%q -> %q: not a deterministic pseudonym", v, k)
		}
		if !strings.ContainsRune(string(commonSurnames), []rune(d)[0]) {
			t.Fatalf("%q -> %q: surname not from the list", v, d)
		}
		if _, err := keep.Detokenize(nil, []byte(k)); err != ErrIrreversible {
			t.Fatalf("name detokenized: %v", err)
		}
	}
	if keep.Reversible() || !tokenizerFor(t, "cn_id", 1, Options{}).Reversible() {
		t.Fatal("Reversible wrong")
	}
}

// TestTokenMask: the tokenize mask in both formats, and its errors carry
// no value.
func TestTokenMask(t *testing.T) {
	keys := NewStaticKeys(make([]byte, 32), nil)
	m, err := New("tokenize", Options{}, Column{TypeOID: oidVarchar, TypeMod: 22, Class: "cn_id"}, keys)
	if err != nil {
		t.Fatal(err)
	}
	v := []byte("310105199003078032")
	a, _, err := m.Mask(nil, v, FormatText)
	b, _, err2 := m.Mask(nil, v, FormatBinary)
	if err != nil || err2 != nil || string(a) != string(b) || !ValidCNID(a) {
		t.Fatalf("text %q binary %q: %v %v", a, b, err, err2)
	}
	_, _, err = m.Mask(nil, []byte{0xff, '3', '1'}, FormatText)
	if err == nil || strings.Contains(err.Error(), "31") {
		t.Fatalf("invalid UTF-8: %v", err)
	}
	if _, err := New("tokenize", Options{}, Column{TypeOID: oidInt4, TypeMod: -1, Class: "cn_id"}, keys); err == nil {
		t.Fatal("tokenize accepted int4")
	}
	if _, err := New("tokenize", Options{}, Column{TypeOID: oidText, TypeMod: -1, Class: "x"}, nil); err == nil {
		t.Fatal("tokenize without keys")
	}
	if s := fmt.Sprintf("%v %+v %#v", m, m, m.(*tokenMask).t); strings.Contains(s, "\x00\x00\x00") {
		t.Fatalf("printed key: %s", s)
	}
}

func FuzzTokenRoundTrip(f *testing.F) {
	for _, s := range []string{"310105199003078032", "6222021234567894", "+86 13812345678", "91350100M000100Y43", "上海市浦东新区张杨路500号", "a-b-c-1234567", "张伟"} {
		for _, c := range []string{"cn_id", "bank_card", "cn_mobile", "uscc", "address", "person_name"} {
			f.Add(c, s)
		}
	}
	toks := map[string]*Tokenizer{}
	f.Fuzz(func(t *testing.T, class, v string) {
		if len(v) > 200 {
			return
		}
		tk := toks[class]
		if tk == nil {
			tk = tokenizerFor(t, class, 9, Options{})
			toks[class] = tk
		}
		out, err := tk.Token(nil, []byte(v))
		if !utf8.ValidString(v) {
			if err == nil {
				t.Fatal("invalid UTF-8 accepted")
			}
			return
		}
		if err != nil {
			t.Fatalf("Token: %v", err)
		}
		if utf8.RuneCount(out) != utf8.RuneCountInString(v) {
			t.Fatalf("length changed")
		}
		back, err := tk.Detokenize(nil, out)
		if err == ErrIrreversible {
			return
		}
		if err != nil {
			t.Fatalf("Detokenize: %v", err)
		}
		// the round trip gives the normalised value, except for values
		// with characters outside the alphabets: a one-way substitute
		norm := loadFor(tk, v)
		if norm.foreign {
			if string(back) == string(norm.runes) {
				t.Fatalf("a one-way token reversed")
			}
			return
		}
		if string(back) != string(norm.runes) {
			t.Fatalf("round trip changed the value")
		}
	})
}

// TestTokenCache: cached tokens equal computed ones, through evictions
// and concurrent use (run under -race).
func TestTokenCache(t *testing.T) {
	tk := tokenizerFor(t, "cn_id", 11, Options{})
	rng := rand.New(rand.NewPCG(12, 13))
	values := make([]string, 3000)
	for i := range values {
		values[i] = randomID(rng)
	}
	done := make(chan string, 4)
	for g := range 4 {
		go func() {
			for k := range 20000 {
				v := values[(k*7+g*13)%len(values)]
				got, err := tk.Token(nil, []byte(v))
				want, err2 := tk.run(nil, []byte(v), true)
				if err != nil || err2 != nil || string(got) != string(want) {
					done <- fmt.Sprintf("cached token of value %d differs", k)
					return
				}
			}
			done <- ""
		}()
	}
	for range 4 {
		if msg := <-done; msg != "" {
			t.Fatal(msg)
		}
	}
	// far more values than slots: still correct
	for range 70000 {
		v := randomID(rng)
		got, _ := tk.Token(nil, []byte(v))
		if back := detok(t, tk, string(got)); back != v {
			t.Fatal("token from a thrashed cache does not reverse")
		}
	}
}

// TestASCIIIDSameAsCharacters: the ASCII fast path for ID numbers gives
// exactly the token (and the detokenized value, and the error) that the
// character path gives, for valid IDs, wrong check characters, a
// lower-case x, unreal dates, and 18-character strings the fast path must
// leave alone (a leading zero, a letter inside, a full-width digit, a
// separator, 17 or 19 characters).
func TestASCIIIDSameAsCharacters(t *testing.T) {
	tk := tokenizerFor(t, "cn_id", 21, Options{})
	rng := rand.New(rand.NewPCG(21, 22))
	inputs := []string{"000000000000000000", "110101200002301234", "11010119900101123x", "1101011990010112AB", "11010119900101123", "1101011990010112345", "110101-19900101123", "１10101199001011234"}
	for range 20000 {
		id := []byte(randomID(rng))
		switch rng.IntN(6) {
		case 0: // any check character
			id[17] = "0123456789Xx"[rng.IntN(12)]
		case 1: // any digits at all: mostly unreal dates
			for i := range id[:17] {
				id[i] = byte('0' + rng.IntN(10))
			}
		case 2: // a stray character somewhere
			id[rng.IntN(18)] = "A-x /"[rng.IntN(5)]
		}
		inputs = append(inputs, string(id))
	}
	fast := 0
	for _, v := range inputs {
		for _, enc := range []bool{true, false} {
			want, wantErr := tk.runChars(nil, []byte(v), enc)
			got, ok, err := tk.asciiID(nil, []byte(v), enc)
			if !ok {
				continue
			}
			fast++
			if string(got) != string(want) || (err == nil) != (wantErr == nil) {
				t.Fatalf("enc=%v: fast path %q (%v), character path %q (%v)", enc, got, err, want, wantErr)
			}
		}
	}
	if fast < 30000 {
		t.Fatalf("the fast path took only %d of %d inputs", fast, 2*len(inputs))
	}
}
