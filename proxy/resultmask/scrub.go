package resultmask

import (
	"strings"

	"github.com/jackc/pgx/v5/pgproto3"
)

// ScrubError removes from errors and notices of a restricted session the
// parts that can echo row values: the Detail of data exceptions (22xxx)
// and integrity violations (23xxx) — "Key (id_no)=(...)", "Failing row
// contains (...)" — the quoted input of a data exception's message
// (`invalid input syntax for type integer: "..."`), and the text of
// internal queries and contexts, which can carry values from functions.
func (s *session) ScrubError(e *pgproto3.ErrorResponse) {
	class := ""
	if len(e.Code) >= 2 {
		class = e.Code[:2]
	}
	if class == "22" || class == "23" || strings.Contains(e.Detail, "Failing row contains") || strings.Contains(e.Detail, ")=(") {
		if e.Detail != "" {
			e.Detail = "(detail hidden by pgmantle: it may contain protected values)"
		}
	}
	if class == "22" {
		e.Message = maskQuoted(e.Message)
	}
	e.InternalQuery = ""
	if e.Where != "" {
		e.Where = "(context hidden by pgmantle)"
	}
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
