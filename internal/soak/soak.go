// Package soak runs pgmantle under a long mixed workload and checks what a
// DBA checks before trusting it: no unexpected error, memory that stays
// flat, and exactly one audit record per statement sent.
//
// Run starts a throwaway PostgreSQL with the bookkeeping example, the real
// pgmantle binary in front of it (the example policy, tokens from a local
// key file, an audit log with interval sync), and N clients for a
// duration: the accounting application (unrestricted, OLTP reads and
// writes in transactions, half over the simple protocol as legacy software
// sends it, half with prepared statements) and analysts and auditors
// (restricted: masked and tokenized reports, group-bys, joins, now and
// then a statement the policy refuses, which is expected). The load
// generator counts every statement it sends; after pgmantle stops, the
// audit log is verified and its statement records counted. It stops
// there: cmd-line wrapping (bench/soak) and assertions (the test) are
// elsewhere.
package soak

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgmantle/pgmantle/audit"
	"github.com/pgmantle/pgmantle/examples/bookkeeping"
	"github.com/pgmantle/pgmantle/internal/pgcluster"
	"github.com/pgmantle/pgmantle/internal/proctest"
	"github.com/pgmantle/pgmantle/keys"
)

// Options configure a run.
type Options struct {
	Duration time.Duration // how long the clients run
	Clients  int           // total clients; Analysts of them are restricted
	Analysts int
	Sizes    bookkeeping.Sizes
	Logf     func(format string, args ...any) // progress; may be nil
}

// Result is what a run measured.
type Result struct {
	Options        Options
	Elapsed        time.Duration
	Sent           int64            // statements sent by the load generator
	ByRole         map[string]int64 // statements sent per role
	Refused        int64            // statements refused by the policy, as expected
	Unexpected     int64            // every other error
	FirstErrors    []string         // the first few unexpected errors
	AuditRecords   int64            // statement records in the audit log
	AuditFiles     int              // the log's files (it rotates by size)
	AuditVerify    string           // `pgmantle audit verify` output
	AuditVerified  bool
	RSS            []int64 // pgmantle's resident memory, sampled evenly over the run
	SampleInterval time.Duration
	GoVersion      string
}

const password = "soak"

// SmallSizes is a data set big enough for the workload's random picks
// (companies 1–200, contacts 1–2000) and quick to load.
var SmallSizes = bookkeeping.Sizes{Companies: 200, Contacts: 2000, Accounts: 300, Employees: 2000, PayrollMonths: 3,
	Invoices: 4000, Vouchers: 5000}

// policy is the example policy with the auditor tokenizing identity and
// mobile numbers (as in the demo).
func policy() string {
	return strings.Replace(bookkeeping.Policy, "      salary: clear\n",
		"      salary: clear\n      cn_id: tokenize\n      cn_mobile: tokenize\n", 1)
}

// Run runs the soak. The error is for a run that could not be made; what
// the run found is in the Result.
func Run(ctx context.Context, opts Options) (*Result, error) {
	logf := opts.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	dir, err := os.MkdirTemp("", "pgmantle-soak-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)

	logf("soak: starting PostgreSQL and loading the bookkeeping example...")
	c, err := pgcluster.Start(ctx, pgcluster.Options{Settings: map[string]string{"max_connections": strconv.Itoa(opts.Clients + 50)}})
	if err != nil {
		return nil, err
	}
	defer c.Stop()
	if err := load(ctx, c, opts.Sizes); err != nil {
		return nil, err
	}
	logf("soak: building and starting pgmantle...")
	bin, err := proctest.Build(ctx, dir)
	if err != nil {
		return nil, err
	}
	keysFile := filepath.Join(dir, "keys.yaml")
	if err := keys.InitFile(keysFile); err != nil {
		return nil, err
	}
	policyFile := filepath.Join(dir, "policy.yaml")
	auditFile := filepath.Join(dir, "audit.log")
	if err := os.WriteFile(policyFile, []byte(policy()), 0o644); err != nil {
		return nil, err
	}
	port, err := proctest.FreePort()
	if err != nil {
		return nil, err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	cfg := fmt.Sprintf(`listen: %s
upstream: {address: %q}
policy: {file: %q}
catalog: {dsn: %q}
keys: {file: %q}
audit: {file: %q, sync: interval}
log: {level: warn}
`, addr, c.Addr(), policyFile, c.DSN("postgres", "", "postgres"), keysFile, auditFile)
	cfgFile := filepath.Join(dir, "pgmantle.yaml")
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		return nil, err
	}
	p, err := proctest.Start(bin, []string{"serve", "--config", cfgFile}, addr, filepath.Join(dir, "pgmantle.log"))
	if err != nil {
		return nil, err
	}
	defer func() {
		if p.Running() {
			p.Kill()
		}
	}()

	res := &Result{Options: opts, ByRole: map[string]int64{}, GoVersion: runtime.Version()}
	checked, err := check(ctx, addr)
	if err != nil {
		return nil, fmt.Errorf("soak: the workload's statements do not behave as expected: %w (pgmantle log:\n%s)", err, p.Log())
	}

	logf("soak: %d clients (%d restricted) for %v...", opts.Clients, opts.Analysts, opts.Duration)
	res.SampleInterval = max(opts.Duration/60, time.Second)
	runCtx, cancel := context.WithTimeout(ctx, opts.Duration)
	defer cancel()
	var wg sync.WaitGroup
	counters := make([]*client, opts.Clients)
	for i := range opts.Clients {
		cl := &client{id: i, addr: addr}
		switch {
		case i < opts.Analysts*2/3:
			cl.role = "analyst"
		case i < opts.Analysts:
			cl.role = "auditor"
		default:
			cl.role = "bookkeeper"
			cl.simple = i%2 == 0
		}
		counters[i] = cl
		wg.Add(1)
		go func() { defer wg.Done(); cl.run(runCtx) }()
	}
	start := time.Now()
	sampler := time.NewTicker(res.SampleInterval)
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	lastLog := start
loop:
	for {
		select {
		case <-done:
			break loop
		case <-sampler.C:
			if rss, err := p.RSS(); err == nil {
				res.RSS = append(res.RSS, rss)
			}
			if time.Since(lastLog) >= 30*time.Second {
				lastLog = time.Now()
				var sent int64
				for _, cl := range counters {
					sent += cl.sent.Load()
				}
				logf("soak: %v, %d statements, RSS %d MB", time.Since(start).Round(time.Second), sent, res.RSS[len(res.RSS)-1]>>20)
			}
		}
	}
	sampler.Stop()
	res.Elapsed = time.Since(start)
	res.Sent = checked
	for _, cl := range counters {
		res.Sent += cl.sent.Load()
		res.ByRole[cl.role] += cl.sent.Load()
		res.Refused += cl.refused.Load()
		res.Unexpected += cl.unexpected.Load()
		cl.mu.Lock()
		for _, e := range cl.errs {
			if len(res.FirstErrors) < 10 {
				res.FirstErrors = append(res.FirstErrors, e)
			}
		}
		cl.mu.Unlock()
	}

	// Stop pgmantle (it flushes and closes the audit log), then count.
	logf("soak: stopping pgmantle and checking the audit log...")
	if err := p.Stop(60 * time.Second); err != nil {
		return res, fmt.Errorf("soak: stopping pgmantle: %w\n%s", err, p.Log())
	}
	files := append(audit.Rotated(auditFile), auditFile)
	res.AuditFiles = len(files)
	for _, f := range files {
		n, err := countStatements(f)
		if err != nil {
			return res, err
		}
		res.AuditRecords += n
	}
	out, err := exec.CommandContext(ctx, bin, append([]string{"audit", "verify"}, files...)...).CombinedOutput()
	res.AuditVerify, res.AuditVerified = strings.TrimSpace(string(out)), err == nil
	return res, nil
}

// load creates the roles and the example's schema and data.
func load(ctx context.Context, c *pgcluster.Cluster, sizes bookkeeping.Sizes) error {
	for _, r := range bookkeeping.Roles {
		if err := c.CreateRole(ctx, r, password, pgcluster.AuthSCRAM); err != nil {
			return err
		}
	}
	conn, err := pgx.Connect(ctx, c.DSN("postgres", "", "postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, bookkeeping.Schema); err != nil {
		return err
	}
	if err := bookkeeping.Load(ctx, conn, sizes, nil); err != nil {
		return err
	}
	_, err = conn.Exec(ctx, `GRANT USAGE ON SCHEMA bk TO PUBLIC;
		GRANT SELECT ON ALL TABLES IN SCHEMA bk TO PUBLIC;
		GRANT INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA bk TO bookkeeper`)
	return err
}

// countStatements counts the statement records of an audit log.
func countStatements(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var n int64
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var r struct {
			Type string `json:"type"`
		}
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return n, fmt.Errorf("soak: audit record: %w", err)
		}
		if r.Type == "statement" {
			n++
		}
	}
	return n, sc.Err()
}

// A statement of the workload: SQL, arguments made from a random source,
// and whether the policy refuses it for the role that sends it.
type statement struct {
	sql     string
	args    func(r *rand.Rand) []any
	refused bool
}

func company(r *rand.Rand) []any { return []any{1 + r.IntN(200)} }
func contact(r *rand.Rand) []any { return []any{1 + r.IntN(2000)} }

var (
	appReads = []statement{
		{sql: "SELECT id, name, id_no, mobile, email FROM bk.contacts WHERE id = $1", args: contact},
		{sql: "SELECT id, invoice_no, issued_on, amount, tax FROM bk.sales_invoices WHERE company_id = $1 ORDER BY issued_on DESC, id LIMIT 20", args: company},
		{sql: "SELECT count(*), sum(amount) FROM bk.payroll WHERE company_id = $1", args: company},
		{sql: "SELECT id, card_no, bank FROM bk.bank_accounts WHERE company_id = $1", args: company},
	}
	analystReads = []statement{
		{sql: "SELECT name, id_no, mobile, address FROM bk.contacts WHERE company_id = $1", args: company},
		{sql: "SELECT company_id, count(*) FROM bk.employees GROUP BY company_id ORDER BY 2 DESC, 1 LIMIT 10"},
		{sql: "SELECT c.name, count(*), sum(i.amount) FROM bk.client_companies c JOIN bk.sales_invoices i ON i.company_id = c.id GROUP BY c.name ORDER BY 2 DESC, 1 LIMIT 10"},
		{sql: "SELECT e.name, e.mobile, c.name FROM bk.employees e JOIN bk.client_companies c ON c.id = e.company_id WHERE e.company_id = $1 ORDER BY e.id", args: company},
		{sql: "SELECT id FROM bk.contacts WHERE id_no LIKE '3101%'", refused: true},
	}
	auditorReads = []statement{
		{sql: "SELECT id_no, count(*) FROM bk.payroll WHERE company_id = $1 GROUP BY id_no ORDER BY 2 DESC", args: company},
		{sql: "SELECT name, id_no, mobile FROM bk.contacts WHERE company_id = $1", args: company},
		{sql: "SELECT count(*) FROM bk.employees e JOIN bk.payroll p ON p.id_no = e.id_no"},
		{sql: "SELECT id FROM bk.contacts WHERE mobile > '139'", refused: true},
	}
)

// check runs each of the workload's statements once as the role that
// sends it: allowed ones must succeed, refused ones must be refused. It
// returns the number of statements sent.
func check(ctx context.Context, addr string) (int64, error) {
	var sent int64
	for role, stmts := range map[string][]statement{"bookkeeper": appReads, "analyst": analystReads, "auditor": auditorReads} {
		conn, err := pgx.Connect(ctx, url(addr, role))
		if err != nil {
			return sent, err
		}
		r := rand.New(rand.NewPCG(1, 2))
		for _, s := range stmts {
			var args []any
			if s.args != nil {
				args = s.args(r)
			}
			_, err := conn.Exec(ctx, s.sql, args...)
			sent++
			var pe *pgconn.PgError
			refused := errors.As(err, &pe) && pe.Code == "42501"
			if refused != s.refused || (err != nil && !refused) {
				conn.Close(ctx)
				return sent, fmt.Errorf("%s: %q: %v", role, s.sql, err)
			}
		}
		conn.Close(ctx)
	}
	return sent, nil
}

func url(addr, role string) string {
	return "postgres://" + role + ":" + password + "@" + addr + "/postgres?sslmode=disable&application_name=soak"
}

// client is one simulated user.
type client struct {
	id     int
	addr   string
	role   string
	simple bool // send over the simple protocol (legacy software)

	sent, refused, unexpected atomic.Int64
	mu                        sync.Mutex
	errs                      []string
}

func (cl *client) fail(err error) {
	cl.unexpected.Add(1)
	cl.mu.Lock()
	if len(cl.errs) < 3 {
		cl.errs = append(cl.errs, fmt.Sprintf("client %d (%s): %v", cl.id, cl.role, err))
	}
	cl.mu.Unlock()
}

// run connects and sends statements until ctx ends, reconnecting after a
// lost connection (which counts as unexpected).
func (cl *client) run(ctx context.Context) {
	r := rand.New(rand.NewPCG(uint64(cl.id), 20261128))
	for ctx.Err() == nil {
		cfg, err := pgx.ParseConfig(url(cl.addr, cl.role))
		if err != nil {
			cl.fail(err)
			return
		}
		if cl.simple {
			cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
		}
		conn, err := pgx.ConnectConfig(context.Background(), cfg)
		if err != nil {
			cl.fail(err)
			time.Sleep(time.Second)
			continue
		}
		cl.session(ctx, conn, r)
		conn.Close(context.Background())
	}
}

// session sends statements on one connection until ctx ends or the
// connection breaks. Statements run to completion even when ctx ends
// during them, so that every statement sent is counted.
func (cl *client) session(ctx context.Context, conn *pgx.Conn, r *rand.Rand) {
	bg := context.Background()
	exec := func(s statement, args ...any) bool {
		cl.sent.Add(1)
		_, err := conn.Exec(bg, s.sql, args...)
		var pe *pgconn.PgError
		switch {
		case err == nil && !s.refused:
			return true
		case s.refused && errors.As(err, &pe) && pe.Code == "42501":
			cl.refused.Add(1)
			return true
		case err == nil:
			cl.fail(fmt.Errorf("%q was not refused", s.sql))
			return true
		default:
			cl.fail(err)
			return !conn.IsClosed()
		}
	}
	var reads []statement
	switch cl.role {
	case "analyst":
		reads = analystReads
	case "auditor":
		reads = auditorReads
	default:
		reads = appReads
	}
	seq := 0
	for ctx.Err() == nil {
		if cl.role == "bookkeeper" && r.IntN(10) < 3 {
			// A posting: voucher lines and an invoice touched, in one
			// transaction.
			seq++
			id := 10_000_000 + cl.id*1_000_000 + seq*2
			co := company(r)[0]
			ok := exec(statement{sql: "BEGIN"}) &&
				exec(statement{sql: "INSERT INTO bk.ledger_vouchers (id, company_id, voucher_no, posted_on, account, summary, debit, credit) VALUES ($1, $2, $3, current_date, '1002 银行存款', '收到货款', $4, 0)"},
					id, co, fmt.Sprintf("记-soak-%d-%d", cl.id, seq), r.IntN(100000)) &&
				exec(statement{sql: "INSERT INTO bk.ledger_vouchers (id, company_id, voucher_no, posted_on, account, summary, debit, credit) VALUES ($1, $2, $3, current_date, '1122 应收账款', '收到货款', 0, $4)"},
					id+1, co, fmt.Sprintf("记-soak-%d-%d", cl.id, seq), r.IntN(100000)) &&
				exec(statement{sql: "UPDATE bk.sales_invoices SET tax = tax WHERE id = $1"}, 1+r.IntN(2000)) &&
				exec(statement{sql: "COMMIT"})
			if !ok {
				if conn.IsClosed() {
					return
				}
				exec(statement{sql: "ROLLBACK"})
			}
			continue
		}
		s := reads[r.IntN(len(reads))]
		if s.refused && r.IntN(4) != 0 {
			continue // refused statements are rarer
		}
		var args []any
		if s.args != nil {
			args = s.args(r)
		}
		if !exec(s, args...) && conn.IsClosed() {
			return
		}
	}
}

// Flat reports whether memory stayed flat: the highest sample of the last
// third of the run exceeds the highest of the second third (after warm-up)
// by at most 10 % plus 4 MB.
func (r *Result) Flat() bool {
	n := len(r.RSS)
	if n < 3 {
		return true
	}
	peak := func(s []int64) int64 {
		var m int64
		for _, v := range s {
			m = max(m, v)
		}
		return m
	}
	mid, last := peak(r.RSS[n/3:2*n/3]), peak(r.RSS[2*n/3:])
	return float64(last) <= float64(mid)*1.10+4<<20
}

// Markdown renders the result as a report.
func (r *Result) Markdown() string {
	var b bytes.Buffer
	o := r.Options
	fmt.Fprintf(&b, "# Soak: %d clients (%d restricted), %v\n\n", o.Clients, o.Analysts, r.Elapsed.Round(time.Second))
	fmt.Fprintf(&b, "pgmantle (real binary, %s) with the bookkeeping example policy, tokens from a local key file, audit log with interval sync; PostgreSQL throwaway cluster; %d CPUs.\n\n", r.GoVersion, runtime.NumCPU())
	fmt.Fprintf(&b, "| figure | value |\n|---|---|\n")
	fmt.Fprintf(&b, "| statements sent (load generator, including the first check of each) | %d |\n", r.Sent)
	for _, role := range []string{"bookkeeper", "analyst", "auditor"} {
		fmt.Fprintf(&b, "| … as %s | %d |\n", role, r.ByRole[role])
	}
	fmt.Fprintf(&b, "| statements per second | %.0f |\n", float64(r.Sent)/r.Elapsed.Seconds())
	fmt.Fprintf(&b, "| refused by the policy (expected) | %d |\n", r.Refused)
	fmt.Fprintf(&b, "| unexpected errors | %d |\n", r.Unexpected)
	fmt.Fprintf(&b, "| audit statement records (%d files: rotated by size, one chain) | %d |\n", r.AuditFiles, r.AuditRecords)
	fmt.Fprintf(&b, "| one record per statement | %v |\n", r.AuditRecords == r.Sent)
	fmt.Fprintf(&b, "| audit verify | %s |\n", strings.ReplaceAll(r.AuditVerify, "\n", " "))
	if len(r.RSS) > 0 {
		minR, maxR := r.RSS[0], r.RSS[0]
		for _, v := range r.RSS {
			minR, maxR = min(minR, v), max(maxR, v)
		}
		fmt.Fprintf(&b, "| pgmantle RSS min / max | %d / %d MB |\n", minR>>20, maxR>>20)
		fmt.Fprintf(&b, "| memory flat (last third ≤ middle third + 10%% + 4 MB) | %v |\n", r.Flat())
		fmt.Fprintf(&b, "\nRSS every %v (MB):", r.SampleInterval)
		for _, v := range r.RSS {
			fmt.Fprintf(&b, " %d", v>>20)
		}
		b.WriteString("\n")
	}
	for _, e := range r.FirstErrors {
		fmt.Fprintf(&b, "\n- %s", e)
	}
	return b.String()
}
