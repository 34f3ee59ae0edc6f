package pgcluster_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgmantle/pgmantle/internal/certs"
	"github.com/pgmantle/pgmantle/internal/pgcluster"
	"github.com/pgmantle/pgmantle/internal/pgtest"
)

const guardHelperEnv = "PGCLUSTER_TEST_GUARD_HELPER"

func TestMain(m *testing.M) {
	if os.Getenv(guardHelperEnv) != "" {
		guardHelper()
		return
	}
	pgtest.Main(m, pgcluster.Options{TLS: true})
}

// guardHelper runs in a child test binary: it starts a cluster, reports
// its directory and postmaster pid, and waits to be killed.
func guardHelper() {
	c, err := pgcluster.Start(context.Background(), pgcluster.Options{})
	if err != nil {
		fmt.Println("ERROR", err)
		os.Exit(1)
	}
	pid, err := postmasterPID(c.Dir)
	if err != nil {
		fmt.Println("ERROR", err)
		os.Exit(1)
	}
	fmt.Println(c.Dir, pid)
	select {}
}

func postmasterPID(dir string) (int, error) {
	data, err := os.ReadFile(filepath.Join(dir, "data", "postmaster.pid"))
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.SplitN(string(data), "\n", 2)[0])
}

// TestGuardCleansUpAfterCrash kills a process owning a cluster with
// SIGKILL and expects the watchdog to stop the postmaster and remove Dir.
func TestGuardCleansUpAfterCrash(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), guardHelperEnv+"=1")
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("helper: %v", err)
	}
	var dir string
	var pid int
	if _, err := fmt.Sscan(line, &dir, &pid); err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("helper said %q: %v", line, err)
	}
	if !alive(pid) {
		t.Fatalf("postmaster %d not running while helper lives", pid)
	}
	cmd.Process.Kill()
	cmd.Wait()
	deadline := time.Now().Add(30 * time.Second)
	for alive(pid) || exists(dir) {
		if time.Now().After(deadline) {
			t.Fatalf("after SIGKILL of owner: postmaster alive=%v, dir %s exists=%v", alive(pid), dir, exists(dir))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func alive(pid int) bool {
	return syscall.Kill(pid, 0) == nil && !isZombie(pid)
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func TestSuperuserConnects(t *testing.T) {
	c := pgtest.Cluster(t)
	ctx := pgtest.Context(t)
	conn := pgtest.Connect(t, c.DSN("postgres", "", ""))
	var user, db string
	var super bool
	if err := conn.QueryRow(ctx, "SELECT current_user, current_database(), usesuper FROM pg_user WHERE usename = current_user").Scan(&user, &db, &super); err != nil {
		t.Fatal(err)
	}
	if user != "postgres" || db != "postgres" || !super {
		t.Fatalf("got user=%s db=%s super=%v", user, db, super)
	}
	var listen, port, sockets, maxConn, fsync string
	for name, dst := range map[string]*string{
		"listen_addresses": &listen, "port": &port, "unix_socket_directories": &sockets,
		"max_connections": &maxConn, "fsync": &fsync,
	} {
		if err := conn.QueryRow(ctx, "SELECT current_setting($1)", name).Scan(dst); err != nil {
			t.Fatal(err)
		}
	}
	if listen != "127.0.0.1" || port != strconv.Itoa(c.Port) || sockets != c.Dir || maxConn != "200" || fsync != "off" {
		t.Errorf("settings: listen=%s port=%s sockets=%s max_connections=%s fsync=%s", listen, port, sockets, maxConn, fsync)
	}
}

var seq atomic.Int64

// unique suffixes name so tests can run repeatedly (-count) against the
// package's one cluster.
func unique(name string) string {
	return name + "_" + strconv.FormatInt(seq.Add(1), 10)
}

func connectErr(t *testing.T, dsn string) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err == nil {
		conn.Close(ctx)
	}
	return err
}

func TestCreateRoleAuthMethods(t *testing.T) {
	c := pgtest.Cluster(t)
	ctx := pgtest.Context(t)
	admin := pgtest.Connect(t, c.DSN("postgres", "", ""))
	const password = `pa'ss\wörd 1`
	tests := []struct {
		role       string
		method     pgcluster.AuthMethod
		storedLike string // prefix of pg_authid.rolpassword
	}{
		{unique("role_trust"), pgcluster.AuthTrust, "SCRAM-SHA-256$"},
		{unique("role_password"), pgcluster.AuthPassword, "SCRAM-SHA-256$"},
		{unique("role_md5"), pgcluster.AuthMD5, "md5"},
		{unique("Role SCRAM's"), pgcluster.AuthSCRAM, "SCRAM-SHA-256$"},
	}
	for _, tc := range tests {
		t.Run(string(tc.method), func(t *testing.T) {
			if err := c.CreateRole(ctx, tc.role, password, tc.method, "CREATEDB"); err != nil {
				t.Fatal(err)
			}
			var stored string
			var login, createdb bool
			if err := admin.QueryRow(ctx, "SELECT rolpassword, rolcanlogin, rolcreatedb FROM pg_authid WHERE rolname = $1", tc.role).Scan(&stored, &login, &createdb); err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(stored, tc.storedLike) || !login || !createdb {
				t.Errorf("stored=%.14q… login=%v createdb=%v", stored, login, createdb)
			}
			var hbaMethod string
			if err := admin.QueryRow(ctx, "SELECT auth_method FROM pg_hba_file_rules WHERE $1 = ANY(user_name)", tc.role).Scan(&hbaMethod); err != nil {
				t.Fatalf("pg_hba.conf line for %s: %v", tc.role, err)
			}
			if hbaMethod != string(tc.method) {
				t.Errorf("pg_hba.conf method = %s, want %s", hbaMethod, tc.method)
			}

			conn := pgtest.Connect(t, c.DSN(tc.role, password, ""))
			var user string
			if err := conn.QueryRow(ctx, "SELECT current_user").Scan(&user); err != nil || user != tc.role {
				t.Fatalf("current_user = %q, %v", user, err)
			}

			err := connectErr(t, c.DSN(tc.role, "wrong", ""))
			if tc.method == pgcluster.AuthTrust {
				if err != nil {
					t.Fatalf("trust login with any password failed: %v", err)
				}
				return
			}
			var pgErr *pgconn.PgError
			if !errors.As(err, &pgErr) || pgErr.Code != "28P01" {
				t.Fatalf("wrong password: got %v, want SQLSTATE 28P01", err)
			}
		})
	}

	// The catch-all line still applies to roles without their own line.
	plain := unique("plain_role")
	if err := c.Exec(ctx, "CREATE ROLE "+plain+" LOGIN PASSWORD 'pw'"); err != nil {
		t.Fatal(err)
	}
	var pgErr *pgconn.PgError
	if err := connectErr(t, c.DSN(plain, "nope", "")); !errors.As(err, &pgErr) || pgErr.Code != "28P01" {
		t.Fatalf("catch-all scram line: got %v, want 28P01", err)
	}
	if err := connectErr(t, c.DSN(plain, "pw", "")); err != nil {
		t.Fatalf("catch-all scram line with right password: %v", err)
	}
}

func TestCreateRoleRejectsBadInput(t *testing.T) {
	c := pgtest.Cluster(t)
	ctx := pgtest.Context(t)
	if err := c.CreateRole(ctx, "x", "pw", "cert"); err == nil {
		t.Error("unsupported method accepted")
	}
	if err := c.CreateRole(ctx, `bad"name`, "pw", pgcluster.AuthSCRAM); err == nil {
		t.Error("role name with a double quote accepted")
	}
	if err := c.CreateRole(ctx, "y", "pw", pgcluster.AuthSCRAM, "SUPERUSER; DROP TABLE x"); err == nil {
		t.Error("attribute with SQL accepted")
	}
}

func TestTLSVerifyFull(t *testing.T) {
	c := pgtest.Cluster(t)
	ctx := pgtest.Context(t)
	if c.CAFile == "" {
		t.Fatal("CAFile not set for a TLS cluster")
	}
	dsn := "postgres://postgres@" + c.Addr() + "/postgres?sslmode=verify-full&sslrootcert=" + c.CAFile
	conn := pgtest.Connect(t, dsn)
	var ssl bool
	if err := conn.QueryRow(ctx, "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").Scan(&ssl); err != nil {
		t.Fatal(err)
	}
	if !ssl {
		t.Fatal("connection is not using TLS")
	}

	// The same DSN against a CA that did not sign the server must fail.
	other, err := certs.NewCA("other")
	if err != nil {
		t.Fatal(err)
	}
	otherFile := filepath.Join(t.TempDir(), "other.crt")
	if err := os.WriteFile(otherFile, other.CertPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	bad := "postgres://postgres@" + c.Addr() + "/postgres?sslmode=verify-full&sslrootcert=" + otherFile
	if err := connectErr(t, bad); err == nil {
		t.Fatal("verify-full with an unrelated CA succeeded")
	}
}

func TestRestartKeepsData(t *testing.T) {
	c := pgtest.Cluster(t)
	ctx := pgtest.Context(t)
	table := unique("restart_probe")
	if err := c.Exec(ctx, "CREATE TABLE "+table+" (v text); INSERT INTO "+table+" VALUES ('kept')"); err != nil {
		t.Fatal(err)
	}
	startTime := func() (started time.Time, v string) {
		conn, err := pgx.Connect(ctx, c.DSN("postgres", "", ""))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		if err := conn.QueryRow(ctx, "SELECT pg_postmaster_start_time(), (SELECT v FROM "+table+")").Scan(&started, &v); err != nil {
			t.Fatal(err)
		}
		return started, v
	}
	before, _ := startTime()
	port := c.Port
	if err := c.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	after, v := startTime()
	if !after.After(before) {
		t.Errorf("postmaster start time %v not after %v: no restart happened", after, before)
	}
	if v != "kept" || c.Port != port {
		t.Errorf("after restart: value=%q port=%d (was %d)", v, c.Port, port)
	}
}

func TestDSN(t *testing.T) {
	c := &pgcluster.Cluster{Host: "127.0.0.1", Port: 5433}
	for _, tc := range []struct{ user, pw, db, want string }{
		{"postgres", "", "", "postgres://postgres@127.0.0.1:5433/postgres?sslmode=disable"},
		{"u", "p@ss:/w?", "app", "postgres://u:p%40ss%3A%2Fw%3F@127.0.0.1:5433/app?sslmode=disable"},
	} {
		if got := c.DSN(tc.user, tc.pw, tc.db); got != tc.want {
			t.Errorf("DSN(%q,%q,%q) = %s, want %s", tc.user, tc.pw, tc.db, got, tc.want)
		}
	}
	if got := c.Addr(); got != "127.0.0.1:5433" {
		t.Errorf("Addr() = %s", got)
	}
}

func TestFindBinDir(t *testing.T) {
	dir, err := pgcluster.FindBinDir()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(pgcluster.BinDirEnv, dir)
	if got, err := pgcluster.FindBinDir(); err != nil || got != dir {
		t.Errorf("with $%s=%s: got %q, %v", pgcluster.BinDirEnv, dir, got, err)
	}
	t.Setenv(pgcluster.BinDirEnv, t.TempDir())
	if _, err := pgcluster.FindBinDir(); err == nil || !strings.Contains(err.Error(), pgcluster.BinDirEnv) {
		t.Errorf("bogus $%s: got err %v", pgcluster.BinDirEnv, err)
	}
}

func TestStartRejectsReservedSetting(t *testing.T) {
	_, err := pgcluster.Start(context.Background(), pgcluster.Options{Settings: map[string]string{"port": "1"}})
	if err == nil {
		t.Fatal("Start accepted a reserved setting")
	}
}

// TestStandaloneLifecycle starts a second cluster whose first port is
// taken, checks settings, and stops it twice.
func TestStandaloneLifecycle(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	busyPort := busy.Addr().(*net.TCPAddr).Port
	calls := 0
	defer pgcluster.SetPickPort(func() (int, error) {
		calls++
		if calls == 1 {
			return busyPort, nil
		}
		return pgcluster.PickPort()
	})()

	ctx := pgtest.Context(t)
	c, err := pgcluster.Start(ctx, pgcluster.Options{
		Settings: map[string]string{"max_connections": "50", "application_name": "it's"},
		Logf:     t.Logf,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	if calls != 2 || c.Port == busyPort {
		t.Errorf("port collision not retried: calls=%d port=%d busy=%d", calls, c.Port, busyPort)
	}
	if c.CAFile != "" {
		t.Errorf("CAFile = %q without TLS", c.CAFile)
	}
	conn := pgtest.Connect(t, c.DSN("postgres", "", ""))
	var maxConn, app, ssl string
	if err := conn.QueryRow(ctx, "SELECT current_setting('max_connections'), current_setting('application_name'), current_setting('ssl')").Scan(&maxConn, &app, &ssl); err != nil {
		t.Fatal(err)
	}
	if maxConn != "50" || app != "it's" || ssl != "off" {
		t.Errorf("max_connections=%s application_name=%q ssl=%s", maxConn, app, ssl)
	}
	conn.Close(ctx)

	pid, err := postmasterPID(c.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := c.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	if alive(pid) {
		t.Errorf("postmaster %d still running after Stop", pid)
	}
	if _, err := os.Stat(c.Dir); !os.IsNotExist(err) {
		t.Errorf("Dir %s not removed: %v", c.Dir, err)
	}
	if err := c.Exec(ctx, "SELECT 1"); err == nil {
		t.Error("Exec after Stop succeeded")
	}
	if err := c.Restart(ctx); err == nil {
		t.Error("Restart after Stop succeeded")
	}
}

func isZombie(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	i := strings.LastIndexByte(string(stat), ')')
	return i >= 0 && i+2 < len(stat) && stat[i+2] == 'Z'
}

func TestStartFailureReportsLogAndCleansUp(t *testing.T) {
	_, err := pgcluster.Start(pgtest.Context(t), pgcluster.Options{
		Settings: map[string]string{"shared_buffers": "not-a-size"},
	})
	if err == nil {
		t.Fatal("Start succeeded with an invalid setting")
	}
	t.Logf("Start error (expected): %v", err)
	if !strings.Contains(err.Error(), "postgres.log") || !strings.Contains(err.Error(), "shared_buffers") {
		t.Errorf("error lacks the server log tail: %v", err)
	}
	dir := regexp.MustCompile(`/\S*pgmantle-pg-\d+`).FindString(err.Error())
	if dir == "" {
		t.Fatalf("error does not name the cluster directory: %v", err)
	}
	if exists(dir) {
		t.Errorf("cluster directory %s left behind", dir)
	}
}

func TestConcurrentCreateRole(t *testing.T) {
	c := pgtest.Cluster(t)
	ctx := pgtest.Context(t)
	names := make([]string, 6)
	errs := make(chan error, len(names))
	for i := range names {
		names[i] = unique("concurrent")
		go func(name string) { errs <- c.CreateRole(ctx, name, "pw-"+name, pgcluster.AuthSCRAM) }(names[i])
	}
	for range names {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	for _, name := range names {
		if err := connectErr(t, c.DSN(name, "pw-"+name, "")); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}
