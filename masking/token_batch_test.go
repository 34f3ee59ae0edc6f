package masking

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestPrefillMatchesToken: the tokens Prefill caches are those Token
// computes one by one, for IDs of every kind (real and unreal birth
// dates, X and x check characters, wrong check characters, padded
// bpchar values, values that are not IDs), and Prefill does cache the
// real-date IDs.
func TestPrefillMatchesToken(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	var vals [][]byte
	for i := range 4000 {
		var v string
		switch i % 8 {
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
		case 7: // not an ID
			v = fmt.Sprintf("%d", rng.Int64())
		}
		vals = append(vals, []byte(v))
	}
	for _, col := range []Column{{TypeOID: oidText, TypeMod: -1, Class: "cn_id"}, {TypeOID: oidBpchar, TypeMod: 22, Class: "cn_id"}} {
		batched := tokenizerFor(t, "cn_id", 3, Options{})
		m, err := NewTokenMask(batched, col)
		if err != nil {
			t.Fatal(err)
		}
		in := vals
		if col.TypeOID == oidBpchar {
			in = nil
			for _, v := range vals {
				in = append(in, append(append([]byte{}, v...), "    "...)[:max(len(v), 22)])
			}
		}
		for i := 0; i < len(in); i += maxPrefill {
			m.(Prefiller).Prefill(in[i:min(i+maxPrefill, len(in))])
		}
		cached := 0
		for i, v := range vals {
			if i%8 < 4 {
				if _, ok := batched.cache.get(nil, v); ok {
					cached++
				}
			}
		}
		if cached < len(vals)/2*9/10 {
			t.Errorf("%d of %d real-date IDs cached by Prefill", cached, len(vals)/2)
		}
		single := tokenizerFor(t, "cn_id", 3, Options{})
		for _, v := range vals {
			got, err1 := batched.Token(nil, v)
			want, err2 := single.run(nil, v, true)
			if (err1 == nil) != (err2 == nil) || string(got) != string(want) {
				t.Fatalf("%s: after Prefill %q (%v), one by one %q (%v)", v, got, err1, want, err2)
			}
		}
	}
}

// BenchmarkTokenizeIDDistinctPrefilled is BenchmarkTokenizeIDDistinct
// with the values prefilled 64 at a time, as the relay does for rows
// already buffered.
func BenchmarkTokenizeIDDistinctPrefilled(b *testing.B) {
	tk := tokenizerFor(b, "cn_id", 1, Options{})
	m, err := NewTokenMask(tk, Column{TypeOID: oidText, TypeMod: -1, Class: "cn_id"})
	if err != nil {
		b.Fatal(err)
	}
	ids := distinctIDs(1 << 18)
	dst := make([]byte, 0, 64)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if i%maxPrefill == 0 {
			j := i % len(ids)
			m.(Prefiller).Prefill(ids[j:min(j+maxPrefill, len(ids))])
		}
		var err error
		if dst, _, err = m.Mask(dst, ids[i%len(ids)], FormatText); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkPrefillCached is Prefill's cost per value when every value is
// cached already (a repeated report): what prefetching adds to a warm scan.
func BenchmarkPrefillCached(b *testing.B) {
	tk := tokenizerFor(b, "cn_id", 1, Options{})
	m, err := NewTokenMask(tk, Column{TypeOID: oidText, TypeMod: -1, Class: "cn_id"})
	if err != nil {
		b.Fatal(err)
	}
	ids := distinctIDs(maxPrefill)
	for _, v := range ids {
		tk.Token(nil, v)
	}
	b.ReportAllocs()
	for b.Loop() {
		m.(Prefiller).Prefill(ids)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(ids)), "ns/value")
}
