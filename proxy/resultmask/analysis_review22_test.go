package resultmask_test

// Red-team round 22: side channels of allowed built-ins. The WAL insert
// position (pg_current_wal_insert_lsn and its siblings are pg_catalog
// functions outside deniedFunctions) grows by the byte length of every
// row version written: a restricted role's own UPDATE of clean columns,
// written so that PostgreSQL cannot compress it against the old version,
// measures the byte length of the protected values in the row to the
// byte, which the address mask hides (and the relation size functions
// are refused for). TestAnalysisReview22WalLengthLeak failed (LEAK)
// before the WAL position functions were denied (parser deniedPrefixes:
// pg_current_wal_, pg_last_wal_, pg_wal, pg_control_);
// TestAnalysisReview22Defended keeps the probes
// pgmantle stopped: hashed columns joined, grouped or compared with
// values of the analyst's choosing, masked columns in expressions and
// size functions, and masked results through protocol portals fetched by
// SQL, SQL cursors executed by the protocol, and portals re-bound after
// ROLLBACK TO SAVEPOINT.

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/pgmantle/pgmantle/internal/pgtest"
)

const rt22Schema = `
CREATE SCHEMA r22;
CREATE TABLE r22.people (id int PRIMARY KEY, id_no char(18), mobile text, name text, card text,
  address text, birthday date, salary numeric(12,2), city text, note text);
INSERT INTO r22.people VALUES
  (1, '310105198807158033', '13812345678', '张伟明', '6222021234567894', '上海市浦东新区世纪大道100号', '1988-07-15', 12345.67, 'shanghai', 'a'),
  (2, '110101198001011232', '13998765432', '李秀英', '6222029876543210', '北京市东城区王府井大街1号', '1980-01-01', 18765.43, 'beijing', 'b'),
  (3, '310105199203041122', '13700001111', '王建国', '6222025555666677', '上海市徐汇区漕溪北路5号', '1992-03-04', 9876.54, 'shanghai', 'c');
CREATE TABLE r22.addresses (id int, address text, note text);
INSERT INTO r22.addresses VALUES (1, '上海市浦东新区世纪大道1000弄20号', ''), (2, '上海市浦东新区张江路1号', '');
CREATE TABLE r22.scratch (id int, note text, n numeric, d date);
INSERT INTO r22.scratch VALUES (1, 'x', 1, '2000-01-01');
GRANT USAGE ON SCHEMA r22 TO PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA r22 TO PUBLIC;
`

const rt22Policy = `
classes:
  cn_id: [r22.people.id_no]
  cn_mobile: [r22.people.mobile]
  person_name: [r22.people.name]
  bank_card: [r22.people.card]
  address: [r22.people.address, r22.addresses.address]
  birthday: [r22.people.birthday]
  salary: [r22.people.salary]
  city: [r22.people.city]
roles:
  analyst:
    rules:
      cn_id: tokenize
      cn_mobile: hash
      person_name: {mask: cn_name}
      bank_card: {mask: bank_card}
      address: {mask: address, level: district}
      birthday: {mask: generalize, unit: year}
      salary: {mask: round, to: 1000}
      city: hash
`

func rt22Proxy(t *testing.T) (addr, db string) { return rtProxy(t, rt22Schema, rt22Policy) }

// rt22LSN parses a pg_lsn ("0/1928A48").
func rt22LSN(t *testing.T, s string) uint64 {
	t.Helper()
	hi, lo, ok := strings.Cut(strings.TrimSpace(s), "/")
	h, err1 := strconv.ParseUint(hi, 16, 32)
	l, err2 := strconv.ParseUint(lo, 16, 32)
	if !ok || err1 != nil || err2 != nil {
		t.Fatalf("not an LSN: %q", s)
	}
	return h<<32 | l
}

// TestAnalysisReview22WalLengthLeak: pg_current_wal_insert_lsn() is a
// pg_catalog built-in outside deniedFunctions (parser/funcs.go), so a
// restricted role may read the server's WAL insert position before and
// after a write of its own. An UPDATE that changes the first and the last
// column of a row (both clean: the write is allowed) cannot be
// prefix/suffix-compressed by log_heap_update, so the WAL record holds
// the whole new tuple, protected columns included: the WAL grows by
// their byte length. WAL records are 8-byte aligned; padding the clean
// note one byte at a time finds where the record grows by 8, which
// gives the length exactly:
//
//	SELECT pg_current_wal_insert_lsn()                       -> L0
//	UPDATE r22.addresses SET id = id + 100, note = repeat('p', pad) WHERE id = k
//	SELECT pg_current_wal_insert_lsn()                       -> L1
//	UPDATE r22.addresses SET id = id - 100, note = '' WHERE id = k + 100
//
// The two addresses are both shown as 上海市浦东新区**** (the address
// mask hides their length); the WAL says they are 11 bytes apart (45
// and 34 bytes). The same channel shows the size of every row other
// sessions write (an INSERT of a new customer), which is why the
// relation size functions are refused. Safe: deny the WAL position
// functions (pg_current_wal_lsn, pg_current_wal_insert_lsn,
// pg_current_wal_flush_lsn, pg_walfile_name(_offset), pg_last_wal_*).
func TestAnalysisReview22WalLengthLeak(t *testing.T) {
	addr, db := rt22Proxy(t)
	masked, refused := rt17Outcome(t, addr, db, "SELECT id, address FROM r22.addresses ORDER BY id")
	t.Logf("the analyst's view (refused=%v):\n%s", refused, masked)
	conn := rt16Connect(t, addr, db, "analyst")
	one := func(sql string) (string, error) {
		res, err := conn.Exec(pgtest.Context(t), sql).ReadAll()
		if err != nil {
			return "", err
		}
		if len(res) == 0 || len(res[len(res)-1].Rows) == 0 {
			return "", nil
		}
		return string(res[len(res)-1].Rows[0][0]), nil
	}
	growth := func(id, pad int) (uint64, error) {
		best := uint64(1 << 62)
		for try := 0; try < 3; try++ { // the least of three: another writer, a WAL page header
			l0, err := one("SELECT pg_current_wal_insert_lsn()")
			if err != nil {
				return 0, err
			}
			if _, err := one(fmt.Sprintf("UPDATE r22.addresses SET id = id + 100, note = repeat('p', %d) WHERE id = %d", pad, id)); err != nil {
				return 0, err
			}
			l1, err := one("SELECT pg_current_wal_insert_lsn()")
			if err != nil {
				return 0, err
			}
			if _, err := one(fmt.Sprintf("UPDATE r22.addresses SET id = id - 100, note = '' WHERE id = %d", id+100)); err != nil {
				return 0, err
			}
			best = min(best, rt22LSN(t, l1)-rt22LSN(t, l0))
		}
		return best, nil
	}
	// size returns the record size less the pad where the record first
	// grows: the byte length of the row's data up to a constant.
	size := func(id int) (int, error) {
		g1, err := growth(id, 1)
		if err != nil {
			return 0, err
		}
		for pad := 2; pad <= 9; pad++ {
			g, err := growth(id, pad)
			if err != nil {
				return 0, err
			}
			if g > g1 {
				t.Logf("row %d: WAL growth %d up to pad %d, %d from pad %d", id, g1, pad-1, g, pad)
				return int(g) - pad, nil
			}
		}
		return 0, fmt.Errorf("row %d: no step within 8 bytes", id)
	}
	s1, err1 := size(1)
	s2, err2 := size(2)
	if err1 != nil || err2 != nil {
		t.Logf("refused or failed: %v / %v", err1, err2)
		if rt16IsRefusal(err1) && rt16IsRefusal(err2) {
			return
		}
		t.Fatalf("unexpected: %v / %v", err1, err2)
	}
	t.Logf("the WAL says address 1 is %d bytes longer than address 2 (really %d - %d)", s1-s2,
		len("上海市浦东新区世纪大道1000弄20号"), len("上海市浦东新区张江路1号"))
	if s1-s2 == len("上海市浦东新区世纪大道1000弄20号")-len("上海市浦东新区张江路1号") {
		t.Errorf("LEAK: the WAL insert position measures the byte length of masked addresses (shown alike as 上海市浦东新区****): row 1's is %d bytes longer than row 2's", s1-s2)
	}
}

// rt22Secrets are real values of r22.people and r22.addresses the
// analyst must not receive.
var rt22Secrets = []string{
	"310105198807158033", "110101198001011232", "310105199203041122", "13812345678", "13998765432", "13700001111",
	"张伟明", "李秀英", "王建国", "6222021234567894", "6222029876543210", "6222025555666677",
	"世纪大道", "王府井", "漕溪北路", "张江路", "1988-07-15", "1992-03-04", "12345.67", "18765.43", "9876.54",
	"shanghai", "beijing",
}

func rt22NoSecret(t *testing.T, what, got string) {
	t.Helper()
	for _, v := range rt22Secrets {
		if strings.Contains(got, v) {
			t.Errorf("%s: the analyst received the real value %q:\n%s", what, v, got)
		}
	}
}

func TestAnalysisReview22Defended(t *testing.T) {
	addr, db := rt22Proxy(t)
	rtAllRefused(t, addr, db, []string{
		// Hashed columns compared, joined or grouped with values of the
		// analyst's choosing (a clean column it can write, a literal, a
		// column of another class).
		"SELECT count(*) FROM r22.people p JOIN r22.scratch s ON p.city = s.note",
		"SELECT count(*) FROM r22.people WHERE city IN (SELECT note FROM r22.scratch)",
		"SELECT count(DISTINCT city) FROM (SELECT city FROM r22.people UNION ALL SELECT note FROM r22.scratch) s",
		"SELECT count(*) FROM r22.people WHERE city = 'shanghai'",
		"SELECT count(*) FROM r22.people p JOIN r22.people q ON p.city = q.mobile",
		"SELECT city FROM r22.people UNION SELECT 'shanghai'",
		"SELECT x FROM r22.people, LATERAL (SELECT city AS x UNION ALL SELECT note) l",
		// Masked columns compared, or inside expressions, arrays, rows,
		// JSON, casts and size functions.
		"SELECT count(*) FROM r22.people WHERE name = '张伟明'",
		"SELECT count(*) FROM r22.people WHERE salary IS NOT DISTINCT FROM 12345.67",
		"SELECT id, ARRAY[salary] FROM r22.people ORDER BY id",
		"SELECT id, ROW(salary, id) FROM r22.people ORDER BY id",
		"SELECT id, json_build_object('s', salary) FROM r22.people ORDER BY id",
		"SELECT id, salary::int FROM r22.people ORDER BY id",
		"SELECT id, birthday::text FROM r22.people ORDER BY id",
		"SELECT id, card::varchar(10) FROM r22.people ORDER BY id",
		"SELECT id, COALESCE(salary) FROM r22.people ORDER BY id",
		"SELECT id, CASE WHEN true THEN salary END FROM r22.people ORDER BY id",
		"SELECT id, salary COLLATE \"C\" FROM r22.people ORDER BY id",
		"SELECT pg_column_size(address) FROM r22.people",
		"SELECT octet_length(address) FROM r22.addresses",
		// A literal reaching a tokenized column through a scalar subquery.
		"SELECT id FROM r22.people WHERE id_no = (SELECT '394722208503031838') ORDER BY id",
	})
	// Masked results through the protocol's portals and SQL cursors.
	q := "SELECT id, salary, name, id_no, birthday, city FROM r22.people ORDER BY id"
	for name, msgs := range map[string][]pgproto3.FrontendMessage{
		"protocol portal fetched by SQL FETCH": {
			&pgproto3.Query{String: "BEGIN"},
			&pgproto3.Parse{Name: "s1", Query: q},
			&pgproto3.Bind{PreparedStatement: "s1", DestinationPortal: "p1"},
			&pgproto3.Execute{Portal: "p1", MaxRows: 1},
			&pgproto3.Sync{},
			&pgproto3.Query{String: "FETCH ALL FROM p1"},
		},
		"binary SQL cursor": {
			&pgproto3.Query{String: "BEGIN"},
			&pgproto3.Query{String: "DECLARE c1 BINARY CURSOR FOR " + q},
			&pgproto3.Query{String: "FETCH ALL FROM c1"},
		},
		"SQL cursor executed by the protocol": {
			&pgproto3.Query{String: "BEGIN"},
			&pgproto3.Query{String: "DECLARE c2 CURSOR FOR " + q},
			&pgproto3.Describe{ObjectType: 'P', Name: "c2"},
			&pgproto3.Execute{Portal: "c2"},
			&pgproto3.Sync{},
		},
		"portal name re-bound after ROLLBACK TO SAVEPOINT": {
			&pgproto3.Query{String: "BEGIN"},
			&pgproto3.Query{String: "SAVEPOINT a"},
			&pgproto3.Parse{Name: "s4", Query: "SELECT id, note FROM r22.people ORDER BY id"},
			&pgproto3.Bind{PreparedStatement: "s4", DestinationPortal: "p4"},
			&pgproto3.Execute{Portal: "p4", MaxRows: 1},
			&pgproto3.Sync{},
			&pgproto3.Query{String: "ROLLBACK TO SAVEPOINT a"},
			&pgproto3.Parse{Name: "s5", Query: q},
			&pgproto3.Bind{PreparedStatement: "s5", DestinationPortal: "p4"},
			&pgproto3.Execute{Portal: "p4"},
			&pgproto3.Sync{},
		},
	} {
		t.Run(name, func(t *testing.T) {
			b := rtDialRaw(t, addr, db).batch(t, msgs...)
			got := strings.Join(b.all, "\n")
			t.Logf("%s", got)
			rt22NoSecret(t, name, got)
		})
	}
}
