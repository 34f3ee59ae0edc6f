package masking

import (
	"bytes"
	"unicode"
	"unicode/utf8"
)

// textCol is how a text-type column constrains the values a mask writes:
// varchar(n) at most n characters, bpchar(n) exactly n (blank-padded),
// name at most 63 bytes. PostgreSQL counts characters, not bytes, for n.
type textCol struct {
	bpchar   bool
	maxChars int // 0: no limit
	maxBytes int // 0: no limit
}

func newTextCol(col Column) textCol {
	tc := textCol{bpchar: col.TypeOID == oidBpchar, maxChars: charLimit(col)}
	if col.TypeOID == oidName {
		tc.maxBytes = maxNameBytes
	}
	return tc
}

// content strips bpchar's padding; other types' values are content as
// they are. It also returns the input's length in characters, which an
// unconstrained bpchar output is padded back to.
func (tc textCol) content(v []byte) (c []byte, chars int) {
	if !tc.bpchar {
		return v, 0
	}
	chars = runeCount(v)
	for len(v) > 0 && v[len(v)-1] == ' ' {
		v = v[:len(v)-1]
	}
	return v, chars
}

// finish makes out[start:] a valid value of the column: it cuts it to
// the length limits at a character boundary and pads a bpchar (to n, or
// to inChars for an unconstrained bpchar).
func (tc textCol) finish(out []byte, start, inChars int) []byte {
	if tc.maxChars > 0 && len(out)-start > tc.maxChars {
		out = cutChars(out, start, tc.maxChars) // (fewer bytes are fewer characters)
	}
	if tc.maxBytes > 0 && len(out)-start > tc.maxBytes {
		end := start + tc.maxBytes
		for end > start && !utf8.RuneStart(out[end]) {
			end--
		}
		out = out[:end]
	}
	if tc.bpchar {
		want := tc.maxChars
		if want == 0 {
			want = inChars
		}
		for n := runeCount(out[start:]); n < want; n++ {
			out = append(out, ' ')
		}
	}
	return out
}

// fits reports whether a value of chars characters and n bytes fits the
// column without cutting.
func (tc textCol) fits(chars, n int) bool {
	return (tc.maxChars == 0 || chars <= tc.maxChars) && (tc.maxBytes == 0 || n <= tc.maxBytes)
}

// cutChars keeps at most n characters of out[start:].
func cutChars(out []byte, start, n int) []byte {
	i := start
	for k := 0; k < n && i < len(out); k++ {
		_, size := utf8.DecodeRune(out[i:])
		i += size
	}
	return out[:i]
}

// fill is a mask's masking character.
type fill struct {
	r rune
	b [utf8.UTFMax]byte
	n int
}

func (f fill) append(dst []byte, count int) []byte {
	for ; count > 0; count-- {
		dst = append(dst, f.b[:f.n]...)
	}
	return dst
}

// parseFill validates the fill option: one printable character that is
// neither a space nor a digit (a digit would make masked output look like
// data). The default is '*'.
func parseFill(s string) (fill, string) {
	if s == "" {
		s = "*"
	}
	r, size := utf8.DecodeRuneInString(s)
	if size != len(s) || r == utf8.RuneError {
		return fill{}, "must be exactly one character"
	}
	if !unicode.IsGraphic(r) || unicode.IsSpace(r) || unicode.IsDigit(r) {
		return fill{}, "must be a printable character that is neither a space nor a digit"
	}
	f := fill{r: r}
	f.n = utf8.EncodeRune(f.b[:], r)
	return f, ""
}

// textMask is the shared frame of the masks over text types: validate
// UTF-8, strip bpchar padding, mask the content, fit the column.
type textMask struct {
	name string
	oid  uint32
	tc   textCol
}

// run applies fn to the content of v. Text types have the same bytes in
// both formats.
func (m *textMask) run(dst, v []byte, format int16, fn func(out, content []byte) []byte) ([]byte, bool, error) {
	if format != FormatText && format != FormatBinary {
		return dst[:0], false, badFormat(m.name, m.oid, format)
	}
	if problem := textProblem(v); problem != "" {
		return dst[:0], false, &ValueError{Mask: m.name, TypeOID: m.oid, Format: format, Reason: problem}
	}
	c, chars := m.tc.content(v)
	out := fn(dst[:0], c)
	return m.tc.finish(out, 0, chars), false, nil
}

// textProblem rejects what PostgreSQL never sends for a text type:
// invalid UTF-8 (values are transcoded to UTF-8 before masking) and NUL.
func textProblem(v []byte) string {
	if bytes.IndexByte(v, 0) >= 0 {
		return "contains NUL"
	}
	if !utf8.Valid(v) {
		return "not valid UTF-8"
	}
	return ""
}

// runeCount is utf8.RuneCount without its allocation: since Go 1.26 it
// converts non-ASCII input to a string, which allocates beyond 32 bytes.
func runeCount(b []byte) int {
	n := 0
	for i := 0; i < len(b); n++ {
		if b[i] < utf8.RuneSelf {
			i++
			continue
		}
		_, size := utf8.DecodeRune(b[i:])
		i += size
	}
	return n
}
