// The client matrix scenario (see ../../doc.go) with node-postgres (npm
// "pg") and pg-copy-streams for COPY. Named queries make server-side
// prepared statements. Connection: PG* environment for host, port, user,
// password and database; TLS verified against the CA file in
// PGSSLROOTCERT. argv[2] is the client label for cm.notes.
'use strict';
const fs = require('fs');
const { Client } = require('pg');
const { to: copyTo, from: copyFrom } = require('pg-copy-streams');
const { pipeline } = require('stream/promises');
const { Readable, Writable } = require('stream');

const client = process.argv[2];
const REAL_ID = '11010519491231002X';

function out(step, ...fields) {
  console.log(step + ':' + fields.map((f) => (f === null ? 'NULL' : String(f))).join('|'));
}

async function main() {
  const c = new Client({
    ssl: { ca: fs.readFileSync(process.env.PGSSLROOTCERT), rejectUnauthorized: true },
  });
  await c.connect();
  try {
    let r = await c.query('SELECT id, name, id_no, mobile, salary FROM cm.people ORDER BY id');
    for (const row of r.rows) out('simple', row.id, row.name, row.id_no, row.mobile, row.salary);

    r = await c.query({ name: 'param', text: 'SELECT name, id_no, mobile FROM cm.people WHERE id = $1', values: [2] });
    const p = r.rows[0];
    out('param', p.name, p.id_no, p.mobile);
    r = await c.query({ name: 'search', text: 'SELECT id FROM cm.people WHERE id_no = $1', values: [p.id_no] });
    out('search', r.rows[0].id);
    r = await c.query('SELECT count(*) AS n FROM cm.people WHERE id_no = $1', [REAL_ID]);
    out('guess', r.rows[0].n);

    const count = { name: 'count', text: 'SELECT count(*) AS n FROM cm.notes WHERE client = $1', values: [client] };
    await c.query('BEGIN');
    await c.query("INSERT INTO cm.notes (client, body) VALUES ($1, 'in a transaction')", [client]);
    out('tx', (await c.query(count)).rows[0].n);
    await c.query('ROLLBACK');
    out('tx', (await c.query(count)).rows[0].n);

    const chunks = [];
    await pipeline(
      c.query(copyTo('COPY (SELECT id, name, id_no FROM cm.people ORDER BY id) TO STDOUT')),
      new Writable({ write(chunk, _enc, cb) { chunks.push(chunk); cb(); } }),
    );
    for (const line of Buffer.concat(chunks).toString('utf8').split('\n')) {
      if (line !== '') out('copy_out', line.replaceAll('\t', '|'));
    }
    await pipeline(
      Readable.from([`${client}\tcopied one\n${client}\tcopied two\n`]),
      c.query(copyFrom('COPY cm.notes (client, body) FROM STDIN')),
    );
    out('copy_in', (await c.query(count)).rows[0].n);

    try {
      r = await c.query("SELECT id FROM cm.people WHERE mobile LIKE '138%'");
      out('refused', ...r.rows.map((x) => x.id));
    } catch (e) {
      if (!e.code) throw e;
      out('refused', 'ERROR ' + e.code);
    }
    r = await c.query('SELECT 1 AS one');
    out('after', r.rows[0].one);
  } finally {
    await c.end();
  }
}

main().catch((e) => {
  console.error(e.message, e.code || '');
  process.exit(1);
});
