package proxy_test

// Red-team tests of the wire-protocol layer. TestRedteamWireFinding* each
// demonstrated a problem (the comment above each describes it as found)
// and now pin its fix; TestRedteamWireHolds* pin behaviour verified
// correct at the time.

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
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

// readToEOF reads everything until the peer closes (or 20 s pass) and
// returns the bytes.
func readToEOF(t *testing.T, conn net.Conn) []byte {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	b, err := io.ReadAll(conn)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatal("connection not closed")
	}
	return b
}

// TestRedteamWireFindingTerminateDropsPipelinedStatements: a client may
// pipeline statements and end with Terminate without waiting; PostgreSQL
// runs every message before the Terminate and then closes. pgmantle closes
// its upstream connection as soon as it has written the Terminate
// (clientToServer returns errClientTerminate and relay closes ss.server),
// so PostgreSQL's first write after that meets a reset socket, it ends the
// backend with "connection to client lost", and the statements still
// queued are silently never run.
func TestRedteamWireFindingTerminateDropsPipelinedStatements(t *testing.T) {
	p := startProxy(t, nil)
	c := pgtest.Cluster(t)
	table := uniqueName("rt_term")
	if err := c.Exec(pgtest.Context(t), "CREATE TABLE "+table+" (i int)"); err != nil {
		t.Fatal(err)
	}
	const n = 200
	run := func(addr string) int {
		w, _ := dialWire(t, addr)
		var msgs []pgproto3.FrontendMessage
		for i := 0; i < n; i++ {
			msgs = append(msgs, &pgproto3.Query{String: fmt.Sprintf("INSERT INTO %s VALUES (%d)", table, i)})
		}
		msgs = append(msgs, &pgproto3.Terminate{})
		w.send(msgs...)
		readToEOF(t, w.conn) // wait for the server to close, as the protocol says
		var count int
		conn := directConn(t)
		// The backend may still be finishing after closing its socket.
		time.Sleep(500 * time.Millisecond)
		if err := conn.QueryRow(pgtest.Context(t), "SELECT count(*) FROM "+table).Scan(&count); err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Exec(pgtest.Context(t), "TRUNCATE "+table); err != nil {
			t.Fatal(err)
		}
		return count
	}
	if got := run(c.Addr()); got != n {
		t.Fatalf("control: directly, PostgreSQL ran %d of %d pipelined INSERTs", got, n)
	}
	if got := run(p.addr); got != n {
		t.Fatalf("through pgmantle only %d of %d INSERTs pipelined before Terminate ran", got, n)
	}
}

// TestRedteamWireFindingLongCNTruncatedToOtherRole: PostgreSQL cuts the
// startup user name to NAMEDATALEN-1 = 63 bytes before it authenticates,
// but checkClientCert (startup.go) compares the certificate's CN with the
// whole, uncut name. A certificate issued to "<63-byte role>-contractor"
// therefore passes the client-certificate check for that long name, and
// PostgreSQL logs the session in as the 63-byte role: a certificate whose
// CN is not the role's name opens the role. (PostgreSQL's own cert
// authentication compares the CN with the cut name and refuses.)
func TestRedteamWireFindingLongCNTruncatedToOtherRole(t *testing.T) {
	c := pgtest.Cluster(t)
	victim := uniqueName("rt_victim")
	victim += strings.Repeat("v", 63-len(victim))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.CreateRole(ctx, victim, "", pgcluster.AuthTrust); err != nil {
		t.Fatal(err)
	}
	serverPKI := newPKI(t, "rt server CA")
	clientPKI := newPKI(t, "rt client CA")
	p := startProxy(t, func(s *proxy.Server) {
		s.ClientTLS = &tls.Config{
			Certificates: []tls.Certificate{serverPKI.server},
			ClientAuth:   tls.VerifyClientCertIfGiven,
			ClientCAs:    clientPKI.pool(),
		}
		s.VerifyClientCert = true
	})
	longCN := victim + "-contractor"
	certFile, keyFile := clientPKI.clientCert(t, longCN)
	dsn := p.dsn(longCN, "", "postgres", append(sslParams("verify-full", serverPKI.caFile),
		"sslcert="+certFile, "sslkey="+keyFile)...)
	conn, err := tryConnect(dsn)
	if err != nil {
		t.Logf("refused: %v", err)
		return
	}
	defer conn.Close(context.Background())
	t.Fatalf("a certificate for %q logged in as role %q", longCN, currentUser(t, conn))
}

// TestRedteamWireFindingStartupErrorAfterTLSSentInPlaintext: when the
// StartupMessage that follows a TLS handshake carries an unsupported
// protocol version, or a second SSLRequest arrives inside TLS, sniff
// returns a nil clientHello (startup.go), so run writes the ErrorResponse
// on the raw TCP connection, in the middle of the TLS stream. The client
// gets a TLS record error instead of PostgreSQL's message.
func TestRedteamWireFindingStartupErrorAfterTLSSentInPlaintext(t *testing.T) {
	pki := newPKI(t, "rt plaintext-error CA")
	p := startProxy(t, func(s *proxy.Server) {
		s.ClientTLS = &tls.Config{Certificates: []tls.Certificate{pki.server}}
	})
	for name, pkt := range map[string][]byte{
		"protocol 2.0": startupPacket(2<<16, "user", "postgres"),
		"SSLRequest":   {0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f},
	} {
		t.Run(name, func(t *testing.T) {
			raw := dialRaw(t, p.addr)
			raw.Write([]byte{0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f})
			var a [1]byte
			if _, err := io.ReadFull(raw, a[:]); err != nil || a[0] != 'S' {
				t.Fatalf("SSLRequest answer %q %v", a[0], err)
			}
			tc := tls.Client(raw.Conn, &tls.Config{RootCAs: pki.pool(), ServerName: "127.0.0.1"})
			if err := tc.Handshake(); err != nil {
				t.Fatal(err)
			}
			tc.Write(pkt)
			tc.SetReadDeadline(time.Now().Add(10 * time.Second))
			got, err := io.ReadAll(tc)
			if len(got) == 0 || got[0] != 'E' {
				t.Fatalf("client read %q over TLS (%v), want an ErrorResponse", got, err)
			}
		})
	}
}

// TestRedteamWireHoldsQueryDuringCopyInEndsSession: a Query sent in the
// middle of COPY FROM STDIN data is a protocol violation PostgreSQL answers
// with ERROR then FATAL ("protocol synchronization was lost"); pgmantle
// relays both and ends the session, so no phantom request stays queued.
func TestRedteamWireHoldsQueryDuringCopyInEndsSession(t *testing.T) {
	p := startProxy(t, func(s *proxy.Server) {
		s.Intercept = func(*proxy.SessionInfo) (proxy.Interceptor, error) { return upper{}, nil }
	})
	c, _ := dialWire(t, p.addr)
	c.query("CREATE TEMP TABLE rt_copy (a int)")
	c.send(&pgproto3.Query{String: "COPY rt_copy FROM STDIN"})
	c.readUntil('G', 1)
	c.send(&pgproto3.Query{String: "SELECT 'phantom'"})
	rest := readToEOF(t, c.conn)
	if !bytes.Contains(rest, []byte("FATAL")) || bytes.Contains(rest, []byte("XX000")) {
		t.Fatalf("got %q, want PostgreSQL's FATAL and no desync error", rest)
	}
}

// TestRedteamWireHoldsPlaintextAfterSSLRequestRefused: bytes pipelined
// after an SSLRequest (a StartupMessage, as in CVE-2021-23214) are fed to
// the TLS handshake, which fails; nothing reaches PostgreSQL.
func TestRedteamWireHoldsPlaintextAfterSSLRequestRefused(t *testing.T) {
	fs := newFakeServer(t, func(t *testing.T, c *fakeConn) { t.Error("a startup reached the server") })
	pki := newPKI(t, "rt sslrequest CA")
	p := proxyTo(t, fs.addr(), func(s *proxy.Server) {
		s.ClientTLS = &tls.Config{Certificates: []tls.Certificate{pki.server}}
	})
	raw := dialRaw(t, p.addr)
	pkt := append([]byte{0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f}, startupPacket(pgproto3.ProtocolVersion30, "user", "alice")...)
	pkt = append(pkt, 'Q', 0, 0, 0, 13, 'S', 'E', 'L', 'E', 'C', 'T', ' ', '1', 0)
	raw.Write(pkt)
	got := readToEOF(t, raw.Conn)
	if len(got) == 0 || got[0] != 'S' {
		t.Fatalf("answer %q, want S", got)
	}
	if bytes.Contains(got, []byte("ZI")) || bytes.Contains(got, []byte{'R', 0, 0, 0, 8}) {
		t.Fatalf("the plaintext startup was processed: %q", got)
	}
	time.Sleep(100 * time.Millisecond)
}

// TestRedteamWireHoldsDuplicateUserCheckedAsSent: with duplicate "user"
// parameters the last one wins both in the client-certificate check and
// in the startup packet sent upstream (the map is re-encoded), so the
// check cannot be made to look at a different user than PostgreSQL.
func TestRedteamWireHoldsDuplicateUserCheckedAsSent(t *testing.T) {
	fs := newFakeServer(t, func(t *testing.T, c *fakeConn) { c.login(); waitClosed(t, c.Conn, "upstream") })
	serverPKI := newPKI(t, "rt dup server CA")
	clientPKI := newPKI(t, "rt dup client CA")
	p := proxyTo(t, fs.addr(), func(s *proxy.Server) {
		s.ClientTLS = &tls.Config{Certificates: []tls.Certificate{serverPKI.server},
			ClientAuth: tls.VerifyClientCertIfGiven, ClientCAs: clientPKI.pool()}
		s.VerifyClientCert = true
	})
	certPEM, keyPEM, err := clientPKI.ca.Issue("alice", nil, true)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	try := func(params ...string) (accepted bool, upstreamUser string) {
		raw := dialRaw(t, p.addr)
		raw.Write([]byte{0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f})
		var a [1]byte
		io.ReadFull(raw, a[:])
		tc := tls.Client(raw.Conn, &tls.Config{RootCAs: serverPKI.pool(), ServerName: "127.0.0.1", Certificates: []tls.Certificate{cert}})
		if err := tc.Handshake(); err != nil {
			t.Fatal(err)
		}
		tc.Write(startupPacket(pgproto3.ProtocolVersion30, params...))
		fe := pgproto3.NewFrontend(tc, tc)
		for {
			m, err := fe.Receive()
			if err != nil {
				return false, ""
			}
			switch m.(type) {
			case *pgproto3.ErrorResponse:
				return false, ""
			case *pgproto3.ReadyForQuery:
				select {
				case fc := <-fs.conns:
					return true, fc.startup.Parameters["user"]
				case <-time.After(5 * time.Second):
					t.Fatal("no upstream connection")
				}
			}
		}
	}
	if ok, u := try("user", "mallory", "user", "alice"); !ok || u != "alice" {
		t.Fatalf("mallory,alice: accepted %v, upstream user %q", ok, u)
	}
	if ok, u := try("user", "alice", "user", "mallory"); ok {
		t.Fatalf("alice,mallory accepted as %q with alice's certificate", u)
	}
}

// TestRedteamWireHoldsOddCancelRequestsDropped: CancelRequests with a
// short body, a 3.2-style long secret, or a valid pid with a truncated
// secret are never forwarded upstream.
func TestRedteamWireHoldsOddCancelRequestsDropped(t *testing.T) {
	fs, p, key := loggedInWithKey(t)
	pkt := func(secret []byte, extra int) []byte {
		b := make([]byte, 12, 12+len(secret))
		binary.BigEndian.PutUint32(b[4:], 80877102)
		binary.BigEndian.PutUint32(b[8:], key.ProcessID)
		b = append(b, secret...)
		binary.BigEndian.PutUint32(b, uint32(len(b)+extra))
		return b
	}
	long := append(append([]byte(nil), key.SecretKey...), make([]byte, 28)...)
	for name, b := range map[string][]byte{
		"no secret":     pkt(nil, 0),
		"short secret":  pkt(key.SecretKey[:2], 0),
		"long secret":   pkt(long, 0),
		"length lies":   pkt(key.SecretKey, -2),
		"pid only, len": pkt(nil, 4)[:12],
	} {
		t.Run(name, func(t *testing.T) {
			conn, err := net.Dial("tcp", p.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			conn.Write(b)
			conn.SetReadDeadline(time.Now().Add(3 * time.Second))
			io.Copy(io.Discard, conn)
			select {
			case <-fs.cancels:
				t.Fatal("forwarded")
			case <-time.After(100 * time.Millisecond):
			}
		})
	}
}
