package resultmask_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgmantle/pgmantle/internal/pgtest"
	"github.com/pgmantle/pgmantle/internal/vaulttest"
	"github.com/pgmantle/pgmantle/keys"
	"github.com/pgmantle/pgmantle/masking"
	"github.com/pgmantle/pgmantle/proxy"
	"github.com/pgmantle/pgmantle/proxy/resultmask"
)

// tokenSchema: people with IDs, mobiles, cards and names, and payroll
// rows that refer to people by ID number (some several times, some not
// at all), for joins and group-bys across tables.
const tokenSchema = `
CREATE SCHEMA t;
CREATE TABLE t.people (id int PRIMARY KEY, id_no varchar(18), mobile text, card text, name text, city text);
CREATE TABLE t.payroll (id serial PRIMARY KEY, id_no char(18), amount numeric);
GRANT USAGE ON SCHEMA t TO PUBLIC; GRANT SELECT ON ALL TABLES IN SCHEMA t TO PUBLIC;
`

const tokenPolicy = `
classes:
  cn_id: [t.people.id_no, t.payroll.id_no]
  cn_mobile: [t.people.mobile]
  bank_card: [t.people.card]
  person_name: [t.people.name]
  location: [t.people.city]
roles:
  analyst:
    rules:
      cn_id: tokenize
      cn_mobile: tokenize
      bank_card: tokenize
      person_name: {action: tokenize, keep_surname: true}
      location: hash
%s
`

// tokenData returns the INSERTs of n people and their payroll.
func tokenData(n int) (string, []string) {
	var b strings.Builder
	ids := make([]string, n)
	surnames := []string{"王", "李", "张", "刘", "陈"}
	for i := range n {
		first17 := fmt.Sprintf("310105%04d%02d%02d%03d", 1950+i%50, 1+i%12, 1+i%28, i%1000)
		c, _ := masking.CNIDCheckChar(first17)
		ids[i] = first17 + string(c)
		card := fmt.Sprintf("622202%09d", 100000000+i*7919)
		d, _ := masking.LuhnCheckDigit(card)
		fmt.Fprintf(&b, "INSERT INTO t.people VALUES (%d, '%s', '1%d%09d', '%s%c', '%s伟', 'shanghai');\n",
			i+1, ids[i], 3+i%7, 100000000+i*31, card, d, surnames[i%5])
		for k := 0; k < i%3; k++ {
			fmt.Fprintf(&b, "INSERT INTO t.payroll (id_no, amount) VALUES ('%s', %d);\n", ids[i], 1000*(k+1))
		}
	}
	return b.String(), ids
}

// vaultKeys starts Vault with a KV v2 tokenize key and returns a key
// manager reading it with a limited token.
func vaultKeys(t *testing.T) (*vaulttest.Server, *keys.Manager) {
	t.Helper()
	v := vaulttest.Start(t)
	v.Policy(t, "pgmantle", `path "secret/data/pgmantle/*" { capabilities = ["read"] }
path "secret/metadata/pgmantle/*" { capabilities = ["read"] }`)
	v.PutKV(t, "pgmantle/tokenize", vaulttest.NewKey())
	t.Setenv("VAULT_TOKEN", v.Token(t, []string{"pgmantle"}, time.Hour, true))
	p, err := keys.NewVaultProvider(context.Background(), keys.VaultConfig{Address: v.Addr,
		Tokenize: keys.VaultSource{KV: "secret/pgmantle/tokenize"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	m, err := keys.NewManager(context.Background(), p, nil)
	if err != nil {
		t.Fatal(err)
	}
	return v, m
}

func tokenProxy(t *testing.T, km *keys.Manager, policyExtra string) (addr, db string, ids []string) {
	t.Helper()
	data, ids := tokenData(120)
	db = newDatabase(t, tokenSchema, data)
	pf := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(pf, []byte(fmt.Sprintf(tokenPolicy, policyExtra)), 0o600); err != nil {
		t.Fatal(err)
	}
	addr, _ = startProxyWith(t, db, pf, func(e *resultmask.Engine, _ *proxy.Server) { e.KeyManager = km; e.Keys = nil })
	return addr, db, ids
}

func oneColumn(t *testing.T, conn *pgx.Conn, sql string, args ...any) []string {
	t.Helper()
	rows, err := conn.Query(pgtest.Context(t), sql, args...)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return out
}

// TestTokensEndToEnd: with keys from a real Vault, an analyst sees
// format-preserving tokens; joins and group-bys on tokenized IDs give the
// same counts as on the real values; tokens are the same over the simple
// and the extended protocol (pgx asks text results for these types;
// binary results are compared in TestTokensOfBufferedRowsMatch) and
// across tables.
func TestTokensEndToEnd(t *testing.T) {
	_, km := vaultKeys(t)
	addr, db, ids := tokenProxy(t, km, "")
	direct := pgtest.Connect(t, pgtest.Cluster(t).DSN("postgres", "", db))
	simple := connectAs(t, addr, db, "analyst", pgx.QueryExecModeSimpleProtocol)
	extended := connectAs(t, addr, db, "analyst", pgx.QueryExecModeCacheStatement)

	toks := oneColumn(t, simple, "SELECT id_no FROM t.people ORDER BY id")
	toksBin := oneColumn(t, extended, "SELECT id_no FROM t.people ORDER BY id")
	real := map[string]bool{}
	for _, id := range ids {
		real[id] = true
	}
	seen := map[string]bool{}
	for i, tk := range toks {
		if real[tk] || !masking.ValidCNID(tk) || tk != toksBin[i] || seen[tk] {
			t.Fatalf("token %d %q: real %v, valid %v, same over the extended protocol %v, repeated %v", i, tk, real[tk], masking.ValidCNID(tk), tk == toksBin[i], seen[tk])
		}
		seen[tk] = true
	}
	for _, q := range []string{
		"SELECT count(*)::text FROM t.people p JOIN t.payroll r ON r.id_no = p.id_no",
		"SELECT count(*)::text FROM (SELECT id_no, count(*) FROM t.payroll GROUP BY id_no) g",
		"SELECT count(DISTINCT id_no)::text FROM t.payroll",
		"SELECT count(*)::text FROM t.people p WHERE p.id_no IN (SELECT id_no FROM t.payroll)",
	} {
		var want string
		if err := direct.QueryRow(pgtest.Context(t), q).Scan(&want); err != nil {
			t.Fatal(err)
		}
		got := oneColumn(t, simple, q)
		if len(got) != 1 || got[0] != want || want == "0" {
			t.Fatalf("%s: analyst %v, direct %s", q, got, want)
		}
	}
	// hash, keyed from the same Vault ring: one pseudonym per value
	cities := oneColumn(t, simple, "SELECT DISTINCT city FROM t.people")
	if len(cities) != 1 || cities[0] == "shanghai" || len(cities[0]) == 0 {
		t.Fatalf("hashed city %v", cities)
	}
	// the same person's token in payroll (char(18)) and people (varchar)
	pt := oneColumn(t, simple, "SELECT DISTINCT r.id_no FROM t.payroll r JOIN t.people p ON p.id_no = r.id_no WHERE p.id = 2")
	if len(pt) != 1 || pt[0] != toks[1] {
		t.Fatalf("payroll token %v, people token %s", pt, toks[1])
	}
	// other classes
	for _, q := range []string{"SELECT mobile FROM t.people WHERE id = 7", "SELECT card FROM t.people WHERE id = 7", "SELECT name FROM t.people WHERE id = 7"} {
		got := oneColumn(t, simple, q)
		var want string
		direct.QueryRow(pgtest.Context(t), q).Scan(&want)
		if len(got) != 1 || got[0] == want || len([]rune(got[0])) != len([]rune(want)) {
			t.Fatalf("%s: %v vs real", q, got)
		}
		if strings.Contains(q, "card") && (got[0][:6] != want[:6] || !masking.ValidLuhn(got[0])) {
			t.Fatalf("card token %s", got[0])
		}
		if strings.Contains(q, "name") && []rune(got[0])[0] != []rune(want)[0] {
			t.Fatalf("surname not kept: %s", got[0])
		}
	}
}

// TestSearchByToken: equality and IN with a token as a literal or a bind
// parameter (text or binary) find the row, over the simple and extended
// protocols; the real value finds nothing; other uses stay refused.
func TestSearchByToken(t *testing.T) {
	_, km := vaultKeys(t)
	addr, db, ids := tokenProxy(t, km, "")
	simple := connectAs(t, addr, db, "analyst", pgx.QueryExecModeSimpleProtocol)
	toks := oneColumn(t, simple, "SELECT id_no FROM t.people ORDER BY id")
	mobiles := oneColumn(t, simple, "SELECT mobile FROM t.people ORDER BY id")
	cards := oneColumn(t, simple, "SELECT card FROM t.people ORDER BY id")

	ctx := pgtest.Context(t)
	cfg, _ := pgconn.ParseConfig("postgres://analyst:" + password + "@" + addr + "/" + db + "?sslmode=disable")
	pc, err := pgconn.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close(context.Background())

	type query struct {
		name   string
		sql    string
		params []string
	}
	ids1 := func(rows [][][]byte) []string {
		var out []string
		for _, r := range rows {
			out = append(out, string(r[0]))
		}
		return out
	}
	run := func(q query, mode string) ([]string, error) {
		switch mode {
		case "simple":
			res, err := pc.Exec(ctx, q.sql).ReadAll()
			if err != nil {
				return nil, err
			}
			return ids1(res[0].Rows), nil
		default:
			params := make([][]byte, len(q.params))
			formats := make([]int16, len(q.params))
			for i, p := range q.params {
				params[i] = []byte(p)
				if mode == "binary" {
					formats[i] = 1
				}
			}
			r := pc.ExecParams(ctx, q.sql, params, nil, formats, nil).Read()
			return ids1(r.Rows), r.Err
		}
	}
	check := func(q query, want []string) {
		t.Helper()
		modes := []string{"simple", "text", "binary"}
		if len(q.params) > 0 {
			modes = modes[1:]
		}
		for _, m := range modes {
			got, err := run(q, m)
			if err != nil || strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("%s (%s): got %v, %v; want %v", q.name, m, got, err, want)
			}
		}
	}
	check(query{"literal", fmt.Sprintf("SELECT id::text FROM t.people WHERE id_no = '%s'", toks[4]), nil}, []string{"5"})
	check(query{"cast literal", fmt.Sprintf("SELECT id::text FROM t.people WHERE id_no = '%s'::varchar", toks[4]), nil}, []string{"5"})
	check(query{"in", fmt.Sprintf("SELECT id::text FROM t.people WHERE id_no IN ('%s', '%s') ORDER BY id::int", toks[9], toks[2]), nil}, []string{"3", "10"})
	check(query{"param", "SELECT id::text FROM t.people WHERE id_no = $1", []string{toks[6]}}, []string{"7"})
	check(query{"param in", "SELECT id::text FROM t.people WHERE id_no IN ($1, $2) ORDER BY id::int", []string{toks[6], toks[7]}}, []string{"7", "8"})
	check(query{"dollar", fmt.Sprintf("SELECT id::text FROM t.people WHERE id_no = $$%s$$", toks[4]), nil}, []string{"5"})
	check(query{"mobile", fmt.Sprintf("SELECT id::text FROM t.people WHERE mobile = '%s'", mobiles[11]), nil}, []string{"12"})
	check(query{"card param", "SELECT id::text FROM t.people WHERE card = $1", []string{cards[20]}}, []string{"21"})
	check(query{"payroll", fmt.Sprintf("SELECT count(*)::text FROM t.payroll WHERE id_no = '%s'", toks[5]), nil}, []string{"2"})
	// a guessed real value finds nothing
	check(query{"real literal", fmt.Sprintf("SELECT id::text FROM t.people WHERE id_no = '%s'", ids[4]), nil}, nil)
	check(query{"real param", "SELECT id::text FROM t.people WHERE id_no = $1", []string{ids[6]}}, nil)
	check(query{"real in", fmt.Sprintf("SELECT id::text FROM t.people WHERE id_no IN ('%s', '%s')", ids[1], ids[2]), nil}, nil)

	// everything else on a tokenized column stays refused
	for _, sql := range []string{
		"SELECT id FROM t.people WHERE id_no LIKE '3101%'",
		"SELECT id FROM t.people WHERE id_no > '3'",
		"SELECT id FROM t.people WHERE substr(id_no, 1, 6) = '310105'",
		"SELECT id FROM t.people WHERE name = '王伟'",
		"SELECT id FROM t.people WHERE id_no = E'" + toks[1] + "'",
		"PREPARE p(text) AS SELECT id FROM t.people WHERE id_no = $1",
	} {
		_, err := pc.Exec(ctx, sql).ReadAll()
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "42501" {
			t.Errorf("%s: want 42501, got %v", sql, err)
		}
	}
	// a parameter that is detokenized may not also reach anywhere else,
	// where its real value would show
	for _, sql := range []string{
		"SELECT $1::text AS v, id FROM t.people WHERE id_no = $1",
		"SELECT id FROM t.people WHERE id_no = $1 AND length($1) > 0",
		"SELECT id FROM t.people WHERE id_no = $1 UNION ALL SELECT 1 WHERE $1 LIKE '3%'",
	} {
		r := pc.ExecParams(ctx, sql, [][]byte{[]byte(toks[3])}, nil, nil, nil).Read()
		var pe *pgconn.PgError
		if !errors.As(r.Err, &pe) || pe.Code != "42501" {
			t.Errorf("%s: want 42501, got %v %q", sql, r.Err, r.Rows)
		}
	}
	// the same parameter twice, both times against tokens, is fine
	r := pc.ExecParams(ctx, "SELECT id::text FROM t.people WHERE id_no = $1 OR id_no IN ($1, $2)", [][]byte{[]byte(toks[3]), []byte(toks[8])}, nil, nil, nil).Read()
	if r.Err != nil || len(r.Rows) != 2 {
		t.Errorf("reused token parameter: %v %q", r.Err, r.Rows)
	}
}

// TestTokenRotation: a new key version in Vault changes the tokens
// without a restart; a policy that pins the version keeps them.
func TestTokenRotation(t *testing.T) {
	v, km := vaultKeys(t)
	addr, db, _ := tokenProxy(t, km, "")
	pinnedAddr, _ := startProxyWith(t, db, writePolicy(t, fmt.Sprintf(tokenPolicy, "keys:\n  tokenize_version: 1")), func(e *resultmask.Engine, _ *proxy.Server) { e.KeyManager = km; e.Keys = nil })
	conn := connectAs(t, addr, db, "analyst", pgx.QueryExecModeSimpleProtocol)
	pinned := connectAs(t, pinnedAddr, db, "analyst", pgx.QueryExecModeSimpleProtocol)
	before := oneColumn(t, conn, "SELECT id_no FROM t.people WHERE id = 3")
	pinnedBefore := oneColumn(t, pinned, "SELECT id_no FROM t.people WHERE id = 3")
	if before[0] != pinnedBefore[0] {
		t.Fatal("version 1 tokens differ between proxies")
	}
	v.PutKV(t, "pgmantle/tokenize", vaulttest.NewKey())
	if err := km.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	after := oneColumn(t, conn, "SELECT id_no FROM t.people WHERE id = 3")
	if after[0] == before[0] || !masking.ValidCNID(after[0]) {
		t.Fatalf("rotation did not change the token: %s -> %s", before[0], after[0])
	}
	if got := oneColumn(t, pinned, "SELECT id_no FROM t.people WHERE id = 3"); got[0] != pinnedBefore[0] {
		t.Fatalf("pinned version changed: %s -> %s", pinnedBefore[0], got[0])
	}
	// new tokens search, old ones no longer do (until detokenized with v1)
	if got := oneColumn(t, conn, fmt.Sprintf("SELECT id::text FROM t.people WHERE id_no = '%s'", after[0])); len(got) != 1 || got[0] != "3" {
		t.Fatalf("search with the new token: %v", got)
	}
	if got := oneColumn(t, conn, fmt.Sprintf("SELECT id::text FROM t.people WHERE id_no = '%s'", before[0])); len(got) != 0 {
		t.Fatalf("search with the old token after rotation: %v", got)
	}
}

func writePolicy(t *testing.T, body string) string {
	t.Helper()
	pf := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(pf, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return pf
}

func checkChar(first17 string) byte {
	c, _ := masking.CNIDCheckChar(first17)
	return c
}

// TestKeysGoneFailClosed: when the key version the policy pins
// disappears (deleted from the key source), a session's statements are
// refused and its results are not served under the keys and rules it had.
func TestKeysGoneFailClosed(t *testing.T) {
	dir := t.TempDir()
	kf := filepath.Join(dir, "keys.yaml")
	if err := keys.InitFile(kf); err != nil {
		t.Fatal(err)
	}
	if _, err := keys.RotateFile(kf, keys.Tokenize); err != nil {
		t.Fatal(err)
	}
	p, err := keys.NewFileProvider(kf, nil)
	if err != nil {
		t.Fatal(err)
	}
	km, err := keys.NewManager(context.Background(), p, nil)
	if err != nil {
		t.Fatal(err)
	}
	addr, db, _ := tokenProxy(t, km, "keys:\n  tokenize_version: 1")
	conn := connectAs(t, addr, db, "analyst", pgx.QueryExecModeSimpleProtocol)
	tok := oneColumn(t, conn, "SELECT id_no FROM t.people WHERE id = 3")
	if len(tok) != 1 {
		t.Fatal("no token")
	}
	// version 1 is removed from the key file
	raw, _ := os.ReadFile(kf)
	var kept []string
	inTokenize := false
	for _, l := range strings.Split(string(raw), "\n") {
		if strings.HasSuffix(l, ":") && !strings.HasPrefix(l, " ") {
			inTokenize = l == "tokenize:"
		}
		if inTokenize && strings.HasPrefix(l, "  1:") {
			continue
		}
		kept = append(kept, l)
	}
	os.WriteFile(kf, []byte(strings.Join(kept, "\n")), 0o600)
	if err := km.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"SELECT id_no FROM t.people WHERE id = 3", "SELECT 1"} {
		_, err := conn.Exec(pgtest.Context(t), q)
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "42501" {
			t.Fatalf("%s after the pinned key version vanished: %v, want 42501", q, err)
		}
	}
	// the extended protocol too: Bind of a token search is refused
	pc := conn.PgConn()
	r := pc.ExecParams(pgtest.Context(t), "SELECT id::text FROM t.people WHERE id_no = $1", [][]byte{[]byte(tok[0])}, nil, nil, nil).Read()
	var pe *pgconn.PgError
	if !errors.As(r.Err, &pe) || pe.Code != "42501" {
		t.Fatalf("token search after the pinned key version vanished: %v %q", r.Err, r.Rows)
	}
}

// TestTokensOfBufferedRowsMatch: a scan of values new to the token cache
// goes through the relay's prefetch (the rows already buffered are
// masked ahead, masking.AheadMasker, their tokens computed eight at a
// time); every token must be the one the tokenizer computes for that
// value on its own, for ID numbers, mobile numbers and cards of several
// lengths side by side in one row, in text and binary results, and
// whatever the rows' batching (NULLs and values of other shapes among
// them).
func TestTokensOfBufferedRowsMatch(t *testing.T) {
	const n = 3000
	data := fmt.Sprintf(`INSERT INTO t.people (id, id_no, mobile, card)
		SELECT g, '3101' || lpad(((g / 200) %% 100)::text, 2, '0')
			|| to_char(date '1960-01-01' + (g %% 20000), 'YYYYMMDD') || lpad((g %% 1000)::text, 3, '0') || (g %% 10)::text,
			(array['', '86', '0086'])[g %% 3 + 1] || '1' || (3 + g %% 7)::text || lpad((g * 7919 %% 1000000000)::text, 9, '0'),
			'622202' || lpad((g * 104729)::text, 6 + g %% 7, '0') || (g %% 10)::text
		FROM generate_series(1, %d) g;
		UPDATE t.people SET id_no = NULL, mobile = NULL WHERE id %% 97 = 0;
		UPDATE t.people SET card = NULL WHERE id %% 89 = 0;
		UPDATE t.people SET id_no = 'not an id number', mobile = '138-1234-5678', card = '6222 0212 3456 7890' WHERE id = 500`, n)
	db := newDatabase(t, tokenSchema, data)
	pf := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(pf, []byte(fmt.Sprintf(tokenPolicy, "")), 0o600); err != nil {
		t.Fatal(err)
	}
	addr, _ := startProxy(t, db, pf)
	direct := pgtest.Connect(t, pgtest.Cluster(t).DSN("postgres", "", db))
	const query = "SELECT id_no, mobile, card FROM t.people ORDER BY id"
	type person struct{ ID, Mobile, Card *string }
	rows, _ := direct.Query(pgtest.Context(t), query)
	real, err := pgx.CollectRows(rows, pgx.RowToStructByPos[person])
	if err != nil {
		t.Fatal(err)
	}
	keys := masking.NewStaticKeys([]byte("0123456789abcdef0123456789abcdef"), nil)
	var tks [3]*masking.Tokenizer
	for c, class := range []string{"cn_id", "cn_mobile", "bank_card"} {
		if tks[c], err = masking.NewTokenizer(class, masking.Options{}, keys); err != nil {
			t.Fatal(err)
		}
	}
	str := func(b []byte) *string {
		if b == nil {
			return nil
		}
		s := string(b)
		return &s
	}
	for _, mode := range []string{"simple protocol", "extended, text results", "extended, binary results"} {
		var got []person
		switch mode {
		case "simple protocol", "extended, text results":
			conn := connectAs(t, addr, db, "analyst", map[bool]pgx.QueryExecMode{true: pgx.QueryExecModeSimpleProtocol, false: pgx.QueryExecModeExec}[mode == "simple protocol"])
			rows, _ := conn.Query(pgtest.Context(t), query)
			if got, err = pgx.CollectRows(rows, pgx.RowToStructByPos[person]); err != nil {
				t.Fatalf("%s: %v", mode, err)
			}
		default:
			// Every column asked for in binary (pgx would ask text for
			// these types): a text type's binary value is its bytes.
			conn := connectAs(t, addr, db, "analyst", pgx.QueryExecModeExec)
			res := conn.PgConn().ExecParams(pgtest.Context(t), query, nil, nil, nil, []int16{1, 1, 1}).Read()
			if res.Err != nil {
				t.Fatalf("%s: %v", mode, res.Err)
			}
			for _, f := range res.FieldDescriptions {
				if f.Format != 1 {
					t.Fatalf("%s: column %s in format %d", mode, f.Name, f.Format)
				}
			}
			for _, r := range res.Rows {
				got = append(got, person{str(r[0]), str(r[1]), str(r[2])})
			}
		}
		if len(got) != n {
			t.Fatalf("mode %v: %d rows", mode, len(got))
		}
		for i, r := range real {
			for c, pair := range [][2]*string{{r.ID, got[i].ID}, {r.Mobile, got[i].Mobile}, {r.Card, got[i].Card}} {
				if (pair[0] == nil) != (pair[1] == nil) {
					t.Fatalf("mode %v row %d column %d: NULL-ness changed", mode, i+1, c)
				}
				if pair[0] == nil {
					continue
				}
				want, err := tks[c].Token(nil, []byte(*pair[0]))
				if err != nil {
					t.Fatal(err)
				}
				if *pair[1] != string(want) {
					t.Fatalf("mode %v row %d column %d: token %q, the tokenizer alone gives %q", mode, i+1, c, *pair[1], want)
				}
			}
		}
	}
}
