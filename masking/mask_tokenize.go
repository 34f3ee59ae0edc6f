package masking

import "fmt"

// tokenize: the tokenize action's mask on text types (text, varchar,
// bpchar, name), the same bytes in the text and binary formats. Tokens
// keep the number of characters and every separator, so varchar(n) and
// bpchar(n) limits and padding hold; see Tokenizer for what each class
// keeps.
type tokenMask struct {
	oid uint32
	tc  textCol
	t   *Tokenizer
}

// String names the mask and class; the tokenizer's keys never print.
func (m *tokenMask) String() string { return "masking.tokenize{class: " + m.t.class + "}" }

// GoString is String.
func (m *tokenMask) GoString() string { return m.String() }

// Format makes every verb print String.
func (m *tokenMask) Format(f fmt.State, _ rune) { fmt.Fprint(f, m.String()) }

func newTokenize(opts Options, col Column, keys KeySource) (Masker, error) {
	t, err := NewTokenizer(col.Class, opts, keys)
	if err != nil {
		return nil, err
	}
	return &tokenMask{oid: col.TypeOID, tc: newTextCol(col), t: t}, nil
}

// NewTokenMask is the tokenize mask of a column with a tokenizer the
// caller shares between columns and sessions (so that its cache is
// shared too). It accepts the types New("tokenize", ...) accepts.
func NewTokenMask(t *Tokenizer, col Column) (Masker, error) {
	if !contains(textTypes, col.TypeOID) {
		return nil, &TypeError{Mask: "tokenize", TypeOID: col.TypeOID}
	}
	return &tokenMask{oid: col.TypeOID, tc: newTextCol(col), t: t}, nil
}

func (m *tokenMask) Mask(dst, v []byte, format int16) ([]byte, bool, error) {
	if format != FormatText && format != FormatBinary {
		return dst[:0], false, badFormat("tokenize", m.oid, format)
	}
	if p := textProblem(v); p != "" {
		return dst[:0], false, &ValueError{Mask: "tokenize", TypeOID: m.oid, Format: format, Reason: p}
	}
	c, chars := m.tc.content(v)
	out, err := m.t.Token(dst, c)
	if err != nil {
		return dst[:0], false, &ValueError{Mask: "tokenize", TypeOID: m.oid, Format: format, Reason: "cannot be tokenized"}
	}
	// A token has the value's length, so this only cuts or pads values
	// that did not fit the column in the first place.
	return m.tc.finish(out, 0, chars), false, nil
}
