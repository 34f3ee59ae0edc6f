// Package pgtest gives a test package one throwaway PostgreSQL cluster
// (via pgcluster) and small helpers for connecting to it.
//
// Use Main from TestMain; tests then call Cluster, Connect and Context.
// If PostgreSQL cannot be started the test binary fails loudly: tests are
// never skipped silently. It stops there: schemas, fixtures and per-test
// isolation (roles, databases) are up to each test.
package pgtest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgmantle/pgmantle/internal/pgcluster"
)

// cluster is the package's cluster, set by Main before tests run.
var cluster *pgcluster.Cluster

// atExit are the functions AtExit registered, run after the tests and
// before the cluster stops, last registered first.
var atExit []func()

// AtExit registers f to run once the package's tests are done, before the
// cluster stops: for what several tests share, such as a proxy process.
// Not safe for concurrent use with itself.
func AtExit(f func()) { atExit = append(atExit, f) }

// Main starts one cluster for the test package, runs the tests, stops the
// cluster and exits. If PostgreSQL cannot be started it prints the reason
// and exits 1. SIGINT and SIGTERM stop the cluster before exiting.
func Main(m *testing.M, opts pgcluster.Options) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	c, err := pgcluster.Start(ctx, opts)
	cancel()
	if err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: cannot start PostgreSQL, failing the tests: %v\n", err)
		os.Exit(1)
	}
	cluster = c

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		sig := <-sigs
		fmt.Fprintf(os.Stderr, "pgtest: %v: stopping PostgreSQL\n", sig)
		c.Stop()
		os.Exit(1)
	}()

	code := m.Run()
	signal.Stop(sigs)
	for i := len(atExit) - 1; i >= 0; i-- {
		atExit[i]()
	}
	if err := c.Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: stopping PostgreSQL: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// Cluster returns the package's cluster, failing tb if Main was not used.
func Cluster(tb testing.TB) *pgcluster.Cluster {
	tb.Helper()
	if cluster == nil {
		tb.Fatal("pgtest: no cluster; call pgtest.Main(m, opts) from TestMain")
	}
	return cluster
}

// Connect opens a pgx connection to dsn with a 10s timeout, failing tb on
// error, and closes it when the test ends.
func Connect(tb testing.TB, dsn string) *pgx.Conn {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		tb.Fatalf("pgtest: connect %s: %v", redact(dsn), err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		conn.Close(ctx)
	})
	return conn
}

// Context returns a context with a 60s timeout, cancelled when the test
// ends.
func Context(tb testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	tb.Cleanup(cancel)
	return ctx
}

// redact hides the password of a URL-style DSN in failure messages.
func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.Scheme == "" {
		return "(dsn)"
	}
	return u.Redacted()
}
