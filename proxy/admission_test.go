package proxy_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/pgmantle/pgmantle/proxy"
)

// idleRecorder counts Admissions of "SET x" that claimed Idle.
type idleRecorder struct{ idle, total *atomic.Int64 }

func (idleRecorder) Result(*proxy.ResultSet) (proxy.RowRewriter, error) { return nil, nil }
func (r idleRecorder) Admit(a *proxy.Admission) (any, error) {
	if a.SQL == "SET x" {
		r.total.Add(1)
		if a.Idle {
			r.idle.Add(1)
		}
	}
	return nil, nil
}

// TestIdleAdmissionAfterBegin: a Query sent right after BEGIN's
// ReadyForQuery('T') must never be admitted as Idle (no transaction open).
// readyForQuery once popped the request before it stored the new status, so
// the client-to-server goroutine could see an idle queue with the old status.
// The window was narrow (about once in 100000 iterations), so this test
// could only catch a regression sometimes.
func TestIdleAdmissionAfterBegin(t *testing.T) {
	var idle, total atomic.Int64
	signal := make(chan struct{}, 1)
	fs := newFakeServer(t, func(t *testing.T, c *fakeConn) {
		c.login()
		for {
			m := c.recv(t)
			q, ok := m.(*pgproto3.Query)
			if !ok {
				return
			}
			switch q.String {
			case "BEGIN":
				signal <- struct{}{}
				c.send(&pgproto3.CommandComplete{CommandTag: []byte("BEGIN")}, &pgproto3.ReadyForQuery{TxStatus: 'T'})
			case "SET x":
				c.send(&pgproto3.CommandComplete{CommandTag: []byte("SET")}, &pgproto3.ReadyForQuery{TxStatus: 'T'})
			default:
				c.send(&pgproto3.CommandComplete{CommandTag: []byte("ROLLBACK")}, &pgproto3.ReadyForQuery{TxStatus: 'I'})
			}
		}
	})
	p := proxyTo(t, fs.addr(), func(s *proxy.Server) {
		s.Intercept = func(*proxy.SessionInfo) (proxy.Interceptor, error) {
			return idleRecorder{&idle, &total}, nil
		}
	})
	c := dialRaw(t, p.addr)
	c.startup(t)
	c.readUntil(t, isReady)
	for i := 0; i < 20000; i++ {
		c.fe.Send(&pgproto3.Query{String: "BEGIN"})
		c.fe.Flush()
		<-signal
		for start := time.Now(); time.Since(start) < time.Duration(i%400)*50*time.Nanosecond; {
		}
		c.fe.Send(&pgproto3.Query{String: "SET x"})
		c.fe.Send(&pgproto3.Query{String: "ROLLBACK"})
		c.fe.Flush()
		for n := 0; n < 3; n++ {
			c.readUntil(t, isReady)
		}
	}
	t.Logf("SET x admitted %d times, %d of them as Idle", total.Load(), idle.Load())
	if idle.Load() > 0 {
		t.Errorf("SET x sent after BEGIN admitted as Idle %d times", idle.Load())
	}
}
