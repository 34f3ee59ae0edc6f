package policy

import (
	"slices"
	"testing"
)

// TestTokenizedClasses: a class counts when any role tokenizes it, by its
// own rule, an inherited one, a "*" rule or the default's; classes shown
// clear, masked, hashed or denied do not.
func TestTokenizedClasses(t *testing.T) {
	p, err := Parse("p.yaml", []byte(`classes:
  cn_id:       [s.t.id_no]
  cn_mobile:   [s.t.mobile]
  bank_card:   [s.t.card]
  email:       [s.t.email]
  person_name: [s.t.name]
  salary:      [s.t.salary]
roles:
  base: {rules: {cn_mobile: tokenize, cn_id: {mask: cn_id}}}
  child: {inherits: [base], rules: {cn_id: hash}}
  wild: {rules: {"*": tokenize, salary: deny, email: clear, person_name: {mask: cn_name}}}
  owner: {unrestricted: true}
default:
  rules: {bank_card: tokenize, "*": deny}
`))
	if err != nil {
		t.Fatal(err)
	}
	got := p.TokenizedClasses()
	want := []string{"bank_card", "cn_id", "cn_mobile"}
	if !slices.Equal(got, want) {
		t.Fatalf("TokenizedClasses() = %v, want %v", got, want)
	}
	p, err = Parse("p.yaml", []byte("classes: {cn_id: [s.t.id_no]}\nroles:\n  r: {rules: {cn_id: {mask: cn_id}}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := p.TokenizedClasses(); len(got) != 0 {
		t.Fatalf("a policy that masks: TokenizedClasses() = %v", got)
	}
}
