package catalog

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
)

// contentVersion hashes what a snapshot will hold, in a fixed order, so
// that two loads of an unchanged catalog get the same Version and any
// change an analysis could depend on gives another. It reads raw before
// newSnapshot indexes it.
func contentVersion(raw *rawCatalog) string {
	h := sha256.New()
	rels := slices.SortedFunc(slices.Values(raw.rels), func(a, b *Relation) int { return cmp.Compare(a.OID, b.OID) })
	for _, r := range rels {
		fmt.Fprintf(h, "r %d %q %q %c %t %t %t %t %v %q %v\n", r.OID, r.Schema, r.Name, r.Kind, r.HasRules, r.ViewTriggers, r.CheckOption,
			r.RowSecurity, r.PolicyReads, r.Definition, r.PartitionKey)
		fmt.Fprintf(h, " pf %q\n", r.PolicyFunctions)
		for _, c := range r.Columns {
			fmt.Fprintf(h, " c %d %q %d %d %q %t %v %q\n", c.Num, c.Name, c.TypeOID, c.TypeMod, c.TypeName, c.Generated, c.GeneratedFrom, c.DefaultFunctions)
		}
		for _, k := range r.Constraints {
			fmt.Fprintf(h, " k %c %q %v %t %d %v %q\n", k.Kind, k.Name, k.Columns, k.Validated, k.Ref, k.RefColumns, k.Functions)
		}
		for _, t := range r.Triggers {
			fmt.Fprintf(h, " t %q %q %d\n", t.Name, t.Function, t.Events)
		}
		if origins, ok := raw.origins[r.OID]; ok {
			fmt.Fprintf(h, " o %v\n", origins)
		}
	}
	for _, in := range raw.inherits {
		fmt.Fprintf(h, "i %d %d\n", in.child, in.parent)
	}
	roles := slices.SortedFunc(slices.Values(raw.roles), func(a, b *Role) int { return cmp.Compare(a.OID, b.OID) })
	for _, r := range roles {
		fmt.Fprintf(h, "a %d %q %t %t\n", r.OID, r.Name, r.CanLogin, r.Inherit)
	}
	members := slices.SortedFunc(slices.Values(raw.members), func(a, b membership) int {
		return cmp.Or(cmp.Compare(a.role, b.role), cmp.Compare(a.member, b.member))
	})
	for _, m := range members {
		fmt.Fprintf(h, "m %d %d\n", m.role, m.member)
	}
	funcs := slices.SortedFunc(slices.Values(raw.funcs), func(a, b *Function) int { return cmp.Compare(a.OID, b.OID) })
	for _, f := range funcs {
		fmt.Fprintf(h, "f %d %q %q %c %q %v %q %d %t %q %c %t %s\n", f.OID, f.Schema, f.Name, f.Kind, f.Args, f.ArgTypes,
			f.Result, f.ResultType, f.ReturnsSet, f.Lang, f.Volatile, f.SecurityDefiner, f.rev)
	}
	fmt.Fprintf(h, "o %q\nk %q %q\n", raw.userOps, raw.userCasts, raw.implicitCast)
	for _, d := range slices.Sorted(maps.Keys(raw.domainFuncs)) {
		fmt.Fprintf(h, "d %q %q\n", d, raw.domainFuncs[d])
	}
	return hex.EncodeToString(h.Sum(nil))
}
