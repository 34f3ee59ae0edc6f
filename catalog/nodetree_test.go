package catalog

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// treeFile is one testdata/nodetree file: pg_rewrite.ev_action text
// captured from PostgreSQL 15, with the origins it must yield.
type treeFile struct {
	name string
	tree string
	want []viewOrigin
}

// readTreeFiles reads testdata/nodetree/*.txt. Each file starts with "-- "
// lines: what the view is, its CREATE statement, and "-- want: " followed by
// one TABLEOID.ATTNUM per view column (0.0 for no origin); the tree
// follows.
func readTreeFiles(tb testing.TB) []treeFile {
	tb.Helper()
	paths, err := filepath.Glob("testdata/nodetree/*.txt")
	if err != nil || len(paths) == 0 {
		tb.Fatalf("no tree files: %v", err)
	}
	var files []treeFile
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			tb.Fatal(err)
		}
		f := treeFile{name: filepath.Base(path)}
		var tree []string
		for line := range strings.Lines(string(data)) {
			line = strings.TrimSuffix(line, "\n")
			if want, ok := strings.CutPrefix(line, "-- want:"); ok {
				for _, w := range strings.Fields(want) {
					var o viewOrigin
					if _, err := fmt.Sscanf(w, "%d.%d", &o.tbl, &o.col); err != nil {
						tb.Fatalf("%s: bad want %q", path, w)
					}
					f.want = append(f.want, o)
				}
				continue
			}
			if !strings.HasPrefix(line, "-- ") {
				tree = append(tree, line)
			}
		}
		f.tree = strings.Join(tree, "\n")
		files = append(files, f)
	}
	return files
}

// TestParseViewOriginsPG15 parses real view trees.
func TestParseViewOriginsPG15(t *testing.T) {
	for _, f := range readTreeFiles(t) {
		got, err := parseViewOrigins(f.tree)
		if err != nil {
			t.Errorf("%s: %v", f.name, err)
			continue
		}
		if !slices.Equal(got, f.want) {
			t.Errorf("%s: origins %v, want %v", f.name, got, f.want)
		}
	}
}

// TestParseViewOriginsTruncated: no proper prefix of a real tree parses.
func TestParseViewOriginsTruncated(t *testing.T) {
	for _, f := range readTreeFiles(t) {
		tree := strings.TrimRight(f.tree, "\n ")
		for i := range len(tree) {
			if _, err := parseViewOrigins(tree[:i]); err == nil {
				t.Errorf("%s: prefix of %d bytes parsed", f.name, i)
				break
			}
		}
	}
}

func TestParseViewOrigins(t *testing.T) {
	const te = `{TARGETENTRY :expr {VAR :varno 1 :varattno 2} :resno %d :resname %s :ressortgroupref 0 :resorigtbl %s :resorigcol %s :resjunk %s}`
	entry := func(resno int, name, tbl, col, junk string) string {
		return fmt.Sprintf(te, resno, name, tbl, col, junk)
	}
	query := func(entries ...string) string {
		return `({QUERY :commandType 1 :rtable ({RANGETBLENTRY :eref {ALIAS :aliasname t :colnames ("a\ b" "c")}}) :targetList (` +
			strings.Join(entries, " ") + `) :sortClause <> :stmt_len 0})`
	}
	ok := []struct {
		name string
		tree string
		want []viewOrigin
	}{
		{"one", query(entry(1, "a", "16384", "2", "false")), []viewOrigin{{16384, 2}}},
		{"expression", query(entry(1, "a", "0", "0", "false")), []viewOrigin{{}}},
		{"junk skipped", query(entry(1, "a", "5", "1", "false"), entry(2, "<>", "5", "2", "true")), []viewOrigin{{5, 1}}},
		{"field-like name", query(entry(1, ":resorigtbl", "7", "3", "false"), entry(2, ":resno", "8", "4", "false")), []viewOrigin{{7, 3}, {8, 4}}},
		{"escaped name", query(entry(1, `a\ \(b\)\ \{c\}\\`, "7", "3", "false")), []viewOrigin{{7, 3}}},
		{"whole row", query(entry(1, "t", "7", "0", "false")), []viewOrigin{{}}},
		{"system column", query(entry(1, "ctid", "7", "-1", "false")), []viewOrigin{{}}},
		{"no columns", `({QUERY :commandType 1 :targetList <> :stmt_len 0})`, nil},
		{"whitespace", "(\n{QUERY\t:targetList\n(" + entry(1, "a", "9", "9", "false") + ")\n}\n)\n", []viewOrigin{{9, 9}}},
		{"max oid", query(entry(1, "a", "4294967295", "1600", "false")), []viewOrigin{{4294967295, 1600}}},
		// A nested query's targetList is not the view's.
		{"nested query", `({QUERY :cteList ({COMMONTABLEEXPR :ctequery {QUERY :targetList (` + entry(1, "x", "1", "1", "false") +
			`)}}) :targetList (` + entry(1, "y", "2", "2", "false") + `)})`, []viewOrigin{{2, 2}}},
		{"const bytes", `({QUERY :jointree {FROMEXPR :quals {CONST :constvalue 4 [ 1 0 0 0 0 0 0 0 ]}} :targetList (` +
			entry(1, "a", "3", "1", "false") + `)})`, []viewOrigin{{3, 1}}},
	}
	for _, c := range ok {
		got, err := parseViewOrigins(c.tree)
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("%s: %v, %v; want %v", c.name, got, err, c.want)
		}
	}

	const secret = "S3cretConst"
	bad := []struct{ name, tree string }{
		{"empty", ""},
		{"not a list", `{QUERY :targetList <>}`},
		{"not a query", `({INSERTSTMT :targetList <>})`},
		{"two actions", `({QUERY :targetList <>} {QUERY :targetList <>})`},
		{"no targetList", `({QUERY :commandType 1})`},
		{"two targetLists", `({QUERY :targetList <> :targetList <>})`},
		{"trailing text", `({QUERY :targetList <>}) x`},
		{"unbalanced", `({QUERY :rtable ({RANGETBLENTRY ) :targetList <>})`},
		{"value missing", `({QUERY :rtable})`},
		{"not a field", `({QUERY commandType 1 :targetList <>})`},
		{"targetList not a list", `({QUERY :targetList {TARGETENTRY}})`},
		{"element not a node", `({QUERY :targetList (1 2)})`},
		{"element not a TargetEntry", `({QUERY :targetList ({VAR :varno 1})})`},
		{"resno gap", query(entry(2, "a", "1", "1", "false"))},
		{"resno repeated", query(entry(1, "a", "1", "1", "false"), entry(1, "b", "1", "1", "false"))},
		{"bad resno", query(entry(0, "a", "1", "1", "false"))},
		{"bad oid", query(entry(1, "a", "-5", "1", "false"))},
		{"oid overflow", query(entry(1, "a", "4294967296", "1", "false"))},
		{"bad attnum", query(entry(1, "a", "1", "x", "false"))},
		{"bad resjunk", query(entry(1, "a", "1", "1", "maybe"))},
		{"missing resorigcol", `({QUERY :targetList ({TARGETENTRY :resno 1 :resorigtbl 1 :resjunk false})})`},
		{"constant in error", `({QUERY :jointree {CONST :constvalue ` + secret + `} :targetList ({TARGETENTRY :resno 1 :resorigtbl ` + secret + ` :resorigcol 1 :resjunk false})})`},
		{"too deep", `({QUERY :rtable ` + strings.Repeat("(", maxTreeDepth+1) + strings.Repeat(")", maxTreeDepth+1) + ` :targetList <>})`},
	}
	for _, c := range bad {
		got, err := parseViewOrigins(c.tree)
		if err == nil {
			t.Errorf("%s: parsed as %v", c.name, got)
			continue
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("%s: error quotes the tree: %v", c.name, err)
		}
	}
}

// FuzzParseViewOrigins: the parser never panics, and what it returns is
// well-formed.
func FuzzParseViewOrigins(f *testing.F) {
	for _, tf := range readTreeFiles(f) {
		f.Add(tf.tree)
	}
	f.Add(`({QUERY :targetList ({TARGETENTRY :resno 1 :resorigtbl 1 :resorigcol 1 :resjunk false})})`)
	f.Fuzz(func(t *testing.T, tree string) {
		origins, err := parseViewOrigins(tree)
		if err != nil {
			return
		}
		if n := strings.Count(tree, "TARGETENTRY"); len(origins) > n {
			t.Fatalf("%d origins from %d target entries", len(origins), n)
		}
		for _, o := range origins {
			if (o.tbl == 0) != (o.col == 0) || o.col < 0 {
				t.Fatalf("malformed origin %v", o)
			}
		}
	})
}
