package audit

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"strconv"
	"strings"
	"sync"

	pg_query "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Statement is what an audit record says of a statement's text.
type Statement struct {
	// SQL is the normalized text: every literal replaced by $n
	// (pg_query.Normalize), comments removed. For text pg_query cannot
	// parse it is a redacted form: keywords and punctuation only.
	SQL string
	// Fingerprint is pg_query's fingerprint of the normalized text (""
	// when it cannot be parsed); equal for statements that differ only
	// in their literals.
	Fingerprint string
	// Hash is set for text that cannot be parsed: the SHA-256 of the
	// text, so a client's own log can be matched without the record
	// holding the text.
	Hash   string
	Kind   string   // SELECT, INSERT, CREATE TABLE, ... ("" if unknown)
	Tables []string // relations the statement names, as written (schema.name or name)

	fragment []byte // SQL, Fingerprint and Hash rendered for records
}

func (s Statement) rendered() Statement {
	s.fragment = appendText(nil, s.SQL, s.Fingerprint, s.Hash)
	return s
}

// Normalizer normalizes statements, caching what it derives from each
// normalized text and each shape key (shape.go). It is safe for
// concurrent use.
type Normalizer struct {
	mu    sync.Mutex
	max   int
	cache map[string]*shape

	qmu     sync.RWMutex
	queries map[string]*Query // by shape key
}

// Query is what records say of a simple Query's or a prepared statement's
// text: each statement's fields, or for text pg_query cannot parse, a
// redacted form and a hash (Parts is then nil).
type Query struct {
	Parts    []Statement
	Unparsed Statement
	// Whole is, for a text of several statements, all of them joined, for
	// a record of the text as one (a simple Query refused as a whole).
	Whole *Statement
}

// Normalize returns the record fields of a text holding one or more
// statements. scratch is a buffer the caller reuses between calls.
func (n *Normalizer) Normalize(sql string, scratch *[]byte) *Query {
	key, ok := shapeKey(sql, *scratch)
	*scratch = key
	if ok {
		n.qmu.RLock()
		q := n.queries[string(key)]
		n.qmu.RUnlock()
		if q != nil {
			return q
		}
	}
	parts, parsed := n.Split(sql)
	if !parsed || len(parts) == 0 {
		return &Query{Unparsed: Unparsed(sql)}
	}
	raw, risky := riskyParts(sql, len(parts))
	if raw == nil {
		return &Query{Unparsed: Unparsed(sql)}
	}
	q := &Query{Parts: make([]Statement, len(parts))}
	for i, p := range parts {
		q.Parts[i] = n.Describe(p, sql, i)
		if risky[i] {
			// Values written as names: keep only the text's keywords, and
			// do not share the record with other texts of the shape.
			red := Unparsed(raw[i])
			st := q.Parts[i]
			// pg_query's fingerprint hashes names, and here values may be
			// names: it would let a short value be guessed.
			st.SQL, st.Hash, st.Fingerprint = red.SQL, red.Hash, ""
			q.Parts[i] = st.rendered()
			ok = false
		}
	}
	if len(parts) > 1 {
		// Built from the parts as recorded (risky ones redacted).
		seen := map[string]bool{}
		var tables, texts []string
		for _, p := range q.Parts {
			texts = append(texts, p.SQL)
			for _, t := range p.Tables {
				if !seen[t] {
					seen[t] = true
					tables = append(tables, t)
				}
			}
		}
		sort.Strings(tables)
		w := Statement{SQL: strings.Join(texts, "; "), Kind: q.Parts[0].Kind, Tables: tables}.rendered()
		q.Whole = &w
	}
	if ok {
		n.qmu.Lock()
		if len(n.queries) >= n.max {
			clear(n.queries)
		}
		n.queries[string(key)] = q
		n.qmu.Unlock()
	}
	return q
}

// shape is what is derived from a normalized text.
type shape struct {
	fingerprint string
	kind        string
	tables      []string
}

// NewNormalizer returns a Normalizer whose cache holds up to max shapes.
func NewNormalizer(max int) *Normalizer {
	return &Normalizer{max: max, cache: map[string]*shape{}, queries: map[string]*Query{}}
}

// Split normalizes a whole simple Query and returns its statements'
// normalized texts, in order; ok is false when it cannot be parsed.
func (n *Normalizer) Split(sql string) (parts []string, ok bool) {
	norm, err := pg_query.Normalize(sql)
	if err != nil {
		return nil, false
	}
	if !placedParams(norm, sql) {
		// Normalize misplaced a constant (it measures a folded negative
		// number written -(n) over "-(" alone, so the digits stay and glue
		// onto its $n): replace the constants of the text itself.
		norm = sql
	}
	norm = scrub(norm)
	if !severalStatements(norm) {
		return []string{strings.TrimRight(strings.TrimSpace(norm), ";")}, true
	}
	stmts, err := pg_query.SplitWithScanner(norm, true)
	if err != nil {
		return nil, false
	}
	for i, s := range stmts {
		stmts[i] = strings.TrimSpace(s)
	}
	return stmts, true
}

// placedParams reports whether the $n of Normalize's output are the
// text's own and the ones Normalize wrote, which it numbers on from the
// text's highest, once each: a digit glued onto one of them (a constant it
// measured short) shows as a number out of that run, or twice.
func placedParams(norm, sql string) bool {
	in, err := pg_query.Scan(sql)
	if err != nil {
		return false
	}
	own := map[int]bool{}
	base := 0
	for _, t := range in.Tokens {
		if t.Token == pg_query.Token_PARAM {
			if n, err := strconv.Atoi(sql[t.Start+1 : t.End]); err == nil {
				own[n] = true
				base = max(base, n)
			}
		}
	}
	out, err := pg_query.Scan(norm)
	if err != nil {
		return false
	}
	written := map[int]bool{}
	for _, t := range out.Tokens {
		if t.Token != pg_query.Token_PARAM {
			continue
		}
		n, err := strconv.Atoi(norm[t.Start+1 : t.End])
		switch {
		case err != nil:
			return false
		case own[n] && n <= base:
		case n <= base || written[n]:
			return false
		default:
			written[n] = true
		}
	}
	for n := base + 1; n <= base+len(written); n++ {
		if !written[n] {
			return false
		}
	}
	return true
}

// severalStatements reports whether text may hold more than one statement:
// a semicolon with anything but space after it.
func severalStatements(s string) bool {
	i := strings.IndexByte(s, ';')
	return i >= 0 && strings.TrimRight(s[i:], "; \t\r\n") != ""
}

// Describe returns the record fields of a normalized statement text (one
// of Split's parts). raw and index give the statement's original text
// (the whole Query and the statement's position in it), from which the
// kind and fingerprint are derived when the normalized text does not
// parse (a utility statement where a literal cannot be a parameter, such
// as CREATE ROLE ... PASSWORD $1).
func (n *Normalizer) Describe(norm, raw string, index int) Statement {
	n.mu.Lock()
	sh := n.cache[norm]
	n.mu.Unlock()
	if sh == nil {
		sh = derive(norm, raw, index)
		n.mu.Lock()
		if len(n.cache) >= n.max {
			clear(n.cache) // crude but bounded; shapes are few in practice
		}
		n.cache[norm] = sh
		n.mu.Unlock()
	}
	return Statement{SQL: norm, Fingerprint: sh.fingerprint, Kind: sh.kind, Tables: sh.tables}.rendered()
}

// Unparsed returns the record fields of text that is recorded redacted:
// a redacted form and a keyed hash (HMAC-SHA256), never the text. The
// hash is keyed so that a short text with a guessable value cannot be
// found by hashing guesses: under the key SetHashKey installed (derived
// from the key source, so stable across restarts and replicas), or else
// under a random key of this process.
func Unparsed(sql string) Statement {
	return Statement{SQL: Redact(sql), Hash: keyedHash(sql)}.rendered()
}

// keyedHash is the sql_hash of a text recorded redacted.
func keyedHash(sql string) string {
	mac := hmac.New(sha256.New, hashKey())
	mac.Write([]byte(sql))
	return hex.EncodeToString(mac.Sum(nil))
}

// UnparsedAmbiguous is Unparsed for text whose literals pgmantle cannot
// be sure to delimit as PostgreSQL did: a backslash that escapes a quote
// only with standard_conforming_strings off, a backslash byte that is
// half of a multibyte character, text in an encoding it cannot decode.
// Redacting such text token by token could read a literal's inside as
// keywords and parameters ($13912345678), so its redacted form keeps only
// what comes before the first quote, dollar sign, backslash or non-ASCII
// byte — where the two readings may part — and ends with "…".
func UnparsedAmbiguous(sql string) Statement {
	cut := len(sql)
	for i := 0; i < len(sql); i++ {
		if c := sql[i]; c == '\'' || c == '"' || c == '$' || c == '\\' || c >= 0x80 {
			cut = i
			break
		}
	}
	red := "?"
	if cut > 0 {
		red = Redact(sql[:cut])
	}
	if cut < len(sql) {
		red += " …"
	}
	return Statement{SQL: red, Hash: keyedHash(sql)}.rendered()
}

var (
	hashKeyMu sync.Mutex
	hashKeyV  []byte
)

// SetHashKey installs the key of the hashes of redacted texts.
func SetHashKey(key []byte) {
	hashKeyMu.Lock()
	hashKeyV = append([]byte(nil), key...)
	hashKeyMu.Unlock()
}

func hashKey() []byte {
	hashKeyMu.Lock()
	defer hashKeyMu.Unlock()
	if hashKeyV == nil {
		hashKeyV = make([]byte, 32)
		if _, err := rand.Read(hashKeyV); err != nil {
			panic("audit: no randomness for the hash key")
		}
	}
	return hashKeyV
}

func derive(norm, raw string, index int) *shape {
	sh := &shape{}
	text := norm
	tree, err := pg_query.Parse(norm)
	if err != nil {
		// Parse the original statement instead; nothing of it is kept
		// but its kind, relation names and fingerprint.
		stmts, serr := pg_query.SplitWithScanner(raw, true)
		if serr != nil || index >= len(stmts) {
			return sh
		}
		text = stmts[index]
		if tree, err = pg_query.Parse(text); err != nil {
			return sh
		}
	}
	// Only the normalized text is fingerprinted: pg_query's fingerprint
	// of the original would hash values that are not ordinary literals
	// (a NOTIFY payload, a COMMENT, a FETCH count), which a short guess
	// list would find.
	if text == norm {
		if fp, err := pg_query.Fingerprint(norm); err == nil {
			sh.fingerprint = fp
		}
	}
	if len(tree.Stmts) == 0 {
		return sh
	}
	sh.kind = kindOf(tree.Stmts[0].Stmt)
	ctes := map[string]bool{}
	seen := map[string]bool{}
	var walk func(m protoreflect.Message)
	walk = func(m protoreflect.Message) {
		switch v := m.Interface().(type) {
		case *pg_query.CommonTableExpr:
			ctes[v.Ctename] = true
		case *pg_query.RangeVar:
			name := v.Relname
			if v.Schemaname != "" {
				name = v.Schemaname + "." + name
			}
			seen[name] = true
		}
		m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
			if fd.Message() == nil || fd.IsMap() {
				return true
			}
			if fd.IsList() {
				l := v.List()
				for i := 0; i < l.Len(); i++ {
					walk(l.Get(i).Message())
				}
				return true
			}
			walk(v.Message())
			return true
		})
	}
	walk(tree.ProtoReflect())
	for name := range seen {
		if !ctes[name] {
			sh.tables = append(sh.tables, name)
		}
	}
	sort.Strings(sh.tables)
	return sh
}

// kindOf names a statement's kind after its command tag.
func kindOf(n *pg_query.Node) string {
	if n == nil || n.Node == nil {
		return ""
	}
	if sel := n.GetSelectStmt(); sel != nil && sel.IntoClause != nil {
		return "SELECT INTO" // its tag says SELECT n, rows stored, not sent
	}
	name := string(n.ProtoReflect().WhichOneof(n.ProtoReflect().Descriptor().Oneofs().Get(0)).Message().Name())
	if k, ok := kinds[name]; ok {
		return k
	}
	name = strings.TrimSuffix(name, "Stmt")
	var b strings.Builder
	for i, r := range name {
		if i > 0 && r >= 'A' && r <= 'Z' {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return strings.ToUpper(b.String())
}

var kinds = map[string]string{
	"SelectStmt": "SELECT", "InsertStmt": "INSERT", "UpdateStmt": "UPDATE", "DeleteStmt": "DELETE",
	"MergeStmt": "MERGE", "CopyStmt": "COPY", "TransactionStmt": "TRANSACTION", "VariableSetStmt": "SET",
	"VariableShowStmt": "SHOW", "CreateStmt": "CREATE TABLE", "CreateTableAsStmt": "CREATE TABLE AS",
	"ViewStmt": "CREATE VIEW", "IndexStmt": "CREATE INDEX", "DropStmt": "DROP", "AlterTableStmt": "ALTER TABLE",
	"CreateRoleStmt": "CREATE ROLE", "AlterRoleStmt": "ALTER ROLE", "DropRoleStmt": "DROP ROLE",
	"GrantStmt": "GRANT", "GrantRoleStmt": "GRANT ROLE", "ExplainStmt": "EXPLAIN", "PrepareStmt": "PREPARE",
	"ExecuteStmt": "EXECUTE", "DeallocateStmt": "DEALLOCATE", "DeclareCursorStmt": "DECLARE CURSOR",
	"FetchStmt": "FETCH", "ClosePortalStmt": "CLOSE", "TruncateStmt": "TRUNCATE", "DoStmt": "DO",
	"CallStmt": "CALL", "CreateFunctionStmt": "CREATE FUNCTION", "VacuumStmt": "VACUUM",
	"DiscardStmt": "DISCARD", "ListenStmt": "LISTEN", "NotifyStmt": "NOTIFY", "LockStmt": "LOCK",
	"CreateSchemaStmt": "CREATE SCHEMA", "CommentStmt": "COMMENT", "RenameStmt": "ALTER RENAME",
}

// scrub removes from pg_query.Normalize's output what it leaves in:
// comments, which can hold anything, and the literals of utility
// statements (COPY ... FROM 'file', EXECUTE p('...'), COMMENT ... IS
// '...', a column's DEFAULT, ALTER SYSTEM SET ... = '...', TRUE and FALSE
// in PREPARE, EXECUTE and DDL), which become $n too.
func scrub(s string) string {
	if !strings.Contains(s, "--") && !strings.Contains(s, "/*") && !mayHoldConstant(s) {
		return s
	}
	res, err := pg_query.Scan(s)
	if err != nil {
		return Redact(s)
	}
	next := 1
	for _, t := range res.Tokens {
		if t.Token == pg_query.Token_PARAM {
			if n, err := strconv.Atoi(s[t.Start+1 : t.End]); err == nil && n >= next {
				next = n + 1
			}
		}
	}
	var b strings.Builder
	last := 0
	for _, t := range res.Tokens {
		switch t.Token {
		case pg_query.Token_SQL_COMMENT, pg_query.Token_C_COMMENT:
			b.WriteString(s[last:t.Start])
			b.WriteByte(' ')
		case pg_query.Token_SCONST, pg_query.Token_USCONST, pg_query.Token_ICONST, pg_query.Token_FCONST,
			pg_query.Token_BCONST, pg_query.Token_XCONST, pg_query.Token_TRUE_P, pg_query.Token_FALSE_P:
			// TRUE and FALSE too: Normalize replaces them in DML only, not
			// in PREPARE, EXECUTE's arguments or DDL bodies.
			b.WriteString(s[last:t.Start])
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(next))
			next++
		default:
			continue
		}
		last = int(t.End)
	}
	b.WriteString(s[last:])
	return b.String()
}

// mayHoldConstant is a cheap test for scrub: whether s has a quote, a
// dollar quote, a digit that does not belong to a name or a $n, or the
// word TRUE or FALSE.
func mayHoldConstant(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\'' || c == '\\':
			return true
		case c == '"':
			j := strings.IndexByte(s[i+1:], '"')
			if j < 0 {
				return true
			}
			i += j + 1
		case c == '$':
			if i+1 >= len(s) || !isDigit(s[i+1]) {
				return true
			}
			for i+1 < len(s) && isDigit(s[i+1]) {
				i++
			}
		case isDigit(c):
			if i == 0 || !identByte(s[i-1]) {
				return true
			}
			for i+1 < len(s) && identByte(s[i+1]) {
				i++
			}
		case identByte(c):
			start := i
			for i+1 < len(s) && identByte(s[i+1]) {
				i++
			}
			if w := s[start : i+1]; strings.EqualFold(w, "true") || strings.EqualFold(w, "false") {
				return true
			}
		}
	}
	return false
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func identByte(c byte) bool {
	return c == '_' || c == '$' || isDigit(c) || (c|0x20 >= 'a' && c|0x20 <= 'z') || c >= 0x80
}

// Redact keeps only the structural keywords (statement and clause words:
// SELECT, UPDATE, SET, WHERE, ...), operators and punctuation of text:
// identifiers, literals and every other keyword — which may be a value:
// TRUE, FALSE, ON, OFF, NONE, a setting's word — become ?, comments
// disappear. Text the scanner cannot read redacts to "?".
func Redact(s string) string {
	res, err := pg_query.Scan(s)
	if err != nil {
		return "?"
	}
	var b strings.Builder
	for _, t := range res.Tokens {
		if t.Token == pg_query.Token_SQL_COMMENT || t.Token == pg_query.Token_C_COMMENT {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		tok := s[t.Start:t.End]
		switch {
		case t.KeywordKind != pg_query.KeywordKind_NO_KEYWORD && structural[strings.ToUpper(tok)]:
			b.WriteString(strings.ToUpper(tok))
		case t.Token == pg_query.Token_PARAM:
			b.WriteString(tok)
		case len(tok) <= 2 && strings.Trim(tok, "()[],;.:=<>+-*/%^|&!~@#?") == "":
			b.WriteString(tok)
		default:
			b.WriteByte('?')
		}
	}
	if b.Len() == 0 {
		return "?"
	}
	return b.String()
}

// riskyParts returns each statement's own text and whether it is a
// statement whose values may be written as names, which normalization
// cannot tell from names: the value of an option (DefElem: COPY ...
// (NULL word), CREATE AGGREGATE ... initcond = word, WITH (opt = word),
// OPTIONS (...)), a setting inside another statement (ALTER ROLE ...
// SET x = word, ALTER SYSTEM, ALTER FUNCTION ... SET) and a trigger's
// arguments. raw is nil when
// the text does not parse into n statements.
func riskyParts(sql string, n int) (raw []string, risky []bool) {
	tree, err := pg_query.Parse(sql)
	if err != nil || len(tree.Stmts) != n {
		return nil, nil
	}
	for _, st := range tree.Stmts {
		text := sql[st.StmtLocation:]
		if st.StmtLen > 0 && int(st.StmtLocation+st.StmtLen) <= len(sql) {
			text = sql[st.StmtLocation : st.StmtLocation+st.StmtLen]
		}
		raw = append(raw, text)
		risky = append(risky, hasNamedValues(st.Stmt))
	}
	return raw, risky
}

// hasNamedValues walks a statement for option values other than booleans
// and for settings below the top level.
func hasNamedValues(top *pg_query.Node) bool {
	found := false
	var walk func(m protoreflect.Message, depth int)
	walk = func(m protoreflect.Message, depth int) {
		if found {
			return
		}
		switch v := m.Interface().(type) {
		case *pg_query.DefElem:
			if v.Arg != nil && v.Arg.GetBoolean() == nil {
				found = true
				return
			}
		case *pg_query.VariableSetStmt:
			if depth > 1 {
				found = true
				return
			}
		case *pg_query.CreateTrigStmt:
			// EXECUTE FUNCTION f(args): each argument reaches the trigger
			// as a string, however written (word, "name" or 'literal').
			if len(v.Args) > 0 {
				found = true
				return
			}
		}
		m.Range(func(fd protoreflect.FieldDescriptor, val protoreflect.Value) bool {
			if fd.Message() == nil || fd.IsMap() {
				return true
			}
			if fd.IsList() {
				l := val.List()
				for i := 0; i < l.Len(); i++ {
					walk(l.Get(i).Message(), depth+1)
				}
				return true
			}
			walk(val.Message(), depth+1)
			return true
		})
	}
	walk(top.ProtoReflect(), 0)
	return found
}

// AmbiguousBackslash reports whether PostgreSQL reads sql differently
// with standard_conforming_strings on and off: a backslash inside a plain
// '...' (or N'...') literal, which escapes a quote only when it is off.
// Where such a literal ends depends on a setting the session can change
// at any time (even between a Parse and its Execute, or in the same
// pipeline), so records of such texts keep only their keywords.
func AmbiguousBackslash(sql string) bool {
	if strings.IndexByte(sql, '\\') < 0 {
		return false
	}
	res, err := pg_query.Scan(sql)
	if err != nil {
		return true
	}
	for _, t := range res.Tokens {
		if t.Token != pg_query.Token_SCONST {
			continue
		}
		text := sql[t.Start:t.End]
		if (text[0] == '\'' || text[0] == 'N' || text[0] == 'n') && strings.IndexByte(text, '\\') >= 0 {
			return true
		}
	}
	return false
}

// HighByteBackslash reports whether a backslash byte follows a non-ASCII
// byte: in GBK, GB18030, BIG5 or SJIS that backslash is the second byte
// of a character, in UTF-8 it is a backslash. How PostgreSQL read the
// text (and so where its literals end) then depends on the client
// encoding in force when it arrived, which the session can change
// between a Parse and its Execute or inside a pipeline; records of such
// texts keep only their keywords.
func HighByteBackslash(sql string) bool {
	for i := strings.IndexByte(sql, '\\'); i >= 0; {
		if i > 0 && sql[i-1] >= 0x80 {
			return true
		}
		j := strings.IndexByte(sql[i+1:], '\\')
		if j < 0 {
			break
		}
		i += j + 1
	}
	return false
}

// structural are the keywords Redact keeps: they name statements and
// clauses, and none is a value a setting or a column takes.
var structural = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`SELECT FROM WHERE INSERT INTO VALUES UPDATE SET DELETE MERGE USING MATCHED
		AND OR NOT IN IS AS JOIN LEFT RIGHT INNER OUTER FULL CROSS LATERAL GROUP BY ORDER HAVING LIMIT OFFSET
		UNION INTERSECT EXCEPT DISTINCT CASE WHEN THEN ELSE END WITH RECURSIVE RETURNING LIKE ILIKE BETWEEN EXISTS
		ANY SOME CREATE ALTER DROP TABLE ROLE USER INDEX VIEW MATERIALIZED SCHEMA DATABASE FUNCTION PROCEDURE
		TRIGGER SEQUENCE EXTENSION SERVER MAPPING FOREIGN DATA WRAPPER POLICY PUBLICATION SUBSCRIPTION
		COPY GRANT REVOKE PRIVILEGES BEGIN COMMIT ROLLBACK SAVEPOINT RELEASE START TRANSACTION PREPARE
		EXECUTE DEALLOCATE DECLARE CURSOR FETCH MOVE CLOSE LISTEN UNLISTEN NOTIFY TRUNCATE VACUUM ANALYZE
		EXPLAIN LOCK COMMENT SECURITY LABEL OPTIONS PASSWORD ENCRYPTED VALID UNTIL CONNECTION RENAME OWNER
		ADD COLUMN CONSTRAINT PRIMARY KEY REFERENCES UNIQUE CHECK DO CALL RETURNS LANGUAGE REPLACE
		TEMP TEMPORARY UNLOGGED IF STDIN STDOUT PROGRAM FOR SHARE NOWAIT ONLY CAST COLLATE SYSTEM RESET
		SESSION LOCAL DISCARD REINDEX CLUSTER REFRESH IMPORT TYPE DOMAIN AGGREGATE OPERATOR`) {
		structural[w] = true
	}
}
