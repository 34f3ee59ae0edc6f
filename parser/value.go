package parser

// value is the lineage of an expression while it is analysed.
type value struct {
	srcs []Source // protected columns the value copies or derives from
	// direct: the value is a plain copy of one of srcs, row by row; its
	// uses are charged where it is consumed. Derived values were charged
	// where they were computed.
	direct bool
	// constant: a literal or a bind parameter (possibly cast), with where
	// it is, for detokenization.
	constant bool
	param    int // $n, or 0
	literal  int // byte offset of a literal, or -1
}

// clean reports whether the value holds no protected data.
func (v value) clean() bool { return len(v.srcs) == 0 }

// union combines two values that one column can hold (set operations,
// merged USING columns, ambiguous names): a copy of either.
func union(a, b value) value {
	if a.clean() && !a.constant {
		return value{srcs: b.srcs, direct: b.direct || b.clean()}
	}
	if b.clean() && !b.constant {
		return value{srcs: a.srcs, direct: a.direct || a.clean()}
	}
	return value{srcs: appendSources(append([]Source(nil), a.srcs...), b.srcs...), direct: (a.direct || a.clean()) && (b.direct || b.clean())}
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
	o := Output{Name: name, Sources: v.srcs}
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
