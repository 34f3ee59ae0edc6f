package masking

import (
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
)

// KeySource supplies HMAC keys for the hash mask, one per data class.
// New calls it once per masker; rotating a key means building new maskers
// (a policy reload does).
type KeySource interface {
	HashKey(class string) ([]byte, error)
}

// StaticKeys is a KeySource for tests and the demo: one fixed key per
// class, or a default for classes without one. Its String, GoString,
// Format and LogValue never print key bytes, whatever the verb.
type StaticKeys struct {
	def     []byte
	byClass map[string][]byte
}

// NewStaticKeys copies the keys. defaultKey (may be nil) serves classes
// not in perClass.
func NewStaticKeys(defaultKey []byte, perClass map[string][]byte) *StaticKeys {
	k := &StaticKeys{byClass: make(map[string][]byte, len(perClass))}
	if defaultKey != nil {
		k.def = append([]byte(nil), defaultKey...)
	}
	for c, key := range perClass {
		k.byClass[c] = append([]byte(nil), key...)
	}
	return k
}

// errNoKey is returned by HashKey for a class without a key.
var errNoKey = errors.New("no key for this class and no default key")

// HashKey returns a copy of the class's key, or of the default key.
func (k *StaticKeys) HashKey(class string) ([]byte, error) {
	if k != nil {
		if key, ok := k.byClass[class]; ok {
			return append([]byte(nil), key...), nil
		}
		if k.def != nil {
			return append([]byte(nil), k.def...), nil
		}
	}
	return nil, errNoKey
}

// TokenKey returns a 32-byte key for the tokenize action, derived from
// the class's (or the default) key so that hash and tokenize never share
// key material.
func (k *StaticKeys) TokenKey(class string) ([]byte, error) {
	key, err := k.HashKey(class)
	if err != nil {
		return nil, err
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("pgmantle tokenize key"))
	return mac.Sum(nil), nil
}

// String names the classes that have keys, never the keys. String,
// GoString, Format and LogValue have value receivers so that a
// dereferenced StaticKeys is covered too.
func (k StaticKeys) String() string {
	classes := make([]string, 0, len(k.byClass))
	for c := range k.byClass {
		classes = append(classes, c)
	}
	sort.Strings(classes)
	return fmt.Sprintf("masking.StaticKeys{classes: [%s], default: %t}", strings.Join(classes, " "), k.def != nil)
}

// GoString is String, so %#v shows no key either.
func (k StaticKeys) GoString() string { return k.String() }

// Format makes every fmt verb (%x and %d included) print String.
func (k StaticKeys) Format(f fmt.State, verb rune) { fmt.Fprint(f, k.String()) }

// LogValue logs String.
func (k StaticKeys) LogValue() slog.Value { return slog.StringValue(k.String()) }
