package proxy

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
)

// scriptConn is a net.Conn that reads a fixed script and records writes.
type scriptConn struct {
	r   io.Reader
	out bytes.Buffer
}

func (c *scriptConn) Read(p []byte) (int, error)       { return c.r.Read(p) }
func (c *scriptConn) Write(p []byte) (int, error)      { return c.out.Write(p) }
func (c *scriptConn) Close() error                     { return nil }
func (c *scriptConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (c *scriptConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (c *scriptConn) SetDeadline(time.Time) error      { return nil }
func (c *scriptConn) SetReadDeadline(time.Time) error  { return nil }
func (c *scriptConn) SetWriteDeadline(time.Time) error { return nil }

func startupSeeds() [][]byte {
	sm, _ := (&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30,
		Parameters: map[string]string{"user": "u", "database": "d"}}).Encode(nil)
	cr, _ := (&pgproto3.CancelRequest{ProcessID: 1, SecretKey: []byte{1, 2, 3, 4}}).Encode(nil)
	ssl := []byte{0, 0, 0, 8, 4, 210, 22, 47}
	gss := []byte{0, 0, 0, 8, 4, 210, 22, 48}
	return [][]byte{sm, cr, append(append([]byte{}, ssl...), sm...), append(append([]byte{}, gss...), sm...),
		{0, 0, 0, 8, 0, 2, 0, 0}, {0, 0, 0, 9, 0, 3, 0, 2, 0}, {0xff, 0xff, 0xff, 0xff},
		{0x16, 3, 1, 0, 5, 1, 0, 0, 1, 0}} // a direct TLS ClientHello's start
}

// FuzzStartup feeds arbitrary bytes to the startup negotiation: it must
// never panic, and a startup it accepts always names a user.
func FuzzStartup(f *testing.F) {
	for _, s := range startupSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		srv := &Server{}
		h, err := srv.sniff(&scriptConn{r: bytes.NewReader(data)})
		if err != nil {
			return
		}
		if h.cancel == nil && h.params["user"] == "" {
			t.Fatal("startup accepted without a user")
		}
	})
}

// newFuzzSession is a session whose connections are scripts.
func newFuzzSession(client, server io.Reader) (*session, *scriptConn, *scriptConn) {
	cc := &scriptConn{r: client}
	sc := &scriptConn{r: server}
	ss := &session{
		srv: &Server{}, client: cc, server: sc, reg: newRegistry(),
		cr: newMsgReader(cc, 1<<20), cw: bufio.NewWriter(cc),
		sr: newMsgReader(sc, 0), sw: bufio.NewWriter(sc),
	}
	ss.param = ss.Parameter
	return ss, cc, sc
}

// FuzzClientMessages feeds arbitrary client traffic to the client-to-server
// loop: it must never panic.
func FuzzClientMessages(f *testing.F) {
	var seed []byte
	seed, _ = (&pgproto3.Query{String: "SELECT 1"}).Encode(seed)
	seed, _ = (&pgproto3.Parse{Name: "s", Query: "SELECT $1"}).Encode(seed)
	seed, _ = (&pgproto3.Bind{PreparedStatement: "s", Parameters: [][]byte{[]byte("1")}, ResultFormatCodes: []int16{1}}).Encode(seed)
	seed, _ = (&pgproto3.Describe{ObjectType: 'P'}).Encode(seed)
	seed, _ = (&pgproto3.Execute{}).Encode(seed)
	seed, _ = (&pgproto3.Sync{}).Encode(seed)
	f.Add(seed, true)
	f.Add(seed, false)
	f.Fuzz(func(t *testing.T, data []byte, intercept bool) {
		ss, _, _ := newFuzzSession(bytes.NewReader(data), bytes.NewReader(nil))
		if intercept {
			ss.ic, ss.described = blank{}, map[string]bool{}
		}
		ss.clientToServer()
	})
}

// FuzzServerMessages feeds arbitrary server traffic to the server-to-client
// loop with a rewriter that blanks every value. Whatever arrives, every
// DataRow and CopyData the client receives must have passed through the
// rewriter: nothing is relayed unprocessed.
func FuzzServerMessages(f *testing.F) {
	var seed []byte
	seed, _ = (&pgproto3.RowDescription{Fields: []pgproto3.FieldDescription{{Name: []byte("a"), DataTypeOID: 25}}}).Encode(seed)
	seed, _ = (&pgproto3.DataRow{Values: [][]byte{[]byte("secret")}}).Encode(seed)
	seed, _ = (&pgproto3.CommandComplete{CommandTag: []byte("SELECT 1")}).Encode(seed)
	seed, _ = (&pgproto3.ReadyForQuery{TxStatus: 'I'}).Encode(seed)
	seed, _ = (&pgproto3.ParseComplete{}).Encode(seed)
	seed, _ = (&pgproto3.BindComplete{}).Encode(seed)
	seed, _ = (&pgproto3.RowDescription{Fields: []pgproto3.FieldDescription{{Name: []byte("b"), DataTypeOID: 25}}}).Encode(seed)
	seed, _ = (&pgproto3.DataRow{Values: [][]byte{[]byte("secret")}}).Encode(seed)
	seed, _ = (&pgproto3.CopyOutResponse{}).Encode(seed)
	seed, _ = (&pgproto3.CopyData{Data: []byte("secret")}).Encode(seed)
	f.Add(seed)
	f.Fuzz(func(t *testing.T, data []byte) {
		ss, cc, _ := newFuzzSession(bytes.NewReader(nil), bytes.NewReader(data))
		ss.ic = blank{}
		for _, r := range []request{{kind: reqQuery, sql: "q"}, {kind: reqParse, sql: "p"}, {kind: reqBind},
			{kind: reqDescribePortal, injected: true}, {kind: reqExecute}, {kind: reqSync}, {kind: reqQuery}} {
			ss.q.push(r)
		}
		ss.serverToClient()
		ss.cw.Flush()
		checkBlanked(t, cc.out.Bytes())
	})
}

// checkBlanked asserts that every DataRow value and CopyData payload in a
// client-bound stream is the blank marker.
func checkBlanked(t *testing.T, stream []byte) {
	r := newMsgReader(bytes.NewReader(stream), 0)
	for {
		m, err := r.next()
		if err != nil {
			return
		}
		switch m.typ {
		case 'D':
			var row pgproto3.DataRow
			if err := row.Decode(m.body); err != nil {
				t.Fatalf("client got a malformed DataRow")
			}
			for _, v := range row.Values {
				if v != nil && string(v) != "*" {
					t.Fatalf("client got an unprocessed value %q", v)
				}
			}
		case 'd':
			if string(m.body) != "*" {
				t.Fatalf("client got unprocessed COPY data %q", m.body)
			}
		}
	}
}

// blank is an interceptor that replaces every value with "*".
type blank struct{}

func (blank) Result(*ResultSet) (RowRewriter, error) { return blankRows{}, nil }

type blankRows struct{}

var star = []byte("*")

func (blankRows) RewriteRow(values [][]byte) error {
	for i, v := range values {
		if v != nil {
			values[i] = star
		}
	}
	return nil
}
