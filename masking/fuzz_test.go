package masking

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/big"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"
)

// FuzzMasksHide checks the promises of the masks on generated and
// arbitrary values:
//
//   - masks that hide (partial with small keeps, cn_id, cn_mobile,
//     bank_card, uscc, email, cn_name, address, redact, hash) never show
//     the hidden part: the output is exactly the kept characters and
//     fills, and the hidden part (the birth date of an ID number, the
//     middle of a phone or card number, the organisation code of a credit
//     code, the local part of an address, the detail of an address) does
//     not appear;
//   - hash keeps the class's shape (a valid check character) and tokenize
//     keeps the length, the separators and the class's shape, and its
//     tokens read back to the value (names: never);
//   - null makes every value of every type NULL;
//   - every output is a valid value of the column's type in the format
//     asked: text within varchar/bpchar/name limits, numeric, date and
//     timestamp binary values that decode (and agree with the text form);
//   - round and band equal an exact big.Rat reference;
//   - no input, however malformed, makes a mask panic or pass it through.
func FuzzMasksHide(f *testing.F) {
	f.Add([]byte("310105"), "张三丰", int64(19900307), 12345.678, uint8(0))
	f.Add([]byte{0x62, 0x22, 0x02, 0xff}, "zhangsan", int64(-1), -0.5, uint8(7))
	f.Add([]byte("\x00\x01\x00\x00\x00\x00\x00\x00\x00\x01"), "世纪大道100号", int64(math.MaxInt64), math.Inf(1), uint8(255))
	f.Add([]byte("1e5"), "a\xffb", int64(math.MinInt64), 1e-300, uint8(42))
	f.Add([]byte("2024-03-15 13:45:30.5+08"), "買買提·艾力", int64(0), math.NaN(), uint8(128))
	// Found by fuzzing: a numeric beyond its column's typmod; a value too
	// long for a name column; a float whose quotient by the step overflows.
	f.Add([]byte("1000000"), "0", int64(19900307), 12439.678, uint8('B'))
	f.Add([]byte("x"), strings.Repeat("0", 70), int64(1), 1e308, uint8(12))
	ms := newFuzzMaskers(f)
	f.Fuzz(func(t *testing.T, raw []byte, s string, n int64, fl float64, choice uint8) {
		fuzzCNID(t, raw, n, choice)
		fuzzMobile(t, n, choice)
		fuzzCard(t, raw, n, choice)
		fuzzUSCC(t, raw, n, choice)
		fuzzEmail(t, s, choice)
		fuzzName(t, raw, choice)
		fuzzPartial(t, s, choice)
		fuzzAddress(t, raw, s, choice)
		fuzzRedactHash(t, s, choice)
		fuzzTokenText(t, s, choice)
		fuzzNumbers(t, raw, n, fl, choice)
		fuzzDates(t, n, choice)
		ms.arbitrary(t, raw)
		ms.arbitrary(t, []byte(s))
	})
}

// digitsFrom derives k digits from n and raw.
func digitsFrom(raw []byte, n int64, k int) []byte {
	u := uint64(n)
	out := make([]byte, k)
	for i := range out {
		if i < len(raw) {
			u ^= uint64(raw[i]) << (8 * (i % 8))
		}
		out[i] = byte('0' + u%10)
		u = u/10 + uint64(i)*0x9E3779B97F4A7C15
	}
	return out
}

// layout writes a digit string the way people do: full-width, grouped
// with spaces or dashes.
func layout(d string, choice uint8, groups ...int) string {
	var b strings.Builder
	sep := ""
	switch choice % 4 {
	case 1:
		sep = " "
	case 2:
		sep = "-"
	}
	pos := 0
	for _, g := range append(groups, len(d)) {
		if g > len(d) {
			g = len(d)
		}
		if pos > 0 && pos < len(d) {
			b.WriteString(sep)
		}
		b.WriteString(d[pos:g])
		pos = g
	}
	out := b.String()
	if choice%4 == 3 {
		var fw strings.Builder
		for _, r := range out {
			if r >= '!' && r <= '~' {
				r += 0xFF01 - '!'
			}
			fw.WriteRune(r)
		}
		out = fw.String()
	}
	return out
}

// textColumns are the columns text masks are tried on, for an input of
// chars characters.
func textColumnFor(choice uint8, chars int) Column {
	switch (choice / 4) % 4 {
	case 1:
		return varchar(chars + int(choice%3))
	case 2:
		return bpchar(chars + int(choice%3))
	case 3:
		return colName
	}
	return colText
}

func fuzzMask(t *testing.T, name string, opts Options, col Column, v string) string {
	t.Helper()
	return fuzzMaskWith(t, name, col, v, func(col Column) (Masker, error) { return New(name, opts, col, testKeys) })
}

// fuzzMaskWith is fuzzMask with the masker newMask makes for the column.
func fuzzMaskWith(t *testing.T, name string, col Column, v string, newMask func(Column) (Masker, error)) string {
	t.Helper()
	if col.TypeOID == oidBpchar {
		if lim := charLimit(col); lim > 0 {
			// PostgreSQL sends bpchar(n) padded to n.
			for k := utf8.RuneCountInString(v); k < lim; k++ {
				v += " "
			}
		}
	}
	if col.TypeOID == oidName && len(v) > maxNameBytes {
		col = Column{TypeOID: oidText, TypeMod: -1, Class: col.Class} // too long for a name
	}
	m, err := newMask(col)
	if err != nil {
		t.Fatalf("New(%s): %v", name, err)
	}
	out := maskString(t, m, v, FormatText)
	if outB := maskString(t, m, v, FormatBinary); outB != out {
		t.Fatalf("%s: text %q and binary %q differ", name, out, outB)
	}
	checkTextValue(t, col, []byte(out))
	return strings.TrimRight(out, " ")
}

// expectKept checks out is want[:first] + fills + want[len-last:] over
// ASCII want.
func expectKept(t *testing.T, name, in, out, want string, first, last int) {
	t.Helper()
	exp := want[:first] + strings.Repeat("*", len(want)-first-last) + want[len(want)-last:]
	if out != exp {
		t.Fatalf("%s(%q) = %q, want %q", name, in, out, exp)
	}
}

func fuzzCNID(t *testing.T, raw []byte, n int64, choice uint8) {
	d := digitsFrom(raw, n, 17)
	if d[0] == '0' {
		d[0] = '1'
	}
	// A real birth date, 1900-2099.
	u := uint64(n)
	y := 1900 + int(u%200)
	mo := 1 + int(u/200%12)
	day := 1 + int(u/2400%uint64(daysIn(y, mo)))
	date := string(appendPadded(nil, y, 4)) + string(appendPadded(nil, mo, 2)) + string(appendPadded(nil, day, 2))
	copy(d[6:14], date)
	c, _ := CNIDCheckChar(d)
	id := string(d) + string(c)
	if !ValidCNID(id) {
		t.Fatalf("generated invalid ID %s", id)
	}
	in := layout(id, choice, 6, 14)
	if choice&16 != 0 {
		in = strings.Replace(in, "X", "x", 1)
	}
	keeps := [][2]int{{6, 4}, {1, 1}, {0, 0}, {3, 4}, {6, 0}}
	k := keeps[int(choice)%len(keeps)]
	col := textColumnFor(choice, utf8.RuneCountInString(in))
	out := fuzzMask(t, "cn_id", Options{KeepFirst: intp(k[0]), KeepLast: intp(k[1])}, col, in)
	expectKept(t, "cn_id", in, out, id, k[0], k[1])
	if strings.Contains(out, date) {
		t.Fatalf("cn_id output %q shows the birth date", out)
	}
	if k[1] > 0 && out[17] != id[17] {
		t.Fatal("check character not kept")
	}
	// Legacy 15 digits: the 6-digit date stays hidden.
	legacy := id[:6] + date[2:] + id[14:17]
	out = fuzzMask(t, "cn_id", Options{KeepFirst: intp(k[0]), KeepLast: intp(k[1])}, colText, legacy)
	expectKept(t, "cn_id", legacy, out, legacy, min(k[0], 6), min(k[1], 3))
	// hash: a valid check character, never the input.
	h := fuzzMask(t, "hash", Options{}, Column{TypeOID: oidText, TypeMod: -1, Class: "cn_id"}, in)
	if hc, _ := CNIDCheckChar(h[:17]); len(h) != 18 || h[17] != hc || h == id {
		t.Fatalf("hash of ID = %q", h)
	}
	// tokenize: 18 characters with a valid check character.
	fuzzToken(t, "cn_id", col, in, false, func(tok string) bool { return ValidCNID(significant(tok)) })
}

func fuzzMobile(t *testing.T, n int64, choice uint8) {
	d := digitsFrom(nil, n, 11)
	d[0], d[1] = '1', '3'+d[1]%7
	num := string(d)
	in := layout(num, choice, 3, 7)
	switch choice % 3 {
	case 1:
		in = "+86 " + in
	case 2:
		in = "0086" + in
	}
	keeps := [][2]int{{3, 4}, {3, 2}, {0, 0}, {2, 2}}
	k := keeps[int(choice)%len(keeps)]
	out := fuzzMask(t, "cn_mobile", Options{KeepFirst: intp(k[0]), KeepLast: intp(k[1])}, textColumnFor(choice, utf8.RuneCountInString(in)), in)
	expectKept(t, "cn_mobile", in, out, num, k[0], k[1])
	if longestDigitRun(out) > max(k[0], k[1]) {
		t.Fatalf("cn_mobile output %q shows too many digits", out)
	}
	// hash: a mobile number.
	h := fuzzMask(t, "hash", Options{}, Column{TypeOID: oidText, TypeMod: -1, Class: "cn_mobile"}, in)
	if !isMobile([]byte(h)) {
		t.Fatalf("hash of mobile = %q", h)
	}
	// tokenize: the prefix, 1 and the second digit kept.
	prefix := asciiDigits(in[:len(in)-len(layout(num, choice, 3, 7))])
	fuzzToken(t, "cn_mobile", textColumnFor(choice, utf8.RuneCountInString(in)), in, false, func(tok string) bool {
		d := asciiDigits(tok)
		return len(d) == len(prefix)+11 && strings.HasPrefix(d, prefix) && d[len(prefix):len(prefix)+2] == num[:2]
	})
}

// asciiDigits is the ASCII and full-width digits of s, as ASCII.
func asciiDigits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '０' && r <= '９' {
			r -= '０' - '0'
		}
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// significant drops the separators layout writes.
func significant(s string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, s)
}

func fuzzCard(t *testing.T, raw []byte, n int64, choice uint8) {
	l := 16 + int(choice%4)
	d := digitsFrom(raw, n, l-1)
	d[0], d[1] = '6', '2'
	c, _ := LuhnCheckDigit(d)
	card := string(d) + string(c)
	in := layout(card, choice, 4, 8, 12, 16)
	out := fuzzMask(t, "bank_card", Options{}, textColumnFor(choice, utf8.RuneCountInString(in)), in)
	expectKept(t, "bank_card", in, out, card, 6, 4)
	if longestDigitRun(out) > 6 {
		t.Fatalf("bank_card output %q", out)
	}
	h := fuzzMask(t, "hash", Options{}, Column{TypeOID: oidText, TypeMod: -1, Class: "bank_card"}, in)
	if len(h) != l || !ValidLuhn(h) || h == card {
		t.Fatalf("hash of card = %q", h)
	}
	// tokenize: as many digits, the BIN and a valid Luhn digit.
	fuzzToken(t, "bank_card", textColumnFor(choice, utf8.RuneCountInString(in)), in, false, func(tok string) bool {
		d := significant(tok)
		return len(d) == l && d[:6] == card[:6] && ValidLuhn(d)
	})
}

// fuzzUSCC: unified social credit codes, in either case, full-width or
// grouped.
func fuzzUSCC(t *testing.T, raw []byte, n int64, choice uint8) {
	d := digitsFrom(raw, n, 17)
	b := make([]byte, 17)
	for i := range b {
		x := int(d[i] - '0')
		if i < len(raw) {
			x += int(raw[i])
		}
		b[i] = usccAlphabet[x%len(usccAlphabet)]
	}
	c, _ := USCCCheckChar(b)
	code := string(b) + string(c)
	if !ValidUSCC(code) {
		t.Fatalf("generated invalid USCC %s", code)
	}
	in := code
	if choice&32 != 0 {
		in = strings.ToLower(in)
	}
	in = layout(in, choice, 2, 8, 17)
	keeps := [][2]int{{8, 1}, {1, 1}, {0, 0}, {9, 0}, {2, 7}}
	k := keeps[int(choice)%len(keeps)]
	col := textColumnFor(choice, utf8.RuneCountInString(in))
	out := fuzzMask(t, "uscc", Options{KeepFirst: intp(k[0]), KeepLast: intp(k[1])}, col, in)
	expectKept(t, "uscc", in, out, code, k[0], k[1])
	if k == [2]int{8, 1} && strings.Contains(out, code[8:17]) {
		t.Fatalf("uscc output %q shows the organisation code", out)
	}
	// hash: a valid credit code, never the input.
	h := fuzzMask(t, "hash", Options{}, Column{TypeOID: oidText, TypeMod: -1, Class: "uscc"}, in)
	if !ValidUSCC(h) || h == code {
		t.Fatalf("hash of USCC = %q", h)
	}
	// tokenize: 18 characters with a valid check character.
	fuzzToken(t, "uscc", col, in, false, func(tok string) bool { return ValidUSCC(significant(tok)) })
}

// fuzzToken masks in (a value of class) with tokenize on col and checks
// what a token promises: the mask writes the class's token, the same
// bytes in both formats and a valid value of the column (fuzzMask); the
// token has the characters of the value's normal form, each separator
// where it was, and the class's shape (keep, when not nil); and it reads
// back: Detokenize with the key gives the normal form, or ErrIrreversible
// (values too small for FF1), which it must give for a one-way token (a
// name). It returns the token.
func fuzzToken(t *testing.T, class string, col Column, in string, oneWay bool, keep func(tok string) bool) string {
	t.Helper()
	col.Class = class
	tk := fuzzTokenizer(t, class)
	out := fuzzMaskWith(t, "tokenize", col, in, func(col Column) (Masker, error) { return NewTokenMask(tk, col) })
	value := in
	if col.TypeOID == oidBpchar {
		value = strings.TrimRight(in, " ") // padding is not part of a bpchar value
	}
	tok, err := tk.Token(nil, []byte(value))
	if err != nil {
		t.Fatalf("tokenize %s(%q): %v", class, value, err)
	}
	if out != strings.TrimRight(string(tok), " ") {
		t.Fatalf("tokenize %s(%q): the mask wrote %q, the token is %q", class, value, out, tok)
	}
	st := loadFor(tk, value)
	norm, got, foreign := st.runes, []rune(string(tok)), st.foreign
	if len(got) != len(norm) {
		t.Fatalf("tokenize %s(%q) = %q: length changed", class, value, tok)
	}
	for i, r := range norm {
		c, _ := classify(r)
		if c == catSep && foreignCat(r) == catSep && got[i] != r {
			t.Fatalf("tokenize %s(%q) = %q: separator %d changed", class, value, tok, i)
		}
		if c == catSep && foreignCat(r) != catSep {
			if gc, _ := classify(got[i]); gc == catSep || got[i] == r {
				t.Fatalf("tokenize %s(%q) = %q: character %d of another script kept or not replaced from the alphabets", class, value, tok, i)
			}
		}
	}
	if foreign {
		// a keyed one-way substitute: nothing to read back
		return string(tok)
	}
	if keep != nil && !keep(string(tok)) {
		t.Fatalf("tokenize %s(%q) = %q: not of the class's shape", class, value, tok)
	}
	back, err := tk.Detokenize(nil, tok)
	switch {
	case oneWay && err != ErrIrreversible:
		t.Fatalf("tokenize %s(%q) = %q: a one-way token reversed (%v)", class, value, tok, err)
	case err == ErrIrreversible:
	case err != nil:
		t.Fatalf("tokenize %s(%q) = %q: Detokenize: %v", class, value, tok, err)
	case string(back) != string(norm):
		t.Fatalf("tokenize %s(%q) = %q reads back as %q", class, value, tok, back)
	}
	return string(tok)
}

// fuzzTokenizers holds the tokenizer of each class fuzzToken tries,
// made once (with testKeys, as New would): a Tokenizer's cache is 2 MB.
var fuzzTokenizers sync.Map // class → *Tokenizer

func fuzzTokenizer(t *testing.T, class string) *Tokenizer {
	if tk, ok := fuzzTokenizers.Load(class); ok {
		return tk.(*Tokenizer)
	}
	tk, err := NewTokenizer(class, Options{}, testKeys)
	if err != nil {
		t.Fatal(err)
	}
	tk2, _ := fuzzTokenizers.LoadOrStore(class, tk)
	return tk2.(*Tokenizer)
}

// fuzzTokenText: tokenize on arbitrary text, under classes with and
// without a shape of their own.
func fuzzTokenText(t *testing.T, s string, choice uint8) {
	s = strings.ToValidUTF8(strings.ReplaceAll(s, "\x00", ""), "?")
	class := []string{"address", "person_name", "cn_id", "uscc", "email"}[int(choice)%5]
	fuzzToken(t, class, textColumnFor(choice, utf8.RuneCountInString(s)), s, false, nil)
}

func longestDigitRun(s string) int {
	best, run := 0, 0
	for i := 0; i < len(s); i++ {
		if isDigit(s[i]) {
			run++
			best = max(best, run)
		} else {
			run = 0
		}
	}
	return best
}

func fuzzEmail(t *testing.T, s string, choice uint8) {
	local := strings.Map(func(r rune) rune {
		if r == '@' || r == 0xFF20 || r == utf8.RuneError || r == 0 || r < ' ' || isNameSpace(r) {
			return -1
		}
		return r
	}, s)
	if local == "" {
		return
	}
	in := local + "@163.com"
	out := fuzzMask(t, "email", Options{}, textColumnFor(choice&^12, 0), in)
	first := ""
	if utf8.RuneCountInString(local) > 1 {
		r, _ := utf8.DecodeRuneInString(local)
		first = string(r)
	}
	if out != first+"***@163.com" {
		t.Fatalf("email(%q) = %q", in, out)
	}
}

func isNameSpace(r rune) bool {
	return r == ' ' || r == '\t' || r == '\n' || r == 0x3000 || r == 0x85 || r == 0xA0 || (r >= 0x2000 && r <= 0x200A) || r == 0x2028 || r == 0x2029 || r == 0x202F || r == 0x205F || r == 0x1680 || r == '\v' || r == '\f' || r == '\r'
}

var nameChars = []rune("王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰")

func fuzzName(t *testing.T, raw []byte, choice uint8) {
	k := 2 + int(choice%3)
	var b strings.Builder
	for i := 0; i < k; i++ {
		var x byte
		if i < len(raw) {
			x = raw[i]
		}
		b.WriteRune(nameChars[(int(x)+i*31)%len(nameChars)])
	}
	name := b.String()
	surname := string([]rune(name)[:1])
	if p := string([]rune(name)[:2]); k >= 3 && compoundSurnames[p] && (k >= 4 || !ambiguousCompound[p]) {
		surname = p
	}
	out := fuzzMask(t, "cn_name", Options{}, textColumnFor(choice, k), name)
	want := surname + strings.Repeat("*", k-utf8.RuneCountInString(surname))
	if out != want {
		t.Fatalf("cn_name(%q) = %q, want %q", name, out, want)
	}
	if out2 := fuzzMask(t, "cn_name", Options{KeepSurname: boolp(false)}, colText, name); out2 != strings.Repeat("*", k) {
		t.Fatalf("cn_name keep_surname=false (%q) = %q", name, out2)
	}
	// tokenize: a one-way pseudonym of as many characters, the surname kept.
	if tok := fuzzToken(t, "person_name", colText, name, true, nil); !strings.HasPrefix(tok, surname) {
		t.Fatalf("tokenize person_name(%q) = %q: surname not kept", name, tok)
	}
}

func fuzzPartial(t *testing.T, s string, choice uint8) {
	s = strings.ToValidUTF8(strings.ReplaceAll(s, "\x00", ""), "?")
	first, last := int(choice%3), int(choice/3%3)
	m := mustNew(t, "partial", Options{KeepFirst: intp(first), KeepLast: intp(last)}, colText)
	out := maskString(t, m, s, FormatText)
	rs, ro := []rune(s), []rune(out)
	if len(rs) != len(ro) {
		t.Fatalf("partial(%q) = %q: length changed", s, out)
	}
	if len(rs) <= first+last {
		first, last = 0, 0
	}
	for i := range ro {
		shown := i < first || i >= len(rs)-last
		if (shown && ro[i] != rs[i]) || (!shown && ro[i] != '*') {
			t.Fatalf("partial(%q) = %q: character %d", s, out, i)
		}
	}
	if middle := string(rs[first : len(rs)-last]); len(rs) > 2*(first+last) && !strings.ContainsRune(middle, '*') && len(middle) > 0 && strings.Contains(out, middle) {
		t.Fatalf("partial(%q) = %q shows the middle", s, out)
	}
}

var (
	fuzzProvinces = []string{"广东省", "浙江省", "江苏省", "四川省", "黑龙江省", "内蒙古自治区", "广西壮族自治区", "新疆维吾尔自治区"}
	fuzzCities    = []string{"广州市", "杭州市", "苏州市", "成都市", "哈尔滨市", "呼伦贝尔市", "南宁市", "伊犁哈萨克自治州", "大兴安岭地区", "锡林郭勒盟"}
	fuzzDistricts = []string{"天河区", "余杭区", "昆山市", "武侯区", "道里区", "莫力达瓦达斡尔族自治旗", "青秀区", "伊宁县", "漠河市", "苏尼特右旗"}
	fuzzMunis     = []string{"北京市", "上海市", "天津市", "重庆市"}
	fuzzStreets   = []string{"世纪大道", "中山路", "解放路", "体育西路", "文一西路", "建国门外大街"}
)

func fuzzAddress(t *testing.T, raw []byte, s string, choice uint8) {
	pick := func(list []string, i int) string {
		var x int
		if i < len(raw) {
			x = int(raw[i])
		}
		return list[(x+i)%len(list)]
	}
	detail := pick(fuzzStreets, 3) + strings.ToValidUTF8(strings.Map(func(r rune) rune {
		if r == 0 {
			return -1
		}
		return r
	}, s), "?") + "号"
	var divisions string
	if choice%2 == 0 {
		divisions = pick(fuzzProvinces, 0) + pick(fuzzCities, 1) + pick(fuzzDistricts, 2)
	} else {
		divisions = pick(fuzzMunis, 0) + pick(fuzzDistricts[:2], 2)
	}
	in := divisions + detail
	out := fuzzMask(t, "address", Options{}, colText, in)
	if out != divisions+"****" {
		t.Fatalf("address(%q) = %q, want %q", in, out, divisions+"****")
	}
	// Arbitrary text: a prefix of the input and fills, nothing more.
	any := strings.ToValidUTF8(strings.ReplaceAll(s, "\x00", ""), "?")
	out = fuzzMask(t, "address", Options{Level: []string{"province", "city", "district"}[choice%3]}, colText, any)
	body := strings.TrimRight(out, "*")
	if !strings.HasPrefix(strings.TrimSpace(any), body) || len(out)-len(body) > 4 || (body == strings.TrimSpace(any) && out != body) {
		t.Fatalf("address(%q) = %q", any, out)
	}
}

func fuzzRedactHash(t *testing.T, s string, choice uint8) {
	s = strings.ToValidUTF8(strings.ReplaceAll(s, "\x00", ""), "?")
	col := textColumnFor(choice, utf8.RuneCountInString(s))
	if out := fuzzMask(t, "redact", Options{}, col, s); out != strings.TrimRight(string(newTextCol(col).finish([]byte("***"), 0, 0)), " ") {
		t.Fatalf("redact(%q) = %q", s, out)
	}
	col.Class = "person_name"
	out := fuzzMask(t, "hash", Options{}, col, s)
	if trimmed := strings.TrimSpace(s); utf8.RuneCountInString(trimmed) >= 10 && strings.Contains(out, trimmed) {
		t.Fatalf("hash(%q) = %q contains the input", s, out)
	}
}

// fuzzNumbers: round and band on numeric, integers and floats agree with
// a big.Rat reference and produce valid values in both formats.
func fuzzNumbers(t *testing.T, raw []byte, n int64, fl float64, choice uint8) {
	steps := []float64{1000, 0.05, 250, 1, 0.001, 7, 1e6}
	st := steps[int(choice)%len(steps)]
	// numeric: digits from raw and n, a scale from choice.
	digs := string(digitsFrom(raw, n, 1+int(choice%30)))
	scale := int(choice/8) % len(digs)
	text := digs[:len(digs)-scale]
	if scale > 0 {
		text += "." + digs[len(digs)-scale:]
	}
	if n < 0 {
		text = "-" + text
	}
	for _, mode := range []string{"round", "band"} {
		opts := Options{To: st}
		if mode == "band" {
			opts = Options{Width: st}
		}
		m := mustNew(t, mode, opts, colNumeric)
		outT := maskString(t, m, text, FormatText)
		in, _, _ := parseNumericText([]byte(text), nil)
		outB := maskBytes(t, m, appendNumericBinary(nil, in), FormatBinary)
		d := checkNumericBinary(t, outB)
		if got := string(appendNumericText(nil, d)); got != outT {
			t.Fatalf("%s(%s): binary %s, text %s", mode, text, got, outT)
		}
		want := ratRound(text, st, mode == "band")
		if got, _ := new(big.Rat).SetString(outT); got.Cmp(want) != 0 {
			t.Fatalf("%s(%s, %v) = %s, want %s", mode, text, st, outT, want.FloatString(10))
		}
		// numeric(p,s): valid and within the typmod.
		p, s := 6+int(choice%10), int(choice%5)
		mc := mustNew(t, mode, opts, numeric(p, s))
		if fitsText(text, p, s) {
			out := maskString(t, mc, text, FormatText)
			od, _, ok := parseNumericText([]byte(out), nil)
			if !ok || !fits(od, p, s) || od.dscale != s {
				t.Fatalf("%s numeric(%d,%d) %s = %s", mode, p, s, text, out)
			}
		}
		// integers
		for _, oid := range intTypes {
			bits := intBits(oid)
			lo, hi := intRange(bits)
			v := min(max(n, lo), hi)
			if st < 1 || st != math.Trunc(st) || st > float64(hi) {
				continue
			}
			mi := mustNew(t, mode, opts, typ(oid))
			out := maskBytes(t, mi, putInt(nil, v, bits), FormatBinary)
			got, ok := getInt(out, bits)
			want := ratRound(big.NewInt(v).String(), st, mode == "band")
			if !ok || (big.NewRat(got, 1).Cmp(want) != 0 && !towardZero(v, got, int64(st))) {
				t.Fatalf("%s %s %d = %d, want %s", mode, typeName(oid), v, got, want.String())
			}
		}
		// floats: valid, NaN/Inf kept, close to the reference.
		for _, bits := range []int{32, 64} {
			oid := oidFloat8
			if bits == 32 {
				oid = oidFloat4
			}
			mf := mustNew(t, mode, opts, typ(oid))
			x := fl
			if bits == 32 {
				x = float64(float32(x))
			}
			out := maskBytes(t, mf, putFloat(nil, x, bits), FormatBinary)
			got, ok := getFloat(out, bits)
			outT := maskString(t, mf, string(appendFloatText(nil, x, bits)), FormatText)
			gotT, okT := parseFloatText([]byte(outT), bits)
			if !ok || !okT || (got != gotT && !(math.IsNaN(got) && math.IsNaN(gotT))) {
				t.Fatalf("%s float%d %v: binary %v, text %s", mode, bits/8, x, got, outT)
			}
			if math.IsNaN(x) != math.IsNaN(got) || (math.IsInf(x, 0) && got != x) || (!math.IsInf(x, 0) && math.IsInf(got, 0)) {
				t.Fatalf("%s float%d %v = %v", mode, bits/8, x, got)
			}
			// Within the step (plus float error) of the input.
			if !math.IsNaN(x) && !math.IsInf(x, 0) {
				limit := st
				if mode == "round" {
					limit = st / 2
				}
				if d := math.Abs(got - x); d > limit*(1+1e-9)+math.Abs(x)*1e-6 && !(bits == 32 && d <= st) {
					t.Fatalf("%s float%d %v = %v: off by %v", mode, bits/8, x, got, d)
				}
			}
		}
	}
}

func towardZero(v, got, st int64) bool { return got == v/st*st }

// fitsText reports whether a numeric literal fits numeric(p,s).
func fitsText(text string, p, s int) bool {
	d, _, ok := parseNumericText([]byte(text), nil)
	if !ok {
		return false
	}
	var sc scratch
	r, _, _ := quantize(d, step{1, -s}, halfAway, sc.b, sc.c)
	return fits(r, p, s)
}

// ratRound is the exact reference: v rounded (half away from zero) or
// floored to a multiple of st.
func ratRound(v string, st float64, floor bool) *big.Rat {
	x, _ := new(big.Rat).SetString(v)
	s, _ := stepOf(st)
	step := new(big.Rat).SetInt64(int64(s.m))
	p := new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(abs(s.e))), nil))
	if s.e >= 0 {
		step.Mul(step, p)
	} else {
		step.Quo(step, p)
	}
	q := new(big.Rat).Quo(x, step)
	num, den := q.Num(), q.Denom()
	var k big.Int
	if floor {
		k.Div(num, den) // Euclidean: floor for den > 0
	} else {
		twice := new(big.Int).Mul(num, big.NewInt(2))
		twice.Add(twice, new(big.Int).Mul(den, big.NewInt(int64(num.Sign()))))
		k.Quo(twice, new(big.Int).Mul(den, big.NewInt(2))) // truncates: (2n ± d) / 2d
	}
	return new(big.Rat).Mul(new(big.Rat).SetInt(&k), step)
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// checkNumericBinary decodes a mask's numeric output and checks it is in
// numeric_send's normal form.
func checkNumericBinary(t *testing.T, b []byte) decimal {
	t.Helper()
	d, _, problem := decodeNumeric(b, nil)
	if problem != "" {
		t.Fatalf("numeric output %x: %s", b, problem)
	}
	if nd := int(binary.BigEndian.Uint16(b)); nd > 0 {
		first := binary.BigEndian.Uint16(b[8:])
		last := binary.BigEndian.Uint16(b[8+2*(nd-1):])
		if first == 0 || last == 0 {
			t.Fatalf("numeric output %x is not stripped", b)
		}
		if d.kind == finite && -d.exp > d.dscale {
			t.Fatalf("numeric output %x has digits beyond dscale", b)
		}
	}
	if !bytes.Equal(appendNumericBinary(nil, d), b) {
		t.Fatalf("numeric output %x does not re-encode", b)
	}
	return d
}

func fuzzDates(t *testing.T, n int64, choice uint8) {
	unit := []string{"year", "month", "day"}[choice%3]
	lo, hi := minTimestamp, endTimestamp
	us := lo + int64(uint64(n)%(uint64(hi)-uint64(lo)))
	for _, oid := range dateTimes {
		if oid == oidDate && unit == "day" {
			continue
		}
		m := mustNew(t, "generalize", Options{Unit: unit}, typ(oid))
		var in []byte
		if oid == oidDate {
			in = putDate(nil, int32(floorDiv(us, usPerDay)))
		} else {
			in = putTimestamp(nil, us)
		}
		out := maskBytes(t, m, in, FormatBinary)
		var outUS int64
		if oid == oidDate {
			days, ok := getDate(out)
			if !ok {
				t.Fatal("date output")
			}
			outUS = int64(days) * usPerDay
		} else {
			outUS, _ = getTimestamp(out)
		}
		y, mo, d := j2date(int(floorDiv(outUS, usPerDay)) + pgEpochJDate)
		inY, inMo, _ := j2date(int(floorDiv(us, usPerDay)) + pgEpochJDate)
		ok := outUS >= minTimestamp && outUS <= us && outUS%usPerDay == 0 && y == inY
		switch unit {
		case "year":
			ok = ok && ((mo == 1 && d == 1) || outUS == minTimestamp)
		case "month":
			ok = ok && mo == inMo && (d == 1 || outUS == minTimestamp)
		}
		if !ok {
			t.Fatalf("generalize %s %s %d → %d (%d-%d-%d)", unit, typeName(oid), us, outUS, y, mo, d)
		}
		// The text form of the input gives the text form of the output.
		inT := formatStamp(oid, us)
		outT := maskString(t, m, inT, FormatText)
		if wantT := formatStamp(oid, outUS); outT != wantT {
			t.Fatalf("generalize %s %s text %s → %s, binary gives %s", unit, typeName(oid), inT, outT, wantT)
		}
	}
}

// formatStamp prints a value as PostgreSQL does with DateStyle ISO and
// TimeZone UTC.
func formatStamp(oid uint32, us int64) string {
	days := floorDiv(us, usPerDay)
	y, m, d := j2date(int(days) + pgEpochJDate)
	out, bc := appendISODate(nil, y, m, d)
	if oid != oidDate {
		rem := us - days*usPerDay
		secs := rem / 1e6
		out = appendPadded(append(out, ' '), int(secs/3600), 2)
		out = appendPadded(append(out, ':'), int(secs/60%60), 2)
		out = appendPadded(append(out, ':'), int(secs%60), 2)
		if frac := rem % 1e6; frac != 0 {
			f := strings.TrimRight(string(appendPadded(nil, int(frac), 6)), "0")
			out = append(append(out, '.'), f...)
		}
		if oid == oidTimestamptz {
			out = append(out, "+00"...)
		}
	}
	if bc {
		out = append(out, " BC"...)
	}
	return string(out)
}

// fuzzMaskers are maskers for every mask and accepted type, to feed
// arbitrary bytes.
type fuzzMaskers struct {
	list []struct {
		name string
		col  Column
		m    Masker
	}
}

func newFuzzMaskers(tb testing.TB) *fuzzMaskers {
	fm := &fuzzMaskers{}
	opts := map[string]Options{"round": {To: 1000}, "band": {Width: 10000}}
	for _, name := range Names() {
		accepts := Accepts(name)
		if accepts == nil {
			accepts = redactTypes // null: every type
		}
		for _, oid := range accepts {
			cols := []Column{{TypeOID: oid, TypeMod: -1, Class: "cn_id"}}
			switch oid {
			case oidVarchar:
				cols = append(cols, Column{TypeOID: oid, TypeMod: 8 + 4, Class: "cn_mobile"})
			case oidBpchar:
				cols = append(cols, Column{TypeOID: oid, TypeMod: 20 + 4, Class: "bank_card"})
			case oidNumeric:
				cols = append(cols, numeric(8, 2))
			}
			for _, col := range cols {
				m, err := New(name, opts[name], col, testKeys)
				if err != nil {
					tb.Fatal(err)
				}
				fm.list = append(fm.list, struct {
					name string
					col  Column
					m    Masker
				}{name, col, m})
			}
		}
	}
	return fm
}

// arbitrary feeds v to every masker in both formats: no panic, and any
// output is a valid value of the type that is not v itself (unless the
// mask's constant or pass-through of NaN/infinity).
func (fm *fuzzMaskers) arbitrary(t *testing.T, v []byte) {
	for _, e := range fm.list {
		for _, format := range []int16{FormatText, FormatBinary} {
			out, null, err := e.m.Mask(nil, v, format)
			if e.name == "null" {
				if err != nil || !null || len(out) != 0 {
					t.Fatalf("null %s format %d: %q, null %v, %v", typeName(e.col.TypeOID), format, out, null, err)
				}
				continue
			}
			if err != nil || null {
				continue
			}
			checkValid(t, e.name, e.col, format, out, inputFits(e.col, v, format))
		}
	}
}

// inputFits reports whether a numeric input fits the column's typmod
// (PostgreSQL never sends one that does not; the masks then promise an
// output that fits too).
func inputFits(col Column, v []byte, format int16) bool {
	p, s, ok := numericTypmod(col.TypeMod)
	if col.TypeOID != oidNumeric || !ok {
		return true
	}
	var d decimal
	if format == FormatBinary {
		var problem string
		if d, _, problem = decodeNumeric(v, nil); problem != "" {
			return false
		}
	} else if d, _, ok = parseNumericText(v, nil); !ok {
		return false
	}
	if d.kind != finite {
		return true
	}
	var sc scratch
	r, _, _ := quantize(d, step{1, -s}, halfAway, sc.b, sc.c)
	return fits(r, p, s)
}

// checkValid checks out is a value of the column's type in format.
func checkValid(t *testing.T, name string, col Column, format int16, out []byte, fitsTypmod bool) {
	t.Helper()
	oid := col.TypeOID
	bad := func() { t.Fatalf("%s %s format %d: invalid output %q", name, typeName(oid), format, out) }
	switch {
	case isTextType(oid):
		checkTextValue(t, col, out)
	case format == FormatText:
		switch {
		case isIntType(oid):
			if _, ok := parseIntText(out, intBits(oid)); !ok {
				bad()
			}
		case isFloatType(oid):
			if _, ok := parseFloatText(out, 64); !ok {
				bad()
			}
		case oid == oidNumeric:
			d, _, ok := parseNumericText(out, nil)
			if p, s, c := numericTypmod(col.TypeMod); !ok || (c && fitsTypmod && d.kind == finite && !fits(d, p, s)) {
				bad()
			}
		case oid == oidDate, oid == oidTimestamp, oid == oidTimestamptz:
			if _, ok := parseISO(out, oid != oidDate, oid == oidTimestamptz); !ok {
				bad()
			}
		case oid == oidUUID:
			var u [16]byte
			if !parseUUID(&u, out) {
				bad()
			}
		}
	default:
		switch {
		case isIntType(oid):
			if len(out) != intBits(oid)/8 {
				bad()
			}
		case oid == oidFloat4 && len(out) != 4, oid == oidFloat8 && len(out) != 8, oid == oidUUID && len(out) != 16:
			bad()
		case oid == oidNumeric:
			checkNumericBinary(t, out)
		case oid == oidDate:
			days, ok := getDate(out)
			if j := int(days) + pgEpochJDate; !ok || ((j < minJDate || j >= endJDate) && days != dateNegInf && days != datePosInf) {
				bad()
			}
		case oid == oidTimestamp, oid == oidTimestamptz:
			us, ok := getTimestamp(out)
			if !ok || ((us < minTimestamp || us >= endTimestamp) && us != tsNegInf && us != tsPosInf) {
				bad()
			}
		}
	}
}
