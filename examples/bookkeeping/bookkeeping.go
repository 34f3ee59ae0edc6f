// Package bookkeeping is the example of a Shanghai bookkeeping firm's
// database: its schema, roles and masking policy (embedded from the files
// beside it) and a deterministic generator of synthetic data (Load), for
// tests and the demo.
package bookkeeping

import _ "embed"

// Schema creates the bk schema: client companies, contacts, bank accounts,
// payroll and a view.
//
//go:embed schema.sql
var Schema string

// Policy is the example policy (policy.yaml).
//
//go:embed policy.yaml
var Policy string

// Roles are the database roles the policy names.
var Roles = []string{"bookkeeper", "analyst", "auditor", "intern"}
