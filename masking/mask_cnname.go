package masking

import "unicode/utf8"

// cn_name: a Chinese personal name shows its surname and one fill per
// other character: 张三 → 张*, 张三丰 → 张**, 欧阳娜娜 → 欧阳** (compound
// surnames, see surnames.go). Names of ethnic minorities written with a
// middle dot keep their first character and the dots: 买买提·艾力 →
// 买**·**. A one-character name is masked whole. Other scripts keep the
// first character (John Smith → J*********). keep_surname: false masks
// every character (dots included). Leading and trailing spaces are
// dropped.

type cnNameMask struct {
	textMask
	keepSurname bool
	fill        fill
}

func newCNName(opts Options, col Column) (Masker, error) {
	f, err := fillOption("cn_name", opts.Fill, col)
	if err != nil {
		return nil, err
	}
	keep := true
	if opts.KeepSurname != nil {
		keep = *opts.KeepSurname
	}
	return &cnNameMask{textMask: textMask{name: "cn_name", oid: col.TypeOID, tc: newTextCol(col)}, keepSurname: keep, fill: f}, nil
}

func (m *cnNameMask) Mask(dst, v []byte, format int16) ([]byte, bool, error) {
	return m.run(dst, v, format, m.apply)
}

func (m *cnNameMask) apply(out, c []byte) []byte {
	c = trimSpace(c)
	n := runeCount(c)
	if !m.keepSurname || n <= 1 {
		return m.fill.append(out, n)
	}
	_, first := utf8.DecodeRune(c)
	if hasNameDot(c) {
		out = append(out, c[:first]...)
		for rest := c[first:]; len(rest) > 0; {
			r, size := utf8.DecodeRune(rest)
			if isNameDot(r) {
				out = append(out, rest[:size]...)
			} else {
				out = m.fill.append(out, 1)
			}
			rest = rest[size:]
		}
		return out
	}
	surname := first
	// In a three-character name, a compound surname whose first
	// character is a common surname of its own may be that surname and
	// the first character of the given name (单于飞 may be 单 + 于飞, 陈张伟
	// 陈 + 张伟): the reading that shows less wins.
	if n >= 3 {
		_, second := utf8.DecodeRune(c[first:])
		if p := string(c[:first+second]); compoundSurnames[p] && (n >= 4 || !ambiguousCompound[p]) {
			surname = first + second
		}
	}
	out = append(out, c[:surname]...)
	return m.fill.append(out, n-runeCount(c[:surname]))
}

// isNameDot reports the separators used in transliterated names: · • ・
// ‧ ∙ ･ ．and the ASCII full stop.
func isNameDot(r rune) bool {
	switch r {
	case 0x00B7, 0x2022, 0x30FB, 0x2027, 0x2219, 0xFF65, 0xFF0E, '.':
		return true
	}
	return false
}

func hasNameDot(c []byte) bool {
	for len(c) > 0 {
		r, size := utf8.DecodeRune(c)
		if isNameDot(r) {
			return true
		}
		c = c[size:]
	}
	return false
}
