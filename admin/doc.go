// Package admin is pgmantle's admin listener: Prometheus metrics
// (/metrics, with the official Go client), liveness (/healthz) and
// readiness (/readyz). Metrics count sessions, statements by decision,
// masked values by class, refusals by reason, the audit writer's queue
// and failures, the key source's state and upstream errors; no label
// ever holds a value from a statement or a result.
//
// It stops at reporting: the proxy, the audit writer and the key manager
// keep their own counters, read at scrape time through the Sources
// given to New, and the audit hook increments the statement counters.
package admin
