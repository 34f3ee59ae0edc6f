package parser

// value is the lineage of an expression while it is analysed.
type value struct {
	srcs []Source // protected columns the value copies or derives from
	// direct: the value is a plain copy of one of srcs, row by row; its
	// uses are charged where it is consumed. Derived values were charged
	// where they were computed.
	direct bool
	// mixed: besides copies of srcs, the value holds rows of something
	// else (a literal, a clean column, a computed value), as a set
	// operation or an ambiguous name can. Comparing or grouping it then
	// tests protected values against those: a predicate, not a join.
	mixed bool
	// constant: a literal or a bind parameter (possibly cast), with where
	// it is, for detokenization.
	constant bool
	param    int // $n, or 0
	paramLoc int // byte offset of the $n
	literal  int // byte offset of a literal, or -1
}

// clean reports whether the value holds no protected data.
func (v value) clean() bool { return len(v.srcs) == 0 }

// union combines two values that one column can hold (set operations,
// merged USING columns, ambiguous names): a copy of either.
func union(a, b value) value {
	switch {
	case a.clean() && b.clean():
		return value{direct: true}
	case a.clean():
		return value{srcs: b.srcs, direct: b.direct, mixed: true}
	case b.clean():
		return value{srcs: a.srcs, direct: a.direct, mixed: true}
	}
	return value{srcs: appendSources(append([]Source(nil), a.srcs...), b.srcs...), direct: a.direct && b.direct,
		mixed: a.mixed || b.mixed}
}

// unionAll combines the values of several candidates.
func unionAll(vs []value) value {
	if len(vs) == 0 {
		return value{}
	}
	v := vs[0]
	for _, w := range vs[1:] {
		v = union(v, w)
	}
	return v
}

// classes reports whether the value's sources are all of one class.
func (v value) oneClass() bool {
	for _, s := range v.srcs {
		if s.Class != v.srcs[0].Class || s.Unknown {
			return false
		}
	}
	return true
}

// derived returns the lineage of an expression computed from vs.
func derived(vs ...value) value {
	var out value
	for _, v := range vs {
		out.srcs = appendSources(out.srcs, v.srcs...)
	}
	return out
}

func appendSources(dst []Source, srcs ...Source) []Source {
next:
	for _, s := range srcs {
		for _, d := range dst {
			if d == s {
				continue next
			}
		}
		dst = append(dst, s)
	}
	return dst
}

// lineage converts a value to an output's lineage.
func (v value) output(name string) Output {
	o := Output{Name: name, Sources: v.srcs, Mixed: v.mixed}
	switch {
	case v.clean():
		o.Lineage = Clean
	case v.direct:
		o.Lineage = Direct
	default:
		o.Lineage = Derived
	}
	return o
}
