package proxy

import (
	"context"
	"errors"
	"io"
	"net"
	"sync/atomic"
	"time"
)

// How long pgmantle lets PostgreSQL run what a vanished client sent
// before it cancels what runs (and again at each such interval), and
// before it gives up and closes upstream.
const (
	vanishedGrace = 2 * time.Second
	vanishedLimit = 10 * time.Second
)

// clientEnded is the client-to-server loop's error, so that relay knows
// which loop ended first.
type clientEnded struct{ error }

func (e clientEnded) Unwrap() error { return e.error }

// flushMsg is a Flush message; terminateMsg a Terminate.
var (
	flushMsg     = []byte{'H', 0, 0, 0, 4}
	terminateMsg = []byte{'X', 0, 0, 0, 4}
)

// writeCloser is a connection whose sending side can be shut down alone
// (TCP, Unix sockets, TLS).
type writeCloser interface{ CloseWrite() error }

// clientSink is the client side's writer: the connection, or nothing once
// the client has vanished and pgmantle drains what PostgreSQL still
// answers (see finishForVanishedClient).
type clientSink struct {
	conn net.Conn
	gone atomic.Bool
	// drain (set before the relay starts, with an Auditor): a failed
	// write means the client vanished. The sink discards from then on and
	// ends the client-to-server loop's read, which starts the drain;
	// without it, the failure ends the session at once.
	drain bool
}

func (c *clientSink) Write(p []byte) (int, error) {
	if c.gone.Load() {
		return len(p), nil
	}
	n, err := c.conn.Write(p)
	if err != nil && (c.drain || c.gone.Load()) {
		if !c.gone.Swap(true) {
			c.conn.SetReadDeadline(time.Unix(1, 0))
		}
		return len(p), nil
	}
	return n, err
}

// hasAudited reports whether a queued request is a statement the audit
// records (a Query, Parse, Bind, Execute or FunctionCall of the client's),
// outside COPY FROM STDIN (whose data the client will never end).
func (q *queue) hasAudited() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.copyIn {
		return false
	}
	for i := range q.n {
		if r := &q.ring[(q.head+i)%len(q.ring)]; !r.injected && r.kind.audited() {
			return true
		}
	}
	return false
}

// finishForVanishedClient is called when the client's connection ended
// (no Terminate) while statements it sent are still unanswered.
// PostgreSQL may have read them and may run them — a direct connection's
// would too — so pgmantle gives PostgreSQL what a direct connection would
// have: everything the client sent, then the end of input. A Flush makes
// it send what it holds, and shutting down the sending side of the
// upstream connection (a Terminate where that is not possible) ends the
// backend once it has run the statements (an implicit transaction not yet
// synced is rolled back, as for a vanished direct client). The answers are
// discarded and each statement gets the audit record of how it ended.
// What still runs is cancelled every vanishedGrace; after vanishedLimit
// upstream is closed and the statement still running is recorded with
// its outcome unknown (see auditCutShort). It returns once the
// server-to-client loop has ended, or nil at once (doing nothing) when
// nothing awaits an answer that the audit needs.
func (ss *session) finishForVanishedClient(errc chan error) error {
	if ss.aud == nil || !ss.q.hasAudited() {
		return nil
	}
	ss.sink.gone.Store(true)
	ss.client.SetWriteDeadline(time.Unix(1, 0)) // a write in progress ends now
	ss.sw.Write(flushMsg)
	wc, halfClose := ss.server.(writeCloser)
	if !halfClose {
		ss.sw.Write(terminateMsg)
	}
	if err := ss.sw.Flush(); err != nil {
		return nil // upstream is gone too: nothing more will be answered
	}
	if halfClose {
		if err := wc.CloseWrite(); err != nil {
			return nil
		}
	}
	cancels := time.NewTicker(vanishedGrace)
	defer cancels.Stop()
	cancelling := make(chan struct{}, 1) // one cancel request at a time
	limit := time.NewTimer(vanishedLimit)
	defer limit.Stop()
	for {
		select {
		case err := <-errc:
			var pe *Error
			switch {
			case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed):
				return errClientGone // PostgreSQL closed at the end of input
			case errors.As(err, &pe) || errors.Is(err, errShutdown) || errors.Is(err, errStopped):
				return err // pgmantle's own refusal, a FATAL, a shutdown
			}
			return errClientGone
		case <-cancels.C:
			// Each statement still running gets cancelled in turn, not
			// only the first.
			select {
			case cancelling <- struct{}{}:
			default:
				continue
			}
			ss.srv.active.Add(1)
			go func() {
				defer ss.srv.active.Done()
				defer func() { <-cancelling }()
				ctx, cancel := context.WithTimeout(context.Background(), vanishedGrace)
				defer cancel()
				ss.srv.sendCancel(ctx, ss.upstreamKey.ProcessID, ss.upstreamKey.SecretKey)
			}()
		case <-limit.C:
			return ss.abandonUpstream(errc, errClientGone)
		case <-ss.srv.forceClose:
			return ss.abandonUpstream(errc, errShutdown)
		case err := <-ss.stop:
			return ss.abandonUpstream(errc, err)
		}
	}
}
