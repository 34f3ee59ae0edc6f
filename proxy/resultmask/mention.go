package resultmask

import (
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/pgmantle/pgmantle/parser"
)

// mentionsProtected reports whether a statement may read protected data
// in a way its result columns do not show: it names a relation that holds
// or exposes protected data, a user-defined or risky function, or is a
// statement that returns rows defined elsewhere (EXECUTE, FETCH, SHOW, DO,
// CALL). The SQL is parsed with libpg_query, so quoting, Unicode escapes
// and comments cannot hide a name; SQL that does not parse counts as
// naming protected data. It is a stand-in for the query analysis: anything
// it cannot see (a DBA's function reading a table under another name) is
// the analysis layer's to close.
func (s *session) mentionsProtected(sql string) bool {
	if sql == "" {
		return true // unknown statement: assume the worst
	}
	if s.codec != nil {
		utf8, err := s.codec.NewDecoder().String(sql)
		if err != nil {
			return true
		}
		sql = utf8
	}
	tree, err := pg_query.Parse(sql)
	if err != nil {
		return true
	}
	found := false
	walk(tree.ProtoReflect(), func(m protoreflect.Message) bool {
		switch n := m.Interface().(type) {
		case *pg_query.RangeVar:
			found = s.b.protectedRels[n.Relname]
		case *pg_query.FuncCall:
			if len(n.Funcname) > 0 {
				if name := n.Funcname[len(n.Funcname)-1].GetString_(); name != nil {
					found = s.b.protectedRels[strings.ToLower(name.Sval)] || s.b.protectedRels[name.Sval] ||
						parser.DeniedFunction(name.Sval)
				}
			}
			if len(n.Funcname) > 1 {
				if schema := n.Funcname[0].GetString_(); schema != nil && schema.Sval == "pg_temp" {
					found = true
				}
			}
		case *pg_query.DoStmt, *pg_query.ExecuteStmt, *pg_query.FetchStmt, *pg_query.VariableShowStmt,
			*pg_query.CallStmt:
			found = true
		}
		return !found
	})
	return found
}

// walk visits every message of a parse tree until visit returns false.
func walk(m protoreflect.Message, visit func(protoreflect.Message) bool) bool {
	if !visit(m) {
		return false
	}
	ok := true
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsList() && fd.Message() != nil:
			l := v.List()
			for i := 0; i < l.Len() && ok; i++ {
				ok = walk(l.Get(i).Message(), visit)
			}
		case fd.Message() != nil && !fd.IsMap():
			ok = walk(v.Message(), visit)
		}
		return ok
	})
	return ok
}
