package main

import (
	"bufio"
	"context"
	"io"
	"os"
	"regexp"
	"testing"
	"time"

	"github.com/pgmantle/pgmantle/internal/pgtest"
)

// TestDemo runs the demo as a user would: it becomes ready, the printed
// connection string works through pgmantle with the relayed SCRAM login,
// and stopping it removes the throwaway cluster.
func TestDemo(t *testing.T) {
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- demo(ctx, "127.0.0.1:0", "warn", pw, io.Discard); pw.Close() }()

	urlRE := regexp.MustCompile(`psql "(postgres://[^"]+)"`)
	dirRE := regexp.MustCompile(`data in (\S+)\)`)
	var dsn, dir string
	lines := bufio.NewScanner(pr)
	for dsn == "" && lines.Scan() {
		if m := dirRE.FindStringSubmatch(lines.Text()); m != nil {
			dir = m[1]
		}
		if m := urlRE.FindStringSubmatch(lines.Text()); m != nil {
			dsn = m[1]
		}
	}
	go io.Copy(io.Discard, pr)
	if dsn == "" || dir == "" {
		t.Fatalf("demo did not print a connection string and data directory (dsn %q, dir %q)", dsn, dir)
	}
	conn := pgtest.Connect(t, dsn)
	var n int
	var user string
	if err := conn.QueryRow(pgtest.Context(t), "SELECT count(*), current_user FROM demo.customers").Scan(&n, &user); err != nil {
		t.Fatal(err)
	}
	if n != 3 || user != "demo" {
		t.Fatalf("got %d rows as %q, want 3 as demo", n, user)
	}
	conn.Close(context.Background())

	stop() // Ctrl-C
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("demo: %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("demo did not stop")
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("the throwaway cluster %s was not removed (%v)", dir, err)
	}
}
