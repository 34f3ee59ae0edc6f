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
// the older of its set; values over maxCached bytes are not kept) and
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
// the value's hash, in an array of its own (64 kB in all, which stays in
// the CPU's cache): a value not in the cache, the common case of a scan,
// is usually turned away by its tags without reading a slot from memory.
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
type cacheShard struct {
	sets [cacheSets][2]cacheSlot // [0] the newer
	tags [cacheSets][2]uint8     // 0: empty slot
	mu   sync.Mutex
	_    [56]byte // the next shard's sets start on a cache line
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
	sh := &c.shards[ref.shard]
	sh.mu.Lock()
	for k, t := range sh.tags[ref.set] {
		if t != ref.tag {
			continue
		}
		if s := &sh.sets[ref.set][k]; s.n > 0 {
			if int(s.n) == len(v) && string(s.value[:s.n]) == string(v) {
				dst = append(dst, s.token[:s.tn]...)
				sh.mu.Unlock()
				return dst, ref, true
			}
		} else if l := c.long[ref.shard][ref.set][k]; l != nil && l.value == string(v) {
			dst = append(dst, l.token...)
			sh.mu.Unlock()
			return dst, ref, true
		}
	}
	sh.mu.Unlock()
	set := &sh.sets[ref.set]
	prefetch(unsafe.Pointer(&set[0]))
	prefetch(unsafe.Pointer(&set[1]))
	return dst, ref, false
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
	set, tags := &sh.sets[ref.set], &sh.tags[ref.set]
	// The pointers beside the set change only when a long entry comes,
	// moves or goes (an inline fill of inline slots writes no pointer).
	if long != nil || isLong(tags[0], &set[0]) || isLong(tags[1], &set[1]) {
		longs := &c.long[ref.shard][ref.set]
		longs[1], longs[0] = longs[0], long
	}
	set[1] = set[0]
	s := &set[0]
	if inline {
		s.n, s.tn = uint8(len(v)), uint8(len(tok))
		copy(s.value[:], v)
		copy(s.token[:], tok)
	} else {
		s.n, s.tn = 0, 0
	}
	tags[1], tags[0] = tags[0], ref.tag
	sh.mu.Unlock()
}

// isLong reports whether a slot (with its tag) stands for a long entry.
func isLong(tag uint8, s *cacheSlot) bool { return tag != 0 && s.n == 0 }
