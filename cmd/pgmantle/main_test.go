package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/pgmantle/pgmantle/internal/pgcluster"
	"github.com/pgmantle/pgmantle/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m, pgcluster.Options{}) }

func TestVersionAndUsage(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"version"}, &out, &errOut); code != 0 || !strings.HasPrefix(out.String(), "pgmantle ") {
		t.Fatalf("version: code %d, output %q", code, out.String())
	}
	if code := run([]string{"frobnicate"}, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "unknown command") {
		t.Fatalf("unknown command: code %d, stderr %q", code, errOut.String())
	}
	if code := run(nil, &out, &errOut); code != 2 {
		t.Fatalf("no command: code %d", code)
	}
}

func TestServeRejectsBadConfigWithLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(path, []byte("listen: 127.0.0.1:0\nupstream:\n  tls:\n    mode: maybe\n"), 0o644)
	var out, errOut bytes.Buffer
	code := run([]string{"serve", "--config", path}, &out, &errOut)
	if code != 1 || !strings.Contains(errOut.String(), path+":4: upstream.tls.mode") {
		t.Fatalf("code %d, stderr %q", code, errOut.String())
	}
}

// TestServeGracefulShutdown: after the stop signal no new connection is
// accepted, an open session keeps working until the shutdown timeout, and
// is then closed with SQLSTATE 57P01.
func TestServeGracefulShutdown(t *testing.T) {
	c := pgtest.Cluster(t)
	cfg, err := loadConfig("", overrides{upstream: c.Addr(), listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Limits.ShutdownTimeout = time.Second
	l, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, cfg, l, slog.New(slog.NewTextHandler(io.Discard, nil))) }()

	dsn := "postgres://postgres@" + l.Addr().String() + "/postgres?sslmode=disable"
	tctx := pgtest.Context(t)
	conn, err := pgconn.Connect(tctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	stop() // as SIGTERM does

	// New connections are refused once the listener is closed.
	deadline := time.Now().Add(5 * time.Second)
	for {
		c2, err := pgconn.Connect(tctx, dsn)
		if err != nil {
			break
		}
		c2.Close(tctx)
		if time.Now().After(deadline) {
			t.Fatal("new connections still accepted after shutdown began")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// The open session still works during the grace period...
	if _, err := conn.Exec(tctx, "SELECT 1").ReadAll(); err != nil {
		t.Fatalf("session failed during the grace period: %v", err)
	}
	// ...and is closed with 57P01 when it ends.
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not return after the shutdown timeout")
	}
	_, err = conn.Exec(tctx, "SELECT 1").ReadAll()
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "57P01" {
		t.Fatalf("after shutdown: %v, want 57P01", err)
	}
}
