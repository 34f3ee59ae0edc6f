package proxy_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgmantle/pgmantle/internal/pgcluster"
	"github.com/pgmantle/pgmantle/internal/pgtest"
)

// Helpers shared by the real-client integration tests (pgx, lib/pq, psql,
// pgbench, raw protocol).

var nameSeq atomic.Int64

// uniqueName returns an identifier-safe name that is unique within the
// cluster's lifetime, even with -count=N.
func uniqueName(prefix string) string {
	return fmt.Sprintf("%s_%d", prefix, nameSeq.Add(1))
}

// directConn opens a superuser connection straight to the cluster,
// bypassing the proxy.
func directConn(tb testing.TB) *pgx.Conn {
	tb.Helper()
	return directConnDB(tb, "postgres")
}

// directConnDB is directConn to database db.
func directConnDB(tb testing.TB, db string) *pgx.Conn {
	tb.Helper()
	c := pgtest.Cluster(tb)
	return pgtest.Connect(tb, c.DSN(c.SuperUser, "", db))
}

// createRole creates a LOGIN role authenticated by method and returns its
// name and password (empty for trust).
func createRole(tb testing.TB, method pgcluster.AuthMethod, attrs ...string) (name, password string) {
	tb.Helper()
	name = uniqueName("r_" + strings.ReplaceAll(string(method), "-", ""))
	password = "S3cret/" + name + " 'q\"!"
	if method == pgcluster.AuthTrust {
		password = ""
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := pgtest.Cluster(tb).CreateRole(ctx, name, password, method, attrs...); err != nil {
		tb.Fatal(err)
	}
	return name, password
}

// createDatabase creates a database owned by owner and returns its name.
func createDatabase(tb testing.TB, owner string) string {
	tb.Helper()
	name := uniqueName("db")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := pgtest.Cluster(tb).Exec(ctx, fmt.Sprintf("CREATE DATABASE %s OWNER %s",
		pgx.Identifier{name}.Sanitize(), pgx.Identifier{owner}.Sanitize())); err != nil {
		tb.Fatal(err)
	}
	return name
}

// connectCfg connects with pgx using a parsed config adjusted by configure.
func connectCfg(tb testing.TB, dsn string, configure func(*pgx.ConnConfig)) *pgx.Conn {
	tb.Helper()
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		tb.Fatal(err)
	}
	if configure != nil {
		configure(cfg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		tb.Fatalf("connect: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		conn.Close(ctx)
	})
	return conn
}

// tryConnect connects with pgx and returns the error instead of failing.
func tryConnect(dsn string) (*pgx.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return pgx.Connect(ctx, dsn)
}

// pgErr unwraps a *pgconn.PgError or fails the test.
func pgErr(tb testing.TB, err error) *pgconn.PgError {
	tb.Helper()
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		tb.Fatalf("want a PostgreSQL error, got %T: %v", err, err)
	}
	return pe
}

// wantCode fails unless err is a PostgreSQL error with SQLSTATE code.
func wantCode(tb testing.TB, err error, code string) *pgconn.PgError {
	tb.Helper()
	if err == nil {
		tb.Fatalf("want error %s, got none", code)
	}
	pe := pgErr(tb, err)
	if pe.Code != code {
		tb.Fatalf("want SQLSTATE %s, got %s: %s", code, pe.Code, pe.Message)
	}
	return pe
}

func currentUser(tb testing.TB, conn *pgx.Conn) string {
	tb.Helper()
	var u string
	if err := conn.QueryRow(pgtest.Context(tb), "SELECT current_user").Scan(&u); err != nil {
		tb.Fatal(err)
	}
	return u
}

// waitFor polls cond every 20ms until it holds, failing after timeout. It
// is a bound on a wait, not an assertion about speed.
func waitFor(tb testing.TB, timeout time.Duration, what string, cond func() (bool, error)) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, err := cond()
		if err != nil {
			tb.Fatalf("waiting for %s: %v", what, err)
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("gave up waiting for %s after %v", what, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// activityStates returns "state:query" in pg_stat_activity of the client
// backends with the given application_name, read directly on the cluster.
func activityStates(tb testing.TB, admin *pgx.Conn, appName string) []string {
	tb.Helper()
	rows, err := admin.Query(pgtest.Context(tb),
		"SELECT coalesce(state, '') || ':' || query FROM pg_stat_activity WHERE application_name = $1 AND backend_type = 'client backend'", appName)
	if err != nil {
		tb.Fatal(err)
	}
	states, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		tb.Fatal(err)
	}
	return states
}

// waitActive waits until a backend with appName runs a query containing
// substr.
func waitActive(tb testing.TB, admin *pgx.Conn, appName, substr string) {
	tb.Helper()
	waitFor(tb, 20*time.Second, appName+" running "+substr, func() (bool, error) {
		for _, s := range activityStates(tb, admin, appName) {
			if strings.HasPrefix(s, "active:") && strings.Contains(s, substr) {
				return true, nil
			}
		}
		return false, nil
	})
}

// clientEnv is the environment for libpq programs (psql, pgbench): the
// caller's environment without PG* variables, plus vars.
func clientEnv(vars map[string]string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PG") && !strings.HasPrefix(kv, "LC_") && !strings.HasPrefix(kv, "LANG") {
			env = append(env, kv)
		}
	}
	env = append(env, "LC_ALL=C", "PGCONNECT_TIMEOUT=10", "PGSSLMODE=disable")
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	return env
}

// libpqEnv returns the libpq variables that point at the proxy.
func (p *testProxy) libpqEnv(user, password, database string) map[string]string {
	host, port := p.hostPort()
	m := map[string]string{"PGHOST": host, "PGPORT": port, "PGUSER": user, "PGDATABASE": database}
	if password != "" {
		m["PGPASSWORD"] = password
	}
	return m
}

// cmdResult is the outcome of a client program run.
type cmdResult struct {
	stdout, stderr string
	err            error
}

func (r cmdResult) String() string {
	return fmt.Sprintf("err=%v\nstdout:\n%s\nstderr:\n%s", r.err, r.stdout, r.stderr)
}

// runClient runs a client program with env and optional stdin, bounded by
// a 60s timeout.
func runClient(tb testing.TB, env map[string]string, stdin string, name string, args ...string) cmdResult {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = clientEnv(env)
	cmd.Dir = tb.TempDir()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	err := cmd.Run()
	return cmdResult{stdout: out.String(), stderr: errb.String(), err: err}
}

// psql runs psql -X -v ON_ERROR_STOP=1 -At (unaligned, tuples only) with args.
func psql(tb testing.TB, env map[string]string, stdin string, args ...string) cmdResult {
	tb.Helper()
	return runClient(tb, env, stdin, "psql", append([]string{"-X", "-w", "-v", "ON_ERROR_STOP=1", "-At"}, args...)...)
}

// countingForwarder is a TCP relay in front of the cluster that counts the
// connections it accepts, i.e. the connections the proxy opens upstream.
type countingForwarder struct {
	addr     string
	accepted atomic.Int64
}

func startCountingForwarder(tb testing.TB, target string) *countingForwarder {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	f := &countingForwarder{addr: l.Addr().String()}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			f.accepted.Add(1)
			up, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, c, up)
			mu.Unlock()
			wg.Add(2)
			go func() { defer wg.Done(); io.Copy(up, c); up.Close() }()
			go func() { defer wg.Done(); io.Copy(c, up); c.Close() }()
		}
	}()
	tb.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return f
}
