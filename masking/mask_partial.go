package masking

import "unicode/utf8"

// partial: keep the first keep_first and last keep_last characters
// (Unicode characters, not bytes) and write one fill per hidden
// character, so the value keeps its length. Defaults: keep_first 1,
// keep_last 1, fill "*". A value of at most keep_first+keep_last
// characters would be shown whole, so it is masked completely instead.
// bpchar padding is not content: it is stripped before and restored
// after.
//
//	partial keep_first=3 keep_last=4:  13812345678 → 138****5678
//	partial (defaults):                张三丰 → 张*丰;  张三 → **

type partialMask struct {
	textMask
	first, last int
	fill        fill
}

func newPartial(opts Options, col Column) (Masker, error) {
	first, err := keepOption("partial", "keep_first", opts.KeepFirst, 1, 100, col)
	if err != nil {
		return nil, err
	}
	last, err := keepOption("partial", "keep_last", opts.KeepLast, 1, 100, col)
	if err != nil {
		return nil, err
	}
	f, err := fillOption("partial", opts.Fill, col)
	if err != nil {
		return nil, err
	}
	return &partialMask{textMask: textMask{name: "partial", oid: col.TypeOID, tc: newTextCol(col)}, first: first, last: last, fill: f}, nil
}

func (m *partialMask) Mask(dst, v []byte, format int16) ([]byte, bool, error) {
	return m.run(dst, v, format, m.apply)
}

func (m *partialMask) apply(out, c []byte) []byte {
	return keepEnds(out, c, m.first, m.last, m.fill)
}

// keepEnds appends c with all but its first and last characters replaced
// by fills; when nothing would be hidden, everything is.
func keepEnds(out, c []byte, first, last int, f fill) []byte {
	n := runeCount(c)
	if n <= first+last {
		return f.append(out, n)
	}
	head := 0
	for k := 0; k < first; k++ {
		_, size := utf8.DecodeRune(c[head:])
		head += size
	}
	tail := len(c)
	for k := 0; k < last; k++ {
		_, size := utf8.DecodeLastRune(c[:tail])
		tail -= size
	}
	out = append(out, c[:head]...)
	out = f.append(out, n-first-last)
	return append(out, c[tail:]...)
}

// keepOption reads keep_first/keep_last: def when unset, else 0..hi.
func keepOption(mask, option string, v *int, def, hi int, col Column) (int, error) {
	if v == nil {
		return def, nil
	}
	if *v < 0 || *v > hi {
		return 0, &OptionError{Mask: mask, Option: option, TypeOID: col.TypeOID, Reason: "must be between 0 and " + itoa(hi)}
	}
	return *v, nil
}

// fillOption reads the fill option.
func fillOption(mask, s string, col Column) (fill, error) {
	f, problem := parseFill(s)
	if problem != "" {
		return fill{}, &OptionError{Mask: mask, Option: "fill", TypeOID: col.TypeOID, Reason: problem}
	}
	return f, nil
}

func itoa(n int) string { return string(appendPadded(nil, n, 1)) }
