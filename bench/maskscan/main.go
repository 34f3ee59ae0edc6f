// Command maskscan measures a large masked scan: a table of ROWS rows and
// 8 columns, 4 of them protected, read in full directly from PostgreSQL
// and through pgmantle as a restricted role (masks on every protected
// value), in the same run. It reports rows/s, MB/s, the ratio to direct,
// and pgmantle's peak resident memory (VmHWM) during the scans.
//
//	go run ./bench/maskscan [-rows 1000000] [-rounds 3]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgmantle/pgmantle/internal/benchkit"
	"github.com/pgmantle/pgmantle/internal/pgcluster"
)

const policyYAML = `classes:
  cn_id:       [public.scan.id_no]
  cn_mobile:   [public.scan.mobile]
  person_name: [public.scan.name]
  salary:      [public.scan.salary]
roles:
  app: {unrestricted: true}
  analyst:
    rules:
      cn_id:       {mask: cn_id}
      cn_mobile:   {mask: partial, keep_first: 3, keep_last: 4}
      person_name: {mask: cn_name}
      salary:      {mask: round, to: 1000}
`

const loadSQL = `
CREATE TABLE scan (
  id int PRIMARY KEY, name text, id_no char(18), mobile text,
  salary numeric(12,2), city text, created date, note text);
INSERT INTO scan
SELECT i,
       (ARRAY['张','王','李','赵','欧阳'])[1 + i % 5] || (ARRAY['伟','芳','娜','敏','静'])[1 + (i / 5) % 5],
       '310105' || to_char(date '1960-01-01' + (i % 15000), 'YYYYMMDD') || lpad((i % 1000)::text, 3, '0') || 'X',
       '13' || lpad((i::bigint * 7919 % 1000000000)::text, 9, '0'),
       (i % 50000) + 0.45,
       (ARRAY['上海','苏州','杭州'])[1 + i % 3],
       date '2020-01-01' + (i % 1000),
       'ordinary note ' || i
FROM generate_series(1, %ROWS%) AS i;
GRANT SELECT ON scan TO PUBLIC;`

func main() {
	rows := flag.Int("rows", 1_000_000, "rows in the scanned table")
	rounds := flag.Int("rounds", 3, "scans per target (the best is reported)")
	bin := flag.String("pgmantle", "", "pgmantle binary (default: build it)")
	flag.Parse()
	if err := run(*rows, *rounds, *bin); err != nil {
		fmt.Fprintln(os.Stderr, "maskscan:", err)
		os.Exit(1)
	}
}

func logf(format string, args ...any) { benchkit.Logf("maskscan", format, args...) }

func run(rows, rounds int, bin string) error {
	ctx := context.Background()
	tmp, err := os.MkdirTemp("", "maskscan-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if bin == "" {
		logf("building pgmantle")
		if bin, err = benchkit.Build(tmp); err != nil {
			return err
		}
	}
	logf("starting a throwaway PostgreSQL")
	c, err := pgcluster.Start(ctx, pgcluster.Options{Settings: map[string]string{"shared_buffers": "256MB"}})
	if err != nil {
		return err
	}
	defer c.Stop()
	for _, r := range []string{"app", "analyst"} {
		if err := c.CreateRole(ctx, r, "pw", pgcluster.AuthSCRAM); err != nil {
			return err
		}
	}
	logf("loading %d rows", rows)
	if err := c.Exec(ctx, strings.ReplaceAll(loadSQL, "%ROWS%", strconv.Itoa(rows))); err != nil {
		return err
	}
	if err := c.Exec(ctx, "VACUUM ANALYZE scan"); err != nil {
		return err
	}

	policy := filepath.Join(tmp, "policy.yaml")
	if err := os.WriteFile(policy, []byte(policyYAML), 0o644); err != nil {
		return err
	}
	cmd, listen, err := benchkit.Serve(bin, c.Addr(), policy, c.DSN("postgres", "", "postgres"))
	if err != nil {
		return err
	}
	defer benchkit.Stop(cmd)

	targets := []struct{ name, dsn string }{
		{"direct (analyst)", c.DSN("analyst", "pw", "postgres")},
		{"pgmantle, unrestricted (app)", "postgres://app:pw@" + listen + "/postgres?sslmode=disable"},
		{"pgmantle, masked (analyst)", "postgres://analyst:pw@" + listen + "/postgres?sslmode=disable"},
	}
	type result struct {
		best  time.Duration
		bytes int64
	}
	results := make([]result, len(targets))
	for r := 0; r < rounds; r++ {
		for i, tg := range targets {
			d, n, b, first, err := scan(ctx, tg.dsn)
			if err != nil {
				return fmt.Errorf("%s: %w", tg.name, err)
			}
			// The masked target must really be masked, the others not.
			if masked := strings.Contains(first, "*"); masked != strings.Contains(tg.name, "masked") {
				return fmt.Errorf("%s: first row's id_no %q: masked=%v", tg.name, redact(first), masked)
			}
			if n != rows {
				return fmt.Errorf("%s: got %d rows, want %d", tg.name, n, rows)
			}
			logf("round %d %-30s %v", r+1, tg.name, d.Round(time.Millisecond))
			if results[i].best == 0 || d < results[i].best {
				results[i] = result{d, b}
			}
		}
	}
	hwm, err := benchkit.VmHWM(cmd.Process.Pid)
	if err != nil {
		return err
	}
	fmt.Printf("\n%d rows × 8 columns (4 protected), best of %d scans, SELECT * over the extended protocol (pgconn, text)\n\n", rows, rounds)
	fmt.Println("| target | time | rows/s | MB/s | ratio to direct |")
	fmt.Println("|---|---:|---:|---:|---:|")
	for i, tg := range targets {
		s := results[i].best.Seconds()
		fmt.Printf("| %s | %.2f s | %.0f | %.1f | %.2f |\n", tg.name, s, float64(rows)/s, float64(results[i].bytes)/s/1e6,
			results[0].best.Seconds()/s)
	}
	fmt.Printf("\npgmantle peak RSS (VmHWM) over the whole run: %.1f MB\n", float64(hwm)/1024)
	return nil
}

// redact keeps the shape of a value for an error message.
func redact(s string) string {
	if len(s) > 6 {
		return s[:6] + "…"
	}
	return s
}

// scan reads the whole table, counting rows and bytes without keeping them;
// it returns the first row's id_no.
func scan(ctx context.Context, dsn string) (time.Duration, int, int64, string, error) {
	conn, err := pgconn.Connect(ctx, dsn)
	if err != nil {
		return 0, 0, 0, "", err
	}
	defer conn.Close(ctx)
	start := time.Now()
	rr := conn.ExecParams(ctx, "SELECT id, name, id_no, mobile, salary, city, created, note FROM scan", nil, nil, nil, nil)
	n, bytes, first := 0, int64(0), ""
	for rr.NextRow() {
		if n == 0 {
			first = string(rr.Values()[2])
		}
		n++
		for _, v := range rr.Values() {
			bytes += int64(len(v))
		}
	}
	if _, err := rr.Close(); err != nil {
		return 0, 0, 0, "", err
	}
	return time.Since(start), n, bytes, first, nil
}
