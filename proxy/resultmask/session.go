package resultmask

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/text/encoding"

	"github.com/jackc/pgx/v5/pgproto3"
	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/pgmantle/pgmantle/catalog"
	"github.com/pgmantle/pgmantle/masking"
	"github.com/pgmantle/pgmantle/parser"
	"github.com/pgmantle/pgmantle/policy"
	"github.com/pgmantle/pgmantle/proxy"
)

// session is the interceptor of one restricted session. Its methods run on
// the session's server-to-client goroutine only.
type session struct {
	e     *Engine
	info  *proxy.SessionInfo
	b     *binding
	rules *policy.Rules
	plans map[planKey]*colPlan // maskers by column, reused across result sets
	rw    rowMasker
	state *parser.State // client-to-server goroutine (Admit) only
	// confirmed are what PostgreSQL reported complete (statements,
	// prepared and closed statement names), handed from the
	// server-to-client goroutine to the next Admit.
	confirmMu sync.Mutex
	confirmed []confirmation
	enc       string            // the client_encoding the plans were built for
	codec     encoding.Encoding // its codec; nil for UTF-8
	encOK     bool              // pgmantle can transcode enc
}

// planKey identifies how one result column is masked.
type planKey struct {
	table  uint32
	attnum int16
	typ    uint32
	format int16
}

// colPlan is the masker of one protected result column.
type colPlan struct {
	class  string
	masker masking.Masker
}

// Result builds the masking plan of a result set from its columns.
func (s *session) Result(rs *proxy.ResultSet) (proxy.RowRewriter, error) {
	if err := s.confirmLate(rs); err != nil {
		return nil, err
	}
	if err := s.refresh(); err != nil {
		return nil, err
	}
	if rs.ClientEncoding != s.enc || s.plans == nil {
		s.setEncoding(rs.ClientEncoding)
	}
	if rs.Copy {
		return s.copyPlan(rs)
	}
	d := decisionFor(rs)
	planned := d != nil && d.Statement.OutputsExact && len(d.Outputs) == len(rs.Fields)
	s.rw.cols = s.rw.cols[:0]
	unknown := false
	for i, f := range rs.Fields {
		var p *colPlan
		var err error
		switch {
		case f.TableOID != 0 && f.TableAttributeNumber > 0:
			// RowDescription names the column's origin: mask by it, even
			// where the analysis expected a clean column.
			p, err = s.plan(f)
			if p != nil && planned && d.Outputs[i].Class == "" {
				s.unexpected(rs, p.class)
			}
		case planned:
			// An expression, a set operation or a scalar subquery: the
			// analysis knows what its values are copies of.
			p, err = s.planned(d.Outputs[i], f)
		case d != nil && !d.Statement.OutputsExact && !d.Statement.OutputsUnknown:
			// The analysis could not count the columns (SHOW, * over a
			// function) but found every one clean, or it would have
			// refused the statement. (A count it knew that does not match
			// means the catalog changed: unknown, below.)
		default:
			unknown = true
		}
		if err != nil {
			return nil, err
		}
		if p != nil {
			s.rw.cols = append(s.rw.cols, maskedCol{idx: i, format: f.Format, plan: p})
		}
	}
	if unknown && s.mentionsProtected(rs.SQL) {
		return nil, refuse("a result column's origin cannot be established in a statement that reads protected data; role %q may only select protected columns directly", s.info.User)
	}
	if len(s.rw.cols) == 0 {
		return nil, nil
	}
	s.rw.grow()
	return &s.rw, nil
}

// lateResult is how long after its statement was sent a result set's
// description may arrive before its rows wait for a catalog check: long
// enough to skip ordinary statements, short enough to catch one that
// waited for a DDL's lock.
const lateResult = 50 * time.Millisecond

// confirmLate makes sure that a result set arriving late was analysed on
// the catalog its statement ran on. A statement sent while a DDL
// transaction held a lock it needs waits, and once the DDL commits
// PostgreSQL plans it on the new catalog (a view replaced in place, a
// rule added), while its analysis, made when it arrived, read the old
// one: the result would be masked by the wrong plan. So a late result
// waits for a catalog check that started after it arrived; if the
// catalog changed since the statement's analysis (for a result without
// one, since the snapshot the session last decided by), the result is
// refused (run the statement again). It runs before refresh, so that the
// result is then traced through the confirmed snapshot.
func (s *session) confirmLate(rs *proxy.ResultSet) error {
	if rs.Sent.IsZero() || time.Since(rs.Sent) < lateResult || s.e.Catalog == nil {
		return nil
	}
	snap, err := s.e.Catalog.Confirm(s.info.Database)
	if err != nil {
		s.e.logger().Warn("catalog: a late result could not be confirmed; refused", "err", err)
		return refuse("the catalog could not be confirmed for a statement that ran long; run it again")
	}
	analysed := s.b.catalogVersion()
	if plan, ok := rs.Plan.(*parser.Plan); ok {
		analysed = plan.Catalog
	}
	if snap.Version != analysed {
		return refuse("the database's tables, views or functions changed while the statement waited; run it again")
	}
	return nil
}

// decisionFor returns the analysis decision a result set comes from, or
// nil when it is not known.
func decisionFor(rs *proxy.ResultSet) *parser.Decision {
	plan, ok := rs.Plan.(*parser.Plan)
	if !ok || rs.Index < 0 || rs.Index >= len(plan.Statements) {
		return nil
	}
	return plan.Statements[rs.Index]
}

// planned builds the masker of a result column whose origin RowDescription
// does not report, from the analysis: the class its values are copies of.
func (s *session) planned(o parser.OutputPlan, f pgproto3.FieldDescription) (*colPlan, error) {
	if o.Class == "" {
		return nil, nil
	}
	col, _ := s.b.snap.Column(o.Source.Column)
	m, err := s.masker(o.Action, o.Class, f, col)
	if err != nil || m == nil {
		return nil, err
	}
	return s.wrap(&colPlan{class: o.Class, masker: m}, f)
}

// unexpected logs a protected column the analysis did not expect (a bug
// of the analysis; the column is masked all the same), by the statement's
// fingerprint, never its text.
func (s *session) unexpected(rs *proxy.ResultSet, class string) {
	fp, err := pg_query.Fingerprint(rs.SQL)
	if err != nil {
		fp = "unparseable"
	}
	s.e.logger().Warn("result column of a protected class the analysis did not expect; masked by its origin",
		"class", class, "fingerprint", fp, "session", s.info.ID)
}

// refresh picks up a reloaded policy, a refreshed catalog snapshot or
// rotated keys. When they cannot be applied the session ends: its results
// are never masked under the rules they replaced.
func (s *session) refresh() error {
	snap, ok := s.e.Catalog.Cached(s.info.Database)
	if s.e.current(s.b, snap, ok) {
		return nil
	}
	if !ok {
		snap = s.b.snap
	}
	b, err := s.e.bindTo(s.info.Database, snap)
	if err != nil {
		return err
	}
	s.b = b
	s.rules = b.rulesFor(s.info.User)
	clear(s.plans)
	return nil
}

// setEncoding records the client encoding text values arrive in; plans
// built for another encoding are dropped.
func (s *session) setEncoding(name string) {
	codec, err := codecFor(name)
	s.enc, s.codec, s.encOK = name, codec, err == nil
	if s.plans == nil {
		s.plans = map[planKey]*colPlan{}
	}
	clear(s.plans)
}

// plan returns the masker for a column, or nil if the column is not
// protected or the role may see it.
func (s *session) plan(f pgproto3.FieldDescription) (*colPlan, error) {
	key := planKey{f.TableOID, int16(f.TableAttributeNumber), f.DataTypeOID, f.Format}
	if p, ok := s.plans[key]; ok {
		return p, nil
	}
	var p *colPlan
	ref, col, ok := s.b.snap.Origin(f.TableOID, int16(f.TableAttributeNumber))
	if !ok && isRowSystemColumn(int16(f.TableAttributeNumber)) && s.b.snap.Relation(f.TableOID) != nil {
		s.plans[key] = nil // ctid, xmin, cmin, xmax, cmax: no column's data
		return nil, nil
	}
	if !ok {
		// The relation is unknown to the snapshot (created after it was
		// loaded) or the column is computed: fail closed if it may hold
		// protected data.
		if rel := s.b.snap.Relation(f.TableOID); rel == nil || s.b.protectedRels[rel.Name] {
			return nil, refuse("the origin of result column %q cannot be established", string(f.Name))
		}
		s.plans[key] = nil
		return nil, nil
	}
	if col.Generated && s.b.computedByUnlisted(col) {
		// Computed by a function the policy does not trust, which can
		// read anything (the analysis refuses it too; this is the path
		// of results it could not place, a FETCH of a function's cursor).
		return nil, refuse("the origin of result column %q cannot be established", string(f.Name))
	}
	if class := s.b.classOf[ref]; class != "" {
		a := s.rules.Action(class)
		m, err := s.masker(a, class, f, col)
		if err != nil {
			return nil, err
		}
		if m != nil {
			if p, err = s.wrap(&colPlan{class: class, masker: m}, f); err != nil {
				return nil, err
			}
		}
	}
	s.plans[key] = p
	return p, nil
}

// isRowSystemColumn reports whether attnum is one of the system columns
// that describe a row version (ctid -1, xmin -2, cmin -3, xmax -4, cmax
// -5) rather than hold data; tableoid (-6), which tells a row's
// partition, is not one.
func isRowSystemColumn(attnum int16) bool { return attnum <= -1 && attnum >= -5 }

// wrap adapts a plan to the session's client encoding.
func (s *session) wrap(p *colPlan, f pgproto3.FieldDescription) (*colPlan, error) {
	if !holdsEveryCharacter(s.enc) && !asciiOutputType(f.DataTypeOID) {
		return nil, refuse(lossyEncodingReason, s.enc)
	}
	if !isTextType(f.DataTypeOID) {
		return p, nil
	}
	if !s.encOK {
		return nil, refuse("client_encoding %s cannot be transcoded for masking; use UTF8, GBK, GB18030, EUC_CN or BIG5", s.enc)
	}
	if s.codec != nil {
		p.masker = newTranscoded(p.masker, s.codec)
	}
	return p, nil
}

// masker builds the masker an action calls for; nil for clear.
func (s *session) masker(a policy.Action, class string, f pgproto3.FieldDescription, col catalog.Column) (masking.Masker, error) {
	mc := masking.Column{TypeOID: f.DataTypeOID, TypeMod: f.TypeModifier, Class: class}
	if a.Kind == policy.Deny {
		return nil, refuse("class %s is denied to role %q (column %q)", class, s.info.User, string(f.Name))
	}
	name := a.MaskName()
	if name == "" {
		return nil, nil
	}
	var m masking.Masker
	var err error
	if a.Kind == policy.Tokenize {
		// One tokenizer per class and rule for all sessions of the
		// binding: its token cache is shared.
		var t *masking.Tokenizer
		if t, err = s.b.tokenizer(class, a); err == nil {
			m, err = masking.NewTokenMask(t, mc)
		}
	} else {
		m, err = masking.New(name, a.Options, mc, s.b.keys)
	}
	if err != nil {
		var te *masking.TypeError
		if errors.As(err, &te) {
			return nil, refuse("class %s: mask %s does not fit column %q of type %s", class, name, string(f.Name), col.TypeName)
		}
		return nil, refuse("class %s: mask %s cannot be applied: %v", class, name, err)
	}
	return m, nil
}

// fieldFor describes a catalog column as a result field, for building its
// masker outside a RowDescription (COPY).
func fieldFor(name string, col catalog.Column) pgproto3.FieldDescription {
	return pgproto3.FieldDescription{Name: []byte(name), DataTypeOID: col.TypeOID, TypeModifier: col.TypeMod}
}

// refuse ends the session with SQLSTATE 42501. The message names the class,
// rule or column, never a value.
func refuse(format string, args ...any) error {
	return &proxy.Error{Severity: "FATAL", Code: "42501", Message: "pgmantle: " + fmt.Sprintf(format, args...)}
}
