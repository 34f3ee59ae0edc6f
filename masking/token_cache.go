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
type tokenCache struct {
	seed   maphash.Seed
	shards [cacheShards]cacheShard
}

const (
	cacheShards = 16
	cacheSets   = 2048
)

type cacheShard struct {
	mu   sync.Mutex
	sets [cacheSets][2]cacheSlot // [0] the newer
}

type cacheSlot struct {
	value, token string
}

func newTokenCache() *tokenCache { return &tokenCache{seed: maphash.MakeSeed()} }

func (c *tokenCache) set(v []byte) (*cacheShard, int) {
	h := maphash.Bytes(c.seed, v)
	return &c.shards[h%cacheShards], int(h/cacheShards) % cacheSets
}

// get appends v's cached token to dst.
func (c *tokenCache) get(dst, v []byte) ([]byte, bool) {
	sh, i := c.set(v)
	sh.mu.Lock()
	for _, s := range &sh.sets[i] {
		if s.token != "" && s.value == string(v) {
			dst = append(dst, s.token...)
			sh.mu.Unlock()
			return dst, true
		}
	}
	sh.mu.Unlock()
	return dst, false
}

// put caches v's token, evicting the older entry of its set.
func (c *tokenCache) put(v, tok []byte) {
	sh, i := c.set(v)
	value, token := string(v), string(tok)
	sh.mu.Lock()
	set := &sh.sets[i]
	set[1], set[0] = set[0], cacheSlot{value: value, token: token}
	sh.mu.Unlock()
}
