package catalog_test

import (
	"cmp"
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/pgmantle/pgmantle/catalog"
	"github.com/pgmantle/pgmantle/internal/pgcluster"
	"github.com/pgmantle/pgmantle/internal/pgtest"
)

// TestLoadTables checks relations, columns (types, typmods, dropped-column
// gaps, quoted names) and the relation kinds a snapshot holds.
func TestLoadTables(t *testing.T) {
	t.Parallel()
	db := newDB(t, `
CREATE DOMAIN cn_id AS varchar(18);
CREATE TABLE customers (
	id serial PRIMARY KEY,
	gone int,
	name text NOT NULL,
	id_no cn_id,
	mobile varchar(11),
	balance numeric(12,2),
	tags text[]
);
ALTER TABLE customers DROP COLUMN gone;
CREATE SCHEMA "Sales Dept";
CREATE TABLE "Sales Dept"."Order.Lines" ("Line No" int, "ID_NO" text);
CREATE TYPE addr AS (city text, street text);
CREATE SEQUENCE invoice_no;
CREATE FOREIGN DATA WRAPPER dummy_fdw;
CREATE SERVER dummy_srv FOREIGN DATA WRAPPER dummy_fdw;
CREATE FOREIGN TABLE remote_people (id int, id_no text) SERVER dummy_srv;
CREATE INDEX customers_name ON customers (name);
`)
	s := load(t, db)
	conn := superConn(t, db)

	if s.Database != db || s.LoadedAt.IsZero() {
		t.Errorf("Database %q LoadedAt %v", s.Database, s.LoadedAt)
	}
	r := s.RelationByName("public", "customers")
	if r == nil {
		t.Fatal("public.customers missing")
	}
	if r.OID != relOID(t, conn, "public.customers") || r.Kind != catalog.KindTable || r.Parent != 0 {
		t.Errorf("customers: %+v", r)
	}
	if s.Relation(r.OID) != r {
		t.Error("Relation(oid) is not RelationByName")
	}
	want := []catalog.Column{
		{Name: "id", Num: 1, TypeOID: 23, TypeMod: -1, TypeName: "integer"},
		{Name: "name", Num: 3, TypeOID: 25, TypeMod: -1, TypeName: "text"},
		{Name: "id_no", Num: 4, TypeName: "public.cn_id", TypeMod: -1},
		{Name: "mobile", Num: 5, TypeOID: 1043, TypeMod: 15, TypeName: "character varying(11)"},
		{Name: "balance", Num: 6, TypeOID: 1700, TypeMod: (12<<16 | 2) + 4, TypeName: "numeric(12,2)"},
		{Name: "tags", Num: 7, TypeOID: 1009, TypeMod: -1, TypeName: "text[]"},
	}
	var domainOID uint32
	if err := conn.QueryRow(pgtest.Context(t), "SELECT 'cn_id'::regtype::oid").Scan(&domainOID); err != nil {
		t.Fatal(err)
	}
	want[2].TypeOID = domainOID
	if !reflect.DeepEqual(r.Columns, want) {
		t.Errorf("columns:\n got %+v\nwant %+v", r.Columns, want)
	}

	// Origin of a table's own columns, and the cases without one.
	if got := originOf(t, s, "public", "customers", "id_no"); got != "public.customers.id_no" {
		t.Errorf("origin of customers.id_no = %q", got)
	}
	ref, col, ok := s.Origin(r.OID, 4)
	if !ok || ref != (catalog.ColumnRef{Schema: "public", Table: "customers", Column: "id_no"}) || !reflect.DeepEqual(col, want[2]) {
		t.Errorf("Origin(customers, 4) = %v %+v %v", ref, col, ok)
	}
	for _, c := range []struct {
		oid    uint32
		attnum int16
	}{
		{r.OID, 0},  // whole row
		{r.OID, -1}, // ctid
		{r.OID, 2},  // dropped
		{r.OID, 99}, // no such column
		{0, 1},      // expression
		{4294967295, 1},
		{relOID(t, conn, "customers_name"), 1}, // an index is not loaded
	} {
		if _, _, ok := s.Origin(c.oid, c.attnum); ok {
			t.Errorf("Origin(%d, %d) is known", c.oid, c.attnum)
		}
	}

	// Quoted names are stored as written.
	q := s.RelationByName("Sales Dept", "Order.Lines")
	if q == nil || len(q.Columns) != 2 || q.Columns[0].Name != "Line No" {
		t.Fatalf("quoted relation: %+v", q)
	}
	if got := originOf(t, s, "Sales Dept", "Order.Lines", "ID_NO"); got != "Sales Dept.Order.Lines.ID_NO" {
		t.Errorf("quoted origin %q", got)
	}
	if s.RelationByName("sales dept", "order.lines") != nil {
		t.Error("RelationByName folded case")
	}

	// Relations lists everything, sorted.
	all := s.Relations()
	if !slices.IsSortedFunc(all, func(a, b *catalog.Relation) int {
		return strings.Compare(a.Schema+"\x00"+a.Name, b.Schema+"\x00"+b.Name)
	}) || !slices.Contains(all, r) || !slices.Contains(all, q) {
		t.Errorf("Relations: %d, unsorted or incomplete", len(all))
	}

	// Other kinds.
	for _, k := range []struct {
		name string
		kind byte
		base bool
	}{
		{"addr", catalog.KindComposite, false},
		{"invoice_no", catalog.KindSequence, true},
		{"remote_people", catalog.KindForeign, true},
		{"customers_id_seq", catalog.KindSequence, true},
	} {
		r := s.RelationByName("public", k.name)
		if r == nil || r.Kind != k.kind || len(r.Columns) == 0 {
			t.Errorf("%s: %+v", k.name, r)
			continue
		}
		if _, _, ok := s.Origin(r.OID, 1); ok != k.base {
			t.Errorf("%s: Origin known = %v, want %v", k.name, ok, k.base)
		}
	}
	if s.RelationByName("public", "customers_name") != nil {
		t.Error("index loaded")
	}
	// System catalogs are there too, for the analyzer.
	if r := s.RelationByName("pg_catalog", "pg_class"); r == nil || r.Kind != catalog.KindTable {
		t.Error("pg_catalog.pg_class missing")
	}
	if r := s.RelationByName("pg_catalog", "pg_stats"); r == nil || r.Kind != catalog.KindView {
		t.Error("pg_catalog.pg_stats missing")
	}

	// What a real RowDescription reports resolves the same way.
	got := resultOrigins(t, conn, s, `SELECT c.id, c.name AS n, upper(c.name), c.id_no, c, c.ctid, 1 FROM customers c`)
	wantOrigins := []string{"public.customers.id", "public.customers.name", "", "public.customers.id_no", "", "", ""}
	if !slices.Equal(got, wantOrigins) {
		t.Errorf("result origins\n got %q\nwant %q", got, wantOrigins)
	}
	if s.Warnings() != nil {
		t.Errorf("warnings: %q", s.Warnings())
	}
}

// TestLoadTemporaryRelationsSkipped: another session's temporary table is
// not in the snapshot.
func TestLoadTemporaryRelationsSkipped(t *testing.T) {
	t.Parallel()
	db := newDB(t, `CREATE TABLE keep (a int)`)
	other := superConn(t, db)
	if _, err := other.Exec(pgtest.Context(t), `CREATE TEMP TABLE scratch (a int); CREATE TEMP VIEW scratch_v AS SELECT a FROM scratch`); err != nil {
		t.Fatal(err)
	}
	s := load(t, db)
	if s.RelationByName("public", "keep") == nil {
		t.Fatal("keep missing")
	}
	if oid := relOID(t, other, "scratch"); s.Relation(oid) != nil {
		t.Error("temporary table loaded")
	}
}

// TestLoadPartitions: partitions resolve to the partitioned table's column
// by name, also when their attnums differ (dropped column in the parent,
// ATTACH of a table with another column order, a dropped column in the
// partition, sub-partitioning).
func TestLoadPartitions(t *testing.T) {
	t.Parallel()
	db := newDB(t, `
CREATE TABLE orders (id int, gone int, id_no text, amount numeric, created date NOT NULL)
	PARTITION BY RANGE (created);
ALTER TABLE orders DROP COLUMN gone;
CREATE TABLE orders_2023 PARTITION OF orders FOR VALUES FROM ('2023-01-01') TO ('2024-01-01');
CREATE TABLE orders_2024 (created date NOT NULL, x int, amount numeric, id_no text, id int);
ALTER TABLE orders_2024 DROP COLUMN x;
ALTER TABLE orders ATTACH PARTITION orders_2024 FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE orders_2025 PARTITION OF orders FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')
	PARTITION BY LIST (id_no);
CREATE TABLE orders_2025_a (amount numeric, id int, created date NOT NULL, id_no text);
ALTER TABLE orders_2025 ATTACH PARTITION orders_2025_a FOR VALUES IN ('a');
CREATE TABLE orders_2025_rest PARTITION OF orders_2025 DEFAULT;
INSERT INTO orders VALUES (1, '310101199001011234', 10, '2024-05-01');
`)
	s := load(t, db)
	conn := superConn(t, db)
	parent := s.RelationByName("public", "orders")
	if parent == nil || parent.Kind != catalog.KindPartitioned || parent.Parent != 0 {
		t.Fatalf("orders: %+v", parent)
	}
	mid := s.RelationByName("public", "orders_2025")
	if mid == nil || mid.Kind != catalog.KindPartitioned || mid.Parent != parent.OID {
		t.Fatalf("orders_2025: %+v", mid)
	}
	parentNum := map[string]int16{}
	for _, c := range parent.Columns {
		parentNum[c.Name] = c.Num
	}
	differ := 0
	for _, part := range []string{"orders_2023", "orders_2024", "orders_2025", "orders_2025_a", "orders_2025_rest"} {
		r := s.RelationByName("public", part)
		if r == nil || len(r.Columns) != 4 {
			t.Fatalf("%s: %+v", part, r)
		}
		wantParent := parent.OID
		if strings.HasPrefix(part, "orders_2025_") {
			wantParent = mid.OID
		}
		if r.Parent != wantParent {
			t.Errorf("%s: Parent %d, want %d", part, r.Parent, wantParent)
		}
		for _, c := range r.Columns {
			if c.Num != parentNum[c.Name] {
				differ++
			}
			ref, col, ok := s.Origin(r.OID, c.Num)
			want := catalog.ColumnRef{Schema: "public", Table: "orders", Column: c.Name}
			if !ok || ref != want || col.Num != parentNum[c.Name] {
				t.Errorf("Origin(%s.%s) = %v %+v %v, want %v (attnum %d)", part, c.Name, ref, col, ok, want, parentNum[c.Name])
			}
		}
		// Partition columns are not base columns.
		if _, ok := s.Column(catalog.ColumnRef{Schema: "public", Table: part, Column: "id_no"}); ok {
			t.Errorf("Column(%s.id_no) is a base column", part)
		}
	}
	if differ < 8 {
		t.Fatalf("test premise: only %d partition columns have attnums differing from the parent", differ)
	}
	if c, ok := s.Column(catalog.ColumnRef{Schema: "public", Table: "orders", Column: "id_no"}); !ok || c.Num != 3 {
		t.Errorf("Column(orders.id_no) = %+v %v", c, ok)
	}
	// Every partition, sub-partitions included, parents first.
	var desc []string
	for _, r := range s.Descendants(parent.OID) {
		desc = append(desc, r.Name)
	}
	slices.Sort(desc[:3])
	if want := []string{"orders_2023", "orders_2024", "orders_2025", "orders_2025_a", "orders_2025_rest"}; len(desc) != 5 || !slices.Equal(desc[:3], want[:3]) || !slices.Contains(desc[3:], "orders_2025_a") || !slices.Contains(desc[3:], "orders_2025_rest") {
		t.Errorf("Descendants(orders) = %q, want %q (sub-partitions after their parent)", desc, want)
	}
	if d := s.Descendants(s.RelationByName("public", "orders_2023").OID); len(d) != 0 {
		t.Errorf("Descendants(orders_2023) = %v, want none", d)
	}

	// What the server reports when a partition is queried directly.
	got := resultOrigins(t, conn, s, `SELECT id_no, id, created FROM orders_2024`)
	want := []string{"public.orders.id_no", "public.orders.id", "public.orders.created"}
	if !slices.Equal(got, want) {
		t.Errorf("orders_2024 result origins %q, want %q", got, want)
	}
	got = resultOrigins(t, conn, s, `SELECT * FROM orders_2025_a`)
	want = []string{"public.orders.amount", "public.orders.id", "public.orders.created", "public.orders.id_no"}
	if !slices.Equal(got, want) {
		t.Errorf("orders_2025_a result origins %q, want %q", got, want)
	}
}

// TestLoadInheritance: inheritance children resolve inherited columns to
// the topmost ancestor by name; their own columns are base columns. With
// multiple inheritance, a column only one parent has goes to it; a column
// several parents have has no origin.
func TestLoadInheritance(t *testing.T) {
	t.Parallel()
	db := newDB(t, `
CREATE TABLE person (id int, gone int, name text, id_no text);
ALTER TABLE person DROP COLUMN gone;
CREATE TABLE employee (salary numeric) INHERITS (person);
CREATE TABLE manager (reports int) INHERITS (employee);
CREATE TABLE contact (mobile text, name text);
CREATE TABLE vendor_rep (company text) INHERITS (person, contact);
`)
	s := load(t, db)
	person := s.RelationByName("public", "person")
	employee := s.RelationByName("public", "employee")
	manager := s.RelationByName("public", "manager")
	rep := s.RelationByName("public", "vendor_rep")
	if employee.Parent != person.OID || manager.Parent != employee.OID || rep.Parent != person.OID || person.Parent != 0 {
		t.Errorf("parents: employee %d manager %d vendor_rep %d person %d", employee.Parent, manager.Parent, rep.Parent, person.Parent)
	}
	for _, c := range []struct{ rel, col, want string }{
		{"employee", "id_no", "public.person.id_no"},
		{"employee", "salary", "public.employee.salary"},
		{"manager", "id_no", "public.person.id_no"},
		{"manager", "name", "public.person.name"},
		{"manager", "salary", "public.employee.salary"},
		{"manager", "reports", "public.manager.reports"},
		{"vendor_rep", "id_no", "public.person.id_no"},
		{"vendor_rep", "name", ""}, // in both parents: ambiguous, no origin (callers fail closed)
		{"vendor_rep", "mobile", "public.contact.mobile"},
		{"vendor_rep", "company", "public.vendor_rep.company"},
	} {
		if got := originOf(t, s, "public", c.rel, c.col); got != c.want {
			t.Errorf("origin of %s.%s = %q, want %q", c.rel, c.col, got, c.want)
		}
	}
	got := s.Columns("public", "*", "*")
	var names []string
	for _, r := range got {
		names = append(names, r.String())
	}
	want := []string{
		"public.contact.mobile", "public.contact.name",
		"public.employee.salary",
		"public.manager.reports",
		"public.person.id", "public.person.name", "public.person.id_no",
		"public.vendor_rep.company",
	}
	if !slices.Equal(names, want) {
		t.Errorf("base columns\n got %q\nwant %q", names, want)
	}
}

// viewCase is one view and the expected origin of each of its columns.
type viewCase struct {
	name, def string
	want      []string // "" = unknown
}

// TestLoadViews checks view column lineage against a real server: plain,
// renamed, expression, join, nested, UNION, WITH and other shapes. Every
// case is checked twice: through the view's own columns, and through the
// RowDescription of SELECT * FROM the view.
func TestLoadViews(t *testing.T) {
	t.Parallel()
	db := newDB(t, `
CREATE TABLE customers (id int PRIMARY KEY, gone int, name text, id_no text, mobile text);
ALTER TABLE customers DROP COLUMN gone;
CREATE TABLE accounts (id int, customer_id int, card_no text);
CREATE TABLE orders (id int, id_no text, created date NOT NULL) PARTITION BY RANGE (created);
CREATE TABLE orders_2024 (created date NOT NULL, id_no text, id int);
ALTER TABLE orders ATTACH PARTITION orders_2024 FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
`)
	const (
		cid    = "public.customers.id"
		cname  = "public.customers.name"
		cidno  = "public.customers.id_no"
		cmob   = "public.customers.mobile"
		acard  = "public.accounts.card_no"
		oidno  = "public.orders.id_no"
		unknwn = ""
	)
	cases := []viewCase{
		{"v_plain", `SELECT id, name, id_no, mobile FROM customers`, []string{cid, cname, cidno, cmob}},
		{"v_star", `SELECT * FROM customers`, []string{cid, cname, cidno, cmob}},
		{"v_renamed", `SELECT id_no AS ident, name AS "Full Name" FROM customers c`, []string{cidno, cname}},
		{"v_collist", `SELECT id, id_no FROM customers`, []string{cid, cidno}}, // renamed by a column list below
		{"v_expr", `SELECT id + 0 AS id, upper(name) AS name, id_no || '' AS id_no, substr(mobile, 1, 3) AS m, 'x'::text AS k, id_no::varchar AS cast_no FROM customers`,
			[]string{unknwn, unknwn, unknwn, unknwn, unknwn, unknwn}},
		{"v_join", `SELECT c.id_no, a.card_no, a.id, c.name FROM customers c JOIN accounts a ON a.customer_id = c.id`, []string{cidno, acard, "public.accounts.id", cname}},
		{"v_using", `SELECT id, c.id_no FROM customers c JOIN accounts a USING (id)`, []string{cid, cidno}},
		{"v_full_using", `SELECT id FROM customers c FULL JOIN accounts a USING (id)`, []string{unknwn}},
		{"v_left", `SELECT a.card_no, c.id_no FROM accounts a LEFT JOIN customers c ON c.id = a.customer_id`, []string{acard, cidno}},
		{"v_nested", `SELECT ident AS again, "Full Name" FROM v_renamed`, []string{cidno, cname}},
		{"v_nested2", `SELECT again, upper(again) AS up FROM v_nested`, []string{cidno, unknwn}},
		{"v_nested_expr", `SELECT id_no FROM v_expr`, []string{unknwn}},
		{"v_union", `SELECT id_no FROM customers UNION SELECT card_no FROM accounts`, []string{unknwn}},
		{"v_union_all_same", `SELECT id_no FROM customers UNION ALL SELECT id_no FROM customers`, []string{unknwn}},
		{"v_with", `WITH c AS (SELECT id_no, name FROM customers) SELECT id_no, name FROM c`, []string{cidno, cname}},
		{"v_with_expr", `WITH c AS (SELECT lower(id_no) AS l FROM customers) SELECT l FROM c`, []string{unknwn}},
		{"v_recursive", `WITH RECURSIVE r(n, id_no) AS (SELECT 1, id_no FROM customers UNION ALL SELECT n + 1, id_no FROM r WHERE n < 2) SELECT id_no FROM r`, []string{unknwn}},
		{"v_subquery", `SELECT s.x FROM (SELECT id_no AS x FROM customers) s`, []string{cidno}},
		{"v_lateral", `SELECT c.id, l.card_no FROM customers c, LATERAL (SELECT card_no FROM accounts a WHERE a.customer_id = c.id) l`, []string{cid, acard}},
		{"v_scalar_sub", `SELECT (SELECT id_no FROM customers LIMIT 1) AS x`, []string{unknwn}},
		{"v_agg", `SELECT name, count(*) AS n, max(id_no) AS m FROM customers GROUP BY name`, []string{cname, unknwn, unknwn}},
		{"v_distinct", `SELECT DISTINCT id_no FROM customers`, []string{cidno}},
		{"v_window", `SELECT id_no, row_number() OVER (ORDER BY id) AS rn FROM customers`, []string{cidno, unknwn}},
		{"v_order_junk", `SELECT id_no FROM customers ORDER BY mobile, name`, []string{cidno}},
		{"v_wholerow", `SELECT c AS whole, c.id_no FROM customers c`, []string{unknwn, cidno}},
		{"v_syscol", `SELECT ctid AS t, xmin AS x, id FROM customers`, []string{unknwn, unknwn, cid}},
		{"v_partitioned", `SELECT id_no FROM orders`, []string{oidno}},
		{"v_partition", `SELECT id_no, id FROM orders_2024`, []string{oidno, "public.orders.id"}},
		{"v_func", `SELECT g AS g FROM generate_series(1, 2) g`, []string{unknwn}},
		{"v_values", `SELECT * FROM (VALUES (1, 'a')) v(a, b)`, []string{unknwn, unknwn}},
		{"v_case", `SELECT CASE WHEN id > 0 THEN id_no END AS x, COALESCE(id_no, name) AS y FROM customers`, []string{unknwn, unknwn}},
		{"v_strange", `SELECT id_no AS ":resorigtbl", name AS "a (b) {c} \ d", mobile AS "<>" FROM customers WHERE name <> 'it''s (x) {y} \ z :resorigtbl 1'`, []string{cidno, cname, cmob}},
	}
	var ddl strings.Builder
	for _, c := range cases {
		if c.name == "v_collist" {
			ddl.WriteString("CREATE VIEW v_collist (k, secret) AS " + c.def + ";\n")
			continue
		}
		ddl.WriteString("CREATE VIEW " + c.name + " AS " + c.def + ";\n")
	}
	ddl.WriteString("CREATE VIEW v_barrier WITH (security_barrier) AS SELECT id_no FROM customers WHERE id > 0;\n")
	cases = append(cases, viewCase{"v_barrier", "", []string{cidno}})
	execIn(t, db, ddl.String())

	s := load(t, db)
	conn := superConn(t, db)
	if w := s.Warnings(); len(w) != 0 {
		t.Errorf("warnings: %q", w)
	}
	for _, c := range cases {
		r := s.RelationByName("public", c.name)
		if r == nil || r.Kind != catalog.KindView {
			t.Errorf("%s: %+v", c.name, r)
			continue
		}
		var got []string
		for _, col := range r.Columns {
			got = append(got, originString(s, r.OID, col.Num))
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: origins %q, want %q", c.name, got, c.want)
		}
		viaRowDesc := resultOrigins(t, conn, s, "SELECT * FROM "+c.name)
		if !slices.Equal(viaRowDesc, c.want) {
			t.Errorf("%s: RowDescription origins %q, want %q", c.name, viaRowDesc, c.want)
		}
	}
	// The base column a view column resolves to carries the base type.
	r := s.RelationByName("public", "v_renamed")
	ref, col, ok := s.Origin(r.OID, 1)
	if !ok || ref.String() != cidno || col.Num != 4 || col.Name != "id_no" {
		t.Errorf("Origin(v_renamed.ident) = %v %+v %v", ref, col, ok)
	}
	// Views are not base columns.
	if _, ok := s.Column(catalog.ColumnRef{Schema: "public", Table: "v_plain", Column: "id_no"}); ok {
		t.Error("a view column is a base column")
	}
	if got := s.Columns("public", "v_*", "*"); got != nil {
		t.Errorf("Columns over views: %v", got)
	}

	// A query on a view, as a client would send it: aliases and subqueries
	// keep the view's (OID, attnum), which Origin follows.
	got := resultOrigins(t, conn, s, `SELECT x.again AS a, x."Full Name", length(x.again) FROM (SELECT * FROM v_nested) x`)
	if want := []string{cidno, cname, ""}; !slices.Equal(got, want) {
		t.Errorf("query over nested view: %q, want %q", got, want)
	}
}

// TestLoadMatViews: materialized views resolve like views.
func TestLoadMatViews(t *testing.T) {
	t.Parallel()
	db := newDB(t, `
CREATE TABLE customers (id int, name text, id_no text);
CREATE VIEW v AS SELECT id_no AS ident, id FROM customers;
CREATE MATERIALIZED VIEW mv AS SELECT id, id_no, length(name) AS name_len FROM customers;
CREATE MATERIALIZED VIEW mv_over_view AS SELECT ident FROM v WITH NO DATA;
CREATE MATERIALIZED VIEW mv_union AS SELECT id_no FROM customers UNION SELECT name FROM customers;
CREATE VIEW v_over_mv AS SELECT id_no FROM mv;
`)
	s := load(t, db)
	conn := superConn(t, db)
	for _, c := range []viewCase{
		{"mv", "", []string{"public.customers.id", "public.customers.id_no", ""}},
		{"mv_over_view", "", []string{"public.customers.id_no"}},
		{"mv_union", "", []string{""}},
		{"v_over_mv", "", []string{"public.customers.id_no"}},
	} {
		r := s.RelationByName("public", c.name)
		if r == nil {
			t.Fatalf("%s missing", c.name)
		}
		var got []string
		for _, col := range r.Columns {
			got = append(got, originString(s, r.OID, col.Num))
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: origins %q, want %q", c.name, got, c.want)
		}
		if c.name == "mv_over_view" {
			continue // not populated: cannot be queried
		}
		if got := resultOrigins(t, conn, s, "SELECT * FROM "+c.name); !slices.Equal(got, c.want) {
			t.Errorf("%s: RowDescription origins %q, want %q", c.name, got, c.want)
		}
	}
	if r := s.RelationByName("public", "mv"); r.Kind != catalog.KindMatView {
		t.Errorf("mv kind %c", r.Kind)
	}
}

// TestLoadUnprivilegedRole: the catalog role needs no privilege on any user
// table (so Load cannot be reading them), and when pg_rewrite is revoked
// from it, views lose their lineage — reported, not fatal — while the rest
// of the snapshot is complete.
func TestLoadUnprivilegedRole(t *testing.T) {
	t.Parallel()
	c := pgtest.Cluster(t)
	ctx := pgtest.Context(t)
	db := newDB(t, `
CREATE TABLE customers (id int, id_no text);
INSERT INTO customers VALUES (1, '310101199001011234');
REVOKE ALL ON customers FROM PUBLIC;
CREATE VIEW v AS SELECT id_no FROM customers;
CREATE TABLE child (extra int) INHERITS (customers);
`)
	role := unique("catalog_unpriv")
	if err := c.CreateRole(ctx, role, "s3cret-unpriv", pgcluster.AuthSCRAM); err != nil {
		t.Fatal(err)
	}
	conn := pgtest.Connect(t, c.DSN(role, "s3cret-unpriv", db))
	if _, err := conn.Exec(ctx, "SELECT id_no FROM customers"); err == nil {
		t.Fatal("test premise: the role can read customers")
	}
	s, err := catalog.Load(ctx, conn, db)
	if err != nil {
		t.Fatal(err)
	}
	if got := originOf(t, s, "public", "v", "id_no"); got != "public.customers.id_no" {
		t.Errorf("view origin as unprivileged role: %q", got)
	}
	if len(s.Warnings()) != 0 {
		t.Errorf("warnings: %q", s.Warnings())
	}

	execIn(t, db, `REVOKE SELECT ON pg_catalog.pg_rewrite FROM PUBLIC`)
	s, err = catalog.Load(ctx, conn, db)
	if err != nil {
		t.Fatal(err)
	}
	if got := originOf(t, s, "public", "v", "id_no"); got != "" {
		t.Errorf("view origin without pg_rewrite: %q, want unknown", got)
	}
	if got := originOf(t, s, "public", "child", "id_no"); got != "public.customers.id_no" {
		t.Errorf("child origin without pg_rewrite: %q", got)
	}
	if _, ok := s.Role(role); !ok || len(s.Function("pg_catalog", "now")) == 0 {
		t.Error("roles or functions missing after the pg_rewrite fallback")
	}
	w := s.Warnings()
	if len(w) != 1 || !strings.Contains(w[0], "pg_rewrite") {
		t.Errorf("warnings: %q", w)
	}
	// The superuser still sees the lineage: the fallback is per role.
	if got := originOf(t, load(t, db), "public", "v", "id_no"); got != "public.customers.id_no" {
		t.Errorf("superuser view origin: %q", got)
	}
}

// TestLoadDatabaseName: Load refuses to file a snapshot under another
// database's name; an empty name means the connection's database.
func TestLoadDatabaseName(t *testing.T) {
	t.Parallel()
	db := newDB(t, `CREATE TABLE a (x int)`)
	conn := superConn(t, db)
	ctx := pgtest.Context(t)
	if _, err := catalog.Load(ctx, conn, "postgres"); err == nil || !strings.Contains(err.Error(), db) {
		t.Errorf("Load with the wrong database: %v", err)
	}
	s, err := catalog.Load(ctx, conn, "")
	if err != nil || s.Database != db || s.RelationByName("public", "a") == nil {
		t.Errorf("Load with an empty name: %v", err)
	}
	// The connection is usable afterwards and not left in a transaction.
	if conn.PgConn().TxStatus() != 'I' {
		t.Errorf("transaction status %c after Load", conn.PgConn().TxStatus())
	}
	// A connection already in a transaction is refused, not corrupted.
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.Background())
	if _, err := catalog.Load(ctx, conn, db); err == nil {
		t.Error("Load inside a transaction succeeded")
	}
}

// TestLoadRoles: memberships are followed transitively, through group
// roles, with login and inherit flags.
func TestLoadRoles(t *testing.T) {
	t.Parallel()
	c := pgtest.Cluster(t)
	ctx := pgtest.Context(t)
	p := unique("rl") + "_" // role names are cluster-wide
	name := func(s string) string { return strings.ReplaceAll(s, "rl_", p) }
	if err := c.Exec(ctx, name(`
CREATE ROLE rl_staff NOLOGIN;
CREATE ROLE rl_readers NOLOGIN IN ROLE rl_staff;
CREATE ROLE rl_analysts NOLOGIN IN ROLE rl_readers;
CREATE ROLE rl_auditors NOLOGIN;
CREATE ROLE rl_alice LOGIN IN ROLE rl_analysts, rl_auditors;
CREATE ROLE rl_bob LOGIN NOINHERIT;
GRANT rl_readers TO rl_bob;
CREATE ROLE rl_carol LOGIN;
GRANT rl_alice TO rl_carol;
`)); err != nil {
		t.Fatal(err)
	}
	s := load(t, "postgres")
	for _, w := range []struct {
		name     string
		login    bool
		inherit  bool
		memberOf []string
	}{
		{"rl_staff", false, true, nil},
		{"rl_readers", false, true, []string{"rl_staff"}},
		{"rl_analysts", false, true, []string{"rl_readers", "rl_staff"}},
		{"rl_alice", true, true, []string{"rl_analysts", "rl_auditors", "rl_readers", "rl_staff"}},
		{"rl_bob", true, false, []string{"rl_readers", "rl_staff"}},
		{"rl_carol", true, true, []string{"rl_alice", "rl_analysts", "rl_auditors", "rl_readers", "rl_staff"}},
	} {
		r, ok := s.Role(name(w.name))
		if !ok {
			t.Errorf("role %s missing", w.name)
			continue
		}
		for i := range w.memberOf {
			w.memberOf[i] = name(w.memberOf[i])
		}
		if r.CanLogin != w.login || r.Inherit != w.inherit || !slices.Equal(r.MemberOf, w.memberOf) || r.OID == 0 {
			t.Errorf("%s: %+v, want login %v inherit %v memberOf %q", w.name, r, w.login, w.inherit, w.memberOf)
		}
	}
	alice, _ := s.Role(name("rl_alice"))
	if !alice.IsMemberOf(name("rl_staff")) || !alice.IsMemberOf(name("rl_alice")) || alice.IsMemberOf(name("rl_bob")) {
		t.Error("IsMemberOf")
	}
	if _, ok := s.Role(name("rl_nobody")); ok {
		t.Error("unknown role found")
	}
	if r, ok := s.Role("postgres"); !ok || !r.CanLogin {
		t.Error("postgres role missing")
	}
	// PostgreSQL itself refuses membership cycles; the snapshot's guard is
	// tested in snapshot_internal_test.go.
	if err := c.Exec(ctx, name(`GRANT rl_carol TO rl_staff`)); err == nil {
		t.Error("test premise: PostgreSQL accepted a membership cycle")
	}
}

// TestLoadFunctions: functions, procedures and aggregates with language,
// volatility, SECURITY DEFINER and signatures; overloads in OID order.
func TestLoadFunctions(t *testing.T) {
	t.Parallel()
	db := newDB(t, `
CREATE SCHEMA util;
CREATE FUNCTION util.mask(t text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT '***' $$;
CREATE FUNCTION util.mask(t text, keep int) RETURNS text LANGUAGE sql STABLE AS $$ SELECT '***' $$;
CREATE FUNCTION util.peek(id int) RETURNS TABLE (id_no text) LANGUAGE plpgsql SECURITY DEFINER AS $$ BEGIN RETURN; END $$;
CREATE PROCEDURE util.cleanup() LANGUAGE sql AS $$ SELECT 1 $$;
CREATE AGGREGATE util.concat_all(text) (SFUNC = textcat, STYPE = text);
`)
	s := load(t, db)
	masks := s.Function("util", "mask")
	if len(masks) != 2 || masks[0].OID >= masks[1].OID {
		t.Fatalf("util.mask: %d overloads", len(masks))
	}
	m1, m2 := masks[0], masks[1]
	if m1.Args != "t text" || !slices.Equal(m1.ArgTypes, []uint32{25}) || m1.Result != "text" || m1.ResultType != 25 ||
		m1.Lang != "sql" || m1.Volatile != 'i' || m1.SecurityDefiner || m1.Kind != 'f' || m1.ReturnsSet || m1.Schema != "util" || m1.Name != "mask" {
		t.Errorf("util.mask(text): %+v", m1)
	}
	if m2.Args != "t text, keep integer" || !slices.Equal(m2.ArgTypes, []uint32{25, 23}) || m2.Volatile != 's' {
		t.Errorf("util.mask(text, int): %+v", m2)
	}
	peek := s.Function("util", "peek")
	if len(peek) != 1 || !peek[0].SecurityDefiner || peek[0].Lang != "plpgsql" || peek[0].Volatile != 'v' ||
		!peek[0].ReturnsSet || peek[0].Result != "TABLE(id_no text)" {
		t.Errorf("util.peek: %+v", peek)
	}
	if p := s.Function("util", "cleanup"); len(p) != 1 || p[0].Kind != 'p' || p[0].Result != "" || p[0].Args != "" {
		t.Errorf("util.cleanup: %+v", p)
	}
	if a := s.Function("util", "concat_all"); len(a) != 1 || a[0].Kind != 'a' || a[0].Lang != "internal" {
		t.Errorf("util.concat_all: %+v", a)
	}
	// Built-ins the analyzer must recognise.
	for _, name := range []string{"query_to_xml", "pg_read_file", "set_config", "pg_sleep", "dblink_not_installed"} {
		fs := s.Function("pg_catalog", name)
		if (len(fs) == 0) != (name == "dblink_not_installed") {
			t.Errorf("pg_catalog.%s: %d entries", name, len(fs))
		}
		for _, f := range fs {
			if f.Lang != "internal" && f.Lang != "sql" {
				t.Errorf("pg_catalog.%s language %q", name, f.Lang)
			}
		}
	}
	if fs := s.Function("pg_catalog", "now"); len(fs) != 1 || fs[0].Volatile != 's' {
		t.Errorf("now(): %+v", fs)
	}
	// The returned slice is the caller's.
	masks[0] = nil
	if s.Function("util", "mask")[0] == nil {
		t.Error("Function returned the snapshot's own slice")
	}
}

// TestColumnsPatterns: policy class patterns select base columns.
func TestColumnsPatterns(t *testing.T) {
	t.Parallel()
	db := newDB(t, `
CREATE SCHEMA crm;
CREATE TABLE public.customers (id int, id_no text, mobile text, home_mobile text);
CREATE TABLE public.customer_notes (id int, note text);
CREATE TABLE crm.contacts (id int, id_no text, "Mobile" text);
CREATE TABLE crm.parted (id int, id_no text) PARTITION BY LIST (id);
CREATE TABLE crm.parted_1 PARTITION OF crm.parted FOR VALUES IN (1);
CREATE VIEW public.v AS SELECT id_no FROM public.customers;
`)
	s := load(t, db)
	cases := []struct {
		schema, table, column string
		want                  []string
	}{
		{"public", "customers", "id_no", []string{"public.customers.id_no"}},
		{"*", "*", "id_no", []string{"crm.contacts.id_no", "crm.parted.id_no", "public.customers.id_no"}},
		{"public", "cust*", "id", []string{"public.customer_notes.id", "public.customers.id"}},
		{"public", "customers", "*mobile", []string{"public.customers.mobile", "public.customers.home_mobile"}},
		{"*", "*", "*obile*", []string{"crm.contacts.Mobile", "public.customers.mobile", "public.customers.home_mobile"}},
		{"crm", "*", "Mobile", []string{"crm.contacts.Mobile"}},
		{"crm", "*", "mobile", nil},
		{"*", "parted_1", "*", nil}, // partitions expose the parent's columns
		{"*", "v", "*", nil},        // views too
		{"*", "*", "relname", nil},  // a * never reaches pg_catalog
		{"p*", "pg_class", "relname", nil},
		{"pg_catalog", "pg_class", "relname", []string{"pg_catalog.pg_class.relname"}},
		{"public", "customers", "", nil},
		{"public", "customers", "id_no*", []string{"public.customers.id_no"}},
		{"public", "**", "i*d", []string{"public.customer_notes.id", "public.customers.id"}},
	}
	for _, c := range cases {
		var got []string
		for _, r := range s.Columns(c.schema, c.table, c.column) {
			got = append(got, r.String())
			if _, ok := s.Column(r); !ok {
				t.Errorf("Columns returned %v, which Column does not find", r)
			}
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("Columns(%q, %q, %q) = %q, want %q", c.schema, c.table, c.column, got, c.want)
		}
	}
	if _, ok := s.Column(catalog.ColumnRef{Schema: "crm", Table: "contacts", Column: "mobile"}); ok {
		t.Error("Column folded case")
	}
	if _, ok := s.Column(catalog.ColumnRef{Schema: "crm", Table: "nope", Column: "id"}); ok {
		t.Error("Column on a missing table")
	}
}

// TestLoadRules: HasRules marks tables with rules and views with rules
// besides their query (_RETURN), and nothing else.
func TestLoadRules(t *testing.T) {
	t.Parallel()
	db := newDB(t, `
CREATE TABLE plain (id int, note text);
CREATE TABLE ruled (id int, note text);
CREATE TABLE secret (id int, id_no text);
CREATE RULE r AS ON INSERT TO ruled DO INSTEAD SELECT id_no AS note FROM secret;
CREATE VIEW v AS SELECT id, note FROM plain;
CREATE VIEW v_ruled AS SELECT id, note FROM plain;
CREATE RULE vr AS ON UPDATE TO v_ruled DO INSTEAD NOTHING;
CREATE MATERIALIZED VIEW mv AS SELECT id FROM plain;
`)
	s := load(t, db)
	for name, want := range map[string]bool{"plain": false, "ruled": true, "secret": false, "v": false, "v_ruled": true, "mv": false} {
		r := s.RelationByName("public", name)
		if r == nil {
			t.Fatalf("%s missing", name)
		}
		if r.HasRules != want {
			t.Errorf("%s: HasRules %v, want %v", name, r.HasRules, want)
		}
	}
	if r := s.RelationByName("public", "v_ruled"); len(r.Columns) != 2 || r.Definition == "" {
		t.Errorf("v_ruled lost its query: %d columns, definition %q", len(r.Columns), r.Definition)
	}
}

// TestLoadUserOperatorsAndCasts: operators and casts over SQL or
// procedural functions are reported by name (and target type); those of
// C functions (an extension's, here citext's) and built-in ones are not.
func TestLoadUserOperatorsAndCasts(t *testing.T) {
	t.Parallel()
	db := newDB(t, `
CREATE EXTENSION IF NOT EXISTS citext;
CREATE FUNCTION peek(a int, b int) RETURNS text LANGUAGE sql AS 'SELECT ''x''';
CREATE OPERATOR #@# (LEFTARG = int, RIGHTARG = int, FUNCTION = peek);
CREATE FUNCTION tojson(a text) RETURNS json LANGUAGE sql AS 'SELECT to_json(a)';
CREATE CAST (text AS json) WITH FUNCTION tojson(text);
CREATE DOMAIN doc AS json;
`)
	s := load(t, db)
	if !s.UserOperator("#@#") || !s.UserCastTarget("json") || !s.UserCastTarget("doc") {
		t.Errorf("the SQL-function operator (%v), cast (%v) or the domain over its target (%v) is missing",
			s.UserOperator("#@#"), s.UserCastTarget("json"), s.UserCastTarget("doc"))
	}
	if s.ImplicitUserCast() != "" {
		t.Errorf("an explicit cast reported as implicit: %q", s.ImplicitUserCast())
	}
	conn := superConn(t, db)
	if _, err := conn.Exec(pgtest.Context(t), "DROP CAST (text AS json); CREATE CAST (text AS json) WITH FUNCTION tojson(text) AS ASSIGNMENT"); err != nil {
		t.Fatal(err)
	}
	if got := load(t, db).ImplicitUserCast(); got != "text to json" {
		t.Errorf("the assignment cast: ImplicitUserCast %q", got)
	}
	for _, op := range []string{"=", "<", "||", "~~"} {
		if s.UserOperator(op) {
			t.Errorf("operator %s (built in, or citext's C function) reported as user-defined", op)
		}
	}
	if s.UserCastTarget("citext") || s.UserCastTarget("text") {
		t.Error("citext's casts reported as user-defined")
	}
}

// TestLoadGeneratedFrom: a stored generated column lists the columns its
// expression reads (from pg_depend), in attnum order; other columns list
// none. A wrong or empty list lets a column computed from a protected
// one be read in clear (red-team round 16).
func TestLoadGeneratedFrom(t *testing.T) {
	t.Parallel()
	db := newDB(t, `
CREATE TABLE people (
	id int,
	id_no text,
	note text,
	id_no_norm text GENERATED ALWAYS AS (upper(id_no)) STORED,
	both_cols text GENERATED ALWAYS AS (note || id_no) STORED,
	constant_col int GENERATED ALWAYS AS (42) STORED
);
`)
	r := load(t, db).RelationByName("public", "people")
	if r == nil {
		t.Fatal("public.people missing")
	}
	want := map[string][]int16{"id": nil, "id_no": nil, "note": nil, "id_no_norm": {2}, "both_cols": {2, 3}, "constant_col": nil}
	for _, c := range r.Columns {
		if w, ok := want[c.Name]; !ok || !slices.Equal(c.GeneratedFrom, w) {
			t.Errorf("%s: GeneratedFrom %v, want %v", c.Name, c.GeneratedFrom, w)
		}
	}
}

// TestLoadPartitionKey: a partitioned table lists the columns its
// partition key reads — plain key columns and those its expressions read
// — and other relations list none (red-team round 16: tableoid tells a
// row's partition).
func TestLoadPartitionKey(t *testing.T) {
	t.Parallel()
	db := newDB(t, `
CREATE TABLE by_expr (id int, id_no text, note text) PARTITION BY LIST (left(id_no, 6));
CREATE TABLE by_expr_1 PARTITION OF by_expr FOR VALUES IN ('310105');
CREATE TABLE by_cols (id int, a text, id_no text) PARTITION BY RANGE (id_no, id);
CREATE TABLE plain (id int, id_no text);
`)
	s := load(t, db)
	for name, want := range map[string][]int16{"by_expr": {2}, "by_cols": {1, 3}, "by_expr_1": nil, "plain": nil} {
		r := s.RelationByName("public", name)
		if r == nil {
			t.Fatalf("public.%s missing", name)
		}
		if !slices.Equal(r.PartitionKey, want) {
			t.Errorf("%s: PartitionKey %v, want %v", name, r.PartitionKey, want)
		}
	}
}

// TestLoadConstraints: each relation lists the constraints a write to it
// is checked against, with the columns they read: a CHECK's columns and
// whether it was validated, a unique index's key, expression and
// predicate columns, an exclusion constraint's, and a foreign key on both
// sides (constraint oracles: whether a write passes compares them).
func TestLoadConstraints(t *testing.T) {
	t.Parallel()
	db := newDB(t, `
CREATE TABLE persons (id_no text PRIMARY KEY, note text);
CREATE TABLE loans (id int, note text, borrower text REFERENCES persons (id_no), tax numeric, amount numeric,
    CONSTRAINT loans_tax CHECK (tax <= amount));
ALTER TABLE loans ADD CONSTRAINT loans_cap CHECK (amount < 10) NOT VALID;
CREATE UNIQUE INDEX loans_u ON loans (id, lower(note)) WHERE amount > 0;
CREATE TABLE phones (id int, mobile text, EXCLUDE USING btree (mobile WITH =));
CREATE TABLE plain (id int);
`)
	s := load(t, db)
	loans := s.RelationByName("public", "loans")
	persons := s.RelationByName("public", "persons")
	type con struct {
		kind      catalog.ConstraintKind
		name      string
		cols      []int16
		validated bool
		ref       uint32
		refCols   []int16
	}
	got := func(r *catalog.Relation) []con {
		var out []con
		for _, c := range r.Constraints {
			out = append(out, con{c.Kind, c.Name, c.Columns, c.Validated, c.Ref, c.RefColumns})
		}
		return out
	}
	want := map[string][]con{
		"loans": {
			{catalog.ConstraintForeignKey, "loans_borrower_fkey", []int16{3}, true, persons.OID, []int16{1}},
			{catalog.ConstraintCheck, "loans_cap", []int16{5}, false, 0, nil},
			{catalog.ConstraintCheck, "loans_tax", []int16{4, 5}, true, 0, nil},
			{catalog.ConstraintUnique, "loans_u", []int16{1, 2, 5}, true, 0, nil},
		},
		"persons": {
			{catalog.ConstraintUnique, "persons_pkey", []int16{1}, true, 0, nil},
			{catalog.ConstraintReferenced, "loans_borrower_fkey", []int16{1}, true, loans.OID, []int16{3}},
		},
		"phones": {{catalog.ConstraintExclusion, "phones_mobile_excl", []int16{2}, true, 0, nil}},
		"plain":  nil,
	}
	for name, w := range want {
		r := s.RelationByName("public", name)
		g := got(r)
		if len(g) != len(w) {
			t.Errorf("%s: constraints %+v, want %+v", name, g, w)
			continue
		}
		for i := range w {
			if g[i].kind != w[i].kind || g[i].name != w[i].name || !slices.Equal(g[i].cols, w[i].cols) ||
				g[i].validated != w[i].validated || g[i].ref != w[i].ref || !slices.Equal(g[i].refCols, w[i].refCols) {
				t.Errorf("%s: constraint %d is %+v, want %+v", name, i, g[i], w[i])
			}
		}
	}
	// WrittenRelations: a write reaches the table only; the Version
	// changes when a constraint is added.
	if rels := s.WrittenRelations(loans.OID); len(rels) != 1 || rels[0] != loans {
		t.Errorf("WrittenRelations(loans) = %v", rels)
	}
	execIn(t, db, `ALTER TABLE plain ADD CONSTRAINT plain_pos CHECK (id > 0)`)
	if s2 := load(t, db); s2.Version == s.Version {
		t.Errorf("adding a CHECK constraint left the Version unchanged")
	}
}

// TestLoadTriggers: a relation lists its user triggers with their
// function and events; foreign keys' RI triggers and disabled triggers
// are left out.
func TestLoadTriggers(t *testing.T) {
	t.Parallel()
	db := newDB(t, `
CREATE TABLE parent (id int PRIMARY KEY);
CREATE TABLE child (id int, parent_id int REFERENCES parent);
CREATE FUNCTION noop() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER b_ins_upd BEFORE INSERT OR UPDATE ON child FOR EACH ROW EXECUTE FUNCTION noop();
CREATE TRIGGER a_del AFTER DELETE ON child FOR EACH STATEMENT EXECUTE FUNCTION noop();
CREATE TRIGGER c_off AFTER TRUNCATE ON child FOR EACH STATEMENT EXECUTE FUNCTION noop();
ALTER TABLE child DISABLE TRIGGER c_off;
`)
	s := load(t, db)
	got := s.RelationByName("public", "child").Triggers
	want := []catalog.Trigger{
		{Name: "a_del", Function: "public.noop", Events: catalog.TriggerDelete},
		{Name: "b_ins_upd", Function: "public.noop", Events: catalog.TriggerInsert | catalog.TriggerUpdate},
	}
	if !slices.Equal(got, want) {
		t.Errorf("child's triggers %+v, want %+v", got, want)
	}
	if tr := s.RelationByName("public", "parent").Triggers; len(tr) != 0 {
		t.Errorf("parent lists its RI triggers: %+v", tr)
	}
}

// TestLoadRowSecurity: a table with row-level security lists the columns
// its policies read, its own and other tables' (a whole-row reference as
// column 0), and the policy's own dependency on its table is not one of
// them; a table without policies lists none.
func TestLoadRowSecurity(t *testing.T) {
	t.Parallel()
	db := newDB(t, `
CREATE TABLE staff (id int PRIMARY KEY, id_no text, tenant int);
CREATE TABLE self (id int, id_no text, note text, staff_id int);
ALTER TABLE self ENABLE ROW LEVEL SECURITY;
CREATE POLICY own ON self USING (id_no = current_setting('app.id_no', true));
CREATE POLICY fix ON self FOR UPDATE USING (true)
    WITH CHECK (EXISTS (SELECT 1 FROM staff s WHERE s.id = staff_id AND s.tenant = 1));
CREATE TABLE plain (id int);
`)
	s := load(t, db)
	self, staff := s.RelationByName("public", "self"), s.RelationByName("public", "staff")
	want := []catalog.ColumnAt{{Rel: staff.OID, Num: 1}, {Rel: staff.OID, Num: 3}, {Rel: self.OID, Num: 2}, {Rel: self.OID, Num: 4}}
	slices.SortFunc(want, func(a, b catalog.ColumnAt) int { return cmp.Or(cmp.Compare(a.Rel, b.Rel), cmp.Compare(a.Num, b.Num)) })
	if !self.RowSecurity || !slices.Equal(self.PolicyReads, want) {
		t.Errorf("self: RowSecurity %v, PolicyReads %v, want true, %v", self.RowSecurity, self.PolicyReads, want)
	}
	if p := s.RelationByName("public", "plain"); p.RowSecurity || len(p.PolicyReads) != 0 {
		t.Errorf("plain: RowSecurity %v, PolicyReads %v", p.RowSecurity, p.PolicyReads)
	}
}

// TestLoadCalledFunctions: the SQL and procedural-language functions a
// CHECK constraint, an index expression, a row-level security policy, a
// domain's CHECK or DEFAULT and a column's default or generation
// expression call (directly or through an operator) are listed;
// built-in functions are not, and a domain over a domain inherits its
// base's.
func TestLoadCalledFunctions(t *testing.T) {
	t.Parallel()
	db := newDB(t, `
CREATE FUNCTION cap(v numeric) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$ SELECT v < 10 $$;
CREATE FUNCTION norm(v text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT upper(v) $$;
CREATE FUNCTION gt(a numeric, b numeric) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$ SELECT a > b $$;
CREATE OPERATOR >>> (LEFTARG = numeric, RIGHTARG = numeric, FUNCTION = gt);
CREATE TABLE t (id int, v numeric CHECK (cap(v)), w numeric CHECK (w >>> 0), s text CHECK (length(s) < 5));
CREATE INDEX t_norm ON t (norm(s));
CREATE INDEX t_plain ON t (id);
ALTER TABLE t ENABLE ROW LEVEL SECURITY;
CREATE POLICY p ON t USING (cap(id));
CREATE DOMAIN small AS numeric CHECK (cap(VALUE));
CREATE DOMAIN smaller AS small;
CREATE FUNCTION tagf() RETURNS text LANGUAGE plpgsql AS $$ BEGIN RETURN 'x'; END $$;
CREATE TABLE u (id int DEFAULT 1, tag text DEFAULT tagf(), g numeric GENERATED ALWAYS AS (cap(id)::int) STORED);
CREATE DOMAIN tagged AS text DEFAULT tagf();
`)
	s := load(t, db)
	r := s.RelationByName("public", "t")
	got := map[string][]string{}
	for _, c := range r.Constraints {
		got[c.Name] = c.Functions
	}
	for name, want := range map[string][]string{"t_v_check": {"public.cap"}, "t_w_check": {"public.gt"}, "t_s_check": nil, "t_norm": {"public.norm"}} {
		if g, ok := got[name]; !ok || !slices.Equal(g, want) {
			t.Errorf("%s: functions %v (listed %v), want %v", name, g, ok, want)
		}
	}
	if _, ok := got["t_plain"]; ok {
		t.Errorf("a plain index calling no function is listed: %+v", r.Constraints)
	}
	if !slices.Equal(r.PolicyFunctions, []string{"public.cap"}) {
		t.Errorf("PolicyFunctions %v", r.PolicyFunctions)
	}
	for _, name := range []string{"small", "public.small", "smaller", "public.smaller"} {
		if g := s.DomainFunctions(name); !slices.Equal(g, []string{"public.cap"}) {
			t.Errorf("DomainFunctions(%s) = %v", name, g)
		}
	}
	if g := s.DomainFunctions("numeric"); g != nil {
		t.Errorf("DomainFunctions(numeric) = %v", g)
	}
	if g := s.DomainFunctions("tagged"); !slices.Equal(g, []string{"public.tagf"}) {
		t.Errorf("DomainFunctions(tagged), a domain's DEFAULT = %v", g)
	}
	u := s.RelationByName("public", "u")
	for name, want := range map[string][]string{"id": nil, "tag": {"public.tagf"}, "g": {"public.cap"}} {
		if c, _ := u.ColumnByName(name); !slices.Equal(c.DefaultFunctions, want) {
			t.Errorf("u.%s: DefaultFunctions %v, want %v", name, c.DefaultFunctions, want)
		}
	}
}
