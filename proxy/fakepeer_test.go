package proxy_test

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/pgmantle/pgmantle/proxy"
)

// fakeServer is a scripted PostgreSQL backend for protocol edge cases a
// real server cannot produce. Each accepted connection runs script.
type fakeServer struct {
	l       net.Listener
	conns   chan *fakeConn
	cancels chan *pgproto3.CancelRequest
}

// fakeConn is one upstream connection the fake server accepted.
type fakeConn struct {
	net.Conn
	be      *pgproto3.Backend
	startup *pgproto3.StartupMessage
}

func newFakeServer(t *testing.T, script func(t *testing.T, c *fakeConn)) *fakeServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fs := &fakeServer{l: l, conns: make(chan *fakeConn, 16), cancels: make(chan *pgproto3.CancelRequest, 16)}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				conn.SetDeadline(time.Now().Add(20 * time.Second))
				be := pgproto3.NewBackend(conn, conn)
				msg, err := be.ReceiveStartupMessage()
				if err != nil {
					return
				}
				switch m := msg.(type) {
				case *pgproto3.CancelRequest:
					fs.cancels <- m
					return
				case *pgproto3.StartupMessage:
					fc := &fakeConn{Conn: conn, be: be, startup: m}
					fs.conns <- fc
					script(t, fc)
				}
			}()
		}
	}()
	return fs
}

func (fs *fakeServer) addr() string { return fs.l.Addr().String() }

// login answers a startup with trust authentication, a BackendKeyData and
// ReadyForQuery.
func (c *fakeConn) login() {
	c.send(&pgproto3.AuthenticationOk{},
		&pgproto3.ParameterStatus{Name: "server_version", Value: "15.0"},
		&pgproto3.BackendKeyData{ProcessID: 4242, SecretKey: []byte{1, 2, 3, 4}},
		&pgproto3.ReadyForQuery{TxStatus: 'I'})
}

func (c *fakeConn) send(msgs ...pgproto3.BackendMessage) {
	for _, m := range msgs {
		c.be.Send(m)
	}
	c.be.Flush()
}

func (c *fakeConn) recv(t *testing.T) pgproto3.FrontendMessage {
	m, err := c.be.Receive()
	if err != nil {
		return nil
	}
	return m
}

// fakeClient is a raw protocol client.
type fakeClient struct {
	net.Conn
	fe *pgproto3.Frontend
}

func dialRaw(t *testing.T, addr string) *fakeClient {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	return &fakeClient{Conn: conn, fe: pgproto3.NewFrontend(conn, conn)}
}

// startup sends a StartupMessage for user "alice".
func (c *fakeClient) startup(t *testing.T) {
	t.Helper()
	c.fe.Send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30,
		Parameters: map[string]string{"user": "alice", "database": "db"}})
	if err := c.fe.Flush(); err != nil {
		t.Fatal(err)
	}
}

// readUntilReady reads messages until ReadyForQuery or an error, returning
// them.
func (c *fakeClient) readUntil(t *testing.T, stop func(pgproto3.BackendMessage) bool) []pgproto3.BackendMessage {
	t.Helper()
	var out []pgproto3.BackendMessage
	for {
		m, err := c.fe.Receive()
		if err != nil {
			return out
		}
		out = append(out, copyMsg(m))
		if stop(m) {
			return out
		}
	}
}

func isReady(m pgproto3.BackendMessage) bool { _, ok := m.(*pgproto3.ReadyForQuery); return ok }
func never(pgproto3.BackendMessage) bool     { return false }

// copyMsg detaches a received message from the frontend's buffer.
func copyMsg(m pgproto3.BackendMessage) pgproto3.BackendMessage {
	buf, err := m.Encode(nil)
	if err != nil {
		return m
	}
	fe := pgproto3.NewFrontend(&byteReader{b: buf}, io.Discard)
	if _, ok := m.(*pgproto3.AuthenticationSASL); ok {
		return m
	}
	c, err := fe.Receive()
	if err != nil {
		return m
	}
	return c
}

type byteReader struct{ b []byte }

func (r *byteReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.b)
	r.b = r.b[n:]
	return n, nil
}

// lastError returns the ErrorResponse among msgs, failing if none.
func lastError(t *testing.T, msgs []pgproto3.BackendMessage) *pgproto3.ErrorResponse {
	t.Helper()
	for i := len(msgs) - 1; i >= 0; i-- {
		if e, ok := msgs[i].(*pgproto3.ErrorResponse); ok {
			return e
		}
	}
	t.Fatalf("no ErrorResponse in %d messages: %T", len(msgs), msgs)
	return nil
}

func proxyTo(t *testing.T, upstream string, configure func(*proxy.Server)) *testProxy {
	return startProxy(t, func(s *proxy.Server) {
		s.UpstreamAddr = upstream
		if configure != nil {
			configure(s)
		}
	})
}

// waitClosed waits until the peer of conn closes it.
func waitClosed(t *testing.T, conn net.Conn, what string) {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 4096)
	for {
		_, err := conn.Read(buf)
		if err == nil {
			continue
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("%s: connection not closed", what)
		}
		return
	}
}

func TestMalformedClientMessageLength(t *testing.T) {
	upstreamClosed := make(chan struct{})
	fs := newFakeServer(t, func(t *testing.T, c *fakeConn) {
		c.login()
		waitClosed(t, c.Conn, "upstream")
		close(upstreamClosed)
	})
	p := proxyTo(t, fs.addr(), nil)
	c := dialRaw(t, p.addr)
	c.startup(t)
	c.readUntil(t, isReady)
	c.Write([]byte{'Q', 0, 0, 0, 2}) // length below the minimum of 4
	e := lastError(t, c.readUntil(t, never))
	if e.Code != "08P01" || e.Severity != "FATAL" {
		t.Fatalf("got %s %s %q, want FATAL 08P01", e.Severity, e.Code, e.Message)
	}
	<-upstreamClosed
}

func TestOversizedClientMessage(t *testing.T) {
	fs := newFakeServer(t, func(t *testing.T, c *fakeConn) {
		c.login()
		for {
			if m := c.recv(t); m == nil {
				return
			} else if _, ok := m.(*pgproto3.Query); ok {
				t.Error("oversized Query reached the server")
			}
		}
	})
	p := proxyTo(t, fs.addr(), func(s *proxy.Server) { s.MaxMessageSize = 4096 })
	c := dialRaw(t, p.addr)
	c.startup(t)
	c.readUntil(t, isReady)
	var hdr [5]byte
	hdr[0] = 'Q'
	binary.BigEndian.PutUint32(hdr[1:], 4+100000)
	c.Write(hdr[:]) // announce 100 kB; the proxy must refuse before reading it
	e := lastError(t, c.readUntil(t, never))
	if e.Code != "08P01" {
		t.Fatalf("got %s %q, want 08P01", e.Code, e.Message)
	}
}

func TestClientVanishesClosesUpstream(t *testing.T) {
	upstreamClosed := make(chan struct{})
	fs := newFakeServer(t, func(t *testing.T, c *fakeConn) {
		c.login()
		waitClosed(t, c.Conn, "upstream")
		close(upstreamClosed)
	})
	p := proxyTo(t, fs.addr(), nil)
	c := dialRaw(t, p.addr)
	c.startup(t)
	c.readUntil(t, isReady)
	c.Write([]byte{'Q', 0, 0, 0, 20, 'S', 'E'}) // half a message, then gone
	c.Close()
	<-upstreamClosed
}

func TestUpstreamLostSendsError(t *testing.T) {
	fs := newFakeServer(t, func(t *testing.T, c *fakeConn) {
		c.login()
		c.recv(t) // the Query
		c.send(&pgproto3.RowDescription{Fields: []pgproto3.FieldDescription{{Name: []byte("a"), DataTypeOID: 25, Format: 0}}})
		c.Close() // mid-result
	})
	p := proxyTo(t, fs.addr(), nil)
	c := dialRaw(t, p.addr)
	c.startup(t)
	c.readUntil(t, isReady)
	c.fe.Send(&pgproto3.Query{String: "SELECT a FROM t"})
	c.fe.Flush()
	e := lastError(t, c.readUntil(t, never))
	if e.Code != "08006" || e.Severity != "FATAL" {
		t.Fatalf("got %s %s %q, want FATAL 08006", e.Severity, e.Code, e.Message)
	}
}

func TestServerFatalRelayedAlone(t *testing.T) {
	fs := newFakeServer(t, func(t *testing.T, c *fakeConn) {
		c.login()
		c.send(&pgproto3.ErrorResponse{Severity: "FATAL", SeverityUnlocalized: "FATAL", Code: "57P01",
			Message: "terminating connection due to administrator command"})
		c.Close()
	})
	p := proxyTo(t, fs.addr(), nil)
	c := dialRaw(t, p.addr)
	c.startup(t)
	c.readUntil(t, isReady)
	msgs := c.readUntil(t, never)
	var errs []string
	for _, m := range msgs {
		if e, ok := m.(*pgproto3.ErrorResponse); ok {
			errs = append(errs, e.Code)
		}
	}
	if len(errs) != 1 || errs[0] != "57P01" {
		t.Fatalf("client saw errors %v, want only the server's 57P01", errs)
	}
}

func TestPipelineErrorSkipsToSync(t *testing.T) {
	// The server fails the second Execute of a pipeline; PostgreSQL then
	// ignores everything until Sync. The proxy must stay in step and relay
	// the next query's rows normally.
	fs := newFakeServer(t, func(t *testing.T, c *fakeConn) {
		c.login()
		for i := 0; i < 9; i++ { // P B E P B E P B E
			c.recv(t)
		}
		c.recv(t) // Sync
		c.send(&pgproto3.ParseComplete{}, &pgproto3.BindComplete{},
			&pgproto3.DataRow{Values: [][]byte{[]byte("1")}}, &pgproto3.CommandComplete{CommandTag: []byte("SELECT 1")},
			&pgproto3.ParseComplete{}, &pgproto3.BindComplete{},
			&pgproto3.ErrorResponse{Severity: "ERROR", Code: "22012", Message: "division by zero"},
			&pgproto3.ReadyForQuery{TxStatus: 'I'})
		c.recv(t) // Query
		c.send(&pgproto3.RowDescription{Fields: []pgproto3.FieldDescription{{Name: []byte("x"), DataTypeOID: 25}}},
			&pgproto3.DataRow{Values: [][]byte{[]byte("after")}},
			&pgproto3.CommandComplete{CommandTag: []byte("SELECT 1")},
			&pgproto3.ReadyForQuery{TxStatus: 'I'})
		waitClosed(t, c.Conn, "upstream")
	})
	p := proxyTo(t, fs.addr(), nil)
	c := dialRaw(t, p.addr)
	c.startup(t)
	c.readUntil(t, isReady)
	for _, q := range []string{"SELECT 1", "SELECT 1/0", "SELECT 3"} {
		c.fe.SendParse(&pgproto3.Parse{Query: q})
		c.fe.SendBind(&pgproto3.Bind{})
		c.fe.SendExecute(&pgproto3.Execute{})
	}
	c.fe.SendSync(&pgproto3.Sync{})
	c.fe.Flush()
	msgs := c.readUntil(t, isReady)
	if e := lastError(t, msgs); e.Code != "22012" {
		t.Fatalf("got %s, want 22012", e.Code)
	}
	c.fe.Send(&pgproto3.Query{String: "SELECT 'after'"})
	c.fe.Flush()
	msgs = c.readUntil(t, isReady)
	var got string
	for _, m := range msgs {
		if d, ok := m.(*pgproto3.DataRow); ok {
			got = string(d.Values[0])
		}
	}
	if got != "after" {
		t.Fatalf("after the pipeline error got %q (messages %T)", got, msgs)
	}
}

func TestResponseWithoutRequestFailsClosed(t *testing.T) {
	fs := newFakeServer(t, func(t *testing.T, c *fakeConn) {
		c.login()
		c.recv(t)
		// A DataRow answering a Parse: the queue cannot tie it to a result.
		c.send(&pgproto3.DataRow{Values: [][]byte{[]byte("secret")}})
		waitClosed(t, c.Conn, "upstream")
	})
	p := proxyTo(t, fs.addr(), func(s *proxy.Server) {
		s.Intercept = func(*proxy.SessionInfo) (proxy.Interceptor, error) { return upper{}, nil }
	})
	c := dialRaw(t, p.addr)
	c.startup(t)
	c.readUntil(t, isReady)
	c.fe.SendParse(&pgproto3.Parse{Query: "SELECT 1"})
	c.fe.SendSync(&pgproto3.Sync{})
	c.fe.Flush()
	msgs := c.readUntil(t, never)
	for _, m := range msgs {
		if _, ok := m.(*pgproto3.DataRow); ok {
			t.Fatal("an uncorrelated DataRow reached the client")
		}
	}
	if e := lastError(t, msgs); e.Code != "XX000" {
		t.Fatalf("got %s, want XX000", e.Code)
	}
}

func TestUnknownServerMessageFailsClosed(t *testing.T) {
	fs := newFakeServer(t, func(t *testing.T, c *fakeConn) {
		c.login()
		c.recv(t)
		c.Write([]byte{'!', 0, 0, 0, 4})
		waitClosed(t, c.Conn, "upstream")
	})
	p := proxyTo(t, fs.addr(), nil)
	c := dialRaw(t, p.addr)
	c.startup(t)
	c.readUntil(t, isReady)
	c.fe.Send(&pgproto3.Query{String: "SELECT 1"})
	c.fe.Flush()
	if e := lastError(t, c.readUntil(t, never)); e.Code != "08P01" {
		t.Fatalf("got %s, want 08P01", e.Code)
	}
}

func TestSASLChannelBindingStripped(t *testing.T) {
	fs := newFakeServer(t, func(t *testing.T, c *fakeConn) {
		c.send(&pgproto3.AuthenticationSASL{AuthMechanisms: []string{"SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"}})
		c.Close()
	})
	p := proxyTo(t, fs.addr(), nil)
	c := dialRaw(t, p.addr)
	c.startup(t)
	m, err := c.fe.Receive()
	if err != nil {
		t.Fatal(err)
	}
	sasl, ok := m.(*pgproto3.AuthenticationSASL)
	if !ok {
		t.Fatalf("got %T, want AuthenticationSASL", m)
	}
	if len(sasl.AuthMechanisms) != 1 || sasl.AuthMechanisms[0] != "SCRAM-SHA-256" {
		t.Fatalf("client offered %v, want only SCRAM-SHA-256", sasl.AuthMechanisms)
	}
}

func TestUnsupportedAuthMethods(t *testing.T) {
	for name, req := range map[string]pgproto3.BackendMessage{
		"only channel binding": &pgproto3.AuthenticationSASL{AuthMechanisms: []string{"SCRAM-SHA-256-PLUS"}},
		"GSS":                  &pgproto3.AuthenticationGSS{},
	} {
		t.Run(name, func(t *testing.T) {
			fs := newFakeServer(t, func(t *testing.T, c *fakeConn) { c.send(req); waitClosed(t, c.Conn, "upstream") })
			p := proxyTo(t, fs.addr(), nil)
			c := dialRaw(t, p.addr)
			c.startup(t)
			if e := lastError(t, c.readUntil(t, never)); e.Code != "0A000" {
				t.Fatalf("got %s %q, want 0A000", e.Code, e.Message)
			}
		})
	}
}

// loggedInWithKey starts a fake upstream that logs in and then waits, a
// proxy in front of it and a logged-in raw client, and returns the proxy
// and the BackendKeyData the client was given.
func loggedInWithKey(t *testing.T) (*fakeServer, *testProxy, *pgproto3.BackendKeyData) {
	t.Helper()
	fs := newFakeServer(t, func(t *testing.T, c *fakeConn) {
		c.login()
		waitClosed(t, c.Conn, "upstream")
	})
	p := proxyTo(t, fs.addr(), nil)
	c := dialRaw(t, p.addr)
	c.startup(t)
	var key *pgproto3.BackendKeyData
	for _, m := range c.readUntil(t, isReady) {
		if k, ok := m.(*pgproto3.BackendKeyData); ok {
			key = k
		}
	}
	if key == nil {
		t.Fatal("no BackendKeyData")
	}
	return fs, p, key
}

func TestBackendKeyReplacedAndCancelMapped(t *testing.T) {
	fs, p, key := loggedInWithKey(t)
	if key.ProcessID == 4242 || string(key.SecretKey) == "\x01\x02\x03\x04" {
		t.Fatal("the client saw the upstream's backend key")
	}
	sendCancel := func(pid uint32, secret []byte) {
		conn, err := net.Dial("tcp", p.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		buf, _ := (&pgproto3.CancelRequest{ProcessID: pid, SecretKey: secret}).Encode(nil)
		conn.Write(buf)
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		io.Copy(io.Discard, conn) // the proxy closes when done
	}
	wrong := append([]byte(nil), key.SecretKey...)
	wrong[0] ^= 0xff
	sendCancel(key.ProcessID, wrong)
	sendCancel(key.ProcessID+1, key.SecretKey)
	sendCancel(key.ProcessID, key.SecretKey)
	select {
	case cr := <-fs.cancels:
		if cr.ProcessID != 4242 || string(cr.SecretKey) != "\x01\x02\x03\x04" {
			t.Fatalf("upstream got cancel for %d, want the upstream key 4242", cr.ProcessID)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the valid cancel request did not reach the server")
	}
	select {
	case <-fs.cancels:
		t.Fatal("a wrong key was forwarded")
	case <-time.After(200 * time.Millisecond):
	}
}

func TestSSLAndGSSNegotiationWithoutTLS(t *testing.T) {
	fs := newFakeServer(t, func(t *testing.T, c *fakeConn) { c.login(); waitClosed(t, c.Conn, "upstream") })
	p := proxyTo(t, fs.addr(), nil)
	c := dialRaw(t, p.addr)
	for _, code := range []uint32{80877104, 80877103} { // GSSENCRequest, SSLRequest
		var req [8]byte
		binary.BigEndian.PutUint32(req[0:], 8)
		binary.BigEndian.PutUint32(req[4:], code)
		c.Write(req[:])
		var answer [1]byte
		if _, err := io.ReadFull(c, answer[:]); err != nil || answer[0] != 'N' {
			t.Fatalf("request %d: answer %q, %v; want N", code, answer[0], err)
		}
	}
	c.startup(t)
	msgs := c.readUntil(t, isReady)
	if !isReady(msgs[len(msgs)-1]) {
		t.Fatal("startup did not complete after N answers")
	}
}

func TestStartupDeadline(t *testing.T) {
	fs := newFakeServer(t, func(t *testing.T, c *fakeConn) {})
	p := proxyTo(t, fs.addr(), func(s *proxy.Server) { s.StartupTimeout = 200 * time.Millisecond })
	c := dialRaw(t, p.addr)
	waitClosed(t, c, "silent client") // nothing sent: the proxy must hang up
}

func TestInvalidStartupPacket(t *testing.T) {
	fs := newFakeServer(t, func(t *testing.T, c *fakeConn) { t.Error("a bad startup packet reached the server") })
	p := proxyTo(t, fs.addr(), nil)
	for name, pkt := range map[string][]byte{
		"too long":     {0, 0, 0x30, 0x39, 0, 3, 0, 0},
		"too short":    {0, 0, 0, 4},
		"protocol 2.0": {0, 0, 0, 8, 0, 2, 0, 0},
		"no user":      {0, 0, 0, 9, 0, 3, 0, 0, 0},
	} {
		t.Run(name, func(t *testing.T) {
			c := dialRaw(t, p.addr)
			c.Write(pkt)
			e := lastError(t, c.readUntil(t, never))
			if e.Severity != "FATAL" {
				t.Fatalf("got %s %s %q", e.Severity, e.Code, e.Message)
			}
		})
	}
}

// upper is a test interceptor that upper-cases ASCII text values.
type upper struct{}

func (upper) Result(rs *proxy.ResultSet) (proxy.RowRewriter, error) { return upperRows{}, nil }

type upperRows struct{}

func (upperRows) RewriteRow(values [][]byte) error {
	for _, v := range values {
		for i, c := range v {
			if c >= 'a' && c <= 'z' {
				v[i] = c - 32
			}
		}
	}
	return nil
}
