package parser_test

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/pgmantle/pgmantle/internal/analysiscases"
	"github.com/pgmantle/pgmantle/parser"
)

// TestCases runs the shared case table through analysis and decision:
// each case's statement is allowed or refused as it says, and each result
// column is masked as the class it names.
func TestCases(t *testing.T) {
	env, pol := testEnv(t)
	perChannel := map[string]int{}
	for n, c := range analysiscases.Cases {
		perChannel[c.Channel]++
		t.Run(fmt.Sprintf("%03d_%s_%s", n, c.Channel, c.Role), func(t *testing.T) {
			rules := pol.Resolve(c.Role, nil)
			for _, detok := range []bool{false, true} {
				st := parser.NewState(c.Role)
				for _, s := range c.Setup {
					st.Immediate = true
					a := parser.Analyze(s, env, st)
					if d := parser.Decide(a.Statements[0], c.Role, rules, detok); d.Refusal != "" {
						t.Fatalf("setup %q refused: %s", s, d.Refusal)
					}
				}
				st.Immediate = true
				a := parser.Analyze(c.SQL, env, st)
				var refusal string
				var last *parser.Decision
				for _, s := range a.Statements {
					last = parser.Decide(s, c.Role, rules, detok)
					if last.Refusal != "" && refusal == "" {
						refusal = last.Refusal
					}
				}
				want := c.Allow && (detok || !c.Detok)
				switch {
				case want && refusal != "":
					t.Fatalf("%s\nrefused (detokenize=%v): %s", c.SQL, detok, refusal)
				case !want && refusal == "":
					t.Fatalf("%s\nallowed (detokenize=%v), want refused; uses: %+v", c.SQL, detok, a.Statements[len(a.Statements)-1].Uses)
				case !want:
					checkRefusal(t, refusal)
					continue
				}
				if c.Masks == nil {
					continue
				}
				var got []string
				for _, o := range last.Outputs {
					got = append(got, o.Class)
				}
				if !slices.Equal(got, c.Masks) && !(len(got) == 0 && len(c.Masks) == 0) {
					t.Fatalf("%s\nmasks %q, want %q", c.SQL, got, c.Masks)
				}
				if c.Detok && detok && len(last.Detokenize) == 0 {
					t.Fatalf("%s\nno detokenization sites", c.SQL)
				}
			}
		})
	}
	var names []string
	for ch, n := range perChannel {
		names = append(names, fmt.Sprintf("%s=%d", ch, n))
	}
	sort.Strings(names)
	t.Logf("%d cases: %s", len(analysiscases.Cases), strings.Join(names, " "))
}

// checkRefusal asserts that a refusal names no seeded value.
func checkRefusal(t *testing.T, msg string) {
	t.Helper()
	for class, vals := range analysiscases.Secrets {
		for _, v := range vals {
			if strings.Contains(msg, v) {
				t.Fatalf("refusal holds a %s value: %s", class, msg)
			}
		}
	}
}
