package proxy_test

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/pgmantle/pgmantle/internal/pgtest"
)

// TestReplicationRefused: replication connections are refused with 0A000;
// replication=false is an ordinary session.
func TestReplicationRefused(t *testing.T) {
	t.Parallel()
	p := startProxy(t, nil)
	for _, v := range []string{"database", "true", "on"} {
		_, err := pgconn.Connect(pgtest.Context(t), p.dsn("postgres", "", "postgres", "replication="+v))
		pe := wantCode(t, err, "0A000")
		if pe.Message != "pgmantle does not relay replication connections" || pe.Severity != "FATAL" {
			t.Fatalf("replication=%s: %s %q", v, pe.Severity, pe.Message)
		}
	}
	conn, err := pgconn.Connect(pgtest.Context(t), p.dsn("postgres", "", "postgres", "replication=false"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(pgtest.Context(t))
	if _, err := conn.Exec(pgtest.Context(t), "SELECT 1").ReadAll(); err != nil {
		t.Fatal(err)
	}
}

// startupPacket encodes a startup packet with an arbitrary protocol
// version.
func startupPacket(version uint32, params ...string) []byte {
	buf := make([]byte, 8, 64)
	binary.BigEndian.PutUint32(buf[4:], version)
	for _, p := range params {
		buf = append(buf, p...)
		buf = append(buf, 0)
	}
	buf = append(buf, 0)
	binary.BigEndian.PutUint32(buf, uint32(len(buf)))
	return buf
}

// TestProtocolVersions: protocol 2.0 gets an ErrorResponse 0A000; a 3.2
// request (with an unknown _pq_ option) gets the same
// NegotiateProtocolVersion as from PostgreSQL 15 and then a working
// session; pgx asking for up to 3.2 works.
func TestProtocolVersions(t *testing.T) {
	t.Parallel()
	p := startProxy(t, nil)
	c := pgtest.Cluster(t)
	dial := func(addr string) *wireConn {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		return &wireConn{tb: t, conn: conn, br: bufio.NewReader(conn)}
	}

	t.Run("v2", func(t *testing.T) {
		w := dial(p.addr).with(t)
		w.conn.Write(startupPacket(2<<16, "user", "postgres", "database", "postgres"))
		m := w.read()
		if m.typ() != 'E' {
			t.Fatalf("got %v, want an ErrorResponse", m)
		}
		var er pgproto3.ErrorResponse
		if err := er.Decode(m[5:]); err != nil {
			t.Fatal(err)
		}
		if er.Code != "0A000" || er.Severity != "FATAL" {
			t.Fatalf("got %s %s %q", er.Severity, er.Code, er.Message)
		}
		// Then the connection is closed.
		w.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		if n, err := w.br.Read(make([]byte, 1)); n != 0 || err == nil {
			t.Fatalf("connection still open after the error: %d, %v", n, err)
		}
		// PostgreSQL answers in the 2.0 format ('E', then a string), with
		// the same text.
		d := dial(c.Addr())
		d.conn.Write(startupPacket(2<<16, "user", "postgres", "database", "postgres"))
		d.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		direct, _ := io.ReadAll(d.br)
		if !bytes.HasPrefix(direct, []byte("E")) || !bytes.Contains(direct, []byte("FATAL:  "+er.Message+"\n")) {
			t.Fatalf("PostgreSQL says %q, the proxy %q", direct, er.Message)
		}
	})

	t.Run("v3.2", func(t *testing.T) {
		startup := startupPacket(pgproto3.ProtocolVersion32, "user", "postgres", "database", "postgres",
			"_pq_.pgmantle_test", "1", "application_name", "v32")
		var first [2]wireMsg
		for i, addr := range []string{c.Addr(), p.addr} {
			w := dial(addr).with(t)
			w.conn.Write(startup)
			msgs := w.readUntil('Z', 1)
			first[i] = msgs[0]
			if msgs[0].typ() != 'v' {
				t.Fatalf("%s: first message %v, want NegotiateProtocolVersion", addr, msgs[0])
			}
			var npv pgproto3.NegotiateProtocolVersion
			if err := npv.Decode(msgs[0][5:]); err != nil {
				t.Fatal(err)
			}
			// PostgreSQL puts the whole version, 3.0, in the field pgproto3
			// calls NewestMinorProtocol.
			if npv.NewestMinorProtocol != pgproto3.ProtocolVersion30 || len(npv.UnrecognizedOptions) != 1 || npv.UnrecognizedOptions[0] != "_pq_.pgmantle_test" {
				t.Fatalf("%s: %+v", addr, npv)
			}
			// The session works at 3.0.
			got := w.query("SELECT current_setting('application_name')")
			if len(got) != 4 || got[1].typ() != 'D' || !bytes.Contains(got[1], []byte("v32")) {
				t.Fatalf("%s: query after negotiation: %v", addr, got)
			}
		}
		if !bytes.Equal(first[0], first[1]) {
			t.Fatalf("NegotiateProtocolVersion differs: direct %v, proxied %v", first[0], first[1])
		}
	})

	t.Run("pgx_max_3.2", func(t *testing.T) {
		conn := pgtest.Connect(t, p.dsn("postgres", "", "postgres", "max_protocol_version=3.2"))
		var n int
		if err := conn.QueryRow(pgtest.Context(t), "SELECT $1::int + 1", 41).Scan(&n); err != nil || n != 42 {
			t.Fatalf("%d, %v", n, err)
		}
		// pgx requires 3.2 when told to: refused as by PostgreSQL 15.
		_, err := tryConnect(p.dsn("postgres", "", "postgres", "min_protocol_version=3.2"))
		if err == nil {
			t.Fatal("min_protocol_version=3.2 accepted by a 3.0 session")
		}
	})
}
