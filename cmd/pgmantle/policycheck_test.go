package main

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pgmantle/pgmantle/examples/bookkeeping"
	"github.com/pgmantle/pgmantle/internal/pgcluster"
	"github.com/pgmantle/pgmantle/internal/pgtest"
)

var updateGolden = flag.Bool("update", false, "rewrite golden files")

// TestPolicyCheck compares policy check's report for a good and a flawed
// policy of the bookkeeping example with golden files, and checks the
// exit codes (0 and 1).
func TestPolicyCheck(t *testing.T) {
	c := pgtest.Cluster(t)
	ctx := pgtest.Context(t)
	// A database of its own, so that other tests' tables do not change
	// the report.
	c.Exec(ctx, "DROP DATABASE IF EXISTS policycheck")
	if err := c.Exec(ctx, "CREATE DATABASE policycheck"); err != nil {
		t.Fatal(err)
	}
	seedBookkeepingIn(t, c, "policycheck")
	for _, r := range bookkeeping.Roles {
		c.CreateRole(ctx, r, "pw", pgcluster.AuthSCRAM)
	}
	for _, tc := range []struct {
		name string
		code int
	}{{"good", 0}, {"flawed", 1}} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCmd("policy", "check", "--policy", "testdata/policycheck-"+tc.name+".yaml",
				"--catalog-dsn", c.DSN("postgres", "", "policycheck"), "--rows", "200")
			if code != tc.code {
				t.Errorf("exit %d, want %d: %s%s", code, tc.code, out, errOut)
			}
			golden := filepath.Join("testdata", "policycheck-"+tc.name+".golden")
			if *updateGolden {
				os.WriteFile(golden, []byte(out), 0o644)
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if out != string(want) {
				t.Errorf("report differs from %s:\n--- got\n%s--- want\n%s", golden, out, want)
			}
		})
	}
	if code, out, errOut := runCmd("policy", "check", "--policy", "testdata/nosuch.yaml", "--catalog-dsn", c.DSN("postgres", "", "postgres")); code != 1 ||
		!strings.Contains(out+errOut, "nosuch.yaml") {
		t.Errorf("a missing policy file: exit %d %s %s", code, out, errOut)
	}
}
