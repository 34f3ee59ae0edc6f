package masking

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
)

// tokenCache remembers the tokens of recently seen values, so that an
// analyst's repeated reports and the values a join or group-by repeats
// cost a lookup instead of FF1. It holds values in the clear, in memory
// only, like the buffers the proxy relays them through; it is bounded
// (65,536 entries: 16 shards of 2,048 two-way sets; a new value evicts
// the older of its set; values over maxCached bytes are not kept) and
// goes away with its Tokenizer, hence with a key rotation. Its memory
// (about 3.7 MB, plus up to 32 MB of entries longer than inlineLen) is
// allocated at the first token, so a tokenizer built only to check a
// policy costs none.
//
// Values and tokens of up to inlineLen bytes (ID numbers, cards, mobile
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
	inlineLen   = 24
)

type cacheShard struct {
	mu   sync.Mutex
	tags [cacheSets][2]uint8     // 0: empty slot
	sets [cacheSets][2]cacheSlot // [0] the newer
}

// cacheSlot is an inline entry (n > 0), or, with n == 0, the long entry
// beside it, if any.
type cacheSlot struct {
	n, tn        uint8
	value, token [inlineLen]byte
}

type longEntry struct{ value, token string }

func newTokenCache() *tokenCache { return &tokenCache{seed: maphash.MakeSeed()} }

func (c *tokenCache) init() {
	c.once.Do(func() {
		c.shards = new([cacheShards]cacheShard)
		c.long = new([cacheShards][cacheSets][2]*longEntry)
		c.ready.Store(true)
	})
}

// locate returns v's shard index, set and tag.
func (c *tokenCache) locate(v []byte) (int, int, uint8) {
	h := maphash.Bytes(c.seed, v)
	tag := uint8(h >> 56)
	if tag == 0 {
		tag = 1
	}
	return int(h % cacheShards), int(h/cacheShards) % cacheSets, tag
}

// get appends v's cached token to dst.
func (c *tokenCache) get(dst, v []byte) ([]byte, bool) {
	if !c.ready.Load() {
		return dst, false
	}
	si, i, tag := c.locate(v)
	sh := &c.shards[si]
	sh.mu.Lock()
	for k, t := range sh.tags[i] {
		if t != tag {
			continue
		}
		if s := &sh.sets[i][k]; s.n > 0 {
			if int(s.n) == len(v) && string(s.value[:s.n]) == string(v) {
				dst = append(dst, s.token[:s.tn]...)
				sh.mu.Unlock()
				return dst, true
			}
		} else if l := c.long[si][i][k]; l != nil && l.value == string(v) {
			dst = append(dst, l.token...)
			sh.mu.Unlock()
			return dst, true
		}
	}
	sh.mu.Unlock()
	return dst, false
}

// maxCached is the longest value (and token) the cache keeps: with it
// the cache holds at most 65,536 × 2 × 256 bytes of long entries (32 MB)
// whatever the values; longer values (addresses and free text rarely
// repeat) are tokenized every time.
const maxCached = 256

// put caches v's token, evicting the older entry of its set.
func (c *tokenCache) put(v, tok []byte) {
	if len(v) > maxCached || len(tok) > maxCached {
		return
	}
	c.init()
	var slot cacheSlot
	var long *longEntry
	if len(v) > 0 && len(v) <= inlineLen && len(tok) <= inlineLen {
		slot.n, slot.tn = uint8(len(v)), uint8(len(tok))
		copy(slot.value[:], v)
		copy(slot.token[:], tok)
	} else {
		long = &longEntry{value: string(v), token: string(tok)}
	}
	si, i, tag := c.locate(v)
	sh := &c.shards[si]
	sh.mu.Lock()
	set, tags, longs := &sh.sets[i], &sh.tags[i], &c.long[si][i]
	set[1], set[0] = set[0], slot
	tags[1], tags[0] = tags[0], tag
	longs[1], longs[0] = longs[0], long
	sh.mu.Unlock()
}
