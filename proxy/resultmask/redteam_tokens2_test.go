package resultmask_test

// Second red-team round on search by token. Every subtest FAILS when its
// attack succeeds.

import (
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/pgmantle/pgmantle/internal/pgtest"
)

func TestRedTeamTokens2(t *testing.T) {
	_, km := vaultKeys(t)
	addr, db, ids := tokenProxy(t, km, "")
	direct := pgtest.Connect(t, pgtest.Cluster(t).DSN("postgres", "", db))
	analyst := connectAs(t, addr, db, "analyst", pgx.QueryExecModeSimpleProtocol)
	f := &rtFixture{addr: addr, db: db, ids: ids}
	f.idToks = oneColumn(t, analyst, "SELECT id_no FROM t.people ORDER BY id")
	f.mobileToks = oneColumn(t, analyst, "SELECT mobile FROM t.people ORDER BY id")
	f.cardToks = oneColumn(t, analyst, "SELECT card FROM t.people ORDER BY id")
	f.mobiles = oneColumn(t, direct, "SELECT mobile FROM t.people ORDER BY id")
	f.cards = oneColumn(t, direct, "SELECT card FROM t.people ORDER BY id")
	f.fakeID = "11010119900101123" + string(checkChar("11010119900101123"))

	t.Run("Probe", func(t *testing.T) {
		c := rtDial(t, addr, db, nil)
		for _, sql := range []string{
			fmt.Sprintf("SELECT id_no FROM t.people WHERE id = 0 UNION ALL SELECT '%s'", f.ids[3]),
			fmt.Sprintf("SELECT id_no FROM t.people WHERE id = 0 UNION ALL SELECT '%s'", f.fakeID),
			fmt.Sprintf("SELECT id_no FROM t.people WHERE id_no = '%s' COLLATE \"C\"", f.idToks[3]),
			fmt.Sprintf("SELECT id_no FROM t.people WHERE id_no = '%s'::varchar(3)", f.idToks[3]),
			fmt.Sprintf("SELECT id_no FROM t.people WHERE id_no = '%s'::text COLLATE \"C\"", f.idToks[3]),
			fmt.Sprintf("SELECT id_no FROM t.people WHERE id_no = ' %s'", f.idToks[3]),
			fmt.Sprintf("SELECT current_query() FROM t.people WHERE id_no = '%s'", f.idToks[3]),
			fmt.Sprintf("SELECT id FROM t.people WHERE id_no = '%s'; SELECT current_query()", f.idToks[3]),
			fmt.Sprintf("SELECT id FROM t.people WHERE id_no = '%s'; SELECT query FROM pg_catalog.pg_stat_activity", f.idToks[3]),
		} {
			o := c.simple(t, sql)
			t.Logf("%s\n  -> rows %v code %s all %q", sql, o.rows, o.code, o.all)
		}
	})
	t.Run("ProbeClose", func(t *testing.T) {
		r := rtDialRaw(t, addr, db)
		victim := 13
		var learned strings.Builder
		for k := 1; k <= 18; k++ {
			name := fmt.Sprintf("rt2_close_%d", k)
			b1 := r.batch(t, &pgproto3.Parse{Name: name, Query: "SELECT id FROM t.people WHERE id_no = $1 AND id = $2::int"}, &pgproto3.Sync{})
			if len(b1.errors) > 0 {
				t.Fatalf("parse: %v", b1.all)
			}
			b := r.batch(t,
				&pgproto3.Close{ObjectType: 'S', Name: name},
				&pgproto3.Parse{Name: name, Query: "SELECT id FROM t.people WHERE id = ascii(substr($1::text, $2::int, 1))"},
				&pgproto3.Bind{PreparedStatement: name, Parameters: [][]byte{[]byte(f.idToks[victim]), []byte(fmt.Sprint(k))}},
				&pgproto3.Execute{},
				&pgproto3.Sync{})
			t.Logf("k=%d %v", k, b.all)
			if len(b.rows) == 1 {
				var code int
				fmt.Sscan(b.rows[0][0], &code)
				learned.WriteByte(byte(code))
			}
		}
		t.Logf("learned %q real %s", learned.String(), f.ids[victim])
	})
	_ = strings.Join
	_ = pgproto3.Sync{}
}
