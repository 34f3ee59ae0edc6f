package masking

import (
	"sync"
	"unicode"

	"golang.org/x/text/encoding/simplifiedchinese"
)

// Token categories: a tokenized character stays in its category, so
// digits stay digits, letters keep their case and Chinese characters stay
// Chinese characters a GBK client can encode. Anything else (spaces,
// dashes, punctuation, '·', '@') is a separator and is kept in place.
const (
	catSep    = iota
	catDigit  // 0-9, radix 10
	catUpper  // A-Z, radix 26
	catLower  // a-z, radix 26
	catHanzi1 // the 6,763 characters of GB 2312
	catHanzi2 // the other CJK Unified Ideographs U+4E00..U+9FA5 (GBK)
	numCats
)

// hanziTables maps the CJK Unified Ideographs of GBK to a category and a
// numeral, and back.
type hanziTables struct {
	cat     map[rune]uint8
	numeral map[rune]uint16
	runes   [numCats][]rune
}

var hanzi = sync.OnceValue(func() *hanziTables {
	t := &hanziTables{cat: make(map[rune]uint8, 20902), numeral: make(map[rune]uint16, 20902)}
	dec := simplifiedchinese.GBK.NewDecoder()
	var buf [2]byte
	for hi := 0xB0; hi <= 0xF7; hi++ { // GB 2312 levels 1 and 2
		for lo := 0xA1; lo <= 0xFE; lo++ {
			buf[0], buf[1] = byte(hi), byte(lo)
			out, err := dec.Bytes(buf[:])
			if err != nil {
				continue
			}
			rs := []rune(string(out))
			if len(rs) != 1 || rs[0] < 0x4E00 || rs[0] > 0x9FA5 {
				continue
			}
			if _, dup := t.cat[rs[0]]; dup {
				continue
			}
			t.cat[rs[0]] = catHanzi1
			t.numeral[rs[0]] = uint16(len(t.runes[catHanzi1]))
			t.runes[catHanzi1] = append(t.runes[catHanzi1], rs[0])
		}
	}
	for r := rune(0x4E00); r <= 0x9FA5; r++ {
		if _, ok := t.cat[r]; ok {
			continue
		}
		t.cat[r] = catHanzi2
		t.numeral[r] = uint16(len(t.runes[catHanzi2]))
		t.runes[catHanzi2] = append(t.runes[catHanzi2], r)
	}
	return t
})

// catRadix is each category's radix (hanzi radixes come from the tables).
func catRadix(c uint8) int {
	switch c {
	case catDigit:
		return 10
	case catUpper, catLower:
		return 26
	case catHanzi1, catHanzi2:
		return len(hanzi().runes[c])
	}
	return 0
}

// classify returns r's category and numeral.
func classify(r rune) (uint8, uint16) {
	switch {
	case r >= '0' && r <= '9':
		return catDigit, uint16(r - '0')
	case r >= 'A' && r <= 'Z':
		return catUpper, uint16(r - 'A')
	case r >= 'a' && r <= 'z':
		return catLower, uint16(r - 'a')
	case r >= 0x4E00 && r <= 0x9FA5:
		h := hanzi()
		return h.cat[r], h.numeral[r]
	}
	return catSep, 0
}

// foreignCat is the category a one-way token gives a letter or number
// that classify calls a separator: letters of other scripts, accented
// Latin letters, Chinese characters outside U+4E00..U+9FA5 (the rare
// ones of Extension A and beyond, the most identifying of all), digits of
// other scripts. Chinese characters become Chinese characters of GB 2312,
// cased letters ASCII letters of their case, other letters lower-case
// ASCII letters and numbers ASCII digits: the token stays encodable in
// GBK and never takes more bytes than the value (a Chinese character is
// 3 or 4 bytes in UTF-8, any other non-ASCII character at least 2), so
// it fits where the value did (name is 63 bytes). Marks, punctuation,
// symbols and spaces stay separators (catSep).
func foreignCat(r rune) uint8 {
	switch {
	case unicode.Is(unicode.Han, r):
		return catHanzi1
	case unicode.IsUpper(r):
		return catUpper
	case unicode.IsLetter(r):
		return catLower
	case unicode.IsNumber(r):
		return catDigit
	}
	return catSep
}

// unclassify is classify's inverse.
func unclassify(c uint8, n uint16) rune {
	switch c {
	case catDigit:
		return '0' + rune(n)
	case catUpper:
		return 'A' + rune(n)
	case catLower:
		return 'a' + rune(n)
	}
	return hanzi().runes[c][n]
}
