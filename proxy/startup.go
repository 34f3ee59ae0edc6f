package proxy

import (
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5/pgproto3"
)

// Startup packet codes (PostgreSQL src/include/libpq/pqcomm.h).
const (
	codeSSLRequest    = 80877103
	codeGSSENCRequest = 80877104
	codeCancelRequest = 80877102
	// maxStartupPacket is PostgreSQL's MAX_STARTUP_PACKET_LENGTH.
	maxStartupPacket = 10000
	// maxNameBytes is NAMEDATALEN-1: PostgreSQL cuts longer user and
	// database names in the startup packet to this many bytes.
	maxNameBytes = 63
)

// clientHello is what the startup phase learned about a new client.
type clientHello struct {
	conn      net.Conn // the client connection, TLS-wrapped when negotiated
	tls       bool
	params    map[string]string
	minor     uint16   // requested protocol minor version
	pqOptions []string // "_pq_." protocol options the client asked for
	cancel    *pgproto3.CancelRequest
}

// tlsHandshakeRecord is the first byte of a TLS handshake record: a client
// that opens with it negotiates TLS directly (PostgreSQL 17's
// sslnegotiation=direct) instead of sending an SSLRequest first. No
// startup packet starts with it: its first byte is the high byte of a
// length of at most maxStartupPacket.
const tlsHandshakeRecord = 0x16

// alpnPostgreSQL is the ALPN protocol name PostgreSQL registers; a direct
// TLS client must offer it.
const alpnPostgreSQL = "postgresql"

// readStartupPacket reads one length-prefixed startup-phase packet straight
// from the connection, without read-ahead: after an SSLRequest no byte may
// have been consumed that belongs to the TLS handshake. first, when not
// nil, is the packet's first byte, already read.
func readStartupPacket(r io.Reader, buf []byte, first []byte) ([]byte, error) {
	var hdr [4]byte
	n := copy(hdr[:], first)
	if _, err := io.ReadFull(r, hdr[n:]); err != nil {
		return nil, err
	}
	n = int(binary.BigEndian.Uint32(hdr[:]))
	if n < 8 || n > maxStartupPacket {
		return nil, fatalf(codeProtocolViolation, nil, "invalid length of startup packet")
	}
	var body []byte
	if cap(buf) >= n-4 {
		body = buf[:n-4]
	} else {
		body = make([]byte, n-4)
	}
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, err
	}
	return body, nil
}

// sniff runs the startup negotiation: SSLRequest and GSSENCRequest may
// precede the StartupMessage; a CancelRequest ends the exchange. The
// caller sets the startup deadline on conn. The hello comes back with an
// error too: its conn is where the refusal must be written, over TLS once
// TLS was negotiated (a plaintext ErrorResponse inside the TLS stream is
// a record error to the client).
func (s *Server) sniff(conn net.Conn) (*clientHello, error) {
	h := &clientHello{conn: conn}
	return h, s.negotiate(h)
}

// negotiate reads startup packets into h until a StartupMessage or a
// CancelRequest.
func (s *Server) negotiate(h *clientHello) error {
	first, err := s.directTLS(h)
	if err != nil {
		return err
	}
	buf := make([]byte, 0, 512)
	triedGSS := false
	for {
		body, err := readStartupPacket(h.conn, buf, first)
		first = nil
		if err != nil {
			return err
		}
		code := binary.BigEndian.Uint32(body)
		switch {
		case code == codeSSLRequest:
			if h.tls {
				return fatalf(codeProtocolViolation, nil, "SSLRequest received on an encrypted connection")
			}
			if s.ClientTLS == nil {
				if _, err := h.conn.Write([]byte{'N'}); err != nil {
					return err
				}
				continue
			}
			if _, err := h.conn.Write([]byte{'S'}); err != nil {
				return err
			}
			tc := tls.Server(h.conn, s.clientTLSConfig())
			if err := tc.Handshake(); err != nil {
				return &errClientHandshake{err: err}
			}
			h.conn, h.tls = tc, true
		case code == codeGSSENCRequest:
			if h.tls || triedGSS {
				return fatalf(codeProtocolViolation, nil, "unexpected GSSENCRequest")
			}
			triedGSS = true
			if _, err := h.conn.Write([]byte{'N'}); err != nil {
				return err
			}
		case code == codeCancelRequest:
			var cr pgproto3.CancelRequest
			if err := cr.Decode(body); err != nil {
				return fatalf(codeProtocolViolation, err, "invalid cancel request")
			}
			h.cancel = &cr
			return nil
		case code>>16 == 3:
			var sm pgproto3.StartupMessage
			// pgproto3 accepts 3.0 and 3.2 only; pgmantle speaks 3.0 and
			// negotiates any newer 3.x down, as PostgreSQL does.
			minor := uint16(code)
			binary.BigEndian.PutUint32(body, pgproto3.ProtocolVersion30)
			if err := sm.Decode(body); err != nil {
				return fatalf(codeProtocolViolation, err, "invalid startup packet layout")
			}
			h.params, h.minor = sm.Parameters, minor
			cutNames(h.params)
			for k := range h.params {
				if strings.HasPrefix(k, "_pq_.") {
					h.pqOptions = append(h.pqOptions, k)
					delete(h.params, k)
				}
			}
			return s.checkHello(h)
		default:
			return &Error{Severity: "FATAL", Code: codeFeatureNotSupported,
				Message: fmt.Sprintf("unsupported frontend protocol %d.%d: server supports 3.0 to 3.0", code>>16, code&0xffff)}
		}
	}
}

// directTLS reads the client's first byte. When it opens a TLS handshake
// (sslnegotiation=direct), directTLS completes the handshake, which must
// agree on ALPN "postgresql" as PostgreSQL 17 requires, and h.conn becomes
// the TLS connection; the startup packets then follow inside it. Otherwise
// the byte is handed back for the first packet. A direct TLS client is
// refused by closing the connection, as PostgreSQL does: it cannot read a
// plaintext ErrorResponse.
func (s *Server) directTLS(h *clientHello) ([]byte, error) {
	first := make([]byte, 1)
	if _, err := io.ReadFull(h.conn, first); err != nil {
		return nil, err
	}
	if first[0] != tlsHandshakeRecord {
		return first, nil
	}
	if s.ClientTLS == nil {
		return nil, errDirectTLSRefused("pgmantle has no TLS configured")
	}
	tc := tls.Server(&prefixConn{Conn: h.conn, prefix: first}, s.clientTLSConfig())
	if err := tc.Handshake(); err != nil {
		return nil, &errClientHandshake{direct: true, err: err}
	}
	if tc.ConnectionState().NegotiatedProtocol != alpnPostgreSQL {
		tc.Close()
		return nil, errDirectTLSRefused("the client did not offer ALPN protocol \"postgresql\"")
	}
	h.conn, h.tls = tc, true
	return nil, nil
}

// errClientHandshake is a failed TLS handshake with a client. Its text is
// fixed, so it may be logged: the TLS library's own message can quote what
// the client offered (protocol names, server names).
type errClientHandshake struct {
	direct bool
	err    error
}

func (e *errClientHandshake) Error() string {
	if e.direct {
		return "client TLS handshake failed (direct TLS)"
	}
	return "client TLS handshake failed"
}

func (e *errClientHandshake) Unwrap() error { return e.err }

// errDirectTLSRefused is the reason a direct TLS connection was closed
// without an answer: the client cannot be sent an ErrorResponse.
type errDirectTLSRefused string

func (e errDirectTLSRefused) Error() string {
	return "direct TLS connection refused: " + string(e)
}

// clientTLSConfig is ClientTLS with ALPN "postgresql" added, as PostgreSQL
// 17 advertises it: clients that offer ALPN must get it, clients that do
// not still connect through SSLRequest.
func (s *Server) clientTLSConfig() *tls.Config {
	s.tlsOnce.Do(func() {
		if s.ClientTLS == nil {
			return
		}
		c := s.ClientTLS.Clone()
		if !slices.Contains(c.NextProtos, alpnPostgreSQL) {
			c.NextProtos = append(c.NextProtos, alpnPostgreSQL)
		}
		s.alpnTLS = c
	})
	return s.alpnTLS
}

// prefixConn replays bytes already read from a connection before reading
// on from it.
type prefixConn struct {
	net.Conn
	prefix []byte
}

func (c *prefixConn) Read(p []byte) (int, error) {
	if len(c.prefix) > 0 {
		n := copy(p, c.prefix)
		c.prefix = c.prefix[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

// cutNames cuts the user and database names as PostgreSQL does before
// it authenticates (ProcessStartupPacket: bytes, not characters), so that
// the client-certificate check, the policy and the audit see the role
// PostgreSQL will log in, and the same name is sent upstream.
func cutNames(params map[string]string) {
	for _, k := range [...]string{"user", "database"} {
		if v := params[k]; len(v) > maxNameBytes {
			params[k] = v[:maxNameBytes]
		}
	}
}

// checkHello applies the connection rules that need no upstream: TLS
// required, client certificate, no replication, a user name.
func (s *Server) checkHello(h *clientHello) error {
	if s.RequireTLS && !h.tls {
		return &Error{Severity: "FATAL", Code: codeInvalidAuthorization,
			Message: "pgmantle requires an encrypted connection",
			Hint:    "Connect with sslmode=require or stronger."}
	}
	if v, ok := h.params["replication"]; ok && !isFalse(v) {
		return &Error{Severity: "FATAL", Code: codeFeatureNotSupported,
			Message: "pgmantle does not relay replication connections"}
	}
	user := h.params["user"]
	if user == "" {
		return &Error{Severity: "FATAL", Code: codeInvalidAuthorization,
			Message: "no PostgreSQL user name specified in startup packet"}
	}
	if s.VerifyClientCert {
		return s.checkClientCert(h.conn, user)
	}
	return nil
}

// checkClientCert enforces the client-certificate second factor: the TLS
// layer has already verified the chain against the configured CA; here the
// certificate must be present and its CN must be the user or map to it.
func (s *Server) checkClientCert(conn net.Conn, user string) error {
	tc, ok := conn.(*tls.Conn)
	if !ok {
		return &Error{Severity: "FATAL", Code: codeInvalidAuthorization,
			Message: "a client certificate is required; connect with TLS"}
	}
	certs := tc.ConnectionState().PeerCertificates
	if len(certs) == 0 {
		return &Error{Severity: "FATAL", Code: codeInvalidAuthorization,
			Message: "connection requires a valid client certificate"}
	}
	cn := certs[0].Subject.CommonName
	if cn == user || (s.CNMap[cn] != "" && s.CNMap[cn] == user) {
		return nil
	}
	return &Error{Severity: "FATAL", Code: codeInvalidAuthorization,
		Message: fmt.Sprintf("certificate authentication failed for user %q", user),
		Detail:  "The client certificate's common name is neither the user name nor mapped to it."}
}

func isFalse(v string) bool {
	switch strings.ToLower(v) {
	case "false", "off", "no", "0", "f", "n":
		return true
	}
	return false
}

var errClientGone = errors.New("client closed the connection")
