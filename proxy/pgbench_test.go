package proxy_test

import (
	"regexp"
	"strconv"
	"testing"

	"github.com/pgmantle/pgmantle/internal/pgcluster"
)

// TestPgbench initializes a pgbench database through the proxy and runs
// the select-only workload with 4 clients in each query mode: every run
// exits 0 with transactions processed and none failed.
func TestPgbench(t *testing.T) {
	t.Parallel()
	p := startProxy(t, nil)
	user, password := createRole(t, pgcluster.AuthSCRAM)
	env := p.libpqEnv(user, password, createDatabase(t, user))

	r := runClient(t, env, "", "pgbench", "-i", "-s", "1", "-q")
	if r.err != nil {
		t.Fatalf("pgbench -i:\n%s", r)
	}
	if !regexp.MustCompile(`(?m)^done in `).MatchString(r.stderr) {
		t.Fatalf("pgbench -i did not finish:\n%s", r)
	}
	r = psql(t, env, "", "-c", "SELECT count(*) FROM pgbench_accounts")
	if r.err != nil || r.stdout != "100000\n" {
		t.Fatalf("pgbench_accounts after -i:\n%s", r)
	}

	processed := regexp.MustCompile(`(?m)^number of transactions actually processed: (\d+)`)
	failed := regexp.MustCompile(`(?m)^number of failed transactions: (\d+)`)
	// The same workloads through a proxy with an interceptor that changes
	// nothing (rows decoded and re-encoded, Describes injected).
	ip := startProxy(t, proxyVariants[1].configure)
	ienv := ip.libpqEnv(user, password, env["PGDATABASE"])
	for _, run := range []struct {
		name string
		env  map[string]string
		mode string
		secs string
	}{
		{"simple", env, "simple", "3"},
		{"extended", env, "extended", "3"},
		{"prepared", env, "prepared", "3"},
		{"interceptor_extended", ienv, "extended", "1"},
		{"interceptor_prepared", ienv, "prepared", "1"},
	} {
		mode := run.mode
		t.Run(run.name, func(t *testing.T) {
			r := runClient(t, run.env, "", "pgbench", "-S", "-T", run.secs, "-c", "4", "-j", "2", "-M", mode, "-n")
			if r.err != nil {
				t.Fatalf("pgbench -M %s:\n%s", mode, r)
			}
			m := processed.FindStringSubmatch(r.stdout)
			if m == nil {
				t.Fatalf("no transaction count in the output:\n%s", r)
			}
			if n, _ := strconv.Atoi(m[1]); n <= 0 {
				t.Fatalf("%d transactions processed:\n%s", n, r)
			}
			f := failed.FindStringSubmatch(r.stdout)
			if f == nil || f[1] != "0" {
				t.Fatalf("failed transactions reported:\n%s", r)
			}
			if regexp.MustCompile(`(?i)error|abort`).MatchString(r.stderr) {
				t.Fatalf("errors on stderr:\n%s", r)
			}
			t.Logf("-M %s: %s transactions", mode, m[1])
		})
	}
}
