package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/pgmantle/pgmantle/audit"
	"github.com/pgmantle/pgmantle/internal/config"
	"github.com/pgmantle/pgmantle/internal/pgtest"
)

// TestAuditDiskFullFailsClosed puts the audit log on a tiny tmpfs and
// fills it: statements are refused with 57P05 (never served unaudited),
// /readyz and the metrics say so, and once space returns statements run
// again and the chain is intact, the refusals recorded in it.
func TestAuditDiskFullFailsClosed(t *testing.T) {
	c := pgtest.Cluster(t)
	setupAuditDB(t, c)
	ctx := pgtest.Context(t)
	dir := t.TempDir()
	logDir := filepath.Join(dir, "audit")
	os.Mkdir(logDir, 0o700)
	if err := syscall.Mount("tmpfs", logDir, "tmpfs", 0, "size=256k"); err != nil {
		t.Skipf("cannot mount a tmpfs here: %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(logDir, syscall.MNT_DETACH) })
	auditFile := filepath.Join(logDir, "audit.log")
	s := startAuditServer(t, c, dir, func(o *overrides) { o.auditFile = auditFile })

	conn := s.connect(t, "bookkeeper", "pw")
	if _, err := conn.Exec(ctx, "SELECT 1"); err != nil {
		t.Fatal(err)
	}
	if code := httpStatus(t, "http://"+s.admin+"/readyz"); code != http.StatusOK {
		t.Fatalf("readyz = %d before the disk filled", code)
	}

	// Fill the file system.
	filler := filepath.Join(logDir, "filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(make([]byte, 512<<10)) // more than fits: the rest is refused
	f.Close()

	var refused *pgconn.PgError
	deadline := time.Now().Add(10 * time.Second)
	for refused == nil {
		if time.Now().After(deadline) {
			t.Fatal("statements were still served with the audit log's disk full")
		}
		if _, err := conn.Exec(ctx, "SELECT 1"); err != nil && !errors.As(err, &refused) {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if refused.Code != "57P05" || !strings.Contains(refused.Message, "audit log cannot be written") {
		t.Fatalf("refusal: %s %s", refused.Code, refused.Message)
	}
	// The extended protocol is refused too, and the session goes on.
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM bk.contacts WHERE id = $1", 1).Scan(&n); err == nil {
		t.Fatal("an extended-protocol statement was served while the audit log was full")
	}
	if code := httpStatus(t, "http://"+s.admin+"/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("readyz = %d while the audit log cannot be written", code)
	}
	if v := s.metric(t, "pgmantle_audit_failing"); v != 1 {
		t.Errorf("pgmantle_audit_failing = %v", v)
	}
	if v := s.metric(t, `pgmantle_refusals_total{reason="audit"}`); v < 2 {
		t.Errorf("audit refusals metric = %v", v)
	}

	// Space returns: statements run again, with no reconnect.
	os.Remove(filler)
	deadline = time.Now().Add(10 * time.Second)
	for {
		if _, err := conn.Exec(ctx, "SELECT 2"); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("statements stayed refused after space returned")
		}
		time.Sleep(20 * time.Millisecond)
	}
	conn.Close(context.Background())
	s.stop()

	sum, err := audit.Verify([]string{auditFile}, false)
	if err != nil {
		t.Fatalf("chain after the outage: %v", err)
	}
	auditRefusals := 0
	for _, e := range readAudit(t, auditFile) {
		if e.Decision == audit.DecisionRefused && strings.Contains(e.Reason, "audit log") {
			auditRefusals++
		}
	}
	if auditRefusals < 2 {
		t.Errorf("%d refusals for the audit log recorded (of %d records)", auditRefusals, sum.Records)
	}
}

func httpStatus(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestAuditPostgresSink writes the audit log to a table, restarts
// pgmantle (the chain continues from the table's last record), verifies
// the chain from the table, and catches an edited row.
func TestAuditPostgresSink(t *testing.T) {
	c := pgtest.Cluster(t)
	setupAuditDB(t, c)
	ctx := pgtest.Context(t)
	c.Exec(ctx, "DROP TABLE IF EXISTS audit_log")
	dsn := c.DSN("postgres", "", "postgres")
	toTable := func(cfg *config.Config) {
		cfg.Audit.Sink, cfg.Audit.File = config.AuditSinkPostgres, ""
		cfg.Audit.Postgres = config.AuditPostgres{DSN: dsn, Table: "public.audit_log"}
	}
	for run := 0; run < 2; run++ {
		s := startAuditServer(t, c, t.TempDir(), nil, toTable)
		conn := s.connect(t, "bookkeeper", "pw")
		for i := 0; i < 3; i++ {
			if _, err := conn.Exec(ctx, "SELECT count(*) FROM bk.contacts WHERE id = $1", i); err != nil {
				t.Fatal(err)
			}
		}
		conn.Close(ctx)
		if run == 1 {
			// While pgmantle writes the table, it verifies without a close
			// record.
			code, out, errOut := runCmd("audit", "verify", "--dsn", dsn, "--table", "public.audit_log")
			if code != 0 || !strings.Contains(out, "pgmantle is writing this log") {
				t.Errorf("verify of the live table (%d): %s %s", code, out, errOut)
			}
		}
		s.stop()
	}
	code, out, errOut := runCmd("audit", "verify", "--dsn", dsn, "--table", "public.audit_log")
	if code != 0 || !strings.Contains(out, "OK: 14 records verified") || !strings.Contains(out, "1 restarts continue the chain") {
		t.Fatalf("verify (%d): %s %s", code, out, errOut)
	}
	var statements int
	conn := pgtest.Connect(t, dsn)
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM audit_log WHERE type = 'statement' AND role = 'bookkeeper' AND decision = 'allowed'").Scan(&statements); err != nil || statements != 6 {
		t.Fatalf("%d statement rows, %v", statements, err)
	}
	if _, err := conn.Exec(ctx, `UPDATE audit_log SET line = replace(line, '"rows":1', '"rows":0') WHERE seq = 4`); err != nil {
		t.Fatal(err)
	}
	code, out, _ = runCmd("audit", "verify", "--dsn", dsn, "--table", "public.audit_log")
	if code != 1 || !strings.Contains(out, "BROKEN: table public.audit_log") || !strings.Contains(out, "record 4") {
		t.Fatalf("verify of an edited table (%d): %s", code, out)
	}
}

// TestAuditFunctionCall: a FunctionCall message is a statement too.
func TestAuditFunctionCall(t *testing.T) {
	c := pgtest.Cluster(t)
	setupAuditDB(t, c)
	dir := t.TempDir()
	s := startAuditServer(t, c, dir, nil)
	conn, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fe := pgproto3.NewFrontend(conn, conn)
	fe.Send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30,
		Parameters: map[string]string{"user": "postgres", "database": "postgres"}})
	if err := fe.Flush(); err != nil {
		t.Fatal(err)
	}
	for {
		m, err := fe.Receive()
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := m.(*pgproto3.ReadyForQuery); ok {
			break
		}
	}
	fe.Send(&pgproto3.FunctionCall{Function: 177, ArgFormatCodes: []uint16{0}, // int4pl
		Arguments: [][]byte{[]byte("40"), []byte("2")}, ResultFormatCode: 0})
	if err := fe.Flush(); err != nil {
		t.Fatal(err)
	}
	var result string
	for done := false; !done; {
		m, err := fe.Receive()
		if err != nil {
			t.Fatal(err)
		}
		switch m := m.(type) {
		case *pgproto3.FunctionCallResponse:
			result = string(m.Result)
		case *pgproto3.ErrorResponse:
			t.Fatalf("%s: %s", m.Code, m.Message)
		case *pgproto3.ReadyForQuery:
			done = true
		}
	}
	fe.Send(&pgproto3.Terminate{})
	fe.Flush()
	if result != "42" {
		t.Fatalf("int4pl(40, 2) = %q", result)
	}
	s.stop()
	for _, e := range readAudit(t, filepath.Join(dir, "audit.log")) {
		if e.Type == audit.TypeStatement {
			if e.Kind != "FUNCTION CALL" || e.Protocol != "function" || e.Decision != "allowed" || e.Role != "postgres" {
				t.Fatalf("FunctionCall record: %+v", e)
			}
			return
		}
	}
	t.Fatal("no record of the FunctionCall")
}

// TestAuditHMAC: with audit.hmac the chain is keyed from the key source;
// verify needs the keys, and with them it passes.
func TestAuditHMAC(t *testing.T) {
	c := pgtest.Cluster(t)
	setupAuditDB(t, c)
	ctx := pgtest.Context(t)
	dir := t.TempDir()
	s := startAuditServer(t, c, dir, nil, func(cfg *config.Config) { cfg.Audit.HMAC = true })
	conn := s.connect(t, "bookkeeper", "pw")
	if _, err := conn.Exec(ctx, "SELECT 1"); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)
	s.stop()
	logFile, keyFile := filepath.Join(dir, "audit.log"), filepath.Join(dir, "keys.json")
	if code, out, _ := runCmd("audit", "verify", logFile); code != 1 || !strings.Contains(out, "give the keys") {
		t.Fatalf("verify without keys (%d): %s", code, out)
	}
	if code, out, errOut := runCmd("audit", "verify", "--keys-file", keyFile, "--require-hmac", logFile); code != 0 ||
		!strings.Contains(out, "1 runs chained with HMAC-SHA256") {
		t.Fatalf("verify with keys (%d): %s %s", code, out, errOut)
	}
	// --head: a chain head past the log's end is records removed; a
	// malformed one is a usage error.
	if code, out, errOut := runCmd("audit", "verify", "--keys-file", keyFile, "--head", "999999:"+strings.Repeat("ab", 32), logFile); code != 1 ||
		!strings.Contains(out, "records were removed from its end") {
		t.Fatalf("verify with a head past the end (%d): %s %s", code, out, errOut)
	}
	if code, _, errOut := runCmd("audit", "verify", "--head", "12", logFile); code != 2 || !strings.Contains(errOut, "SEQ:HASH") {
		t.Fatalf("verify with a malformed head (%d): %s", code, errOut)
	}
	other := filepath.Join(t.TempDir(), "other.json")
	runCmd("keys", "init", other)
	if code, out, _ := runCmd("audit", "verify", "--keys-file", other, logFile); code != 1 || !strings.Contains(out, "BROKEN") {
		t.Fatalf("verify with other keys (%d): %s", code, out)
	}
}

// TestAuditRefusedMultiStatement: a simple Query pgmantle refuses as a
// whole is recorded whole (normalized), once.
func TestAuditRefusedMultiStatement(t *testing.T) {
	c := pgtest.Cluster(t)
	setupAuditDB(t, c)
	ctx := pgtest.Context(t)
	dir := t.TempDir()
	s := startAuditServer(t, c, dir, nil)
	an := s.connect(t, "analyst", "pw")
	if _, err := an.PgConn().Exec(ctx, "SELECT 1; SELECT address FROM bk.contacts WHERE id = 7").ReadAll(); err == nil {
		t.Fatal("the denied column was read")
	}
	an.Close(ctx)
	s.stop()
	n := 0
	for _, e := range readAudit(t, filepath.Join(dir, "audit.log")) {
		if e.Decision == audit.DecisionRefused {
			n++
			if e.SQL != "SELECT $1; SELECT address FROM bk.contacts WHERE id = $2" || strings.Join(e.Tables, ",") != "bk.contacts" {
				t.Errorf("refused record: %+v", e)
			}
		}
	}
	if n != 1 {
		t.Errorf("%d refused records", n)
	}
}
