package masking

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// aheadValues are IDs of every kind: real and unreal birth dates, X and
// x check characters, wrong check characters, values that are not IDs,
// NULLs.
func aheadValues(n int) [][]byte {
	rng := rand.New(rand.NewPCG(7, 8))
	var vals [][]byte
	for i := range n {
		var v string
		switch i % 9 {
		case 0, 1, 2, 3: // real birth dates
			first := fmt.Sprintf("%06d%04d%02d%02d%03d", 100000+rng.IntN(900000), 1800+rng.IntN(300), 1+rng.IntN(12), 1+rng.IntN(28), rng.IntN(1000))
			c, _ := CNIDCheckChar(first)
			v = first + string(c)
		case 4: // a wrong check character
			v = fmt.Sprintf("%06d%04d%02d%02d%03d%d", 100000+rng.IntN(900000), 1900+rng.IntN(100), 1+rng.IntN(12), 1+rng.IntN(28), rng.IntN(1000), rng.IntN(10))
		case 5: // x and X
			v = fmt.Sprintf("%06d%04d%02d%02d%03d", 100000+rng.IntN(900000), 1950+rng.IntN(50), 1+rng.IntN(12), 1+rng.IntN(28), rng.IntN(1000)) + []string{"X", "x"}[rng.IntN(2)]
		case 6: // an unreal date
			v = fmt.Sprintf("%06d%04d%02d%02d%03d%d", 100000+rng.IntN(900000), 1990, 13+rng.IntN(80), 1+rng.IntN(28), rng.IntN(1000), rng.IntN(10))
		case 7: // not an ID: other lengths, letters, a leading zero
			v = []string{fmt.Sprint(rng.Int64()), "ABCDEFGHIJKLMNOPQR", "012345678901234567", "31010219900101123"}[rng.IntN(4)]
		case 8:
			vals = append(vals, nil)
			continue
		}
		vals = append(vals, []byte(v))
	}
	return vals
}

// aheadMobiles and aheadCards are values of the other classes masked
// ahead, of every shape: the scheme's (11, 13 and 15 digits; 13 to 19,
// valid and invalid Luhn digits) and others (a second digit under 3, a
// wrong country prefix, separators, full-width digits, letters, other
// lengths), and NULLs.
func aheadMobiles(n int) [][]byte {
	rng := rand.New(rand.NewPCG(9, 10))
	var vals [][]byte
	for i := range n {
		body := fmt.Sprintf("1%d%09d", 3+rng.IntN(7), rng.IntN(1000000000))
		var v string
		switch i % 9 {
		case 0, 1, 2:
			v = body
		case 3:
			v = "86" + body
		case 4:
			v = "0086" + body
		case 5: // not the scheme's: a second digit under 3, a wrong prefix, other lengths
			v = []string{"12" + body[2:], "87" + body, "0085" + body, body[:10], body + "1"}[rng.IntN(5)]
		case 6: // separators, full-width digits, letters
			v = []string{body[:3] + "-" + body[3:7] + "-" + body[7:], "+86 " + body, "１" + body[1:], body[:10] + "A"}[rng.IntN(4)]
		case 7:
			v = fmt.Sprint(rng.Int64())
		case 8:
			vals = append(vals, nil)
			continue
		}
		vals = append(vals, []byte(v))
	}
	return vals
}

func aheadCards(n int) [][]byte {
	rng := rand.New(rand.NewPCG(11, 12))
	var vals [][]byte
	for i := range n {
		digits := func(k int) string {
			b := make([]byte, k)
			for j := range b {
				b[j] = byte('0' + rng.IntN(10))
			}
			return string(b)
		}
		var v string
		switch i % 8 {
		case 0, 1, 2: // valid Luhn digits, 13 to 19 digits
			payload := "62" + digits(10+rng.IntN(7))
			d, _ := LuhnCheckDigit(payload)
			v = payload + string(d)
		case 3: // any last digit
			v = "4" + digits(12+rng.IntN(7))
		case 4: // separators, full-width digits
			c := "6222" + digits(12)
			v = []string{c[:4] + " " + c[4:8] + " " + c[8:12] + " " + c[12:], "６" + c[1:], c[:8] + "-" + c[8:]}[rng.IntN(3)]
		case 5: // too short or too long for the scheme
			v = digits([]int{11, 12, 20}[rng.IntN(3)])
		case 6:
			v = "62220212345678901X"
		case 7:
			vals = append(vals, nil)
			continue
		}
		vals = append(vals, []byte(v))
	}
	return vals
}

// TestMaskAheadMatchesMask: the results MaskAhead gives are those Mask
// gives one by one (on a tokenizer of its own, so that no cached token
// is shared), for the three classes masked ahead and values of every
// shape, for text, bpchar with and without a length and varchar
// columns, in both formats, on a cold cache and again on a warm one;
// the scheme's values are all given results (NULLs and other shapes are
// left to Mask); and a format Mask refuses is left to Mask.
func TestMaskAheadMatchesMask(t *testing.T) {
	for _, cl := range []struct {
		class  string
		vals   [][]byte
		scheme func(i int) bool // vals[i] is of the scheme's shape
	}{
		{"cn_id", aheadValues(4000), func(i int) bool { return i%9 < 4 }},
		{"cn_mobile", aheadMobiles(4000), func(i int) bool { return i%9 < 5 }},
		{"bank_card", aheadCards(4000), func(i int) bool { return i%8 < 4 }},
	} {
		testMaskAhead(t, cl.class, cl.vals, cl.scheme)
	}
}

func testMaskAhead(t *testing.T, class string, vals [][]byte, scheme func(int) bool) {
	for _, col := range []Column{
		{TypeOID: oidText, TypeMod: -1, Class: "cn_id"},
		{TypeOID: oidBpchar, TypeMod: 22 + 4, Class: "cn_id"},
		{TypeOID: oidBpchar, TypeMod: -1, Class: "cn_id"},
		{TypeOID: oidVarchar, TypeMod: 18 + 4, Class: "cn_id"},
	} {
		for _, format := range []int16{FormatText, FormatBinary} {
			name := fmt.Sprintf("%s-oid%d-mod%d-format%d", class, col.TypeOID, col.TypeMod, format)
			ahead, err := NewTokenMask(tokenizerFor(t, class, 3, Options{}), col)
			if err != nil {
				t.Fatal(err)
			}
			single, err := NewTokenMask(tokenizerFor(t, class, 3, Options{}), col)
			if err != nil {
				t.Fatal(err)
			}
			in := vals
			if col.TypeOID == oidBpchar {
				in = nil
				for _, v := range vals {
					if v != nil {
						v = append(append([]byte{}, v...), "                      "...)[:max(len(v), 22)]
					}
					in = append(in, v)
				}
			}
			for pass := range 2 { // cold, then every token cached
				done, shaped := 0, 0
				for i := 0; i < len(in); i += MaxAhead {
					batch := in[i:min(i+MaxAhead, len(in))]
					ends := make([]int, len(batch))
					out := ahead.(AheadMasker).MaskAhead([]byte("prefix"), batch, format, ends)
					start := len("prefix")
					for j, v := range batch {
						if scheme(i + j) {
							shaped++
						}
						if ends[j] < 0 {
							continue
						}
						done++
						if v == nil {
							t.Fatalf("%s: a NULL was given a result", name)
						}
						want, null, err := single.Mask(nil, v, format)
						if err != nil || null || string(out[start:ends[j]]) != string(want) {
							t.Fatalf("%s pass %d: %q ahead %q, Mask %q (%v)", name, pass, v, out[start:ends[j]], want, err)
						}
						start = ends[j]
					}
					if start != len(out) {
						t.Fatalf("%s: %d bytes after the last result", name, len(out)-start)
					}
				}
				if done < shaped*99/100 {
					t.Errorf("%s pass %d: %d results for %d values of the scheme's shape", name, pass, done, shaped)
				}
			}
			ends := make([]int, 3)
			if out := ahead.(AheadMasker).MaskAhead(nil, in[:3], 2, ends); len(out) != 0 || ends[0] != -1 || ends[1] != -1 || ends[2] != -1 {
				t.Errorf("%s: format 2 given results %v", name, ends)
			}
		}
	}
}

// TestMaskAheadOtherClasses: classes whose tokens are not FF1 over ASCII
// digits are not masked ahead.
func TestMaskAheadOtherClasses(t *testing.T) {
	for _, class := range []string{"uscc", "person_name", "other"} {
		m, err := NewTokenMask(tokenizerFor(t, class, 3, Options{}), Column{TypeOID: oidText, TypeMod: -1, Class: class})
		if err != nil {
			t.Fatal(err)
		}
		if m.(AheadMasker).MasksAhead() {
			t.Fatalf("%s masks ahead", class)
		}
		ends := []int{0}
		if out := m.(AheadMasker).MaskAhead(nil, [][]byte{[]byte("91310000MA1FL8X71A")}, FormatText, ends); len(out) != 0 || ends[0] != -1 {
			t.Fatalf("%s masked ahead: %v", class, ends)
		}
	}
}

// BenchmarkTokenizeIDDistinctAhead is BenchmarkTokenizeIDDistinct masked
// ahead 64 at a time, as the relay does for rows already buffered.
func BenchmarkTokenizeIDDistinctAhead(b *testing.B) {
	benchAhead(b, distinctIDs(1<<18), false)
}

// BenchmarkTokenizeMobileDistinctAhead and BenchmarkTokenizeCardDistinctAhead
// are the same for 11-digit mobile numbers and 16-digit cards.
func BenchmarkTokenizeMobileDistinctAhead(b *testing.B) {
	vals := make([][]byte, 1<<18)
	for i := range vals {
		vals[i] = fmt.Appendf(nil, "13%09d", i*7919%1000000000)
	}
	benchAheadClass(b, "cn_mobile", vals, false)
}

func BenchmarkTokenizeCardDistinctAhead(b *testing.B) {
	vals := make([][]byte, 1<<18)
	for i := range vals {
		vals[i] = fmt.Appendf(nil, "622202%09d%d", i*104729%1000000000, i%10)
	}
	benchAheadClass(b, "bank_card", vals, false)
}

// BenchmarkMaskAheadCached is MaskAhead's cost per value when every value
// is cached already (a repeated report).
func BenchmarkMaskAheadCached(b *testing.B) {
	benchAhead(b, distinctIDs(1<<12), true)
}

func benchAhead(b *testing.B, ids [][]byte, warm bool) { benchAheadClass(b, "cn_id", ids, warm) }

func benchAheadClass(b *testing.B, class string, ids [][]byte, warm bool) {
	tk := tokenizerFor(b, class, 1, Options{})
	m, err := NewTokenMask(tk, Column{TypeOID: oidText, TypeMod: -1, Class: class})
	if err != nil {
		b.Fatal(err)
	}
	if warm {
		for _, v := range ids {
			tk.Token(nil, v)
		}
	}
	dst := make([]byte, 0, 64*MaxAhead)
	ends := make([]int, MaxAhead)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		j := i % len(ids)
		dst = m.(AheadMasker).MaskAhead(dst[:0], ids[j:min(j+MaxAhead, len(ids))], FormatText, ends)
		i += MaxAhead
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*MaxAhead), "ns/value")
}

// TestIDLaneOfMatchesParse: the one-pass reading of the lockstep path
// agrees with parseASCIIID, idNumber and idCheckOf on IDs of every kind
// and on near-IDs (letters, a leading zero, month 13, 29 February of
// years with and without it, the 1800 and 2099 bounds).
func TestIDLaneOfMatchesParse(t *testing.T) {
	vals := aheadValues(3000)
	for _, v := range []string{"110105180001010015", "110105209912310017", "11010517991231001X",
		"110105210001010019", "110105200002290011", "110105190002290011", "110105202402290011",
		"110105202313010011", "11010520230a010011", "010105202301010011", "11010520230101001Y", "11010520230101001x"} {
		vals = append(vals, []byte(v))
	}
	for _, v := range vals {
		n, off, isID, real := idLaneOf(v)
		xs, check, ok := parseASCIIID(v)
		if isID != ok {
			t.Fatalf("%q: idLaneOf isID %v, parseASCIIID %v", v, isID, ok)
		}
		if !ok {
			continue
		}
		wantN, wantReal := idNumber(xs[:])
		if real != wantReal || (real && n != wantN) {
			t.Fatalf("%q: idLaneOf %d %v, idNumber %d %v", v, n, real, wantN, wantReal)
		}
		if wantOff := (check - idCheckOf(xs[:]) + 11) % 11; off != wantOff {
			t.Fatalf("%q: offset %d, want %d", v, off, wantOff)
		}
	}
}
