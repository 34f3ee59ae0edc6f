// Package clientmatrix holds the client compatibility suite: the same
// scenario run through pgmantle, over TLS with SCRAM, by every client
// people connect to PostgreSQL with — psql, pg_dump, pgx, lib/pq,
// psycopg2, psycopg 3, pgjdbc, node-postgres and psqlODBC — as an
// unrestricted and as a restricted role, each client's output compared
// line by line with what the policy says that role sees.
//
// The scenario (every client in clients/ implements it, as far as the
// client supports the step, and prints one line per result):
//
//	simple:   SELECT id, name, id_no, mobile, salary FROM cm.people ORDER BY id   (no parameters)
//	param:    SELECT name, id_no, mobile FROM cm.people WHERE id = $1, with 2      (the client's parameter binding)
//	search:   SELECT id FROM cm.people WHERE id_no = $1, with the id_no param saw  (search by token)
//	guess:    SELECT count(*) FROM cm.people WHERE id_no = $1, with the real value
//	tx:       BEGIN; INSERT a note; count the notes; ROLLBACK; count again
//	copy_out: COPY (SELECT id, name, id_no FROM cm.people ORDER BY id) TO STDOUT
//	copy_in:  COPY cm.notes (client, body) FROM STDIN, two rows; count them
//	refused:  SELECT id FROM cm.people WHERE mobile LIKE '138%'  (refused for a masked column)
//	after:    SELECT 1 on the same connection after that
//
// Fields are joined with "|", NULL is printed as NULL, an error as
// "ERROR <SQLSTATE>". The package has no code of its own: it stops at the
// tests.
package clientmatrix
