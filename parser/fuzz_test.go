package parser_test

import (
	"regexp"
	"strings"
	"testing"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/pgmantle/pgmantle/internal/analysiscases"
	"github.com/pgmantle/pgmantle/parser"
)

// FuzzAnalyze: for any SQL text, analysis and decision never panic, and a
// refusal never repeats a string literal of the statement (refusals name
// classes, columns and rules, never values).
func FuzzAnalyze(f *testing.F) {
	for _, c := range analysiscases.Cases {
		f.Add(c.SQL)
	}
	f.Add("SELECT '\\' FROM bk.contacts WHERE name = 'secret-literal'")
	env, pol := testEnv(f)
	rules := pol.Resolve("analyst", nil)
	f.Fuzz(func(t *testing.T, sql string) {
		st := parser.NewState("analyst")
		a := parser.Analyze(sql, env, st)
		for _, s := range a.Statements {
			d := parser.Decide(s, "analyst", rules, true)
			if d.Refusal == "" {
				continue
			}
			idents := identifiers(sql)
			for _, lit := range stringLiterals(sql) {
				if len(lit) >= 6 && strings.Contains(d.Refusal, lit) && !containedIn(lit, idents) {
					t.Fatalf("refusal %q repeats the literal %q", d.Refusal, lit)
				}
			}
		}
	})
}

// identifierPattern finds the names in pg_query's JSON: column and
// function name parts, relations, schemas and aliases.
var identifierPattern = regexp.MustCompile(`"(?:String":\{"sval|relname|schemaname|aliasname|colname|name)":"([^"]*)"`)

// identifiers returns the names the statement itself spells: a refusal may
// repeat those (it names columns and tables), even when a literal happens to
// spell the same text.
func identifiers(sql string) []string {
	js, err := pg_query.ParseToJSON(sql)
	if err != nil {
		return nil
	}
	var out []string
	for _, m := range identifierPattern.FindAllStringSubmatch(js, -1) {
		out = append(out, m[1])
	}
	return out
}

// containedIn reports whether s is part of one of names.
func containedIn(s string, names []string) bool {
	for _, n := range names {
		if strings.Contains(n, s) {
			return true
		}
	}
	return false
}

// stringLiterals returns the string constants of sql, as parsed.
func stringLiterals(sql string) []string {
	var out []string
	js, err := pg_query.ParseToJSON(sql)
	if err != nil {
		return nil
	}
	for _, part := range strings.Split(js, `"sval":{"sval":"`)[1:] {
		if end := strings.Index(part, `"`); end > 0 {
			out = append(out, part[:end])
		}
	}
	return out
}
