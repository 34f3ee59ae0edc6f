package proxy_test

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/pgmantle/pgmantle/internal/pgcluster"
	"github.com/pgmantle/pgmantle/internal/pgtest"
	"github.com/pgmantle/pgmantle/proxy"
)

// TestDirectTLS: PostgreSQL 17's sslnegotiation=direct — the client opens
// with a TLS handshake instead of an SSLRequest, and must agree on ALPN
// "postgresql" — works through pgmantle for logins, cancels and
// tls.mode require; handshakes pgmantle cannot accept are closed without a
// plaintext answer, as PostgreSQL closes them.
func TestDirectTLS(t *testing.T) {
	t.Parallel()
	pki := newPKI(t, "pgmantle direct TLS CA")
	p := startProxy(t, func(s *proxy.Server) {
		s.ClientTLS = &tls.Config{Certificates: []tls.Certificate{pki.server}, MinVersion: tls.VersionTLS12}
		s.RequireTLS = true
	})
	user, password := createRole(t, pgcluster.AuthSCRAM)
	direct := append(sslParams("verify-full", pki.caFile), "sslnegotiation=direct")

	t.Run("pgx_login_and_query", func(t *testing.T) {
		conn := pgtest.Connect(t, p.dsn(user, password, "postgres", direct...))
		tc, ok := conn.PgConn().Conn().(*tls.Conn)
		if !ok {
			t.Fatalf("connection is %T, not TLS", conn.PgConn().Conn())
		}
		if got := tc.ConnectionState().NegotiatedProtocol; got != "postgresql" {
			t.Fatalf("ALPN %q, want postgresql", got)
		}
		if got := currentUser(t, conn); got != user {
			t.Fatalf("current_user %q", got)
		}
		// A wrong password is still PostgreSQL's own error.
		_, err := tryConnect(p.dsn(user, "nope", "postgres", direct...))
		wantCode(t, err, "28P01")
	})

	t.Run("pgx_cancel", func(t *testing.T) {
		// pgx sends the CancelRequest over direct TLS too.
		testCancel(t, p.dsn(user, password, "postgres", direct...))
	})

	t.Run("sslrequest_client_gets_alpn", func(t *testing.T) {
		// An SSLRequest client that offers ALPN gets "postgresql", as from
		// PostgreSQL 17; one that offers none still connects (the TLS
		// tests above).
		c := dialTCP(t, p.addr)
		if _, err := c.Write([]byte{0, 0, 0, 8, 4, 210, 22, 47}); err != nil {
			t.Fatal(err)
		}
		var s [1]byte
		if _, err := io.ReadFull(c, s[:]); err != nil || s[0] != 'S' {
			t.Fatalf("SSLRequest answered %q, %v", s[:], err)
		}
		tlsc := tls.Client(c, &tls.Config{RootCAs: pki.pool(), ServerName: "127.0.0.1", NextProtos: []string{"postgresql"}})
		if err := tlsc.Handshake(); err != nil {
			t.Fatal(err)
		}
		if got := tlsc.ConnectionState().NegotiatedProtocol; got != "postgresql" {
			t.Fatalf("ALPN after SSLRequest %q", got)
		}
	})

	t.Run("no_alpn_is_closed", func(t *testing.T) {
		tlsc := tls.Client(dialTCP(t, p.addr), &tls.Config{RootCAs: pki.pool(), ServerName: "127.0.0.1"})
		if err := tlsc.Handshake(); err != nil {
			t.Fatalf("handshake without ALPN: %v", err)
		}
		wantClosedWithoutAnswer(t, tlsc, user)
	})

	t.Run("other_alpn_fails_handshake", func(t *testing.T) {
		tlsc := tls.Client(dialTCP(t, p.addr), &tls.Config{RootCAs: pki.pool(), ServerName: "127.0.0.1", NextProtos: []string{"http/1.1"}})
		err := tlsc.Handshake()
		if err == nil || !strings.Contains(err.Error(), "no application protocol") {
			t.Fatalf("handshake offering only http/1.1: %v", err)
		}
	})

	t.Run("without_tls_configured", func(t *testing.T) {
		plain := startProxy(t, nil)
		tlsc := tls.Client(dialTCP(t, plain.addr), &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"postgresql"}})
		if err := tlsc.Handshake(); err == nil {
			t.Fatal("a direct TLS handshake succeeded against a pgmantle without TLS")
		}
		// The start of a ClientHello gets no plaintext answer (before
		// direct TLS, it was read as a startup length and answered with
		// an ErrorResponse the client cannot read).
		raw := dialTCP(t, plain.addr)
		if _, err := raw.Write([]byte{0x16, 0x03, 0x01, 0x00, 0x05, 0x01, 0x00, 0x00, 0x01, 0x00}); err != nil {
			t.Fatal(err)
		}
		// Closed with the rest of the hello unread: EOF or a reset.
		n, err := io.ReadFull(raw, make([]byte, 1))
		var ne net.Error
		if n != 0 || err == nil || errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("read %d bytes, %v; want the connection closed unanswered", n, err)
		}
		// pgx fails cleanly instead of hanging.
		_, err = tryConnect(plain.dsn(user, password, "postgres", "sslmode=require", "sslnegotiation=direct"))
		if err == nil {
			t.Fatal("pgx connected with sslnegotiation=direct to a pgmantle without TLS")
		}
		// Plaintext logins still work there.
		conn := pgtest.Connect(t, plain.dsn(user, password, "postgres"))
		if got := currentUser(t, conn); got != user {
			t.Fatalf("current_user %q", got)
		}
	})
}

// dialTCP dials addr with a deadline that keeps a wrong answer from
// hanging the test.
func dialTCP(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(20 * time.Second))
	t.Cleanup(func() { c.Close() })
	return c
}

// wantClosedWithoutAnswer sends a StartupMessage on c and expects the
// connection to end without a single byte in reply.
func wantClosedWithoutAnswer(t *testing.T, c net.Conn, user string) {
	t.Helper()
	sm, _ := (&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30,
		Parameters: map[string]string{"user": user, "database": "postgres"}}).Encode(nil)
	c.Write(sm) // may already fail: the server may have closed
	var b [1]byte
	n, err := c.Read(b[:])
	if n != 0 || err == nil {
		t.Fatalf("got %d bytes (%q), %v; want the connection closed", n, b[:n], err)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("connection left open: %v", err)
	}
}
