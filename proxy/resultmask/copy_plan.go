package resultmask

import (
	"errors"

	"github.com/pgmantle/pgmantle/catalog"
	"github.com/pgmantle/pgmantle/masking"
	"github.com/pgmantle/pgmantle/proxy"
)

// copyPlan returns the rewriter for a COPY ... TO STDOUT result. COPY of
// relations without protected data is relayed unchanged; COPY of a table
// with protected columns is masked row by row in its own format (text, CSV
// or binary); anything pgmantle cannot parse or resolve with certainty —
// COPY (query) naming protected data, unknown options, unresolvable names —
// is refused.
func (s *session) copyPlan(rs *proxy.ResultSet) (proxy.RowRewriter, error) {
	if !s.mentionsProtected(rs.SQL) {
		return nil, nil
	}
	sql := rs.SQL
	if s.codec != nil {
		utf8, err := s.codec.NewDecoder().String(sql)
		if err != nil {
			return nil, refuse("a COPY statement could not be decoded from %s", s.enc)
		}
		sql = utf8
	}
	st, ok := parseCopyOut(sql)
	if !ok {
		return nil, refuse("this COPY of protected data is not understood by pgmantle; use COPY table [(columns)] TO STDOUT or COPY (query) TO STDOUT with options in parentheses")
	}
	if st.Query != "" {
		return s.copyQueryPlan(st, rs)
	}
	rel := s.copyRelation(st)
	if rel == nil {
		return nil, refuse("the table of a COPY could not be resolved; qualify it with its schema")
	}
	names := st.Columns
	if names == nil {
		for _, c := range rel.Columns {
			if !c.Generated { // COPY without a column list leaves them out
				names = append(names, c.Name)
			}
		}
	}
	format := masking.FormatText
	if st.Format == 'b' {
		format = masking.FormatBinary
	}
	cols := make([]copyColumn, len(names))
	for i, name := range names {
		cols[i].Name = name
		col, ok := rel.ColumnByName(name)
		if !ok {
			return nil, refuse("COPY names an unknown column %q", name)
		}
		ref, _, ok := s.b.snap.Origin(rel.OID, col.Num)
		if !ok {
			return nil, refuse("the origin of COPY column %q cannot be established", name)
		}
		class := s.b.classOf[ref]
		if class == "" {
			continue
		}
		f := fieldFor(name, col)
		m, err := s.masker(s.rules.Action(class), class, f, col)
		if err != nil {
			return nil, err
		}
		if m == nil {
			continue
		}
		if isTextType(col.TypeOID) && s.codec != nil {
			m = newTranscoded(m, s.codec)
		}
		if isTextType(col.TypeOID) && !s.encOK {
			return nil, refuse("client_encoding %s cannot be transcoded for masking", s.enc)
		}
		if isTextType(col.TypeOID) && !holdsEveryCharacter(s.enc) {
			return nil, refuse(lossyEncodingReason, s.enc)
		}
		cols[i].Mask = func(dst, v []byte) ([]byte, bool, error) { return m.Mask(dst, v, format) }
	}
	cm, err := newCopyRowMasker(st, cols, rs.ClientEncoding)
	if err != nil {
		return nil, refuse("this COPY cannot be masked safely (%s); use COPY ... (FORMAT csv) or the default NULL marker", copyReason(err))
	}
	return &copyRefuser{cm: cm}, nil
}

// copyQueryPlan masks COPY (query) TO STDOUT by the query's columns, which
// pgmantle described before the COPY ran (see Predescribe).
func (s *session) copyQueryPlan(st copyStmt, rs *proxy.ResultSet) (proxy.RowRewriter, error) {
	if rs.Fields == nil {
		return nil, refuse("the columns of a COPY (query) could not be established")
	}
	format := masking.FormatText
	if st.Format == 'b' {
		format = masking.FormatBinary
	}
	cols := make([]copyColumn, len(rs.Fields))
	for i, f := range rs.Fields {
		cols[i].Name = string(f.Name)
		if f.TableOID == 0 || f.TableAttributeNumber <= 0 {
			// The statement names protected data (else copyPlan would not
			// be here): a computed column might carry it.
			return nil, refuse("a COPY (query) column's origin cannot be established in a statement that reads protected data")
		}
		f.Format = format
		p, err := s.plan(f)
		if err != nil {
			return nil, err
		}
		if p != nil {
			m := p.masker
			cols[i].Mask = func(dst, v []byte) ([]byte, bool, error) { return m.Mask(dst, v, format) }
		}
	}
	cm, err := newCopyRowMasker(st, cols, rs.ClientEncoding)
	if err != nil {
		return nil, refuse("this COPY cannot be masked safely (%s); use COPY ... (FORMAT csv) or the default NULL marker", copyReason(err))
	}
	return &copyRefuser{cm: cm}, nil
}

// Predescribe asks the proxy to describe the query of a COPY (query) TO
// STDOUT before it runs, so its columns can be traced. It looks at the SQL
// text only.
func (s *session) Predescribe(sql string) (string, bool) {
	st, ok := parseCopyOut(sql)
	if !ok || st.Query == "" {
		return "", false
	}
	return st.Query, true
}

// copyRelation resolves the COPY's table. Only schema-qualified names are
// accepted: the session's search_path is not tracked yet, and resolving an
// unqualified name another way could mask by the wrong table's columns.
func (s *session) copyRelation(st copyStmt) *catalog.Relation {
	if st.Schema == "" {
		return nil
	}
	return s.b.snap.RelationByName(st.Schema, st.Table)
}

// copyRefuser turns the codec's errors into a refusal naming no value.
type copyRefuser struct{ cm *copyRowMasker }

func (c *copyRefuser) RewriteRow(values [][]byte) error {
	if err := c.cm.RewriteRow(values); err != nil {
		return refuse("a COPY row could not be masked (%s)", copyReason(err))
	}
	return nil
}

func copyReason(err error) string {
	var ce *copyError
	if errors.As(err, &ce) {
		return ce.Reason
	}
	return "unsupported form"
}
