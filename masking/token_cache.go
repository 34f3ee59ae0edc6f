package masking

import (
	"hash/maphash"
	"sync"
)

// tokenCache remembers the tokens of recently seen values, so that an
// analyst's repeated reports and the values a join or group-by repeats
// cost a lookup instead of FF1. It holds values in the clear, in memory
// only, like the buffers the proxy relays them through; it is bounded
// (65,536 entries: 16 shards of 2,048 two-way sets; a new value evicts
// the older of its set) and goes away with its Tokenizer, hence with a
// key rotation.
//
// Values and tokens of up to inlineLen bytes (ID numbers, cards, mobile
// numbers) are stored inside their slot: a scan of values never seen
// before then allocates nothing for the cache, gives the collector
// nothing to trace, and a lookup reads one slot's memory instead of
// following a pointer to the value. Longer ones are kept as strings.
// Each slot also has a one-byte tag from the value's hash, in an array of
// its own (64 kB for the whole cache, which stays in the CPU's cache): a
// value not in the cache, the common case of a scan, is usually turned
// away by its tags without reading a slot from memory.
type tokenCache struct {
	seed   maphash.Seed
	shards [cacheShards]cacheShard
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

// cacheSlot is one entry: inline (n > 0) or long (long != nil) or empty.
type cacheSlot struct {
	n, tn        uint8
	value, token [inlineLen]byte
	long         *longEntry
}

type longEntry struct{ value, token string }

func (s *cacheSlot) matches(v []byte) bool {
	if s.n > 0 {
		return int(s.n) == len(v) && string(s.value[:s.n]) == string(v)
	}
	return s.long != nil && s.long.value == string(v)
}

func (s *cacheSlot) appendToken(dst []byte) []byte {
	if s.n > 0 {
		return append(dst, s.token[:s.tn]...)
	}
	return append(dst, s.long.token...)
}

func newTokenCache() *tokenCache { return &tokenCache{seed: maphash.MakeSeed()} }

// set returns v's shard, set and tag.
func (c *tokenCache) set(v []byte) (*cacheShard, int, uint8) {
	h := maphash.Bytes(c.seed, v)
	tag := uint8(h >> 56)
	if tag == 0 {
		tag = 1
	}
	return &c.shards[h%cacheShards], int(h/cacheShards) % cacheSets, tag
}

// get appends v's cached token to dst.
func (c *tokenCache) get(dst, v []byte) ([]byte, bool) {
	sh, i, tag := c.set(v)
	sh.mu.Lock()
	for k, t := range sh.tags[i] {
		if s := &sh.sets[i][k]; t == tag && s.matches(v) {
			dst = s.appendToken(dst)
			sh.mu.Unlock()
			return dst, true
		}
	}
	sh.mu.Unlock()
	return dst, false
}

// put caches v's token, evicting the older entry of its set.
func (c *tokenCache) put(v, tok []byte) {
	var slot cacheSlot
	if len(v) > 0 && len(v) <= inlineLen && len(tok) <= inlineLen {
		slot.n, slot.tn = uint8(len(v)), uint8(len(tok))
		copy(slot.value[:], v)
		copy(slot.token[:], tok)
	} else {
		slot.long = &longEntry{value: string(v), token: string(tok)}
	}
	sh, i, tag := c.set(v)
	sh.mu.Lock()
	set, tags := &sh.sets[i], &sh.tags[i]
	set[1], set[0] = set[0], slot
	tags[1], tags[0] = tags[0], tag
	sh.mu.Unlock()
}
