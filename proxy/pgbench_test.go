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
		txns string // per client: a count, not a duration, so the test does not depend on speed
	}{
		{"simple", env, "simple", "500"},
		{"extended", env, "extended", "500"},
		{"prepared", env, "prepared", "500"},
		{"interceptor_extended", ienv, "extended", "200"},
		{"interceptor_prepared", ienv, "prepared", "200"},
	} {
		mode := run.mode
		t.Run(run.name, func(t *testing.T) {
			r := runClient(t, run.env, "", "pgbench", "-S", "-t", run.txns, "-c", "4", "-j", "2", "-M", mode, "-n")
			if r.err != nil {
				t.Fatalf("pgbench -M %s:\n%s", mode, r)
			}
			m := processed.FindStringSubmatch(r.stdout)
			if m == nil {
				t.Fatalf("no transaction count in the output:\n%s", r)
			}
			want, _ := strconv.Atoi(run.txns)
			if n, _ := strconv.Atoi(m[1]); n != 4*want {
				t.Fatalf("%d transactions processed, want %d:\n%s", n, 4*want, r)
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
