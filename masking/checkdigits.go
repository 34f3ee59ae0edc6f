package masking

// Check characters of Chinese identifiers and payment cards, as described
// in ../shared/pii/FORMATS.md. All functions take the normalised form
// (half-width digits, upper-case letters, no separators) as a string or a
// byte slice, and allocate nothing.

// cnidWeights are the ISO 7064 MOD 11-2 weights 2^(18-i) mod 11 of GB
// 11643-1999 for positions 1..17.
var cnidWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// cnidChecks maps Σ digit·weight mod 11 to the check character.
const cnidChecks = "10X98765432"

// CNIDCheckChar returns the check character ('0'-'9' or 'X') of a
// resident ID number given its first 17 digits. ok is false unless
// first17 is exactly 17 ASCII digits.
func CNIDCheckChar[T ~string | ~[]byte](first17 T) (c byte, ok bool) {
	if len(first17) != 17 {
		return 0, false
	}
	sum := 0
	for i := 0; i < 17; i++ {
		d := first17[i]
		if d < '0' || d > '9' {
			return 0, false
		}
		sum += int(d-'0') * cnidWeights[i]
	}
	return cnidChecks[sum%11], true
}

// ValidCNID reports whether id is a valid 18-character resident ID number
// (GB 11643-1999): the pattern
// ^[1-9]\d{5}(18|19|20)\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])\d{3}[\dX]$,
// a birth date that exists, and the right check character (upper-case X).
func ValidCNID[T ~string | ~[]byte](id T) bool {
	if len(id) != 18 || id[0] == '0' {
		return false
	}
	c, ok := CNIDCheckChar(id[:17])
	if !ok || id[17] != c {
		return false
	}
	year := atoiDigits(id[6:10])
	if year < 1800 || year > 2099 {
		return false
	}
	month, day := atoiDigits(id[10:12]), atoiDigits(id[12:14])
	return month >= 1 && month <= 12 && day >= 1 && day <= daysIn(year, month)
}

// atoiDigits converts ASCII digits known to be digits.
func atoiDigits[T ~string | ~[]byte](s T) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// LuhnCheckDigit returns the digit to append to payload so that the
// result passes the Luhn check (ISO/IEC 7812). ok is false unless payload
// is one or more ASCII digits.
func LuhnCheckDigit[T ~string | ~[]byte](payload T) (d byte, ok bool) {
	if len(payload) == 0 {
		return 0, false
	}
	// The check digit will be rightmost, so the payload's rightmost digit
	// is doubled.
	sum, ok := luhnSum(payload, true)
	if !ok {
		return 0, false
	}
	return byte('0' + (10-sum%10)%10), true
}

// ValidLuhn reports whether digits (at least two ASCII digits) pass the
// Luhn check: from the right, double every second digit, subtract 9 from
// results above 9, sum; valid when the sum is a multiple of 10.
func ValidLuhn[T ~string | ~[]byte](digits T) bool {
	if len(digits) < 2 {
		return false
	}
	sum, ok := luhnSum(digits, false)
	return ok && sum%10 == 0
}

// luhnSum sums digits from the right, doubling every second one starting
// with the rightmost when doubleFirst.
func luhnSum[T ~string | ~[]byte](digits T, doubleFirst bool) (int, bool) {
	sum, double := 0, doubleFirst
	for i := len(digits) - 1; i >= 0; i-- {
		c := digits[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		d := int(c - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum, true
}

// usccAlphabet lists the characters of a unified social credit code in
// value order: 0-9 → 0..9, then A..Y without I, O, S, V, Z → 10..30.
const usccAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"

// usccWeights are 3^(i-1) mod 31 for positions 1..17 (GB 32100-2015).
var usccWeights = [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}

// usccValue is the value of a USCC character, or -1.
func usccValue(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'A' && c <= 'Y':
		for i := 10; i < len(usccAlphabet); i++ {
			if usccAlphabet[i] == c {
				return i
			}
		}
	}
	return -1
}

// USCCCheckChar returns the check character of a unified social credit
// code (GB 32100-2015) given its first 17 characters: 31 − (Σ value·weight
// mod 31), 31 mapping to 0. ok is false unless first17 is 17 characters
// of the USCC alphabet (digits and upper-case A-Y without I, O, S, V, Z).
func USCCCheckChar[T ~string | ~[]byte](first17 T) (c byte, ok bool) {
	if len(first17) != 17 {
		return 0, false
	}
	sum := 0
	for i := 0; i < 17; i++ {
		v := usccValue(first17[i])
		if v < 0 {
			return 0, false
		}
		sum += v * usccWeights[i]
	}
	return usccAlphabet[(31-sum%31)%31], true
}

// ValidUSCC reports whether code is an 18-character unified social credit
// code with the right check character. It does not verify the embedded
// GB 11714 organisation code's own check character; FORMATS.md notes that
// some real codes fail even the outer check.
func ValidUSCC[T ~string | ~[]byte](code T) bool {
	if len(code) != 18 {
		return false
	}
	c, ok := USCCCheckChar(code[:17])
	return ok && code[17] == c
}
