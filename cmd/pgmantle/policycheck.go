package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgmantle/pgmantle/catalog"
	"github.com/pgmantle/pgmantle/discover"
	"github.com/pgmantle/pgmantle/policy"
)

// policyCmd runs `pgmantle policy check`.
func policyCmd(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "check" {
		fmt.Fprintln(stderr, "usage: pgmantle policy check --config FILE [--policy FILE] [--catalog-dsn DSN] [--rows N]")
		return errUsage
	}
	return policyCheckCmd(args[1:], stdout, stderr)
}

// policyCheckCmd validates a policy against the live database and reports
// its coverage. Errors (the policy does not apply as written, or a
// column that looks like personal data has no class) make it exit 1.
func policyCheckCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("policy check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgFile := fs.String("config", "", "configuration `FILE` (YAML): policy.file and catalog.dsn")
	policyFile := fs.String("policy", "", "policy `FILE` (overrides policy.file)")
	catalogDSN := fs.String("catalog-dsn", "", "`DSN` of the database (overrides catalog.dsn)")
	rows := fs.Int("rows", 1000, "rows to sample per table for the coverage check (`N`; 0 skips sampling)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: pgmantle policy check --config FILE [--policy FILE] [--catalog-dsn DSN] [--rows N]")
		return errUsage
	}
	cfg, err := loadConfig(*cfgFile, overrides{policy: *policyFile, catalogDSN: *catalogDSN})
	if err != nil {
		return err
	}
	if cfg.Policy.File == "" || cfg.Catalog.DSN == "" {
		return errors.New("policy check needs a policy and a database: set policy.file and catalog.dsn (or --policy and --catalog-dsn)")
	}
	pol, err := policy.Load(cfg.Policy.File)
	if err != nil {
		fmt.Fprintf(stdout, "FAILED: the policy does not parse\n%v\n", err)
		return errRefused
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, cfg.Catalog.DSN)
	if err != nil {
		return fmt.Errorf("connect to the database: %w", err)
	}
	defer conn.Close(context.Background())
	snap, err := catalog.Load(ctx, conn, "")
	if err != nil {
		return err
	}
	r := checkPolicy(ctx, conn, pol, snap, *rows)
	r.write(stdout, pol.File, snap.Database)
	if len(r.errors) > 0 {
		return errRefused
	}
	return nil
}

// policyReport is what policy check found.
type policyReport struct {
	errors, warnings []string
	classified       int // columns with a class
	sampled          int // columns sampled
	uncovered        int // sampled columns that look like personal data but have no class
}

func checkPolicy(ctx context.Context, conn *pgx.Conn, pol *policy.Policy, snap *catalog.Snapshot, rows int) *policyReport {
	r := &policyReport{}
	// 1. The policy applies as written (columns, types, roles).
	var perr policy.Errors
	if err := pol.Check(snap); errors.As(err, &perr) {
		r.errors = append(r.errors, perr...)
	} else if err != nil {
		r.errors = append(r.errors, err.Error())
	}
	classOf := pol.ClassOf(snap)
	r.classified = len(classOf)

	// 2. Classes no role mentions, and classes that match no column.
	mentioned := map[string]bool{}
	for _, role := range pol.Roles {
		for class := range role.Rules {
			mentioned[class] = true
		}
	}
	if pol.Default != nil {
		for class := range pol.Default.Rules {
			mentioned[class] = true
		}
	}
	used := map[string]bool{}
	for _, class := range classOf {
		used[class] = true
	}
	for _, c := range pol.Classes {
		if !mentioned[c.Class] {
			r.warnings = append(r.warnings, fmt.Sprintf("class %s: no role names it (the roles' \"*\" rules or the default apply)", c.Class))
		}
		if !used[c.Class] {
			r.warnings = append(r.warnings, fmt.Sprintf("class %s: its patterns match no column", c.Class))
		}
	}

	// 3. Columns that look like personal data but have no class.
	if rows > 0 {
		tables, err := listTables(ctx, conn)
		if err != nil {
			r.errors = append(r.errors, "coverage: list tables: "+err.Error())
			return r
		}
		for _, t := range tables {
			cols, err := sample(ctx, conn, t, rows)
			if err != nil {
				r.errors = append(r.errors, fmt.Sprintf("coverage: sample %s: %v", t.name, err))
				continue
			}
			schema, table, _ := strings.Cut(t.name, ".")
			for _, c := range cols {
				r.sampled++
				f, ok := discover.Classify(c)
				if !ok {
					continue
				}
				if _, has := classOf[catalog.ColumnRef{Schema: schema, Table: table, Column: c.Name}]; has {
					continue
				}
				r.uncovered++
				r.errors = append(r.errors, fmt.Sprintf("%s.%s looks like %s but has no class (%s)", t.name, c.Name, f.Class, f.Evidence()))
			}
		}
	}
	sort.Strings(r.warnings)
	return r
}

func (r *policyReport) write(w io.Writer, file, database string) {
	fmt.Fprintf(w, "policy check: %s against database %s\n", file, database)
	if len(r.errors) > 0 {
		fmt.Fprintf(w, "\nerrors:\n")
		for _, e := range r.errors {
			fmt.Fprintf(w, "  %s\n", e)
		}
	}
	if len(r.warnings) > 0 {
		fmt.Fprintf(w, "\nwarnings:\n")
		for _, e := range r.warnings {
			fmt.Fprintf(w, "  %s\n", e)
		}
	}
	fmt.Fprintf(w, "\ncoverage: %d columns classified; %d columns sampled, %d look like personal data without a class\n",
		r.classified, r.sampled, r.uncovered)
	if len(r.errors) > 0 {
		fmt.Fprintf(w, "FAILED: %d errors, %d warnings\n", len(r.errors), len(r.warnings))
	} else {
		fmt.Fprintf(w, "OK: %d warnings\n", len(r.warnings))
	}
}
