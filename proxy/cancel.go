package proxy

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/binary"
	"sync"

	"github.com/jackc/pgx/v5/pgproto3"
)

// cancelKey is a (process ID, secret) pair pgmantle issues to a client in
// place of PostgreSQL's own, so that a client can cancel only its own
// session's queries and never learns an upstream key.
type cancelKey struct {
	pid    uint32
	secret [4]byte
}

// keyTable maps issued keys to live sessions.
type keyTable struct {
	mu      sync.Mutex
	nextPID uint32
	byPID   map[uint32]*session
}

// issue assigns ss a fresh key.
func (t *keyTable) issue(ss *session) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.byPID == nil {
		t.byPID = map[uint32]*session{}
		var b [4]byte
		rand.Read(b[:])
		t.nextPID = binary.BigEndian.Uint32(b[:])&0x3fffffff + 1
	}
	for {
		t.nextPID++
		if t.nextPID == 0 || t.byPID[t.nextPID] != nil {
			continue
		}
		break
	}
	ss.key.pid = t.nextPID
	rand.Read(ss.key.secret[:])
}

// register makes a session cancellable.
func (t *keyTable) register(ss *session) {
	if ss.key.pid == 0 { // the server sent no BackendKeyData
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.byPID[ss.key.pid] = ss
}

// sessions lists the registered (live, logged-in) sessions.
func (t *keyTable) sessions() []*session {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]*session, 0, len(t.byPID))
	for _, ss := range t.byPID {
		out = append(out, ss)
	}
	return out
}

func (t *keyTable) unregister(ss *session) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.byPID[ss.key.pid] == ss {
		delete(t.byPID, ss.key.pid)
	}
}

// lookup finds the session a cancel request is for; the secret is compared
// in constant time.
func (t *keyTable) lookup(pid uint32, secret []byte) *session {
	t.mu.Lock()
	ss := t.byPID[pid]
	t.mu.Unlock()
	if ss == nil || len(secret) != len(ss.key.secret) ||
		subtle.ConstantTimeCompare(secret, ss.key.secret[:]) != 1 {
		return nil
	}
	return ss
}

// replaceBackendKey records PostgreSQL's BackendKeyData and sends the
// client a pgmantle-issued key instead.
func (ss *session) replaceBackendKey(body []byte) error {
	ss.srv.keys.unregister(ss) // in case the server sent a key before
	if err := ss.upstreamKey.Decode(body); err != nil {
		return fatalf(codeProtocolViolation, err, "invalid BackendKeyData from the PostgreSQL server")
	}
	ss.srv.keys.issue(ss)
	// Registered at once: the client may cancel as soon as it has the key,
	// possibly before this session's startup has finished.
	ss.srv.keys.register(ss)
	k := pgproto3.BackendKeyData{ProcessID: ss.key.pid, SecretKey: ss.key.secret[:]}
	buf, err := k.Encode(ss.scratch[:0])
	if err != nil {
		return fatalf(codeInternalError, err, "pgmantle: encode BackendKeyData")
	}
	_, err = ss.cw.Write(buf)
	return err
}

// cancel handles a CancelRequest: a key that matches a live session is
// forwarded upstream with that session's real key; anything else is
// dropped silently, as PostgreSQL does.
func (s *Server) cancel(ctx context.Context, cr *pgproto3.CancelRequest, remote string) {
	ss := s.keys.lookup(cr.ProcessID, cr.SecretKey)
	if ss == nil {
		s.logger().Info("cancel request with unknown key ignored", "remote", remote)
		return
	}
	if err := s.sendCancel(ctx, ss.upstreamKey.ProcessID, ss.upstreamKey.SecretKey); err != nil {
		s.logger().Warn("cancel request could not be forwarded", "session", ss.info.ID, "err", err)
		return
	}
	s.logger().Info("cancel request forwarded", "session", ss.info.ID)
}
