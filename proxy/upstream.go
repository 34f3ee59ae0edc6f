package proxy

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"fmt"
	"io"
	"maps"
	"net"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
)

// dialUpstream opens a connection to PostgreSQL and negotiates TLS as
// configured. It sends nothing else; the caller sends a StartupMessage or
// a CancelRequest.
func (s *Server) dialUpstream(ctx context.Context) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, s.connectTimeout())
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", s.UpstreamAddr)
	if err != nil {
		return nil, fatalf(codeCannotConnect, err, "pgmantle could not connect to the PostgreSQL server")
	}
	if s.UpstreamTLS == nil {
		return conn, nil
	}
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
		defer conn.SetDeadline(time.Time{})
	}
	var req [8]byte
	binary.BigEndian.PutUint32(req[0:], 8)
	binary.BigEndian.PutUint32(req[4:], codeSSLRequest)
	if _, err := conn.Write(req[:]); err != nil {
		conn.Close()
		return nil, fatalf(codeCannotConnect, err, "pgmantle could not connect to the PostgreSQL server")
	}
	var answer [1]byte
	if _, err := io.ReadFull(conn, answer[:]); err != nil {
		conn.Close()
		return nil, fatalf(codeCannotConnect, err, "pgmantle could not connect to the PostgreSQL server")
	}
	if answer[0] != 'S' {
		conn.Close()
		return nil, fatalf(codeCannotConnect, nil, "the PostgreSQL server does not support TLS, which pgmantle is configured to require")
	}
	tc := tls.Client(conn, s.UpstreamTLS)
	if err := tc.HandshakeContext(ctx); err != nil {
		conn.Close()
		return nil, fatalf(codeCannotConnect, err, "TLS handshake with the PostgreSQL server failed")
	}
	return tc, nil
}

// upstreamParams are the startup parameters sent to PostgreSQL: the
// client's, with Server.UpstreamParams' over them.
func (ss *session) upstreamParams() map[string]string {
	if ss.srv.UpstreamParams == nil {
		return ss.info.StartupParams
	}
	extra := ss.srv.UpstreamParams(ss.info.User, ss.info.Database)
	if len(extra) == 0 {
		return ss.info.StartupParams
	}
	params := maps.Clone(ss.info.StartupParams)
	for k := range params {
		// PostgreSQL reads parameter names case-insensitively, in the
		// packet's order; the map gives none, so the client's spelling
		// goes. (Its "options" are read before the parameters.)
		for ek := range extra {
			if strings.EqualFold(k, ek) {
				delete(params, k)
			}
		}
	}
	maps.Copy(params, extra)
	return params
}

// sendStartup sends the client's startup parameters upstream, always as
// protocol 3.0.
func sendStartup(w io.Writer, params map[string]string) error {
	sm := pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30, Parameters: params}
	buf, err := sm.Encode(nil)
	if err != nil {
		return fatalf(codeProtocolViolation, err, "invalid startup parameters")
	}
	_, err = w.Write(buf)
	return err
}

func (s *Server) connectTimeout() time.Duration {
	if s.ConnectTimeout > 0 {
		return s.ConnectTimeout
	}
	return defaultConnectTimeout
}

// sendCancel forwards a cancel request for an upstream backend key.
func (s *Server) sendCancel(ctx context.Context, pid uint32, secret []byte) error {
	conn, err := s.dialUpstream(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	cr := pgproto3.CancelRequest{ProcessID: pid, SecretKey: secret}
	buf, err := cr.Encode(nil)
	if err != nil {
		return fmt.Errorf("encode cancel request: %w", err)
	}
	if _, err := conn.Write(buf); err != nil {
		return fmt.Errorf("send cancel request: %w", err)
	}
	// PostgreSQL closes the connection without answering; wait for that so
	// the request is processed before we report success.
	conn.SetReadDeadline(time.Now().Add(s.connectTimeout()))
	io.Copy(io.Discard, conn)
	return nil
}
