package resultmask

import (
	"strings"

	"github.com/jackc/pgx/v5/pgproto3"
)

// ScrubError rewrites the errors and notices of a restricted session so
// that they cannot carry values: PostgreSQL quotes the offending input in
// many messages (`invalid input syntax for type integer: "..."`,
// `role "..." does not exist` after a cast to regrole), and details,
// contexts and RAISE messages can hold anything. Kept: the severity, the
// SQLSTATE, the message with every quoted part masked (except a syntax
// error's, which quotes the client's own SQL), and hints.
func (s *session) ScrubError(e *pgproto3.ErrorResponse) {
	if e.Detail != "" {
		e.Detail = "(detail hidden by pgmantle: it may contain protected values)"
	}
	if e.Where != "" {
		e.Where = "(context hidden by pgmantle)"
	}
	e.InternalQuery = ""
	switch {
	case e.Code == "P0001" || e.Code == "00000" || e.Code == "01000":
		// RAISE EXCEPTION / NOTICE / WARNING: the message is the caller's text.
		e.Message = "(message hidden by pgmantle: it may contain protected values)"
		e.Hint = ""
	case e.Code != "42601":
		e.Message = maskQuoted(e.Message)
	}
}

// ScrubNotification hides NOTIFY payloads from restricted sessions: a
// payload can be any value (pg_notify in a function).
func (s *session) ScrubNotification(n *pgproto3.NotificationResponse) {
	if n.Payload != "" {
		n.Payload = "(payload hidden by pgmantle)"
	}
}

// safeParameters are run-time parameters whose values a session cannot set
// to arbitrary text, or that clients need verbatim.
var safeParameters = map[string]bool{
	"client_encoding": true, "DateStyle": true, "TimeZone": true, "integer_datetimes": true,
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
	if p.Name == "application_name" && p.Value == s.info.StartupParams["application_name"] {
		return
	}
	p.Value = ""
}

// maskQuoted replaces the contents of every "..." in msg.
func maskQuoted(msg string) string {
	var b strings.Builder
	in := false
	for _, r := range msg {
		switch {
		case r == '"':
			in = !in
			b.WriteRune(r)
			if in {
				b.WriteString("***")
			}
		case !in:
			b.WriteRune(r)
		}
	}
	return b.String()
}
