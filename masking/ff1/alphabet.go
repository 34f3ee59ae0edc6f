package ff1

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// Alphabet maps characters to numerals (their position) and back.
type Alphabet struct {
	runes []rune
	index map[rune]uint16
	ascii [128]int32 // numeral+1 for ASCII characters, 0 if absent
}

// ErrNotInAlphabet means a character of a string is not in the alphabet.
var ErrNotInAlphabet = errors.New("ff1: character not in the alphabet")

// NewAlphabet returns the alphabet of the characters of s, in order. It
// needs 2 to 65536 distinct characters.
func NewAlphabet(s string) (*Alphabet, error) {
	a := &Alphabet{index: make(map[rune]uint16)}
	for _, r := range s {
		if _, dup := a.index[r]; dup {
			return nil, fmt.Errorf("ff1: alphabet repeats a character")
		}
		if len(a.runes) == MaxRadix {
			return nil, fmt.Errorf("ff1: alphabet longer than %d", MaxRadix)
		}
		a.index[r] = uint16(len(a.runes))
		if r < 128 {
			a.ascii[r] = int32(len(a.runes)) + 1
		}
		a.runes = append(a.runes, r)
	}
	if len(a.runes) < 2 {
		return nil, fmt.Errorf("ff1: alphabet needs at least 2 characters")
	}
	return a, nil
}

// Radix is the number of characters.
func (a *Alphabet) Radix() int { return len(a.runes) }

// Numeral returns r's numeral.
func (a *Alphabet) Numeral(r rune) (uint16, bool) {
	if r >= 0 && r < 128 {
		n := a.ascii[r]
		return uint16(n - 1), n != 0
	}
	n, ok := a.index[r]
	return n, ok
}

// Rune returns numeral n's character.
func (a *Alphabet) Rune(n uint16) rune { return a.runes[n] }

// Numerals appends s's numerals to dst.
func (a *Alphabet) Numerals(dst []uint16, s string) ([]uint16, error) {
	for _, r := range s {
		n, ok := a.Numeral(r)
		if !ok {
			return dst, ErrNotInAlphabet
		}
		dst = append(dst, n)
	}
	return dst, nil
}

// AppendString appends the characters of numerals xs to dst.
func (a *Alphabet) AppendString(dst []byte, xs []uint16) []byte {
	for _, x := range xs {
		dst = utf8.AppendRune(dst, a.runes[x])
	}
	return dst
}

// EncryptString encrypts s, whose characters must all be in alphabet a
// (whose size must be c's radix).
func (c *Cipher) EncryptString(a *Alphabet, s string, tweak []byte) (string, error) {
	return c.cryptString(a, s, tweak, true)
}

// DecryptString decrypts s (see EncryptString).
func (c *Cipher) DecryptString(a *Alphabet, s string, tweak []byte) (string, error) {
	return c.cryptString(a, s, tweak, false)
}

func (c *Cipher) cryptString(a *Alphabet, s string, tweak []byte, enc bool) (string, error) {
	if a.Radix() != int(c.radix) {
		return "", fmt.Errorf("ff1: alphabet of %d characters for a cipher of radix %d", a.Radix(), c.radix)
	}
	xs, err := a.Numerals(make([]uint16, 0, len(s)), s)
	if err != nil {
		return "", err
	}
	if err := c.crypt(xs, xs, tweak, enc); err != nil {
		return "", err
	}
	return string(a.AppendString(make([]byte, 0, len(s)), xs)), nil
}
