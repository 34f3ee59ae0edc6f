package parser

import (
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"
)

// maxPaths bounds the search_path settings a session may possibly have at
// once; a SET beyond it is refused.
const maxPaths = 4

// State is what analysis needs to know of one session's history: the
// search_path settings it may have, and its SQL-level prepared statements
// and cursors with their analyses. It belongs to one session and is not
// safe for concurrent use.
//
// pgmantle sees statements before PostgreSQL runs them, so it cannot know
// whether a SET takes effect (it may fail or be cancelled, a later error
// may roll it back, SET LOCAL ends with the transaction). It therefore
// keeps every search_path the session may have and analyses each
// statement under all of them; the set collapses to one when PostgreSQL
// confirms that a SET sent on its own outside a transaction completed
// (Confirm).
type State struct {
	changes  uint64 // search_path changes seen, for Confirm
	user     string
	initial  string   // the session's search_path at login, as SHOW prints it
	settings []string // the search_path settings the session may have
	prepared map[string]*Statement
	cursors  map[string]*Statement
	// Immediate, set by the caller before Analyze, says that the text is
	// a simple Query sent while no transaction was open and nothing else
	// was in flight: a single SET in it takes effect if it completes.
	Immediate bool
}

// PathChange is a search_path change awaiting PostgreSQL's confirmation.
type PathChange struct {
	Setting string
	seq     uint64
}

// Confirm records that the statement that made c completed: unless the
// session has changed search_path again since, c's setting is now the only
// possible one.
func (s *State) Confirm(c *PathChange) {
	if c != nil && c.seq == s.changes {
		s.settings = []string{c.Setting}
	}
}

// NewState returns the state of a new session of user, whose search_path
// is PostgreSQL's default until SetInitialPath.
func NewState(user string) *State {
	s := &State{user: user, prepared: map[string]*Statement{}, cursors: map[string]*Statement{}}
	s.SetInitialPath(`"$user", public`)
	return s
}

// SetInitialPath records the session's search_path at login (SHOW
// search_path), which RESET and DISCARD ALL return to.
func (s *State) SetInitialPath(setting string) {
	s.initial = setting
	s.settings = []string{setting}
}

// SearchPaths returns the search_path settings the session may have.
func (s *State) SearchPaths() []string { return append([]string(nil), s.settings...) }

// paths returns the effective schema lists of the possible settings.
func (s *State) paths() [][]string {
	out := make([][]string, 0, len(s.settings))
	for _, set := range s.settings {
		out = append(out, effectivePath(set, s.user))
	}
	return out
}

// effectivePath turns a search_path setting into the schemas searched, in
// order: pg_catalog first unless the setting places it, "$user" replaced.
func effectivePath(setting, user string) []string {
	var out []string
	hasCatalog := false
	for _, part := range splitPath(setting) {
		switch part {
		case "$user":
			part = user
		case "pg_catalog":
			hasCatalog = true
		case "pg_temp":
			continue // restricted roles cannot create temporary objects
		}
		out = append(out, part)
	}
	if !hasCatalog {
		out = append([]string{"pg_catalog"}, out...)
	}
	return out
}

// splitPath splits a search_path setting into names: comma-separated,
// unquoted names folded to lower case, double quotes kept literally.
func splitPath(setting string) []string {
	var out []string
	var cur strings.Builder
	quoted, inQuotes := false, false
	flush := func() {
		name := cur.String()
		if !quoted {
			name = strings.ToLower(strings.TrimSpace(name))
		}
		if name != "" {
			out = append(out, name)
		}
		cur.Reset()
		quoted = false
	}
	for i := 0; i < len(setting); i++ {
		c := setting[i]
		switch {
		case c == '"' && inQuotes && i+1 < len(setting) && setting[i+1] == '"':
			cur.WriteByte('"')
			i++
		case c == '"':
			inQuotes = !inQuotes
			quoted = true
		case c == ',' && !inQuotes:
			flush()
		case (c == ' ' || c == '\t' || c == '\n') && !inQuotes:
		default:
			cur.WriteByte(c)
		}
	}
	flush()
	return out
}

// pathSetting renders the arguments of SET search_path as a setting.
func pathSetting(args []*pg_query.Node) string {
	var parts []string
	for _, a := range args {
		if c := a.GetAConst(); c != nil {
			if sv := c.GetSval(); sv != nil {
				parts = append(parts, `"`+strings.ReplaceAll(sv.Sval, `"`, `""`)+`"`)
			}
		}
	}
	return strings.Join(parts, ", ")
}

// set analyses SET and RESET: settings that would change who the session
// is or how pgmantle reads its statements are refused; search_path is
// tracked.
func (a *analyzer) set(v *pg_query.VariableSetStmt) error {
	switch lower(v.Name) {
	case "role", "session_authorization":
		return a.refuse("SET ROLE, RESET ROLE and SET SESSION AUTHORIZATION")
	case "standard_conforming_strings":
		return a.refuse("changing standard_conforming_strings")
	case "client_encoding", "names":
		return a.refuse("changing client_encoding (set it when connecting)")
	case "search_path":
		if v.Kind == pg_query.VariableSetKind_VAR_SET_VALUE && a.state != nil {
			next := pathSetting(v.Args)
			if !contains(a.state.settings, next) && len(a.state.settings) >= maxPaths && !a.state.Immediate {
				return a.refuse("changing search_path again before the earlier changes are known to have taken effect (run SET search_path on its own, outside a transaction)")
			}
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// apply updates the state with the effects a statement may have.
func (s *State) apply(n *pg_query.Node, st *Statement) {
	if st.Refusal != "" || n == nil {
		return
	}
	switch x := n.Node.(type) {
	case *pg_query.Node_VariableSetStmt:
		v := x.VariableSetStmt
		switch {
		case v.Kind == pg_query.VariableSetKind_VAR_RESET_ALL:
			st.PathChange = s.addPath(s.initial)
		case lower(v.Name) != "search_path":
		case v.IsLocal:
			// SET LOCAL lasts until the transaction ends: both settings
			// stay possible.
			s.addPath(pathSetting(v.Args))
		case v.Kind == pg_query.VariableSetKind_VAR_SET_VALUE:
			st.PathChange = s.addPath(pathSetting(v.Args))
		case v.Kind == pg_query.VariableSetKind_VAR_SET_DEFAULT, v.Kind == pg_query.VariableSetKind_VAR_RESET:
			st.PathChange = s.addPath(s.initial)
		}
	case *pg_query.Node_DiscardStmt:
		if x.DiscardStmt.Target == pg_query.DiscardMode_DISCARD_ALL {
			st.PathChange = s.addPath(s.initial)
			clear(s.prepared)
			clear(s.cursors)
		}
	case *pg_query.Node_PrepareStmt:
		s.prepared[x.PrepareStmt.Name] = st
	case *pg_query.Node_DeallocateStmt:
		if x.DeallocateStmt.Isall || x.DeallocateStmt.Name == "" {
			clear(s.prepared)
		} else {
			delete(s.prepared, x.DeallocateStmt.Name)
		}
	case *pg_query.Node_DeclareCursorStmt:
		s.cursors[x.DeclareCursorStmt.Portalname] = st
	case *pg_query.Node_ClosePortalStmt:
		if x.ClosePortalStmt.Portalname == "" {
			clear(s.cursors)
		} else {
			delete(s.cursors, x.ClosePortalStmt.Portalname)
		}
	}
}

// addPath records a search_path setting the session may now have. For a
// statement sent on its own (Immediate) it returns the change to confirm
// when PostgreSQL reports the statement complete.
func (s *State) addPath(setting string) *PathChange {
	s.changes++
	if !contains(s.settings, setting) {
		s.settings = append(s.settings, setting)
	}
	if !s.Immediate {
		return nil
	}
	return &PathChange{Setting: setting, seq: s.changes}
}

// CursorOrPrepared reports whether a name is a known cursor or SQL-level
// prepared statement (for tests and pgmantle explain).
func (s *State) CursorOrPrepared(name string) bool {
	return s.cursors[name] != nil || s.prepared[name] != nil
}
