package masking

// null: every value becomes SQL NULL, whatever the column's type. It
// takes no options.
type nullMask struct{}

func newNull(Options, Column) (Masker, error) { return nullMask{}, nil }

func (nullMask) Mask(dst, v []byte, format int16) ([]byte, bool, error) {
	return dst[:0], true, nil
}
