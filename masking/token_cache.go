package masking

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
	"unsafe"
)

// tokenCache remembers the tokens of recently seen values, so that an
// analyst's repeated reports and the values a join or group-by repeats
// cost a lookup instead of FF1. It holds values in the clear, in memory
// only, like the buffers the proxy relays them through; it is bounded
// (65,536 entries: 16 shards of 2,048 two-way sets; a new value evicts
// the older of its set, in place; values over maxCached bytes are not
// kept) and
// goes away with its Tokenizer, hence with a key rotation. Its memory
// (about 4.8 MB, plus up to 32 MB of entries longer than inlineLen) is
// allocated at the first token, so a tokenizer built only to check a
// policy costs none.
//
// Values and tokens of up to inlineLen (31) bytes (ID numbers, cards, mobile
// numbers) are stored inside their slot, in an array without pointers: a
// scan of values never seen before allocates nothing for the cache, the
// collector does not look inside it, and a lookup reads one slot instead
// of following a pointer to the value. Longer ones are kept as strings in
// a parallel array of pointers. Each slot also has a one-byte tag from
// the value's hash, kept with its set's other tag and which slot is the
// newer in one word per set, in an array of its own (128 kB in all,
// which stays in the CPU's cache): a value not in the cache, the common
// case of a scan, is usually turned away by its tags without reading a
// slot from memory, and the one slot a lookup or fill will touch is
// known before it is read (see request).
type tokenCache struct {
	seed   maphash.Seed
	once   sync.Once
	ready  atomic.Bool
	shards *[cacheShards]cacheShard               // no pointers inside
	long   *[cacheShards][cacheSets][2]*longEntry // under the shard's mu
}

const (
	cacheShards = 16
	cacheSets   = 2048
	inlineLen   = 31
)

// cacheShard's sets come first and are 128 bytes each (two 64-byte
// slots), so that a set is two whole cache lines of an aligned array.
// A set's tags word holds its slots' tags (bits 0-7 and 8-15; 0: an
// empty slot) and the newer slot (bit 16); it changes under mu, and is
// read without it for request's hint.
type cacheShard struct {
	sets [cacheSets][2]cacheSlot
	tags [cacheSets]atomic.Uint32
	mu   sync.Mutex
	_    [56]byte // the next shard's sets start on a cache line
}

// slotOf returns the slot of a set's tags word w that holds tag, or -1.
func slotOf(w uint32, tag uint8) int {
	switch tag {
	case uint8(w):
		return 0
	case uint8(w >> 8):
		return 1
	}
	return -1
}

// victim is the slot a new entry of a set with tags word w takes: an
// empty one, or the older.
func victim(w uint32) int {
	switch {
	case uint8(w) == 0:
		return 0
	case uint8(w>>8) == 0:
		return 1
	}
	return 1 - int(w>>16&1)
}

// cacheSlot is an inline entry (n > 0), or, with n == 0, the long entry
// beside it, if any. It is 64 bytes: one cache line.
type cacheSlot struct {
	n, tn        uint8
	value, token [inlineLen]byte
}

type longEntry struct{ value, token string }

// cacheRef is where a value's entry is, or would go: its shard, set and
// tag. A lookup that misses returns it for the fill that follows, so a
// value is hashed once.
type cacheRef struct {
	shard, set int
	tag        uint8
}

func newTokenCache() *tokenCache { return &tokenCache{seed: maphash.MakeSeed()} }

func (c *tokenCache) init() {
	c.once.Do(func() {
		c.shards = new([cacheShards]cacheShard)
		c.long = new([cacheShards][cacheSets][2]*longEntry)
		c.ready.Store(true)
	})
}

// locate returns v's place.
func (c *tokenCache) locate(v []byte) cacheRef {
	h := maphash.Bytes(c.seed, v)
	tag := uint8(h >> 56)
	if tag == 0 {
		tag = 1
	}
	return cacheRef{int(h % cacheShards), int(h/cacheShards) % cacheSets, tag}
}

// get appends v's cached token to dst.
func (c *tokenCache) get(dst, v []byte) ([]byte, bool) {
	out, _, ok := c.lookup(dst, v)
	return out, ok
}

// lookup appends v's cached token to dst; on a miss it returns v's place
// for fill, and has asked the CPU to fetch the set that fill will
// write, so that its memory arrives while the token is computed (a scan
// of new values would otherwise wait for it at every fill).
func (c *tokenCache) lookup(dst, v []byte) ([]byte, cacheRef, bool) {
	if !c.ready.Load() {
		return dst, cacheRef{shard: -1}, false
	}
	ref := c.locate(v)
	out, ok := c.probe(dst, v, ref)
	if !ok {
		c.request(ref)
	}
	return out, ref, ok
}

// requestTags asks the CPU to fetch the tags word of ref's set (ref must
// be located in an initialised cache), which request reads: a batch
// requests all its tags first, so that they arrive together.
func (c *tokenCache) requestTags(ref cacheRef) {
	prefetch(unsafe.Pointer(&c.shards[ref.shard].tags[ref.set]))
}

// request asks the CPU to fetch the slot at ref (which must be located
// in an initialised cache) that a probe or fill that follows will read
// or write: the one whose tag matches, or the one a new entry takes.
func (c *tokenCache) request(ref cacheRef) {
	sh := &c.shards[ref.shard]
	w := sh.tags[ref.set].Load()
	k := slotOf(w, ref.tag)
	if k < 0 {
		k = victim(w)
	}
	prefetch(unsafe.Pointer(&sh.sets[ref.set][k]))
}

// probe appends v's cached token to dst, looking at v's place ref only
// (the cache must be initialised).
func (c *tokenCache) probe(dst, v []byte, ref cacheRef) ([]byte, bool) {
	sh := &c.shards[ref.shard]
	if slotOf(sh.tags[ref.set].Load(), ref.tag) < 0 {
		return dst, false // no tag matches (a value new to the cache): no lock
	}
	sh.mu.Lock()
	defer sh.mu.Unlock()
	w := sh.tags[ref.set].Load()
	for k := range 2 {
		if uint8(w>>(8*k)) != ref.tag {
			continue
		}
		if s := &sh.sets[ref.set][k]; s.n > 0 {
			if int(s.n) == len(v) && string(s.value[:s.n]) == string(v) {
				return append(dst, s.token[:s.tn]...), true
			}
		} else if l := c.long[ref.shard][ref.set][k]; l != nil && l.value == string(v) {
			return append(dst, l.token...), true
		}
	}
	return dst, false
}

// maxCached is the longest value (and token) the cache keeps: with it
// the cache holds at most 65,536 × 2 × 256 bytes of long entries (32 MB)
// whatever the values; longer values (addresses and free text rarely
// repeat) are tokenized every time.
const maxCached = 256

// put caches v's token, evicting the older entry of its set.
func (c *tokenCache) put(v, tok []byte) {
	c.fill(cacheRef{shard: -1}, v, tok)
}

// fill caches v's token at ref (v's place from lookup, or shard -1 to
// locate it), evicting the older entry of its set.
func (c *tokenCache) fill(ref cacheRef, v, tok []byte) {
	if len(v) > maxCached || len(tok) > maxCached {
		return
	}
	c.init()
	if ref.shard < 0 {
		ref = c.locate(v)
	}
	inline := len(v) > 0 && len(v) <= inlineLen && len(tok) <= inlineLen
	var long *longEntry
	if !inline {
		long = &longEntry{value: string(v), token: string(tok)}
	}
	sh := &c.shards[ref.shard]
	sh.mu.Lock()
	w := sh.tags[ref.set].Load()
	k := victim(w)
	s := &sh.sets[ref.set][k]
	// The pointer beside the slot changes only when a long entry comes or
	// goes (an inline fill of an inline slot writes no pointer).
	if long != nil || isLong(uint8(w>>(8*k)), s) {
		c.long[ref.shard][ref.set][k] = long
	}
	if inline {
		s.n, s.tn = uint8(len(v)), uint8(len(tok))
		copy(s.value[:], v)
		copy(s.token[:], tok)
	} else {
		s.n, s.tn = 0, 0
	}
	w &^= 0xff<<(8*k) | 1<<16
	sh.tags[ref.set].Store(w | uint32(ref.tag)<<(8*k) | uint32(k)<<16)
	sh.mu.Unlock()
}

// isLong reports whether a slot (with its tag) stands for a long entry.
func isLong(tag uint8, s *cacheSlot) bool { return tag != 0 && s.n == 0 }
