package policy

// Red-team review of policy loading and role resolution. Finding tests
// each demonstrated a problem (the comment above each describes it as
// found) and now pin its fix; Holds tests pin behaviour verified correct
// at the time.

import (
	"regexp"
	"strings"
	"testing"

	"github.com/pgmantle/pgmantle/catalog"
	"github.com/pgmantle/pgmantle/internal/pgtest"
)

// rtParse parses y and returns the policy, or nil and the error.
func rtParse(y string) (*Policy, error) { return Parse("p.yaml", []byte(y)) }

// FINDING: two rules for one class in a role are accepted and the last one
// wins: `cn_id: deny` followed by `cn_id: clear` gives clear. yaml.v3 does
// not check duplicate keys when decoding into a yaml.Node, and role()
// stores each rule with a plain map assignment (policy/parse.go:232). The
// same holds for a role's own keys: a second `rules:` block merges into the
// first with the later rule winning, and a second `unrestricted: true`
// overrides `unrestricted: false` (parse.go:217-235). Fix: reject a
// duplicate key in every mapping the parser walks (root, roles, role
// entries, rules, rule mappings), with the lines of both.
func TestRedteamPolicyFindingDuplicateRuleKeysLastWins(t *testing.T) {
	for name, y := range map[string]string{
		"rule twice":         "classes: {cn_id: [s.t.c]}\nroles:\n  r:\n    rules:\n      cn_id: deny\n      cn_id: clear\n",
		"rules block twice":  "classes: {cn_id: [s.t.c]}\nroles:\n  r:\n    rules: {cn_id: deny}\n    rules: {cn_id: clear}\n",
		"unrestricted twice": "classes: {cn_id: [s.t.c]}\nroles:\n  r:\n    unrestricted: false\n    unrestricted: true\n    rules: {}\n",
	} {
		p, err := rtParse(y)
		if err != nil {
			continue // refused: fine
		}
		if a := p.Resolve("r", nil); a.Unrestricted || a.Action("cn_id").Kind == Clear {
			t.Errorf("%s: accepted and resolved to clear/unrestricted (the later key silently wins)", name)
		}
	}
}

// FINDING: a second top-level `classes:` key replaces the first
// (policy/parse.go:96, `pol.Classes = p.classes(v)`): the columns the
// first block tags lose their class without any error, and an untagged
// column is relayed in clear to every role. Likewise a second `default:`
// replaces the first (parse.go:108), so a restrictive default followed by a
// permissive one is silently permissive. Fix: reject duplicate top-level
// keys (see the finding above), or at least append classes and refuse a
// second default.
func TestRedteamPolicyFindingDuplicateTopLevelKeysDropContent(t *testing.T) {
	y := "classes: {cn_id: [s.t.id_no]}\nclasses: {email: [s.t.email]}\nroles:\n  r: {rules: {'*': deny}}\n"
	if p, err := rtParse(y); err == nil {
		tagged := false
		for _, c := range p.Classes {
			for _, pat := range c.Patterns {
				if pat.Match("s", "t", "id_no") {
					tagged = true
				}
			}
		}
		if !tagged {
			t.Errorf("two classes: blocks accepted; s.t.id_no lost its class cn_id and would be relayed in clear")
		}
	}
	y = "classes: {cn_id: [s.t.c]}\ndefault: {rules: {'*': deny}}\ndefault: {rules: {cn_id: tokenize, '*': deny}}\n"
	if p, err := rtParse(y); err == nil {
		if k := p.Resolve("stranger", nil).Action("cn_id").Kind; k != Deny {
			t.Errorf("two default: blocks accepted; the second wins and strangers get %s instead of deny", k)
		}
	}
}

// FINDING: "Roles not listed get default, which must be restrictive"
// (ARCHITECTURE.md §4), but checkStatic only refuses `unrestricted: true`
// (policy/parse.go:370): `default: {rules: {"*": clear}}` shows every class
// in clear to every login the policy does not list, and `cn_id: clear` in
// default does so for one class. Fix: refuse clear (and "*" other than
// deny/mask) in default, or at least any clear rule there.
func TestRedteamPolicyFindingPermissiveDefaultAccepted(t *testing.T) {
	for _, y := range []string{
		"classes: {cn_id: [s.t.c]}\ndefault: {rules: {'*': clear}}\n",
		"classes: {cn_id: [s.t.c]}\ndefault: {rules: {cn_id: clear, '*': deny}}\n",
	} {
		p, err := rtParse(y)
		if err != nil {
			continue
		}
		if k := p.Resolve("stranger", nil).Action("cn_id").Kind; k == Clear {
			t.Errorf("policy accepted; an unlisted login sees cn_id in clear:\n%s", y)
		}
	}
}

// FINDING: a rule mapping with both `mask:` and `action: tokenize` is
// accepted and the later key decides (policy/parse.go:270-279): `{mask:
// null, action: tokenize}` becomes tokenize (reversible, searchable) with
// Mask still "null"; in the other order it is the null mask. Two `mask:`
// keys likewise: the last wins. Fix: refuse a rule mapping with more than
// one of mask/action (and duplicate keys).
func TestRedteamPolicyFindingMaskAndActionBothAccepted(t *testing.T) {
	for _, y := range []string{
		"classes: {cn_id: [s.t.c]}\nroles:\n  r: {rules: {cn_id: {mask: null, action: tokenize}}}\n",
		"classes: {cn_id: [s.t.c]}\nroles:\n  r: {rules: {cn_id: {mask: null, mask: partial}}}\n",
	} {
		p, err := rtParse(y)
		if err == nil {
			t.Errorf("ambiguous rule accepted as %s:\n%s", p.Roles["r"].Rules["cn_id"], y)
		}
	}
}

// FINDING: a policy file with several YAML documents is accepted and only
// the first is read (policy/parse.go:80-87 reads doc.Content[0] of the first
// document; yaml.Unmarshal ignores the rest): rules appended after `---`
// (e.g. a stricter override) are silently ignored. Fix: decode with
// yaml.NewDecoder and refuse a second document.
func TestRedteamPolicyFindingSecondDocumentIgnored(t *testing.T) {
	y := "classes: {cn_id: [s.t.c]}\nroles: {r: {rules: {cn_id: clear}}}\n---\nroles: {r: {rules: {cn_id: deny}}}\n"
	if _, err := rtParse(y); err == nil {
		t.Errorf("a policy with two YAML documents was accepted; the second (cn_id: deny) is ignored")
	}
}

// FINDING: YAML syntax errors do not carry file:line. parse.go:80-82
// prefixes yaml.v3's message with the file only, giving "p.yaml: line 2:
// found character ..." (not file:line) and, for invalid UTF-8 or control
// characters, no line at all ("p.yaml: invalid leading UTF-8 octet").
// Fix: parse "line N:" out of yaml's message into "file:N:", and for the
// errors without a line locate the offending byte (first invalid UTF-8
// offset, first control character) and count newlines before it.
func TestRedteamPolicyFindingSyntaxErrorsWithoutFileLine(t *testing.T) {
	fileLine := regexp.MustCompile(`^p\.yaml:\d+: `)
	for name, y := range map[string]string{
		"tab":          "classes:\n\tcn_id: [s.t.c]\n",
		"unclosed":     "classes: [\n",
		"invalid utf8": "classes: {cn_id: [s.t.c]}\n# \xff\n",
		"control char": "classes: {cn_id: [s.t.c]}\n\x01\n",
	} {
		_, err := rtParse(y)
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		for _, line := range strings.Split(err.Error(), "\n") {
			if !fileLine.MatchString(line) {
				t.Errorf("%s: error without file:line: %q", name, line)
			}
		}
	}
}

// FINDING: combining the rules of several group roles takes the first
// group's action when two have the same kind (policy/resolve.go:120, `i ==
// 0 || a > worst`): two different masks tie, so a login in both a group
// with {mask: partial, keep_first: 3, keep_last: 4} and one with {mask:
// null} sees the partial mask or NULL depending on the order of memberOf
// (catalog membership order, not policy order). Tokenize with keep_surname
// true vs false ties the same way. Fix: when kinds tie but the actions
// differ, fail closed to deny (or rank masks and options), independent of
// order.
func TestRedteamPolicyFindingCombineTieDependsOnMembershipOrder(t *testing.T) {
	p, err := rtParse(`classes: {cn_id: [s.t.c], person_name: [s.t.n]}
roles:
  loose:  {rules: {cn_id: {mask: partial, keep_first: 3, keep_last: 4}, person_name: tokenize}}
  strict: {rules: {cn_id: {mask: null}, person_name: {action: tokenize, keep_surname: false}}}
`)
	if err != nil {
		t.Fatal(err)
	}
	for _, class := range []string{"cn_id", "person_name"} {
		a := p.Resolve("alice", []string{"loose", "strict"}).Action(class)
		b := p.Resolve("alice", []string{"strict", "loose"}).Action(class)
		if a.String() != b.String() || !sameOptions(a, b) {
			t.Errorf("class %s: member of loose+strict gets %s %+v, of strict+loose gets %s %+v", class, a, opts(a), b, opts(b))
		}
		if a.Kind == Mask && a.Mask == "partial" {
			t.Errorf("class %s: member of a group that masks with null sees the partial mask", class)
		}
	}
}

func opts(a Action) string {
	s := ""
	if a.Options.KeepFirst != nil {
		s += " keep_first"
	}
	if a.Options.KeepSurname != nil && !*a.Options.KeepSurname {
		s += " keep_surname=false"
	}
	return s
}

func sameOptions(a, b Action) bool { return opts(a) == opts(b) }

// FINDING: Check accepts a wildcard pattern that matches no column
// (policy/check.go:26 reports only non-wildcard patterns), and matching is
// case-sensitive (catalog/snapshot.go:321-371). PostgreSQL folds unquoted
// identifiers to lower case, so `app.*.Email` or `app.Customers.*`, written
// as the DBA reads them in SQL, tag nothing, Check passes, and the columns
// are relayed in clear to every restricted role. Fix: in Check, report a
// wildcard pattern that matches no column when it would match ignoring
// case (or whenever it has upper-case letters and matches nothing), or
// fold unquoted pattern parts to lower case and require "..." for
// mixed-case identifiers.
func TestRedteamPolicyFindingCaseSlipInWildcardTagsNothing(t *testing.T) {
	snap := redteamSnapshot(t)
	p, err := rtParse(`classes:
  email: ["redteam_pol.*.Email"]
  cn_id: ["redteam_pol.Customers.*"]
roles: {}
`)
	if err != nil {
		t.Fatal(err)
	}
	err = p.Check(snap)
	classes := p.ClassOf(snap)
	if err == nil && len(classes) == 0 {
		t.Errorf("Check passed and no column of redteam_pol.customers is tagged: email and id_no would be in clear")
	}
}

// HOLDS: a non-wildcard pattern with a case difference, a quoted
// identifier or a view column is refused by Check (unknown table/column).
func TestRedteamPolicyHoldsCheckRefusesCaseAndQuotedIdentifiers(t *testing.T) {
	snap := redteamSnapshot(t)
	for _, pat := range []string{"redteam_pol.Customers.email", `redteam_pol."customers".email`, "redteam_pol.customers.EMAIL", "REDTEAM_POL.customers.email", "redteam_pol.customers_v.email"} {
		p, err := rtParse("classes:\n  email: ['" + pat + "']\nroles: {}\n")
		if err != nil {
			continue
		}
		if err := p.Check(snap); err == nil {
			t.Errorf("pattern %s accepted by Check although it names no base column", pat)
		}
	}
}

// redteamSnapshot creates schema redteam_pol (a table and a view) in the
// test cluster and returns a catalog snapshot.
func redteamSnapshot(t *testing.T) *catalog.Snapshot {
	t.Helper()
	c := pgtest.Cluster(t)
	ctx := pgtest.Context(t)
	if err := c.Exec(ctx, `DROP SCHEMA IF EXISTS redteam_pol CASCADE;
CREATE SCHEMA redteam_pol;
CREATE TABLE redteam_pol.customers (id int, email text, id_no text);
CREATE VIEW redteam_pol.customers_v AS SELECT id, email FROM redteam_pol.customers;`); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Exec(pgtest.Context(t), "DROP SCHEMA IF EXISTS redteam_pol CASCADE") })
	conn := pgtest.Connect(t, c.DSN("postgres", "", "postgres"))
	snap, err := catalog.Load(ctx, conn, "postgres")
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

// HOLDS: ambiguous or unknown constructs are refused with file:line: a
// role listed twice, a class defined twice, an unknown mask, an unknown
// class in a rule (including a case variant), unknown keys at every level,
// a duplicate option key, an unqualified or over-qualified column, an
// unrestricted default, a default that inherits, a bare `mask`.
func TestRedteamPolicyHoldsAmbiguityRefused(t *testing.T) {
	fileLine := regexp.MustCompile(`^p\.yaml:\d+: `)
	for name, c := range map[string]struct{ yaml, want string }{
		"role twice":    {"classes: {cn_id: [s.t.c]}\nroles:\n  r: {rules: {cn_id: deny}}\n  r: {rules: {cn_id: clear}}\n", `p.yaml:4: role "r" is listed twice`},
		"class twice":   {"classes:\n  cn_id: [s.t.c]\n  cn_id: [s.t.d]\n", `p.yaml:3: class "cn_id" is defined twice`},
		"unknown mask":  {"classes: {cn_id: [s.t.c]}\nroles:\n  r: {rules: {cn_id: {mask: cnid}}}\n", `p.yaml:3: role r, class cn_id: unknown mask "cnid"`},
		"unknown class": {"classes: {cn_id: [s.t.c]}\nroles:\n  r: {rules: {CN_ID: clear}}\n", `p.yaml:3: role r: unknown class "CN_ID"`},
		"unknown top":   {"classes: {cn_id: [s.t.c]}\nrole: {}\n", `p.yaml:2: unknown key "role"`},
		"unknown role key": {"classes: {cn_id: [s.t.c]}\nroles:\n  r: {rule: {cn_id: clear}}\n",
			`p.yaml:3: role r: unknown key "rule"`},
		"unknown option": {"classes: {cn_id: [s.t.c]}\nroles:\n  r: {rules: {cn_id: {mask: partial, keepfirst: 3}}}\n",
			`p.yaml:3: role r, class cn_id: unknown mask option "keepfirst"`},
		"dup option": {"classes: {cn_id: [s.t.c]}\nroles:\n  r: {rules: {cn_id: {mask: partial, keep_first: 1, keep_first: 9}}}\n",
			`already defined`},
		"unqualified":     {"classes: {cn_id: [customers.id_no]}\n", `p.yaml:1: class cn_id: "customers.id_no" is not schema.table.column`},
		"dotted quoted":   {"classes: {cn_id: ['s.\"my.table\".c']}\n", `is not schema.table.column`},
		"default unres":   {"classes: {cn_id: [s.t.c]}\ndefault: {unrestricted: true}\n", `default must be restrictive`},
		"default inherit": {"classes: {cn_id: [s.t.c]}\nroles: {a: {rules: {cn_id: deny}}}\ndefault: {inherits: [a]}\n", `default cannot inherit`},
		"bare mask":       {"classes: {cn_id: [s.t.c]}\nroles:\n  r: {rules: {cn_id: mask}}\n", `p.yaml:3: role r, class cn_id: mask needs a name`},
		"empty rule":      {"classes: {cn_id: [s.t.c]}\nroles:\n  r: {rules: {cn_id: }}\n", `p.yaml:3: role r, class cn_id: unknown action ""`},
		"cycle":           {"classes: {cn_id: [s.t.c]}\nroles:\n  a: {inherits: [b]}\n  b: {inherits: [a]}\n", `inheritance cycle`},
	} {
		_, err := rtParse(c.yaml)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", name, err, c.want)
			continue
		}
		for _, line := range strings.Split(err.Error(), "\n") {
			if !fileLine.MatchString(line) {
				t.Errorf("%s: error line without file:line: %q", name, line)
			}
		}
	}
}

// HOLDS: resolution fails closed: an unlisted login (also one differing
// only in case from a listed role) gets default, which is deny when the
// policy has none or an empty one; a login in several groups gets, per
// class, the most restrictive kind; unrestricted only if every group is;
// classes no rule names are denied.
func TestRedteamPolicyHoldsResolveFailsClosed(t *testing.T) {
	p, err := rtParse(`classes: {cn_id: [s.t.c], email: [s.t.e], salary: [s.t.s]}
roles:
  analyst: {rules: {cn_id: {mask: cn_id}, email: tokenize, salary: clear}}
  hasher:  {rules: {cn_id: clear, email: hash, salary: {mask: round, to: 1000}}}
  boss:    {unrestricted: true}
`)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		login    string
		memberOf []string
		class    string
		want     ActionKind
	}{
		{"Analyst", nil, "cn_id", Deny},
		{"ANALYST", []string{"Boss"}, "email", Deny},
		{"x", []string{"analyst", "hasher"}, "cn_id", Mask},
		{"x", []string{"hasher", "analyst"}, "email", Hash},
		{"x", []string{"analyst", "hasher"}, "salary", Mask},
		{"x", []string{"boss", "analyst"}, "salary", Clear},
		{"x", []string{"boss", "analyst"}, "cn_id", Mask},
		{"x", []string{"boss", "analyst"}, "unknown_class", Deny},
		{"analyst", []string{"boss"}, "unknown_class", Deny},
	} {
		r := p.Resolve(c.login, c.memberOf)
		if got := r.Action(c.class).Kind; got != c.want || r.Unrestricted {
			t.Errorf("%s %v %s: got %s (unrestricted %v), want %s", c.login, c.memberOf, c.class, got, r.Unrestricted, c.want)
		}
	}
	for _, y := range []string{"classes: {cn_id: [s.t.c]}\n", "classes: {cn_id: [s.t.c]}\ndefault: {}\n", "classes: {cn_id: [s.t.c]}\ndefault: {rules: {}}\n"} {
		q, err := rtParse(y)
		if err != nil {
			t.Fatal(err)
		}
		if k := q.Resolve("stranger", nil).Action("cn_id").Kind; k != Deny {
			t.Errorf("default of %q gives %s, want deny", y, k)
		}
	}
}
