package resultmask

import (
	"strings"

	"github.com/jackc/pgx/v5/pgproto3"
)

// keptMessages are the messages a restricted session may read, by
// SQLSTATE and fixed prefix (quoted parts are masked after the prefix):
// their texts are templates naming only things the client's own SQL named.
// Any other message is replaced, since PostgreSQL and PL/pgSQL put input
// values in many of them ("date field value out of range: ...", "improper
// relation name (too many dotted names): ...", RAISE, ASSERT).
var keptMessages = map[string][]string{
	"42601": {"syntax error at or near ", "syntax error at end of input"},
	"42501": {"pgmantle: ", "permission denied for "},
	"42P01": {`relation "`, `missing FROM-clause entry for table "`},
	"42703": {`column "`},
	"34000": {`cursor "`, `portal "`},
	"26000": {`prepared statement "`},
	"25P02": {"current transaction is aborted, commands ignored until end of transaction block"},
	"25001": {"there is already a transaction in progress"},
	"25P01": {"there is no transaction in progress"},
	"22012": {"division by zero"},
	"40001": {"could not serialize access"},
	"40P01": {"deadlock detected"},
	"57014": {"canceling statement due to "},
	"57P01": {"terminating connection due to administrator command"},
}

// keptMessage reports whether a message is one of keptMessages.
func keptMessage(code, msg string) bool {
	for _, prefix := range keptMessages[code] {
		if strings.HasPrefix(msg, prefix) {
			return true
		}
	}
	return false
}

// ScrubError rewrites the errors and notices of a restricted session so
// that they cannot carry values. Kept: severity, SQLSTATE, and for the
// messages in keptMessages the message with everything between its first
// and last double quote masked. Everything else — other messages, detail,
// hint, context, internal query, positions, source locations, and the
// column, table, schema, constraint and data type fields (RAISE ... USING
// can set them to anything) — is replaced or dropped.
func (s *session) ScrubError(e *pgproto3.ErrorResponse) {
	if keptMessage(e.Code, e.Message) {
		e.Message = maskQuoted(e.Message)
	} else {
		e.Message = "(message hidden by pgmantle: it may contain protected values; SQLSTATE " + e.Code + ")"
	}
	if e.Detail != "" {
		e.Detail = "(detail hidden by pgmantle)"
	}
	if e.Where != "" {
		e.Where = "(context hidden by pgmantle)"
	}
	e.Hint, e.InternalQuery = "", ""
	e.SchemaName, e.TableName, e.ColumnName, e.DataTypeName, e.ConstraintName = "", "", "", "", ""
	// A position can point into text built from data at run time (a
	// syntax error inside a regtype input), so it can carry a number.
	e.Position, e.InternalPosition = 0, 0
	e.File, e.Line, e.Routine = "", 0, ""
}

// ScrubNotification hides NOTIFY channels and payloads from restricted
// sessions: both can be any value (LISTEN and pg_notify with computed
// names). The query layer will refuse LISTEN/NOTIFY for them outright.
func (s *session) ScrubNotification(n *pgproto3.NotificationResponse) {
	n.Channel = "(hidden by pgmantle)"
	n.Payload = ""
}

// safeParameters are run-time parameters whose values a session cannot set
// to arbitrary text, or that clients need verbatim.
var safeParameters = map[string]bool{
	"client_encoding": true, "DateStyle": true, "integer_datetimes": true,
	"IntervalStyle": true, "is_superuser": true, "server_encoding": true, "server_version": true,
	"session_authorization": true, "standard_conforming_strings": true, "in_hot_standby": true,
	"default_transaction_read_only": true, "scram_iterations": true,
}

// ScrubParameterStatus hides parameter values a restricted session could
// have set to protected data (set_config('application_name', ...)): only
// safe parameters and the application_name the client itself sent pass.
func (s *session) ScrubParameterStatus(p *pgproto3.ParameterStatus) {
	if safeParameters[p.Name] {
		return
	}
	if p.Name == "TimeZone" && ianaZone(p.Value) {
		return
	}
	if p.Name == "application_name" && p.Value == s.info.StartupParams["application_name"] {
		return
	}
	p.Value = ""
}

// maskQuoted replaces everything from the first to the last double quote
// of msg, so that quotes inside a quoted value cannot end the masking early.
func maskQuoted(msg string) string {
	first, last := strings.IndexByte(msg, '"'), strings.LastIndexByte(msg, '"')
	if first < 0 || first == last {
		return msg
	}
	return msg[:first] + `"***"` + msg[last+1:]
}

// ianaZone reports whether a TimeZone value looks like an IANA zone name
// (Area/Location) or UTC: POSIX specifications such as "<ABC>-8" can hold
// arbitrary letters and digits, so they are hidden.
func ianaZone(v string) bool {
	if v == "UTC" || v == "GMT" {
		return true
	}
	area, loc, ok := strings.Cut(v, "/")
	if !ok || area == "" || loc == "" {
		return false
	}
	for _, c := range v {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == '/' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
