package policy

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestParseBookkeeping(t *testing.T) {
	p, err := Load("testdata/bookkeeping.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Classes) != 8 || len(p.Roles) != 4 {
		t.Fatalf("got %d classes, %d roles", len(p.Classes), len(p.Roles))
	}
	a := p.Roles["analyst"].Rules["cn_mobile"]
	if a.Kind != Mask || a.Mask != "cn_mobile" {
		t.Fatalf("analyst cn_mobile = %+v", a)
	}
	if a := p.Roles["analyst"].Rules["address"]; a.Mask != "address" || a.Options.Level != "district" {
		t.Fatalf("analyst address = %+v", a)
	}
	if got := p.Roles["analyst"].Rules["salary"]; got.Mask != "round" || got.Options.To != 1000 {
		t.Fatalf("analyst salary = %+v", got)
	}
}

// TestParseErrorsGolden: a policy with many problems reports all of them,
// in line order, each with file:line.
func TestParseErrorsGolden(t *testing.T) {
	_, err := Load("testdata/bad.yaml")
	if err == nil {
		t.Fatal("bad policy accepted")
	}
	got := err.Error() + "\n"
	golden := filepath.Join("testdata", "bad.golden")
	if *update {
		os.WriteFile(golden, []byte(got), 0o644)
	}
	want, _ := os.ReadFile(golden)
	if got != string(want) {
		t.Fatalf("errors differ from %s (run with -update after checking):\n--- got\n%s--- want\n%s", golden, got, want)
	}
	for _, line := range strings.Split(strings.TrimSpace(got), "\n") {
		if !strings.HasPrefix(line, "testdata/bad.yaml:") {
			t.Errorf("error without file:line: %q", line)
		}
	}
}

func TestParseSmallErrors(t *testing.T) {
	for name, c := range map[string]struct{ yaml, want string }{
		"syntax":        {"classes: [\n", "p.yaml:1: did not find expected node content"},
		"unknown top":   {"clases: {}\n", "p.yaml:1: unknown key \"clases\""},
		"empty":         {"", "empty policy"},
		"mask no name":  {"classes: {a: [s.t.c]}\nroles:\n  r: {rules: {a: mask}}\n", "p.yaml:3: role r, class a: mask needs a name"},
		"bad ref":       {"classes: {a: [t.c]}\n", "p.yaml:1: class a: \"t.c\" is not schema.table.column"},
		"default allow": {"default: {unrestricted: true}\n", "default must be restrictive"},
		"keys key":      {"keys: {tokenize_versoin: 2}\n", "p.yaml:1: keys: unknown key \"tokenize_versoin\""},
		"keys version":  {"keys: {tokenize_version: two}\n", "p.yaml:1: keys: tokenize_version must be a key version number"},
		"action hash":   {"classes: {a: [s.t.c]}\nroles:\n  r: {rules: {a: {action: hash, x: 1}}}\n", "p.yaml:3: role r, class a: action \"hash\" takes no options"},
		"mask tokenize": {"classes: {a: [s.t.c]}\nroles:\n  r: {rules: {a: {mask: tokenize}}}\n", "unknown mask \"tokenize\""},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Parse("p.yaml", []byte(c.yaml))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want %q", err, c.want)
			}
		})
	}
}

// TestParseKeysAndTokenizeOptions: keys.tokenize_version and the mapping
// form of tokenize with its option.
func TestParseKeysAndTokenizeOptions(t *testing.T) {
	p, err := Parse("p.yaml", []byte("classes: {person_name: [s.t.name]}\nkeys: {tokenize_version: 3}\nroles:\n  r: {rules: {person_name: {action: tokenize, keep_surname: false}}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	a := p.Roles["r"].Rules["person_name"]
	if p.TokenKeyVersion != 3 || a.Kind != Tokenize || a.Options.KeepSurname == nil || *a.Options.KeepSurname || a.MaskName() != "tokenize" {
		t.Fatalf("version %d, action %+v", p.TokenKeyVersion, a)
	}
	if role, class, ok := p.KeyUse(); !ok || role != "r" || class != "person_name" {
		t.Fatalf("KeyUse %s %s %v", role, class, ok)
	}
}

func TestResolve(t *testing.T) {
	p, err := Load("testdata/bookkeeping.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		login    string
		memberOf []string
		class    string
		want     string
		unres    bool
	}{
		{"bookkeeper", nil, "cn_id", "clear", true},
		{"app_login", []string{"bookkeeper"}, "cn_id", "clear", true},
		{"analyst", nil, "salary", "mask round", false},
		{"auditor", nil, "salary", "clear", false},        // own rule wins
		{"auditor", nil, "cn_id", "mask cn_id", false},    // inherited from analyst
		{"auditor", nil, "unlisted_class", "deny", false}, // analyst has no "*": deny
		{"intern", nil, "bank_card", "deny", false},       // "*"
		{"intern", nil, "person_name", "mask cn_name", false},
		{"zhang", []string{"analyst"}, "cn_mobile", "mask cn_mobile", false},
		{"zhang", []string{"analyst", "intern"}, "cn_mobile", "deny", false}, // most restrictive
		{"zhang", []string{"analyst", "bookkeeper"}, "salary", "mask round", false},
		{"stranger", nil, "cn_id", "deny", false}, // default
		{"stranger", []string{"pg_read_all_data"}, "email", "deny", false},
	}
	for _, c := range cases {
		r := p.Resolve(c.login, c.memberOf)
		if got := r.Action(c.class).String(); got != c.want || r.Unrestricted != c.unres {
			t.Errorf("%s %v %s: got %s (unrestricted %v), want %s (unrestricted %v)", c.login, c.memberOf, c.class, got, r.Unrestricted, c.want, c.unres)
		}
	}
}

func TestPatternMatch(t *testing.T) {
	p := Pattern{Schema: "bk", Table: "*", Column: "e*mail"}
	for in, want := range map[[3]string]bool{
		{"bk", "contacts", "email"}:  true,
		{"bk", "x", "e_mail"}:        true,
		{"public", "x", "email"}:     false,
		{"bk", "contacts", "emails"}: false,
	} {
		if got := p.Match(in[0], in[1], in[2]); got != want {
			t.Errorf("%v: got %v", in, got)
		}
	}
}
