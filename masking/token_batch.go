package masking

import "github.com/pgmantle/pgmantle/masking/ff1"

// Prefiller is an optional interface of a Masker: given values about to
// be masked (NULLs as nil), it may compute their results ahead, several
// at a time, so that the Mask calls that follow find them ready. It
// changes nothing Mask returns, keeps no value, and may do nothing;
// Prefills reports whether it does anything for this masker. Prefill
// returns how many values it prepared (0 when all were ready already:
// a caller may then offer values less often).
type Prefiller interface {
	Prefills() bool
	Prefill(values [][]byte) int
}

// Prefills implements Prefiller: resident ID numbers only.
func (m *tokenMask) Prefills() bool { return m.t.class == "cn_id" }

// maxPrefill is the most values one Prefill call considers.
const maxPrefill = 64

// Prefill implements Prefiller for resident ID numbers: tokens of IDs
// not in the token cache are computed four at a time (FF1 in lockstep,
// see ff1.Cipher.Encrypt4) and cached, so that a scan of new IDs pays
// about half the per-value cost. Other classes, and IDs the lockstep
// path does not cover (an unreal birth date, a token that must be
// cycle-walked), are left to Mask.
func (m *tokenMask) Prefill(values [][]byte) int {
	if !m.Prefills() {
		return 0
	}
	var buf [maxPrefill][]byte
	batch := buf[:0]
	for _, v := range values {
		if v == nil || len(batch) == maxPrefill || textProblem(v) != "" {
			continue
		}
		c, _ := m.tc.content(v)
		batch = append(batch, c)
	}
	return m.t.prefillIDs(batch)
}

// idLane is one ID of a lockstep batch.
type idLane struct {
	v   []byte
	ref cacheRef
	off int      // the input's check offset, kept by the token
	ds  []uint16 // its 14 digits (the integer of idNumber)
}

// prefillIDs caches the tokens of the IDs among vals that are not cached
// yet, computing them four at a time, and returns how many it cached
// (IDs it cannot compute in lockstep, and the last lanes of a batch
// short of four, are left to Mask: a scan of such values makes the
// caller back off). The tokens are those Token computes (asciiID and
// idToken with the encrypt direction).
func (t *Tokenizer) prefillIDs(vals [][]byte) int {
	c := t.ciphers[10]
	if c == nil {
		return 0
	}
	filled := 0
	var lanes [4]idLane
	var digits [4][14]uint16
	var probe [32]byte
	k := 0
	for _, v := range vals {
		xs, check, ok := parseASCIIID(v)
		if !ok {
			continue
		}
		_, ref, hit := t.cache.lookup(probe[:0], v)
		if hit {
			continue
		}
		n, real := idNumber(xs[:])
		if !real {
			continue
		}
		putDigits(digits[k][:], n)
		lanes[k] = idLane{v: v, ref: ref, off: (check - idCheckOf(xs[:]) + 11) % 11, ds: digits[k][:]}
		k++
		if k == len(lanes) {
			filled += t.fillIDs(c, &lanes)
			k = 0
		}
	}
	return filled
}

// fillIDs enciphers four lanes in lockstep and caches their tokens,
// returning how many it cached.
func (t *Tokenizer) fillIDs(c *ff1.Cipher, lanes *[4]idLane) int {
	xs := [4][]uint16{lanes[0].ds, lanes[1].ds, lanes[2].ds, lanes[3].ds}
	if !c.Encrypt4(&xs, tweakID) {
		return 0
	}
	filled := 0
	var tok [18]byte
	for _, l := range lanes {
		n := digitsValue(l.ds)
		if n >= idDomain {
			continue // cycle-walks: Mask computes it
		}
		var out [17]uint16
		idDigits(n, out[:])
		check := (idCheckOf(out[:]) + l.off) % 11
		t.cache.fill(l.ref, l.v, appendASCIIID(tok[:0], &out, check))
		filled++
	}
	return filled
}
