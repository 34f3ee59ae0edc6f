package resultmask

import (
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/pgmantle/pgmantle/proxy"
)

// TestScrubbers: the channels a restricted session could fill with values
// are scrubbed even if a statement reaches them (defence in depth behind
// Admit).
func TestScrubbers(t *testing.T) {
	s := &session{info: &proxy.SessionInfo{StartupParams: map[string]string{"application_name": "psql"}}}
	n := &pgproto3.NotificationResponse{Channel: "张伟", Payload: "310105199003078032"}
	s.ScrubNotification(n)
	if strings.Contains(n.Channel+n.Payload, "张伟") || strings.Contains(n.Payload, "3101") {
		t.Fatalf("notification %+v", n)
	}
	for _, c := range []struct{ name, value, want string }{
		{"application_name", "psql", "psql"},
		{"application_name", "310105199003078032", ""},
		{"TimeZone", "Asia/Shanghai", "Asia/Shanghai"},
		{"TimeZone", "<310105199003>-8", ""},
		{"client_encoding", "GBK", "GBK"},
		{"my.custom", "310105199003078032", ""},
	} {
		p := &pgproto3.ParameterStatus{Name: c.name, Value: c.value}
		s.ScrubParameterStatus(p)
		if p.Value != c.want {
			t.Errorf("%s=%q scrubbed to %q, want %q", c.name, c.value, p.Value, c.want)
		}
	}
	for _, c := range []struct{ code, msg, want string }{
		{"42P01", `relation "x" does not exist`, `relation "***" does not exist`},
		{"22P02", `invalid input syntax for type integer: "x"310105"x"`, "(message hidden"},
		{"P0001", "310105199003078032", "(message hidden"},
		{"42704", `role "张伟" does not exist`, "(message hidden"},
		{"42601", "improper relation name (too many dotted names): 310105199003078032.a.b.c", "(message hidden"},
		{"42601", `syntax error at or near "SELEC"`, `syntax error at or near "***"`},
	} {
		e := &pgproto3.ErrorResponse{Code: c.code, Message: c.msg, Detail: "d 3101", Hint: "h 3101", ColumnName: "3101",
			Position: 310110, InternalPosition: 310110, Line: 1}
		s.ScrubError(e)
		if e.Position != 0 || e.InternalPosition != 0 || e.Line != 0 {
			t.Errorf("%s: positions kept: %+v", c.code, e)
		}
		if !strings.HasPrefix(e.Message, c.want) || strings.Contains(e.Message+e.Detail+e.Hint+e.ColumnName, "3101") || strings.Contains(e.Message, "张伟") {
			t.Errorf("%s %q scrubbed to %+v", c.code, c.msg, e)
		}
	}
}
