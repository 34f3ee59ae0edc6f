"""The client matrix scenario (see ../doc.go) with psycopg2.

psycopg2 interpolates parameters on the client, so its statements reach
the server as simple queries; the param step also uses a server-side
PREPARE/EXECUTE. Connection parameters come from the PG* environment
(TLS verify-full, SCRAM); argv[1] is the client label for cm.notes.
"""
import io
import sys

import psycopg2

client = sys.argv[1]
REAL_ID = "11010519491231002X"


def out(step, *fields):
    print(step + ":" + "|".join("NULL" if f is None else str(f) for f in fields))


conn = psycopg2.connect("")
conn.autocommit = True
cur = conn.cursor()

cur.execute("SELECT id, name, id_no, mobile, salary FROM cm.people ORDER BY id")
for row in cur.fetchall():
    out("simple", *row)

cur.execute("PREPARE p(int) AS SELECT name, id_no, mobile FROM cm.people WHERE id = $1")
cur.execute("EXECUTE p(%s)", (2,))
name, id_no, mobile = cur.fetchone()
out("param", name, id_no, mobile)
cur.execute("SELECT id FROM cm.people WHERE id_no = %s", (id_no,))
out("search", cur.fetchone()[0])
cur.execute("SELECT count(*) FROM cm.people WHERE id_no = %s", (REAL_ID,))
out("guess", cur.fetchone()[0])

conn.autocommit = False
cur.execute("INSERT INTO cm.notes (client, body) VALUES (%s, 'in a transaction')", (client,))
cur.execute("SELECT count(*) FROM cm.notes WHERE client = %s", (client,))
out("tx", cur.fetchone()[0])
conn.rollback()
conn.autocommit = True
cur.execute("SELECT count(*) FROM cm.notes WHERE client = %s", (client,))
out("tx", cur.fetchone()[0])

buf = io.StringIO()
cur.copy_expert("COPY (SELECT id, name, id_no FROM cm.people ORDER BY id) TO STDOUT", buf)
for line in buf.getvalue().splitlines():
    out("copy_out", line.replace("\t", "|"))
cur.copy_expert("COPY cm.notes (client, body) FROM STDIN",
                io.StringIO(client + "\tcopied one\n" + client + "\tcopied two\n"))
cur.execute("SELECT count(*) FROM cm.notes WHERE client = %s", (client,))
out("copy_in", cur.fetchone()[0])

try:
    cur.execute("SELECT id FROM cm.people WHERE mobile LIKE '138%%'")
    out("refused", *[r[0] for r in cur.fetchall()])
except psycopg2.Error as e:
    out("refused", "ERROR " + e.pgcode)
cur.execute("SELECT 1")
out("after", cur.fetchone()[0])
conn.close()
