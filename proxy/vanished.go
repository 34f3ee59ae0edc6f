package proxy

import (
	"context"
	"errors"
	"net"
	"sync/atomic"
	"time"
)

// How long pgmantle lets PostgreSQL finish what a vanished client sent
// before it cancels it, and before it gives up and closes upstream.
const (
	vanishedGrace = 2 * time.Second
	vanishedLimit = 10 * time.Second
)

// clientVanished is the client-to-server loop's errClientGone: the
// client's connection ended without a Terminate.
type clientVanished struct{ error }

func (e clientVanished) Unwrap() error { return e.error }

// flushTerminate is a Flush and a Terminate message.
var flushTerminate = []byte{'H', 0, 0, 0, 4, 'X', 0, 0, 0, 4}

// clientSink is the client side's writer: the connection, or nothing once
// the client has vanished and pgmantle drains what PostgreSQL still
// answers (see finishForVanishedClient).
type clientSink struct {
	conn net.Conn
	gone atomic.Bool
}

func (c *clientSink) Write(p []byte) (int, error) {
	if c.gone.Load() {
		return len(p), nil
	}
	n, err := c.conn.Write(p)
	if err != nil && c.gone.Load() {
		return len(p), nil // a write the vanishing raced
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
// (no Terminate) while statements it sent are still unanswered:
// PostgreSQL may have read them and may run them — a direct connection's
// would too — so pgmantle lets it answer, discarding the answers, and each
// statement gets the audit record of what it did. A Flush makes PostgreSQL
// send what it holds and a Terminate ends the backend after the
// statements (an implicit transaction not yet synced is rolled back, as
// for a vanished direct client); what still runs after vanishedGrace is
// cancelled, and after vanishedLimit upstream is closed. A result that
// streams rows (or COPY data) to no one is cut short at its first row:
// the server-to-client loop ends, upstream is closed, and the statement
// is recorded failed (see auditCutShort), as when the client vanishes
// mid-result. It returns once
// the server-to-client loop has ended, or nil at once (doing nothing)
// when nothing awaits an answer that the audit needs.
func (ss *session) finishForVanishedClient(errc chan error) error {
	if ss.aud == nil || !ss.q.hasAudited() {
		return nil
	}
	ss.sink.gone.Store(true)
	ss.client.SetWriteDeadline(time.Unix(1, 0)) // a write in progress ends now
	ss.sw.Write(flushTerminate)
	if err := ss.sw.Flush(); err != nil {
		return nil // upstream is gone too: nothing more will be answered
	}
	grace := time.NewTimer(vanishedGrace)
	defer grace.Stop()
	limit := time.NewTimer(vanishedLimit)
	defer limit.Stop()
	for {
		select {
		case err := <-errc:
			if errors.Is(err, errShutdown) || errors.Is(err, errStopped) {
				return err
			}
			return errClientGone // PostgreSQL closed after the Terminate
		case <-grace.C:
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), vanishedLimit)
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
