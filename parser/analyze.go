package parser

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"
)

// analyzer analyses one statement.
type analyzer struct {
	env  *Env
	path []string // effective search_path, pg_catalog included
	// definer: analysing a view's definition, for the lineage of its
	// columns only (no uses, no allow-list).
	definer bool
	st      *Statement
	state   *State
	text    string // the statement's SQL text
	// viewTriggers: the statement writes to a view with triggers (or
	// through one): its RETURNING is refused.
	viewTriggers bool
	// rls collects, while analysing a view's definition, the protected
	// columns the row-level security policies of the relations it reads
	// compare (charged to each statement reading the view).
	rls []Source
	// defaulted: the statement writes DEFAULT somewhere (VALUES (...,
	// DEFAULT), SET col = DEFAULT): any column's default may be computed.
	defaulted bool
	// picked collects, while analysing a view's definition, the row
	// orders it observes (LIMIT, DISTINCT ON, array_agg, ...: see
	// roworder.go), charged to each statement reading the view.
	picked []Source
	// scanned: the row orders of every relation the statement reads;
	// volatile: it calls a volatile function (roworder.go).
	scanned  []Source
	volatile bool
}

// parseOne parses SQL holding exactly one statement.
func parseOne(sql string) (*pg_query.Node, error) {
	tree, err := pg_query.Parse(sql)
	if err != nil {
		return nil, err
	}
	if len(tree.Stmts) != 1 {
		return nil, fmt.Errorf("%d statements", len(tree.Stmts))
	}
	return tree.Stmts[0].Stmt, nil
}

// Analyze parses sql (UTF-8) and analyses each of its statements in order,
// against env and the session state st, which it updates as the
// statements would (search_path, SQL-level prepared statements, cursors).
// Statements are analysed once per search_path the session may have; a
// statement refused under any of them is refused. SQL that does not parse
// gives one refused statement. st may be nil (no session: every search_path
// change is ignored and the default path is used).
func Analyze(sql string, env *Env, st *State) *Analysis {
	tree, err := pg_query.Parse(sql)
	if err != nil {
		return &Analysis{Statements: []*Statement{{Kind: "UNPARSEABLE", Refusal: "a statement pgmantle cannot parse"}}}
	}
	if st == nil {
		st = NewState("")
	}
	imm := st.Immediate
	defer func() { st.Immediate = imm }()
	st.Immediate = imm && len(tree.Stmts) == 1
	out := &Analysis{}
	for _, raw := range tree.Stmts {
		// A name that resolves under none of the paths is refused; one
		// that resolves under some only is analysed under those (under the
		// others PostgreSQL itself would fail).
		var merged, unresolved *Statement
		text := sql[raw.StmtLocation:]
		if raw.StmtLen > 0 && int(raw.StmtLocation+raw.StmtLen) <= len(sql) {
			text = sql[raw.StmtLocation : raw.StmtLocation+raw.StmtLen]
		}
		var first []string
		seen, differ := false, false
		paths := st.paths()
		for _, path := range paths {
			s := analyzeStatement(raw.Stmt, text, env, path, st)
			if s.unresolved {
				unresolved = s
				continue
			}
			if len(paths) > 1 { // one path: nothing to compare
				rels := slices.Sorted(slices.Values(s.Relations))
				if !seen {
					first, seen = rels, true
				} else if !slices.Equal(first, rels) {
					differ = true
				}
			}
			merged = mergeStatements(merged, s)
		}
		if merged == nil {
			merged = unresolved
		}
		if differ && merged.Refusal == "" {
			// Which relation a name stands for depends on a search_path
			// pgmantle cannot know yet: a token compared with the column
			// of one would be detokenized for another, and another's
			// values tokenized or hashed for the client (a red-team
			// finding: a clean look-alike table became a guess oracle).
			merged.Refusal = "names that stand for different relations under the search_paths this session may have (set search_path on its own, outside a transaction, and wait for it to complete)"
		}
		st.apply(raw.Stmt, merged)
		out.stateful = out.stateful || stateful(raw.Stmt)
		out.literalDependent = out.literalDependent || merged.literalDependent
		out.Statements = append(out.Statements, merged)
	}
	return out
}

// analyzeStatement analyses one statement under one search_path.
func analyzeStatement(n *pg_query.Node, text string, env *Env, path []string, st *State) *Statement {
	a := &analyzer{env: env, path: path, st: &Statement{Kind: statementKind(n), OutputsExact: true, epoch: st.changes}, state: st, text: text}
	err := a.statement(n)
	if err == nil && a.volatile {
		// A volatile function (nextval, random after setseed,
		// clock_timestamp) gives each row a value in the order the rows
		// are read.
		a.rowOrder(a.scanned)
	}
	if err != nil {
		var r *Refusal
		if errors.As(err, &r) {
			a.st.Refusal = r.Reason
			a.st.unresolved = r.unresolved
		} else {
			a.st.Refusal = "a statement pgmantle cannot analyse"
		}
	}
	return a.st
}

// mergeStatements combines the analyses of one statement under several
// possible search_paths: refused if any is, every use of any, and each
// output's lineage the union of all.
func mergeStatements(acc, s *Statement) *Statement {
	if acc == nil {
		return s
	}
	if acc.Refusal == "" {
		acc.Refusal = s.Refusal
	}
	acc.Uses = append(acc.Uses, s.Uses...)
	for _, r := range s.Relations {
		acc.Relations = appendUnique(acc.Relations, r)
	}
	if len(acc.Outputs) != len(s.Outputs) || !s.OutputsExact {
		acc.OutputsExact = false
	}
	// Under another search_path the statement has another number of
	// columns: those past the shorter list have no plan, and which list
	// PostgreSQL used is unknown (a red-team finding: a computed column
	// past a clean table's shorter list went out unmasked). The result
	// layer then checks every column's origin.
	acc.OutputsUnknown = acc.OutputsUnknown || s.OutputsUnknown || len(acc.Outputs) != len(s.Outputs)
	for i := range acc.Outputs {
		if i < len(s.Outputs) {
			o := &acc.Outputs[i]
			o.Sources = appendSources(o.Sources, s.Outputs[i].Sources...)
			o.Mixed = o.Mixed || s.Outputs[i].Mixed
			if s.Outputs[i].Lineage > o.Lineage {
				o.Lineage = s.Outputs[i].Lineage
			}
		}
	}
	if acc.Refers != s.Refers {
		acc.Refers = nil
	}
	return acc
}

// statementKind names a statement as its command tag starts.
func statementKind(n *pg_query.Node) string {
	if n == nil {
		return "EMPTY"
	}
	k := fmt.Sprintf("%T", n.Node)
	k = strings.TrimSuffix(strings.TrimPrefix(k, "*pg_query.Node_"), "Stmt")
	switch k {
	case "Select":
		return "SELECT"
	case "Insert", "Update", "Delete", "Merge", "Copy", "Execute", "Fetch", "Prepare", "Deallocate",
		"Lock", "Discard", "Explain", "Listen", "Notify", "Do", "Call":
		return strings.ToUpper(k)
	case "VariableSet":
		return "SET"
	case "VariableShow":
		return "SHOW"
	case "Transaction":
		return "TRANSACTION"
	case "DeclareCursor":
		return "DECLARE CURSOR"
	case "ClosePortal":
		return "CLOSE"
	}
	return k
}

// statement analyses one top-level statement.
func (a *analyzer) statement(n *pg_query.Node) error {
	switch x := n.Node.(type) {
	case *pg_query.Node_SelectStmt:
		if callsSetConfig(x.SelectStmt) {
			// Whether set_config stands for an allowed SET depends on its
			// literals: no plan, allowed or refused, is shared with
			// set_config of other values.
			a.st.literalDependent = true
		}
		if set, ok := setConfigSet(x.SelectStmt); ok && a.setConfigResolves(x.SelectStmt) {
			// One clean column, the new value, as for SHOW. The setting's
			// name is a literal here: the refusal does not repeat it.
			a.st.OutputsExact = false
			if err := a.set(set); err != nil {
				return a.refuse("this set_config (the SET it stands for: a change of role, encoding or planner methods, or a search_path change before earlier ones took effect)")
			}
			return nil
		}
		return a.topSelect(x.SelectStmt, UseOutput)
	case *pg_query.Node_InsertStmt, *pg_query.Node_UpdateStmt, *pg_query.Node_DeleteStmt, *pg_query.Node_MergeStmt:
		return a.returning(a.write(n, nil))
	case *pg_query.Node_CopyStmt:
		return a.copyStmt(x.CopyStmt)
	case *pg_query.Node_DeclareCursorStmt:
		if strings.HasPrefix(x.DeclareCursorStmt.Portalname, ReservedPrefix) {
			return a.refuse("the cursor name %s (reserved)", x.DeclareCursorStmt.Portalname)
		}
		return a.topSelectNode(x.DeclareCursorStmt.Query)
	case *pg_query.Node_PrepareStmt:
		if strings.HasPrefix(x.PrepareStmt.Name, ReservedPrefix) {
			return a.refuse("the statement name %s (reserved)", x.PrepareStmt.Name)
		}
		// A set_config in a prepared statement would change search_path
		// at EXECUTE, which the session state does not follow.
		if sel := x.PrepareStmt.Query.GetSelectStmt(); sel != nil && callsSetConfig(sel) {
			return a.refuse("set_config in a prepared statement")
		}
		// The prepared statement's rows come out through EXECUTE: analyse
		// it as a statement of its own (State.apply files it by name).
		return a.statement(x.PrepareStmt.Query)
	case *pg_query.Node_ExecuteStmt:
		for _, p := range x.ExecuteStmt.Params {
			if err := a.consume(p, newScope(nil), UseFunction); err != nil {
				return err
			}
		}
		st, why := a.state.preparedStatement(x.ExecuteStmt.Name)
		if why != "" {
			return a.refuse("EXECUTE of %s", why)
		}
		a.st.Refers = st
		return a.refers()
	case *pg_query.Node_FetchStmt:
		a.st.Refers = a.state.cursor(x.FetchStmt.Portalname)
		return a.refers()
	case *pg_query.Node_VariableSetStmt:
		a.st.pathFree = true
		return a.set(x.VariableSetStmt)
	case *pg_query.Node_VariableShowStmt:
		a.st.OutputsExact = false // one clean column
		a.st.pathFree = true
		return nil
	case *pg_query.Node_TransactionStmt, *pg_query.Node_ClosePortalStmt,
		*pg_query.Node_DeallocateStmt, *pg_query.Node_DiscardStmt:
		a.st.pathFree = true
		return nil
	case *pg_query.Node_LockStmt:
		if x.LockStmt.Mode == accessExclusiveLock {
			// It would hold pgmantle's catalog reload (pg_get_viewdef
			// waits for a view so locked), and with it every restricted
			// statement, for as long as the transaction lasts.
			return a.refuse("LOCK in ACCESS EXCLUSIVE mode (the default; name a weaker mode)")
		}
		for _, r := range x.LockStmt.Relations {
			if rv := r.GetRangeVar(); rv != nil {
				if _, err := a.relation(rv.Schemaname, rv.Relname); err != nil {
					return err
				}
			}
		}
		return nil
	case *pg_query.Node_DoStmt:
		return a.refuse("DO")
	case *pg_query.Node_CallStmt:
		return a.refuse("CALL")
	case *pg_query.Node_ExplainStmt:
		return a.refuse("EXPLAIN (its estimates come from statistics that hold values)")
	case *pg_query.Node_ListenStmt, *pg_query.Node_NotifyStmt, *pg_query.Node_UnlistenStmt:
		return a.refuse("LISTEN and NOTIFY")
	case *pg_query.Node_CreateTableAsStmt:
		return a.refuse("CREATE TABLE AS and CREATE MATERIALIZED VIEW")
	case *pg_query.Node_CreateStmt, *pg_query.Node_ViewStmt, *pg_query.Node_CreateFunctionStmt,
		*pg_query.Node_RuleStmt, *pg_query.Node_CreateTrigStmt, *pg_query.Node_CreateEventTrigStmt,
		*pg_query.Node_AlterFunctionStmt, *pg_query.Node_CreateSeqStmt, *pg_query.Node_CreateDomainStmt,
		*pg_query.Node_CompositeTypeStmt:
		return a.refuse("creating tables, views or code")
	case *pg_query.Node_AlterRoleSetStmt, *pg_query.Node_AlterDatabaseSetStmt, *pg_query.Node_AlterRoleStmt,
		*pg_query.Node_AlterSystemStmt:
		return a.refuse("changing role, database or server settings")
	case nil:
		return nil
	}
	return a.refuse("the statement kind %s", a.st.Kind)
}

// accessExclusiveLock is PostgreSQL's AccessExclusiveLock, the mode of a
// LockStmt.
const accessExclusiveLock = 8

// refers checks EXECUTE and FETCH: the statement or cursor they run must
// have been analysed in this session.
func (a *analyzer) refers() error {
	if a.st.Refers == nil {
		// PostgreSQL refuses an unknown name itself; a name pgmantle did
		// not see defined is treated as unknown lineage by the result
		// layer (its origin cross-check).
		a.st.OutputsExact, a.st.OutputsUnknown = false, true
		return nil
	}
	if a.st.Refers.Refusal != "" {
		return a.refuse("%s", a.st.Refers.Refusal)
	}
	a.st.Outputs = a.st.Refers.Outputs
	a.st.OutputsExact, a.st.OutputsUnknown = a.st.Refers.OutputsExact, a.st.Refers.OutputsUnknown
	// A statement prepared with $n compared with a protected column was
	// allowed because a Bind's parameters can be detokenized; EXECUTE's
	// arguments are expressions of the client's, which cannot: there the
	// comparison is a plain predicate.
	for _, u := range a.st.Refers.Uses {
		if u.Kind == UseLiteralEquality && len(u.Params) > 0 {
			a.use(Use{Kind: UsePredicate, Source: u.Source})
		}
	}
	return nil
}

// topSelect analyses a SELECT whose rows go to the client.
func (a *analyzer) topSelect(sel *pg_query.SelectStmt, kind UseKind) error {
	outs, err := a.selectStmt(sel, nil)
	return a.outputAs(outs, err, kind)
}

func (a *analyzer) topSelectNode(n *pg_query.Node) error {
	sel := n.GetSelectStmt()
	if sel == nil {
		return a.refuse("a cursor over a statement other than SELECT")
	}
	return a.topSelect(sel, UseOutput)
}

// returning records the RETURNING columns of a write.
func (a *analyzer) returning(outs outputs, err error) error {
	return a.outputAs(outs, err, UseReturning)
}

// outputAs records the statement's result columns and charges their plain
// copies as kind.
func (a *analyzer) outputAs(outs outputs, err error, kind UseKind) error {
	if err != nil {
		return err
	}
	a.st.OutputsExact = outs.exact
	a.rowOrder(outs.order)
	for _, c := range outs.cols {
		a.charge(c.v, kind)
		a.st.Outputs = append(a.st.Outputs, c.v.output(c.name))
	}
	return nil
}
