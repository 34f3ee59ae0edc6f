package masking

// identMask is the display mask shared by cn_id, cn_mobile, bank_card and
// uscc. It normalises the value (FORMATS.md: trim, full-width to
// half-width, separators dropped, upper case), checks its shape, and
// writes the normalised value with only its first and last characters
// shown and one fill per hidden character: 310105********8032. The output
// is the normalised form, never longer than the input, so it fits any
// column the input fitted. A value without the expected shape is masked
// completely, one fill per character: it is never passed through.
type identMask struct {
	textMask
	flags       int
	shape       func(b []byte) (core []byte, ok bool)
	first, last int
	// legacy adjusts first/last for a core of another length (the
	// 15-digit resident ID); nil if none.
	legacy func(n, first, last int) (int, int)
	fill   fill
}

// identLimits are the option rules of one identifier mask.
type identLimits struct {
	mask              string
	defFirst, defLast int
	maxFirst, maxLast int
	maxShown          int    // keep_first + keep_last at most
	why               string // why maxShown
	flags             int
	shape             func(b []byte) ([]byte, bool)
	legacy            func(n, first, last int) (int, int)
}

func newIdent(lim identLimits, opts Options, col Column) (Masker, error) {
	first, err := keepOption(lim.mask, "keep_first", opts.KeepFirst, lim.defFirst, lim.maxFirst, col)
	if err != nil {
		return nil, err
	}
	last, err := keepOption(lim.mask, "keep_last", opts.KeepLast, lim.defLast, lim.maxLast, col)
	if err != nil {
		return nil, err
	}
	if first+last > lim.maxShown {
		return nil, &OptionError{Mask: lim.mask, Option: "keep_last", TypeOID: col.TypeOID,
			Reason: "keep_first + keep_last must be at most " + itoa(lim.maxShown) + ": " + lim.why}
	}
	f, err := fillOption(lim.mask, opts.Fill, col)
	if err != nil {
		return nil, err
	}
	return &identMask{
		textMask: textMask{name: lim.mask, oid: col.TypeOID, tc: newTextCol(col)},
		flags:    lim.flags, shape: lim.shape, first: first, last: last, legacy: lim.legacy, fill: f,
	}, nil
}

func (m *identMask) Mask(dst, v []byte, format int16) ([]byte, bool, error) {
	return m.run(dst, v, format, m.apply)
}

func (m *identMask) apply(out, c []byte) []byte {
	start := len(out)
	out = normalize(out, c, m.flags)
	core, ok := m.shape(out[start:])
	if !ok {
		return m.fill.append(out[:start], runeCount(trimSpace(c)))
	}
	// core is ASCII (every shape checks it) and lies inside out.
	n := len(core)
	first, last := m.first, m.last
	if m.legacy != nil {
		first, last = m.legacy(n, first, last)
	}
	var tail [32]byte
	copy(tail[:last], core[n-last:])
	copy(out[start:], core[:first])
	out = out[:start+first]
	out = m.fill.append(out, n-first-last)
	return append(out, tail[:last]...)
}

// cn_id: resident ID numbers (GB 11643-1999). Default: first 6 + last 4
// (310105********8032), hiding exactly the 8-digit birth date; the
// stricter first 1 + last 1 is keep_first: 1, keep_last: 1. At most 10
// characters are ever shown. Lower-case x and full-width digits are
// normalised; spaces and dashes inside are dropped. A legacy 15-digit
// number (no check digit) shows at most its first 6 and last 3 digits,
// so its 6-digit birth date stays hidden too.
var cnidLimits = identLimits{
	mask: "cn_id", defFirst: 6, defLast: 4, maxFirst: 10, maxLast: 10, maxShown: 10,
	why:   "cn_id always hides at least 8 characters (the birth date under the default)",
	flags: dropSeparators | upperCase,
	shape: func(b []byte) ([]byte, bool) { return b, cnidShape(b) },
	legacy: func(n, first, last int) (int, int) {
		if n == 15 {
			return min(first, 6), min(last, 3)
		}
		return first, last
	},
}

// cn_mobile: mainland mobile numbers ^1[3-9]\d{9}$. Default first 3 +
// last 4 (138****5678). A +86, 0086 or 86 prefix, spaces, dashes and
// brackets are dropped; the output is the 11-digit form. At most 7
// digits are shown. Other phone numbers (landlines) are masked
// completely.
var mobileLimits = identLimits{
	mask: "cn_mobile", defFirst: 3, defLast: 4, maxFirst: 7, maxLast: 7, maxShown: 7,
	why:   "cn_mobile always hides at least 4 digits",
	flags: dropSeparators,
	shape: mobileDigits,
}

// bank_card: payment card numbers of 16 to 19 digits. Default first 6 +
// last 4 (622202******7894), also the most PCI DSS allows, so keep_first
// is at most 6 and keep_last at most 4. Spaces and dashes are dropped.
var cardLimits = identLimits{
	mask: "bank_card", defFirst: 6, defLast: 4, maxFirst: 6, maxLast: 4, maxShown: 10,
	why:   "PCI DSS allows at most the first 6 and last 4 digits",
	flags: dropSeparators,
	shape: func(b []byte) ([]byte, bool) { return b, cardShape(b) },
}

// uscc: unified social credit codes (GB 32100-2015). Default first 8 +
// last 1 (91350100*********3): the registration authority, organisation
// type and region stay, the 9-character organisation code (GB 11714,
// positions 9-17: the part that can identify a sole trader) is hidden.
// At most 9 characters are shown. Lower case is normalised.
var usccLimits = identLimits{
	mask: "uscc", defFirst: 8, defLast: 1, maxFirst: 9, maxLast: 9, maxShown: 9,
	why:   "uscc always hides at least 9 characters (the organisation code under the default)",
	flags: dropSeparators | upperCase,
	shape: func(b []byte) ([]byte, bool) { return b, usccShape(b) },
}
