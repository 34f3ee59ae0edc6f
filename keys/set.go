package keys

import (
	"fmt"
	"log/slog"
)

// Set is the keys one policy generation uses: the tokenize ring at a
// fixed version and the hash ring at its newest. It implements
// masking.KeySource and masking.TokenKeySource.
type Set struct {
	rings        map[string]*Ring
	tokenVersion int
	hashVersion  int
	hashRing     string
}

// TokenVersion is the version that tokenizes.
func (s *Set) TokenVersion() int { return s.tokenVersion }

// TokenKey returns the class's tokenize key.
func (s *Set) TokenKey(class string) ([]byte, error) {
	r := s.rings[Tokenize]
	if r == nil {
		return nil, fmt.Errorf("no %q key ring is configured", Tokenize)
	}
	return r.derive(s.tokenVersion, Tokenize, class)
}

// HashKey returns the class's hash key.
func (s *Set) HashKey(class string) ([]byte, error) {
	r := s.rings[s.hashRing]
	if r == nil {
		return nil, fmt.Errorf("no %q or %q key ring is configured", Hash, Tokenize)
	}
	return r.derive(s.hashVersion, Hash, class)
}

// String shows versions only.
func (s Set) String() string {
	return fmt.Sprintf("keys.Set{tokenize: v%d, hash: %s v%d}", s.tokenVersion, s.hashRing, s.hashVersion)
}

// GoString is String.
func (s Set) GoString() string { return s.String() }

// Format makes every verb print String.
func (s Set) Format(f fmt.State, _ rune) { fmt.Fprint(f, s.String()) }

// LogValue logs String.
func (s Set) LogValue() slog.Value { return slog.StringValue(s.String()) }

// newSet picks the versions: tokenVersion 0 means the newest.
func newSet(rings map[string]*Ring, tokenVersion int) (*Set, error) {
	s := &Set{rings: rings, hashRing: Hash}
	if r := rings[Tokenize]; r != nil {
		if tokenVersion == 0 {
			tokenVersion = r.Latest()
		}
		if !r.Has(tokenVersion) {
			return nil, fmt.Errorf("the policy tokenizes with key version %d, which the %q key ring does not have (it has %s)", tokenVersion, Tokenize, versionList(r.Versions()))
		}
		s.tokenVersion = tokenVersion
	} else if tokenVersion != 0 {
		return nil, fmt.Errorf("the policy names tokenize key version %d but no %q key ring is configured", tokenVersion, Tokenize)
	}
	if rings[Hash] == nil {
		s.hashRing = Tokenize
	}
	if r := rings[s.hashRing]; r != nil {
		s.hashVersion = r.Latest()
	}
	return s, nil
}
