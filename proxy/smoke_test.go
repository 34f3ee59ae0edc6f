package proxy_test

import (
	"testing"

	"github.com/pgmantle/pgmantle/internal/pgtest"
)

// TestSmoke relays one query through the proxy.
func TestSmoke(t *testing.T) {
	p := startProxy(t, nil)
	conn := pgtest.Connect(t, p.dsn("postgres", "", "postgres"))
	var n int
	if err := conn.QueryRow(pgtest.Context(t), "SELECT 40 + $1::int", 2).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 42 {
		t.Fatalf("got %d, want 42", n)
	}
}
