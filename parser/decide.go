package parser

import (
	"fmt"

	"github.com/pgmantle/pgmantle/policy"
)

// Decision is what one role may do with one analysed statement.
type Decision struct {
	Statement *Statement
	// Refusal is the reason the statement is refused (SQLSTATE 42501); it
	// names the class, column and rule, never a value. Empty: allowed.
	Refusal string
	// Outputs give, per result column, the class whose action applies to
	// it (empty: shown as is). The result layer masks by it the columns
	// whose origin RowDescription does not report.
	Outputs []OutputPlan
	// Detokenize lists the literal equalities on tokenized columns whose
	// literals and parameters must be detokenized before the statement is
	// sent.
	Detokenize []Use
}

// OutputPlan is how one result column is shown.
type OutputPlan struct {
	Class  string
	Action policy.Action
	Source Source // a column the values are copies of, for the mask's type
}

// Rules is what a role may see of each class (policy.Rules).
type Rules interface {
	Action(class string) policy.Action
}

// Decide applies a role's rules to an analysed statement. canDetokenize
// says whether literal equalities on tokenized columns can be served (the
// session has token keys).
func Decide(st *Statement, role string, rules Rules, canDetokenize bool) *Decision {
	d := &Decision{Statement: st}
	if st.Refusal != "" {
		d.Refusal = st.Refusal + " is not available to role " + quote(role)
		return d
	}
	for _, u := range st.Uses {
		if why := decideUse(u, role, rules, canDetokenize); why != "" {
			d.Refusal = why
			return d
		}
		if u.Kind == UseLiteralEquality && rules.Action(u.Source.Class).Kind == policy.Tokenize {
			d.Detokenize = append(d.Detokenize, u)
		}
	}
	if !st.OutputsExact {
		for _, o := range st.Outputs {
			if o.Lineage != Clean {
				d.Refusal = "a result whose columns pgmantle cannot establish is not available to role " + quote(role)
				return d
			}
		}
	}
	for _, o := range st.Outputs {
		p, why := outputPlan(o, role, rules)
		if why != "" {
			d.Refusal = why
			return d
		}
		d.Outputs = append(d.Outputs, p)
	}
	return d
}

// outputPlan decides how one result column is shown.
func outputPlan(o Output, role string, rules Rules) (OutputPlan, string) {
	var p OutputPlan
	for _, s := range o.Sources {
		if s.Unknown {
			return p, fmt.Sprintf("result column %q has an origin pgmantle cannot establish (%s); it is not available to role %s", o.Name, s.Column, quote(role))
		}
		a := rules.Action(s.Class)
		if a.Kind == policy.Clear {
			continue
		}
		if o.Lineage == Derived {
			return p, fmt.Sprintf("result column %q is computed from class %s (%s), which role %s sees as %s", o.Name, s.Class, s.Column, quote(role), a)
		}
		if o.Mixed && (a.Kind == policy.Tokenize || a.Kind == policy.Hash) {
			// Tokenizing or hashing values the client supplies (UNION ALL
			// SELECT 'guess') would let it compare them with the column's.
			return p, fmt.Sprintf("result column %q mixes class %s (%s) with other values; role %s sees the class as %s, which would be computed for those values too", o.Name, s.Class, s.Column, quote(role), a)
		}
		if p.Class != "" && p.Class != s.Class {
			return p, fmt.Sprintf("result column %q mixes classes %s and %s; it is not available to role %s", o.Name, p.Class, s.Class, quote(role))
		}
		p = OutputPlan{Class: s.Class, Action: a, Source: s}
	}
	if p.Action.Kind == policy.Tokenize || p.Action.Kind == policy.Hash {
		// A token or pseudonym is computed for every value of the column:
		// with values of another class in it (one the role sees in clear,
		// which it may fill with guesses), their tokens would be compared
		// with the class's own.
		for _, s := range o.Sources {
			if s.Class != p.Class {
				return p, fmt.Sprintf("result column %q mixes class %s (%s) with class %s (%s); role %s sees %s as %s, which would be computed for the other class's values too", o.Name, p.Class, p.Source.Column, s.Class, s.Column, quote(role), p.Class, p.Action)
			}
		}
	}
	return p, ""
}

// decideUse returns why a use is refused, or "".
func decideUse(u Use, role string, rules Rules, canDetokenize bool) string {
	s := u.Source
	if s.Unknown {
		if u.Kind == UseOutput || u.Kind == UseReturning {
			return "" // decided by outputPlan
		}
		return fmt.Sprintf("%s is used %s; it is not available to role %s", s, u.Kind.Phrase(), quote(role))
	}
	a := rules.Action(s.Class)
	refused := func(rule string) string {
		return fmt.Sprintf("role %s may not use class %s (%s) %s: its rule is %s%s", quote(role), s.Class, s.Column, u.Kind.Phrase(), a, rule)
	}
	switch a.Kind {
	case policy.Clear:
		if u.Kind == UseJoin && u.Other != nil && rules.Action(u.Other.Class).Kind != policy.Clear {
			return "" // decided on the other side's use
		}
		if u.Kind == UseWriteSource && (u.Other == nil || u.Other.Unknown || u.Other.Class != s.Class) {
			// Roles that read the class masked or not at all would read
			// the copy in clear.
			return refused(" (its values may be written only into columns of the same class: elsewhere roles that may not read them would)")
		}
		return ""
	case policy.Deny:
		return fmt.Sprintf("class %s (%s) is denied to role %s", s.Class, s.Column, quote(role))
	}
	switch u.Kind {
	case UseOutput, UseReturning, UsePresence:
		return ""
	case UseGroup:
		if a.Kind == policy.Hash || a.Kind == policy.Tokenize {
			return ""
		}
	case UseJoin:
		if a.Kind == policy.Hash || a.Kind == policy.Tokenize {
			if u.Other != nil && u.Other.Class == s.Class && !u.Other.Unknown {
				return ""
			}
			return refused(" (joins are allowed only between columns of the same class)")
		}
	case UseLiteralEquality:
		if a.Kind == policy.Tokenize {
			if canDetokenize {
				return ""
			}
			return refused(" (search by token needs reversible tokens, which this pgmantle has no keys for)")
		}
	}
	return refused("")
}

func quote(s string) string { return fmt.Sprintf("%q", s) }

// UseDecision is one use of a protected column and what a role's rules
// make of it.
type UseDecision struct {
	Use    Use
	Action policy.Action
	// Refusal is why the use is refused; empty when it is allowed.
	Refusal string
}

// OutputDecision is one result column and how a role sees it.
type OutputDecision struct {
	Output Output
	Plan   OutputPlan
	// Refusal is why the column cannot be shown; empty when it can.
	Refusal string
}

// Explain decides every use and every output of a statement on its own,
// for a person reading why a statement is allowed or refused (Decide
// stops at the first refusal).
func Explain(st *Statement, role string, rules Rules, canDetokenize bool) ([]OutputDecision, []UseDecision) {
	var outs []OutputDecision
	for _, o := range st.Outputs {
		p, why := outputPlan(o, role, rules)
		outs = append(outs, OutputDecision{Output: o, Plan: p, Refusal: why})
	}
	var uses []UseDecision
	for _, u := range st.Uses {
		if u.Kind == UseOutput || u.Kind == UseReturning {
			continue // shown with the outputs
		}
		var a policy.Action
		if !u.Source.Unknown {
			a = rules.Action(u.Source.Class)
		}
		uses = append(uses, UseDecision{Use: u, Action: a, Refusal: decideUse(u, role, rules, canDetokenize)})
	}
	return outs, uses
}
