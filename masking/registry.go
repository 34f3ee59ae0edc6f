package masking

import (
	"slices"
	"strings"
)

// option bits: which Options fields a mask takes.
const (
	optKeepFirst = 1 << iota
	optKeepLast
	optFill
	optTo
	optWidth
	optUnit
	optLevel
	optKeepSurname
	optValue
)

var optionKeys = []struct {
	bit int
	key string
}{
	{optKeepFirst, "keep_first"}, {optKeepLast, "keep_last"}, {optFill, "fill"}, {optTo, "to"},
	{optWidth, "width"}, {optUnit, "unit"}, {optLevel, "level"}, {optKeepSurname, "keep_surname"}, {optValue, "value"},
}

// setOptions is the set of fields opts sets.
func setOptions(o Options) int {
	set := 0
	add := func(bit int, isSet bool) {
		if isSet {
			set |= bit
		}
	}
	add(optKeepFirst, o.KeepFirst != nil)
	add(optKeepLast, o.KeepLast != nil)
	add(optFill, o.Fill != "")
	add(optTo, o.To != 0)
	add(optWidth, o.Width != 0)
	add(optUnit, o.Unit != "")
	add(optLevel, o.Level != "")
	add(optKeepSurname, o.KeepSurname != nil)
	add(optValue, o.Value != "")
	return set
}

// spec is one mask of the registry.
type spec struct {
	accepts []uint32 // nil: every type
	options int
	build   func(Options, Column, KeySource) (Masker, error)
}

func noKeys(f func(Options, Column) (Masker, error)) func(Options, Column, KeySource) (Masker, error) {
	return func(o Options, c Column, _ KeySource) (Masker, error) { return f(o, c) }
}

func ident(lim identLimits) func(Options, Column, KeySource) (Masker, error) {
	return func(o Options, c Column, _ KeySource) (Masker, error) { return newIdent(lim, o, c) }
}

const keepFill = optKeepFirst | optKeepLast | optFill

var registry = map[string]spec{
	"null":       {nil, 0, noKeys(newNull)},
	"redact":     {redactTypes, optValue, noKeys(newRedact)},
	"partial":    {textTypes, keepFill, noKeys(newPartial)},
	"email":      {textTypes, keepFill, noKeys(newEmail)},
	"cn_name":    {textTypes, optKeepSurname | optFill, noKeys(newCNName)},
	"cn_id":      {textTypes, keepFill, ident(cnidLimits)},
	"cn_mobile":  {textTypes, keepFill, ident(mobileLimits)},
	"bank_card":  {textTypes, keepFill, ident(cardLimits)},
	"uscc":       {textTypes, keepFill, ident(usccLimits)},
	"address":    {textTypes, optLevel | optFill, noKeys(newAddress)},
	"generalize": {dateTimes, optUnit, noKeys(newGeneralize)},
	"round":      {numberTypes, optTo, noKeys(newRound)},
	"band":       {bandTypes, optWidth, noKeys(newBand)},
	"hash":       {hashTypes, 0, newHash},
	"tokenize":   {textTypes, optKeepSurname, newTokenize},
}

// New builds the named mask for a column. It returns a *TypeError when
// the mask does not accept the column's type, an *OptionError for an
// unknown mask name (Option "mask"), an option the mask does not take or
// a bad option value, and for hash a *KeyError when keys has no usable
// key for col.Class. Messages name the mask, option and type, never a
// value. keys is used only by hash and may be nil otherwise.
func New(name string, opts Options, col Column, keys KeySource) (Masker, error) {
	s, ok := registry[name]
	if !ok {
		return nil, &OptionError{Mask: name, Option: "mask", Reason: "unknown mask (known: " + strings.Join(Names(), ", ") + ")"}
	}
	if s.accepts != nil && !contains(s.accepts, col.TypeOID) {
		return nil, &TypeError{Mask: name, TypeOID: col.TypeOID}
	}
	if extra := setOptions(opts) &^ s.options; extra != 0 {
		for _, k := range optionKeys {
			if extra&k.bit != 0 {
				return nil, &OptionError{Mask: name, Option: k.key, TypeOID: col.TypeOID, Reason: "is not an option of this mask"}
			}
		}
	}
	return s.build(opts, col, keys)
}

// Names lists the masks, sorted.
func Names() []string {
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Accepts returns the type OIDs the named mask accepts, or nil for a mask
// that accepts every type ("null") and for an unknown name.
func Accepts(name string) []uint32 {
	s, ok := registry[name]
	if !ok || s.accepts == nil {
		return nil
	}
	return slices.Clone(s.accepts)
}

// acceptedNames is the list of type names a mask accepts, for messages.
func acceptedNames(name string) string {
	s, ok := registry[name]
	if !ok {
		return "nothing"
	}
	if s.accepts == nil {
		return "every type"
	}
	names := make([]string, len(s.accepts))
	for i, oid := range s.accepts {
		names[i] = typeName(oid)
	}
	return strings.Join(names, ", ")
}
