package masking

import "github.com/pgmantle/pgmantle/masking/ff1"

// AheadMasker is an optional interface of a Masker: MaskAhead masks
// several values at once (NULLs as nil) faster than a Mask call each,
// with the results Mask would give; MasksAhead reports whether it does
// anything for this masker. It appends the results to dst, in order,
// and sets ends[i] (len(ends) >= len(vals)) to the end of vals[i]'s result in
// the returned slice, or to -1 where the caller must call Mask itself
// (NULL, a value Mask refuses, a shape MaskAhead leaves to Mask); a
// result starts where the previous one given ends (or at len(dst)). It
// keeps no value and considers at most MaxAhead values.
type AheadMasker interface {
	MasksAhead() bool
	MaskAhead(dst []byte, vals [][]byte, format int16, ends []int) []byte
}

// MaxAhead is the most values one MaskAhead call considers.
const MaxAhead = 64

// MasksAhead implements AheadMasker: resident ID numbers only.
func (m *tokenMask) MasksAhead() bool { return m.t.class == "cn_id" && m.t.ciphers[10] != nil }

// aheadID is one value of a MaskAhead call.
type aheadID struct {
	c     []byte // its content (bpchar padding stripped); nil: left to Mask
	chars int
	ref   cacheRef
	done  bool // tok is its token
	tok   [18]byte
}

// MaskAhead implements AheadMasker for resident ID numbers written as 18
// ASCII characters (others are left to Mask):
//  1. every ID's cache set is located and its tags requested, then the
//     slot each will read or write, so that the memory of a batch
//     arrives together rather than one value after another;
//  2. the cached tokens are read;
//  3. the IDs not cached are enciphered eight at a time (FF1 in
//     lockstep, see ff1.Cipher.EncryptLanes; a token outside the IDs'
//     domain is enciphered again in the next group, as Token's cycle
//     walk does), the rest one by one, and cached;
//  4. the results are written in order, fitted to the column.
//
// The tokens are those Mask gives (Token: asciiID and idToken with the
// encrypt direction).
func (m *tokenMask) MaskAhead(dst []byte, vals [][]byte, format int16, ends []int) []byte {
	vals = vals[:min(len(vals), MaxAhead)]
	for i := range vals {
		ends[i] = -1
	}
	if !m.MasksAhead() || (format != FormatText && format != FormatBinary) {
		return dst
	}
	t := m.t
	t.cache.init()
	var ids [MaxAhead]aheadID
	for i, v := range vals {
		if len(v) < 18 {
			continue
		}
		c, chars := m.tc.content(v)
		if len(c) != 18 {
			continue
		}
		ids[i] = aheadID{c: c, chars: chars, ref: t.cache.locate(c)}
		t.cache.requestTags(ids[i].ref)
	}
	for i := range vals {
		if ids[i].c != nil {
			t.cache.request(ids[i].ref)
		}
	}
	var lanes [ff1.Lanes]idLane
	k := 0
	for i := range vals {
		id := &ids[i]
		if id.c == nil {
			continue
		}
		if tok, ok := t.cache.probe(id.tok[:0], id.c, id.ref); ok {
			id.done = len(tok) == len(id.tok)
			continue
		}
		n, off, isID, real := idLaneOf(id.c)
		if !isID {
			id.c = nil // not an ID Mask tokenizes here: its error, or runChars
			continue
		}
		if real {
			lanes[k] = idLane{id: id, off: off, n: n}
			if k++; k == len(lanes) {
				// fillIDs first: in walkOn(lanes, t.fillIDs(&lanes)) the
				// order of the read of lanes and the call is unspecified.
				walking := t.fillIDs(&lanes)
				lanes, k = walkOn(lanes, walking)
			}
			continue
		}
		t.fillOne(id)
	}
	// The last group, and the walks still going, padded with lanes that
	// stand for no value (a group of eight costs less than two IDs one
	// by one).
	for k > 0 {
		for j := k; j < len(lanes); j++ {
			lanes[j] = idLane{}
		}
		walking := t.fillIDs(&lanes)
		lanes, k = walkOn(lanes, walking)
	}
	for i := range vals {
		if id := &ids[i]; id.done {
			dst = m.tc.finish(append(dst, id.tok[:]...), len(dst), id.chars)
			ends[i] = len(dst)
		}
	}
	return dst
}

// idLane is one ID of a lockstep batch.
type idLane struct {
	id    *aheadID
	off   int    // the input's check offset, kept by the token
	n     uint64 // its integer (idNumber), or the last ciphertext of a walk
	walks int
}

// walkOn returns the lanes in walking (a set fillIDs returned) moved to
// the front, and how many. (It takes and returns the array by value, so
// that the caller's lanes and the IDs they point to stay on its stack.)
func walkOn(lanes [ff1.Lanes]idLane, walking uint) ([ff1.Lanes]idLane, int) {
	k := 0
	for j, l := range lanes {
		if walking&(1<<j) != 0 {
			lanes[k] = l
			k++
		}
	}
	return lanes, k
}

// fillIDs enciphers a full group of lanes in lockstep and caches the
// tokens that fall in the IDs' domain. It returns the set of lanes whose
// ciphertext does not (about one in seventy), which it has given the
// ciphertext to be enciphered again with the next group (only scalars
// are written through lanes, so that the caller's array of IDs stays on
// its stack).
func (t *Tokenizer) fillIDs(lanes *[ff1.Lanes]idLane) (walking uint) {
	var ns [ff1.Lanes]uint64
	for i, l := range lanes {
		ns[i] = l.n
	}
	if !t.ciphers[10].EncryptLanes(&ns, 14, tweakID) {
		for _, l := range lanes {
			if l.id != nil {
				t.fillOne(l.id)
			}
		}
		return 0
	}
	for i := range lanes {
		l := &lanes[i]
		if l.id == nil {
			continue // padding
		}
		if ns[i] >= idDomain {
			if l.walks++; l.walks >= maxWalk {
				t.fillOne(l.id) // Token's error, reported by Mask
				continue
			}
			l.n = ns[i]
			walking |= 1 << i
			continue
		}
		l.id.done = true
		appendIDNumber(l.id.tok[:0], ns[i], l.off)
		t.cache.fill(l.id.ref, l.id.c, l.id.tok[:])
	}
	return walking
}

// fillOne tokenizes and caches one value of 18 bytes; a value it cannot
// tokenize is left to Mask, which reports it.
func (t *Tokenizer) fillOne(id *aheadID) {
	tok, err := t.run(id.tok[:0], id.c, true)
	if err != nil || len(tok) != len(id.tok) {
		return
	}
	id.done = true
	t.cache.fill(id.ref, id.c, tok)
}
