package resultmask_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/pgmantle/pgmantle/catalog"
	"github.com/pgmantle/pgmantle/examples/bookkeeping"
	"github.com/pgmantle/pgmantle/internal/pgcluster"
	"github.com/pgmantle/pgmantle/internal/pgtest"
	"github.com/pgmantle/pgmantle/masking"
	"github.com/pgmantle/pgmantle/policy"
	"github.com/pgmantle/pgmantle/proxy"
	"github.com/pgmantle/pgmantle/proxy/resultmask"
)

func TestMain(m *testing.M) { pgtest.Main(m, pgcluster.Options{}) }

const password = "s3cret"

// setup loads the bookkeeping example into a fresh database and starts a
// proxy with the example policy in front of it.
func setup(t *testing.T) (proxyAddr string, db string) {
	t.Helper()
	addr, db, _ := setupWithPolicy(t, "../../examples/bookkeeping/policy.yaml")
	return addr, db
}

// setupWithPolicy is setup with a policy file of the caller's; it also
// returns the policy store.
func setupWithPolicy(t *testing.T, policyFile string) (proxyAddr string, db string, store *policy.Store) {
	t.Helper()
	data, err := os.ReadFile("testdata/data.sql")
	if err != nil {
		t.Fatal(err)
	}
	db = newDatabase(t, bookkeeping.Schema, string(data),
		`CREATE FUNCTION bk.contacts_of(int) RETURNS SETOF bk.contacts LANGUAGE sql AS 'SELECT * FROM bk.contacts WHERE company_id = $1';
		GRANT USAGE ON SCHEMA bk TO PUBLIC; GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA bk TO PUBLIC`)
	addr, store := startProxy(t, db, policyFile)
	return addr, db, store
}

// newDatabase creates a database named after the test, with the example's
// roles (and zhang, a member of analyst, and stranger), and runs sqls in
// it as the superuser.
func newDatabase(t testing.TB, sqls ...string) string {
	t.Helper()
	c := pgtest.Cluster(t)
	ctx := pgtest.Context(t)
	db := "bk_" + strings.ToLower(strings.NewReplacer("/", "_", "#", "_").Replace(t.Name()))
	c.Exec(ctx, "DROP DATABASE IF EXISTS "+db+" WITH (FORCE)")
	if err := c.Exec(ctx, "CREATE DATABASE "+db); err != nil {
		t.Fatal(err)
	}
	for _, r := range append(bookkeeping.Roles, "zhang", "stranger") {
		c.CreateRole(ctx, r, password, pgcluster.AuthSCRAM) // may exist from another test
	}
	c.Exec(ctx, "GRANT analyst TO zhang")
	conn := pgtest.Connect(t, c.DSN("postgres", "", db))
	for _, sql := range sqls {
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

// startProxy starts pgmantle with the policy file in front of db.
func startProxy(t testing.TB, db, policyFile string) (addr string, store *policy.Store) {
	t.Helper()
	return startProxyWith(t, db, policyFile, nil)
}

// startProxyWith is startProxy with a hook that adjusts the engine (its
// key manager) and the server before the proxy starts.
func startProxyWith(t testing.TB, db, policyFile string, configure func(*resultmask.Engine, *proxy.Server)) (addr string, store *policy.Store) {
	t.Helper()
	c := pgtest.Cluster(t)
	ctx := pgtest.Context(t)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	var srvp atomic.Pointer[proxy.Server]
	mgr := &catalog.Manager{DSN: c.DSN("postgres", "", db), Interval: time.Hour, Logger: logger,
		OnChange: func(string) {
			if s := srvp.Load(); s != nil {
				s.Reevaluate()
			}
		}}
	t.Cleanup(mgr.Close)
	store, err := policy.Open(policyFile, func(p *policy.Policy) error {
		snap, err := mgr.Get(ctx, db)
		if err != nil {
			return err
		}
		return p.Check(snap)
	}, logger)
	if err != nil {
		t.Fatal(err)
	}
	engine := &resultmask.Engine{Catalog: mgr, Policy: store, Keys: masking.NewStaticKeys([]byte("0123456789abcdef0123456789abcdef"), nil), Logger: logger}
	srv := &proxy.Server{UpstreamAddr: c.Addr(), Logger: logger}
	if configure != nil {
		configure(engine, srv)
	}
	srv.Intercept = engine.Intercept
	if srv.UpstreamParams == nil {
		srv.UpstreamParams = engine.UpstreamParams
	}
	store.OnChange = func(*policy.Policy) { srv.Reevaluate() }
	srvp.Store(srv)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	})
	return l.Addr().String(), store
}

func connectAs(t *testing.T, addr, db, user string, mode pgx.QueryExecMode) *pgx.Conn {
	t.Helper()
	cfg, err := pgx.ParseConfig("postgres://" + user + ":" + password + "@" + addr + "/" + db + "?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	cfg.DefaultQueryExecMode = mode
	conn, err := pgx.ConnectConfig(pgtest.Context(t), cfg)
	if err != nil {
		t.Fatalf("connect as %s: %v", user, err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// textRows runs sql over the simple protocol and returns the text values
// ("NULL" for NULL).
func textRows(t *testing.T, conn *pgx.Conn, sql string) [][]string {
	t.Helper()
	res, err := conn.PgConn().Exec(pgtest.Context(t), sql).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return toStrings(res[len(res)-1].Rows)
}

func toStrings(rows [][][]byte) [][]string {
	out := make([][]string, len(rows))
	for i, r := range rows {
		out[i] = make([]string, len(r))
		for j, v := range r {
			if v == nil {
				out[i][j] = "NULL"
			} else {
				out[i][j] = string(v)
			}
		}
	}
	return out
}

// valueRows runs sql over the extended protocol with binary results where
// pgx prefers them and renders each value with pgx's decoders.
func valueRows(t *testing.T, conn *pgx.Conn, sql string) [][]string {
	t.Helper()
	rs, err := conn.Query(pgtest.Context(t), sql)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	var out [][]string
	for rs.Next() {
		vals, err := rs.Values()
		if err != nil {
			t.Fatal(err)
		}
		row := make([]string, len(vals))
		for i, v := range vals {
			row[i] = render(v)
		}
		out = append(out, row)
	}
	if err := rs.Err(); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return out
}

func render(v any) string {
	switch v := v.(type) {
	case nil:
		return "NULL"
	case time.Time:
		return v.UTC().Format("2006-01-02")
	case pgtype.Numeric:
		f, _ := v.Float64Value()
		return strconv.FormatFloat(f.Float64, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

const contactsSQL = "SELECT id, name, id_no, mobile, email, address, birthday FROM bk.contacts ORDER BY id"
const payrollSQL = "SELECT employee, id_no, amount, bonus FROM bk.payroll ORDER BY id"

func TestRolesSeeWhatThePolicySays(t *testing.T) {
	addr, db := setup(t)
	c := pgtest.Cluster(t)
	direct := pgtest.Connect(t, c.DSN("postgres", "", db))

	t.Run("bookkeeper is unrestricted and byte-identical", func(t *testing.T) {
		conn := connectAs(t, addr, db, "bookkeeper", pgx.QueryExecModeCacheStatement)
		for _, sql := range []string{contactsSQL, payrollSQL, "SELECT * FROM bk.contact_directory ORDER BY 1"} {
			if got, want := textRows(t, conn, sql), textRows(t, direct, sql); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("%s:\n got %v\nwant %v", sql, got, want)
			}
		}
	})

	for _, user := range []string{"analyst", "zhang"} { // zhang is a member of analyst
		t.Run(user+" sees masks", func(t *testing.T) {
			conn := connectAs(t, addr, db, user, pgx.QueryExecModeCacheStatement)
			got := textRows(t, conn, contactsSQL)
			want := [][]string{
				{"1", "张*", "310105********8032", "138****5678", "z***@163.com", "上海市浦东新区****", "1990-01-01"},
				{"2", "欧阳**", "110105********002X", "139****1234", "n***@example.cn", "上海市徐汇区****", "1949-01-01"},
				{"3", "李*", "NULL", "NULL", "NULL", "NULL", "NULL"},
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("contacts as %s:\n got %v\nwant %v", user, got, want)
			}
			got = textRows(t, conn, payrollSQL)
			want = [][]string{{"张*", "310105********8032", "19000.00", "3000"}, {"欧阳**", "110105********002X", "23000.00", "NULL"}}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("payroll as %s:\n got %v\nwant %v", user, got, want)
			}
			// The same in binary formats (pgx asks for binary numeric, date, int).
			bin := valueRows(t, conn, payrollSQL)
			if wantBin := [][]string{{"张*", "310105********8032", "19000", "3000"}, {"欧阳**", "110105********002X", "23000", "NULL"}}; fmt.Sprint(bin) != fmt.Sprint(wantBin) {
				t.Fatalf("payroll (binary) as %s:\n got %v\nwant %v", user, bin, wantBin)
			}
			bd := valueRows(t, conn, "SELECT birthday FROM bk.contacts WHERE id = 1")
			if bd[0][0] != "1990-01-01" {
				t.Fatalf("binary date: %v", bd)
			}
		})
	}

	t.Run("auditor inherits analyst with salary clear", func(t *testing.T) {
		conn := connectAs(t, addr, db, "auditor", pgx.QueryExecModeSimpleProtocol)
		got := textRows(t, conn, payrollSQL)
		want := [][]string{{"张*", "310105********8032", "18765.43", "2500"}, {"欧阳**", "110105********002X", "23456.78", "NULL"}}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("got %v\nwant %v", got, want)
		}
	})

	t.Run("intern sees names only", func(t *testing.T) {
		conn := connectAs(t, addr, db, "intern", pgx.QueryExecModeCacheStatement)
		if got := valueRows(t, conn, "SELECT id, name FROM bk.contacts ORDER BY id"); fmt.Sprint(got) != "[[1 张*] [2 欧阳**] [3 李*]]" {
			t.Fatalf("got %v", got)
		}
	})

	t.Run("pipelined batch", func(t *testing.T) {
		conn := connectAs(t, addr, db, "analyst", pgx.QueryExecModeCacheStatement)
		ctx := pgtest.Context(t)
		b := &pgx.Batch{}
		b.Queue("SELECT name FROM bk.contacts WHERE id = $1", 1)
		b.Queue("SELECT card_no FROM bk.bank_accounts WHERE id = $1", 1)
		b.Queue("SELECT amount FROM bk.payroll WHERE id = $1", 2)
		b.Queue("SELECT email FROM bk.contacts WHERE id = $1", 2)
		br := conn.SendBatch(ctx, b)
		var name, card, email string
		var amount pgtype.Numeric
		for i, dst := range []any{&name, &card, &amount, &email} {
			if err := br.QueryRow().Scan(dst); err != nil {
				t.Fatalf("query %d: %v", i, err)
			}
		}
		br.Close()
		f, _ := amount.Float64Value()
		if name != "张*" || card != "622202******7894" || f.Float64 != 23000 || email != "n***@example.cn" {
			t.Fatalf("batch gave %q %q %v %q", name, card, f.Float64, email)
		}
	})

	t.Run("views resolve to their base columns", func(t *testing.T) {
		conn := connectAs(t, addr, db, "analyst", pgx.QueryExecModeDescribeExec)
		got := valueRows(t, conn, "SELECT contact, phone, company FROM bk.contact_directory ORDER BY company")
		for _, r := range got {
			if strings.Contains(r[0], "伟") || strings.Contains(r[1], "5678") && strings.Contains(r[1], "1234") {
				t.Fatalf("view leaked: %v", r)
			}
		}
		if got[0][1] != "138****5678" && got[1][1] != "138****5678" {
			t.Fatalf("view phone not masked as the base column: %v", got)
		}
	})
}

// TestRefusals: what the result layer cannot make safe ends the session
// with 42501 and no row of it reaches the client.
func TestRefusals(t *testing.T) {
	addr, db := setup(t)
	for name, c := range map[string]struct{ user, sql string }{
		"denied class":                     {"intern", "SELECT card_no FROM bk.bank_accounts"},
		"default role":                     {"stranger", "SELECT name FROM bk.contacts"},
		"expression over protected":        {"analyst", "SELECT upper(email) FROM bk.contacts"},
		"cast of protected column":         {"analyst", "SELECT id_no::text || '' FROM bk.contacts"},
		"copy of a computed column":        {"analyst", "COPY (SELECT upper(name) FROM bk.contacts) TO STDOUT"},
		"copy of a denied class":           {"intern", "COPY bk.bank_accounts TO STDOUT"},
		"whole row of a protected table":   {"analyst", "SELECT c FROM bk.contacts c"},
		"expression through a quoted name": {"analyst", `SELECT length("contacts".name) FROM bk."contacts"`},
		"user-defined function":            {"analyst", "SELECT * FROM bk.contacts_of(1)"},
		"SQL in a string":                  {"analyst", "SELECT query_to_xml('select * from bk.con' || 'tacts', true, false, '')"},
	} {
		t.Run(name, func(t *testing.T) {
			conn := connectAs(t, addr, db, c.user, pgx.QueryExecModeSimpleProtocol)
			res, err := conn.PgConn().Exec(pgtest.Context(t), c.sql).ReadAll()
			var pe *pgconn.PgError
			if !errors.As(err, &pe) || pe.Code != "42501" {
				t.Fatalf("got %v (results %v), want 42501", err, res)
			}
			for _, r := range res {
				if len(r.Rows) > 0 {
					t.Fatalf("rows reached the client: %v", toStrings(r.Rows))
				}
			}
		})
	}
	t.Run("clean statements still work", func(t *testing.T) {
		conn := connectAs(t, addr, db, "analyst", pgx.QueryExecModeSimpleProtocol)
		if got := textRows(t, conn, "SELECT 1 + 1, now() IS NOT NULL"); got[0][0] != "2" {
			t.Fatalf("got %v", got)
		}
		// Plain column references to protected tables are masked, not refused.
		if got := textRows(t, conn, "SELECT c.id, c.name FROM bk.contacts c WHERE c.id = 1"); got[0][1] != "张*" {
			t.Fatalf("got %v", got)
		}
	})
}

// TestErrorDetailsScrubbed: a restricted role's write to a protected table
// is refused before it can raise a constraint error echoing a value; a data
// exception does not quote its input.
func TestErrorDetailsScrubbed(t *testing.T) {
	addr, db := setup(t)
	conn := connectAs(t, addr, db, "analyst", pgx.QueryExecModeSimpleProtocol)
	ctx := pgtest.Context(t)
	// A write to a protected table is refused before it runs.
	_, err := conn.Exec(ctx, "INSERT INTO bk.contacts (id, name, id_no) VALUES (1, 'x', '310105199003078032')")
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "42501" {
		t.Fatalf("got %v, want 42501", err)
	}
	conn = connectAs(t, addr, db, "analyst", pgx.QueryExecModeSimpleProtocol)
	_, err = conn.Exec(ctx, "SELECT '310105199003078032'::int")
	if !errors.As(err, &pe) || strings.Contains(pe.Message, "3101") {
		t.Fatalf("the data exception echoed its input: %v", err)
	}
}

// TestCopyMasked: COPY of a protected table by a restricted role comes out
// masked in text, CSV and binary formats, as the same rows would in a
// SELECT.
func TestCopyMasked(t *testing.T) {
	addr, db := setup(t)
	conn := connectAs(t, addr, db, "analyst", pgx.QueryExecModeSimpleProtocol)
	ctx := pgtest.Context(t)
	copyOut := func(sql string) string {
		var buf strings.Builder
		if _, err := conn.PgConn().CopyTo(ctx, &buf, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		return buf.String()
	}
	text := copyOut("COPY bk.contacts (id, name, id_no, mobile) TO STDOUT")
	if want := "1\t张*\t310105********8032\t138****5678\n2\t欧阳**\t110105********002X\t139****1234\n3\t李*\t\\N\t\\N\n"; text != want {
		t.Fatalf("text COPY:\n got %q\nwant %q", text, want)
	}
	csv := copyOut("COPY bk.payroll (employee, amount) TO STDOUT WITH (FORMAT csv, HEADER)")
	if want := "employee,amount\n张*,19000.00\n欧阳**,23000.00\n"; csv != want {
		t.Fatalf("CSV COPY:\n got %q\nwant %q", csv, want)
	}
	bin := copyOut("COPY bk.contacts TO STDOUT (FORMAT binary)")
	for _, secret := range []string{"310105199003078032", "13812345678", "张伟", "zhangwei"} {
		if strings.Contains(bin, secret) {
			t.Fatalf("binary COPY leaked %q", secret)
		}
	}
	if !strings.Contains(bin, "310105********8032") {
		t.Fatal("binary COPY does not hold the masked ID")
	}
	// COPY (query): the proxy describes the query first and masks by its
	// columns, through joins and views.
	q := copyOut(`COPY (SELECT c.name, co.name AS company, c.mobile FROM bk.contacts c
		JOIN bk.client_companies co ON co.id = c.company_id WHERE c.id = 1) TO STDOUT (FORMAT csv)`)
	if want := "张*,上海申江会计服务有限公司,138****5678\n"; q != want {
		t.Fatalf("COPY (query):\n got %q\nwant %q", q, want)
	}
	v := copyOut("COPY (SELECT contact, phone FROM bk.contact_directory ORDER BY company) TO STDOUT")
	if strings.Contains(v, "张伟") || strings.Contains(v, "13812345678") || !strings.Contains(v, "138****5678") {
		t.Fatalf("COPY of a view query not masked: %q", v)
	}
	// A query naming a column that does not exist: the analysis cannot
	// resolve it, so it is refused before PostgreSQL sees it.
	var pe *pgconn.PgError
	if _, err := conn.PgConn().CopyTo(ctx, io.Discard, "COPY (SELECT nosuch FROM bk.contacts) TO STDOUT"); !errors.As(err, &pe) || pe.Code != "42501" {
		t.Fatalf("COPY of a bad query: %v, want 42501", err)
	}
	// One PostgreSQL rejects: the client gets PostgreSQL's own error (from
	// its COPY; the proxy's Describe failed silently before it).
	if _, err := conn.PgConn().CopyTo(ctx, io.Discard, "COPY (SELECT 1/0 FROM bk.contacts) TO STDOUT"); !errors.As(err, &pe) || pe.Code != "22012" {
		t.Fatalf("COPY of a failing query: %v, want 22012", err)
	}
	// Inside a transaction block too.
	if _, err := conn.Exec(ctx, "BEGIN"); err != nil {
		t.Fatal(err)
	}
	if got := copyOut("COPY (SELECT name FROM bk.contacts WHERE id = 3) TO STDOUT"); got != "李*\n" {
		t.Fatalf("COPY (query) in a transaction: %q", got)
	}
	if _, err := conn.Exec(ctx, "COMMIT"); err != nil {
		t.Fatal(err)
	}
	// The session goes on normally afterwards (the proxy's own Parse,
	// Describe and Sync left no trace).
	if got := textRows(t, conn, "SELECT 1"); got[0][0] != "1" {
		t.Fatalf("after COPY (query): %v", got)
	}
}

// TestReturningAndCursors: a row another role wrote, and rows that come
// back from FETCH on a cursor, are masked like any SELECT.
func TestReturningAndCursors(t *testing.T) {
	addr, db := setup(t)
	conn := connectAs(t, addr, db, "analyst", pgx.QueryExecModeCacheStatement)
	ctx := pgtest.Context(t)
	// Writes naming protected tables are refused for restricted roles
	// (TestStateChannelsRefused), so RETURNING of protected columns cannot
	// reach them; the bookkeeper writes a row and the analyst reads it.
	book := connectAs(t, addr, db, "bookkeeper", pgx.QueryExecModeSimpleProtocol)
	if _, err := book.Exec(ctx, "INSERT INTO bk.contacts (id, name, id_no) VALUES (10, '司马光', '11010519491231002X')"); err != nil {
		t.Fatal(err)
	}
	var name, idNo string
	if err := conn.QueryRow(ctx, "SELECT name, id_no FROM bk.contacts WHERE id = $1", 10).Scan(&name, &idNo); err != nil {
		t.Fatal(err)
	}
	if name != "司马*" || idNo != "110105********002X" {
		t.Fatalf("got %q, %q", name, idNo)
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, "DECLARE cur CURSOR FOR SELECT name, mobile FROM bk.contacts ORDER BY id"); err != nil {
		t.Fatal(err)
	}
	got := [][]string{}
	for range 2 {
		rows := textRows(t, tx.Conn(), "FETCH 2 FROM cur")
		got = append(got, rows...)
	}
	if want := "[[张* 138****5678] [欧阳** 139****1234] [李* NULL] [司马* NULL]]"; fmt.Sprint(got) != want {
		t.Fatalf("FETCH gave %v, want %s", got, want)
	}
}

// TestPolicyReloadAppliesToOpenSessions: after a reload, the next result of
// an open restricted session follows the new policy.
func TestPolicyReloadAppliesToOpenSessions(t *testing.T) {
	orig, err := os.ReadFile("../../examples/bookkeeping/policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "policy.yaml")
	os.WriteFile(file, orig, 0o644)
	addr, db, store := setupWithPolicy(t, file)
	conn := connectAs(t, addr, db, "analyst", pgx.QueryExecModeSimpleProtocol)
	const sql = "SELECT amount FROM bk.payroll WHERE id = 1"
	if got := textRows(t, conn, sql)[0][0]; got != "19000.00" {
		t.Fatalf("before reload: %s", got)
	}
	changed := strings.Replace(string(orig), "salary:      {mask: round, to: 1000}", "salary:      clear", 1)
	if changed == string(orig) {
		t.Fatal("test policy edit did not apply")
	}
	os.WriteFile(file, []byte(changed), 0o644)
	if err := store.Reload(); err != nil {
		t.Fatal(err)
	}
	if got := textRows(t, conn, sql)[0][0]; got != "18765.43" {
		t.Fatalf("after reload: %s", got)
	}
	// An invalid edit is rejected; the current policy stays.
	os.WriteFile(file, []byte(changed+"\n  bogus: [\n"), 0o644)
	if err := store.Reload(); err == nil {
		t.Fatal("invalid policy accepted")
	}
	if got := textRows(t, conn, sql)[0][0]; got != "18765.43" {
		t.Fatalf("after a rejected reload: %s", got)
	}
}

// TestReloadRestrictingARole: a reload that makes an unrestricted role
// restricted ends its open sessions (57P01); a new session is masked.
func TestReloadRestrictingARole(t *testing.T) {
	orig, err := os.ReadFile("../../examples/bookkeeping/policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "policy.yaml")
	os.WriteFile(file, orig, 0o644)
	addr, db, store := setupWithPolicy(t, file)
	ctx := pgtest.Context(t)
	conn := connectAs(t, addr, db, "bookkeeper", pgx.QueryExecModeSimpleProtocol)
	const sql = "SELECT name FROM bk.contacts WHERE id = 1"
	if got := textRows(t, conn, sql)[0][0]; got != "张伟" {
		t.Fatalf("before reload: %s", got)
	}
	changed := strings.Replace(string(orig), "bookkeeper: {unrestricted: true}", "bookkeeper: {inherits: [analyst]}", 1)
	os.WriteFile(file, []byte(changed), 0o644)
	if err := store.Reload(); err != nil {
		t.Fatal(err)
	}
	_, err = conn.PgConn().Exec(ctx, sql).ReadAll()
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "57P01" {
		t.Fatalf("open unrestricted session after the reload: %v, want 57P01", err)
	}
	conn2 := connectAs(t, addr, db, "bookkeeper", pgx.QueryExecModeSimpleProtocol)
	if got := textRows(t, conn2, sql)[0][0]; got != "张*" {
		t.Fatalf("new session after the reload: %s", got)
	}
}
