package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgmantle/pgmantle/catalog"
	"github.com/pgmantle/pgmantle/parser"
	"github.com/pgmantle/pgmantle/policy"
)

// errRefused makes explain exit with status 1 after printing: a statement
// the role sends would be refused.
var errRefused = errors.New("refused")

// explainCmd prints, for a DBA, what pgmantle decides for a statement sent
// by a role: each result column's lineage and how it is shown, each use of
// a protected column with the rule that allows or refuses it. It reads the
// live catalog through catalog.dsn and the policy of the configuration.
func explainCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("explain", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgFile := fs.String("config", "", "configuration `FILE` (YAML): policy.file and catalog.dsn")
	role := fs.String("role", "", "the PostgreSQL `ROLE` that sends the statement (required)")
	policyFile := fs.String("policy", "", "policy `FILE` (overrides policy.file)")
	catalogDSN := fs.String("catalog-dsn", "", "`DSN` to read the catalog through (overrides catalog.dsn)")
	searchPath := fs.String("search-path", `"$user", public`, "the session's search_path `SETTING`")
	keysFile := fs.String("keys-file", "", "local key `FILE` (overrides keys in the configuration; only its presence matters)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *role == "" || fs.NArg() != 1 {
		fmt.Fprintln(stderr, `usage: pgmantle explain --config FILE --role ROLE [--search-path SETTING] "SQL"`)
		return errUsage
	}
	cfg, err := loadConfig(*cfgFile, overrides{policy: *policyFile, catalogDSN: *catalogDSN, keysFile: *keysFile})
	if err != nil {
		return err
	}
	if cfg.Policy.File == "" {
		return errors.New("explain needs a policy: set policy.file or --policy")
	}
	pol, err := policy.Load(cfg.Policy.File)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, cfg.Catalog.DSN)
	if err != nil {
		return fmt.Errorf("connect to the catalog: %w", err)
	}
	defer conn.Close(context.Background())
	snap, err := catalog.Load(ctx, conn, "")
	if err != nil {
		return err
	}
	if err := pol.Check(snap); err != nil {
		return err
	}
	// pgmantle with keys rewrites search by token (the literal is
	// detokenized before it reaches PostgreSQL); without keys it refuses
	// it. Explain answers for the configuration it is given.
	withKeys := cfg.Keys.Vault != nil || cfg.Keys.File != ""
	return explain(stdout, fs.Arg(0), *role, *searchPath, pol, snap, withKeys)
}

// explain analyses sql as role would send it and prints the decision.
//
// withKeys says whether the configuration names a key source: search by
// token is allowed only then, as in the proxy.
func explain(w io.Writer, sql, role, searchPath string, pol *policy.Policy, snap *catalog.Snapshot, withKeys bool) error {
	var memberOf []string
	if r, ok := snap.Role(role); ok {
		memberOf = r.MemberOf
	} else {
		fmt.Fprintf(w, "note: role %q does not exist in database %s\n", role, snap.Database)
	}
	rules := pol.Resolve(role, memberOf)
	if rules.Unrestricted {
		fmt.Fprintf(w, "role %q is unrestricted (policy entry %q): its statements are relayed untouched\n", role, rules.Role)
		return nil
	}
	fmt.Fprintf(w, "role %q follows the rules of policy entry %q\n", role, rules.Role)
	env := parser.NewEnv(snap, pol.ClassOf(snap), pol.Functions)
	st := parser.NewState(role)
	st.SetInitialPath(searchPath)
	st.Immediate = true
	a := parser.Analyze(sql, env, st)
	refused := false
	for i, s := range a.Statements {
		d := parser.Decide(s, role, rules, withKeys)
		verdict := "allowed"
		if d.Refusal != "" {
			verdict, refused = "REFUSED (42501): pgmantle: "+d.Refusal, true
		}
		fmt.Fprintf(w, "\nstatement %d: %s — %s\n", i+1, s.Kind, verdict)
		if len(s.Relations) > 0 {
			fmt.Fprintf(w, "  relations: %s\n", strings.Join(s.Relations, ", "))
		}
		outs, uses := parser.Explain(s, role, rules, withKeys)
		if len(outs) > 0 {
			fmt.Fprintln(w, "  result columns:")
		}
		for j, o := range outs {
			fmt.Fprintf(w, "    %d. %-20s %s\n", j+1, o.Output.Name, describeOutput(o))
		}
		if len(uses) > 0 {
			fmt.Fprintln(w, "  uses of protected columns:")
		}
		for _, u := range uses {
			verdict := "allowed"
			switch {
			case u.Refusal != "":
				verdict = "refused: " + u.Refusal
			case u.Use.Kind == parser.UseLiteralEquality && u.Action.Kind == policy.Tokenize:
				verdict = "allowed: the literal or parameter (a token) is detokenized before the statement reaches PostgreSQL"
			}
			fmt.Fprintf(w, "    %s (%s, %s) %s — %s\n", u.Use.Source.Column, u.Use.Source.Class, u.Action, u.Use.Kind.Phrase(), verdict)
		}
	}
	if refused {
		return errRefused
	}
	return nil
}

func describeOutput(o parser.OutputDecision) string {
	var srcs []string
	for _, s := range o.Output.Sources {
		if s.Unknown {
			srcs = append(srcs, s.Column.String()+" (unknown origin)")
		} else {
			srcs = append(srcs, s.Column.String()+" ("+s.Class+")")
		}
	}
	var line string
	switch o.Output.Lineage {
	case parser.Clean:
		line = "clean"
	case parser.Direct:
		line = "copy of " + strings.Join(srcs, " or ")
	default:
		line = "computed from " + strings.Join(srcs, ", ")
	}
	switch {
	case o.Refusal != "":
		return line + " → refused: " + o.Refusal
	case o.Plan.Class != "":
		return line + " → shown as " + o.Plan.Action.String()
	case o.Output.Lineage != parser.Clean:
		return line + " → shown in clear"
	}
	return line
}
