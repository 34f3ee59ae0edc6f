package parser

import (
	"strconv"
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
	// prepared are the prepared statements PostgreSQL confirmed (SQL
	// PREPARE and protocol Parse share one namespace), with their
	// analyses; pending are names being prepared, with the epoch they
	// were analysed at.
	prepared map[string]prepEntry
	pending  map[string]prepEntry
	cursors  map[string]*Statement
	// declared holds, per cursor name, the last DECLARE (its analysis)
	// or CLOSE (nil) admitted whose batch PostgreSQL has not answered
	// yet; closeAll the batch of such a CLOSE ALL or DISCARD ALL. Until
	// the answer, whether it took effect is unknown (see cursor).
	declared map[string]cursorChange
	closeAll *uint64
	// Generation, set by the caller, identifies the policy in force: a
	// statement prepared under another one is refused at Bind and EXECUTE.
	Generation uint64
	// Catalog, set by the caller, names the catalog's content the
	// analysis reads (catalog.Snapshot.Version): PostgreSQL plans a
	// prepared statement again when what it reads changes (a view
	// replaced, a table renamed, a look-alike on the search_path), so a
	// statement prepared under another one is refused at Bind and EXECUTE
	// too.
	Catalog string
	// Immediate, set by the caller before Analyze, says that the text is
	// a simple Query sent while no transaction was open and nothing else
	// was in flight: a single SET in it takes effect if it completes.
	Immediate bool
	// Batch, set by the caller before ParseAdmitted, counts the Sync,
	// Query and FunctionCall messages the client sent before the Parse
	// (see Synced).
	Batch uint64
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
	s := &State{user: user, prepared: map[string]prepEntry{}, pending: map[string]prepEntry{}, cursors: map[string]*Statement{},
		declared: map[string]cursorChange{}}
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
			name = asciiLower(strings.TrimSpace(name))
		}
		if len(name) > maxIdentifierLen {
			name = truncateIdentifier(name)
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
		c := a.GetAConst()
		var name string
		switch {
		case c == nil:
			// Not a constant: the grammar allows none; keep the path
			// unknowable rather than drop the element.
			name = "\x00unknown"
		case c.GetSval() != nil:
			name = c.GetSval().Sval
		case c.GetIval() != nil:
			// SET search_path = 2026, staging names schema "2026" (a
			// number is an element too: a red-team finding — it was
			// dropped, and names resolved in another schema than
			// PostgreSQL's).
			name = strconv.FormatInt(int64(c.GetIval().Ival), 10)
		case c.GetFval() != nil:
			name = c.GetFval().Fval
		case c.GetBoolval() != nil:
			name = strconv.FormatBool(c.GetBoolval().Boolval)
		default:
			name = "\x00unknown"
		}
		parts = append(parts, `"`+strings.ReplaceAll(name, `"`, `""`)+`"`)
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
	case "datestyle":
		// 'German' and 'ISO, DMY' share a normalized cache key.
		a.st.literalDependent = true
		if v.Kind == pg_query.VariableSetKind_VAR_SET_VALUE && !isoDateStyle(v.Args) {
			return a.refuse("a DateStyle other than ISO (pgmantle reads and writes masked dates in ISO form)")
		}
	}
	if name := lower(v.Name); plannerSetting(name) && v.Kind != pg_query.VariableSetKind_VAR_RESET && v.Kind != pg_query.VariableSetKind_VAR_RESET_ALL {
		// Planner method switches (enable_hashagg = off) force grouping
		// and DISTINCT by sorting, whose row order would follow the real
		// values of a tokenized or hashed column; cost settings
		// (seq_page_cost = 1e12) outweigh the penalty enable_indexscan =
		// off puts on index scans, whose row order follows the values
		// they read.
		return a.refuse("changing planner method and cost settings (%s)", name)
	}
	switch lower(v.Name) {
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

// isoDateStyle reports whether a SET DateStyle keeps ISO output: none of
// its words names another output style (an order, DMY or YMD, alone
// keeps the current style; ISO is the default, and the one the startup
// check wants).
func isoDateStyle(args []*pg_query.Node) bool {
	for _, n := range args {
		c := n.GetAConst()
		if c == nil {
			return false // not a plain word or string: unknown
		}
		s := ""
		if c.GetSval() != nil {
			s = c.GetSval().Sval
		}
		for _, w := range strings.Split(s, ",") {
			switch strings.ToLower(strings.TrimSpace(w)) {
			case "sql", "postgres", "german":
				return false
			}
		}
	}
	return true
}

// plannerSetting reports whether a run-time parameter (lower case) is a
// planner method switch or cost setting, which restricted roles may not
// change: enable_*, *_cost, effective_cache_size and the parallel scan
// size thresholds.
func plannerSetting(name string) bool {
	switch name {
	case "effective_cache_size", "min_parallel_table_scan_size", "min_parallel_index_scan_size":
		return true
	}
	return strings.HasPrefix(name, "enable_") || strings.HasSuffix(name, "_cost")
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// effectKind is what a statement does to prepared statements and
// cursors when it completes.
type effectKind uint8

const (
	noEffect effectKind = iota
	prepareEffect
	deallocateEffect
	deallocateAllEffect
	declareEffect
	closeEffect
	closeAllEffect
	discardAllEffect
)

type effect struct {
	kind effectKind
	name string
}

// apply updates the state with the effects a statement may have as it is
// admitted: search_path settings become possible at once (pgmantle cannot
// know yet whether they take effect); prepared statements and cursors
// change only when PostgreSQL confirms the statement (Completed), since a
// PREPARE or DECLARE of a name in use fails.
func (s *State) apply(n *pg_query.Node, st *Statement) {
	if st.Refusal != "" || n == nil {
		return
	}
	if sel := n.GetSelectStmt(); sel != nil {
		set, ok := setConfigSet(sel)
		if !ok {
			return
		}
		n = &pg_query.Node{Node: &pg_query.Node_VariableSetStmt{VariableSetStmt: set}}
	}
	switch x := n.Node.(type) {
	case *pg_query.Node_VariableSetStmt:
		v := x.VariableSetStmt
		switch {
		case v.Kind == pg_query.VariableSetKind_VAR_RESET_ALL:
			st.PathChange = s.addPath(s.initial)
			st.pathSetting = &s.initial
		case lower(v.Name) != "search_path":
		case v.IsLocal:
			// SET LOCAL lasts until the transaction ends: both settings
			// stay possible.
			set := pathSetting(v.Args)
			s.addPath(set)
			st.pathSetting = &set
		case v.Kind == pg_query.VariableSetKind_VAR_SET_VALUE:
			set := pathSetting(v.Args)
			st.PathChange = s.addPath(set)
			st.pathSetting = &set
		case v.Kind == pg_query.VariableSetKind_VAR_SET_DEFAULT, v.Kind == pg_query.VariableSetKind_VAR_RESET:
			st.PathChange = s.addPath(s.initial)
			st.pathSetting = &s.initial
		}
	case *pg_query.Node_DiscardStmt:
		if x.DiscardStmt.Target == pg_query.DiscardMode_DISCARD_ALL {
			st.PathChange = s.addPath(s.initial)
			st.pathSetting = &s.initial
			st.effect = effect{kind: discardAllEffect}
		}
	case *pg_query.Node_PrepareStmt:
		st.effect = effect{kind: prepareEffect, name: x.PrepareStmt.Name}
		s.admitted(x.PrepareStmt.Name, st)
	case *pg_query.Node_DeallocateStmt:
		if x.DeallocateStmt.Isall || x.DeallocateStmt.Name == "" {
			st.effect = effect{kind: deallocateAllEffect}
		} else {
			st.effect = effect{kind: deallocateEffect, name: x.DeallocateStmt.Name}
		}
	case *pg_query.Node_DeclareCursorStmt:
		st.effect = effect{kind: declareEffect, name: x.DeclareCursorStmt.Portalname}
		s.declared[x.DeclareCursorStmt.Portalname] = cursorChange{st: st, batch: s.Batch}
	case *pg_query.Node_ClosePortalStmt:
		if x.ClosePortalStmt.Portalname == "" {
			st.effect = effect{kind: closeAllEffect}
			s.closingAll()
		} else {
			st.effect = effect{kind: closeEffect, name: x.ClosePortalStmt.Portalname}
			s.declared[x.ClosePortalStmt.Portalname] = cursorChange{batch: s.Batch}
		}
	}
	if st.effect.kind == discardAllEffect {
		s.closingAll()
	}
}

// cursorChange is a DECLARE (st) or CLOSE (st nil) of a cursor name
// admitted in batch, until the batch is answered.
type cursorChange struct {
	st    *Statement
	batch uint64
}

// closingAll notes an admitted CLOSE ALL or DISCARD ALL.
func (s *State) closingAll() {
	b := s.Batch
	s.closeAll = &b
	for name := range s.declared {
		s.declared[name] = cursorChange{batch: b}
	}
}

// cursor returns the analysis of the cursor a FETCH of name reads, or nil
// when pgmantle cannot know it: while a DECLARE or CLOSE of the name that
// PostgreSQL has not answered yet may or may not take effect (a red-team
// finding: FETCH was planned by the cursor the name had before, and a
// re-declared cursor's names came out clear). Not even one earlier in the
// same batch counts: a protocol Parse of a DECLARE is admitted whether or
// not an Execute of it follows.
func (s *State) cursor(name string) *Statement {
	if _, ok := s.declared[name]; ok {
		return nil
	}
	if s.closeAll != nil {
		return nil
	}
	return s.cursors[name]
}

// Completed records that PostgreSQL reported a statement complete: its
// search_path change (Confirm) and its effect on prepared statements and
// cursors take hold.
func (s *State) Completed(st *Statement) {
	if st == nil {
		return
	}
	s.Confirm(st.PathChange)
	switch e := st.effect; e.kind {
	case prepareEffect:
		s.confirmPrepared(e.name, st)
	case deallocateEffect:
		delete(s.prepared, e.name)
	case deallocateAllEffect:
		clear(s.prepared)
	case declareEffect:
		s.cursors[e.name] = st
	case closeEffect:
		delete(s.cursors, e.name)
	case closeAllEffect:
		clear(s.cursors)
	case discardAllEffect:
		clear(s.prepared)
		clear(s.cursors)
	}
}

// prepEntry is a prepared statement (or one being prepared) as this
// session sees it: its analysis, and the session's search_path epoch and
// policy generation when it was admitted.
type prepEntry struct {
	st      *Statement
	epoch   uint64
	gen     uint64
	catalog string
	// ambiguous: two Parses of the name are pending (the first may have
	// failed); which one PostgreSQL holds is known only when it confirms.
	ambiguous bool
	// batch is State.Batch when the Parse was admitted.
	batch uint64
}

// ReservedPrefix starts the names pgmantle itself uses for statements;
// clients may not prepare or declare names starting with it.
const ReservedPrefix = "pgmantle_reserved"

// ParseAdmitted records a protocol Parse of a statement name as it is
// sent (the unnamed statement is "").
func (s *State) ParseAdmitted(name string, st *Statement) { s.admitted(protocolName(name), st) }

// protocolName is a statement or portal name of the extended protocol as
// PostgreSQL keys it: its first 63 bytes (NAMEDATALEN - 1, cut bytewise:
// the hash tables of prepared statements and portals compare that much),
// so "s…s_x" and "s…s_y" of 64 bytes or more are one name.
func protocolName(name string) string {
	if len(name) > maxIdentifierLen {
		return name[:maxIdentifierLen]
	}
	return name
}

// admitted notes a statement name being prepared, until PostgreSQL
// confirms it. A name already prepared keeps its entry: PostgreSQL
// refuses to prepare it again (except the unnamed statement, which each
// Parse replaces).
func (s *State) admitted(name string, st *Statement) {
	if e, ok := s.prepared[name]; ok && name != "" {
		if e.st != st {
			// PostgreSQL refuses the Parse unless a Close or DEALLOCATE
			// sent before it frees the name first: which statement the name
			// stands for is known only when PostgreSQL answers.
			s.pending[name] = prepEntry{st: st, epoch: s.changes, gen: s.Generation, catalog: s.Catalog, batch: s.Batch, ambiguous: true}
		}
		return
	}
	if e, ok := s.pending[name]; ok && name != "" {
		if e.st != st {
			e.ambiguous = true
			s.pending[name] = e
		}
		return
	}
	s.pending[name] = prepEntry{st: st, epoch: s.changes, gen: s.Generation, catalog: s.Catalog, batch: s.Batch}
}

// Synced records that PostgreSQL answered the client's batch-th Sync (or
// Query, FunctionCall) with ReadyForQuery. A Parse of an earlier batch it
// has not confirmed failed or was skipped after an error: its name is not
// prepared. For the unnamed statement it is then unknown whether the old
// one survives (skipped) or not (failed, after PostgreSQL dropped it):
// it is forgotten, and binding it is refused until a new Parse.
func (s *State) Synced(batch uint64) {
	for name, c := range s.declared {
		if c.batch < batch {
			delete(s.declared, name) // answered: Completed has applied it, or it failed
		}
	}
	if s.closeAll != nil && *s.closeAll < batch {
		s.closeAll = nil
	}
	for name, e := range s.pending {
		if e.batch >= batch {
			continue // sent after that Sync: still in flight
		}
		delete(s.pending, name)
		if name == "" {
			delete(s.prepared, "")
		}
	}
}

// confirmPrepared moves a pending name to the prepared ones.
func (s *State) confirmPrepared(name string, st *Statement) {
	e, ok := s.pending[name]
	if !ok {
		// Confirmed without having been seen admitted: treat as stale.
		e = prepEntry{epoch: ^uint64(0)}
	}
	e.st = st
	e.ambiguous = false
	s.prepared[name] = e
	delete(s.pending, name)
}

// Parsed records a protocol Parse PostgreSQL confirmed (ParseComplete).
func (s *State) Parsed(name string, st *Statement) {
	name = protocolName(name)
	if st != nil {
		s.confirmPrepared(name, st)
	}
}

// Closed records a protocol Close of a statement PostgreSQL confirmed.
//
// A pending Parse of the name stays pending: confirmations arrive in
// order, so one admitted before the Close was confirmed before it, and
// one still pending was sent after the Close.
func (s *State) Closed(name string) {
	delete(s.prepared, protocolName(name))
}

// SimpleQuery records that a simple Query was sent: it destroys the
// unnamed prepared statement.
func (s *State) SimpleQuery() {
	delete(s.prepared, "")
	delete(s.pending, "")
}

// entry returns a prepared statement's entry, confirmed or pending.
//
// A pending entry wins: a name is pending only while no statement of that
// name exists, or for the unnamed statement, which the pending Parse
// replaces (PostgreSQL drops the old one before parsing the new).
func (s *State) entry(name string) (prepEntry, bool) {
	if e, ok := s.pending[name]; ok {
		return e, true
	}
	e, ok := s.prepared[name]
	return e, ok
}

// CatalogChanged is why a statement prepared before a change of the
// catalog's content (catalog.Snapshot.Version) is refused.
const CatalogChanged = "a statement prepared before the database's tables, views or functions changed (prepare it again)"

// stale reports why an entry may no longer stand for what PostgreSQL
// would run: PostgreSQL resolves a prepared statement's names again after
// a search_path change, and plans it again after a change of what it
// reads; and the policy may have changed.
func (s *State) stale(e prepEntry) string {
	switch {
	case e.gen != s.Generation:
		return "a statement prepared under an earlier policy (prepare it again)"
	case e.st != nil && e.st.pathFree:
		return ""
	case e.catalog != s.Catalog:
		return CatalogChanged
	case e.epoch != s.changes:
		return "a statement prepared before a search_path change (prepare it again)"
	}
	return ""
}

// preparedStatement returns the confirmed analysis of a prepared
// statement (nil if none), or why running it must be refused.
func (s *State) preparedStatement(name string) (*Statement, string) {
	if e, ok := s.pending[name]; ok {
		if e.ambiguous {
			return nil, "a statement prepared twice before PostgreSQL confirmed either"
		}
		return nil, "" // not confirmed yet: its rows are checked by their origins
	}
	e, ok := s.prepared[name]
	if !ok {
		return nil, ""
	}
	if why := s.stale(e); why != "" {
		return nil, why
	}
	return e.st, ""
}

// CheckBind returns why binding a prepared statement must be refused, or
// "": a statement pgmantle has not seen prepared, or a stale one. A
// statement that changes search_path makes that path possible again each
// time it runs.
func (s *State) CheckBind(name string) string {
	e, ok := s.entry(protocolName(name))
	if !ok {
		return "binding a statement pgmantle has not seen prepared"
	}
	if e.ambiguous {
		return "binding a statement prepared twice before PostgreSQL confirmed either"
	}
	if why := s.stale(e); why != "" {
		return "binding " + why
	}
	if e.st != nil && e.st.pathSetting != nil {
		s.addPath(*e.st.pathSetting)
	}
	return ""
}

// Prepared returns the analysis of the statement a Bind of name binds
// (as admitted or confirmed), or nil.
func (s *State) Prepared(name string) *Statement {
	e, _ := s.entry(protocolName(name))
	return e.st
}

// BindPortal records a protocol Bind creating portal name: a cursor of
// that name pgmantle knew is gone.
func (s *State) BindPortal(name string) {
	if name != "" {
		delete(s.cursors, protocolName(name))
	}
}

// maxIdentifierLen is NAMEDATALEN - 1: PostgreSQL truncates longer names.
const maxIdentifierLen = 63

// asciiLower folds ASCII letters only, as PostgreSQL does for unquoted
// names in a UTF-8 database.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// truncateIdentifier cuts a name to maxIdentifierLen bytes without
// splitting a UTF-8 character.
func truncateIdentifier(s string) string {
	n := maxIdentifierLen
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
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
