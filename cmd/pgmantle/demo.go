package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/pgmantle/pgmantle/internal/config"
	"github.com/pgmantle/pgmantle/internal/pgcluster"
)

// Demo login: a password role, so that the relayed SCRAM login is visible.
const (
	demoUser     = "demo"
	demoPassword = "demo"
)

// demoCmd starts a throwaway PostgreSQL and pgmantle in front of it, prints
// how to connect, and removes everything on Ctrl-C.
func demoCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:6432", "client-facing `ADDR` of the demo proxy")
	level := fs.String("log-level", "info", "log `LEVEL`")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return demo(ctx, *listen, *level, stdout, stderr)
}

// demo runs the demo until ctx is done.
func demo(ctx context.Context, listen, level string, stdout, stderr io.Writer) error {
	cfg := config.Default()
	cfg.Listen, cfg.Log.Level = listen, level
	cfg.Limits.ShutdownTimeout = 2 * time.Second // Ctrl-C should not wait long
	if err := cfg.Validate(); err != nil {
		return err
	}
	l, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("demo: listen on %s: %w (use --listen to pick another address)", cfg.Listen, err)
	}

	start := time.Now()
	fmt.Fprintln(stdout, "pgmantle demo: starting a throwaway PostgreSQL...")
	cluster, err := pgcluster.Start(ctx, pgcluster.Options{})
	if err != nil {
		l.Close()
		return fmt.Errorf("demo: %w", err)
	}
	defer func() {
		fmt.Fprintln(stdout, "pgmantle demo: removing the throwaway PostgreSQL...")
		cluster.Stop()
	}()
	if err := loadDemo(ctx, cluster); err != nil {
		l.Close()
		return fmt.Errorf("demo: %w", err)
	}
	cfg.Upstream.Address = cluster.Addr()

	host, port, _ := net.SplitHostPort(l.Addr().String())
	fmt.Fprintf(stdout, `pgmantle demo: ready in %.1fs.

  PostgreSQL %s (throwaway, data in %s)
  pgmantle   %s  →  PostgreSQL

Connect through pgmantle (password %q):

  psql "postgres://%s:%s@%s/postgres?sslmode=disable"
  PGPASSWORD=%s psql -h %s -p %s -U %s postgres -c 'SELECT * FROM demo.customers'

Press Ctrl-C to stop; everything is removed.

`, time.Since(start).Seconds(), cluster.Addr(), cluster.Dir, l.Addr(), demoPassword,
		demoUser, demoPassword, l.Addr(), demoPassword, host, port, demoUser)

	return serve(ctx, cfg, l, newLogger(cfg.Log, stderr))
}

// loadDemo creates the demo role and a small table.
func loadDemo(ctx context.Context, c *pgcluster.Cluster) error {
	if err := c.CreateRole(ctx, demoUser, demoPassword, pgcluster.AuthSCRAM); err != nil {
		return err
	}
	return c.Exec(ctx, `
		CREATE SCHEMA demo AUTHORIZATION demo;
		CREATE TABLE demo.customers (id int PRIMARY KEY, name text, city text);
		INSERT INTO demo.customers VALUES (1, '张伟', '上海'), (2, '王芳', '上海'), (3, '李娜', '苏州');
		ALTER TABLE demo.customers OWNER TO demo;`)
}
