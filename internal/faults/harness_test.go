package faults

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgmantle/pgmantle/internal/pgcluster"
	"github.com/pgmantle/pgmantle/internal/pgtest"
	"github.com/pgmantle/pgmantle/internal/proctest"
)

// TestMain starts the package's cluster with room for a thousand sessions
// and the tests' own.
func TestMain(m *testing.M) {
	pgtest.Main(m, pgcluster.Options{Settings: map[string]string{"max_connections": "1150"}})
}

var (
	buildOnce sync.Once
	bin       string
	buildErr  error
)

// binary builds pgmantle once for the package.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "pgmantle-faults-")
		if err != nil {
			buildErr = err
			return
		}
		pgtest.AtExit(func() { os.RemoveAll(dir) })
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		bin, buildErr = proctest.Build(ctx, dir)
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return bin
}

// startPgmantle runs `pgmantle serve` in front of the package cluster with
// extra configuration YAML appended (logging at warn unless it has a log
// section), and stops it when the test ends.
func startPgmantle(t *testing.T, extra string) *proctest.Proc {
	t.Helper()
	c := pgtest.Cluster(t)
	port, err := proctest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	cfg := fmt.Sprintf("listen: %s\nupstream: {address: %q}\n%s", addr, c.Addr(), extra)
	if !strings.Contains(extra, "log:") {
		cfg += "log: {level: warn}\n"
	}
	cfgFile := filepath.Join(dir, "pgmantle.yaml")
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := proctest.Start(binary(t), []string{"serve", "--config", cfgFile}, addr, filepath.Join(dir, "pgmantle.log"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Stop(30 * time.Second); err != nil {
			t.Errorf("pgmantle: %v\n%s", err, p.Log())
		}
	})
	return p
}

// url is a postgres:// URL for user through p.
func url(p *proctest.Proc, user, password, appName string) string {
	cred := user
	if password != "" {
		cred += ":" + password
	}
	return "postgres://" + cred + "@" + p.Addr + "/postgres?sslmode=disable&application_name=" + appName
}

// backends counts the server processes of application appName.
func backends(t *testing.T, appName string) int {
	t.Helper()
	conn := pgtest.Connect(t, pgtest.Cluster(t).DSN("postgres", "", "postgres"))
	var n int
	if err := conn.QueryRow(pgtest.Context(t), "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", appName).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// waitFor polls cond every 50 ms until it holds or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(timeout); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// selectOne connects through p and runs SELECT 1.
func selectOne(ctx context.Context, p *proctest.Proc, appName string) error {
	conn, err := pgx.Connect(ctx, url(p, "postgres", "", appName))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	var one int
	return conn.QueryRow(ctx, "SELECT 1").Scan(&one)
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
