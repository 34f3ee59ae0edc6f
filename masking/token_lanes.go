package masking

// The classes MaskAhead enciphers in lockstep, and how each reads the
// digits its token enciphers from an ASCII value and writes the token
// back: the same tokens as their schemes' one-by-one paths (asciiID and
// idToken, card, mobile) for values of ASCII digits.

// maxLaneDigits is the most digits a lane enciphers (an ID's 14).
const maxLaneDigits = 14

// lanePath is where laneOf sends a value.
type lanePath uint8

const (
	inLanes  lanePath = iota // FF1 in lockstep over the digits laneOf returns
	oneByOne                 // Token, one by one (an ID with an unreal birth date)
	toMask                   // left to Mask (another shape: separators, other digits)
)

// laneOf reads the digits c's token enciphers, as an integer of digits
// numerals, with the offset of c's check character from the valid one
// (IDs, cards) for laneToken.
func (t *Tokenizer) laneOf(c []byte) (x uint64, digits, off int, path lanePath) {
	switch t.class {
	case "cn_id":
		n, off, isID, real := idLaneOf(c)
		switch {
		case !isID:
			return 0, 0, 0, toMask
		case !real:
			return 0, 0, 0, oneByOne
		}
		return n, 14, off, inLanes
	case "cn_mobile":
		// mobileShape over ASCII digits: 1[3-9] and nine digits, after 86
		// or 0086; the nine are enciphered.
		n := len(c)
		if !onlyASCIIDigits(c) || (n != 11 && n != 13 && n != 15) ||
			(n == 13 && string(c[:2]) != "86") || (n == 15 && string(c[:4]) != "0086") ||
			c[n-11] != '1' || c[n-10] < '3' {
			return 0, 0, 0, toMask
		}
		return asciiValue(c[n-9:]), 9, 0, inLanes
	case "bank_card":
		// card: the BIN (six digits) kept, the digits up to the last
		// enciphered, the last the Luhn digit plus the input's offset.
		n := len(c)
		if n < 13 || !onlyASCIIDigits(c) {
			return 0, 0, 0, toMask
		}
		luhn, _ := LuhnCheckDigit(c[:n-1])
		return asciiValue(c[6 : n-1]), n - 7, (int(c[n-1]) - int(luhn) + 10) % 10, inLanes
	}
	return 0, 0, 0, toMask
}

// laneTweak is the FF1 tweak of the class's lanes.
func (t *Tokenizer) laneTweak() []byte {
	switch t.class {
	case "cn_id":
		return tweakID
	case "cn_mobile":
		return tweakMobile
	}
	return tweakCard
}

// laneToken writes av's token into av.tok from its enciphered digits x
// (an ID's within the IDs' domain) and off from laneOf.
func (t *Tokenizer) laneToken(av *aheadVal, x uint64, off int) {
	c, tok := av.c, av.tok[:len(av.c)]
	switch t.class {
	case "cn_id":
		appendIDNumber(tok[:0], x, off)
	case "cn_mobile":
		n := len(c)
		copy(tok, c[:n-9])
		putASCII(tok[n-9:], x)
	default:
		n := len(c)
		copy(tok, c[:6])
		putASCII(tok[6:n-1], x)
		luhn, _ := LuhnCheckDigit(tok[:n-1])
		tok[n-1] = byte('0' + (int(luhn-'0')+off)%10)
	}
}

// onlyASCIIDigits reports whether c is all ASCII digits.
func onlyASCIIDigits(c []byte) bool {
	for _, b := range c {
		if b < '0' || b > '9' {
			return false
		}
	}
	return true
}

// asciiValue reads ASCII digits as an integer.
func asciiValue(c []byte) uint64 {
	var x uint64
	for _, b := range c {
		x = x*10 + uint64(b-'0')
	}
	return x
}

// putASCII writes x as len(b) ASCII digits (leading zeros kept).
func putASCII(b []byte, x uint64) {
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = byte('0' + x%10)
		x /= 10
	}
}
