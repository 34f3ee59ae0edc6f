package proxy

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
)

// clientToServer is the client-to-server loop: it reads each client
// message, queues the responses PostgreSQL will send for it, and forwards
// it. Upstream writes are flushed whenever no further client input is
// buffered.
func (ss *session) clientToServer() error {
	for {
		m, err := ss.cr.next()
		if err != nil {
			if ss.sink.gone.Load() {
				return errClientGone // a write to the client failed: it vanished
			}
			return ss.clientReadError(err)
		}
		if m.typ == 'X' && ss.unsynced && ss.aud != nil {
			// PostgreSQL drops the answers it holds when it reads a
			// Terminate; a Flush first lets unsynced Executes be recorded.
			ss.sw.Write(flushMsg)
		}
		if err := ss.forward(m); err != nil {
			return err
		}
		if m.typ == 'X' {
			ss.sw.Flush()
			return errClientTerminate
		}
		if m.typ == 'H' || ss.cr.buffered() == 0 {
			if err := ss.sw.Flush(); err != nil {
				return ss.upstreamLost(err)
			}
		}
	}
}

// forward queues what message m will be answered with and writes it
// upstream.
func (ss *session) forward(m message) error {
	var r request
	batch := ss.batches // Sync-ended batches the client sent before m
	switch m.typ {
	case 'S', 'Q', 'F':
		ss.batches++
	}
	switch m.typ {
	case 'Q':
		sql, _, ok := cstring(m.body)
		if !ok {
			return malformed("Query")
		}
		r = request{kind: reqQuery, sql: string(sql), batch: ss.batches}
		idle := ss.q.idle() && ss.txStatus.Load() == 'I' && !ss.unsynced
		if err := ss.admit(&r, Admission{SQL: r.sql, Simple: true, Idle: idle, Batch: batch}); err != nil {
			return err
		}
		if r.refused != nil {
			return ss.forwardStandIn(r, &pgproto3.Query{String: standInSQL})
		}
		if pd, ok := ss.ic.(Predescriber); ok {
			if q, ok := pd.Predescribe(r.sql); ok {
				if !ss.q.idle() {
					// Describing now would need a Sync amid the client's own
					// unsynced messages; without it the COPY is refused.
				} else if err := ss.predescribe(q); err != nil {
					return err
				}
			}
		}
	case 'P':
		var p pgproto3.Parse
		if err := p.Decode(m.body); err != nil {
			return malformed("Parse")
		}
		r = request{kind: reqParse, name: pgName(p.Name), sql: p.Query, params: p.ParameterOIDs}
		if err := ss.admit(&r, Admission{SQL: r.sql, Name: r.name, ParamOIDs: p.ParameterOIDs, Batch: batch}); err != nil {
			return err
		}
		if _, ok := ss.ic.(Admitter); ok && strings.HasPrefix(p.Name, reservedPrefix) {
			r.refused = &Error{Severity: "ERROR", Code: "42501", Message: "pgmantle: this statement name is reserved"}
		}
		if r.refused != nil {
			return ss.forwardStandIn(r, &pgproto3.Parse{Name: p.Name, Query: standInSQL})
		}
	case 'B':
		b, err := scanBind(m.body)
		if err != nil {
			return err
		}
		r = request{kind: reqBind, name: pgName(string(b.portal)), stmt: pgName(string(b.stmt)), formats: b.formats}
		if ss.described != nil {
			ss.described[r.name] = false
		}
		if err := ss.admit(&r, Admission{Bind: true, Name: r.stmt, Portal: r.name, Body: m.body, Batch: batch}); err != nil {
			return err
		}
		if r.refused != nil {
			// A Bind of a statement that does not exist.
			return ss.forwardStandIn(r, &pgproto3.Bind{DestinationPortal: r.name, PreparedStatement: standInName})
		}
	case 'D', 'C':
		if len(m.body) < 2 {
			return malformed("Describe or Close")
		}
		name, _, ok := cstring(m.body[1:])
		if !ok || (m.body[0] != 'S' && m.body[0] != 'P') {
			return malformed("Describe or Close")
		}
		r = request{kind: describeOrClose(m.typ, m.body[0]), name: pgName(string(name))}
		if ss.described != nil && (r.kind == reqDescribePortal || r.kind == reqClosePortal) {
			ss.described[r.name] = r.kind == reqDescribePortal
		}
	case 'E':
		name, rest, ok := cstring(m.body)
		if !ok || len(rest) != 4 {
			return malformed("Execute")
		}
		r = request{kind: reqExecute, name: pgName(string(name))}
		if err := ss.ensureDescribed(r.name); err != nil {
			return err
		}
	case 'S':
		r = request{kind: reqSync, batch: ss.batches}
	case 'F':
		r = request{kind: reqFunctionCall, batch: ss.batches}
		if err := ss.admit(&r, Admission{FunctionCall: true, Batch: batch}); err != nil {
			return err
		}
		if _, ok := ss.ic.(Admitter); ss.ic != nil && !ok {
			// A function's result carries no column origin to check.
			r.refused = &Error{Severity: "ERROR", Code: "42501",
				Message: "pgmantle: the FunctionCall message is not available to restricted roles"}
		}
		if r.refused != nil {
			// A call of the function with OID 0, which does not exist.
			return ss.forwardStandIn(r, &pgproto3.FunctionCall{})
		}
	case 'c', 'f':
		// CopyDone and CopyFail get no response of their own, but mark
		// where COPY FROM STDIN data ends (see queue.startCopyIn).
		r = request{kind: reqCopyEnd}
	case 'H', 'd', 'X':
		// Flush, CopyData and Terminate get no response of their own.
	default:
		return fatalf(codeProtocolViolation, nil, "invalid frontend message type %d", m.typ)
	}
	switch m.typ {
	case 'P', 'B', 'D', 'E', 'C', 'H':
		// Extended-protocol messages before a Sync may have opened a
		// transaction the last ReadyForQuery does not show.
		ss.unsynced = true
	case 'S':
		ss.unsynced = false
	}
	if r.kind != 0 {
		if (ss.srv.Audit != nil || ss.ic != nil) && r.kind.audited() {
			// For the audit, and for an interceptor's check of results
			// that came late (ResultSet.Sent).
			r.sent = time.Now()
		}
		ss.q.push(r)
	}
	raw := m.raw
	if ss.replace != nil {
		raw, ss.replace = ss.replace, nil
	}
	if _, err := ss.sw.Write(raw); err != nil {
		return ss.upstreamLost(err)
	}
	if ss.described != nil && (r.kind == reqQuery || r.kind == reqExecute) {
		// Any statement may close, replace or move portals (CLOSE,
		// DECLARE, ROLLBACK TO, a function), except that an Execute does
		// not redefine its own portal: descriptions survive only that.
		keep := r.kind == reqExecute && ss.described[r.name]
		clear(ss.described)
		if keep {
			ss.described[r.name] = true
		}
	}
	return nil
}

// pgName is a statement or portal name as PostgreSQL keys it: its first
// NAMEDATALEN-1 = 63 bytes (cut bytewise; for a client encoding other
// than UTF-8 PostgreSQL converts the name first, which is why restricted
// sessions in those encodings may use only ASCII names).
func pgName(name string) string {
	if len(name) > 63 {
		return name[:63]
	}
	return name
}

// standInSQL replaces a refused statement: PostgreSQL rejects it with a
// syntax error before running anything.
const standInSQL = "pgmantle refused this statement"

// standInName is the statement a refused Bind binds instead. Names with
// its prefix are reserved: a Parse (here) or PREPARE (the analysis)
// creating one is refused, so it never exists.
const (
	reservedPrefix = "pgmantle_reserved"
	standInName    = reservedPrefix + "_refused"
)

// admit asks the interceptor, if it checks statements, whether a message
// may be sent to PostgreSQL. It records the plan, or the refusal, in r;
// an error it returns ends the session. The Admission is passed through
// one per-session value, so that admitting allocates nothing (and
// sessions without an Admitter pay nothing).
func (ss *session) admit(r *request, a Admission) error {
	if ss.srv.Audit != nil && (a.Simple || a.Bind || a.FunctionCall) {
		// A Query, Bind or FunctionCall is refused while it cannot be
		// audited (a Parse runs nothing).
		if e := ss.srv.Audit.Refuse(); e != nil {
			r.refused = e
			return nil
		}
	}
	ad, ok := ss.ic.(Admitter)
	if !ok {
		return nil
	}
	a.Param = ss.param
	ss.adm = a
	ss.replace = nil
	plan, err := ad.Admit(&ss.adm)
	if err == nil {
		r.plan = plan
		ss.replace = ss.adm.Replace
		ss.adm.Body = nil
		return nil
	}
	ss.adm.Body = nil
	var pe *Error
	if errors.As(err, &pe) && pe.Severity == "ERROR" {
		r.refused = pe
		return nil
	}
	return err
}

// forwardStandIn queues r and sends msg, a stand-in PostgreSQL rejects,
// in place of the client's refused message.
func (ss *session) forwardStandIn(r request, msg pgproto3.FrontendMessage) error {
	buf, err := msg.Encode(ss.fscratch[:0])
	if err != nil {
		return fmt.Errorf("encode stand-in: %w", err)
	}
	ss.fscratch = buf[:0]
	if ss.srv.Audit != nil {
		r.sent = time.Now()
	}
	ss.q.push(r)
	if _, err := ss.sw.Write(buf); err != nil {
		return ss.upstreamLost(err)
	}
	if ss.described != nil && r.kind == reqQuery {
		clear(ss.described)
	}
	return nil
}

// ensureDescribed makes sure that, when an interceptor needs row
// descriptions, the rows of an Execute can be tied to their columns: if the
// client has not described the portal, pgmantle sends its own Describe
// ahead of the Execute and consumes the answer. It costs no round trip.
func (ss *session) ensureDescribed(portal string) error {
	if ss.described == nil || ss.described[portal] {
		return nil
	}
	d := pgproto3.Describe{ObjectType: 'P', Name: portal}
	buf, err := d.Encode(ss.fscratch[:0])
	if err != nil {
		return fmt.Errorf("encode Describe: %w", err)
	}
	r := request{kind: reqDescribePortal, name: portal, injected: true}
	if ss.srv.Audit != nil {
		r.sent = time.Now() // the Execute's, should the Describe fail
	}
	ss.q.push(r)
	ss.described[portal] = true
	if _, err := ss.sw.Write(buf); err != nil {
		return ss.upstreamLost(err)
	}
	return nil
}

// predescribe sends Parse, Describe and Sync of query ahead of a simple
// Query, for an interceptor that needs its columns. The unnamed statement
// it replaces would be destroyed by the simple Query anyway.
func (ss *session) predescribe(query string) error {
	buf := ss.fscratch[:0]
	var err error
	if buf, err = (&pgproto3.Parse{Query: query}).Encode(buf); err != nil {
		return fmt.Errorf("encode Parse: %w", err)
	}
	if buf, err = (&pgproto3.Describe{ObjectType: 'S'}).Encode(buf); err != nil {
		return fmt.Errorf("encode Describe: %w", err)
	}
	if buf, err = (&pgproto3.Sync{}).Encode(buf); err != nil {
		return fmt.Errorf("encode Sync: %w", err)
	}
	ss.fscratch = buf[:0]
	ss.q.push(request{kind: reqParse, injected: true})
	ss.q.push(request{kind: reqDescribeStatement, injected: true})
	ss.q.push(request{kind: reqSync, injected: true})
	if _, err := ss.sw.Write(buf); err != nil {
		return ss.upstreamLost(err)
	}
	return nil
}

func describeOrClose(typ, target byte) reqKind {
	switch {
	case typ == 'D' && target == 'S':
		return reqDescribeStatement
	case typ == 'D':
		return reqDescribePortal
	case target == 'S':
		return reqCloseStatement
	}
	return reqClosePortal
}

func malformed(what string) error {
	return fatalf(codeProtocolViolation, nil, "invalid %s message format", what)
}

// bindHeader is what pgmantle needs of a Bind message. Parameter values are
// skipped, never copied.
type bindHeader struct {
	portal, stmt []byte
	formats      []int16
}

// scanBind reads a Bind message without decoding its parameter values.
func scanBind(b []byte) (bindHeader, error) {
	var h bindHeader
	var ok bool
	if h.portal, b, ok = cstring(b); !ok {
		return h, malformed("Bind")
	}
	if h.stmt, b, ok = cstring(b); !ok {
		return h, malformed("Bind")
	}
	if len(b) < 2 {
		return h, malformed("Bind")
	}
	n := int(binary.BigEndian.Uint16(b))
	if len(b) < 2+2*n+2 {
		return h, malformed("Bind")
	}
	b = b[2+2*n:]
	nparams := int(binary.BigEndian.Uint16(b))
	b = b[2:]
	for range nparams {
		if len(b) < 4 {
			return h, malformed("Bind")
		}
		l := int(int32(binary.BigEndian.Uint32(b)))
		b = b[4:]
		if l > 0 {
			if len(b) < l {
				return h, malformed("Bind")
			}
			b = b[l:]
		}
	}
	if len(b) < 2 {
		return h, malformed("Bind")
	}
	n = int(binary.BigEndian.Uint16(b))
	b = b[2:]
	if len(b) != 2*n {
		return h, malformed("Bind")
	}
	if n > 0 {
		h.formats = make([]int16, n)
		for i := range h.formats {
			h.formats[i] = int16(binary.BigEndian.Uint16(b[2*i:]))
		}
	}
	return h, nil
}
