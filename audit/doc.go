// Package audit writes pgmantle's audit log: one JSON Lines record per
// client statement, plus session start and end, failed logins, and the
// log's own opening and closing. Records hold normalized SQL (literals
// replaced by $n, comments removed), never a literal, a bind parameter, a
// result value, a password or a key.
//
// Records are hash-chained: each carries a sequence number and the
// SHA-256 of the previous record's line, across restarts and rotated
// files, so that Verify finds a record edited, removed, inserted,
// reordered or cut short. A Writer queues records (bounded), writes them
// from one goroutine to a Sink (a file, rotated by size or age, or
// stdout), syncs them always or at an interval, and reports a failing
// sink so that the proxy can refuse statements rather than serve them
// unaudited.
//
// The package stops at records: it knows nothing of the wire protocol or
// the policy. The proxy's hook (package proxy/audithook) turns what a
// session did into Records.
package audit
