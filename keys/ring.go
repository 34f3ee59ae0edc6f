package keys

import (
	"crypto/hkdf"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"slices"
	"strings"
)

// Purposes of the key rings.
const (
	Tokenize = "tokenize"
	Hash     = "hash"
)

// minKey is the shortest key material accepted (128 bits). Material is
// 16, 24 or 32 bytes, the AES key sizes Transit exports and `keys init`
// writes: any other length is a truncated or mis-pasted key, which would
// otherwise be used as a different key and silently change every token.
const minKey = 16

// Ring is the versions of one key. It is immutable once built.
type Ring struct {
	versions map[int][]byte
}

// NewRing copies versions (version number → material of 16, 24 or 32
// bytes) into a ring.
func NewRing(versions map[int][]byte) (*Ring, error) {
	r := &Ring{versions: make(map[int][]byte, len(versions))}
	for v, k := range versions {
		if v < 1 {
			return nil, fmt.Errorf("key version %d: versions start at 1", v)
		}
		switch {
		case len(k) < minKey:
			return nil, fmt.Errorf("key version %d is %d bytes; at least %d are needed", v, len(k), minKey)
		case len(k) != 16 && len(k) != 24 && len(k) != 32:
			return nil, fmt.Errorf("key version %d is %d bytes, not 16, 24 or 32: truncated or mis-pasted?", v, len(k))
		}
		r.versions[v] = append([]byte(nil), k...)
	}
	if len(r.versions) == 0 {
		return nil, fmt.Errorf("no key versions")
	}
	return r, nil
}

// Latest is the highest version.
func (r *Ring) Latest() int {
	best := 0
	for v := range r.versions {
		best = max(best, v)
	}
	return best
}

// Versions lists the versions, ascending.
func (r *Ring) Versions() []int {
	vs := make([]int, 0, len(r.versions))
	for v := range r.versions {
		vs = append(vs, v)
	}
	slices.Sort(vs)
	return vs
}

// Has reports whether version v exists.
func (r *Ring) Has(v int) bool { _, ok := r.versions[v]; return ok }

// derive returns the 32-byte key of purpose and class from version v.
func (r *Ring) derive(v int, purpose, class string) ([]byte, error) {
	m, ok := r.versions[v]
	if !ok {
		return nil, fmt.Errorf("key version %d is not available (have %s)", v, versionList(r.Versions()))
	}
	return hkdf.Key(sha256.New, m, []byte("pgmantle"), "pgmantle/"+purpose+"/"+class, 32)
}

// same reports whether two rings hold the same versions and material.
func (r *Ring) same(o *Ring) bool {
	if r == nil || o == nil {
		return r == o
	}
	if len(r.versions) != len(o.versions) {
		return false
	}
	for v, k := range r.versions {
		if ok := o.versions[v]; ok == nil || string(ok) != string(k) {
			return false
		}
	}
	return true
}

func versionList(vs []int) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = fmt.Sprint(v)
	}
	return "[" + strings.Join(s, " ") + "]"
}

// String shows the versions, never the material.
func (r Ring) String() string { return "keys.Ring{versions: " + versionList(r.Versions()) + "}" }

// GoString is String.
func (r Ring) GoString() string { return r.String() }

// Format makes every verb print String.
func (r Ring) Format(f fmt.State, _ rune) { fmt.Fprint(f, r.String()) }

// LogValue logs String.
func (r Ring) LogValue() slog.Value { return slog.StringValue(r.String()) }
