package resultmask

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
)

// Unit tests of the COPY codec on hand-made payloads: state across
// payloads, splits, errors, buffer ownership and allocations.

func upperMask(dst, v []byte) ([]byte, bool, error) {
	dst = append(dst[:0], v...)
	for i, c := range dst {
		if c >= 'a' && c <= 'z' {
			dst[i] = c - ('a' - 'A')
		}
	}
	return dst, false, nil
}

func nullMask(dst, _ []byte) ([]byte, bool, error) { return dst[:0], true, nil }

// rewriteAll runs the payloads through m and returns the outputs.
func rewriteAll(t *testing.T, m *copyRowMasker, payloads ...string) []string {
	t.Helper()
	var out []string
	for _, p := range payloads {
		vals := [][]byte{[]byte(p)}
		if err := m.RewriteRow(vals); err != nil {
			t.Fatalf("%q: %v", p, err)
		}
		out = append(out, string(vals[0]))
	}
	return out
}

func mustMasker(t *testing.T, st copyStmt, enc string, masks ...copyMaskFunc) *copyRowMasker {
	t.Helper()
	cols := make([]copyColumn, len(masks))
	for i, f := range masks {
		cols[i] = copyColumn{Name: string(rune('a' + i)), Mask: f}
	}
	m, err := newCopyRowMasker(st, cols, enc)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestCopyTextRows(t *testing.T) {
	st := textCopy("", "t")
	st.Header = true
	m := mustMasker(t, st, "UTF8", nil, upperMask, nullMask)
	got := rewriteAll(t, m,
		"id\tname\tnote\n", // the header is relayed, not masked
		"1\tab\\tc\\\\\tx\n",
		"2\t\\N\t\\N\n3\t\\x41b\\101\\v\ty\n", // two rows in one payload; NULL stays NULL
		"4\tz\\N\t\n",                         // \N inside a value is N
	)
	want := []string{
		"id\tname\tnote\n",
		"1\tAB\\tC\\\\\t\\N\n",
		"2\t\\N\t\\N\n3\tABA\\v\t\\N\n",
		"4\tZN\t\\N\n",
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("payload %d: got %q, want %q", i, got[i], want[i])
		}
	}
}

func TestCopyCSVRows(t *testing.T) {
	st := csvCopy("", "t")
	st.Header = true
	st.ForceQuote = []string{"c"}
	m := mustMasker(t, st, "UTF8", upperMask, nil, upperMask)
	got := rewriteAll(t, m,
		"\"a\n\",b,c\n", // a header with a quoted newline
		"x,\"y,\"\"\",z\n",
		",\"\",\"q\"\"\"\n",        // NULL, empty string, quote
		"\"a\"\"b\"c,d,\"e\nf\"\n", // "a""b"c is a"bc
	)
	want := []string{
		"\"a\n\",b,c\n",
		"X,\"y,\"\"\",\"Z\"\n",
		",\"\",\"Q\"\"\"\n",
		"\"A\"\"BC\",d,\"E\nF\"\n",
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("payload %d: got %q, want %q", i, got[i], want[i])
		}
	}

	// A masked value equal to the NULL string, or \. alone, is quoted.
	st = csvCopy("", "t")
	st.Null = "N"
	m = mustMasker(t, st, "UTF8", func(dst, v []byte) ([]byte, bool, error) { return append(dst[:0], 'N'), false, nil })
	if got := rewriteAll(t, m, "a\nN\n\"N\"\n"); got[0] != "\"N\"\nN\n\"N\"\n" {
		t.Errorf("got %q", got[0])
	}
	m = mustMasker(t, csvCopy("", "t"), "UTF8", func(dst, v []byte) ([]byte, bool, error) { return append(dst[:0], `\.`...), false, nil })
	if got := rewriteAll(t, m, "a\n"); got[0] != "\"\\.\"\n" {
		t.Errorf("got %q", got[0])
	}
}

func binTuple(vals ...[]byte) []byte {
	b := binary.BigEndian.AppendUint16(nil, uint16(len(vals)))
	for _, v := range vals {
		if v == nil {
			b = binary.BigEndian.AppendUint32(b, 0xffffffff)
			continue
		}
		b = binary.BigEndian.AppendUint32(b, uint32(len(v)))
		b = append(b, v...)
	}
	return b
}

func binHeader(ext string) []byte {
	b := []byte(binarySignature)
	b = binary.BigEndian.AppendUint32(b, 0)
	b = binary.BigEndian.AppendUint32(b, uint32(len(ext)))
	return append(b, ext...)
}

var binTrailer = []byte{0xff, 0xff}

func TestCopyBinarySplits(t *testing.T) {
	st := binCopy("", "t")
	hdr := binHeader("ext!")
	t1 := binTuple([]byte("id1"), []byte("abc"), nil)
	t2 := binTuple([]byte("id2"), []byte(""), []byte("x"))
	m1 := binTuple([]byte("id1"), []byte("ABC"), nil)
	m2 := binTuple([]byte("id2"), []byte(""), nil)
	cat := func(parts ...[]byte) string { return string(bytes.Join(parts, nil)) }
	want := cat(hdr, m1, m2, binTrailer)
	for name, split := range map[string][]string{
		"as PostgreSQL sends": {cat(hdr, t1), cat(t2), cat(binTrailer)},
		"all in one":          {cat(hdr, t1, t2, binTrailer)},
		"header alone":        {cat(hdr), cat(t1), cat(t2, binTrailer)},
		"trailer appended":    {cat(hdr, t1), cat(t2, binTrailer)},
		"empty payloads":      {"", cat(hdr), "", cat(t1, t2), "", cat(binTrailer), ""},
	} {
		m := mustMasker(t, st, "UTF8", nil, upperMask, nullMask)
		if got := strings.Join(rewriteAll(t, m, split...), ""); got != want {
			t.Errorf("%s: got %q, want %q", name, got, want)
		}
	}
}

func TestCopyErrors(t *testing.T) {
	bin := binCopy("", "t")
	hdr := string(binHeader(""))
	tup := string(binTuple([]byte("a"), []byte("b")))
	oids := []byte(binarySignature)
	oids = binary.BigEndian.AppendUint32(oids, 1<<16)
	oids = binary.BigEndian.AppendUint32(oids, 0)
	csv := csvCopy("", "t")
	for _, tc := range []struct {
		name     string
		st       copyStmt
		payloads []string
		want     error
	}{
		{"text: too few fields", textCopy("", "t"), []string{"a\n"}, errCopyShape},
		{"text: too many fields", textCopy("", "t"), []string{"a\tb\tc\n"}, errCopyShape},
		{"text: partial row", textCopy("", "t"), []string{"a\tb"}, errCopyPartial},
		{"text: partial second row", textCopy("", "t"), []string{"a\tb\nc"}, errCopyPartial},
		{"text: trailing backslash", textCopy("", "t"), []string{"a\tb\\"}, errCopyPartial},
		{"text: bare CR", textCopy("", "t"), []string{"a\tb\r\n"}, errCopyCR},
		{"text: escaped newline", textCopy("", "t"), []string{"a\tb\\\nc\n"}, errCopyEscapedEOL},
		{"text: end marker", textCopy("", "t"), []string{"\\.\n"}, errCopyEndMarker},
		{"text: NUL escape", textCopy("", "t"), []string{"a\t\\000\n"}, errCopyNUL},
		{"text: hex NUL escape", textCopy("", "t"), []string{"a\t\\x0\n"}, errCopyNUL},
		{"csv: too few fields", csv, []string{"a\n"}, errCopyShape},
		{"csv: unterminated quote", csv, []string{"a,\"b\n"}, errCopyPartial},
		{"csv: bare CR", csv, []string{"a,b\r\n"}, errCopyCR},
		{"csv: end marker", csv, []string{"\\.\n"}, errCopyEndMarker},
		{"binary: no header", bin, []string{tup}, errCopyBinHeader},
		{"binary: short header", bin, []string{hdr[:15]}, errCopyBinHeader},
		{"binary: header extension cut", bin, []string{string(binHeader("long"))[:21]}, errCopyBinHeader},
		{"binary: OIDs", bin, []string{string(oids)}, errCopyBinHeader},
		{"binary: wrong field count", bin, []string{hdr + string(binTuple([]byte("a")))}, errCopyShape},
		{"binary: mid tuple", bin, []string{hdr + tup[:len(tup)-1]}, errCopyPartial},
		{"binary: mid length", bin, []string{hdr + tup[:4]}, errCopyPartial},
		{"binary: mid count", bin, []string{hdr + tup[:1]}, errCopyPartial},
		{"binary: negative length", bin, []string{hdr + "\x00\x02\xff\xff\xff\xfe\x00\x00\x00\x00"}, errCopyPartial},
		{"binary: after trailer", bin, []string{hdr + tup, "\xff\xff" + tup}, errCopyTrailer},
		{"binary: after trailer, next payload", bin, []string{hdr + tup + "\xff\xff", tup}, errCopyTrailer},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := mustMasker(t, tc.st, "UTF8", upperMask, upperMask)
			var err error
			for _, p := range tc.payloads {
				if err = m.RewriteRow([][]byte{[]byte(p)}); err != nil {
					break
				}
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}

	m := mustMasker(t, textCopy("", "t"), "UTF8", nil)
	if err := m.RewriteRow([][]byte{[]byte("a\n"), []byte("b\n")}); !errors.Is(err, errCopyValues) {
		t.Fatalf("two values: %v", err)
	}
}

func TestCopyMaskErrorNamesColumnNotValue(t *testing.T) {
	boom := errors.New("boom")
	m := mustMasker(t, textCopy("", "t"), "UTF8", nil, func(dst, v []byte) ([]byte, bool, error) { return nil, false, boom })
	err := m.RewriteRow([][]byte{[]byte("1\tsecret-13812345678\n")})
	var ce *copyError
	if !errors.As(err, &ce) || ce.Column != 1 || !errors.Is(err, boom) {
		t.Fatalf("got %v", err)
	}
	if strings.Contains(err.Error(), "secret") {
		t.Fatalf("the error carries the value: %v", err)
	}
	// A mask output the format cannot carry is refused.
	m = mustMasker(t, textCopy("", "t"), "UTF8", func(dst, v []byte) ([]byte, bool, error) { return append(dst[:0], 'a', 0), false, nil })
	if err := m.RewriteRow([][]byte{[]byte("x\n")}); !errors.Is(err, errBadMaskOutput) {
		t.Fatalf("NUL in the mask output: %v", err)
	}
	m = mustMasker(t, textCopy("", "t"), "GBK", func(dst, v []byte) ([]byte, bool, error) { return append(dst[:0], 0x81, '\t'), false, nil })
	if err := m.RewriteRow([][]byte{[]byte("x\n")}); !errors.Is(err, errBadMaskOutput) {
		t.Fatalf("invalid GBK in the mask output: %v", err)
	}
}

func TestCopyResetRefuses(t *testing.T) {
	for name, tc := range map[string]struct {
		st   copyStmt
		cols []copyColumn
		enc  string
	}{
		"unknown FORCE_QUOTE column": {with(csvCopy("", "t"), func(s *copyStmt) { s.ForceQuote = []string{"x"} }), []copyColumn{{Name: "a"}}, "UTF8"},
		"column list mismatch":       {textCopy("", "t", "a", "b"), []copyColumn{{Name: "a"}}, "UTF8"},
		"unknown encoding":           {textCopy("", "t"), []copyColumn{{Name: "a"}}, "EBCDIC"},
		"ambiguous NULL":             {with(textCopy("", "t"), func(s *copyStmt) { s.Null = "NULL" }), []copyColumn{{Name: "a", Mask: upperMask}}, "UTF8"},
		"empty NULL":                 {with(textCopy("", "t"), func(s *copyStmt) { s.Null = "" }), []copyColumn{{Name: "a", Mask: upperMask}}, "UTF8"},
		"NULL ending in backslash":   {with(textCopy("", "t"), func(s *copyStmt) { s.Null = `x\` }), []copyColumn{{Name: "a"}}, "UTF8"},
		"bad format":                 {copyStmt{Format: 'x'}, nil, "UTF8"},
		"no delimiter":               {copyStmt{Format: 't'}, nil, "UTF8"},
		"csv without quote":          {copyStmt{Format: 'c', Delimiter: ','}, nil, "UTF8"},
	} {
		if _, err := newCopyRowMasker(tc.st, tc.cols, tc.enc); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	// Without a mask an ambiguous NULL string does not matter.
	if _, err := newCopyRowMasker(with(textCopy("", "t"), func(s *copyStmt) { s.Null = "" }), []copyColumn{{Name: "a"}}, "UTF8"); err != nil {
		t.Error(err)
	}
}

func TestTextNullAmbiguous(t *testing.T) {
	for _, tc := range []struct {
		null  string
		delim byte
		enc   string
		want  bool
	}{
		{`\N`, '\t', "UTF8", false},
		{"", '\t', "UTF8", true},
		{"NULL", '\t', "UTF8", true},
		{`\\`, '\t', "UTF8", true},   // the value \
		{`\|`, '|', "UTF8", true},    // the value |
		{`\t`, '|', "UTF8", true},    // a tab
		{`\t`, '\t', "UTF8", true},   // a tab
		{`a\x`, '\t', "UTF8", false}, // PostgreSQL never writes \x
		{"\t", '|', "UTF8", false},   // a tab is always escaped
		{"\x01", '\t', "UTF8", true}, // other control characters are not
		{"\x01", 1, "UTF8", false},   // unless they are the delimiter
		{"<空>", '\t', "UTF8", true},
		{"\x81\\N", '\t', "UTF8", false}, // \N in UTF8
		{"\x81\\N", '\t', "GBK", true},   // but in GBK 0x81 0x5C is a character
	} {
		mblen, _ := copyMblen(tc.enc)
		if got := textNullAmbiguous(tc.null, tc.delim, mblen); got != tc.want {
			t.Errorf("%q (delimiter %q, %s): got %v", tc.null, tc.delim, tc.enc, got)
		}
	}
}

func TestCopyMblen(t *testing.T) {
	for _, tc := range []struct {
		enc  string
		b    string
		want int
	}{
		{"GBK", "\x81\\", 2},
		{"gbk", "\x81|", 2},
		{"BIG5", "\xa4@", 2},
		{"UHC", "\x81A", 2},
		{"GBK", "\x81", 0},
		{"GBK", "\x81\t", 0},
		{"GB18030", "\x81\x30\x81\x30", 4},
		{"GB18030", "\x81\x30\x81", 0},
		{"GB18030", "\x81\x7c", 2},
		{"SJIS", "\xb1", 1},
		{"SJIS", "\x95\\", 2},
		{"SHIFT_JIS_2004", "\x95\\", 2},
		{"JOHAB", "\x8f\xa1\xa1", 3},
		{"JOHAB", "\x88\x61", 2},
	} {
		f, ok := copyMblen(tc.enc)
		if !ok || f == nil {
			t.Fatalf("%s: no mblen", tc.enc)
		}
		if got := f([]byte(tc.b)); got != tc.want {
			t.Errorf("%s %q: got %d, want %d", tc.enc, tc.b, got, tc.want)
		}
	}
	for _, enc := range []string{"", "UTF8", "utf-8", "SQL_ASCII", "EUC_CN", "LATIN1", "WIN1252", "EUC_JIS_2004"} {
		if f, ok := copyMblen(enc); !ok || f != nil {
			t.Errorf("%s: got %v", enc, ok)
		}
	}
	if _, ok := copyMblen("KLINGON"); ok {
		t.Error("unknown encoding accepted")
	}
}

// TestCopyMaskMemory: a mask may return v itself or memory it owns; the
// codec copies the result and never writes into either.
func TestCopyMaskMemory(t *testing.T) {
	shared := []byte("SHARED")
	for name, mask := range map[string]copyMaskFunc{
		"returns v":       func(dst, v []byte) ([]byte, bool, error) { return v[:len(v)-1], false, nil },
		"returns its own": func(dst, v []byte) ([]byte, bool, error) { return shared, false, nil },
	} {
		for _, st := range []copyStmt{textCopy("", "t"), csvCopy("", "t"), binCopy("", "t")} {
			m := mustMasker(t, st, "UTF8", mask, mask)
			var payloads []string
			if st.Format == 'b' {
				h := string(binHeader(""))
				payloads = []string{h + string(binTuple([]byte("abc"), []byte("de"))), string(binTuple([]byte("fgh"), []byte("ij")))}
			} else {
				sep := string(st.Delimiter)
				payloads = []string{"abc" + sep + "de\n", "fgh" + sep + "ij\n"}
			}
			in := make([][]byte, len(payloads))
			for i, p := range payloads {
				in[i] = []byte(p)
				vals := [][]byte{in[i]}
				if err := m.RewriteRow(vals); err != nil {
					t.Fatalf("%s %c: %v", name, st.Format, err)
				}
				if string(in[i]) != p {
					t.Fatalf("%s %c: the payload was written to", name, st.Format)
				}
			}
			if string(shared) != "SHARED" {
				t.Fatalf("%s %c: the mask's memory was written to", name, st.Format)
			}
		}
	}
}

// TestCopyAllocatesNothing pins the steady state: no allocation per row.
func TestCopyAllocatesNothing(t *testing.T) {
	text := textCopy("", "t")
	csv := csvCopy("", "t")
	csv.ForceQuoteAll = true
	bin := binCopy("", "t")
	for _, tc := range []struct {
		st      copyStmt
		first   string
		payload string
	}{
		{text, "", "42\t欧阳娜娜\\t\\\\x\t13812345678\t\\N\n"},
		{csv, "", "42,\"欧阳娜娜,\"\"x\"\"\",13812345678,\n"},
		{bin, string(binHeader("")), string(binTuple([]byte("42"), []byte("欧阳娜娜 ouyang"), []byte("13812345678"), nil))},
	} {
		m := mustMasker(t, tc.st, "UTF8", nil, upperMask, upperMask, upperMask)
		if tc.first != "" {
			if err := m.RewriteRow([][]byte{[]byte(tc.first)}); err != nil {
				t.Fatal(err)
			}
		}
		p := []byte(tc.payload)
		vals := make([][]byte, 1)
		run := func() {
			vals[0] = p
			if err := m.RewriteRow(vals); err != nil {
				t.Fatal(err)
			}
		}
		run()
		if bytes.Equal(vals[0], p) {
			t.Fatalf("%c: nothing masked", tc.st.Format)
		}
		if n := testing.AllocsPerRun(1000, run); n != 0 {
			t.Errorf("%c: %.1f allocations per row, want 0", tc.st.Format, n)
		}
	}
}

func BenchmarkCopyRow(b *testing.B) {
	m, err := newCopyRowMasker(textCopy("", "t"), []copyColumn{{}, {Mask: upperMask}, {}, {Mask: upperMask}, {}}, "UTF8")
	if err != nil {
		b.Fatal(err)
	}
	p := []byte("42\t欧阳娜娜\\t\\\\x\t2026-10-01\t13812345678\t23456.78\n")
	vals := make([][]byte, 1)
	b.ReportAllocs()
	b.SetBytes(int64(len(p)))
	for b.Loop() {
		vals[0] = p
		if err := m.RewriteRow(vals); err != nil {
			b.Fatal(err)
		}
	}
}
