package proxy_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/pgmantle/pgmantle/internal/pgcluster"
	"github.com/pgmantle/pgmantle/internal/pgtest"
)

// TestAuthRelay logs in through the proxy with each authentication method
// PostgreSQL asks for (trust, cleartext password, md5, SCRAM-SHA-256),
// with pgx and psql; a wrong password gets PostgreSQL's own error, the same
// as when connecting directly.
func TestAuthRelay(t *testing.T) {
	t.Parallel()
	p := startProxy(t, nil)
	c := pgtest.Cluster(t)
	for _, method := range []pgcluster.AuthMethod{pgcluster.AuthTrust, pgcluster.AuthPassword, pgcluster.AuthMD5, pgcluster.AuthSCRAM} {
		t.Run(string(method), func(t *testing.T) {
			t.Parallel()
			user, password := createRole(t, method)

			conn := pgtest.Connect(t, p.dsn(user, password, "postgres"))
			if got := currentUser(t, conn); got != user {
				t.Fatalf("current_user %q, want %q", got, user)
			}
			r := psql(t, p.libpqEnv(user, password, "postgres"), "", "-c", "SELECT current_user, session_user")
			if r.err != nil || r.stdout != user+"|"+user+"\n" {
				t.Fatalf("psql login:\n%s", r)
			}
			if method == pgcluster.AuthTrust {
				return
			}

			// The wrong password: PostgreSQL's error, relayed unchanged.
			wantMsg := fmt.Sprintf("password authentication failed for user %q", user)
			_, err := tryConnect(p.dsn(user, password+"x", "postgres"))
			pe := wantCode(t, err, "28P01")
			if pe.Message != wantMsg || pe.Severity != "FATAL" {
				t.Fatalf("got %s %q, want FATAL %q", pe.Severity, pe.Message, wantMsg)
			}
			_, directErr := tryConnect(c.DSN(user, password+"x", "postgres"))
			de := wantCode(t, directErr, "28P01")
			if de.Message != pe.Message || de.Severity != pe.Severity || de.Detail != pe.Detail || de.Hint != pe.Hint {
				t.Fatalf("through the proxy %+v, directly %+v", pe, de)
			}
			r = psql(t, p.libpqEnv(user, "wrong", "postgres"), "", "-c", "SELECT 1")
			if r.err == nil || !strings.Contains(r.stderr, "FATAL:  "+wantMsg) {
				t.Fatalf("psql with a wrong password:\n%s", r)
			}
			// No password at all: psql -w gives up when asked for one.
			r = psql(t, p.libpqEnv(user, "", "postgres"), "", "-c", "SELECT 1")
			if r.err == nil || !strings.Contains(r.stderr, "no password supplied") {
				t.Fatalf("psql without a password:\n%s", r)
			}
			// The proxy is unaffected by the failed attempts.
			if got := currentUser(t, pgtest.Connect(t, p.dsn(user, password, "postgres"))); got != user {
				t.Fatalf("current_user %q after failed logins", got)
			}
		})
	}
	t.Run("unknown_user", func(t *testing.T) {
		t.Parallel()
		_, err := tryConnect(p.dsn("no_such_role", "pw", "postgres"))
		pe := wantCode(t, err, "28P01")
		if pe.Message != `password authentication failed for user "no_such_role"` {
			t.Fatalf("message %q", pe.Message)
		}
	})
}
