package resultmask

import (
	"bytes"
	"errors"
	"slices"
	"testing"
)

// fuzzStmt derives COPY options from a fuzz byte.
func fuzzStmt(cfg byte) (copyStmt, string) {
	var st copyStmt
	switch cfg % 3 {
	case 0:
		st = textCopy("", "t")
		st.Delimiter = []byte{'\t', '|', ',', 1}[cfg>>2&3]
		st.Null = []string{`\N`, "", "NULL", `x\N`}[cfg>>4&3]
	case 1:
		st = csvCopy("", "t")
		st.Delimiter = []byte{',', ';', '\t', '|'}[cfg>>2&3]
		st.Null = []string{"", "N", `\N`, "nil"}[cfg>>4&3]
		if cfg&0x40 != 0 {
			st.Quote, st.Escape = '\'', '\\'
		}
	default:
		st = binCopy("", "t")
	}
	st.Header = st.Format != 'b' && cfg&0x80 != 0
	enc := []string{"UTF8", "GBK", "GB18030", "SJIS"}[cfg>>2&3]
	return st, enc
}

type fuzzField struct {
	col int
	v   string
}

// recorder returns masks for n columns that record the values they see
// and return them unchanged, or return transform(v) when transform is set.
func recorder(n int, got *[]fuzzField, transform func([]byte) []byte) []copyColumn {
	cols := make([]copyColumn, n)
	for i := range cols {
		cols[i] = copyColumn{Name: string(rune('a' + i)), Mask: func(dst, v []byte) ([]byte, bool, error) {
			if got != nil {
				*got = append(*got, fuzzField{i, string(v)})
			}
			if transform != nil {
				return append(dst[:0], transform(v)...), false, nil
			}
			return append(dst[:0], v...), false, nil
		}}
	}
	return cols
}

// transformValue adds what each format must escape or quote.
func transformValue(v []byte) []byte {
	out := append([]byte("\\\t|,;'\"\n\r\x01"), v...)
	return append(out, `\N`...)
}

// FuzzCopyCodec: arbitrary payloads never panic; a payload the codec
// accepts with identity masks comes back byte-identical; and the same
// payload with every value transformed (adding delimiters, quotes,
// backslashes, newlines) is written so that the codec reads back exactly
// the transformed values.
func FuzzCopyCodec(f *testing.F) {
	f.Add(byte(0), byte(2), []byte("1\tabc\\tdef\n2\t\\N\n"))
	f.Add(byte(0x80), byte(2), []byte("id\tname\n1\t\\x41\\101\\\\\n"))
	f.Add(byte(4), byte(3), []byte("a|b\\|c|\n"))
	f.Add(byte(1), byte(3), []byte("1,\"a,\"\"b\nc\",\n"))
	f.Add(byte(0x41), byte(2), []byte("'a\\'b',x\n"))
	f.Add(byte(0x81), byte(1), []byte("\"h\"\n\"\\.\"\n"))
	f.Add(byte(2), byte(2), append(binHeader(""), append(binTuple([]byte("ab"), nil), binTrailer...)...))
	f.Add(byte(6), byte(1), append(binHeader("x"), binTuple([]byte{0xff, 0})...))
	f.Add(byte(4), byte(2), []byte("\x81\\|\x81|\n"))
	f.Fuzz(func(t *testing.T, cfg, ncols byte, data []byte) {
		st, enc := fuzzStmt(cfg)
		n := 1 + int(ncols%4)

		// No masks: never panics, never changes anything.
		m, err := newCopyRowMasker(st, make([]copyColumn, n), enc)
		if err != nil {
			t.Fatal(err)
		}
		vals := [][]byte{data}
		if err := m.RewriteRow(vals); err == nil && !bytes.Equal(vals[0], data) {
			t.Fatalf("no masks changed %q into %q", data, vals[0])
		}

		// Identity masks: byte-identical.
		var seen []fuzzField
		if err := m.reset(st, recorder(n, &seen, nil), enc); err != nil {
			return // an ambiguous NULL string with masks
		}
		in := bytes.Clone(data)
		vals = [][]byte{in}
		if err := m.RewriteRow(vals); err != nil {
			return
		}
		if !bytes.Equal(vals[0], data) || !bytes.Equal(in, data) {
			t.Fatalf("identity masks changed %q into %q", data, vals[0])
		}

		// Transformed values are written so that they read back.
		if err := m.reset(st, recorder(n, nil, transformValue), enc); err != nil {
			t.Fatal(err)
		}
		vals = [][]byte{bytes.Clone(data)}
		if err := m.RewriteRow(vals); err != nil {
			if errors.Is(err, errBadMaskOutput) {
				return // a de-escaped value that is not valid in enc
			}
			t.Fatalf("%q: accepted with identity masks, refused transformed: %v", data, err)
		}
		var reread []fuzzField
		if err := m.reset(st, recorder(n, &reread, nil), enc); err != nil {
			t.Fatal(err)
		}
		out := vals[0]
		if err := m.RewriteRow([][]byte{bytes.Clone(out)}); err != nil {
			t.Fatalf("%q was written as %q, which does not read back: %v", data, out, err)
		}
		want := make([]fuzzField, len(seen))
		for i, s := range seen {
			want[i] = fuzzField{s.col, string(transformValue([]byte(s.v)))}
		}
		if !slices.Equal(reread, want) {
			t.Fatalf("%q written as %q reads back as\n%+v\nwant\n%+v", data, out, reread, want)
		}
	})
}
