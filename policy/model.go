package policy

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pgmantle/pgmantle/masking"
)

// ActionKind is what a role may see of a class.
type ActionKind uint8

const (
	// Clear shows the value.
	Clear ActionKind = iota + 1
	// Tokenize shows a deterministic, reversible, format-preserving token.
	Tokenize
	// Hash shows a one-way keyed pseudonym.
	Hash
	// Mask shows a masked value of the same type.
	Mask
	// Deny refuses any statement that references the column.
	Deny
)

var actionNames = map[ActionKind]string{Clear: "clear", Tokenize: "tokenize", Hash: "hash", Mask: "mask", Deny: "deny"}

func (k ActionKind) String() string {
	if s, ok := actionNames[k]; ok {
		return s
	}
	return "unknown"
}

// restrictiveness orders actions from least to most restrictive, for
// combining the rules of several group roles (fail closed: the most
// restrictive wins).
func (k ActionKind) restrictiveness() int {
	switch k {
	case Clear:
		return 0
	case Tokenize:
		return 1
	case Hash:
		return 2
	case Mask:
		return 3
	}
	return 4
}

// Action is one rule's decision for a class.
type Action struct {
	Kind    ActionKind
	Mask    string          // mask name, for Kind == Mask
	Options masking.Options // mask options
	pos     position        // where the rule was written
}

// MaskName is the masking package's mask that shows the action's
// values: the mask's name, "tokenize" or "hash"; "" for clear and deny.
func (a Action) MaskName() string {
	switch a.Kind {
	case Mask:
		return a.Mask
	case Tokenize:
		return "tokenize"
	case Hash:
		return "hash"
	}
	return ""
}

func (a Action) String() string {
	if a.Kind == Mask {
		return "mask " + a.Mask
	}
	return a.Kind.String()
}

// Role is the policy for one PostgreSQL role (login or group).
type Role struct {
	Name         string
	Unrestricted bool
	Inherits     []string
	Rules        map[string]Action // class name (or "*") → action
	pos          position
}

// ClassColumns is a data class and the column patterns tagged with it.
type ClassColumns struct {
	Class    string
	Patterns []Pattern
}

// Pattern is a schema.table.column reference; each part may contain * as a
// wildcard.
type Pattern struct {
	Schema, Table, Column string
	pos                   position
}

func (p Pattern) String() string { return p.Schema + "." + p.Table + "." + p.Column }

// wild reports whether the pattern contains a wildcard.
func (p Pattern) wild() bool { return strings.Contains(p.String(), "*") }

// Match reports whether schema.table.column matches the pattern.
func (p Pattern) Match(schema, table, column string) bool {
	return glob(p.Schema, schema) && glob(p.Table, table) && glob(p.Column, column)
}

// glob matches s against a pattern where * matches any run of characters.
func glob(pattern, s string) bool {
	if !strings.Contains(pattern, "*") {
		return pattern == s
	}
	parts := strings.Split(pattern, "*")
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	for i := 1; i < len(parts)-1; i++ {
		j := strings.Index(s, parts[i])
		if j < 0 {
			return false
		}
		s = s[j+len(parts[i]):]
	}
	return strings.HasSuffix(s, parts[len(parts)-1])
}

// Policy is a parsed, validated policy file. It is immutable; reloading
// builds a new one.
type Policy struct {
	File       string
	Generation uint64
	Classes    []ClassColumns
	Roles      map[string]*Role
	Default    *Role
	// Functions are the functions outside pg_catalog ("schema.name") that
	// restricted roles may call, besides the built-in allow-list.
	Functions []string
	// TokenKeyVersion is the key version that tokenizes (keys:
	// tokenize_version); 0 means the newest.
	TokenKeyVersion int
}

// position is a place in the policy file.
type position struct {
	file string
	line int
}

func (p position) String() string {
	if p.line == 0 {
		return p.file
	}
	return fmt.Sprintf("%s:%d", p.file, p.line)
}

// KeyUse names a rule that needs keys (tokenize or hash), or returns ok
// false when none does.
func (p *Policy) KeyUse() (role, class string, ok bool) {
	for _, name := range sortedRoleNames(p) {
		if c, found := keyRule(p.Roles[name]); found {
			return name, c, true
		}
	}
	if p.Default != nil {
		if c, found := keyRule(p.Default); found {
			return "default", c, true
		}
	}
	return "", "", false
}

func keyRule(r *Role) (string, bool) {
	for class, a := range r.Rules {
		if a.Kind == Tokenize || a.Kind == Hash {
			return class, true
		}
	}
	return "", false
}

// TokenizedClasses returns, sorted, the classes of the policy that some
// role's rules (its own, inherited or the default's) tokenize: the classes
// whose tokens an operator may reverse.
func (p *Policy) TokenizedClasses() []string {
	var out []string
	for _, c := range p.Classes {
		if slices.Contains(out, c.Class) {
			continue
		}
		tokenized := p.Default != nil && p.rulesOf(p.Default, nil).Action(c.Class).Kind == Tokenize
		for name := range p.Roles {
			tokenized = tokenized || p.effective(name).Action(c.Class).Kind == Tokenize
		}
		if tokenized {
			out = append(out, c.Class)
		}
	}
	slices.Sort(out)
	return out
}
