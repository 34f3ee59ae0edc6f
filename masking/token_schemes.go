package masking

import (
	"fmt"
	"slices"
)

// scheme tokenizes (enc) or detokenizes a value of a class's own shape in
// place. Each maps the values of its shape onto values of the same shape,
// one to one, so the shape of a token tells Detokenize which scheme made it.
type scheme func(t *Tokenizer, st *tokState, enc bool) error

// Tweaks tell the schemes apart. The key is already the class's own
// (derived per class), so one byte suffices; a tweak this short keeps
// FF1's PRF input to one AES block per round.
var (
	tweakID     = []byte{'I'}
	tweakCard   = []byte{'C'}
	tweakMobile = []byte{'M'}
	tweakUSCC   = []byte{'U'}
)

// shape returns the scheme of the class when the value has its shape.
func (t *Tokenizer) shape(st *tokState) scheme {
	switch t.class {
	case "cn_id":
		if idShape(st) {
			return (*Tokenizer).cnID
		}
	case "bank_card":
		if n := len(st.cats); n >= 13 && n <= 19 && allCat(st, catDigit) {
			return (*Tokenizer).card
		}
	case "cn_mobile":
		if mobileShape(st) {
			return (*Tokenizer).mobile
		}
	case "uscc":
		if usccTokenShape(st) {
			return (*Tokenizer).uscc
		}
	case "person_name":
		if n := len(st.cats); n >= 2 && n <= 4 && n == len(st.runes) && hanziOnly(st) {
			return (*Tokenizer).name
		}
	}
	return nil
}

func allCat(st *tokState, c uint8) bool {
	for _, x := range st.cats {
		if x != c {
			return false
		}
	}
	return true
}

func hanziOnly(st *tokState) bool {
	for _, c := range st.cats {
		if c != catHanzi1 && c != catHanzi2 {
			return false
		}
	}
	return true
}

// idShape: 18 significant characters, 17 digits the first non-zero, then
// a digit or X.
func idShape(st *tokState) bool {
	if len(st.cats) != 18 || st.cats[0] != catDigit || st.nums[0] == 0 {
		return false
	}
	for _, c := range st.cats[:17] {
		if c != catDigit {
			return false
		}
	}
	return st.cats[17] == catDigit || (st.cats[17] == catUpper && st.nums[17] == 'X'-'A')
}

// mobileShape: a mainland mobile number 1[3-9]\d{9}, optionally after 86
// or 0086 (a '+' is a separator).
func mobileShape(st *tokState) bool {
	n := len(st.cats)
	if !allCat(st, catDigit) {
		return false
	}
	switch n {
	case 11:
	case 13:
		if st.nums[0] != 8 || st.nums[1] != 6 {
			return false
		}
	case 15:
		if st.nums[0] != 0 || st.nums[1] != 0 || st.nums[2] != 8 || st.nums[3] != 6 {
			return false
		}
	default:
		return false
	}
	return st.nums[n-11] == 1 && st.nums[n-10] >= 3
}

// usccTokenShape: 18 characters of the USCC alphabet.
func usccTokenShape(st *tokState) bool {
	if len(st.cats) != 18 {
		return false
	}
	for i, c := range st.cats {
		if c != catDigit && (c != catUpper || usccValue(byte('A'+st.nums[i])) < 0) {
			return false
		}
	}
	return true
}

// crypt runs FF1 of radix over xs.
func (t *Tokenizer) crypt(radix int, xs []uint16, tweak []byte, enc bool) error {
	c := t.ciphers[radix]
	var err error
	if enc {
		err = c.Encrypt(xs, xs, tweak)
	} else {
		err = c.Decrypt(xs, xs, tweak)
	}
	if err != nil {
		return fmt.Errorf("masking: tokenize: %w", err)
	}
	return nil
}

// checkValue is the value 0..10 of an ID check character (X is 10).
func idCheckValue(c uint8, n uint16) int {
	if c == catUpper {
		return 10
	}
	return int(n)
}

// idCheckOf returns the MOD 11-2 check value of 17 digit numerals (X is
// 10): CNIDCheckChar's, computed on the numerals directly.
func idCheckOf(xs []uint16) int {
	sum := 0
	for i, x := range xs[:17] {
		sum += int(x) * cnidWeights[i]
	}
	return idCheckValues[sum%11]
}

// idCheckValues maps Σ digit·weight mod 11 to the check value
// (cnidChecks with X as 10).
var idCheckValues = [11]int{1, 0, 10, 9, 8, 7, 6, 5, 4, 3, 2}

// cnID tokenizes an ID number. One whose birth date is real and within
// the pattern's 1800-2099 (GB 11643) gets a token of the same kind: its
// region code (100000-999999), birth date and sequence number are read as
// one integer below 900000·109572·1000 ≈ 9.86·10^13, FF1-encrypted as 14
// digits and cycle-walked into that range, so the token has a real birth
// date too. Any other ID-shaped value is FF1-encrypted over its 17 digits,
// cycle-walked to keep the first digit non-zero and the date unreal. In
// both, the check character moves with the digits: a valid one stays
// valid, an invalid one keeps its offset from the valid one.
func (t *Tokenizer) cnID(st *tokState, enc bool) error {
	check, err := t.idToken(st.nums[:17], idCheckValue(st.cats[17], st.nums[17]), enc)
	if err != nil {
		return err
	}
	if check == 10 {
		st.cats[17], st.nums[17] = catUpper, 'X'-'A'
	} else {
		st.cats[17], st.nums[17] = catDigit, uint16(check)
	}
	st.store()
	return nil
}

// idToken is cnID on the 17 digit numerals xs (changed in place) and the
// value 0..10 of the check character; it returns the output's check
// value.
func (t *Tokenizer) idToken(xs []uint16, check int, enc bool) (int, error) {
	off := (check - idCheckOf(xs) + 11) % 11
	if n, ok := idNumber(xs); ok {
		var ds [14]uint16
		for range maxWalk {
			putDigits(ds[:], n)
			if err := t.crypt(10, ds[:], tweakID, enc); err != nil {
				return 0, err
			}
			n = digitsValue(ds[:])
			if n < idDomain {
				break
			}
		}
		if n >= idDomain {
			return 0, errWalk
		}
		idDigits(n, xs)
	} else {
		for range maxWalk {
			if err := t.crypt(10, xs, tweakIDOther, enc); err != nil {
				return 0, err
			}
			if _, real := idNumber(xs); xs[0] != 0 && !real {
				break
			}
		}
		if _, real := idNumber(xs); xs[0] == 0 || real {
			return 0, errWalk
		}
	}
	// off was measured on the input (value or token); the output's check
	// is the valid one of its digits plus the same offset.
	return (idCheckOf(xs) + off) % 11, nil
}

// asciiID is cnID for the common case of an ID written as 18 ASCII
// characters, without separators: the same token, without decoding the
// value into characters. It reports false for anything else.
func (t *Tokenizer) asciiID(dst, v []byte, enc bool) ([]byte, bool, error) {
	xs, check, ok := parseASCIIID(v)
	if !ok {
		return dst, false, nil
	}
	check, err := t.idToken(xs[:], check, enc)
	if err != nil {
		return dst[:0], true, err
	}
	return appendASCIIID(dst[:0], &xs, check), true, nil
}

// parseASCIIID reads an ID written as 18 ASCII characters: its 17 digit
// numerals and its check value (X or x is 10).
func parseASCIIID(v []byte) (xs [17]uint16, check int, ok bool) {
	if len(v) != 18 || v[0] < '1' || v[0] > '9' {
		return xs, 0, false
	}
	for i, c := range v[:17] {
		if c < '0' || c > '9' {
			return xs, 0, false
		}
		xs[i] = uint16(c - '0')
	}
	check, ok = asciiCheck(v[17])
	return xs, check, ok
}

// asciiCheck reads an ID's check character: a digit, or X or x for 10.
func asciiCheck(c byte) (int, bool) {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0'), true
	case c == 'X' || c == 'x':
		return 10, true
	}
	return 0, false
}

// appendASCIIID appends an ID's 17 numerals and its check character.
func appendASCIIID(out []byte, xs *[17]uint16, check int) []byte {
	for _, x := range xs {
		out = append(out, byte('0'+x))
	}
	return append(out, cnidCheckChar(check))
}

// cnidCheckChar is the character of a check value (0-10).
func cnidCheckChar(check int) byte {
	if check == 10 {
		return 'X'
	}
	return byte('0' + check)
}

var tweakIDOther = []byte{'i'}

// idEpoch and idDays: birth dates 1800-01-01 to 2099-12-31.
var (
	idEpoch = date2j(1800, 1, 1)
	idDays  = uint64(date2j(2100, 1, 1) - idEpoch)
	// idDomain counts (region 100000-999999, date, sequence 000-999).
	idDomain = 900000 * idDays * 1000
)

// idNumber reads 17 ID digits with a real birth date in 1800-2099 as
// one integer below idDomain.
func idNumber(xs []uint16) (uint64, bool) {
	num := func(a, b int) int {
		v := 0
		for _, x := range xs[a:b] {
			v = v*10 + int(x)
		}
		return v
	}
	return idNumberOf(num(0, 6), num(6, 10), num(10, 12), num(12, 14), num(14, 17))
}

// idNumberOf is idNumber of an ID's parts.
func idNumberOf(region, y, m, d, seq int) (uint64, bool) {
	if region < 100000 || y < 1800 || y > 2099 || m < 1 || m > 12 || d < 1 || d > daysIn(y, m) {
		return 0, false
	}
	day := uint64(date2j(y, m, d) - idEpoch)
	return (uint64(region-100000)*idDays+day)*1000 + uint64(seq), true
}

// idLaneOf reads an ID of 18 ASCII characters for the lockstep path in
// one pass: its integer (idNumber) and the offset of its check character
// from the valid one. It reports isID false where parseASCIIID refuses
// the value, and real false where idNumber does.
func idLaneOf(c []byte) (n uint64, off int, isID, real bool) {
	if len(c) != 18 || c[0] < '1' || c[0] > '9' {
		return 0, 0, false, false
	}
	var d [17]int
	sum := 0
	for i, b := range c[:17] {
		x := int(b) - '0'
		if uint(x) > 9 {
			return 0, 0, false, false
		}
		d[i] = x
		sum += x * cnidWeights[i]
	}
	check, ok := asciiCheck(c[17])
	if !ok {
		return 0, 0, false, false
	}
	off = (check - idCheckValues[sum%11] + 11) % 11
	n, real = idNumberOf(
		((d[0]*10+d[1])*10+d[2])*1000+(d[3]*10+d[4])*10+d[5],
		d[6]*1000+d[7]*100+d[8]*10+d[9], d[10]*10+d[11], d[12]*10+d[13],
		d[14]*100+d[15]*10+d[16])
	return n, off, true, real
}

// putDigits writes n as len(ds) decimal numerals.
func putDigits(ds []uint16, n uint64) {
	for i := len(ds) - 1; i >= 0; i-- {
		ds[i] = uint16(n % 10)
		n /= 10
	}
}

// digitsValue reads decimal numerals as an integer.
func digitsValue(ds []uint16) uint64 {
	var n uint64
	for _, d := range ds {
		n = n*10 + uint64(d)
	}
	return n
}

// idDigits is idNumber's inverse.
func idDigits(n uint64, xs []uint16) {
	var b [18]byte
	putIDNumber(&b, n)
	for i := range xs[:17] {
		xs[i] = uint16(b[i] - '0')
	}
}

// appendIDNumber appends the ID of idNumber's integer n in ASCII, its
// check character the valid one plus off (mod 11): idDigits, idCheckOf
// and appendASCIIID in one pass, for the lockstep path.
func appendIDNumber(dst []byte, n uint64, off int) []byte {
	var b [18]byte
	putIDNumber(&b, n)
	sum := 0
	for i, c := range b[:17] {
		sum += int(c-'0') * cnidWeights[i]
	}
	b[17] = cnidCheckChar((idCheckValues[sum%11] + off) % 11)
	return append(dst, b[:]...)
}

// putIDNumber writes the 17 digits of idNumber's integer n in ASCII.
func putIDNumber(b *[18]byte, n uint64) {
	seq := int(n % 1000)
	n /= 1000
	region := int(n/idDays) + 100000
	y, m, d := j2date(idEpoch + int(n%idDays))
	putPair(b[0:], region/10000)
	putPair(b[2:], region/100%100)
	putPair(b[4:], region%100)
	putPair(b[6:], y/100)
	putPair(b[8:], y%100)
	putPair(b[10:], m)
	putPair(b[12:], d)
	b[14] = byte('0' + seq/100)
	putPair(b[15:], seq%100)
}

// putPair writes v (0-99) as two ASCII digits.
func putPair(b []byte, v int) {
	b[0], b[1] = digitPairs[2*v], digitPairs[2*v+1]
}

const digitPairs = "00010203040506070809101112131415161718192021222324252627282930313233343536373839404142434445464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899"

// luhnOf returns the Luhn check digit of digit numerals.
func luhnOf(xs []uint16) int {
	var b [19]byte
	for i, x := range xs {
		b[i] = '0' + byte(x)
	}
	d, _ := LuhnCheckDigit(b[:len(xs)])
	return int(d - '0')
}

// card keeps the BIN, FF1 over the digits up to the last; the last digit
// keeps its offset from the Luhn digit (zero for a valid card).
func (t *Tokenizer) card(st *tokState, enc bool) error {
	n := len(st.nums)
	off := (int(st.nums[n-1]) - luhnOf(st.nums[:n-1]) + 10) % 10
	if err := t.crypt(10, st.nums[6:n-1], tweakCard, enc); err != nil {
		return err
	}
	st.nums[n-1] = uint16((luhnOf(st.nums[:n-1]) + off) % 10)
	st.store()
	return nil
}

// mobile keeps any country prefix, the 1 and the second digit; FF1 over
// the last nine.
func (t *Tokenizer) mobile(st *tokState, enc bool) error {
	n := len(st.nums)
	if err := t.crypt(10, st.nums[n-9:], tweakMobile, enc); err != nil {
		return err
	}
	st.store()
	return nil
}

// uscc: FF1 radix 31 over the first 17 characters; the check character
// keeps its offset from the valid one.
func (t *Tokenizer) uscc(st *tokState, enc bool) error {
	var vals [18]uint16
	for i := range 18 {
		vals[i] = uint16(usccValue(byte(st.runes[st.pos[i]])))
	}
	off := (int(vals[17]) - usccCheckOf(vals[:17]) + 31) % 31
	if err := t.crypt(31, vals[:17], tweakUSCC, enc); err != nil {
		return err
	}
	vals[17] = uint16((usccCheckOf(vals[:17]) + off) % 31)
	for i := range 18 {
		st.runes[st.pos[i]] = rune(usccAlphabet[vals[i]])
	}
	return nil
}

func usccCheckOf(vals []uint16) int {
	var b [17]byte
	for i, v := range vals {
		b[i] = usccAlphabet[v]
	}
	c, _ := USCCCheckChar(b[:])
	return usccValue(c)
}

// name replaces a Chinese name by a pseudonym from the name lists, keyed
// by HMAC of the whole name; the surname (compound if listed) is kept
// unless keep_surname is false. One-way.
func (t *Tokenizer) name(st *tokState, enc bool) error {
	if !enc {
		return ErrIrreversible
	}
	surname := 1
	if len(st.runes) >= 3 && compoundSurnames[string(st.runes[:2])] {
		surname = 2
	}
	st.mac.Reset()
	var b [4]byte
	for _, r := range st.runes {
		st.mac.Write(b[:copy(b[:], string(r))])
	}
	sum := st.mac.Sum(st.sum[:0])
	start := 0
	if t.keepSurname {
		start = surname
	} else {
		// a replaced surname is always a single character; the given name
		// fills the rest, so the length is kept.
		st.runes[0] = commonSurnames[(int(sum[0])<<8|int(sum[1]))%len(commonSurnames)]
		start = 1
	}
	var orig [4]rune // a name has 2-4 characters
	copy(orig[:], st.runes)
	for i := start; i < len(st.runes); i++ {
		st.runes[i] = givenChars[(int(sum[2*i+2])<<8|int(sum[2*i+3]))%len(givenChars)]
	}
	if slices.Equal(orig[:len(st.runes)], st.runes) && start < len(st.runes) {
		// A pseudonym equal to the name would show the name: take the next
		// character of the list for the last one.
		last := len(st.runes) - 1
		for j, r := range givenChars {
			if r == st.runes[last] {
				st.runes[last] = givenChars[(j+1)%len(givenChars)]
				break
			}
		}
	}
	return nil
}
