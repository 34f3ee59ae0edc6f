package proxy

import (
	"strings"

	"github.com/jackc/pgx/v5/pgproto3"
)

// PreparedStatement is a statement the client prepared with a Parse
// message, as PostgreSQL holds it. The unnamed statement has Name "".
type PreparedStatement struct {
	Name      string
	SQL       string
	ParamOIDs []uint32 // as sent in Parse (0 = let the server infer)
	// Plan is what the Admitter returned for SQL; nil once SQL is
	// forgotten.
	Plan any
	// Fields is the statement's result description once a Describe of the
	// statement has been answered (format codes are all text there); nil
	// when not yet known, empty for a statement that returns no rows.
	Fields []pgproto3.FieldDescription
}

// Portal is a bound statement ready to execute, created by Bind.
type Portal struct {
	Name          string
	Statement     *PreparedStatement
	ResultFormats []int16
	// Fields is the portal's result description with the portal's format
	// codes, once known from a Describe of the portal or of its statement.
	Fields []pgproto3.FieldDescription
}

// registry holds a session's prepared statements and portals. It is owned by
// the server-to-client goroutine: entries change only when PostgreSQL
// confirms them (ParseComplete, BindComplete, CloseComplete, end of
// transaction), so the registry is always the server's view.
type registry struct {
	stmts   map[string]*PreparedStatement
	portals map[string]*Portal
}

func newRegistry() registry {
	return registry{stmts: map[string]*PreparedStatement{}, portals: map[string]*Portal{}}
}

// bind records a portal. Its description is left unknown: only the answer
// to a Describe of the portal itself sets it, since SQL (PREPARE, DECLARE,
// CLOSE) can change what a name stands for behind the registry's back.
func (r *registry) bind(name, stmt string, formats []int16) *Portal {
	p := &Portal{Name: name, Statement: r.stmts[stmt], ResultFormats: formats}
	r.portals[name] = p
	return p
}

// portal returns the record of a portal, creating one for a portal the
// registry has not seen bound (a SQL cursor).
func (r *registry) portal(name string) *Portal {
	p := r.portals[name]
	if p == nil {
		p = &Portal{Name: name}
		r.portals[name] = p
	}
	return p
}

// endTransaction drops all portals: PostgreSQL destroys protocol-level
// portals at the end of the transaction that created them.
func (r *registry) endTransaction() {
	clear(r.portals)
}

// copyFields deep-copies a decoded RowDescription (whose Name slices alias
// the read buffer).
func copyFields(fields []pgproto3.FieldDescription) []pgproto3.FieldDescription {
	out := make([]pgproto3.FieldDescription, len(fields))
	for i, f := range fields {
		out[i] = f
		out[i].Name = append([]byte(nil), f.Name...)
	}
	return out
}

// redefiningWords are the SQL keywords of statements that can create,
// replace or drop prepared statements and portals behind the protocol's
// back (PREPARE, DEALLOCATE, DECLARE, CLOSE, DISCARD, and dynamic SQL in
// DO, CALL and EXECUTE).
var redefiningWords = map[string]bool{
	"prepare": true, "deallocate": true, "declare": true, "close": true,
	"discard": true, "do": true, "call": true, "execute": true,
}

// mayRedefine reports whether sql contains one of redefiningWords as a
// whole word (case-insensitive). False positives only cost trust in
// recorded SQL texts.
func mayRedefine(sql string) bool {
	start := -1
	for i := 0; i <= len(sql); i++ {
		var c byte
		if i < len(sql) {
			c = sql[i]
		}
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c >= '0' && c <= '9' || c >= 0x80
		switch {
		case letter && start < 0:
			start = i
		case !letter && start >= 0:
			if n := i - start; n >= 2 && n <= 10 && redefiningWords[strings.ToLower(sql[start:i])] {
				return true
			}
			start = -1
		}
	}
	return false
}

// forgetSQL drops the SQL texts recorded for statements and portals: after
// a statement that may have redefined them, a name no longer reliably
// stands for the text it was prepared with. Later stages then treat the
// text as unknown (and fail closed).
func (r *registry) forgetSQL() {
	for _, st := range r.stmts {
		st.SQL, st.Plan = "", nil
	}
	for _, p := range r.portals {
		if p.Statement != nil {
			p.Statement.SQL, p.Statement.Plan = "", nil
		}
	}
}
