package masking

import (
	"fmt"
	"testing"
	"time"
)

// benchCase is one mask on one typical value.
type benchCase struct {
	name   string
	mask   string
	opts   Options
	col    Column
	format int16
	value  func(tb testing.TB) []byte
}

func textValue(s string) func(testing.TB) []byte { return func(testing.TB) []byte { return []byte(s) } }

var benchCases = []benchCase{
	{"partial", "partial", Options{KeepFirst: intp(3), KeepLast: intp(4)}, colText, FormatText, textValue("13812345678")},
	{"partial_cjk", "partial", Options{}, colText, FormatText, textValue("上海市浦东新区世纪大道100号")},
	{"cn_id", "cn_id", Options{}, colText, FormatText, textValue("310105199003078032")},
	{"cn_id_fullwidth", "cn_id", Options{}, colText, FormatText, textValue("３１０１０５１９９００３０７８０３２")},
	{"cn_mobile", "cn_mobile", Options{}, colText, FormatText, textValue("+86 138-1234-5678")},
	{"bank_card", "bank_card", Options{}, colText, FormatText, textValue("6222 0212 3456 7894")},
	{"email", "email", Options{}, colText, FormatText, textValue("zhangsan@163.com")},
	{"cn_name", "cn_name", Options{}, colText, FormatText, textValue("欧阳娜娜")},
	{"address", "address", Options{}, colText, FormatText, textValue("广东省广州市天河区体育西路191号")},
	{"redact_text", "redact", Options{}, varchar(20), FormatText, textValue("张三")},
	{"round_numeric_binary", "round", Options{To: 1000}, numeric(12, 2), FormatBinary, func(tb testing.TB) []byte {
		d, _, _ := parseNumericText([]byte("12345.67"), nil)
		return appendNumericBinary(nil, d)
	}},
	{"round_numeric_text", "round", Options{To: 1000}, numeric(12, 2), FormatText, textValue("12345.67")},
	{"round_int4_binary", "round", Options{To: 1000}, typ(oidInt4), FormatBinary, func(testing.TB) []byte { return putInt(nil, 12345, 32) }},
	{"round_float8_text", "round", Options{To: 0.05}, typ(oidFloat8), FormatText, textValue("12345.678")},
	{"band_text", "band", Options{Width: 10000}, colText, FormatText, textValue("12,345.67")},
	{"generalize_timestamptz_text", "generalize", Options{}, typ(oidTimestamptz), FormatText, textValue("2024-03-15 13:45:30.5+08")},
	{"generalize_date_binary", "generalize", Options{}, typ(oidDate), FormatBinary, func(testing.TB) []byte { return putDate(nil, 8840) }},
	{"hash", "hash", Options{}, Column{TypeOID: oidText, TypeMod: -1, Class: "cn_id"}, FormatText, textValue("310105199003078032")},
	{"hash_text_hex", "hash", Options{}, Column{TypeOID: oidVarchar, TypeMod: 36, Class: "person_name"}, FormatText, textValue("张三丰")},
	{"hash_int8_binary", "hash", Options{}, typ(oidInt8), FormatBinary, func(testing.TB) []byte { return putInt(nil, 13812345678, 64) }},
}

// BenchmarkMask measures one Mask call on a warm masker with a reused dst.
func BenchmarkMask(b *testing.B) {
	for _, bc := range benchCases {
		b.Run(bc.name, func(b *testing.B) {
			m := mustNew(b, bc.mask, bc.opts, bc.col)
			v := bc.value(b)
			dst := make([]byte, 0, 256)
			b.ReportAllocs()
			b.SetBytes(int64(len(v)))
			for b.Loop() {
				out, _, err := m.Mask(dst, v, bc.format)
				if err != nil {
					b.Fatal(err)
				}
				dst = out[:0]
			}
		})
	}
}

// BenchmarkMaskParallel: the same maskers from all CPUs (pools, no locks).
func BenchmarkMaskParallel(b *testing.B) {
	for _, bc := range benchCases {
		if bc.name != "round_numeric_binary" && bc.name != "hash" {
			continue
		}
		b.Run(bc.name, func(b *testing.B) {
			m := mustNew(b, bc.mask, bc.opts, bc.col)
			v := bc.value(b)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				dst := make([]byte, 0, 256)
				for pb.Next() {
					out, _, err := m.Mask(dst, v, bc.format)
					if err != nil {
						b.Error(err)
						return
					}
					dst = out[:0]
				}
			})
		})
	}
}

// TestZeroAllocs holds the Masker contract: no allocation per value once
// warm, when the caller reuses dst.
func TestZeroAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	for _, bc := range benchCases {
		m := mustNew(t, bc.mask, bc.opts, bc.col)
		v := bc.value(t)
		dst := make([]byte, 0, 256)
		m.Mask(dst, v, bc.format) // warm the pools
		if n := testing.AllocsPerRun(200, func() {
			out, _, _ := m.Mask(dst, v, bc.format)
			dst = out[:0]
		}); n != 0 {
			t.Errorf("%s: %v allocations per Mask", bc.name, n)
		}
	}
}

// BenchmarkTokenizeID: an 18-character resident ID number (issue target:
// under 2 µs).
func BenchmarkTokenizeID(b *testing.B) {
	benchToken(b, "cn_id", "310105199003078032")
}

// BenchmarkTokenizeCard: a 16-digit bank card.
func BenchmarkTokenizeCard(b *testing.B) {
	benchToken(b, "bank_card", "6222021234567894")
}

// BenchmarkTokenizeMobile: an 11-digit mobile number.
func BenchmarkTokenizeMobile(b *testing.B) {
	benchToken(b, "cn_mobile", "13812345678")
}

// BenchmarkTokenizeAddress: a Chinese address (mixed categories).
func BenchmarkTokenizeAddress(b *testing.B) {
	benchToken(b, "address", "上海市浦东新区张杨路500号3楼")
}

// BenchmarkDetokenizeID: the search-by-token direction.
func BenchmarkDetokenizeID(b *testing.B) {
	tk := tokenizerFor(b, "cn_id", 1, Options{})
	v, _ := tk.Token(nil, []byte("310105199003078032"))
	dst := make([]byte, 0, 64)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if dst, err = tk.Detokenize(dst, v); err != nil {
			b.Fatal(err)
		}
	}
}

// benchToken measures computing a token (the cache bypassed: every
// value of a scan of distinct values costs this).
func benchToken(b *testing.B, class, v string) {
	tk := tokenizerFor(b, class, 1, Options{})
	in := []byte(v)
	dst := make([]byte, 0, 64)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if dst, err = tk.run(dst, in, true); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTokenizeIDCached: a value whose token is cached (a repeated
// report, a join key seen before).
func BenchmarkTokenizeIDCached(b *testing.B) {
	tk := tokenizerFor(b, "cn_id", 1, Options{})
	in := []byte("310105199003078032")
	dst := make([]byte, 0, 64)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if dst, err = tk.Token(dst, in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTokenizeIDDistinct: Token over a stream of distinct ID numbers
// (a scan of values never seen before: the cache is looked up, missed
// and filled for each), in the shape of the end-to-end cold select.
func BenchmarkTokenizeIDDistinct(b *testing.B) {
	tk := tokenizerFor(b, "cn_id", 1, Options{})
	const n = 1 << 18
	ids := distinctIDs(n)
	dst := make([]byte, 0, 64)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		var err error
		if dst, err = tk.Token(dst, ids[i%n]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// distinctIDs returns n distinct valid ID numbers: realistic regions,
// birth dates and sequence numbers.
func distinctIDs(n int) [][]byte {
	ids := make([][]byte, n)
	for g := range ids {
		first := fmt.Sprintf("3101%02d%s%03d", (g/20000)%100,
			time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, g%20000).Format("20060102"), g%1000)
		c, _ := CNIDCheckChar(first)
		ids[g] = append([]byte(first), c)
	}
	return ids
}
