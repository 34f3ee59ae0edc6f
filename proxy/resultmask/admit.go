package resultmask

import (
	"fmt"
	"strings"

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
	s.applyConfirmations()
	switch {
	case adm.FunctionCall:
		return nil, refuseStatement("the FunctionCall message is not available to role %q", s.info.User)
	case adm.Bind:
		b, _ := s.admitBinding()
		if b != nil {
			s.state.Generation = b.pol.Generation
		}
		s.state.BindPortal(adm.Portal)
		if why := s.state.CheckBind(adm.Name); why != "" {
			return nil, refuseStatement("%s is not available to role %q", why, s.info.User)
		}
		return nil, nil
	case !adm.Simple && strings.HasPrefix(adm.Name, parser.ReservedPrefix):
		return nil, refuseStatement("the statement name %s is reserved", adm.Name)
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
	s.state.Generation = b.pol.Generation
	if adm.Simple {
		s.state.SimpleQuery()
	}
	s.state.Immediate = adm.Simple && adm.Idle
	plan := s.e.plans().Plan(sql, b.env, s.state, s.info.User, rules, false)
	if why := plan.Refusal(); why != "" {
		return nil, refuseStatement("%s", why)
	}
	if !adm.Simple && len(plan.Statements) == 1 {
		st := plan.Statements[0].Statement
		s.state.ParseAdmitted(adm.Name, st)
		if st.Kind == "EXECUTE" || st.Kind == "FETCH" {
			// What it runs may be redefined between this Parse and its
			// Bind: its rows are checked by their origins alone.
			return nil, nil
		}
	}
	return plan, nil
}

// confirmation is something PostgreSQL reported complete.
type confirmation struct {
	st     *parser.Statement // a statement completed, or prepared by Parse
	name   string            // the statement name of a Parse or Close
	parsed bool
	closed bool
}

// applyConfirmations passes what PostgreSQL confirmed since the last
// call to the session's analysis state (client-to-server goroutine).
func (s *session) applyConfirmations() {
	s.confirmMu.Lock()
	cs := s.confirmed
	s.confirmed = nil
	s.confirmMu.Unlock()
	for _, c := range cs {
		switch {
		case c.parsed:
			s.state.Parsed(c.name, c.st)
		case c.closed:
			s.state.Closed(c.name)
		default:
			s.state.Completed(c.st)
		}
	}
}

func (s *session) confirm(c confirmation) {
	s.confirmMu.Lock()
	s.confirmed = append(s.confirmed, c)
	s.confirmMu.Unlock()
}

// statementOf returns the analysis of statement index of a plan.
func statementOf(plan any, index int) *parser.Statement {
	p, ok := plan.(*parser.Plan)
	if !ok || index < 0 || index >= len(p.Statements) {
		return nil
	}
	return p.Statements[index].Statement
}

// StatementParsed records a statement PostgreSQL prepared.
func (s *session) StatementParsed(name string, plan any) {
	if st := statementOf(plan, 0); st != nil {
		s.confirm(confirmation{st: st, name: name, parsed: true})
	}
}

// StatementClosed records a statement PostgreSQL closed.
func (s *session) StatementClosed(name string) {
	s.confirm(confirmation{name: name, closed: true})
}

// StatementCompleted records a statement PostgreSQL completed: its
// search_path change and its effect on prepared statements and cursors
// take hold at the next Admit.
func (s *session) StatementCompleted(plan any, index int) {
	if st := statementOf(plan, index); st != nil {
		s.confirm(confirmation{st: st})
	}
}

// ProbeSession receives the session's search_path and roles at login. A
// session whose role is not the login role (role=... or options=-c role=...
// in the startup packet) is refused: the policy decided on the login role.
func (s *session) ProbeSession(searchPath, currentUser, sessionUser, clientEncoding string) error {
	codec, err := codecFor(clientEncoding)
	if err != nil {
		return refuse("client_encoding %s cannot be checked", clientEncoding)
	}
	if codec != nil {
		dec := codec.NewDecoder()
		if searchPath, err = dec.String(searchPath); err == nil {
			if currentUser, err = dec.String(currentUser); err == nil {
				sessionUser, err = dec.String(sessionUser)
			}
		}
		if err != nil {
			return refuse("the session's search_path could not be decoded from %s", clientEncoding)
		}
	}
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
