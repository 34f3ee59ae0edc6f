package proxy

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
)

// SessionInfo is what later stages know about a session once PostgreSQL
// has authenticated it.
type SessionInfo struct {
	ID         uint64
	RemoteAddr string
	User       string // the login role PostgreSQL authenticated
	Database   string
	// StartupParams are the client's startup parameters (never a password:
	// passwords are not startup parameters).
	StartupParams map[string]string
	TLS           bool
	// EffectiveRole is current_user after login, when pgmantle asked
	// (sessions with an interceptor); "" otherwise.
	EffectiveRole string
}

// session is one client connection and its upstream connection.
type session struct {
	srv   *Server
	info  SessionInfo
	log   *slog.Logger
	hello *clientHello

	client net.Conn
	server net.Conn
	cr     *msgReader    // client input; read by the client-to-server goroutine
	sw     *bufio.Writer // server output; written by the client-to-server goroutine
	sr     *msgReader    // server input; read by the server-to-client goroutine
	cw     *bufio.Writer // client output; written by the server-to-client goroutine
	sink   clientSink    // what cw writes to: client, or nothing once it vanished
	// abandoned: pgmantle closed upstream while a statement it relayed was
	// unanswered (a vanished client's past the limit, a forced shutdown, a
	// session pgmantle ended); written by relay before auditCutShort reads
	// it.
	abandoned bool
	// While a large result streams, the server-to-client direction uses
	// large pooled buffers (see wire.go); streamed counts the bytes relayed
	// since the last ReadyForQuery.
	cwSmall  *bufio.Writer
	streamed int

	q        queue
	txStatus atomic.Uint32 // last transaction status PostgreSQL reported (I, T, E)

	ic   Interceptor // nil: fast path; set at login, never changed
	gen  uint64      // Server.policyGen when Intercept ran
	stop chan error  // Server.Reevaluate ends the session through it
	res  resultState // server-to-client goroutine only
	reg  registry    // server-to-client goroutine only
	// described tracks, for the client-to-server goroutine, which portals
	// have a known row description (only with an interceptor).
	described map[string]bool

	key         cancelKey // the key the client knows
	upstreamKey pgproto3.BackendKeyData

	paramsMu sync.Mutex
	params   map[string]string // ParameterStatus values reported by the server

	serverSentFatal bool // server-to-client goroutine: upstream ended with its own FATAL
	ddlSeen         bool // server-to-client goroutine: DDL ran in the current transaction
	// predescribed holds the columns of the query pgmantle described
	// ahead of the current simple Query (see Predescriber).
	predescribed []pgproto3.FieldDescription
	copyIn       bool // server-to-client goroutine: a COPY FROM STDIN is in progress
	stmtIndex    int  // server-to-client goroutine: statements completed in the current simple Query
	queryErred   bool // server-to-client goroutine: the current simple Query met its error
	// sinceSync (server-to-client goroutine, with an Auditor): what the
	// Executes completed since the last ReadyForQuery did to its
	// transaction: 0 none completed, 1 only statements that stay inside
	// it, -1 one that may have ended or committed it.
	sinceSync int8
	scratch   []byte                   // server-to-client goroutine and the final error
	fscratch  []byte                   // client-to-server goroutine
	unsynced  bool                     // client-to-server goroutine: extended-protocol messages sent since the last Sync
	batches   uint64                   // client-to-server goroutine: Sync, Query and FunctionCall messages sent
	adm       Admission                // client-to-server goroutine: the message being admitted
	replace   []byte                   // client-to-server goroutine: what Admit sends instead of the message
	param     func(name string) string // ss.Parameter, bound when the session is made
	row       pgproto3.DataRow
	// Scratch of prefetchRows (server-to-client goroutine).
	pfBodies [][]byte
	pfVals   [][]byte
	pfEnds   []int
	pfRows   [][][]byte

	// With an Auditor (server-to-client goroutine): the session's
	// auditor, the rows and bytes relayed for the current statement, and
	// when the previous statement ended.
	aud       SessionAuditor
	ev        StatementEvent
	rows      int64
	bytes     int64
	lastEnd   time.Time
	loginCode string // the SQLSTATE of PostgreSQL's refusal of the login
}

// run serves one accepted connection: each step below either completes or
// ends the session with an error the client can read.
func (ss *session) run(ctx context.Context) {
	defer ss.client.Close()
	ss.client.SetDeadline(time.Now().Add(ss.srv.startupTimeout()))

	// 1. Negotiate the startup packet (TLS, GSSENC, cancel, protocol version).
	hello, err := ss.srv.sniff(ss.client)
	if err != nil {
		ss.client = hello.conn // over TLS once it was negotiated
		ss.failStartup(err)
		return
	}
	if hello.cancel != nil {
		ss.srv.cancel(ctx, hello.cancel, ss.info.RemoteAddr)
		return
	}
	ss.adoptHello(hello)

	// 2. Connect upstream and send the client's startup parameters.
	if ss.server, err = ss.srv.dialUpstream(ctx); err != nil {
		ss.srv.noteUpstream(err)
		ss.failStartup(err)
		return
	}
	defer ss.server.Close()
	ss.server.SetDeadline(time.Now().Add(ss.srv.startupTimeout()))
	ss.sr = newMsgReader(ss.server, 0)
	ss.sw = bufio.NewWriterSize(ss.server, writeBufferSize)
	if err := sendStartup(ss.server, ss.upstreamParams()); err != nil {
		ss.failStartup(err)
		return
	}

	// 3. Relay authentication; PostgreSQL decides. Then ParameterStatus,
	//    our own BackendKeyData, ReadyForQuery.
	//    The key is registered as it is issued, before the client can
	//    see it, so that a cancel sent right after ReadyForQuery counts.
	defer ss.srv.keys.unregister(ss)
	if err := ss.authenticate(); err != nil {
		ss.endStartup(err)
		return
	}
	if err := ss.recheck(); err != nil {
		ss.endStartup(err)
		return
	}
	ss.client.SetDeadline(time.Time{})
	ss.server.SetDeadline(time.Time{})
	ss.log.Info("session started", "user", ss.info.User, "database", ss.info.Database,
		"application_name", ss.info.StartupParams["application_name"], "tls", ss.info.TLS)
	if ss.srv.Audit != nil {
		ss.aud = ss.srv.Audit.Open(&ss.info)
		ss.sink.drain = true
	}

	// 4. Relay in both directions until one side ends; the first error wins.
	err = ss.relay()
	ss.srv.noteUpstream(err)
	ss.log.Info("session ended", "reason", describeEnd(err))
	if ss.aud != nil {
		ss.auditCutShort(err)
		ss.aud.Ended(ss.endReason(err))
	}
}

// adoptHello records what the startup packet said and sizes the client reader.
func (ss *session) adoptHello(h *clientHello) {
	ss.hello = h
	ss.client = h.conn
	ss.info.TLS = h.tls
	ss.info.StartupParams = h.params
	ss.info.User = h.params["user"]
	ss.info.Database = h.params["database"]
	if ss.info.Database == "" {
		ss.info.Database = ss.info.User
	}
	ss.cr = newMsgReader(ss.client, ss.srv.maxMessageSize())
	ss.sink.conn = ss.client
	ss.cw = bufio.NewWriterSize(&ss.sink, writeBufferSize)
}

// authenticated is called when PostgreSQL accepts the login: the session's
// role is now known, and later stages decide how to treat it.
func (ss *session) authenticated() error {
	if ss.srv.Intercept == nil {
		return nil
	}
	ss.gen = ss.srv.policyGen.Load()
	ic, err := ss.srv.Intercept(&ss.info)
	if err != nil {
		return err
	}
	ss.ic = ic
	if ic != nil {
		ss.described = map[string]bool{}
	}
	return nil
}

// recheck repeats the login decision if the policy changed while the
// session was logging in (after Intercept ran, before Reevaluate could see
// the session): a session the new policy restricts is ended.
func (ss *session) recheck() error {
	if ss.srv.Intercept == nil || ss.ic != nil || ss.srv.policyGen.Load() == ss.gen {
		return nil
	}
	ic, err := ss.srv.Intercept(&ss.info)
	if err != nil || ic != nil {
		return errPolicyChanged
	}
	return nil
}

// relay runs the two directional loops and reports the first error.
func (ss *session) relay() error {
	errc := make(chan error, 2)
	go func() { errc <- clientEnded{ss.clientToServer()} }()
	go func() { errc <- ss.serverToClient() }()
	running := 2
	var first error
	serverRunning := true // the server-to-client loop did not end first
	select {
	case first = <-errc:
		running--
		if ce, ok := first.(clientEnded); ok {
			first = ce.error
		} else {
			serverRunning = false
		}
	case <-ss.srv.forceClose:
		first = errShutdown
	case first = <-ss.stop:
	}
	switch {
	case running == 1 && serverRunning && errors.Is(first, errClientTerminate):
		first = ss.finishAfterTerminate(errc)
		running = 0
	case running == 1 && serverRunning && errors.Is(first, errClientGone):
		if err := ss.finishForVanishedClient(errc); err != nil {
			first, running = err, 0
		}
	}
	// Stop the other loop: closing upstream ends its reads and writes; a
	// past deadline does the same for the client without closing it, so a
	// final ErrorResponse can still be written. Statements PostgreSQL is
	// still running then end unseen (see auditCutShort).
	if running > 0 && serverRunning {
		ss.abandoned = ss.q.hasAudited()
	}
	ss.server.Close()
	ss.client.SetDeadline(time.Unix(1, 0))
	for ; running > 0; running-- {
		<-errc
	}
	ss.client.SetDeadline(time.Now().Add(time.Second))
	if reportable(first) && !ss.serverSentFatal {
		ss.cw.Write(appendError(ss.scratch[:0], first))
		ss.cw.Flush()
	}
	return first
}

// finishAfterTerminate lets PostgreSQL finish what the client sent before
// its Terminate, as it does for a direct client: it runs every message
// before the Terminate, then closes. Closing upstream at once would make
// its next write fail and silently drop the statements still queued. The
// responses go to the client while it reads; if it has gone, the session
// ends as a direct one would (PostgreSQL's next write fails). On shutdown
// or a stop it closes upstream at once. It returns once the
// server-to-client loop has ended.
func (ss *session) finishAfterTerminate(errc chan error) error {
	select {
	case err := <-errc:
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) {
			return errClientTerminate // PostgreSQL closed after the Terminate
		}
		return err
	case <-ss.srv.forceClose:
		return ss.abandonUpstream(errc, errShutdown)
	case err := <-ss.stop:
		return ss.abandonUpstream(errc, err)
	}
}

// abandonUpstream closes upstream while PostgreSQL may still be running
// statements (see auditCutShort), waits for the server-to-client loop
// (errc) to end, and returns err.
func (ss *session) abandonUpstream(errc chan error, err error) error {
	ss.abandoned = ss.q.hasAudited()
	ss.server.Close()
	<-errc
	return err
}

// failStartup reports a startup error to the client, if it is one it should
// see, and logs it.
func (ss *session) failStartup(err error) {
	if reportable(err) {
		var buf []byte
		ss.client.Write(appendError(buf, err))
	}
	ss.log.Info("connection refused", "reason", describeEnd(err))
}

// endStartup is failStartup once the buffered writers exist.
func (ss *session) endStartup(err error) {
	switch {
	case errors.Is(err, errLoginFailed):
		ss.log.Info("login failed", "user", ss.info.User, "database", ss.info.Database)
		if ss.srv.Audit != nil {
			ss.srv.Audit.LoginFailed(&ss.info, ss.loginCode)
		}
	case reportable(err):
		ss.cw.Write(appendError(ss.scratch[:0], err))
		ss.cw.Flush()
		ss.log.Info("connection refused", "reason", describeEnd(err))
	default:
		ss.log.Info("connection ended during startup", "reason", describeEnd(err))
	}
}

// upstreamLost converts an upstream read or write failure.
func (ss *session) upstreamLost(err error) error {
	var pe *Error
	if errors.As(err, &pe) {
		return err
	}
	return fatalf(codeConnectionFailure, err, "pgmantle lost the connection to the PostgreSQL server")
}

// clientReadError converts a client read failure.
func (ss *session) clientReadError(err error) error {
	var tooLarge *errMessageTooLarge
	switch {
	case errors.As(err, &tooLarge):
		return fatalf(codeProtocolViolation, err, "invalid message length: %d bytes exceeds the limit of %d", tooLarge.size, tooLarge.limit)
	case errors.Is(err, errMalformedLength):
		return fatalf(codeProtocolViolation, err, "invalid message length")
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed):
		return errClientGone
	case errors.Is(err, os.ErrDeadlineExceeded):
		return errStopped
	}
	return errClientGone
}

var (
	errShutdown        = &Error{Severity: "FATAL", Code: codeAdminShutdown, Message: "terminating connection due to administrator command"}
	errClientTerminate = errors.New("client sent Terminate")
	errStopped         = errors.New("stopped")
)

// reportable tells whether err should be sent to the client before closing.
func reportable(err error) bool {
	var pe *Error
	return errors.As(err, &pe)
}

// describeEnd gives a log-safe reason for a session's end.
func describeEnd(err error) string {
	switch {
	case err == nil:
		return "normal"
	case errors.Is(err, errClientTerminate):
		return "client terminated"
	case errors.Is(err, errClientGone):
		return "client disconnected"
	}
	var pe *Error
	if errors.As(err, &pe) {
		msg := pe.Message + " (" + pe.Code + ")"
		if pe.Err != nil && safeCause(pe.Err) {
			msg += ": " + pe.Err.Error()
		}
		return msg
	}
	if safeCause(err) {
		return err.Error()
	}
	return "internal error"
}

// safeCause reports whether an underlying error is of a kind whose text
// cannot hold a query or row value (network, TLS and framing errors), and
// so may be logged. Errors from later stages (a failing mask, say) are
// logged by their vetted Message only.
func safeCause(err error) bool {
	var ne net.Error
	var re tls.RecordHeaderError
	var ce *tls.CertificateVerificationError
	var tm *errMessageTooLarge
	var dt errDirectTLSRefused
	var hs *errClientHandshake
	return errors.As(err, &ne) || errors.As(err, &re) || errors.As(err, &ce) || errors.As(err, &tm) || errors.As(err, &dt) || errors.As(err, &hs) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, errMalformedLength) ||
		errors.Is(err, os.ErrDeadlineExceeded)
}
