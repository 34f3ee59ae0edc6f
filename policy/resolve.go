package policy

import "reflect"

// Rules are the actions that apply to one session's role. They are
// immutable and shared between sessions of the same role.
type Rules struct {
	Role         string // the policy entry the rules come from ("default" if none)
	Unrestricted bool   // sees everything: the proxy relays untouched
	Generation   uint64 // the policy generation they were resolved from
	byClass      map[string]Action
	star         Action // for classes no rule names
}

// Action returns what the role may see of a class. Classes no rule names
// get the "*" rule, or deny when there is none.
func (r *Rules) Action(class string) Action {
	if r.Unrestricted {
		return Action{Kind: Clear}
	}
	if a, ok := r.byClass[class]; ok {
		return a
	}
	return r.star
}

// Resolve returns the rules for a login role that is a member (directly or
// through other roles) of the roles in memberOf. A role listed in the
// policy gets its own entry. A role not listed gets the entries of the
// listed roles it is a member of, combined so that for each class the most
// restrictive action wins (fail closed), and unrestricted only if all of
// them are; with none, it gets default.
func (p *Policy) Resolve(login string, memberOf []string) *Rules {
	if _, ok := p.Roles[login]; ok {
		return p.effective(login)
	}
	var groups []*Rules
	for _, g := range memberOf {
		if _, ok := p.Roles[g]; ok {
			groups = append(groups, p.effective(g))
		}
	}
	if len(groups) == 0 {
		return p.rulesOf(p.Default, nil)
	}
	return p.combine(login, groups)
}

// effective resolves a listed role with its inherited roles: its own rules
// win, then each inherited role's in order.
func (p *Policy) effective(name string) *Rules {
	return p.effectiveSeen(name, map[string]bool{})
}

func (p *Policy) effectiveSeen(name string, seen map[string]bool) *Rules {
	r := p.Roles[name]
	seen[name] = true
	var parents []*Rules
	for _, parent := range r.Inherits {
		if _, ok := p.Roles[parent]; ok && !seen[parent] {
			parents = append(parents, p.effectiveSeen(parent, seen))
		}
	}
	return p.rulesOf(r, parents)
}

// rulesOf builds Rules from a role's own entry on top of its parents'.
func (p *Policy) rulesOf(r *Role, parents []*Rules) *Rules {
	out := &Rules{Role: r.Name, Generation: p.Generation, byClass: map[string]Action{}, star: Action{Kind: Deny}}
	if r.Unrestricted {
		out.Unrestricted = true
		return out
	}
	starSet := false
	if a, ok := r.Rules["*"]; ok {
		out.star, starSet = a, true
	}
	for class, a := range r.Rules {
		if class != "*" {
			out.byClass[class] = a
		}
	}
	allUnrestricted := len(parents) > 0
	for _, par := range parents {
		if par.Unrestricted {
			if !starSet {
				out.star, starSet = Action{Kind: Clear}, true
			}
			continue
		}
		allUnrestricted = false
		for class, a := range par.byClass {
			if _, ok := out.byClass[class]; !ok {
				out.byClass[class] = a
			}
		}
		if !starSet {
			out.star, starSet = par.star, true
		}
	}
	if allUnrestricted && len(r.Rules) == 0 {
		out.Unrestricted = true
	}
	return out
}

// combine merges the rules of several group roles, most restrictive first.
func (p *Policy) combine(login string, groups []*Rules) *Rules {
	out := &Rules{Role: login, Generation: p.Generation, byClass: map[string]Action{}, Unrestricted: true}
	out.star = Action{Kind: Clear}
	for _, g := range groups {
		if !g.Unrestricted {
			out.Unrestricted = false
		}
	}
	if out.Unrestricted {
		return out
	}
	for _, c := range p.Classes {
		var worst Action
		for i, g := range groups {
			a := g.Action(c.Class)
			switch {
			case i == 0 || a.Kind.restrictiveness() > worst.Kind.restrictiveness():
				worst = a
			case a.Kind.restrictiveness() == worst.Kind.restrictiveness() && !sameAction(a, worst):
				// Two groups of the same restrictiveness but different
				// masks or options (partial vs null): neither is known to
				// show less, and the order of memberships must not
				// decide. Deny.
				worst = Action{Kind: Deny, pos: a.pos}
			}
		}
		out.byClass[c.Class] = worst
	}
	out.star = Action{Kind: Deny}
	return out
}

// sameAction reports whether two actions show a value the same way.
func sameAction(a, b Action) bool {
	return a.Kind == b.Kind && a.Mask == b.Mask && reflect.DeepEqual(a.Options, b.Options)
}
