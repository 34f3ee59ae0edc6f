// Command restricted measures what the query analysis costs: pgbench -S
// style point selects on a table with protected columns, through pgmantle
// as an unrestricted role and as a restricted one (every statement
// analysed, two columns masked), in the same run, with the simple protocol
// (a new text per statement: parsed every time) and prepared statements
// (analysis cached).
//
//	go run ./bench/restricted [-duration 20s] [-clients 8] [-rounds 2]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/pgmantle/pgmantle/internal/benchkit"
	"github.com/pgmantle/pgmantle/internal/pgcluster"
)

const policyYAML = `classes:
  person_name: [public.people.name]
  cn_mobile:   [public.people.mobile]
roles:
  app: {unrestricted: true}
  analyst:
    rules:
      person_name: {mask: cn_name}
      cn_mobile:   hash
`

const loadSQL = `
CREATE TABLE people (id int PRIMARY KEY, name text, mobile text, city text, balance numeric(12,2));
INSERT INTO people
SELECT i, (ARRAY['张','王','李','赵'])[1 + i % 4] || (ARRAY['伟','芳','娜','敏'])[1 + (i / 4) % 4],
       '13' || lpad((i::bigint * 7919 % 1000000000)::text, 9, '0'),
       (ARRAY['上海','苏州','杭州'])[1 + i % 3], i % 10000
FROM generate_series(1, 100000) AS i;
GRANT SELECT ON people TO PUBLIC;`

const script = `\set id random(1, 100000)
SELECT id, name, mobile, city FROM people WHERE id = :id;
`

func main() {
	duration := flag.Duration("duration", 20*time.Second, "pgbench run time per target and protocol")
	clients := flag.Int("clients", 8, "pgbench clients")
	rounds := flag.Int("rounds", 2, "runs per target (the best is reported)")
	out := flag.String("out", "bench/results", "directory for the Markdown result")
	flag.Parse()
	if err := run(*duration, *clients, *rounds, *out); err != nil {
		fmt.Fprintln(os.Stderr, "restricted:", err)
		os.Exit(1)
	}
}

func logf(format string, args ...any) { benchkit.Logf("restricted", format, args...) }

func run(duration time.Duration, clients, rounds int, outDir string) error {
	ctx := context.Background()
	pgbench, err := findPgbench()
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "restricted-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	logf("building pgmantle")
	bin, err := benchkit.Build(tmp)
	if err != nil {
		return err
	}
	logf("starting a throwaway PostgreSQL")
	c, err := pgcluster.Start(ctx, pgcluster.Options{})
	if err != nil {
		return err
	}
	defer c.Stop()
	for _, r := range []string{"app", "analyst"} {
		if err := c.CreateRole(ctx, r, "pw", pgcluster.AuthSCRAM); err != nil {
			return err
		}
	}
	if err := c.Exec(ctx, loadSQL); err != nil {
		return err
	}
	if err := c.Exec(ctx, "VACUUM ANALYZE people"); err != nil {
		return err
	}
	policy := filepath.Join(tmp, "policy.yaml")
	scriptFile := filepath.Join(tmp, "select.sql")
	if err := os.WriteFile(policy, []byte(policyYAML), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(scriptFile, []byte(script), 0o644); err != nil {
		return err
	}
	// The hashed column needs keys: a key file of this run's own.
	keyFile := filepath.Join(tmp, "keys.json")
	if out, err := exec.Command(bin, "keys", "init", keyFile).CombinedOutput(); err != nil {
		return fmt.Errorf("pgmantle keys init: %v: %s", err, out)
	}
	cmd, listen, err := benchkit.Serve(bin, c.Addr(), policy, c.DSN("postgres", "", "postgres"), "--keys-file", keyFile)
	if err != nil {
		return err
	}
	defer benchkit.Stop(cmd)
	host, port, _ := strings.Cut(listen, ":")

	type key struct{ proto, role string }
	best := map[key]float64{}
	protos := []string{"simple", "prepared"}
	roles := []string{"app", "analyst"}
	for r := 0; r < rounds; r++ {
		for _, proto := range protos {
			for _, role := range roles {
				tps, err := pgbenchRun(pgbench, host, port, role, proto, scriptFile, clients, duration)
				if err != nil {
					return fmt.Errorf("%s/%s: %w", proto, role, err)
				}
				logf("round %d %-8s %-8s %8.0f TPS", r+1, proto, role, tps)
				if tps > best[key{proto, role}] {
					best[key{proto, role}] = tps
				}
			}
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# Restricted vs unrestricted TPS through pgmantle\n\n")
	fmt.Fprintf(&b, "`go run ./bench/restricted -duration %s -clients %d -rounds %d` on %s; best of %d runs each.\n\n",
		duration, clients, rounds, time.Now().Format("2006-01-02"), rounds)
	fmt.Fprintf(&b, "Point selects (`SELECT id, name, mobile, city FROM people WHERE id = :id`, 100,000 rows; name masked, mobile hashed for the restricted role).\n\n")
	fmt.Fprintf(&b, "| protocol | unrestricted (app) TPS | restricted (analyst) TPS | restricted / unrestricted |\n|---|---:|---:|---:|\n")
	for _, proto := range protos {
		u, r := best[key{proto, "app"}], best[key{proto, "analyst"}]
		fmt.Fprintf(&b, "| %s | %.0f | %.0f | %.2f |\n", proto, u, r, r/u)
	}
	fmt.Print("\n" + b.String())
	name := filepath.Join(outDir, "restricted-"+time.Now().Format("20060102-150405")+".md")
	if err := os.WriteFile(name, []byte(b.String()), 0o644); err != nil {
		return err
	}
	logf("wrote %s", name)
	return nil
}

var tpsLine = regexp.MustCompile(`tps = ([0-9.]+) \(without initial connection time\)`)

// pgbenchRun runs pgbench with the custom script and returns its TPS; it
// checks that no statement failed.
func pgbenchRun(pgbench, host, port, role, proto, scriptFile string, clients int, d time.Duration) (float64, error) {
	cmd := exec.Command(pgbench, "-n", "-h", host, "-p", port, "-U", role, "-M", proto, "-f", scriptFile,
		"-c", strconv.Itoa(clients), "-j", "2", "-T", strconv.Itoa(int(d.Seconds())), "postgres")
	cmd.Env = append(os.Environ(), "PGPASSWORD=pw", "PGSSLMODE=disable")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("pgbench: %v\n%s", err, out)
	}
	if strings.Contains(string(out), "number of failed transactions: ") && !strings.Contains(string(out), "number of failed transactions: 0 ") {
		return 0, fmt.Errorf("pgbench reported failures:\n%s", out)
	}
	m := tpsLine.FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("no TPS in pgbench output:\n%s", out)
	}
	return strconv.ParseFloat(string(m[1]), 64)
}

func findPgbench() (string, error) {
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pgbench")
	if len(matches) == 0 {
		if p, err := exec.LookPath("pgbench"); err == nil {
			return p, nil
		}
		return "", fmt.Errorf("pgbench not found (install postgresql-contrib or postgresql)")
	}
	return matches[len(matches)-1], nil
}
