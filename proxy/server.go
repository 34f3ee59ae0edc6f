package proxy

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults for the zero values of Server's fields.
const (
	defaultStartupTimeout = 15 * time.Second
	defaultConnectTimeout = 10 * time.Second
	defaultMaxMessageSize = 64 << 20
)

// Server accepts PostgreSQL clients and relays each to its own upstream
// connection. Configure the exported fields before calling Serve; they must
// not change afterwards. A Server may serve several listeners.
type Server struct {
	// UpstreamAddr is PostgreSQL's host:port. Required.
	UpstreamAddr string
	// UpstreamTLS, if non-nil, makes every upstream connection TLS with this
	// configuration (nil: plaintext).
	UpstreamTLS *tls.Config
	// ClientTLS, if non-nil, lets clients negotiate TLS with SSLRequest or
	// directly (sslnegotiation=direct, ALPN "postgresql"); nil: the answer
	// to SSLRequest is N and a direct TLS handshake is closed. pgmantle
	// adds ALPN "postgresql" to a copy of it; a GetConfigForClient
	// callback must add it to the configurations it returns.
	ClientTLS *tls.Config
	// RequireTLS refuses clients that do not negotiate TLS.
	RequireTLS bool
	// VerifyClientCert requires a client certificate (verified by ClientTLS,
	// which must request one) whose CN is the startup user or maps to it
	// through CNMap.
	VerifyClientCert bool
	CNMap            map[string]string
	// StartupTimeout bounds accept-to-ReadyForQuery. Zero means 15s.
	StartupTimeout time.Duration
	// ConnectTimeout bounds dialing PostgreSQL. Zero means 10s.
	ConnectTimeout time.Duration
	// MaxMessageSize bounds a client message body in bytes. Zero means 64 MB.
	MaxMessageSize int
	// Logger receives pgmantle's log; nil means slog.Default().
	Logger *slog.Logger
	// Intercept, if non-nil, is called once a session's login succeeds and
	// returns the Interceptor for its results (nil: relay unchanged). An
	// error refuses the session.
	Intercept func(*SessionInfo) (Interceptor, error)
	// UpstreamParams, if non-nil, is called with a session's login role
	// and database before its StartupMessage goes to PostgreSQL, and
	// returns run-time parameters to set in it. They override the
	// client's own of the same name, and RESET and DISCARD ALL return to
	// them; clients are not told (none is reported by ParameterStatus).
	UpstreamParams func(user, database string) map[string]string
	// OnSchemaChange, if non-nil, is called (on the session's goroutine;
	// it must not block) when a transaction that ran DDL — a command whose
	// tag begins CREATE, ALTER, DROP, COMMENT, GRANT, REVOKE or SECURITY
	// LABEL — has ended, so that catalog snapshots can be refreshed.
	OnSchemaChange func(*SessionInfo)
	// Audit, if non-nil, is told of every session and statement, and can
	// refuse statements while they cannot be audited.
	Audit Auditor

	keys       keyTable
	policyGen  atomic.Uint64 // bumped by Reevaluate
	conns      atomic.Int64  // client connections being served
	upErrors   atomic.Uint64 // upstream connections that failed or were lost
	nextID     atomic.Uint64
	mu         sync.Mutex
	listeners  map[net.Listener]struct{}
	active     sync.WaitGroup
	forceOnce  sync.Once
	forceClose chan struct{}
	closing    atomic.Bool
	initOnce   sync.Once
	tlsOnce    sync.Once
	alpnTLS    *tls.Config // ClientTLS with ALPN; see clientTLSConfig
}

// ErrServerClosed is returned by Serve after Shutdown.
var ErrServerClosed = errors.New("pgmantle: server closed")

func (s *Server) init() {
	s.initOnce.Do(func() {
		s.forceClose = make(chan struct{})
		s.listeners = map[net.Listener]struct{}{}
	})
}

// ListenAndServe listens on the TCP address and serves it.
func (s *Server) ListenAndServe(addr string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return s.Serve(l)
}

// Serve accepts connections on l until Shutdown. It always returns a
// non-nil error; after Shutdown, ErrServerClosed.
func (s *Server) Serve(l net.Listener) error {
	s.init()
	s.mu.Lock()
	if s.closing.Load() {
		s.mu.Unlock()
		l.Close()
		return ErrServerClosed
	}
	s.listeners[l] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, l)
		s.mu.Unlock()
	}()
	var backoff time.Duration
	for {
		conn, err := l.Accept()
		if err != nil {
			if s.closing.Load() {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				s.logger().Warn("accept failed; retrying", "err", err, "in", backoff)
				time.Sleep(backoff)
				continue
			}
			return err
		}
		backoff = 0
		s.active.Add(1)
		go s.serveConn(conn)
	}
}

// Stats are a Server's counters, for metrics.
type Stats struct {
	Connections    int64  // client connections being served (logging in or in session)
	UpstreamErrors uint64 // upstream connections that could not be made or were lost
}

// Stats reports the server's counters.
func (s *Server) Stats() Stats {
	return Stats{Connections: s.conns.Load(), UpstreamErrors: s.upErrors.Load()}
}

// noteUpstream counts err if it is a failure of the upstream connection.
func (s *Server) noteUpstream(err error) {
	var pe *Error
	if errors.As(err, &pe) && (pe.Code == codeConnectionFailure || pe.Code == codeCannotConnect) {
		s.upErrors.Add(1)
	}
}

func (s *Server) serveConn(conn net.Conn) {
	defer s.active.Done()
	s.conns.Add(1)
	defer s.conns.Add(-1)
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetNoDelay(true)
		tc.SetKeepAlive(true)
	}
	id := s.nextID.Add(1)
	ss := &session{
		srv:     s,
		client:  conn,
		info:    SessionInfo{ID: id, RemoteAddr: conn.RemoteAddr().String()},
		log:     s.logger().With("session", id),
		reg:     newRegistry(),
		scratch: make([]byte, 0, 256),
		stop:    make(chan error, 1),
	}
	ss.param = ss.Parameter
	ss.run(context.Background())
}

// errPolicyChanged ends a session whose treatment a policy change made
// stricter than the one it was started with.
var errPolicyChanged = &Error{Severity: "FATAL", Code: "57P01",
	Message: "pgmantle: the policy for this role changed; reconnect"}

// Reevaluate calls Intercept again for every live session, after the rules
// Intercept applies have changed (a policy reload). A session that was
// relayed untouched (no interceptor) but would now get one is ended with
// 57P01, so that no session keeps privileges a new policy took away;
// sessions with an interceptor keep it (it follows policy changes itself).
func (s *Server) Reevaluate() {
	if s.Intercept == nil {
		return
	}
	// Sessions logging in right now check the generation once they are
	// registered (session.recheck), so none slips between the two.
	s.policyGen.Add(1)
	for _, ss := range s.keys.sessions() {
		if ss.ic != nil {
			continue
		}
		ic, err := s.Intercept(&ss.info)
		if err == nil && ic == nil {
			continue
		}
		select {
		case ss.stop <- errPolicyChanged:
			s.logger().Info("session ended: its role is restricted by the new policy", "session", ss.info.ID, "user", ss.info.User)
		default:
		}
	}
}

// Shutdown stops accepting connections, waits for sessions to end, and when
// ctx is done closes the remaining ones with an administrator-shutdown
// error.
func (s *Server) Shutdown(ctx context.Context) error {
	s.init()
	s.closing.Store(true)
	s.mu.Lock()
	for l := range s.listeners {
		l.Close()
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.active.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
	}
	s.forceOnce.Do(func() { close(s.forceClose) })
	select {
	case <-done:
	case <-time.After(5 * time.Second):
	}
	return ctx.Err()
}

func (s *Server) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

func (s *Server) startupTimeout() time.Duration {
	if s.StartupTimeout > 0 {
		return s.StartupTimeout
	}
	return defaultStartupTimeout
}

func (s *Server) maxMessageSize() int {
	if s.MaxMessageSize > 0 {
		return s.MaxMessageSize
	}
	return defaultMaxMessageSize
}
