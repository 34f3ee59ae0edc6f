"""The client matrix scenario (see ../doc.go) with psycopg 3.

psycopg 3 binds parameters on the server (extended protocol); prepare=True
makes named prepared statements, binary=True asks for binary results.
Connection parameters come from the PG* environment (TLS verify-full,
SCRAM); argv[1] is the client label for cm.notes.
"""
import sys

import psycopg

client = sys.argv[1]
REAL_ID = "11010519491231002X"


def out(step, *fields):
    print(step + ":" + "|".join("NULL" if f is None else str(f) for f in fields))


with psycopg.connect("", autocommit=True) as conn:
    cur = conn.cursor()
    cur.execute("SELECT id, name, id_no, mobile, salary FROM cm.people ORDER BY id")
    for row in cur.fetchall():
        out("simple", *row)

    name, id_no, mobile = conn.execute(
        "SELECT name, id_no, mobile FROM cm.people WHERE id = %s", (2,), prepare=True).fetchone()
    out("param", name, id_no, mobile)
    bcur = conn.cursor(binary=True)
    bcur.execute("SELECT id FROM cm.people WHERE id_no = %b", (id_no,), prepare=True)
    out("search", bcur.fetchone()[0])
    out("guess", conn.execute("SELECT count(*) FROM cm.people WHERE id_no = %s", (REAL_ID,)).fetchone()[0])

    with conn.transaction(force_rollback=True):
        conn.execute("INSERT INTO cm.notes (client, body) VALUES (%s, 'in a transaction')", (client,))
        out("tx", conn.execute("SELECT count(*) FROM cm.notes WHERE client = %s", (client,)).fetchone()[0])
    out("tx", conn.execute("SELECT count(*) FROM cm.notes WHERE client = %s", (client,)).fetchone()[0])

    with cur.copy("COPY (SELECT id, name, id_no FROM cm.people ORDER BY id) TO STDOUT") as copy:
        data = b"".join(bytes(b) for b in copy)
    for line in data.decode("utf-8").splitlines():
        out("copy_out", line.replace("\t", "|"))
    with cur.copy("COPY cm.notes (client, body) FROM STDIN") as copy:
        copy.write_row((client, "copied one"))
        copy.write_row((client, "copied two"))
    out("copy_in", conn.execute("SELECT count(*) FROM cm.notes WHERE client = %s", (client,)).fetchone()[0])

    try:
        rows = conn.execute("SELECT id FROM cm.people WHERE mobile LIKE '138%'").fetchall()
        out("refused", *[r[0] for r in rows])
    except psycopg.Error as e:
        out("refused", "ERROR " + e.sqlstate)
    out("after", conn.execute("SELECT 1").fetchone()[0])
