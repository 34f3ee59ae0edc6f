package resultmask

import (
	"fmt"

	"github.com/pgmantle/pgmantle/parser"
	"github.com/pgmantle/pgmantle/proxy"
)

// Admit analyses every statement a restricted role sends, before it
// reaches PostgreSQL (package parser): names resolved against the catalog
// and the session's search_path, each protected column's uses decided by
// the role's rules. A refused statement never runs: the client gets
// SQLSTATE 42501 with the reason (class, column and rule, never a value)
// and the session goes on. The plan is returned for Result.
func (s *session) Admit(adm *proxy.Admission) (any, error) {
	if adm.FunctionCall {
		return nil, refuseStatement("the FunctionCall message is not available to role %q", s.info.User)
	}
	if scs := adm.Param("standard_conforming_strings"); scs != "" && scs != "on" {
		// The parser reads backslashes in '...' as the server does only
		// with standard_conforming_strings on.
		return nil, refuseStatement("standard_conforming_strings must be on for role %q", s.info.User)
	}
	sql := adm.SQL
	clientEncoding := adm.Param("client_encoding")
	if codec, err := codecFor(clientEncoding); err != nil {
		return nil, refuseStatement("client_encoding %s cannot be checked", clientEncoding)
	} else if codec != nil {
		utf8, err := codec.NewDecoder().String(sql)
		if err != nil {
			return nil, refuseStatement("a statement could not be decoded from %s", clientEncoding)
		}
		sql = utf8
	}
	b, rules := s.admitBinding()
	if b == nil {
		return nil, refuseStatement("the catalog of database %q is not loaded", s.info.Database)
	}
	s.confirmMu.Lock()
	s.state.Confirm(s.confirmed)
	s.confirmed = nil
	s.confirmMu.Unlock()
	s.state.Immediate = adm.Simple && adm.Idle
	plan := s.e.plans().Plan(sql, b.env, s.state, s.info.User, rules, false)
	if why := plan.Refusal(); why != "" {
		return nil, refuseStatement("%s", why)
	}
	return plan, nil
}

// StatementCompleted hands a confirmed search_path change to the next
// Admit.
func (s *session) StatementCompleted(plan any, index int) {
	p, ok := plan.(*parser.Plan)
	if !ok || index >= len(p.Statements) {
		return
	}
	if pc := p.Statements[index].Statement.PathChange; pc != nil {
		s.confirmMu.Lock()
		s.confirmed = pc
		s.confirmMu.Unlock()
	}
}

// ProbeSession receives the session's search_path and roles at login. A
// session whose role is not the login role (role=... or options=-c role=...
// in the startup packet) is refused: the policy decided on the login role.
func (s *session) ProbeSession(searchPath, currentUser, sessionUser string) error {
	if currentUser != s.info.User || sessionUser != s.info.User {
		return refuse("role %q may not change its role at startup (role or session_authorization in the startup parameters)", s.info.User)
	}
	s.state.SetInitialPath(searchPath)
	return nil
}

// admitBinding returns the current binding and the session's rules under
// it, for the client-to-server goroutine.
func (s *session) admitBinding() (*binding, parser.Rules) {
	s.e.mu.Lock()
	b := s.e.byDB[s.info.Database]
	s.e.mu.Unlock()
	snap, ok := s.e.Catalog.Cached(s.info.Database)
	if b == nil || b.pol != s.e.Policy.Current() || ok && b.snap != snap {
		// A reloaded policy or a refreshed catalog applies from the next
		// statement.
		if nb, err := s.e.bindCached(s.info.Database); err == nil {
			b = nb
		}
	}
	if b == nil {
		return nil, nil
	}
	return b, b.rulesFor(s.info.User)
}

// refuseStatement refuses one statement with SQLSTATE 42501; the session
// continues. The message names the class, rule or column, never a value.
func refuseStatement(format string, args ...any) error {
	return &proxy.Error{Severity: "ERROR", Code: "42501", Message: "pgmantle: " + fmt.Sprintf(format, args...)}
}
