package masking

import (
	"bytes"
	"unicode/utf8"
)

// email: keep keep_first characters (default 1) and keep_last (default 0)
// of the local part, replace the rest of it by three fills whatever its
// length (the length is not shown), keep the domain: zhangsan@163.com →
// z***@163.com. A local part no longer than keep_first+keep_last is
// hidden whole (***@163.com). A value that is not local@domain is masked
// completely, one fill per character. In a varchar(n) too short for three
// fills, fewer are written (at least one).

type emailMask struct {
	textMask
	first, last int
	fill        fill
}

func newEmail(opts Options, col Column) (Masker, error) {
	first, err := keepOption("email", "keep_first", opts.KeepFirst, 1, 64, col)
	if err != nil {
		return nil, err
	}
	last, err := keepOption("email", "keep_last", opts.KeepLast, 0, 64, col)
	if err != nil {
		return nil, err
	}
	f, err := fillOption("email", opts.Fill, col)
	if err != nil {
		return nil, err
	}
	return &emailMask{textMask: textMask{name: "email", oid: col.TypeOID, tc: newTextCol(col)}, first: first, last: last, fill: f}, nil
}

func (m *emailMask) Mask(dst, v []byte, format int16) ([]byte, bool, error) {
	return m.run(dst, v, format, m.apply)
}

func (m *emailMask) apply(out, c []byte) []byte {
	c = trimSpace(c)
	at, atLen := lastAt(c)
	if at <= 0 || at+atLen >= len(c) || !plausibleDomain(c[at+atLen:]) {
		return m.fill.append(out, runeCount(c))
	}
	local, rest := c[:at], c[at:]
	n := runeCount(local)
	first, last := m.first, m.last
	if n <= first+last {
		first, last = 0, 0
	}
	head := 0
	for k := 0; k < first; k++ {
		_, size := utf8.DecodeRune(local[head:])
		head += size
	}
	tail := len(local)
	for k := 0; k < last; k++ {
		_, size := utf8.DecodeLastRune(local[:tail])
		tail -= size
	}
	// Three fills, fewer if the column could not hold them.
	fills := 3
	fixed := first + last + runeCount(rest)
	fixedBytes := head + len(local) - tail + len(rest)
	for fills > 1 && !m.tc.fits(fixed+fills, fixedBytes+fills*m.fill.n) {
		fills--
	}
	out = append(out, local[:head]...)
	out = m.fill.append(out, fills)
	out = append(out, local[tail:]...)
	return append(out, rest...)
}

// fullWidthAt is '＠' (U+FF20).
var fullWidthAt = []byte("\uFF20")

// lastAt finds the last '@' or '＠' and its length in bytes.
func lastAt(c []byte) (int, int) {
	i, j := bytes.LastIndexByte(c, '@'), bytes.LastIndex(c, fullWidthAt)
	if j > i {
		return j, len(fullWidthAt)
	}
	if i < 0 {
		return -1, 0
	}
	return i, 1
}

// maxDomainDigits is the most digits a domain shown in clear may hold
// (mail.10086.cn has 5).
const maxDomainDigits = 6

// plausibleDomain reports whether a domain may be shown.
func plausibleDomain(d []byte) bool {
	// A domain shown in clear must look like one: ASCII letters, digits,
	// '-' and '.', at most 253 bytes, a dot, and a top-level label of
	// letters only. Anything else (a value smuggled after an '@') is not
	// shown.
	if len(d) == 0 || len(d) > 253 {
		return false
	}
	// A label without letters may be short (163.com, 126.com) but not a
	// long number, which could be a phone or ID number smuggled in; nor
	// may the domain hold more than maxDomainDigits digits in all (a
	// number split over labels, or one behind a letter: a13812345678.com).
	lastDot, start, letter, digits := -1, 0, false, 0
	for i, c := range d {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
			letter = true
		case c >= '0' && c <= '9':
			if digits++; digits > maxDomainDigits {
				return false
			}
		case c == '-':
		case c == '.':
			if !letter && i-start > 4 {
				return false
			}
			lastDot, start, letter = i, i+1, false
		default:
			return false
		}
	}
	if lastDot <= 0 || lastDot == len(d)-1 {
		return false
	}
	tld := d[lastDot+1:]
	if len(tld) > 4 && (tld[0] == 'x' || tld[0] == 'X') && (tld[1] == 'n' || tld[1] == 'N') && tld[2] == '-' && tld[3] == '-' {
		return true // a punycode TLD; its characters were checked above
	}
	for _, c := range tld {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}
