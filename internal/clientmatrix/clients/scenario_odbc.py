"""The client matrix scenario (see ../doc.go) through psqlODBC and unixODBC,
driven by pyodbc.

ODBC has no COPY. The driver runs with server-side prepare on, so "?"
parameters go as Parse/Bind/Execute. argv: client label, connection string
(driver path, server, port, database, uid, pwd, sslmode; the driver's libpq
reads PGSSLROOTCERT from the environment).
"""
import sys

import pyodbc

client, connstr = sys.argv[1], sys.argv[2]
REAL_ID = "11010519491231002X"


def out(step, *fields):
    print(step + ":" + "|".join("NULL" if f is None else str(f) for f in fields))


conn = pyodbc.connect(connstr, autocommit=True)
conn.setdecoding(pyodbc.SQL_CHAR, encoding="utf-8")
conn.setdecoding(pyodbc.SQL_WCHAR, encoding="utf-8")
conn.setencoding(encoding="utf-8")
cur = conn.cursor()

cur.execute("SELECT id, name, id_no, mobile, salary FROM cm.people ORDER BY id")
for row in cur.fetchall():
    out("simple", *row)
cur.execute("SELECT name, id_no, mobile FROM cm.people WHERE id = ?", 2)
name, id_no, mobile = cur.fetchone()
out("param", name, id_no, mobile)
cur.execute("SELECT id FROM cm.people WHERE id_no = ?", id_no)
out("search", cur.fetchone()[0])
cur.execute("SELECT count(*) FROM cm.people WHERE id_no = ?", REAL_ID)
out("guess", cur.fetchone()[0])

conn.autocommit = False
cur.execute("INSERT INTO cm.notes (client, body) VALUES (?, 'in a transaction')", client)
cur.execute("SELECT count(*) FROM cm.notes WHERE client = ?", client)
out("tx", cur.fetchone()[0])
conn.rollback()
conn.autocommit = True
cur.execute("SELECT count(*) FROM cm.notes WHERE client = ?", client)
out("tx", cur.fetchone()[0])

try:
    cur.execute("SELECT id FROM cm.people WHERE mobile LIKE '138%'")
    out("refused", *[r[0] for r in cur.fetchall()])
except pyodbc.Error as e:
    out("refused", "ERROR " + e.args[0])
cur.execute("SELECT 1")
out("after", cur.fetchone()[0])
conn.close()
