package resultmask

import (
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgproto3"
	pg_query "github.com/pganalyze/pg_query_go/v6"

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
	s.state.Batch = adm.Batch
	if enc := adm.Param("client_encoding"); (!asciiName(adm.Name) || !asciiName(adm.Portal)) && !isUTF8(enc) {
		// PostgreSQL converts a protocol name to UTF-8 before keying it (by
		// its first 63 bytes); pgmantle would key the client's bytes.
		return nil, refuseStatement("statement and portal names must be ASCII in a %s session", enc)
	}
	switch {
	case adm.FunctionCall:
		return nil, refuseStatement("the FunctionCall message is not available to role %q", s.info.User)
	case adm.Bind:
		b, _ := s.admitBinding()
		if b == nil {
			// Without the binding, a parameter compared with a tokenized
			// column could not be detokenized: a real guess would match.
			return nil, refuseStatement("pgmantle cannot apply the current policy to this session's statements")
		}
		s.state.Generation, s.state.Catalog = b.pol.Generation, b.catalogVersion()
		s.state.BindPortal(adm.Portal)
		if why := s.state.CheckBind(adm.Name); why != "" {
			err := refuseStatement("%s is not available to role %q", why, s.info.User)
			if strings.HasSuffix(why, parser.CatalogChanged) {
				// invalid_sql_statement_name: drivers that cache
				// server-side statements (pgjdbc, Npgsql) prepare the
				// statement again on their next use instead of failing
				// for good; the new Parse is analysed afresh.
				err.(*proxy.Error).Code = "26000"
			}
			return nil, err
		}
		return nil, s.detokenizeParams(adm, b)
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
		return nil, refuseStatement("pgmantle cannot apply the current policy to this session's statements")
	}
	s.state.Generation, s.state.Catalog = b.pol.Generation, b.catalogVersion()
	if adm.Simple {
		s.state.SimpleQuery()
	}
	s.state.Immediate = adm.Simple && adm.Idle
	plan := s.e.plans().Plan(sql, b.env, s.state, s.info.User, rules, b.keys != nil)
	if why := plan.Refusal(); why != "" {
		return nil, refuseStatement("%s", why)
	}
	if !holdsEveryCharacter(clientEncoding) {
		if err := lossyOutputs(b, plan, clientEncoding); err != nil {
			return nil, err
		}
	}
	if err := s.detokenizeLiterals(adm, b, rules, plan, sql); err != nil {
		return nil, err
	}
	if !adm.Simple && len(plan.Statements) != 1 {
		// An empty Parse (";") still replaces the unnamed statement, and a
		// Parse of several fails after dropping it: record it, so that what
		// the name stood for before is forgotten.
		s.state.ParseAdmitted(adm.Name, &parser.Statement{Kind: "EMPTY"})
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

// detokenizeLiterals rewrites the token literals of an admitted Query or
// Parse (adm.Replace). Parameters compared with tokens are detokenized at
// Bind; those of SQL-level PREPARE cannot be (EXECUTE passes them as
// expressions) and are refused.
func (s *session) detokenizeLiterals(adm *proxy.Admission, b *binding, rules parser.Rules, plan *parser.Plan, sql string) error {
	found := false
	for _, d := range plan.Statements {
		found = found || len(d.Detokenize) > 0
	}
	if !found {
		return nil
	}
	sites, err := s.detokenizeSites(b, rules, plan.Statements)
	if err != nil {
		return err
	}
	if len(paramSites(sites)) > 0 && (adm.Simple || plan.Statements[0].Statement.Kind == "PREPARE") {
		return refuseStatement("search by token through parameters of SQL PREPARE is not supported; compare with a quoted literal, or use the protocol's bind parameters")
	}
	scan, err := pg_query.Scan(sql)
	if err != nil {
		return refuseStatement("a statement pgmantle cannot scan")
	}
	if err := paramsConfined(sql, scan.Tokens, sites); err != nil {
		return err
	}
	if err := paramTypesText(adm.ParamOIDs, sites); err != nil {
		return err
	}
	rewritten, err := rewriteLiterals(sql, scan.Tokens, sites, !isUTF8(adm.Param("client_encoding")))
	switch {
	case errors.Is(err, errNonASCII):
		return refuseStatement("in a %s session, search by token takes tokens of ASCII characters only", adm.Param("client_encoding"))
	case errors.Is(err, errLiteralForm):
		return refuseStatement("search by token needs tokens as plain quoted literals ('...')")
	case err != nil:
		return refuseStatement("a literal compared with a tokenized column is not a token pgmantle can search")
	}
	if rewritten == sql {
		return nil
	}
	if codec, _ := codecFor(adm.Param("client_encoding")); codec != nil {
		if rewritten, err = codec.NewEncoder().String(rewritten); err != nil {
			return refuseStatement("a detokenized value cannot be encoded in %s", adm.Param("client_encoding"))
		}
	}
	var msg pgproto3.FrontendMessage = &pgproto3.Query{String: rewritten}
	if !adm.Simple {
		msg = &pgproto3.Parse{Name: adm.Name, Query: rewritten, ParameterOIDs: adm.ParamOIDs}
	}
	if adm.Replace, err = msg.Encode(nil); err != nil {
		return refuseStatement("a rewritten statement could not be encoded")
	}
	return nil
}

// detokenizeParams rewrites the parameters of a Bind whose statement
// compares tokenized columns with them (adm.Replace).
func (s *session) detokenizeParams(adm *proxy.Admission, b *binding) error {
	if b.keys == nil {
		return nil
	}
	st := s.state.Prepared(adm.Name)
	if st == nil || !hasParamEquality(st) {
		return nil
	}
	rules := b.rulesFor(s.info.User)
	d := parser.Decide(st, s.info.User, rules, true)
	if d.Refusal != "" {
		return refuseStatement("%s", d.Refusal)
	}
	sites, err := s.detokenizeSites(b, rules, []*parser.Decision{d})
	if err != nil {
		return err
	}
	ps := paramSites(sites)
	if len(ps) == 0 {
		return nil
	}
	adm.Replace, err = s.rewriteBind(adm.Body, ps, adm.Param("client_encoding"))
	return err
}

func asciiName(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func isUTF8(enc string) bool {
	e := encodingKey(enc)
	return e == "" || e == "UTF8" || e == "UNICODE"
}

// hasParamEquality reports a literal equality with a bind parameter.
func hasParamEquality(st *parser.Statement) bool {
	for _, u := range st.Uses {
		if u.Kind == parser.UseLiteralEquality && len(u.Params) > 0 {
			return true
		}
	}
	return false
}

// confirmation is something PostgreSQL reported complete.
type confirmation struct {
	st     *parser.Statement // a statement completed, or prepared by Parse
	name   string            // the statement name of a Parse or Close
	parsed bool
	closed bool
	synced uint64 // a ReadyForQuery ending the client's synced-th batch
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
		case c.synced > 0:
			s.state.Synced(c.synced)
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

// Synced records a ReadyForQuery: Parses of earlier batches PostgreSQL
// did not confirm are forgotten (proxy.Syncer).
func (s *session) Synced(batch uint64) {
	s.confirm(confirmation{synced: batch})
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

// plannerOffByClient reports whether the planner settings a session's
// startup turned off or set (comma-separated) include one pgmantle did
// not (restrictedPlanner).
func plannerOffByClient(off string) bool {
	for name := range strings.SplitSeq(off, ",") {
		if name != "" && restrictedPlanner[name] == "" {
			return true
		}
	}
	return false
}

// plannerMissing returns a restrictedPlanner setting the session does not
// have off, or "".
func plannerMissing(off string) string {
	have := map[string]bool{}
	for name := range strings.SplitSeq(off, ",") {
		have[name] = true
	}
	for name := range restrictedPlanner {
		if !have[name] {
			return name
		}
	}
	return ""
}

// ProbeSession receives the session's search_path and roles at login. A
// session whose role is not the login role (role=... or options=-c role=...
// in the startup packet) is refused: the policy decided on the login role.
// So is a session without the restricted planner settings: UpstreamParams
// decided before the login, and a policy or catalog change since can have
// made the role restricted.
func (s *session) ProbeSession(p proxy.SessionProbe) error {
	searchPath, currentUser, sessionUser, clientEncoding := p.SearchPath, p.CurrentUser, p.SessionUser, p.ClientEncoding
	if plannerOffByClient(p.PlannerOff) {
		return refuse("role %q may not turn planner methods off or set planner costs at startup (options=-c enable_...=off, -c ..._cost=...)", s.info.User)
	}
	if ds := strings.TrimSpace(p.DateStyle); ds != "" && !strings.HasPrefix(strings.ToUpper(ds), "ISO") {
		// Masked dates are read and written in ISO form; another style
		// would end the session at its first masked date.
		return refuse("role %q may not use DateStyle %s (pgmantle masks dates in ISO form; set DateStyle to ISO)", s.info.User, ds)
	}
	if name := plannerMissing(p.PlannerOff); name != "" {
		return refuse("the session of role %q started without %s off, which restricted sessions run with (the policy changed during the login); connect again", s.info.User, name)
	}
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
// it, for the client-to-server goroutine. A reloaded policy, refreshed
// catalog or rotated keys apply from the next statement; when they cannot
// be applied (keys the policy needs are gone) it returns nil and the
// statement is refused: never decided under the rules it replaced.
func (s *session) admitBinding() (*binding, parser.Rules) {
	s.e.mu.Lock()
	b := s.e.byDB[s.info.Database]
	s.e.mu.Unlock()
	snap, err := s.e.Catalog.Current(s.info.Database)
	ok := snap != nil
	if ok && err != nil {
		// The catalog changed and could not be reloaded, or nothing has
		// confirmed it for too long: deciding on it could fail open.
		s.e.logger().Error("the catalog may be out of date; statements are refused", "err", err, "session", s.info.ID)
		return nil, nil
	}
	if b == nil || !s.e.current(b, snap, ok) {
		if !ok {
			if b == nil {
				return nil, nil
			}
			snap = b.snap // evicted after DDL: keep deciding on the last one
		}
		nb, err := s.e.bindTo(s.info.Database, snap)
		if err != nil {
			s.e.logger().Error("the current policy cannot be applied; statements are refused", "err", err, "session", s.info.ID)
			return nil, nil
		}
		b = nb
	}
	return b, b.rulesFor(s.info.User)
}

// refuseStatement refuses one statement with SQLSTATE 42501; the session
// continues. The message names the class, rule or column, never a value.
func refuseStatement(format string, args ...any) error {
	return &proxy.Error{Severity: "ERROR", Code: "42501", Message: "pgmantle: " + fmt.Sprintf(format, args...)}
}
