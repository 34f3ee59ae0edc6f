package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgmantle/pgmantle/audit"
	"github.com/pgmantle/pgmantle/examples/bookkeeping"
	"github.com/pgmantle/pgmantle/internal/config"
	"github.com/pgmantle/pgmantle/internal/pgcluster"
	"github.com/pgmantle/pgmantle/internal/pgtest"
)

// auditPolicy tokenizes mobiles and masks IDs and names for the analyst;
// postgres and bookkeeper are unrestricted; addresses are denied.
const auditPolicy = `classes:
  cn_id:       [bk.contacts.id_no, bk.payroll.id_no]
  cn_mobile:   [bk.contacts.mobile]
  person_name: [bk.contacts.name, bk.payroll.employee]
  address:     [bk.contacts.address]
roles:
  postgres:   {unrestricted: true}
  bookkeeper: {unrestricted: true}
  analyst:
    rules:
      cn_id:       {mask: cn_id}
      cn_mobile:   tokenize
      person_name: {mask: cn_name}
default:
  rules: {"*": deny}
`

// auditServer runs serve with the audit log, the admin listener and the
// policy above, logging at debug level into dir/pgmantle.log. It returns
// the proxy's address, the admin address and a stop function.
type auditServer struct {
	addr, admin string
	dir         string
	stop        func()
}

func startAuditServer(t *testing.T, c *pgcluster.Cluster, dir string, extra func(*overrides), cfgFns ...func(*config.Config)) *auditServer {
	t.Helper()
	policyFile := filepath.Join(dir, "policy.yaml")
	os.WriteFile(policyFile, []byte(auditPolicy), 0o644)
	keyFile := filepath.Join(dir, "keys.json")
	if _, err := os.Stat(keyFile); err != nil {
		if code, _, stderr := runCmd("keys", "init", keyFile); code != 0 {
			t.Fatal(stderr)
		}
	}
	o := overrides{upstream: c.Addr(), listen: "127.0.0.1:0", policy: policyFile, keysFile: keyFile,
		catalogDSN: c.DSN("postgres", "", "postgres"), auditFile: filepath.Join(dir, "audit.log"),
		adminListen: "127.0.0.1:0", level: "debug"}
	if extra != nil {
		extra(&o)
	}
	cfg, err := loadConfig("", o)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range cfgFns {
		f(&cfg)
	}
	// The admin listener's port is chosen here so the test knows it.
	al, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Admin.Listen = al.Addr().String()
	al.Close()
	logf, err := os.OpenFile(filepath.Join(dir, "pgmantle.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(logf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, cfg, l, logger) }()
	s := &auditServer{addr: l.Addr().String(), admin: cfg.Admin.Listen, dir: dir}
	stopped := false
	s.stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve: %v", err)
			}
		case <-time.After(40 * time.Second):
			t.Error("serve did not stop")
		}
		logf.Close()
	}
	t.Cleanup(s.stop)
	waitHTTP(t, "http://"+s.admin+"/healthz")
	return s
}

func waitHTTP(t *testing.T, url string) {
	t.Helper()
	for i := 0; i < 100; i++ {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s did not answer", url)
}

func (s *auditServer) connect(t *testing.T, user, password string) *pgx.Conn {
	t.Helper()
	ctx := pgtest.Context(t)
	dsn := "postgres://" + user + ":" + password + "@" + s.addr + "/postgres?sslmode=disable&application_name=audit-test"
	if password == "" {
		dsn = "postgres://" + user + "@" + s.addr + "/postgres?sslmode=disable&application_name=audit-test"
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// metric reads one sample from /metrics (0 if absent).
func (s *auditServer) metric(t *testing.T, name string) float64 {
	t.Helper()
	resp, err := http.Get("http://" + s.admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			v, err := strconv.ParseFloat(rest, 64)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
	}
	return 0
}

// readAudit reads every record of the log at path.
func readAudit(t *testing.T, path string) []audit.Entry {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []audit.Entry
	for _, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		var e audit.Entry
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("record %q: %v", line, err)
		}
		out = append(out, e)
	}
	return out
}

func setupAuditDB(t *testing.T, c *pgcluster.Cluster) {
	t.Helper()
	ctx := pgtest.Context(t)
	c.Exec(ctx, "DROP SCHEMA IF EXISTS bk CASCADE")
	if err := c.Exec(ctx, bookkeeping.Schema); err != nil {
		t.Fatal(err)
	}
	for _, r := range bookkeeping.Roles {
		c.CreateRole(ctx, r, "pw", pgcluster.AuthSCRAM)
	}
	if err := c.Exec(ctx, `GRANT USAGE ON SCHEMA bk TO PUBLIC; GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA bk TO PUBLIC;
		INSERT INTO bk.client_companies VALUES (1, 'x', '91350100M000100Y43', '欧阳明', NULL)`); err != nil {
		t.Fatal(err)
	}
}

// TestAuditRecords runs every kind of statement through pgmantle and
// checks the record each one leaves, then the chain, then that no seeded
// value reached the audit log or pgmantle's log.
func TestAuditRecords(t *testing.T) {
	c := pgtest.Cluster(t)
	setupAuditDB(t, c)
	ctx := pgtest.Context(t)
	dir := t.TempDir()
	s := startAuditServer(t, c, dir, nil)

	// Distinctive values, each sent once in a way the audit must not keep.
	seeds := map[string]string{
		"literal":  "SEEDLIT-4f2a",
		"id":       "310105199003078032",
		"mobile":   "13912345678",
		"name":     "欧阳娜娜",
		"bind":     "SEEDBIND-77c1",
		"password": "SEEDPW-Zq9!",
		"comment":  "SEEDCOMMENT-0b9e",
		"copy":     "SEEDCOPY-3d5e",
		"unparsed": "SEEDUNPARSED-8a1f",
		"utility":  "SEEDUTIL-6c2d",
		"notify":   "SEEDNOTIFY-1e7b",
	}

	before := s.metric(t, `pgmantle_statements_total{decision="refused"}`)

	// The unrestricted bookkeeper: simple multi-statement query, literals.
	bk := s.connect(t, "bookkeeper", "pw")
	if _, err := bk.PgConn().Exec(ctx, "INSERT INTO bk.contacts (id, company_id, name, id_no, mobile, address) VALUES (1, 1, '"+
		seeds["name"]+"', '"+seeds["id"]+"', '"+seeds["mobile"]+"', '"+seeds["literal"]+"'); SELECT name, id_no FROM bk.contacts /* "+
		seeds["comment"]+" */ WHERE id = 1").ReadAll(); err != nil {
		t.Fatal(err)
	}
	// Extended protocol with a bind parameter, and a pipelined batch.
	var got string
	if err := bk.QueryRow(ctx, "SELECT name FROM bk.contacts WHERE address = $1", seeds["literal"]).Scan(&got); err != nil || got != seeds["name"] {
		t.Fatalf("bookkeeper read %q, %v", got, err)
	}
	b := &pgx.Batch{}
	b.Queue("UPDATE bk.contacts SET email = $1 WHERE id = 1", seeds["bind"])
	b.Queue("SELECT count(*) FROM bk.contacts WHERE email = $1", seeds["bind"])
	b.Queue("SELECT id_no FROM bk.contacts")
	if err := bk.SendBatch(ctx, b).Close(); err != nil {
		t.Fatal(err)
	}
	// COPY in both directions; a failed statement; an unparseable one.
	if _, err := bk.CopyFrom(ctx, pgx.Identifier{"bk", "contacts"}, []string{"id", "company_id", "name", "address"},
		pgx.CopyFromRows([][]any{{2, 1, "王芳", seeds["copy"]}, {3, 1, "李娜", seeds["copy"]}})); err != nil {
		t.Fatal(err)
	}
	if _, err := bk.PgConn().CopyTo(ctx, io.Discard, "COPY bk.contacts (id, name, address) TO STDOUT"); err != nil {
		t.Fatal(err)
	}
	if _, err := bk.Exec(ctx, "SELECT 1/0"); err == nil {
		t.Fatal("division by zero succeeded")
	}
	if _, err := bk.PgConn().Exec(ctx, "SELEC '"+seeds["unparsed"]+"'").ReadAll(); err == nil {
		t.Fatal("a syntax error succeeded")
	}
	bk.Close(ctx)

	// The superuser: passwords, utility statements with literals.
	su := s.connect(t, "postgres", "")
	for _, sql := range []string{
		"ALTER ROLE intern PASSWORD '" + seeds["password"] + "'",
		"COMMENT ON TABLE bk.contacts IS '" + seeds["utility"] + "'",
		"NOTIFY audit_test, '" + seeds["notify"] + "'",
		"DO $$BEGIN PERFORM '" + seeds["utility"] + "'; END$$",
	} {
		if _, err := su.PgConn().Exec(ctx, sql).ReadAll(); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	su.Close(ctx)

	// The analyst: masked, tokenized, refused.
	an := s.connect(t, "analyst", "pw")
	var name, id, mobile string
	if err := an.QueryRow(ctx, "SELECT name, id_no FROM bk.contacts WHERE id = 1").Scan(&name, &id); err != nil {
		t.Fatal(err)
	}
	if err := an.QueryRow(ctx, "SELECT mobile FROM bk.contacts WHERE id = 1").Scan(&mobile); err != nil {
		t.Fatal(err)
	}
	if mobile == seeds["mobile"] || name == seeds["name"] {
		t.Fatal("analyst saw clear values")
	}
	var n int
	if err := an.QueryRow(ctx, "SELECT count(*) FROM bk.contacts WHERE mobile = $1", mobile).Scan(&n); err != nil || n != 1 {
		t.Fatalf("search by token: %d, %v", n, err)
	}
	if _, err := an.Exec(ctx, "SELECT address FROM bk.contacts WHERE address = '"+seeds["literal"]+"'"); err == nil ||
		!strings.Contains(err.Error(), "42501") {
		t.Fatalf("address read: %v", err)
	}
	an.Close(ctx)

	// A failed login.
	if conn, err := pgx.Connect(ctx, "postgres://analyst:wrong@"+s.addr+"/postgres?sslmode=disable"); err == nil {
		conn.Close(ctx)
		t.Fatal("wrong password accepted")
	}

	// The live log verifies (pgmantle holds its lock).
	if code, out, _ := runCmd("audit", "verify", filepath.Join(dir, "audit.log")); code != 0 || !strings.Contains(out, "pgmantle is writing this log") {
		t.Errorf("verify of the live log (%d): %s", code, out)
	}
	if after := s.metric(t, `pgmantle_statements_total{decision="refused"}`); after != before+1 {
		t.Errorf("refused statements metric went from %v to %v", before, after)
	}
	if v := s.metric(t, `pgmantle_masked_values_total{action="tokenize",class="cn_mobile"}`); v < 1 {
		t.Errorf("tokenized mobiles metric = %v", v)
	}
	if v := s.metric(t, "pgmantle_logins_failed_total"); v != 1 {
		t.Errorf("failed logins metric = %v", v)
	}
	s.stop()

	recs := readAudit(t, filepath.Join(dir, "audit.log"))
	if os.Getenv("AUDIT_DUMP") != "" {
		data, _ := os.ReadFile(filepath.Join(dir, "audit.log"))
		t.Log(string(data))
	}
	find := func(what string, pred func(e audit.Entry) bool) audit.Entry {
		t.Helper()
		for _, e := range recs {
			if pred(e) {
				return e
			}
		}
		t.Errorf("no record for %s", what)
		return audit.Entry{}
	}
	stmt := func(role, sqlPrefix string) func(e audit.Entry) bool {
		return func(e audit.Entry) bool {
			return e.Type == audit.TypeStatement && e.Role == role && strings.HasPrefix(e.SQL, sqlPrefix)
		}
	}
	if recs[0].Type != audit.TypeOpen || recs[len(recs)-1].Type != audit.TypeClose {
		t.Errorf("log runs from %s to %s", recs[0].Type, recs[len(recs)-1].Type)
	}
	e := find("bookkeeper's session start", func(e audit.Entry) bool { return e.Type == audit.TypeSessionStart && e.Role == "bookkeeper" })
	if e.ApplicationName != "audit-test" || e.Database != "postgres" || !strings.HasPrefix(e.Client, "127.0.0.1:") {
		t.Errorf("session start: %+v", e)
	}
	e = find("the INSERT of the multi-statement query", stmt("bookkeeper", "INSERT INTO bk.contacts (id, company_id, name, id_no, mobile, address) VALUES ($1"))
	if e.Kind != "INSERT" || e.Rows != 1 || e.Protocol != "simple" || e.Decision != "allowed" || e.Fingerprint == "" ||
		strings.Join(e.Tables, ",") != "bk.contacts" || !strings.Contains(strings.Join(e.Classes, ","), "cn_id") {
		t.Errorf("INSERT record: %+v", e)
	}
	e = find("the SELECT of the multi-statement query", stmt("bookkeeper", "SELECT name, id_no FROM bk.contacts"))
	if e.Kind != "SELECT" || e.Rows != 1 || e.Bytes == 0 || strings.Join(e.Columns, ",") != "bk.contacts.id_no,bk.contacts.name" {
		t.Errorf("SELECT record: %+v", e)
	}
	e = find("the extended-protocol SELECT", stmt("bookkeeper", "SELECT name FROM bk.contacts WHERE address = $1"))
	if e.Protocol != "extended" || e.Rows != 1 {
		t.Errorf("extended SELECT record: %+v", e)
	}
	for _, prefix := range []string{"UPDATE bk.contacts SET email = $1", "SELECT count(*) FROM bk.contacts WHERE email = $1", "SELECT id_no FROM bk.contacts"} {
		e = find("the batch's "+prefix, stmt("bookkeeper", prefix))
		if e.Protocol != "extended" || e.Decision != "allowed" {
			t.Errorf("batch record: %+v", e)
		}
	}
	e = find("COPY FROM STDIN", func(e audit.Entry) bool {
		return e.Kind == "COPY" && strings.Contains(strings.ToUpper(e.SQL), "FROM STDIN")
	})
	if e.Rows != 2 {
		t.Errorf("COPY FROM record: %+v", e)
	}
	e = find("COPY TO STDOUT", func(e audit.Entry) bool { return e.Kind == "COPY" && strings.Contains(e.SQL, "TO STDOUT") })
	if e.Rows != 3 || e.Bytes == 0 {
		t.Errorf("COPY TO record: %+v", e)
	}
	e = find("the failed statement", func(e audit.Entry) bool { return e.Decision == "failed" && e.SQLState == "22012" })
	if e.SQL != "SELECT $1/$2" {
		t.Errorf("failed record: %+v", e)
	}
	e = find("the unparseable statement", func(e audit.Entry) bool { return e.SQLHash != "" && e.SQLState == "42601" })
	if e.Decision != "failed" || e.SQLState != "42601" || e.SQL != "? ?" {
		t.Errorf("unparseable record: %+v", e)
	}
	// Option values can be written as names: such statements keep only
	// their keywords.
	e = find("ALTER ROLE", stmt("postgres", "ALTER ROLE ? PASSWORD ?"))
	if e.Kind != "ALTER ROLE" || e.SQLHash == "" {
		t.Errorf("ALTER ROLE record: %+v", e)
	}
	e = find("the analyst's masked SELECT", stmt("analyst", "SELECT name, id_no FROM bk.contacts"))
	if e.Decision != "masked" || strings.Join(e.Masks, ",") != "person_name:cn_name,cn_id:cn_id" || e.EffectiveRole != "analyst" {
		t.Errorf("masked record: %+v", e)
	}
	e = find("the analyst's tokenized SELECT", stmt("analyst", "SELECT mobile FROM bk.contacts WHERE id = $1"))
	if e.Decision != "tokenized" || strings.Join(e.Masks, ",") != "cn_mobile:tokenize" || strings.Join(e.Columns, ",") != "bk.contacts.mobile" {
		t.Errorf("tokenized record: %+v", e)
	}
	e = find("the analyst's refused SELECT", stmt("analyst", "SELECT address FROM bk.contacts WHERE address = $1"))
	if e.Decision != "refused" || e.SQLState != "42501" || !strings.Contains(e.Reason, "address") {
		t.Errorf("refused record: %+v", e)
	}
	e = find("the failed login", func(e audit.Entry) bool { return e.Type == audit.TypeLoginFailed })
	if e.Role != "analyst" || e.SQLState != "28P01" {
		t.Errorf("login failed record: %+v", e)
	}
	starts, ends := 0, 0
	for _, e := range recs {
		switch e.Type {
		case audit.TypeSessionStart:
			starts++
		case audit.TypeSessionEnd:
			ends++
		}
	}
	if starts != 3 || ends != 3 {
		t.Errorf("%d session starts, %d ends", starts, ends)
	}

	if code, out, _ := runCmd("audit", "verify", filepath.Join(dir, "audit.log")); code != 0 ||
		!strings.Contains(out, "OK: "+strconv.Itoa(len(recs))+" records verified") {
		t.Errorf("verify: %d %s", code, out)
	}

	// The compliance report.
	code, out, errOut := runCmd("audit", "report", filepath.Join(dir, "audit.log"))
	if code != 0 {
		t.Fatalf("report: %s", errOut)
	}
	for _, want := range []string{
		"Hash chain: intact (" + strconv.Itoa(len(recs)) + " records verified)",
		"| analyst | 1 | 1 | 1 | 1 | 0 | 4 |", // allowed masked tokenized refused failed total
		"| 1 | pgmantle: class address (bk.contacts.address) is denied to role \"analyst\" |",
		"| analyst | 1 |", // failed logins
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = runCmd("audit", "report", "--html", filepath.Join(dir, "audit.log"))
	if code != 0 || !strings.Contains(out, "<svg") || strings.Contains(out, "<script") || !strings.Contains(out, "tokenized") {
		t.Errorf("HTML report (%d): %.300s", code, out)
	}
	if code, out, _ = runCmd("audit", "report", "--since", "2999-01-01", filepath.Join(dir, "audit.log")); code != 0 ||
		!strings.Contains(out, "no statements in the period") {
		t.Errorf("report of an empty period (%d): %s", code, out)
	}

	// No seeded value in any file pgmantle wrote.
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	for _, f := range files {
		if strings.HasSuffix(f, ".yaml") || strings.HasSuffix(f, ".json") {
			continue
		}
		data, _ := os.ReadFile(f)
		for what, v := range seeds {
			if strings.Contains(string(data), v) {
				t.Errorf("%s holds the %s value", filepath.Base(f), what)
			}
		}
		if m := regexp.MustCompile(`(^|[^0-9a-f])(1[3-9]\d{9}|\d{17}[\dX])($|[^0-9a-f])`).Find(data); m != nil {
			t.Errorf("%s holds a value shaped like personal data: %s", filepath.Base(f), m)
		}
	}
}
