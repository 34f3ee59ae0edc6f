package masking

// tokenize: the tokenize action's mask on text types (text, varchar,
// bpchar, name), the same bytes in the text and binary formats. Tokens
// keep the number of characters and every separator, so varchar(n) and
// bpchar(n) limits and padding hold; see Tokenizer for what each class
// keeps.
type tokenMask struct {
	oid uint32
	t   *Tokenizer
}

func newTokenize(opts Options, col Column, keys KeySource) (Masker, error) {
	t, err := NewTokenizer(col.Class, opts, keys)
	if err != nil {
		return nil, err
	}
	return &tokenMask{oid: col.TypeOID, t: t}, nil
}

func (m *tokenMask) Mask(dst, v []byte, format int16) ([]byte, bool, error) {
	if format != FormatText && format != FormatBinary {
		return dst[:0], false, badFormat("tokenize", m.oid, format)
	}
	if p := textProblem(v); p != "" {
		return dst[:0], false, &ValueError{Mask: "tokenize", TypeOID: m.oid, Format: format, Reason: p}
	}
	out, err := m.t.Token(dst, v)
	if err != nil {
		return dst[:0], false, &ValueError{Mask: "tokenize", TypeOID: m.oid, Format: format, Reason: "cannot be tokenized"}
	}
	return out, false, nil
}
