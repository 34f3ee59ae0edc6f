package resultmask_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/pgmantle/pgmantle/examples/bookkeeping"
	"github.com/pgmantle/pgmantle/internal/analysiscases"
	"github.com/pgmantle/pgmantle/internal/pgtest"
	"github.com/pgmantle/pgmantle/policy"
)

// analysisProxy loads the analysis cases' schema and seeded data into a
// fresh database and starts pgmantle in front of it with their policy; it
// returns the policy file (for tests that change it) and its store.
func analysisProxy(t testing.TB) (addr, db, policyFile string, store *policy.Store) {
	t.Helper()
	db = newDatabase(t, bookkeeping.Schema, analysiscases.Schema, analysiscases.Data)
	policyFile = filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(policyFile, []byte(analysiscases.Policy), 0o600); err != nil {
		t.Fatal(err)
	}
	addr, store = startProxy(t, db, policyFile)
	return addr, db, policyFile, store
}

// mode is how a case's statement is sent.
type mode struct {
	name   string
	simple bool
	format int16 // extended protocol: result format
}

var modes = []mode{{name: "simple", simple: true}, {name: "extended-text"}, {name: "extended-binary", format: 1}}

// TestAnalysisCasesEndToEnd runs the whole case table through pgmantle
// against the real cluster, in simple, extended-text and extended-binary
// modes: allowed statements succeed, refused ones get 42501 and leave the
// session usable, and nothing the client receives — rows, COPY data,
// errors, notices, notifications, parameter statuses — holds a seeded
// value of a class the role may not see.
func TestAnalysisCasesEndToEnd(t *testing.T) {
	addr, db, _, _ := analysisProxy(t)
	runs := 0
	for n, c := range analysiscases.Cases {
		for _, m := range modes {
			if !runnable(c, m) {
				continue
			}
			runs++
			t.Run(fmt.Sprintf("%03d_%s_%s", n, c.Channel, m.name), func(t *testing.T) {
				runCase(t, addr, db, c, m)
			})
		}
	}
	t.Logf("%d runs of %d cases", runs, len(analysiscases.Cases))

	// Nothing refused ran: no table was created and no protected value
	// was copied anywhere.
	conn := pgtest.Connect(t, pgtest.Cluster(t).DSN("postgres", "", db))
	var created int
	if err := conn.QueryRow(pgtest.Context(t), `SELECT count(*) FROM pg_class WHERE relname IN ('ids', 'v', 'f', 'mv')`).Scan(&created); err != nil || created != 0 {
		t.Fatalf("refused DDL ran: %d objects, %v", created, err)
	}
	var dump string
	if err := conn.QueryRow(pgtest.Context(t), `SELECT coalesce(string_agg(s::text, ' '), '') FROM staging.contacts s`).Scan(&dump); err != nil {
		t.Fatal(err)
	}
	if v, class := findSecret([]byte(dump), nil); v != "" {
		t.Fatalf("a %s value was copied into staging.contacts", class)
	}
}

// runnable reports whether a case can be sent in a mode: parameters need
// the extended protocol, several statements or COPY the simple one.
func runnable(c analysiscases.Case, m mode) bool {
	if m.simple {
		return len(c.Params) == 0
	}
	stmts, err := pg_query.SplitWithParser(c.SQL, true)
	return err == nil && len(stmts) == 1 && !strings.HasPrefix(strings.ToUpper(strings.TrimSpace(c.SQL)), "COPY")
}

func runCase(t *testing.T, addr, db string, c analysiscases.Case, m mode) {
	ctx := pgtest.Context(t)
	cfg, err := pgconn.ParseConfig(fmt.Sprintf("postgres://%s:%s@%s/%s?sslmode=disable", c.Role, password, addr, db))
	if err != nil {
		t.Fatal(err)
	}
	var received bytes.Buffer
	cfg.OnNotice = func(_ *pgconn.PgConn, n *pgconn.Notice) {
		fmt.Fprintf(&received, "%s %s %s %s\n", n.Message, n.Detail, n.Hint, n.Where)
	}
	cfg.OnNotification = func(_ *pgconn.PgConn, n *pgconn.Notification) {
		fmt.Fprintf(&received, "%s %s\n", n.Channel, n.Payload)
	}
	conn, err := pgconn.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	for _, s := range c.Setup {
		if _, err := conn.Exec(ctx, s).ReadAll(); err != nil {
			t.Fatalf("setup %q: %v", s, err)
		}
	}
	err = send(ctx, conn, c, m, &received)
	for _, p := range []string{"application_name", "client_encoding", "DateStyle", "IntervalStyle", "TimeZone",
		"session_authorization", "is_superuser", "standard_conforming_strings"} {
		received.WriteString(conn.ParameterStatus(p) + "\n")
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		fmt.Fprintf(&received, "%s %s %s %s\n", pe.Message, pe.Detail, pe.Hint, pe.Where)
	}
	if v, class := findSecret(received.Bytes(), analysiscases.Clear[c.Role]); v != "" {
		t.Fatalf("%s\nthe client received a %s value", c.SQL, class)
	}
	// The engine has keys, so search by token (Detok cases) is served.
	if c.Allow {
		if err != nil {
			t.Fatalf("%s\nwant allowed, got %v", c.SQL, err)
		}
		return
	}
	if pe == nil || pe.Code != "42501" || !strings.HasPrefix(pe.Message, "pgmantle: ") {
		t.Fatalf("%s\nwant a 42501 refusal from pgmantle, got %v", c.SQL, err)
	}
	// The session goes on.
	if _, err := conn.Exec(ctx, "ROLLBACK").ReadAll(); err != nil {
		t.Fatalf("after the refusal: %v", err)
	}
	res, err := conn.Exec(ctx, "SELECT 'alive'").ReadAll()
	if err != nil || len(res) != 1 || len(res[0].Rows) != 1 || string(res[0].Rows[0][0]) != "alive" {
		t.Fatalf("session after the refusal: %v", err)
	}
}

// send runs the case's statement and appends every value received.
func send(ctx context.Context, conn *pgconn.PgConn, c analysiscases.Case, m mode, out *bytes.Buffer) error {
	if m.simple && strings.HasPrefix(strings.ToUpper(strings.TrimSpace(c.SQL)), "COPY") {
		_, err := conn.CopyTo(ctx, out, c.SQL)
		return err
	}
	if m.simple {
		res, err := conn.Exec(ctx, c.SQL).ReadAll()
		for _, r := range res {
			appendRows(out, r.Rows)
		}
		return err
	}
	params := make([][]byte, len(c.Params))
	for i, p := range c.Params {
		params[i] = []byte(p)
	}
	r := conn.ExecParams(ctx, c.SQL, params, nil, nil, []int16{m.format}).Read()
	appendRows(out, r.Rows)
	return r.Err
}

func appendRows(out *bytes.Buffer, rows [][][]byte) {
	for _, row := range rows {
		for _, v := range row {
			out.Write(v)
			out.WriteByte('|')
		}
		out.WriteByte('\n')
	}
}

// findSecret returns a seeded value (and its class) found in b, ignoring
// the classes in clear.
func findSecret(b []byte, clear []string) (string, string) {
	for class, vals := range analysiscases.Secrets {
		skip := false
		for _, c := range clear {
			skip = skip || c == class
		}
		if skip {
			continue
		}
		for _, v := range vals {
			if bytes.Contains(b, []byte(v)) {
				return v, class
			}
		}
	}
	return "", ""
}

// TestStartupParameters: startup parameters that change who the session
// is are refused; a search_path set at startup is the one names resolve in.
func TestStartupParameters(t *testing.T) {
	addr, db, _, _ := analysisProxy(t)
	ctx := pgtest.Context(t)
	connect := func(user string, params map[string]string) (*pgconn.PgConn, error) {
		cfg, err := pgconn.ParseConfig(fmt.Sprintf("postgres://%s:%s@%s/%s?sslmode=disable", user, password, addr, db))
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range params {
			cfg.RuntimeParams[k] = v
		}
		return pgconn.ConnectConfig(ctx, cfg)
	}
	for _, params := range []map[string]string{{"role": "analyst"}, {"options": "-c role=analyst"},
		{"options": "-c enable_hashagg=off"}, {"enable_sort": "off", "options": "-c enable_hashagg=off -c enable_seqscan=on"}} {
		conn, err := connect("zhang", params)
		var pe *pgconn.PgError
		if err == nil {
			_, err = conn.Exec(ctx, "SELECT 1").ReadAll()
			conn.Close(ctx)
		}
		if !errors.As(err, &pe) || pe.Code != "42501" {
			t.Errorf("zhang with %v: %v, want a 42501 refusal", params, err)
		}
	}
	// Switching a planner method on is harmless (nothing forces sorting).
	if c, err := connect("analyst", map[string]string{"options": "-c enable_seqscan=on"}); err != nil {
		t.Fatalf("enable_seqscan=on at startup: %v", err)
	} else if _, err := c.Exec(ctx, "SELECT 1").ReadAll(); err != nil {
		t.Fatalf("enable_seqscan=on at startup: %v", err)
	} else {
		c.Close(ctx)
	}
	conn, err := connect("analyst", map[string]string{"options": "-c search_path=staging"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	// staging.contacts is clean: a predicate on its id_no is allowed.
	res, err := conn.Exec(ctx, "SELECT id_no FROM contacts WHERE id_no LIKE 'ID%'").ReadAll()
	if err != nil || len(res[0].Rows) != 1 || string(res[0].Rows[0][0]) != "ID-1" {
		t.Fatalf("search_path from startup options: %v", err)
	}
	// bk.contacts is not on that path: the name does not resolve there.
	if _, err := conn.Exec(ctx, "SELECT id_no FROM bk.contacts WHERE id_no LIKE '31%'").ReadAll(); err == nil {
		t.Fatal("predicate on bk.contacts.id_no allowed")
	}
}
