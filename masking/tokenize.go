package masking

import (
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"sync"
	"unicode/utf8"

	"github.com/pgmantle/pgmantle/masking/ff1"
)

// Tokenizer computes the tokens of one data class under one key: a
// deterministic, format-preserving and (except for person names and tiny
// values) reversible substitute for each value. Equal values give equal
// tokens, so joins, GROUP BY and DISTINCT over tokens behave as over the
// values; Detokenize turns a token back into the value, which is how
// pgmantle serves search by token.
//
// What a token keeps, by class (FORMATS.md):
//
//	cn_id      18 characters, first digit non-zero, a valid check character
//	           (an invalid one stays invalid by the same offset); FF1 over
//	           the 17 digits, cycle-walked to keep the first digit non-zero
//	bank_card  13-19 digits: the BIN (first 6) and a valid Luhn digit;
//	           FF1 over the digits in between
//	cn_mobile  1, the second digit and any +86/0086 prefix; FF1 over the
//	           last 9 digits
//	uscc       18 USCC characters with a valid check character; FF1
//	           (radix 31) over the first 17
//	person_name  2-4 Chinese characters: a pseudonym from a name list,
//	           keyed by HMAC, the surname kept unless keep_surname is false.
//	           One-way: names cannot be searched by token.
//	any other value (and the classes above when a value does not have their
//	           shape): every digit stays a digit, every letter a letter of
//	           the same case, every Chinese character a Chinese character of
//	           the same set (GB 2312, or the rest of GBK's CJK block); other
//	           characters (spaces, dashes, punctuation, '@', '·') stay as they
//	           are. FF1 over the characters' combined domain.
//
// A value whose combined domain is below FF1's minimum of 10^6 (a 5-digit
// code, a 3-letter word) gets a keyed one-way substitute of the same
// shape instead: it joins and groups like a token but cannot be searched.
// Full-width digits and letters are read as their ASCII forms and the
// token is written in ASCII; a lower-case x ending an ID number as X.
//
// A Tokenizer is safe for concurrent use and never prints its key.
type Tokenizer struct {
	class       string
	keepSurname bool
	ciphers     map[int]*ff1.Cipher // by radix
	oneWay      []byte              // HMAC key for names and tiny domains
	pool        sync.Pool           // *tokState
	cache       *tokenCache
}

// TokenKeySource supplies the keys of the tokenize action: one AES key
// (16, 24 or 32 bytes) per data class. A KeySource passed to New may
// implement it.
type TokenKeySource interface {
	TokenKey(class string) ([]byte, error)
}

// ErrIrreversible is returned by Detokenize for tokens that are one-way
// by design (person names, values too short for FF1).
var ErrIrreversible = errors.New("masking: this token is a one-way pseudonym and cannot be reversed")

// errNotToken is Detokenize's error for a string that is not valid UTF-8.
var errNotToken = errors.New("masking: not a valid UTF-8 string")

// maxWalk bounds cycle walking; the expected number of steps is below 10
// for every shape this package produces.
const maxWalk = 1000

// NewTokenizer builds the tokenizer of a class with the class's key from
// keys (which must implement TokenKeySource). Options: keep_surname
// (person names; default true).
func NewTokenizer(class string, opts Options, keys KeySource) (*Tokenizer, error) {
	tks, ok := keys.(TokenKeySource)
	if !ok || keys == nil {
		return nil, &KeyError{Mask: "tokenize", Class: class, Err: errNoKeySource}
	}
	key, err := tks.TokenKey(class)
	if err != nil {
		return nil, &KeyError{Mask: "tokenize", Class: class, Err: err}
	}
	switch len(key) {
	case 16, 24, 32:
	default:
		return nil, &KeyError{Mask: "tokenize", Class: class, Err: errTokenKeyLen}
	}
	t := &Tokenizer{class: class, keepSurname: opts.KeepSurname == nil || *opts.KeepSurname, ciphers: map[int]*ff1.Cipher{}, cache: newTokenCache()}
	for _, r := range []int{2, 10, 26, 31, catRadix(catHanzi1), catRadix(catHanzi2)} {
		c, err := ff1.New(key, r)
		if err != nil {
			return nil, &KeyError{Mask: "tokenize", Class: class, Err: err}
		}
		t.ciphers[r] = c
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("pgmantle one-way token"))
	t.oneWay = mac.Sum(nil)
	t.pool.New = func() any { return &tokState{mac: hmac.New(sha256.New, t.oneWay)} }
	return t, nil
}

var errTokenKeyLen = errors.New("token key must be 16, 24 or 32 bytes")

// Reversible reports whether the class's tokens can be searched
// (Detokenize can succeed).
func (t *Tokenizer) Reversible() bool { return t.class != "person_name" }

// String names the class, never the key.
func (t *Tokenizer) String() string { return fmt.Sprintf("masking.Tokenizer{class: %q}", t.class) }

// GoString is String.
func (t *Tokenizer) GoString() string { return t.String() }

// Format makes every verb print String (fmt's %d or %x would otherwise
// print the fields, the one-way key among them).
func (t *Tokenizer) Format(f fmt.State, _ rune) { fmt.Fprint(f, t.String()) }

// LogValue logs String.
func (t *Tokenizer) LogValue() slog.Value { return slog.StringValue(t.String()) }

// tokState is one goroutine's buffers.
type tokState struct {
	runes []rune
	cats  []uint8
	nums  []uint16
	pos   []int // index in runes of each significant character
	// foreign: the value has letters or numbers outside the token
	// alphabets (see foreignCat).
	foreign bool
	tmp     []uint16
	mac     interface {
		Reset()
		Write([]byte) (int, error)
		Sum([]byte) []byte
	}
	sum [sha256.Size]byte
}

// Token appends v's token to dst[:0]. v must be valid UTF-8.
func (t *Tokenizer) Token(dst, v []byte) ([]byte, error) {
	out, ref, ok := t.cache.lookup(dst[:0], v)
	if ok {
		return out, nil
	}
	out, err := t.run(out, v, true)
	if err == nil {
		t.cache.fill(ref, v, out)
	}
	return out, err
}

// Detokenize appends the value whose token is tok to dst[:0]. It returns
// ErrIrreversible for one-way tokens. Any string of the right shape
// decodes to some value: a guessed real value detokenizes to a different
// value, not to itself.
func (t *Tokenizer) Detokenize(dst, tok []byte) ([]byte, error) {
	return t.run(dst, tok, false)
}

func (t *Tokenizer) run(dst, v []byte, enc bool) ([]byte, error) {
	if t.class == "cn_id" {
		if out, ok, err := t.asciiID(dst, v, enc); ok {
			return out, err
		}
	}
	return t.runChars(dst, v, enc)
}

// runChars is run on the value's characters: every class and shape.
func (t *Tokenizer) runChars(dst, v []byte, enc bool) ([]byte, error) {
	st := t.pool.Get().(*tokState)
	defer t.pool.Put(st)
	if !st.load(v, t.class) {
		return dst[:0], errNotToken
	}
	if len(st.pos) > 0 {
		if err := t.transform(st, enc); err != nil {
			return dst[:0], err
		}
	}
	out := dst[:0]
	for _, r := range st.runes {
		out = utf8.AppendRune(out, r)
	}
	return out, nil
}

// load decodes v into runes with their categories, normalised. It
// reports false for a value that is not valid UTF-8.
func (st *tokState) load(v []byte, class string) bool {
	st.runes, st.cats, st.nums, st.pos = st.runes[:0], st.cats[:0], st.nums[:0], st.pos[:0]
	for i := 0; i < len(v); {
		if c := v[i]; c < utf8.RuneSelf {
			st.runes = append(st.runes, rune(c))
			i++
			continue
		}
		r, size := utf8.DecodeRune(v[i:])
		if r == utf8.RuneError && size <= 1 {
			return false
		}
		st.runes = append(st.runes, halfWidth(r))
		i += size
	}
	if class == "cn_id" || class == "uscc" {
		for i, r := range st.runes {
			if r >= 'a' && r <= 'z' && (class == "uscc" || i == len(st.runes)-1) {
				st.runes[i] = r - 'a' + 'A'
			}
		}
	}
	st.foreign = false
	for i, r := range st.runes {
		c, n := classify(r)
		if c == catSep {
			if c = foreignCat(r); c == catSep {
				continue
			}
			st.foreign = true
		}
		st.cats = append(st.cats, c)
		st.nums = append(st.nums, n)
		st.pos = append(st.pos, i)
	}
	return true
}

// store writes the significant characters back into the runes.
func (st *tokState) store() {
	for i, p := range st.pos {
		st.runes[p] = unclassify(st.cats[i], st.nums[i])
	}
}

// transform tokenizes (enc) or detokenizes the significant characters.
func (t *Tokenizer) transform(st *tokState, enc bool) error {
	if st.foreign {
		// Letters and numbers outside the token alphabets (other
		// scripts, rare Chinese characters): a keyed one-way substitute
		// of the whole value, never the characters themselves.
		if !enc {
			return ErrIrreversible
		}
		t.fill(st)
		st.store()
		return nil
	}
	shape := t.shape(st)
	if shape != nil {
		return shape(t, st, enc)
	}
	if err := t.generic(st, enc); err != nil {
		return err
	}
	st.store()
	return nil
}

// generic permutes the significant characters within their categories,
// cycle-walking so that the result does not take the class's own shape
// (which would make it decode with the class's scheme).
func (t *Tokenizer) generic(st *tokState, enc bool) error {
	radix, uniform, small := t.domain(st)
	if small {
		if !enc {
			return ErrIrreversible
		}
		t.fill(st)
		return nil
	}
	for range maxWalk {
		var err error
		if uniform {
			err = t.crypt(radix, st.nums, tweakGeneric, enc)
		} else {
			err = t.mixed(st, enc)
		}
		if err != nil {
			return err
		}
		if t.shape(st) == nil {
			return nil
		}
	}
	return errWalk
}

var errWalk = errors.New("masking: tokenize: cycle walk did not end")

var tweakGeneric = []byte{'G'}

// domain reports the significant characters' radix when they share one
// category, and whether their combined domain is below FF1's minimum.
func (t *Tokenizer) domain(st *tokState) (radix int, uniform, small bool) {
	uniform = true
	d := 1.0
	for i, c := range st.cats {
		r := catRadix(c)
		if i == 0 {
			radix = r
		} else if c != st.cats[0] {
			uniform = false
		}
		d *= float64(r)
	}
	return radix, uniform, d < ff1.MinDomain
}

// mixed permutes characters of several categories: their mixed-radix
// number N < M is written in binary, FF1-encrypted (radix 2) and
// cycle-walked until it is below M again.
func (t *Tokenizer) mixed(st *tokState, enc bool) error {
	m := big.NewInt(1)
	n := new(big.Int)
	r := new(big.Int)
	for i, c := range st.cats {
		r.SetInt64(int64(catRadix(c)))
		m.Mul(m, r)
		n.Mul(n, r)
		n.Add(n, r.SetUint64(uint64(st.nums[i])))
	}
	bitsN := new(big.Int).Sub(m, big.NewInt(1)).BitLen()
	xs := st.tmp[:0]
	for range bitsN {
		xs = append(xs, 0)
	}
	st.tmp = xs
	for range maxWalk {
		for i := range xs {
			xs[len(xs)-1-i] = uint16(n.Bit(i))
		}
		if err := t.crypt(2, xs, tweakGeneric, enc); err != nil {
			return err
		}
		n.SetInt64(0)
		for _, x := range xs {
			n.Lsh(n, 1)
			if x == 1 {
				n.SetBit(n, 0, 1)
			}
		}
		if n.Cmp(m) < 0 {
			q := new(big.Int)
			for i := len(st.cats) - 1; i >= 0; i-- {
				r.SetInt64(int64(catRadix(st.cats[i])))
				n.QuoRem(n, r, q)
				st.nums[i] = uint16(q.Uint64())
			}
			return nil
		}
	}
	return errWalk
}

// fill replaces the significant characters by keyed one-way ones of the
// same categories (values too short for FF1): two bytes of
// HMAC(counter ‖ value) per character.
func (t *Tokenizer) fill(st *tokState) {
	var block []byte
	for i, c := range st.cats {
		k := i % 16
		if k == 0 {
			st.mac.Reset()
			st.mac.Write([]byte{byte(i / 16)})
			var b [utf8.UTFMax]byte
			for _, r := range st.runes {
				st.mac.Write(utf8.AppendRune(b[:0], r))
			}
			block = st.mac.Sum(st.sum[:0])
		}
		v := int(block[2*k])<<8 | int(block[2*k+1])
		st.nums[i] = uint16(v % catRadix(c))
	}
}
