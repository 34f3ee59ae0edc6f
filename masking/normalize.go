package masking

import (
	"unicode"
	"unicode/utf8"
)

// Normalisation per FORMATS.md ("Normalise first"): trim, full-width to
// half-width, optionally drop separators inside and upper-case ASCII
// letters. The result is appended to dst.

const (
	dropSeparators = 1 << iota // spaces, dashes, dots and brackets inside the value
	upperCase                  // a-z to A-Z (the x of an ID number)
)

// halfWidth maps full-width ASCII variants (U+FF01..U+FF5E) and the
// ideographic space to ASCII; other runes are returned as they are.
func halfWidth(r rune) rune {
	switch {
	case r >= 0xFF01 && r <= 0xFF5E:
		return r - 0xFF01 + '!'
	case r == 0x3000:
		return ' '
	}
	return r
}

// isSeparator reports the characters people put inside numbers.
func isSeparator(r rune) bool {
	switch r {
	case ' ', '-', '.', '(', ')', '\t', 0x2010, 0x2011, 0x2012, 0x2013, 0x2014, 0x2212, 0x00A0:
		return true
	}
	return false
}

// trimSpace trims Unicode white space (and the ideographic space).
func trimSpace(v []byte) []byte {
	for len(v) > 0 {
		r, size := utf8.DecodeRune(v)
		if !unicode.IsSpace(r) {
			break
		}
		v = v[size:]
	}
	for len(v) > 0 {
		r, size := utf8.DecodeLastRune(v)
		if !unicode.IsSpace(r) {
			break
		}
		v = v[:len(v)-size]
	}
	return v
}

// normalize appends the normalised form of v to dst.
func normalize(dst, v []byte, flags int) []byte {
	v = trimSpace(v)
	for len(v) > 0 {
		if c := v[0]; c < utf8.RuneSelf { // ASCII fast path: the common case for IDs, cards, phones
			v = v[1:]
			if flags&dropSeparators != 0 && isSeparator(rune(c)) {
				continue
			}
			if flags&upperCase != 0 && c >= 'a' && c <= 'z' {
				c -= 'a' - 'A'
			}
			dst = append(dst, c)
			continue
		}
		r, size := utf8.DecodeRune(v)
		v = v[size:]
		r = halfWidth(r)
		if flags&dropSeparators != 0 && isSeparator(r) {
			continue
		}
		if flags&upperCase != 0 && r >= 'a' && r <= 'z' {
			r -= 'a' - 'A'
		}
		dst = utf8.AppendRune(dst, r)
	}
	return dst
}

// allDigits reports whether b is one or more ASCII digits.
func allDigits(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if !isDigit(c) {
			return false
		}
	}
	return true
}

// cnidShape reports whether b (normalised) has the shape of a resident
// ID number: 18 characters [1-9]\d{16}[\dX], or the legacy 15 digits
// [1-9]\d{14}. Dates and check characters are not verified: a mistyped
// number is still displayed masked the same way.
func cnidShape(b []byte) bool {
	switch len(b) {
	case 18:
		return b[0] != '0' && allDigits(b[:17]) && (isDigit(b[17]) || b[17] == 'X')
	case 15:
		return b[0] != '0' && allDigits(b)
	}
	return false
}

// mobileDigits strips a +86 / 0086 / 86 country prefix from a normalised
// phone number (separators dropped; the + survives) and reports whether
// the rest is a mainland mobile number ^1[3-9]\d{9}$.
func mobileDigits(b []byte) ([]byte, bool) {
	switch {
	case len(b) == 14 && string(b[:3]) == "+86":
		b = b[3:]
	case len(b) == 15 && string(b[:4]) == "0086":
		b = b[4:]
	case len(b) == 13 && string(b[:2]) == "86":
		b = b[2:]
	}
	return b, len(b) == 11 && b[0] == '1' && b[1] >= '3' && b[1] <= '9' && allDigits(b)
}

// cardShape reports a payment card number: 16 to 19 digits.
func cardShape(b []byte) bool { return len(b) >= 16 && len(b) <= 19 && allDigits(b) }

// usccShape reports 18 characters of the USCC alphabet (the check
// character is not verified).
func usccShape(b []byte) bool {
	if len(b) != 18 {
		return false
	}
	for _, c := range b {
		if usccValue(c) < 0 {
			return false
		}
	}
	return true
}
