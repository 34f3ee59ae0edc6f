package proxy

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5/pgproto3"
)

// resultState is the result set being relayed (server-to-client goroutine).
type resultState struct {
	active bool
	rw     RowRewriter // nil: relay rows unchanged
	copy   bool        // rows are COPY data
	sql    string
	portal *Portal
	// pf is rw as a RowPrefetcher that prefetches (nil otherwise);
	// prefetched counts the rows after the current one it was given.
	pf         RowPrefetcher
	prefetched int
}

// serverToClient is the server-to-client loop: it reads each server
// message, ties it to the request it answers, applies the interceptor, and
// relays it. Client writes are flushed when no further server input is
// buffered, and always at ReadyForQuery, errors and COPY mode changes.
func (ss *session) serverToClient() error {
	for {
		m, err := ss.sr.next()
		if err != nil {
			return ss.upstreamLost(err)
		}
		if err := ss.relayServerMessage(m); err != nil {
			return err
		}
		if ss.streamed += len(m.raw); ss.streamed > bigBufferSize && ss.cwSmall == nil {
			if err := ss.growBuffers(); err != nil {
				return err
			}
		}
		switch m.typ {
		case 'Z', 'E', 'G', 'H', 'W':
		default:
			if ss.sr.buffered() > 0 {
				continue
			}
		}
		if err := ss.cw.Flush(); err != nil {
			return errClientGone
		}
		if m.typ == 'Z' {
			ss.shrinkBuffers()
		}
	}
}

// bigWriters pools the large client writers of streaming sessions.
var bigWriters = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, bigBufferSize) }}

// growBuffers switches the server-to-client direction to large buffers
// for the rest of the current response.
func (ss *session) growBuffers() error {
	if err := ss.cw.Flush(); err != nil {
		return errClientGone
	}
	big := bigWriters.Get().(*bufio.Writer)
	big.Reset(&ss.sink)
	ss.cwSmall, ss.cw = ss.cw, big
	ss.sr.grow()
	return nil
}

// shrinkBuffers gives the large buffers back at ReadyForQuery, after the
// flush.
func (ss *session) shrinkBuffers() {
	ss.streamed = 0
	if ss.cwSmall == nil {
		return
	}
	big := ss.cw
	ss.cw, ss.cwSmall = ss.cwSmall, nil
	big.Reset(nil)
	bigWriters.Put(big)
	ss.sr.shrink()
}

// relayServerMessage handles one message from PostgreSQL.
func (ss *session) relayServerMessage(m message) error {
	switch m.typ {
	case 'D': // DataRow: the hot path
		if ss.aud != nil && !ss.sink.gone.Load() { // discarded rows reach no one
			ss.rows++
			ss.bytes += int64(len(m.raw))
		}
		if ss.ic == nil {
			break // fast path: relay the raw bytes
		}
		if !ss.res.active {
			if err := ss.startRows(); err != nil {
				return err
			}
		}
		if ss.res.rw != nil {
			return ss.rewriteRow(m)
		}
	case 'd': // CopyData (COPY TO STDOUT)
		if ss.aud != nil && !ss.sink.gone.Load() { // discarded rows reach no one
			ss.rows++
			ss.bytes += int64(len(m.raw))
		}
		if ss.ic == nil {
			break
		}
		if !ss.res.copy {
			return desync("CopyData outside COPY TO STDOUT")
		}
		if ss.res.rw != nil {
			return ss.rewriteCopyData(m)
		}
	case 'T':
		return ss.rowDescription(m)
	case 'n':
		return ss.noData(m)
	case 't':
		// ParameterDescription: relayed, unless it answers pgmantle's own
		// Describe; the request completes with a later message.
		if r, ok := ss.q.peek(); ok && r.injected {
			return nil
		}
	case 'V':
		// FunctionCallResponse: relayed; the FunctionCall completes with
		// ReadyForQuery.
		if r, ok := ss.q.peek(); ok && r.kind == reqFunctionCall && ss.aud != nil {
			ss.audit(StatementEvent{Protocol: ProtocolFunction, Outcome: OutcomeOK}, r.sent)
		}
	case 'c':
		// CopyDone: relayed; the COPY completes with CommandComplete.
	case 'G':
		// CopyInResponse: relayed; the COPY completes with a later message.
		ss.q.startCopyIn()
		ss.copyIn = true
	case 'H':
		if err := ss.startCopyOut(); err != nil {
			return err
		}
	case '1':
		return ss.complete(m, reqParse)
	case '2':
		return ss.complete(m, reqBind)
	case '3':
		return ss.complete(m, reqCloseStatement)
	case 'C', 'I', 's':
		return ss.commandComplete(m)
	case 'Z':
		return ss.readyForQuery(m)
	case 'E':
		if r, ok := ss.q.peek(); ok && r.injected && r.kind != reqDescribePortal && !isFatal(m.body) {
			// pgmantle's own Parse/Describe ahead of a simple Query failed;
			// the client's statement that follows meets the same error from
			// PostgreSQL itself. (A failed Describe injected before an
			// Execute is relayed: the Execute it precedes is skipped.)
			ss.q.skipToSync()
			return nil
		}
		if ss.aud != nil {
			ss.auditError(m.body)
		}
		if r, ok := ss.q.peek(); ok && r.refused != nil && standInRejected(r.kind, m.body) {
			ss.errorResponse(m)
			return ss.write(appendError(ss.scratch[:0], r.refused))
		}
		ss.errorResponse(m)
		if sc, ok := ss.ic.(ErrorScrubber); ok {
			return ss.scrub(m, sc)
		}
	case 'S':
		ss.recordParameter(m.body)
		if sc, ok := ss.ic.(AsyncScrubber); ok {
			var ps pgproto3.ParameterStatus
			if err := ps.Decode(m.body); err != nil {
				return fatalf(codeProtocolViolation, err, "invalid ParameterStatus from the PostgreSQL server")
			}
			sc.ScrubParameterStatus(&ps)
			return ss.writeMessage(&ps)
		}
	case 'N':
		if sc, ok := ss.ic.(ErrorScrubber); ok {
			return ss.scrub(m, sc)
		}
	case 'A':
		// NotificationResponse: asynchronous, relayed.
		if sc, ok := ss.ic.(AsyncScrubber); ok {
			var n pgproto3.NotificationResponse
			if err := n.Decode(m.body); err != nil {
				return fatalf(codeProtocolViolation, err, "invalid NotificationResponse from the PostgreSQL server")
			}
			sc.ScrubNotification(&n)
			return ss.writeMessage(&n)
		}
	case 'W':
		return desync("CopyBothResponse on a non-replication connection")
	default:
		return fatalf(codeProtocolViolation, fmt.Errorf("message type %q", m.typ),
			"unexpected message from the PostgreSQL server")
	}
	return ss.write(m.raw)
}

// writeMessage encodes a message pgmantle changed and relays it.
func (ss *session) writeMessage(msg pgproto3.BackendMessage) error {
	buf, err := msg.Encode(ss.scratch[:0])
	if err != nil {
		return interceptFailed(err)
	}
	ss.scratch = buf[:0]
	return ss.write(buf)
}

func (ss *session) write(b []byte) error {
	if _, err := ss.cw.Write(b); err != nil {
		return errClientGone
	}
	return nil
}

// head returns the request the next response answers.
func (ss *session) head(what string) (request, error) {
	r, ok := ss.q.peek()
	if !ok {
		return r, desync(what + " with no request pending")
	}
	return r, nil
}

// complete handles ParseComplete, BindComplete and CloseComplete.
func (ss *session) complete(m message, want reqKind) error {
	r, err := ss.head("completion")
	if err != nil {
		return err
	}
	switch {
	case want == reqParse && r.kind == reqParse && r.injected:
		delete(ss.reg.stmts, "") // replaced by pgmantle's own unnamed statement
		ss.q.pop()
		return nil
	case want == reqParse && r.kind == reqParse:
		ss.reg.stmts[r.name] = &PreparedStatement{Name: r.name, SQL: r.sql, ParamOIDs: r.params, Plan: r.plan}
		if c, ok := ss.ic.(Completer); ok {
			c.StatementParsed(r.name, r.plan)
		}
	case want == reqBind && r.kind == reqBind:
		ss.reg.bind(r.name, r.stmt, r.formats)
	case want == reqCloseStatement && r.kind == reqCloseStatement:
		delete(ss.reg.stmts, r.name)
		if c, ok := ss.ic.(Completer); ok {
			c.StatementClosed(r.name)
		}
	case want == reqCloseStatement && r.kind == reqClosePortal:
		delete(ss.reg.portals, r.name)
	default:
		return desync(fmt.Sprintf("%s answered with %q", r.kind, m.typ))
	}
	ss.q.pop()
	return ss.write(m.raw)
}

// rowDescription handles RowDescription, answering a Describe or starting a
// result set of a simple Query.
func (ss *session) rowDescription(m message) error {
	r, err := ss.head("RowDescription")
	if err != nil {
		return err
	}
	var fields []pgproto3.FieldDescription
	if ss.ic != nil {
		var rd pgproto3.RowDescription
		if err := rd.Decode(m.body); err != nil {
			return fatalf(codeProtocolViolation, err, "invalid RowDescription from the PostgreSQL server")
		}
		fields = copyFields(rd.Fields)
	}
	switch r.kind {
	case reqQuery:
		if err := ss.startResult(&ResultSet{SQL: r.sql, Fields: fields, Plan: r.plan, Index: ss.stmtIndex, Sent: r.sent}); err != nil {
			return err
		}
	case reqDescribeStatement:
		ss.q.pop()
		if r.injected {
			ss.predescribed = fields
			return nil
		}
		if st := ss.reg.stmts[r.name]; st != nil && fields != nil {
			st.Fields = fields
		}
	case reqDescribePortal:
		if fields != nil {
			ss.reg.portal(r.name).Fields = fields
		}
		ss.q.pop()
		if r.injected {
			return nil
		}
	default:
		return desync("RowDescription answering " + r.kind.String())
	}
	return ss.write(m.raw)
}

// noData answers a Describe of a statement or portal that returns no rows.
func (ss *session) noData(m message) error {
	r, err := ss.head("NoData")
	if err != nil {
		return err
	}
	switch r.kind {
	case reqDescribeStatement:
		if r.injected {
			ss.predescribed = []pgproto3.FieldDescription{}
		} else if st := ss.reg.stmts[r.name]; st != nil {
			st.Fields = []pgproto3.FieldDescription{}
		}
	case reqDescribePortal:
		if ss.ic != nil {
			ss.reg.portal(r.name).Fields = []pgproto3.FieldDescription{}
		}
	default:
		return desync("NoData answering " + r.kind.String())
	}
	ss.q.pop()
	if r.injected {
		return nil
	}
	return ss.write(m.raw)
}

// startRows begins the result set of an Execute at its first DataRow; its
// columns come from the portal's description.
func (ss *session) startRows() error {
	r, err := ss.head("DataRow")
	if err != nil {
		return err
	}
	if r.kind != reqExecute {
		return desync("DataRow answering " + r.kind.String())
	}
	p := ss.reg.portals[r.name]
	if p == nil || p.Fields == nil {
		// Fail closed: rows whose columns are unknown cannot be checked.
		return desync("Execute of a portal with no known row description")
	}
	rs := &ResultSet{Portal: p, Statement: p.Statement, Fields: p.Fields, Sent: r.sent}
	if p.Statement != nil {
		rs.SQL, rs.Plan = p.Statement.SQL, p.Statement.Plan
	}
	return ss.startResult(rs)
}

// startResult asks the interceptor how to treat a new result set.
func (ss *session) startResult(rs *ResultSet) error {
	ss.res = resultState{active: true, sql: rs.SQL, portal: rs.Portal, copy: rs.Copy}
	if ss.ic == nil {
		return nil
	}
	rs.ClientEncoding = ss.Parameter("client_encoding")
	rw, err := ss.ic.Result(rs)
	if err != nil {
		return err
	}
	ss.res.rw = rw
	if pf, ok := rw.(RowPrefetcher); ok && !rs.Copy && pf.Prefetches() {
		ss.res.pf = pf
	}
	return nil
}

// startCopyOut begins a COPY TO STDOUT result: CopyData rows go through
// the interceptor like DataRows.
func (ss *session) startCopyOut() error {
	r, err := ss.head("CopyOutResponse")
	if err != nil {
		return err
	}
	if r.kind != reqQuery && r.kind != reqExecute {
		return desync("CopyOutResponse answering " + r.kind.String())
	}
	rs := &ResultSet{SQL: r.sql, Copy: true, Fields: ss.predescribed, Plan: r.plan, Index: ss.stmtIndex}
	if r.kind == reqExecute {
		rs.Plan, rs.Index = nil, 0
		if p := ss.reg.portals[r.name]; p != nil && p.Statement != nil {
			rs.SQL, rs.Portal, rs.Statement, rs.Plan = p.Statement.SQL, p, p.Statement, p.Statement.Plan
		}
	}
	return ss.startResult(rs)
}

// rewriteRow passes a DataRow through the result set's rewriter.
func (ss *session) rewriteRow(m message) error {
	if err := ss.row.Decode(m.body); err != nil {
		return fatalf(codeProtocolViolation, err, "invalid DataRow from the PostgreSQL server")
	}
	if ss.res.pf != nil {
		if ss.res.prefetched > 0 {
			ss.res.prefetched--
		} else {
			ss.prefetchRows()
		}
	}
	if err := ss.res.rw.RewriteRow(ss.row.Values); err != nil {
		return interceptFailed(err)
	}
	buf, err := ss.row.Encode(ss.scratch[:0])
	if err != nil {
		return interceptFailed(err)
	}
	ss.scratch = buf[:0]
	return ss.write(buf)
}

// prefetchRows gives the rewriter the current row (decoded in ss.row) and
// the whole DataRows already buffered after it. A buffered row that does
// not decode ends the batch: the relay meets it in turn and fails there.
func (ss *session) prefetchRows() {
	ss.pfBodies = ss.sr.peekDataRows(ss.pfBodies[:0], MaxPrefetchRows-1)
	vals := append(ss.pfVals[:0], ss.row.Values...)
	ends := append(ss.pfEnds[:0], len(vals))
	for _, body := range ss.pfBodies {
		var ok bool
		if vals, ok = appendRowValues(vals, body); !ok {
			break
		}
		ends = append(ends, len(vals))
	}
	rows, start := ss.pfRows[:0], 0
	for _, end := range ends {
		rows = append(rows, vals[start:end:end])
		start = end
	}
	ss.res.pf.PrefetchRows(rows)
	ss.res.prefetched = len(rows) - 1
	clear(vals) // no reference into the read buffer outlives the call
	ss.pfVals, ss.pfEnds, ss.pfRows = vals[:0], ends[:0], rows[:0]
	clear(ss.pfBodies)
}

// appendRowValues appends the column values of a DataRow body to vals
// (NULL as nil), or reports false for a malformed body.
func appendRowValues(vals [][]byte, body []byte) ([][]byte, bool) {
	if len(body) < 2 {
		return vals, false
	}
	n := int(binary.BigEndian.Uint16(body))
	body = body[2:]
	for range n {
		if len(body) < 4 {
			return vals, false
		}
		l := int(int32(binary.BigEndian.Uint32(body)))
		body = body[4:]
		if l < 0 {
			vals = append(vals, nil)
			continue
		}
		if l > len(body) {
			return vals, false
		}
		vals = append(vals, body[:l:l])
		body = body[l:]
	}
	return vals, len(body) == 0
}

// rewriteCopyData passes one CopyData message through the rewriter as a
// single value.
func (ss *session) rewriteCopyData(m message) error {
	vals := [1][]byte{m.body}
	if err := ss.res.rw.RewriteRow(vals[:]); err != nil {
		return interceptFailed(err)
	}
	cd := pgproto3.CopyData{Data: vals[0]}
	buf, err := cd.Encode(ss.scratch[:0])
	if err != nil {
		return interceptFailed(err)
	}
	ss.scratch = buf[:0]
	return ss.write(buf)
}

// commandComplete handles CommandComplete, EmptyQueryResponse and
// PortalSuspended: the end of one statement's result.
func (ss *session) commandComplete(m message) error {
	r, err := ss.head("command completion")
	if err != nil {
		return err
	}
	if ss.aud != nil {
		ss.auditComplete(r, m)
	}
	switch r.kind {
	case reqQuery:
		if c, ok := ss.ic.(Completer); ok && m.typ == 'C' {
			c.StatementCompleted(r.plan, ss.stmtIndex)
		}
		ss.stmtIndex++
		if ss.ic != nil && mayRedefine(r.sql) {
			ss.reg.forgetSQL()
		}
	case reqExecute:
		ss.q.pop()
		p := ss.reg.portals[r.name]
		if c, ok := ss.ic.(Completer); ok && m.typ == 'C' && p != nil && p.Statement != nil {
			c.StatementCompleted(p.Statement.Plan, 0)
		}
		if ss.ic != nil && (p == nil || p.Statement == nil || p.Statement.SQL == "" || mayRedefine(p.Statement.SQL)) {
			ss.reg.forgetSQL()
		}
	default:
		return desync(fmt.Sprintf("%s answered with %q", r.kind, m.typ))
	}
	ss.res = resultState{}
	if ss.copyIn {
		ss.copyIn = false
		ss.q.endCopyIn()
	}
	if m.typ == 'C' {
		ss.trackCommandTag(m.body)
	}
	return ss.write(m.raw)
}

// trackCommandTag applies statements that change the registry from SQL,
// and notes DDL.
func (ss *session) trackCommandTag(body []byte) {
	tag, _, _ := cstring(body)
	if len(tag) > 0 && ddlFirstByte[tag[0]] && isDDL(tag) {
		ss.ddlSeen = true
	}
	switch {
	case bytes.Equal(tag, []byte("DISCARD ALL")):
		clear(ss.reg.stmts)
		ss.reg.endTransaction()
	case bytes.Equal(tag, []byte("DEALLOCATE ALL")):
		clear(ss.reg.stmts)
	}
}

// ddlFirstByte is a cheap pre-filter for isDDL on the per-statement path.
var ddlFirstByte = [256]bool{'C': true, 'A': true, 'D': true, 'G': true, 'R': true, 'S': true}

var ddlPrefixes = [][]byte{[]byte("CREATE"), []byte("ALTER"), []byte("DROP"), []byte("COMMENT"),
	[]byte("GRANT"), []byte("REVOKE"), []byte("SECURITY LABEL")}

// isDDL reports whether a command tag is one of a schema-changing command.
func isDDL(tag []byte) bool {
	for _, p := range ddlPrefixes {
		if bytes.HasPrefix(tag, p) {
			return true
		}
	}
	return false
}

// readyForQuery ends a simple Query, FunctionCall or Sync.
func (ss *session) readyForQuery(m message) error {
	if len(m.body) != 1 {
		return fatalf(codeProtocolViolation, nil, "invalid ReadyForQuery from the PostgreSQL server")
	}
	r, err := ss.head("ReadyForQuery")
	if err != nil {
		return err
	}
	switch r.kind {
	case reqQuery, reqFunctionCall, reqSync:
		// The status first: the client-to-server goroutine reads an empty
		// queue as "the last status is current".
		ss.txStatus.Store(uint32(m.body[0]))
		ss.q.pop()
	default:
		return desync("ReadyForQuery answering " + r.kind.String())
	}
	if r.injected {
		return nil // the end of pgmantle's own Parse/Describe/Sync
	}
	if ss.aud != nil {
		ss.aud.Synced()
	}
	if sy, ok := ss.ic.(Syncer); ok {
		sy.Synced(r.batch)
	}
	ss.res = resultState{}
	ss.predescribed = nil
	ss.stmtIndex = 0
	ss.queryErred, ss.sinceSync = false, 0
	if m.body[0] == 'I' {
		ss.reg.endTransaction()
		if ss.ddlSeen {
			ss.ddlSeen = false
			if ss.srv.OnSchemaChange != nil {
				ss.srv.OnSchemaChange(&ss.info)
			}
		}
	}
	return ss.write(m.raw)
}

// errorResponse applies PostgreSQL's error rules to the queue: an error
// answering an extended-protocol message makes the server skip everything
// until Sync; in a simple Query or FunctionCall, ReadyForQuery follows.
func (ss *session) errorResponse(m message) {
	ss.res = resultState{}
	if ss.copyIn {
		ss.copyIn = false
		ss.q.endCopyIn()
	}
	r, ok := ss.q.peek()
	if !ok {
		// Not tied to a request: a FATAL such as an administrator's
		// shutdown. The server closes the connection after it.
		if isFatal(m.body) {
			ss.serverSentFatal = true
		}
		return
	}
	if r.kind.extended() {
		ss.q.skipToSync()
	}
	if isFatal(m.body) {
		ss.serverSentFatal = true
	}
}

// standInRejected reports whether an ErrorResponse is PostgreSQL's
// rejection of the stand-in for a refused message — a syntax error for a
// Query or Parse, an unknown function for a FunctionCall, an unknown
// statement for a Bind — rather than an error that would have met the
// client's own message too (a failed transaction, a FATAL).
func standInRejected(kind reqKind, body []byte) bool {
	want := "42601"
	switch kind {
	case reqFunctionCall:
		want = "42883"
	case reqBind:
		want = "26000"
	}
	return string(errorField(body, 'C')) == want
}

// errorField returns one field of an ErrorResponse body.
func errorField(body []byte, field byte) []byte {
	for len(body) > 1 {
		f := body[0]
		val, rest, ok := cstring(body[1:])
		if !ok {
			return nil
		}
		if f == field {
			return val
		}
		body = rest
	}
	return nil
}

// isFatal reports whether an ErrorResponse body has severity FATAL or PANIC.
func isFatal(body []byte) bool {
	for len(body) > 1 {
		field := body[0]
		val, rest, ok := cstring(body[1:])
		if !ok {
			return false
		}
		if field == 'V' || field == 'S' {
			return bytes.Equal(val, []byte("FATAL")) || bytes.Equal(val, []byte("PANIC"))
		}
		body = rest
	}
	return false
}

// scrub passes an ErrorResponse or NoticeResponse through the
// interceptor's scrubber and relays the result.
func (ss *session) scrub(m message, sc ErrorScrubber) error {
	var e pgproto3.ErrorResponse
	if err := e.Decode(m.body); err != nil {
		return fatalf(codeProtocolViolation, err, "invalid error or notice message from the PostgreSQL server")
	}
	sc.ScrubError(&e)
	buf, err := e.Encode(ss.scratch[:0])
	if err != nil {
		return interceptFailed(err)
	}
	if m.typ == 'N' {
		buf[0] = 'N' // NoticeResponse has ErrorResponse's layout
	}
	ss.scratch = buf[:0]
	return ss.write(buf)
}

// recordParameter keeps the latest ParameterStatus values.
func (ss *session) recordParameter(body []byte) {
	name, rest, ok := cstring(body)
	if !ok {
		return
	}
	value, _, ok := cstring(rest)
	if !ok {
		return
	}
	ss.paramsMu.Lock()
	if ss.params == nil {
		ss.params = map[string]string{}
	}
	ss.params[string(name)] = string(value)
	ss.paramsMu.Unlock()
}

// Parameter returns the latest value PostgreSQL reported for a run-time
// parameter (server_version, client_encoding, ...).
func (ss *session) Parameter(name string) string {
	ss.paramsMu.Lock()
	defer ss.paramsMu.Unlock()
	return ss.params[name]
}

func desync(what string) error {
	return fatalf(codeInternalError, errors.New(what), "pgmantle: protocol desynchronized with the PostgreSQL server")
}

func interceptFailed(err error) error {
	var pe *Error
	if errors.As(err, &pe) {
		return err
	}
	return fatalf(codeInternalError, err, "pgmantle could not process a result row; the session is closed")
}
