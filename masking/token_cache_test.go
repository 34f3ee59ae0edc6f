package masking

import (
	"fmt"
	"strings"
	"testing"
	"unsafe"
)

// TestTokenCacheSlots: inline and long entries (either side of the
// 31-byte limit, the empty value, a long token for a short value) come
// back as stored; a third value in a set evicts the oldest, not the
// newer one; a value never stored misses even when its set is full.
func TestTokenCacheSlots(t *testing.T) {
	c := newTokenCache()
	if _, ok := c.get(nil, []byte("1")); ok || c.shards != nil {
		t.Fatal("an unused cache hit or allocated its slots")
	}
	cases := map[string]string{
		"":                               "empty-token",
		"1":                              "2",
		strings.Repeat("a", inlineLen):   strings.Repeat("b", inlineLen),
		strings.Repeat("c", inlineLen+1): strings.Repeat("d", inlineLen+1),
		"short":                          strings.Repeat("e", inlineLen+5),
		"上海市浦东新区世纪大道100号": "北京市朝阳区建国路88号楼",
	}
	for v, tok := range cases {
		c.put([]byte(v), []byte(tok))
	}
	for v, tok := range cases {
		got, ok := c.get([]byte("prefix"), []byte(v))
		if !ok || string(got) != "prefix"+tok {
			t.Errorf("get(%q) = %q, %v; want %q", v, got, ok, tok)
		}
	}

	// three values of one set: the first is evicted
	r0 := c.locate([]byte("v0"))
	same := []string{"v0"}
	for i := 1; len(same) < 4; i++ {
		v := fmt.Sprintf("v%d", i)
		if r := c.locate([]byte(v)); r.shard == r0.shard && r.set == r0.set {
			same = append(same, v)
		}
	}
	for _, v := range same[:3] {
		c.put([]byte(v), []byte("tok-"+v))
	}
	if _, ok := c.get(nil, []byte(same[0])); ok {
		t.Error("the oldest of three values in a set is still cached")
	}
	for _, v := range same[1:3] {
		if got, ok := c.get(nil, []byte(v)); !ok || string(got) != "tok-"+v {
			t.Errorf("get(%q) = %q, %v after eviction of another", v, got, ok)
		}
	}
	if _, ok := c.get(nil, []byte(same[3])); ok {
		t.Error("a value never stored hit in a full set")
	}
}

// TestTokenCacheLayout: a slot is one cache line and a shard a whole
// number of them, so that a set (two slots) is two aligned lines (the
// shards array is a large allocation, hence page-aligned).
func TestTokenCacheLayout(t *testing.T) {
	if n := unsafe.Sizeof(cacheSlot{}); n != 64 {
		t.Errorf("cacheSlot is %d bytes, want 64", n)
	}
	if n := unsafe.Sizeof(cacheShard{}); n%64 != 0 {
		t.Errorf("cacheShard is %d bytes, not a multiple of 64", n)
	}
	c := newTokenCache()
	c.put([]byte("1"), []byte("2"))
	if p := uintptr(unsafe.Pointer(&c.shards[0].sets[0])); p%64 != 0 {
		t.Errorf("the first set starts at %#x, not on a cache line", p)
	}
}
