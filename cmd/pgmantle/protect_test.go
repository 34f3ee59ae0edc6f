package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgmantle/pgmantle/examples/bookkeeping"
	"github.com/pgmantle/pgmantle/internal/pgcluster"
	"github.com/pgmantle/pgmantle/internal/pgtest"
)

// TestServeWithPolicy: serve --policy validates the policy against the
// catalog at startup (a bad one stops it with file:line), and with a good
// one masks what restricted roles read.
func TestServeWithPolicy(t *testing.T) {
	c := pgtest.Cluster(t)
	ctx := pgtest.Context(t)
	c.Exec(ctx, "DROP SCHEMA IF EXISTS bk CASCADE")
	if err := c.Exec(ctx, bookkeeping.Schema); err != nil {
		t.Fatal(err)
	}
	for _, r := range bookkeeping.Roles {
		c.CreateRole(ctx, r, "pw", pgcluster.AuthSCRAM)
	}
	if err := c.Exec(ctx, `GRANT USAGE ON SCHEMA bk TO PUBLIC; GRANT SELECT ON ALL TABLES IN SCHEMA bk TO PUBLIC;
		INSERT INTO bk.client_companies VALUES (1, 'x', '91350100M000100Y43', '欧阳明', NULL);
		INSERT INTO bk.contacts (id, company_id, name, id_no) VALUES (1, 1, '张伟', '310105199003078032')`); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))

	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("classes:\n  cn_id: [bk.contacts.nosuch]\nroles:\n  analyst: {rules: {cn_id: {mask: cn_id}}}\n"), 0o644)
	cfg, err := loadConfig("", overrides{upstream: c.Addr(), listen: "127.0.0.1:0", policy: bad, catalogDSN: c.DSN("postgres", "", "postgres")})
	if err != nil {
		t.Fatal(err)
	}
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	err = serve(ctx, cfg, l, quiet)
	if err == nil || !strings.Contains(err.Error(), bad+":2: class cn_id: unknown column bk.contacts.nosuch") {
		t.Fatalf("bad policy: %v", err)
	}

	cfg, err = loadConfig("", overrides{upstream: c.Addr(), listen: "127.0.0.1:0",
		policy: "../../examples/bookkeeping/policy.yaml", catalogDSN: c.DSN("postgres", "", "postgres")})
	if err != nil {
		t.Fatal(err)
	}
	l, err = net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(sctx, cfg, l, quiet) }()
	defer func() {
		stop()
		select {
		case <-done:
		case <-time.After(40 * time.Second):
			t.Error("serve did not stop")
		}
	}()
	read := func(user string) string {
		conn, err := pgx.Connect(ctx, "postgres://"+user+":pw@"+l.Addr().String()+"/postgres?sslmode=disable")
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		var name, id string
		if err := conn.QueryRow(ctx, "SELECT name, id_no FROM bk.contacts WHERE id = 1").Scan(&name, &id); err != nil {
			t.Fatal(err)
		}
		return name + " " + id
	}
	if got := read("analyst"); got != "张* 310105********8032" {
		t.Fatalf("analyst read %q", got)
	}
	if got := read("bookkeeper"); got != "张伟 310105199003078032" {
		t.Fatalf("bookkeeper read %q", got)
	}
}
