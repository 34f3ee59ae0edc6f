package proxy

import (
	"bytes"
	"errors"
	"time"
)

// Auditor is told of every session and every client statement, for the
// audit log and metrics (Server.Audit; nil: nothing is told).
type Auditor interface {
	// Open is called when a login succeeds, before the client's first
	// statement, and returns the session's auditor.
	Open(info *SessionInfo) SessionAuditor
	// LoginFailed is called when PostgreSQL refuses a login; code is the
	// SQLSTATE of its error.
	LoginFailed(info *SessionInfo, code string)
	// Refuse returns the error every statement meets while statements
	// cannot be audited, or nil. It is called for each simple Query, Bind
	// and FunctionCall, on the client-to-server goroutine: it must be
	// cheap.
	Refuse() *Error
}

// SessionAuditor audits one session. Its methods run on the session's
// server-to-client goroutine, one at a time, in protocol order.
type SessionAuditor interface {
	// Statement is called when a client statement has completed, failed
	// or been refused. The event is reused: it must not be kept.
	Statement(ev *StatementEvent)
	// Synced is called before each ReadyForQuery that answers the client
	// is relayed; it may block until the session's records are durable.
	Synced()
	// Ended is called when the session ends; reason is log-safe.
	Ended(reason string)
}

// Outcome is how a statement ended.
type Outcome uint8

const (
	OutcomeOK        Outcome = iota + 1 // CommandComplete (or a FunctionCall's result)
	OutcomeEmpty                        // EmptyQueryResponse
	OutcomeSuspended                    // PortalSuspended: the Execute's row limit was reached
	OutcomeFailed                       // PostgreSQL's ErrorResponse
	OutcomeRefused                      // pgmantle refused it; it never ran
)

// MessageResult is StatementEvent.Message for a simple-query statement
// pgmantle refused at its result.
const MessageResult = "result"

// MessageAbandoned is StatementEvent.Message for a statement PostgreSQL
// was still running when pgmantle closed the connection (a vanished
// client's statement that outlived the cancel, a forced shutdown, a
// session pgmantle ended): whether it completed (or committed) is
// unknown.
const MessageAbandoned = "abandoned"

// MessageCommit is StatementEvent.Message for the commit of an
// extended-protocol implicit transaction that failed answering a Sync (a
// deferred constraint, a serialization failure): the client sent no
// statement for it, SQL is empty, and every statement since the last
// transaction boundary was rolled back. (A simple Query's implicit commit
// fails in place of its last statement's CommandComplete: that statement
// fails, as PostgreSQL reports it.)
const MessageCommit = "commit"

// Protocols of a StatementEvent.
const (
	ProtocolSimple   = "simple"
	ProtocolExtended = "extended"
	ProtocolFunction = "function"
)

// StatementEvent describes one client statement as it ended. SQL holds
// the client's text, literals and all: an auditor must normalize it and
// never record it as it is.
type StatementEvent struct {
	// SQL is the simple Query's whole text (Index tells which of its
	// statements this is) or the prepared statement's text ("" when
	// unknown, as for a FunctionCall).
	SQL      string
	Index    int
	Protocol string
	// Message is the protocol message the statement failed or was refused
	// at, for the extended protocol: "Parse", "Bind" or "Execute"; for a
	// simple Query, MessageResult when pgmantle refused the statement's
	// result after it ran (it refuses a simple Query as a whole before
	// running any of it), else "".
	Message string
	// Plan is what the Admitter returned for the text, if anything.
	Plan any
	// Tag is CommandComplete's tag ("SELECT 5"); valid during the call.
	Tag      []byte
	Outcome  Outcome
	SQLState string
	// Refusal is pgmantle's error for a refused statement (its Message is
	// vetted: it names classes, columns and rules, never a value).
	Refusal *Error
	// Rows and Bytes count the DataRow and CopyData messages relayed for
	// the statement (bytes as PostgreSQL sent them).
	Rows, Bytes int64
	Start, End  time.Time
	// Param returns the session's run-time parameters as PostgreSQL last
	// reported them (standard_conforming_strings, client_encoding).
	Param func(name string) string
	// Discarded: the client had vanished before the statement ended, and
	// its answer went to no one (Rows and Bytes count what reached the
	// client before).
	Discarded bool
}

// audit reports a statement's end to the session's auditor: ev with its
// rows, bytes and times filled in. A statement starts when the client's
// message arrived or when the session's previous statement ended,
// whichever is later.
func (ss *session) audit(ev StatementEvent, sent time.Time) {
	if ss.aud == nil {
		return
	}
	ev.Rows, ev.Bytes, ev.Param, ev.Discarded = ss.rows, ss.bytes, ss.param, ss.sink.gone.Load()
	ev.End = time.Now()
	ev.Start = sent
	if ss.lastEnd.After(sent) {
		ev.Start = ss.lastEnd
	}
	ss.ev = ev
	ss.aud.Statement(&ss.ev)
	ss.ev = StatementEvent{}
	ss.rows, ss.bytes = 0, 0
	ss.lastEnd = ev.End
}

// auditComplete reports a statement that ended with CommandComplete,
// EmptyQueryResponse or PortalSuspended (r is the request it answers).
func (ss *session) auditComplete(r request, m message) {
	ev := StatementEvent{Outcome: OutcomeOK}
	switch m.typ {
	case 'C':
		ev.Tag, _, _ = cstring(m.body)
	case 'I':
		ev.Outcome = OutcomeEmpty
	case 's':
		ev.Outcome = OutcomeSuspended
	}
	if r.kind != reqQuery && r.kind != reqExecute {
		return
	}
	if r.kind == reqExecute && ss.sinceSync >= 0 {
		// Unsynced work is rolled back if the session ends before a Sync,
		// as long as every statement since was one that cannot end (or
		// commit outside) a transaction.
		if staysInTransaction(ev.Tag) {
			ss.sinceSync = 1
		} else {
			ss.sinceSync = -1
		}
	}
	ss.describeStatement(&ev, r)
	ss.audit(ev, r.sent)
}

// describeStatement fills in ev what r says of its statement: text,
// plan, protocol and message. It reports false for a request that is
// not a statement (a Describe, a Close, a Sync).
func (ss *session) describeStatement(ev *StatementEvent, r request) bool {
	switch r.kind {
	case reqQuery:
		ev.SQL, ev.Index, ev.Protocol, ev.Plan = r.sql, ss.stmtIndex, ProtocolSimple, r.plan
	case reqParse:
		ev.SQL, ev.Protocol, ev.Message, ev.Plan = r.sql, ProtocolExtended, "Parse", r.plan
	case reqBind:
		ev.Protocol, ev.Message = ProtocolExtended, "Bind"
		if st := ss.reg.stmts[r.stmt]; st != nil {
			ev.SQL, ev.Plan = st.SQL, st.Plan
		}
	case reqExecute:
		ev.Protocol, ev.Message = ProtocolExtended, "Execute"
		if p := ss.reg.portals[r.name]; p != nil && p.Statement != nil {
			ev.SQL, ev.Plan = p.Statement.SQL, p.Statement.Plan
		}
	case reqFunctionCall:
		ev.Protocol = ProtocolFunction
	default:
		return false
	}
	return true
}

// auditError reports a statement PostgreSQL answered with an error, or
// that pgmantle refused (its stand-in's error).
func (ss *session) auditError(body []byte) {
	r, ok := ss.q.peek()
	if !ok {
		return
	}
	if r.kind == reqSync && !r.injected && string(errorField(body, 'V')) == "ERROR" {
		// It started when the last statement ended (audit takes the later).
		ss.audit(StatementEvent{Protocol: ProtocolExtended, Message: MessageCommit, Outcome: OutcomeFailed,
			SQLState: string(errorField(body, 'C'))}, ss.lastEnd)
		return
	}
	if r.injected {
		if r.kind != reqDescribePortal {
			return
		}
		// pgmantle's own Describe ahead of an Execute met the error the
		// Execute would have met (no such portal); the Execute is skipped.
		r.kind = reqExecute
	}
	if r.kind == reqQuery {
		// A simple Query ends at its first error; a FATAL that follows it
		// (protocol synchronization lost in COPY) is the session's end,
		// not another statement.
		if ss.queryErred {
			return
		}
		ss.queryErred = true
	}
	ev := StatementEvent{Outcome: OutcomeFailed, SQLState: string(errorField(body, 'C'))}
	if r.refused != nil && standInRejected(r.kind, body) {
		ev.Outcome, ev.SQLState, ev.Refusal = OutcomeRefused, r.refused.Code, r.refused
	}
	if !ss.describeStatement(&ev, r) {
		return // a Describe or Close: not a statement
	}
	ss.audit(ev, r.sent)
}

// staysInTransaction reports whether a command tag is of a statement that
// runs inside the current transaction and cannot end it or commit on its
// own (DML, queries, cursors, BEGIN, SAVEPOINT, SET). Anything else
// (COMMIT, ROLLBACK, which also ends ROLLBACK TO SAVEPOINT, PREPARE
// TRANSACTION, CREATE DATABASE, VACUUM...) makes the transaction's state
// unknown until the next ReadyForQuery.
func staysInTransaction(tag []byte) bool {
	word, _, _ := bytes.Cut(tag, []byte(" "))
	switch string(word) {
	case "INSERT", "UPDATE", "DELETE", "SELECT", "MERGE", "FETCH", "MOVE", "COPY", "BEGIN", "SAVEPOINT", "SET", "SHOW":
		return true
	case "DECLARE":
		return string(tag) == "DECLARE CURSOR"
	case "START":
		return string(tag) == "START TRANSACTION"
	}
	return false
}

// endReason is describeEnd(err) for the audit's session end, saying when
// the session ended with a transaction open: PostgreSQL rolls it back. It
// says nothing when a statement was still unanswered (a COMMIT in flight
// may have completed). Call it once both relay loops have ended.
func (ss *session) endReason(err error) string {
	reason := describeEnd(err)
	if st := ss.txStatus.Load(); ss.sinceSync >= 0 && (st == 'T' || st == 'E' || ss.sinceSync == 1) && !ss.q.hasAudited() {
		reason += "; its open transaction was rolled back"
	}
	return reason
}

// auditCutShort reports, when the session ends with err, the statement
// whose answer was being relayed: it ran, and rows may have reached the
// client, but it never completed. pgmantle's own refusal of its result
// (a policy error) makes it refused; anything else (the client or the
// server gone, a shutdown) failed, with the SQLSTATE of the session's end.
func (ss *session) auditCutShort(err error) {
	r, ok := ss.q.peek()
	if !ok || r.injected || !(ss.res.active || ss.copyIn || ss.rows > 0 || ss.abandoned) {
		return
	}
	ev := StatementEvent{Outcome: OutcomeFailed, SQLState: codeConnectionFailure}
	var pe *Error
	if errors.As(err, &pe) {
		ev.SQLState = pe.Code
		if pe.Code == codeInsufficientPrivilege {
			ev.Outcome, ev.Refusal = OutcomeRefused, pe
		}
	}
	if r.kind != reqQuery && r.kind != reqExecute {
		return
	}
	ss.describeStatement(&ev, r)
	if r.kind == reqQuery && ev.Outcome == OutcomeRefused {
		ev.Message = MessageResult
	}
	if ss.abandoned {
		ev.Message = MessageAbandoned
	}
	ss.audit(ev, r.sent)
}
