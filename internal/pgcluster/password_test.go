package pgcluster_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgmantle/pgmantle/internal/pgcluster"
)

// TestSuperuserPassword: with Options.SuperuserPassword, TCP logins as the
// superuser need it (no password and a wrong one are refused), SuperDSN
// carries it, the cluster's own helpers keep working, and the 0700 socket
// lets the owner in without it.
func TestSuperuserPassword(t *testing.T) {
	if _, err := pgcluster.FindBinDir(); err != nil {
		t.Skip(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const pw = "demo-Superuser-pw-1"
	c, err := pgcluster.Start(ctx, pgcluster.Options{SuperuserPassword: pw})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	login := func(dsn string) error {
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		var one int
		return conn.QueryRow(ctx, "SELECT 1").Scan(&one)
	}
	if err := login(c.DSN(c.SuperUser, "", "")); err == nil {
		t.Error("a TCP login as the superuser without a password succeeded")
	}
	if err := login(c.DSN(c.SuperUser, "wrong", "")); err == nil {
		t.Error("a TCP login as the superuser with a wrong password succeeded")
	}
	if err := login(c.SuperDSN("")); err != nil {
		t.Errorf("SuperDSN: %v", err)
	}
	if err := login(c.SocketDSN(c.SuperUser, "")); err != nil {
		t.Errorf("SocketDSN: %v", err)
	}
	if err := c.CreateRole(ctx, "pw_probe", "x", pgcluster.AuthSCRAM); err != nil {
		t.Errorf("CreateRole through the password-protected superuser: %v", err)
	}
}
