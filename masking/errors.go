package masking

import (
	"errors"
	"fmt"
)

// TypeError reports a mask that does not accept the column's type.
type TypeError struct {
	Mask    string
	TypeOID uint32
}

func (e *TypeError) Error() string {
	return fmt.Sprintf("masking: mask %q does not accept column type %s (it accepts %s)",
		e.Mask, typeName(e.TypeOID), acceptedNames(e.Mask))
}

// OptionError reports a bad or inapplicable mask option. Option is the
// YAML key ("keep_first", ...; "mask" for an unknown mask name).
type OptionError struct {
	Mask    string
	Option  string
	TypeOID uint32 // the column's type, 0 if it does not matter
	Reason  string
}

func (e *OptionError) Error() string {
	s := fmt.Sprintf("masking: mask %q: option %q: %s", e.Mask, e.Option, e.Reason)
	if e.TypeOID != 0 {
		s += " (column type " + typeName(e.TypeOID) + ")"
	}
	return s
}

// ValueError reports a value a mask cannot decode: a malformed binary
// value or a text form PostgreSQL would not print. It never holds the
// value; Reason is a fixed description.
type ValueError struct {
	Mask    string
	TypeOID uint32
	Format  int16
	Reason  string
}

func (e *ValueError) Error() string {
	f := "text"
	if e.Format == FormatBinary {
		f = "binary"
	} else if e.Format != FormatText {
		f = fmt.Sprintf("format %d", e.Format)
	}
	return fmt.Sprintf("masking: mask %q: %s value (%s format): %s", e.Mask, typeName(e.TypeOID), f, e.Reason)
}

// badFormat is the error for a format code other than text or binary.
func badFormat(mask string, oid uint32, format int16) error {
	return &ValueError{Mask: mask, TypeOID: oid, Format: format, Reason: "unknown format code"}
}

// KeyError reports that New could not get a usable hash or token key for
// a class.
// It wraps the KeySource's error.
type KeyError struct {
	Mask  string // "hash" if empty
	Class string
	Err   error
}

func (e *KeyError) Error() string {
	mask := e.Mask
	if mask == "" {
		mask = "hash"
	}
	return fmt.Sprintf("masking: mask %q: key for class %q: %v", mask, e.Class, e.Err)
}

func (e *KeyError) Unwrap() error { return e.Err }

var (
	errNoKeySource = errors.New("no key source")
	errShortKey    = errors.New("key is shorter than 16 bytes")
)
