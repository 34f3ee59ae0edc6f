// Package audithook turns what the proxy reports of sessions and
// statements (proxy.Auditor) into audit records and metrics: it
// normalizes each statement's text (package audit), takes the tables,
// protected columns, classes and masks from the analysis of restricted
// sessions (or asks the engine for those of unrestricted ones), decides
// the record's decision, submits the record and counts it.
//
// It stops at glue: records are chained and written by audit.Writer,
// metrics served by package admin.
package audithook

import (
	"bytes"
	"sync"
	"time"

	"github.com/pgmantle/pgmantle/admin"
	"github.com/pgmantle/pgmantle/audit"
	"github.com/pgmantle/pgmantle/parser"
	"github.com/pgmantle/pgmantle/policy"
	"github.com/pgmantle/pgmantle/proxy"
	"github.com/pgmantle/pgmantle/proxy/resultmask"
)

// Hook is the proxy's Auditor. Writer and Metrics may each be nil (no
// audit log, or no metrics); Touched, if set, names the protected columns
// and classes of a statement no analysis saw (an unrestricted session's),
// from its normalized text; PolicyGeneration the policy in force.
type Hook struct {
	Writer           *audit.Writer
	Metrics          *admin.Metrics
	Touched          func(database, sql string) (columns, classes []string, ok bool)
	PolicyGeneration func() uint64

	norm      *audit.Normalizer
	initOnce  sync.Once
	touchMu   sync.Mutex
	touchMemo map[touchKey]touch
}

type touchKey struct {
	database, sql string
	gen           uint64
}

type touch struct {
	columns, classes []string
}

// refusedUnaudited is what statements meet while the audit log cannot be
// written (audit.on_failure: refuse).
var refusedUnaudited = &proxy.Error{Severity: "ERROR", Code: "57P05",
	Message: "pgmantle: the audit log cannot be written, so statements are refused until it can (audit.on_failure: refuse)"}

func (h *Hook) init() {
	h.initOnce.Do(func() {
		h.norm = audit.NewNormalizer(4096)
		h.touchMemo = map[touchKey]touch{}
	})
}

// Refuse implements proxy.Auditor.
func (h *Hook) Refuse() *proxy.Error {
	if h.Writer != nil && h.Writer.Healthy() != nil {
		return refusedUnaudited
	}
	return nil
}

// Open implements proxy.Auditor: a session_start record.
func (h *Hook) Open(info *proxy.SessionInfo) proxy.SessionAuditor {
	h.init()
	s := &session{h: h, info: info}
	role := s.effectiveRole()
	s.fragment = audit.SessionFragment(info.ID, info.RemoteAddr, info.User, role, info.Database,
		info.StartupParams["application_name"])
	if h.Metrics != nil {
		h.Metrics.SessionOpened(info.ID)
	}
	rec := s.record(audit.TypeSessionStart)
	s.submit(rec, false)
	return s
}

// LoginFailed implements proxy.Auditor.
func (h *Hook) LoginFailed(info *proxy.SessionInfo, code string) {
	if h.Metrics != nil {
		h.Metrics.LoginFailed()
	}
	if h.Writer == nil {
		return
	}
	s := &session{h: h, info: info}
	rec := s.record(audit.TypeLoginFailed)
	rec.SQLState = code
	h.Writer.Submit(rec, false)
}

func (h *Hook) generation() uint64 {
	if h.PolicyGeneration == nil {
		return 0
	}
	return h.PolicyGeneration()
}

// session audits one session (its methods run on the session's
// server-to-client goroutine).
type session struct {
	h      *Hook
	info   *proxy.SessionInfo
	ticket uint64
	// The last text and its normalization; scratch for shape keys.
	lastSQL string
	lastEnc string
	last    *audit.Query
	scratch []byte
	// fragment is the session's fields rendered once (nil before Open).
	fragment []byte
}

func (s *session) effectiveRole() string {
	if s.info.EffectiveRole != "" {
		return s.info.EffectiveRole
	}
	return s.info.User
}

// record returns a record of the session (its session fields rendered
// once, in SessionJSON), timed now unless at is given.
func (s *session) record(typ string, at ...time.Time) *audit.Record {
	rec := audit.NewRecord()
	rec.Type, rec.SessionJSON, rec.PolicyGen = typ, s.fragment, s.h.generation()
	if len(at) > 0 {
		rec.Time = at[0]
	} else {
		rec.Time = time.Now()
	}
	if s.fragment == nil {
		rec.Session, rec.Client, rec.Role, rec.EffectiveRole = s.info.ID, s.info.RemoteAddr, s.info.User, s.effectiveRole()
		rec.Database, rec.ApplicationName = s.info.Database, s.info.StartupParams["application_name"]
	}
	return rec
}

func (s *session) submit(rec *audit.Record, droppable bool) {
	if s.h.Writer != nil {
		s.ticket = s.h.Writer.Submit(rec, droppable)
	}
}

// Synced implements proxy.SessionAuditor: under sync: always, the answer
// waits until the session's records are on disk.
func (s *session) Synced() {
	if s.h.Writer != nil && s.ticket > 0 {
		s.h.Writer.WaitDurable(s.ticket)
	}
}

// Ended implements proxy.SessionAuditor.
func (s *session) Ended(reason string) {
	if s.h.Metrics != nil {
		s.h.Metrics.SessionEnded(s.info.ID)
	}
	rec := s.record(audit.TypeSessionEnd)
	rec.Reason = reason
	s.submit(rec, false)
}

// Reasons of records that are not refusals.
const (
	// commitFailed: an extended-protocol implicit commit failed at Sync.
	commitFailed = "the implicit transaction's commit at Sync failed: its statements since the last transaction boundary were rolled back"
	// discarded: the statement ended after its client vanished.
	discarded = "the client had disconnected: PostgreSQL ran what it had sent, and the answer (or its rest) was discarded"
	// abandoned: pgmantle closed upstream with the statement still running.
	abandoned = "pgmantle closed the connection while PostgreSQL still ran the statement (a client gone for 10 s, a shutdown, the session ended): whether it completed is unknown"
)

// returnsRows reports whether a command tag's count is of rows sent to the
// client (SELECT, FETCH) rather than rows changed or copied.
func returnsRows(tag []byte) bool {
	return bytes.HasPrefix(tag, []byte("SELECT ")) || bytes.HasPrefix(tag, []byte("FETCH "))
}

// storesRows reports whether a statement's SELECT tag counts rows it
// stored rather than sent.
func storesRows(st *audit.Statement) bool {
	return st != nil && (st.Kind == "CREATE TABLE AS" || st.Kind == "SELECT INTO")
}

// Statement implements proxy.SessionAuditor.
func (s *session) Statement(ev *proxy.StatementEvent) {
	rec := s.record(audit.TypeStatement, ev.Start)
	rec.Protocol = ev.Protocol
	rec.Duration = ev.End.Sub(ev.Start)
	rec.Bytes = ev.Bytes
	rec.SQLState = ev.SQLState
	d := decisionOf(ev.Plan, ev.Index)
	s.describe(rec, ev, d)
	rec.Rows = ev.Rows
	// The tag's count, except that a result discarded for a vanished
	// client counts what reached it (CREATE TABLE AS and SELECT INTO
	// store their rows: their tag's count stands).
	if n, ok := tagRows(ev.Tag); ok && !(ev.Discarded && returnsRows(ev.Tag) && !storesRows(rec.Text)) {
		rec.Rows = n
	}
	switch {
	case ev.Message == proxy.MessageCommit:
		rec.Kind, rec.Reason = "COMMIT", commitFailed
	case ev.Message == proxy.MessageAbandoned:
		rec.Reason = abandoned
	case ev.Discarded:
		rec.Reason = discarded
	}
	switch ev.Outcome {
	case proxy.OutcomeRefused:
		rec.Decision = audit.DecisionRefused
		if ev.Refusal != nil {
			rec.Reason = ev.Refusal.Message
		}
	case proxy.OutcomeFailed:
		rec.Decision = audit.DecisionFailed
	default:
		rec.Decision = audit.DecisionAllowed
		if d != nil {
			rec.Masks, rec.Decision = masks(d)
		}
	}
	if d != nil {
		if rels := d.Statement.Relations; len(rels) > 0 {
			rec.Tables = rels
		}
	}
	if s.h.Metrics != nil {
		s.count(rec, d)
	}
	s.submit(rec, ev.Outcome == proxy.OutcomeRefused)
}

// describe fills the record's text fields: normalized SQL, fingerprint,
// kind, tables, protected columns and classes.
func (s *session) describe(rec *audit.Record, ev *proxy.StatementEvent, d *parser.Decision) {
	if ev.Protocol == proxy.ProtocolFunction {
		rec.Kind = "FUNCTION CALL"
		return
	}
	if ev.SQL == "" {
		rec.Kind = tagKind(ev.Tag)
		return
	}
	var q *audit.Query
	enc := ""
	if ev.Param != nil {
		enc = ev.Param("client_encoding")
	}
	if ev.SQL == s.lastSQL && enc == s.lastEnc && s.last != nil {
		q = s.last
	} else {
		q = s.query(ev.SQL, enc)
	}
	s.lastSQL, s.lastEnc, s.last = ev.SQL, enc, q
	if ev.Index >= len(q.Parts) {
		rec.SQL, rec.SQLHash, rec.Text = q.Unparsed.SQL, q.Unparsed.Hash, &q.Unparsed
		rec.Kind = tagKind(ev.Tag)
		return
	}
	st := &q.Parts[ev.Index]
	if ev.Outcome == proxy.OutcomeRefused && ev.Protocol == proxy.ProtocolSimple && ev.Message != proxy.MessageResult && q.Whole != nil {
		// pgmantle refuses a simple Query as a whole before it runs:
		// record all of it.
		st = q.Whole
	}
	rec.SQL, rec.Fingerprint, rec.Kind, rec.Tables, rec.Text = st.SQL, st.Fingerprint, st.Kind, st.Tables, st
	if k := tagKindBytes(ev.Tag); len(k) > 0 && string(k) != rec.Kind {
		rec.Kind = string(k)
	}
	if d != nil {
		rec.Columns, rec.Classes, _ = resultmask.Facts([]*parser.Statement{d.Statement})
		return
	}
	if s.h.Touched != nil && len(st.Tables) > 0 {
		t := s.h.touched(s.info.Database, st.SQL)
		rec.Columns, rec.Classes = t.columns, t.classes
	}
}

// query normalizes a statement's text. Text in a client encoding other
// than UTF-8 is decoded first (a GBK or BIG5 character can end in a
// backslash byte, which PostgreSQL, converting first, never mistakes for
// one); text that cannot be decoded, or whose literals end in different
// places depending on standard_conforming_strings, keeps only its
// keywords.
func (s *session) query(sql, enc string) *audit.Query {
	if audit.HighByteBackslash(sql) {
		return &audit.Query{Unparsed: audit.UnparsedAmbiguous(sql)}
	}
	if enc != "" && enc != "UTF8" && enc != "SQL_ASCII" {
		utf8, err := resultmask.DecodeClientText(enc, sql)
		if err != nil {
			return &audit.Query{Unparsed: audit.UnparsedAmbiguous(sql)}
		}
		sql = utf8
	}
	if audit.AmbiguousBackslash(sql) {
		return &audit.Query{Unparsed: audit.UnparsedAmbiguous(sql)}
	}
	return s.h.norm.Normalize(sql, &s.scratch)
}

// touched asks Touched, memoizing by database, text and policy.
func (h *Hook) touched(database, sql string) touch {
	key := touchKey{database, sql, h.generation()}
	h.touchMu.Lock()
	t, ok := h.touchMemo[key]
	h.touchMu.Unlock()
	if ok {
		return t
	}
	cols, classes, ok := h.Touched(database, sql)
	t = touch{cols, classes}
	h.touchMu.Lock()
	if len(h.touchMemo) >= 4096 {
		clear(h.touchMemo)
	}
	if ok {
		h.touchMemo[key] = t
	}
	h.touchMu.Unlock()
	return t
}

// count updates the metrics for a record.
func (s *session) count(rec *audit.Record, d *parser.Decision) {
	m := s.h.Metrics
	m.Statement(rec.Decision)
	if rec.Decision == audit.DecisionRefused {
		m.Refused(s.info.ID, refusalReason(rec.Reason))
	}
	if d == nil || rec.Rows == 0 || (rec.Decision != audit.DecisionMasked && rec.Decision != audit.DecisionTokenized) {
		return
	}
	for _, o := range d.Outputs {
		if name := o.Action.MaskName(); o.Class != "" && name != "" {
			m.Masked(o.Class, name, rec.Rows)
		}
	}
}

// refusalReason is a refusal's metric label: a small fixed set.
func refusalReason(msg string) string {
	switch {
	case msg == refusedUnaudited.Message:
		return "audit"
	case bytes.Contains([]byte(msg), []byte("message is not available")), bytes.Contains([]byte(msg), []byte("statement name")):
		return "protocol"
	}
	return "policy"
}

// decisionOf returns the analysis decision of a statement, if the
// session's interceptor made one.
func decisionOf(plan any, index int) *parser.Decision {
	p, ok := plan.(*parser.Plan)
	if !ok || index < 0 || index >= len(p.Statements) {
		return nil
	}
	return p.Statements[index]
}

// masks lists the class:action pairs applied to a statement's result and
// the decision they make: tokenized if any column was tokenized, masked
// if any was masked or hashed, allowed otherwise.
func masks(d *parser.Decision) ([]string, string) {
	decision := audit.DecisionAllowed
	seen := map[string]bool{}
	var out []string
	for _, o := range d.Outputs {
		name := o.Action.MaskName()
		if o.Class == "" || name == "" {
			continue
		}
		if o.Action.Kind == policy.Tokenize {
			decision = audit.DecisionTokenized
		} else if decision == audit.DecisionAllowed {
			decision = audit.DecisionMasked
		}
		if m := o.Class + ":" + name; !seen[m] {
			seen[m] = true
			out = append(out, m)
		}
	}
	return out, decision
}

// tagKind is the kind a command tag names: its words before the first
// number ("INSERT 0 1" is INSERT).
func tagKind(tag []byte) string { return string(tagKindBytes(tag)) }

func tagKindBytes(tag []byte) []byte {
	end := len(tag)
	for i, c := range tag {
		if c >= '0' && c <= '9' {
			end = i
			break
		}
	}
	return bytes.TrimSpace(tag[:end])
}

// tagRows is the row count a command tag reports, if any.
func tagRows(tag []byte) (int64, bool) {
	i := bytes.LastIndexByte(tag, ' ')
	if i < 0 || i == len(tag)-1 || len(tag)-i > 19 {
		return 0, false
	}
	var n int64
	for _, c := range tag[i+1:] {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}
