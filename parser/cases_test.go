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
					// As pgmantle does when PostgreSQL reports it complete,
					// then answers the Query with ReadyForQuery.
					for _, s := range a.Statements {
						st.Completed(s)
					}
					st.Synced(st.Batch + 1)
					st.Batch++
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

// TestCacheNormalizedKeys: statements differing only in literal values
// share one cached analysis, but never when the analysis depends on a
// literal's value (ORDER BY 2 must not reuse ORDER BY 1's).
func TestCacheNormalizedKeys(t *testing.T) {
	env, pol := testEnv(t)
	rules := pol.Resolve("analyst", nil)
	c := parser.NewCache(100)
	st := parser.NewState("analyst")
	plan := func(sql string) string { return c.Plan(sql, env, st, "analyst", rules, false).Refusal() }

	if r := plan("SELECT id, name FROM bk.contacts WHERE id = 1"); r != "" {
		t.Fatal(r)
	}
	if r := plan("SELECT id, name FROM bk.contacts WHERE id = 2"); r != "" || c.Len() != 1 {
		t.Fatalf("literal variant: refusal %q, %d cached plans, want 1", r, c.Len())
	}
	if r := plan("SELECT id, name FROM bk.contacts ORDER BY 1"); r != "" {
		t.Fatal(r)
	}
	if r := plan("SELECT id, name FROM bk.contacts ORDER BY 2"); r == "" {
		t.Fatal("ORDER BY 2 (a masked name) reused the analysis of ORDER BY 1")
	}
	if r := plan("SELECT id FROM bk.contacts WHERE name = 'x'"); r == "" {
		t.Fatal("predicate on a masked column allowed")
	}
	if r := plan("SELECT id FROM bk.contacts WHERE name = 'y'"); r == "" {
		t.Fatal("cached refusal not reused for a literal variant")
	}
	// set_config stands for the SET of the setting it names: an allowed
	// one must not lend its analysis to one that is refused.
	if r := plan("SELECT set_config('statement_timeout', '5s', false)"); r != "" {
		t.Fatal(r)
	}
	for _, sql := range []string{
		"SELECT set_config('role', 'bookkeeper', false)",
		"SELECT set_config('session_authorization', 'bookkeeper', false)",
		"SELECT set_config('enable_sort', 'off', true)",
	} {
		if r := plan(sql); r == "" {
			t.Fatalf("%s allowed after an allowed set_config was cached", sql)
		}
	}
}

// TestSearchPathConfirm: a SET search_path sent on its own becomes the
// only possible path only once PostgreSQL confirms it completed (a
// cancelled SET leaves the old path in force), and only if no other change
// came after it.
func TestSearchPathConfirm(t *testing.T) {
	env, pol := testEnv(t)
	rules := pol.Resolve("analyst", nil)
	const probe = "SELECT id FROM contacts WHERE id_no LIKE '3%'"
	refused := func(st *parser.State) bool {
		st.Immediate = true
		return parser.Decide(parser.Analyze(probe, env, st).Statements[0], "analyst", rules, false).Refusal != ""
	}
	set := func(st *parser.State, sql string) *parser.PathChange {
		st.Immediate = true
		return parser.Analyze(sql, env, st).Statements[0].PathChange
	}

	st := parser.NewState("analyst")
	st.SetInitialPath("bk")
	change := set(st, "SET search_path = staging")
	if change == nil || !refused(st) {
		t.Fatal("before confirmation, bk.contacts must still be possible")
	}
	st.Confirm(change)
	if refused(st) || len(st.SearchPaths()) != 1 {
		t.Fatalf("after confirmation: paths %q", st.SearchPaths())
	}

	st = parser.NewState("analyst")
	st.SetInitialPath("staging")
	first := set(st, "SET search_path = staging")
	set(st, "SET search_path = bk")
	st.Confirm(first) // a later change is pending: no collapse
	if !refused(st) {
		t.Fatal("a confirmation overtaken by a later SET collapsed the paths")
	}

	st = parser.NewState("analyst")
	st.SetInitialPath("staging")
	st.Immediate = true
	a := parser.Analyze("BEGIN; SET search_path = bk", env, st)
	if a.Statements[1].PathChange != nil {
		t.Fatal("a SET inside a multi-statement Query is confirmable")
	}
	if !refused(st) {
		t.Fatal("SET in a transaction: bk.contacts must be possible")
	}
}

func TestCacheForget(t *testing.T) {
	env, pol := testEnv(t)
	rules := pol.Resolve("analyst", nil)
	c := parser.NewCache(10)
	st := parser.NewState("analyst")
	c.Plan("SELECT id FROM bk.contacts", env, st, "analyst", rules, false)
	c.Plan("SELECT name FROM bk.contacts", env, st, "analyst", rules, false)
	other := parser.NewEnv(env.Snapshot(), nil, nil)
	c.Plan("SELECT id FROM bk.contacts", other, st, "analyst", rules, false)
	c.Forget(env)
	if c.Len() != 1 {
		t.Fatalf("%d plans after Forget, want 1", c.Len())
	}
}

// TestPreparedConfirmed: EXECUTE takes the analysis of the PREPARE that
// PostgreSQL confirmed, not of one it refused (a name in use).
func TestPreparedConfirmed(t *testing.T) {
	env, pol := testEnv(t)
	rules := pol.Resolve("analyst", nil)
	st := parser.NewState("analyst")
	run := func(sql string) *parser.Statement {
		st.Immediate = true
		return parser.Analyze(sql, env, st).Statements[0]
	}
	first := run("PREPARE q AS SELECT name FROM bk.contacts UNION ALL SELECT employee FROM bk.payroll")
	st.Completed(first)
	run("PREPARE q AS SELECT 'x'::text AS name") // PostgreSQL refuses it: never confirmed
	if d := parser.Decide(run("EXECUTE q"), "analyst", rules, false); d.Refusal == "" {
		t.Fatal("EXECUTE of a name with two PREPAREs in flight allowed")
	}
	st.Synced(1) // its ReadyForQuery: the second PREPARE is forgotten
	exec := run("EXECUTE q")
	d := parser.Decide(exec, "analyst", rules, false)
	if d.Refusal != "" || len(d.Outputs) != 1 || d.Outputs[0].Class != "person_name" {
		t.Fatalf("EXECUTE q: refusal %q, outputs %+v; want the confirmed PREPARE's masked column", d.Refusal, d.Outputs)
	}
	if why := st.CheckBind("q"); why != "" {
		t.Fatalf("Bind q: %s", why)
	}
	run("SET search_path = staging")
	if why := st.CheckBind("q"); why == "" {
		t.Fatal("Bind of a statement prepared before a search_path change allowed")
	}
	if d := parser.Decide(run("EXECUTE q"), "analyst", rules, false); d.Refusal == "" {
		t.Fatal("EXECUTE of a statement prepared before a search_path change allowed")
	}
	if why := st.CheckBind("never"); why == "" {
		t.Fatal("Bind of an unknown statement allowed")
	}
}

// TestPendingParses: a Bind sees the statement the newest Parse of the
// unnamed statement prepares (PostgreSQL drops the old one first), and
// refuses a name whose two pending Parses leave it unknown which one
// PostgreSQL holds, until PostgreSQL confirms one.
func TestPendingParses(t *testing.T) {
	env, _ := testEnv(t)
	st := parser.NewState("analyst")
	parse := func(sql string) *parser.Statement {
		s := parser.Analyze(sql, env, st).Statements[0]
		return s
	}
	old := parse("SELECT id FROM bk.contacts WHERE id = $1")
	st.ParseAdmitted("", old)
	st.Parsed("", old)
	newer := parse("SELECT id FROM bk.contacts WHERE id_no = $1")
	st.ParseAdmitted("", newer)
	if got := st.Prepared(""); got != newer {
		t.Fatal("a Bind after a pipelined Parse sees the unnamed statement it replaced")
	}
	a := parse("SELECT id FROM bk.contacts WHERE id = $1")
	b := parse("SELECT id FROM bk.contacts WHERE id_no = $1")
	st.ParseAdmitted("s", a) // say PostgreSQL rejects this one
	st.ParseAdmitted("s", b)
	if why := st.CheckBind("s"); why == "" {
		t.Fatal("Bind of a name with two pending Parses allowed")
	}
	st.Parsed("s", b)
	if why := st.CheckBind("s"); why != "" || st.Prepared("s") != b {
		t.Fatalf("after confirmation: %q", why)
	}

	// A ReadyForQuery forgets the Parses of earlier batches it did not
	// confirm (failed, or skipped after an error), and the unnamed
	// statement with them; Parses of later batches stay pending.
	st.Batch = 7
	st.ParseAdmitted("", newer)
	st.ParseAdmitted("t", a)
	st.Batch = 8
	st.ParseAdmitted("u", b)
	st.Synced(8) // the Sync that ended batch 7
	if st.CheckBind("") == "" || st.CheckBind("t") == "" {
		t.Fatal("a Parse PostgreSQL skipped or refused is still bindable")
	}
	if why := st.CheckBind("u"); why != "" {
		t.Fatalf("a Parse of the next batch was forgotten: %s", why)
	}

	// PostgreSQL keys statement names by their first 63 bytes.
	long := strings.Repeat("s", 63)
	st.ParseAdmitted(long+"_x", a)
	st.Parsed(long+"_x", a)
	st.Batch = 9
	st.ParseAdmitted(long+"_y", b) // PostgreSQL: already exists (unless a Close came first)
	if st.CheckBind(long+"_y") == "" {
		t.Fatal("a Bind of a name being prepared again was allowed before PostgreSQL answered")
	}
	st.Synced(10) // no ParseComplete: it was refused
	if st.Prepared(long+"_y") != a || st.CheckBind(long+"_y") != "" {
		t.Fatal("a 64-byte name is not the same statement as its 63-byte prefix")
	}
}
