package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgmantle/pgmantle/examples/bookkeeping"
	"github.com/pgmantle/pgmantle/internal/config"
	"github.com/pgmantle/pgmantle/internal/pgcluster"
	"github.com/pgmantle/pgmantle/keys"
)

// demoPassword is every demo role's password: the relayed SCRAM login is
// visible.
const demoPassword = "demo"

// demoQuery is the query the demo shows as each role sees it.
const demoQuery = "SELECT name, id_no, mobile FROM bk.contacts ORDER BY id LIMIT 2"

// demoCmd starts a throwaway PostgreSQL with the bookkeeping example and
// pgmantle in front of it, prints how to connect as each role and what
// each sees, and removes everything on Ctrl-C.
func demoCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:6432", "client-facing `ADDR` of the demo proxy")
	level := fs.String("log-level", "warn", "log `LEVEL`")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return demo(ctx, *listen, *level, stdout, stderr)
}

// demo runs the demo until ctx is done: each step below prints what it
// does.
func demo(ctx context.Context, listen, level string, stdout, stderr io.Writer) error {
	start := time.Now()
	l, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("demo: listen on %s: %w (use --listen to pick another address)", listen, err)
	}
	say := func(format string, args ...any) { fmt.Fprintf(stdout, "pgmantle demo: "+format+"\n", args...) }

	// 1. A throwaway PostgreSQL.
	say("starting a throwaway PostgreSQL...")
	// Its superuser gets a random password held only in memory: other
	// local users can reach the port, and trust would let them in as a
	// superuser past pgmantle. The demo itself uses the 0700 socket.
	cluster, err := pgcluster.Start(ctx, pgcluster.Options{SuperuserPassword: randomPassword()})
	if err != nil {
		l.Close()
		return fmt.Errorf("demo: %w", err)
	}
	defer func() {
		say("removing the throwaway PostgreSQL and everything in %s", cluster.Dir)
		cluster.Stop()
	}()

	// 2. The bookkeeping example: roles, schema, data.
	say("loading the example of a Shanghai bookkeeping firm (synthetic data)...")
	if err := loadExample(ctx, cluster, stdout); err != nil {
		l.Close()
		return fmt.Errorf("demo: %w", err)
	}

	// 3. Keys, policy, audit log.
	cfg, err := demoConfig(ctx, cluster, listen, level, say)
	if err != nil {
		l.Close()
		return fmt.Errorf("demo: %w", err)
	}

	// 4. pgmantle, then what each role sees.
	errc := make(chan error, 1)
	logger := newLogger(cfg.Log, stderr)
	sctx, stopServe := context.WithCancel(ctx)
	defer stopServe()
	go func() { errc <- serve(sctx, cfg, l, logger) }()
	addr := l.Addr().String()
	if err := waitReady(ctx, addr, errc); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	fmt.Fprintf(stdout, "\npgmantle demo: ready in %.1fs.\n\n  PostgreSQL %s (throwaway, data in %s)\n  pgmantle   %s  →  PostgreSQL; admin (metrics) http://%s/metrics\n",
		time.Since(start).Seconds(), cluster.Addr(), cluster.Dir, addr, cfg.Admin.Listen)
	fmt.Fprintf(stdout, "\nConnect through pgmantle as each role (password %q):\n\n", demoPassword)
	for _, role := range bookkeeping.Roles {
		fmt.Fprintf(stdout, "  psql %q\n", demoURL(role, addr))
	}
	fmt.Fprintf(stdout, "\nThe same query as each role sees it — %s:\n\n", demoQuery)
	showRoles(ctx, stdout, addr)
	fmt.Fprintf(stdout, "\nTry it yourself:\n\n  psql %q -c %q\n", demoURL("analyst", addr), "SELECT name, mobile, email, address FROM bk.contacts LIMIT 5")
	self := selfCommand()
	fmt.Fprintf(stdout, "\nEvery statement is in the audit log %s; check its chain with:\n\n  %s audit verify %s\n  %s audit report %s\n",
		cfg.Audit.File, self, cfg.Audit.File, self, cfg.Audit.File)
	fmt.Fprintf(stdout, "\nPress Ctrl-C to stop; everything is removed.\n\n")

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	stopServe()
	return <-errc
}

// randomPassword returns 24 random bytes in base64: a password nobody
// types (the demo never prints it).
func randomPassword() string {
	b := make([]byte, 24)
	rand.Read(b) // never fails on supported platforms
	return base64.RawURLEncoding.EncodeToString(b)
}

func demoURL(role, addr string) string {
	return fmt.Sprintf("postgres://%s:%s@%s/postgres?sslmode=disable", role, demoPassword, addr)
}

// loadExample creates the example's roles (SCRAM passwords), schema and
// synthetic data, showing each table as it is loaded.
func loadExample(ctx context.Context, c *pgcluster.Cluster, stdout io.Writer) error {
	for _, role := range bookkeeping.Roles {
		if err := c.CreateRole(ctx, role, demoPassword, pgcluster.AuthSCRAM); err != nil {
			return err
		}
	}
	conn, err := pgx.Connect(ctx, c.SocketDSN(c.SuperUser, "postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, bookkeeping.Schema); err != nil {
		return err
	}
	t0 := time.Now()
	err = bookkeeping.Load(ctx, conn, bookkeeping.DefaultSizes, func(table string, rows int) {
		fmt.Fprintf(stdout, "  %-22s %7d rows  (%.1fs)\n", table, rows, time.Since(t0).Seconds())
	})
	if err != nil {
		return err
	}
	_, err = conn.Exec(ctx, `GRANT USAGE ON SCHEMA bk TO PUBLIC;
		GRANT SELECT ON ALL TABLES IN SCHEMA bk TO PUBLIC;
		GRANT INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA bk TO bookkeeper`)
	return err
}

// demoPolicy is the example policy, with the auditor tokenizing IDs and
// mobiles (joins and group-bys on them still work) so the demo shows
// tokens too.
func demoPolicy() string {
	return strings.Replace(bookkeeping.Policy, "      salary: clear\n",
		"      salary: clear\n      cn_id: tokenize\n      cn_mobile: tokenize\n", 1)
}

// demoConfig writes the demo's policy and picks its keys: Vault when
// VAULT_ADDR is set, otherwise a new local key file (insecure, said so).
func demoConfig(ctx context.Context, c *pgcluster.Cluster, listen, level string, say func(string, ...any)) (config.Config, error) {
	cfg := config.Default()
	cfg.Listen, cfg.Log.Level = listen, level
	cfg.Limits.ShutdownTimeout = 2 * time.Second // Ctrl-C should not wait long
	cfg.Upstream.Address = c.Addr()
	cfg.Catalog.DSN = c.SocketDSN(c.SuperUser, "postgres")
	cfg.Policy.File = filepath.Join(c.Dir, "policy.yaml")
	if err := os.WriteFile(cfg.Policy.File, []byte(demoPolicy()), 0o644); err != nil {
		return cfg, err
	}
	if addr := os.Getenv("VAULT_ADDR"); addr != "" {
		kv := os.Getenv("PGMANTLE_DEMO_VAULT_KV")
		if kv == "" {
			kv = "secret/pgmantle/tokenize"
		}
		cfg.Keys.Vault = &keys.VaultConfig{Address: addr, Tokenize: keys.VaultSource{KV: kv}}
		say("keys from Vault at %s (KV %s; token from VAULT_TOKEN)", addr, kv)
	} else {
		cfg.Keys.File = filepath.Join(c.Dir, "keys.yaml")
		if err := keys.InitFile(cfg.Keys.File); err != nil {
			return cfg, err
		}
		say("VAULT_ADDR is not set: keys from an INSECURE local key file %s (fine for a demo only)", cfg.Keys.File)
	}
	cfg.Audit.File = filepath.Join(c.Dir, "audit.log")
	cfg.Audit.Sink = config.AuditSinkFile
	al, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return cfg, err
	}
	cfg.Admin.Listen = al.Addr().String()
	al.Close()
	return cfg, cfg.Validate()
}

// waitReady waits until pgmantle accepts a login (or fails to start).
func waitReady(ctx context.Context, addr string, errc chan error) error {
	for i := 0; i < 300; i++ {
		select {
		case err := <-errc:
			if err == nil {
				err = errors.New("pgmantle stopped")
			}
			errc <- err
			return err
		default:
		}
		cctx, cancel := context.WithTimeout(ctx, time.Second)
		conn, err := pgconn.Connect(cctx, demoURL("bookkeeper", addr))
		cancel()
		if err == nil {
			conn.Close(ctx)
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		time.Sleep(50 * time.Millisecond)
	}
	return errors.New("pgmantle did not become ready")
}

// showRoles runs demoQuery through pgmantle as each role and prints the
// answers side by side, one line per role and row.
func showRoles(ctx context.Context, w io.Writer, addr string) {
	fmt.Fprintf(w, "  %-11s %-10s %-20s %s\n", "role", "name", "id_no", "mobile")
	for _, role := range bookkeeping.Roles {
		rows, err := demoRows(ctx, addr, role)
		if err != nil {
			var pe *pgconn.PgError
			msg := err.Error()
			if errors.As(err, &pe) {
				msg = pe.Message + " (" + pe.Code + ")"
			}
			fmt.Fprintf(w, "  %-11s refused: %s\n", role, msg)
			continue
		}
		for _, r := range rows {
			pad := 10 - displayWidth(r[0])
			fmt.Fprintf(w, "  %-11s %s%s %-20s %s\n", role, r[0], strings.Repeat(" ", max(pad, 0)), r[1], r[2])
		}
	}
}

func demoRows(ctx context.Context, addr, role string) ([][3]string, error) {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(cctx, demoURL(role, addr))
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(cctx, demoQuery, pgx.QueryExecModeSimpleProtocol)
	if err != nil {
		return nil, err
	}
	var out [][3]string
	for rows.Next() {
		var r [3]string
		if err := rows.Scan(&r[0], &r[1], &r[2]); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// displayWidth counts a terminal's columns: two for a CJK character.
func displayWidth(s string) int {
	w := 0
	for _, r := range s {
		if r >= 0x1100 {
			w += 2
		} else {
			w++
		}
	}
	return w
}

// selfCommand is how the user can run pgmantle again: "pgmantle" for an
// installed binary, "go run ./cmd/pgmantle" when the demo runs from go run
// (whose binary is a temporary file).
func selfCommand() string {
	if exe, err := os.Executable(); err == nil && strings.Contains(exe, "go-build") {
		return "go run ./cmd/pgmantle"
	}
	return "pgmantle"
}
